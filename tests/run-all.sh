#!/usr/bin/env bash
# Runs every test of the solution on a fresh Debian machine: installs what is missing (PostgreSQL,
# psql, Node/npm, Azurite 3.35.0), builds once in Release, runs all test projects, and ends with one
# line "N passed, M failed[, K skipped]". Exits non-zero when anything fails.
# The test fixtures start their own PostgreSQL and Azurite on free ports; this script only tells them
# where the binaries are (OBUS_PG_BIN, OBUS_AZURITE).
#
# Usage: bash tests/run-all.sh [--filter EXPRESSION]     (EXPRESSION as for `dotnet test --filter`)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

AZURITE_VERSION=3.35.0
RESULTS="$ROOT/.artifacts/test-results"

FILTER=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) FILTER=(--filter "${2:?--filter needs an expression}"); shift 2 ;;
    --filter=*) FILTER=(--filter "${1#--filter=}"); shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run-all: unknown argument '$1' (only --filter EXPRESSION)" >&2; exit 2 ;;
  esac
done

log() { echo "run-all: $*"; }

# --- install what is missing (idempotent) ---------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "run-all: missing $*, and there is no apt-get here: install it yourself" >&2; exit 1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

command -v dotnet >/dev/null 2>&1 || {
  echo "run-all: the .NET SDK is missing (global.json pins 10.0.401): install it first" >&2; exit 1; }

if [ ! -x /usr/local/bin/initdb ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  apt_install postgresql
fi
command -v psql >/dev/null 2>&1 || apt_install postgresql-client
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
if [ ! -x "$ROOT/node_modules/.bin/azurite-blob" ]; then
  log "npm install azurite@$AZURITE_VERSION into $ROOT/node_modules"
  # --prefix: install here even if a parent folder has a package.json.
  npm install --prefix "$ROOT" --no-save --no-audit --no-fund "azurite@$AZURITE_VERSION"
fi

# Where the fixtures find the servers: an explicit OBUS_PG_BIN wins, then /usr/local/bin, then the
# newest /usr/lib/postgresql/<major>/bin.
if [ -z "${OBUS_PG_BIN:-}" ] || [ ! -x "$OBUS_PG_BIN/initdb" ]; then
  if [ -x /usr/local/bin/initdb ] && [ -x /usr/local/bin/pg_ctl ]; then
    OBUS_PG_BIN=/usr/local/bin
  else
    OBUS_PG_BIN="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
fi
for tool in initdb pg_ctl postgres; do
  [ -x "$OBUS_PG_BIN/$tool" ] || { echo "run-all: $OBUS_PG_BIN/$tool is missing" >&2; exit 1; }
done
# PostgreSQL refuses to run as root; the fixtures run it as this user then.
if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
  echo "run-all: running as root but the 'postgres' OS user is missing (apt-get install postgresql creates it)" >&2; exit 1
fi
export OBUS_PG_BIN
export OBUS_AZURITE="${OBUS_AZURITE:-$ROOT/node_modules/.bin/azurite-blob}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log "PostgreSQL: $OBUS_PG_BIN ($("$OBUS_PG_BIN/postgres" --version)); Azurite: $OBUS_AZURITE; node $(node --version)"

# --- build once, then test ------------------------------------------------------------------------
log "dotnet build OrleansBus.sln -c Release"
dotnet build OrleansBus.sln -c Release -nologo

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
log "dotnet test OrleansBus.sln -c Release ${FILTER[*]}"
# trx without LogFileName: each project gets its own file (a fixed name is overwritten per project).
# --blame-hang-timeout: a hung test kills its test host and fails, instead of eating the CI limit.
set +e
dotnet test OrleansBus.sln -c Release --no-build \
  --logger "console;verbosity=normal" --logger trx --results-directory "$RESULTS" \
  --blame-hang-timeout 10m --blame-hang-dump-type none \
  "${FILTER[@]}"
test_exit=$?
set -e

# --- one summary line over every project's .trx ----------------------------------------------------
counters="$(find "$RESULTS" -name '*.trx' -exec grep -ho '<Counters [^>]*>' {} + 2>/dev/null || true)"
read -r passed failed skipped < <(printf '%s\n' "$counters" | awk '
  function attr(s, name,   m) {
    if (!match(s, " " name "=\"[0-9]+\"")) return 0
    m = substr(s, RSTART, RLENGTH); gsub(/[^0-9]/, "", m); return m + 0
  }
  /<Counters / {
    total += attr($0, "total"); executed += attr($0, "executed"); passed += attr($0, "passed")
    failed += attr($0, "failed") + attr($0, "error") + attr($0, "timeout") + attr($0, "aborted")
  }
  END { printf "%d %d %d\n", passed, failed, total - executed }')

if [ "$test_exit" -ne 0 ]; then
  log "dotnet test exited with code $test_exit; results in $RESULTS"
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
if [ "$test_exit" -ne 0 ]; then exit "$test_exit"; fi
if [ "$failed" -gt 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ]; then log "no test ran: that is a failure, not a pass"; exit 1; fi
