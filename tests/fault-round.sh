#!/usr/bin/env bash
# Issue 19's fault round at full length against a local cluster (3 silos, PostgreSQL, Azurite, the gateway, all as
# processes on loopback): producers and consumers run while a silo is SIGKILLed, another SIGSTOPped, PostgreSQL restarted
# and Azurite stopped, each for SECONDS (default 120). Prints what each fault cost and the lost / duplicate / inconsistent
# counts; fails if any is above 0. The suite runs the same round with 4 s per fault.
#
# Usage: bash tests/fault-round.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export OBUS_FAULT_SECONDS="${1:-120}"
export OBUS_PG_BIN="${OBUS_PG_BIN:-/usr/local/bin}"
export OBUS_AZURITE="${OBUS_AZURITE:-$ROOT/node_modules/.bin/azurite-blob}"
[ -x "$OBUS_PG_BIN/initdb" ] || { echo "fault-round: PostgreSQL binaries not found in $OBUS_PG_BIN (set OBUS_PG_BIN; bash tests/run-all.sh installs them)" >&2; exit 1; }
[ -x "$OBUS_AZURITE" ] || { echo "fault-round: Azurite not found at $OBUS_AZURITE (npm install --prefix \"$ROOT\" azurite@3.35.0)" >&2; exit 1; }
dotnet build tests/OrleansBus.IntegrationTests -c Release -nologo -v quiet
LOG="$(mktemp)"
rc=0
dotnet test tests/OrleansBus.IntegrationTests -c Release --no-build \
  --filter "FullyQualifiedName~FaultRoundTests" --logger "console;verbosity=detailed" > "$LOG" 2>&1 || rc=$?
grep -E "SIGKILL|SIGSTOP|PostgreSQL restart|Azurite stopped|batches \(|Passed|Failed|Error Message" "$LOG" || true
[ "$rc" -eq 0 ] || echo "fault-round: the round failed (exit $rc); full output in $LOG" >&2
[ "$rc" -ne 0 ] || rm -f "$LOG"
exit "$rc"
