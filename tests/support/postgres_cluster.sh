#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests labelled "postgresql" (a CTest
# fixture, tests/CMakeLists.txt): `start FILE` runs initdb in a new temporary folder,
# starts the server on a Unix socket only (no TCP port to collide on) and writes the
# socket folder to FILE; `stop FILE` stops the server and removes the folder. Trust
# authentication for the role "gallery"; fsync off (a test cluster is thrown away).
# As root the server runs as the "postgres" user that Debian's package creates.
set -euo pipefail
action="$1"
state="$2"
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "postgres_cluster: $bin/initdb not found: run scripts/setup" >&2; exit 1; }
as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

case "$action" in
  start)
    if [ -f "$state" ]; then "$0" stop "$state" || true; fi
    folder="$(mktemp -d /tmp/gallery-pg-XXXXXX)"
    chmod 755 "$folder"
    mkdir "$folder/socket"
    [ ${#as_owner[@]} -eq 0 ] || chown -R postgres "$folder"
    "${as_owner[@]}" "$bin/initdb" -D "$folder/data" -U gallery --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 ||
      { cat "$folder/initdb.log" >&2; exit 1; }
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k $folder/socket -c fsync=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" \
      start >/dev/null || { cat "$folder/server.log" >&2; exit 1; }
    printf '%s\n%s\n' "$folder/socket" "$folder" >"$state"
    echo "postgres_cluster: PostgreSQL 15 on $folder/socket"
    ;;
  stop)
    [ -f "$state" ] || exit 0
    folder="$(sed -n 2p "$state")"
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$folder" "$state"
    ;;
  *)
    echo "usage: postgres_cluster.sh start|stop FILE" >&2
    exit 2
    ;;
esac
