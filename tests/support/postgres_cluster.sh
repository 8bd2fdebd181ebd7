#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests labelled "postgresql" (a CTest
# fixture, tests/CMakeLists.txt) and for the outage test: `start FILE` runs initdb in
# a new temporary folder, starts the server on a Unix socket only (no TCP port to
# collide on) and writes the socket folder to FILE; `stop FILE` stops the server and
# removes the folder; `pause FILE` stops the server and keeps its data, `resume FILE`
# starts it again. Trust authentication for the role "gallery"; fsync off (a test
# cluster is thrown away).
# As root the server runs as the "postgres" user that Debian's package creates.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"  # runuser is in /usr/sbin
action="$1"
state="$2"
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "postgres_cluster: $bin/initdb not found: run scripts/setup" >&2; exit 1; }
as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

run_server() {
  local folder="$1"
  "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $folder/socket -c fsync=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" \
    start >/dev/null || { cat "$folder/server.log" >&2; exit 1; }
}

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
    run_server "$folder"
    printf '%s\n%s\n' "$folder/socket" "$folder" >"$state"
    echo "postgres_cluster: PostgreSQL 15 on $folder/socket"
    ;;
  pause)
    folder="$(sed -n 2p "$state")"
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null
    ;;
  resume)
    run_server "$(sed -n 2p "$state")"
    ;;
  stop)
    [ -f "$state" ] || exit 0
    folder="$(sed -n 2p "$state")"
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$folder" "$state"
    ;;
  *)
    echo "usage: postgres_cluster.sh start|stop|pause|resume FILE" >&2
    exit 2
    ;;
esac
