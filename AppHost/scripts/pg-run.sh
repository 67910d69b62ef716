#!/usr/bin/env bash
# PostgreSQL in the foreground for the AppHost (an Aspire executable resource, no container).
# usage: pg-run.sh BINDIR DATADIR      (the port comes from $PGPORT, which the AppHost's endpoint sets)
# initdb on the first run, then the same cluster. PostgreSQL refuses root: as root, initdb and postgres run as the
# `postgres` OS user through setpriv, and `exec` keeps one process, so the orchestrator's SIGTERM reaches the
# postmaster itself (a smart shutdown that waits for no one: the AppHost stops silos and gateway first).
set -euo pipefail
bin="$1"
data="$2"
: "${PGPORT:?PGPORT is not set}"
as_pg=()
mkdir -p "$data"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$data"
  chmod 700 "$data"
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi
if [ ! -s "$data/PG_VERSION" ]; then
  "${as_pg[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
fi
exec 2>&1 # postgres logs to stderr: show it as the resource's console in the dashboard
exec "${as_pg[@]}" "$bin/postgres" -D "$data" -p "$PGPORT" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200
