#!/usr/bin/env bash
# The cluster benchmark: starts a local cluster with the Aspire AppHost (PostgreSQL, Azurite, 3 silos with replication
# factor 2, the gateway; no dashboard) on free loopback ports in a temporary folder, runs the load generator through the gateway
# (produce with page-cache durability and min_sync_replicas=1, raw read, consume with 1 and 4 consumers) RUNS times,
# each time also straight to silo1 (the gateway's cost is the ratio), prints each summary line, runs the Orleans client sample (produce and consume through grains) beside it, then stops the cluster (SIGTERM to the AppHost it started) and removes the folder.
#
# Usage: bash tests/bench-cluster.sh [RUNS (default 3)] [MIB (default 512)]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-3}"
MIB="${2:-512}"

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

dotnet build OrleansBus.sln -c Release -nologo -v q >/dev/null
WORK="$(mktemp -d)"
chmod 755 "$WORK" # the postgres OS user must be able to enter it
GATEWAY=$(freeport)
: >"$WORK/apphost.log"
# --Dashboard false: no dashboard, and no OTLP export or tracing in silos and gateway (figures comparable across runs).
dotnet AppHost/bin/Release/net10.0/OrleansBus.AppHost.dll --Silos 3 --ReplicationFactor 2 --GatewayPort "$GATEWAY" \
  --DataDir "$WORK/cluster" --Dashboard false >"$WORK/apphost.log" 2>&1 &
APPHOST=$!
cleanup() {
  kill -TERM "$APPHOST" 2>/dev/null || true
  wait "$APPHOST" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 240); do
  grep -q '^ready' "$WORK/apphost.log" && break
  kill -0 "$APPHOST" 2>/dev/null || { cat "$WORK/apphost.log"; echo "bench-cluster: the AppHost exited" >&2; exit 1; }
  sleep 0.5
done
grep -q '^ready' "$WORK/apphost.log" || { cat "$WORK/apphost.log"; echo "bench-cluster: the cluster was not ready in 2 minutes" >&2; exit 1; }
grep -E '^(silo|gateway|postgres)' "$WORK/apphost.log"

# The same load straight to one silo, alternating with the gateway run in each round: the gateway's cost is the ratio.
SILO1=$(awk '$1 == "silo1" { print $2; exit }' "$WORK/apphost.log")
POSTGRES=$(awk '$1 == "postgres" { print $2; exit }' "$WORK/apphost.log")
[ -n "$SILO1" ] && [ -n "$POSTGRES" ] || { cat "$WORK/apphost.log"; echo "bench-cluster: no silo1 or postgres line in the AppHost's output" >&2; exit 1; }

for run in $(seq 1 "$RUNS"); do
  echo "run $run of $RUNS"
  for target in "gateway http://127.0.0.1:$GATEWAY" "silo1 $SILO1"; do
    set -- $target
    dotnet tests/OrleansBus.Benchmarks/bin/Release/net10.0/OrleansBus.Benchmarks.dll --url "$2" \
      --mode all --mib "$MIB" --min-sync-replicas 1 --consumers 1,4 --warmup-mib 64 | grep -E '^(produce|read|consume|ratio|summary)' | sed "s/^/$1: /"
  done
  # The Orleans client (a separate process with only Contracts and the Orleans client): one batching producer
  # (1 MiB batches of ~1 KiB messages, the category's default durability), then one consumer of a group.
  dotnet samples/OrleansClientSample/bin/Release/net10.0/OrleansClientSample.dll \
    --postgres "$POSTGRES" --category "orleans-client-$run" --group bench \
    --produce $((MIB * 1024)) --consume $((MIB * 1024)) --message-bytes 1024 | sed 's/^/orleans-client: /'
done
