#!/usr/bin/env bash
# OrleansBus vs Redis Streams vs NATS JetStream on this machine, in one bounded run (a few minutes).
# Installs redis-server and nats-server from apt when missing (neither is started as a service: the benchmark
# starts its own on free loopback ports with temporary directories and stops them by PID), builds Release, and runs
#   dotnet run -c Release --project tests/OrleansBus.Benchmarks -- compare [options]
# Options are passed through (see `compare --help`), e.g.: bash tests/bench-compare.sh --json compare.json
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "bench-compare: $*"; }

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)   # Debian 12: 7.0.15
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)     # Debian 12: 2.9.10
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "bench-compare: install ${missing[*]} first (no apt-get here)" >&2; exit 1; }
  log "apt-get update"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  log "apt-get install ${missing[*]}"
  # policy-rc.d-free containers may start the packaged redis service; the benchmark never uses it.
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v dotnet >/dev/null 2>&1 || { echo "bench-compare: the .NET SDK is missing (global.json pins it)" >&2; exit 1; }

log "dotnet build -c Release (silo and benchmark)"
dotnet build Silo -c Release -nologo -v q
dotnet build tests/OrleansBus.Benchmarks -c Release -nologo -v q
log "redis: $(redis-server --version)"
log "nats:  $(nats-server --version)"
exec dotnet run -c Release --no-build --project tests/OrleansBus.Benchmarks -- compare "$@"
