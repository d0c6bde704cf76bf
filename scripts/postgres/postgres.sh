#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 for development and tests: a fresh cluster per
# start, a `pipac` role and database, loopback only. PostgreSQL comes from the distribution's
# packages; when it is missing and this runs as root with apt, it is installed once.
#
#   scripts/postgres/postgres.sh start    # prints the connection URL, waits until it accepts connections
#   scripts/postgres/postgres.sh stop
#   scripts/postgres/postgres.sh status
#
# Settings (environment): PIPAC_POSTGRES_PORT (default 15432), PIPAC_POSTGRES_HOME (default
# $TMPDIR/pipac-postgres-<port>; the server refuses to run as root, so as root the cluster is
# owned by the `postgres` system user, which needs to reach this directory).
# People with their own server skip this and point the services at it (see README).
set -euo pipefail

port=${PIPAC_POSTGRES_PORT:-15432}
home=${PIPAC_POSTGRES_HOME:-${TMPDIR:-/tmp}/pipac-postgres-$port}
data=$home/data
url="postgres://pipac:pipac@127.0.0.1:$port/pipac"

bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then dirname "$(command -v initdb)"; fi
}

install() {
  if [ -n "$(bindir)" ]; then return; fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "postgres.sh: PostgreSQL is not installed; install the distribution's postgresql package" >&2
    exit 1
  fi
  echo "postgres.sh: installing PostgreSQL from the distribution's packages (once)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package's own cluster is not needed (each start makes a fresh one): skip creating it.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/pipac.conf
  apt-get install -y -q --no-install-recommends postgresql >&2 || {
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends postgresql >&2
  }
}

# Runs a server binary as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {
  local bin
  bin=$(bindir)
  [ -n "$bin" ] && [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  install
  local bin
  bin=$(bindir)
  if running; then echo "$url"; return; fi
  rm -rf "$home"
  mkdir -p "$home"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$home"; fi
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 || {
    echo "postgres.sh: initdb failed; see $home/initdb.log" >&2
    tail -n 20 "$home/initdb.log" >&2
    exit 1
  }
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$home'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  as_owner "$bin/pg_ctl" -D "$data" -l "$home/server.log" -w -t 60 start >/dev/null || {
    echo "postgres.sh: the server did not start; see $home/server.log" >&2
    tail -n 20 "$home/server.log" >&2
    exit 1
  }
  as_owner "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE pipac LOGIN CREATEDB PASSWORD 'pipac'" -c "CREATE DATABASE pipac OWNER pipac" >/dev/null
  echo "$url"
}

stop() {
  local bin
  bin=$(bindir)
  if running; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running: $url"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
