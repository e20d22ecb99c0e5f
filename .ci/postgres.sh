#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: a cluster in a temp directory, on a free loopback port, run as the postgres user.
# Usage: eval "$(.ci/postgres.sh start)"   prints the exports: SESSION_MESH_TEST_POSTGRES (a superuser connection string,
#                                          each test creates a database of its own) and SESSION_MESH_TEST_POSTGRES_DIR
#        .ci/postgres.sh stop              stops the cluster of $SESSION_MESH_TEST_POSTGRES_DIR and deletes it
#        .ci/postgres.sh pause|resume      stops it at once (as a crash would) / starts it again on the same port and data
# Installs PostgreSQL from Debian's packages when it is missing (as root, on a fresh machine).
set -euo pipefail

# Loopback only, sockets in the cluster's own directory; fsync off: a crash of PostgreSQL alone (not of the machine)
# still loses nothing, and the tests run faster.
server_options() {
  echo "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$2 -c max_connections=400 -c fsync=off -c full_page_writes=off"
}

bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

start() {
  if [ -z "$(bin_dir)" ]; then
    echo "postgres.sh: installing PostgreSQL" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  fi
  local bin dir port
  bin=$(bin_dir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/session-mesh-pg.XXXXXX")
  chmod 755 "$dir"
  chown postgres: "$dir"
  runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # A free port: try a few random ones; pg_ctl -w fails when the port is taken.
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    if runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
        -o "$(server_options "$port" "$dir")" >&2; then
      echo "$port" >"$dir/port"
      echo "export SESSION_MESH_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'"
      echo "export SESSION_MESH_TEST_POSTGRES_DIR='$dir'"
      return 0
    fi
  done
  cat "$dir/server.log" >&2
  echo "postgres.sh: PostgreSQL did not start" >&2
  exit 1
}

stop() {
  local dir=${SESSION_MESH_TEST_POSTGRES_DIR:-}
  [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
  runuser -u postgres -- "$(bin_dir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

pause() {
  runuser -u postgres -- "$(bin_dir)/pg_ctl" -D "$SESSION_MESH_TEST_POSTGRES_DIR/data" -m immediate -w stop >&2
}

resume() {
  local dir=$SESSION_MESH_TEST_POSTGRES_DIR
  runuser -u postgres -- "$(bin_dir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "$(server_options "$(cat "$dir/port")" "$dir")" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  pause) pause ;;
  resume) resume ;;
  *) echo "usage: $0 start|stop|pause|resume" >&2; exit 2 ;;
esac
