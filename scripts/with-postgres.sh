#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on 127.0.0.1.
# Debian's postgresql is used (initdb and pg_ctl from /usr/lib/postgresql/*/bin).
# Usage: scripts/with-postgres.sh COMMAND ARGS...
set -euo pipefail
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "PostgreSQL server binaries not found: install Debian's package 'postgresql'." >&2
    exit 1
fi
PGDATA_ROOT="$(mktemp -d /tmp/voltdesk-pg.XXXXXX)"
PORT="${VOLTDESK_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
RUN=()
if [ "$(id -u)" = "0" ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    chown postgres "$PGDATA_ROOT"
    RUN=(runuser -u postgres --)
fi
cleanup() {
    "${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA_ROOT/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA_ROOT"
}
trap cleanup EXIT
"${RUN[@]}" "$PGBIN/initdb" -D "$PGDATA_ROOT/data" -U voltdesk -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA_ROOT/data" -l "$PGDATA_ROOT/log" -w \
    -o "-k $PGDATA_ROOT -p $PORT -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB" start >/dev/null
"${RUN[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U voltdesk voltdesk
export DATABASE_URL="postgres://voltdesk@127.0.0.1:$PORT/voltdesk"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
"$@"
