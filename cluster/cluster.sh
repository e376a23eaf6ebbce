#!/usr/bin/env bash
# A local Gateway cluster on loopback: PostgreSQL, N gateway nodes on it and HAProxy in front with session affinity.
#
#   bash cluster/cluster.sh start            builds the gateway (Release), starts everything, prints where it is
#   bash cluster/cluster.sh stop             stops everything it started; nothing is left running
#   bash cluster/cluster.sh status           each process, its port, and each node's readiness
#   bash cluster/cluster.sh restart NODE     gracefully restarts one node (node-1 ...), waiting until it is ready
#   bash cluster/cluster.sh rolling-restart  restarts the nodes one at a time (docs/operations.md, Rolling restart)
#   bash cluster/cluster.sh kill NODE        kills one node with SIGKILL, as a crash would (start it with restart)
#   bash cluster/cluster.sh token ARGS...    `token create ARGS` with the cluster's signing key
#   bash cluster/cluster.sh haproxy-config   prints the balancer's configuration with its server lines
#
# Settings (environment): GATEWAY_CLUSTER_DIR (data/cluster: the database's files, logs, pid files, the signing key),
# GATEWAY_CLUSTER_NODES (3), GATEWAY_CLUSTER_PORT (5090: the balancer; nodes on the ports after it, the balancer's
# statistics page on PORT+9), GATEWAY_CLUSTER_PG_PORT (55490), GATEWAY_CLUSTER_APP (a built Gateway.Server.dll to
# run instead of building one). Needs the .NET SDK; installs Debian's haproxy and postgresql when missing (as root).
# PostgreSQL keeps its data (fsync on) across stop and start; `stop --purge` deletes the whole directory.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=postgres-lib.sh
source "$repo/cluster/postgres-lib.sh"

dir="${GATEWAY_CLUSTER_DIR:-data/cluster}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
nodes="${GATEWAY_CLUSTER_NODES:-3}"
port="${GATEWAY_CLUSTER_PORT:-5090}"
pg_port="${GATEWAY_CLUSTER_PG_PORT:-55490}"
app="${GATEWAY_CLUSTER_APP:-$dir/app/Gateway.Server.dll}"
export GATEWAY_CLUSTER_DIR="$dir"
export GATEWAY_CLUSTER_BIND="127.0.0.1:$port"
export GATEWAY_CLUSTER_STATS_BIND="127.0.0.1:$((port + 9))"

node_port() { echo $((port + ${1#node-})); }
node_names() { local i; for ((i = 1; i <= nodes; i++)); do echo "node-$i"; done; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
say() { echo "cluster: $*" >&2; }

database_url() {
  # The password stays in a file only its owner reads; the nodes get it in their environment, never on a command line.
  echo "postgres://gateway:$(cat "$dir/postgres.password")@127.0.0.1:$pg_port/gateway"
}

haproxy_config() {
  local servers="" name
  for name in $(node_names); do
    servers+="    server $name 127.0.0.1:$(node_port "$name") check cookie $name"$'\n'
  done
  while IFS= read -r line; do
    if [ "$line" = "    # @servers" ]; then printf '%s' "$servers"; else printf '%s\n' "$line"; fi
  done <"$repo/cluster/haproxy.cfg"
}

start_postgres() {
  local bin
  bin=$(pg_bindir)
  mkdir -p "$dir/postgres"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir/postgres"
  chmod 700 "$dir/postgres"
  if [ ! -s "$dir/postgres.password" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$dir/postgres.password")
  fi
  if [ ! -s "$dir/postgres/data/PG_VERSION" ]; then
    local pwfile="$dir/postgres/pwfile"
    (umask 077 && cp "$dir/postgres.password" "$pwfile")
    [ "$(id -u)" -ne 0 ] || chown postgres "$pwfile"
    as_postgres "$bin/initdb" -D "$dir/postgres/data" -U gateway --pwfile="$pwfile" -A scram-sha-256 -E UTF8 \
      >"$dir/postgres/initdb.log" 2>&1 || { cat "$dir/postgres/initdb.log" >&2; exit 1; }
    rm -f "$pwfile"
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$dir/postgres/data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$dir/postgres/data" -l "$dir/postgres/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/postgres -c max_connections=400" start \
      >"$dir/postgres/pg_ctl.log" 2>&1 </dev/null || { tail -20 "$dir/postgres/server.log" >&2; exit 1; }
  fi
  PGPASSWORD="$(cat "$dir/postgres.password")" "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U gateway -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = 'gateway'" | grep -q 1 \
    || PGPASSWORD="$(cat "$dir/postgres.password")" "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U gateway gateway
  say "PostgreSQL on 127.0.0.1:$pg_port, database gateway (password in $dir/postgres.password)"
}

stop_postgres() {
  [ -d "$dir/postgres/data" ] || return 0
  local bin
  bin=$(pg_bindir)
  as_postgres "$bin/pg_ctl" -D "$dir/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
}

build() {
  if [ -n "${GATEWAY_CLUSTER_APP:-}" ]; then
    [ -f "$app" ] || { say "GATEWAY_CLUSTER_APP=$app does not exist"; exit 1; }
    return
  fi
  say "building the gateway (Release) into $dir/app"
  dotnet publish "$repo/src/Gateway.Server" -c Release -o "$dir/app" --nologo -v q >"$dir/build.log" 2>&1 \
    || { tail -30 "$dir/build.log" >&2; exit 1; }
}

start_node() {
  local name="$1" node_dir="$dir/$1"
  if alive "$dir/$name.pid"; then return 0; fi
  mkdir -p "$node_dir" "$dir/shared"
  chmod 700 "$dir/shared"
  # setsid: the node outlives this script and gets no signal meant for the terminal.
  (
    cd "$node_dir"
    export DATABASE_URL Node__Id="$name" Node__Address="http://127.0.0.1:$(node_port "$name")" \
      Database__DataDirectory="$dir/shared" Proxy__TrustedProxies__0=127.0.0.1
    DATABASE_URL="$(database_url)"
    exec setsid dotnet "$app" --urls "http://127.0.0.1:$(node_port "$name")" >>"$dir/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/$name.pid"
}

wait_ready() {
  local name="$1" deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "http://127.0.0.1:$(node_port "$name")/health/ready" 2>/dev/null; do
    if ! alive "$dir/$name.pid"; then say "$name exited; its log:"; tail -20 "$dir/$name.log" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then say "$name not ready after 60 s; its log: $dir/$name.log"; exit 1; fi
    sleep 0.2
  done
}

stop_process() {
  local pidfile="$1" signal="${2:-TERM}" pid deadline
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -"$signal" "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  rm -f "$pidfile"
}

start_balancer() {
  if alive "$dir/haproxy.pid"; then return 0; fi
  if ! command -v haproxy >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { say "haproxy is not installed; run this as root (it uses apt-get) or install it"; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  fi
  haproxy_config >"$dir/haproxy.cfg"
  haproxy -c -q -f "$dir/haproxy.cfg" || { say "the balancer's configuration is invalid: $dir/haproxy.cfg"; exit 1; }
  ( exec setsid haproxy -f "$dir/haproxy.cfg" -db >>"$dir/haproxy.log" 2>&1 </dev/null ) &
  echo $! >"$dir/haproxy.pid"
  local deadline=$((SECONDS + 20))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
    if ! alive "$dir/haproxy.pid"; then say "haproxy exited; its log:"; tail -20 "$dir/haproxy.log" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then say "no node ready through the balancer after 20 s"; exit 1; fi
    sleep 0.2
  done
}

restart_node() {
  local name="$1"
  say "stopping $name (its clients reconnect to the other nodes)"
  stop_process "$dir/$name.pid" TERM
  start_node "$name"
  wait_ready "$name"
  say "$name ready"
}

stop_all() {
  stop_process "$dir/haproxy.pid" TERM
  local pidfile
  for pidfile in "$dir"/node-*.pid; do [ -e "$pidfile" ] && stop_process "$pidfile" TERM; done
  stop_postgres
}

case "${1:-}" in
  start)
    # A start that fails half-way stops what it started: nothing is left running.
    trap 'status=$?; if [ $status -ne 0 ]; then say "start failed; stopping what it started"; stop_all; fi' EXIT
    build
    start_postgres
    for name in $(node_names); do start_node "$name"; done
    for name in $(node_names); do wait_ready "$name"; done
    start_balancer
    say "$nodes nodes ready: http://127.0.0.1:$port (dashboard at /, balancer statistics at http://127.0.0.1:$((port + 9))/)"
    say "a token: bash cluster/cluster.sh token --user me --role admin"
    echo "http://127.0.0.1:$port"
    ;;
  stop)
    stop_all
    if [ "${2:-}" = "--purge" ]; then rm -rf "$dir"; fi
    say "stopped"
    ;;
  status)
    for pidfile in "$dir"/haproxy.pid "$dir"/node-*.pid; do
      [ -e "$pidfile" ] || continue
      name=$(basename "$pidfile" .pid)
      if ! alive "$pidfile"; then echo "$name: not running"; continue; fi
      if [ "$name" = haproxy ]; then echo "haproxy: pid $(cat "$pidfile"), http://127.0.0.1:$port"; continue; fi
      ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(node_port "$name")/health/ready" || true)
      echo "$name: pid $(cat "$pidfile"), http://127.0.0.1:$(node_port "$name"), readiness $ready"
    done
    ;;
  restart)
    [ -n "${2:-}" ] || { echo "usage: cluster/cluster.sh restart node-N" >&2; exit 2; }
    restart_node "$2"
    ;;
  rolling-restart)
    for name in $(node_names); do restart_node "$name"; done
    ;;
  kill)
    [ -n "${2:-}" ] || { echo "usage: cluster/cluster.sh kill node-N" >&2; exit 2; }
    stop_process "$dir/$2.pid" KILL
    ;;
  token)
    shift
    (cd "$dir" && Database__DataDirectory="$dir/shared" exec dotnet "$app" token create "$@")
    ;;
  haproxy-config)
    haproxy_config
    ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
