#!/usr/bin/env bash
# A throwaway PostgreSQL for the storage tests: `start DIR` initialises and starts one on loopback and prints its
# SQLAlchemy URL; `stop DIR` stops it and deletes DIR. It never touches the machine's own clusters.
set -euo pipefail
command -v pg_ctlcluster >/dev/null || (apt-get update && apt-get install -y postgresql) >&2
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
action=$1
dir=$2
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
case "$action" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as_pg[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust >"$dir/initdb.log"
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
