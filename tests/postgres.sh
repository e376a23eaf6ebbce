#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on loopback only: `tests/postgres.sh start` (idempotent: a running
# cluster is left as it is; a halted one is started again) prints its URL; `tests/postgres.sh halt` stops it at once,
# as a crash would (immediate mode: every connection cut, recovery at the next start), keeping its files;
# `tests/postgres.sh stop` stops it and deletes its files. GATEWAY_TEST_PG_ROOT and GATEWAY_TEST_PG_PORT give a
# test a cluster of its own.
# Installs Debian's postgresql when no PostgreSQL is on the machine (needs root, as on the CI machine; cluster/postgres-lib.sh).
# fsync is off (the tests never lose the machine's power); synchronous_commit stays on, so a commit a test saw
# acknowledged survives a killed server or node.
set -euo pipefail

root="${GATEWAY_TEST_PG_ROOT:-${TMPDIR:-/tmp}/gateway-test-pg}"
port="${GATEWAY_TEST_PG_PORT:-55432}"
url="postgres://postgres@127.0.0.1:${port}/postgres"

# shellcheck source=../cluster/postgres-lib.sh
source "$(dirname "$0")/../cluster/postgres-lib.sh"

case "${1:-}" in
  start)
    mkdir -p "$root"
    # Several test processes may start it at once: one does, the others wait and find it running.
    exec 9>"$root.lock"
    flock 9
    bin=$(pg_bindir)
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$root"
    chmod 700 "$root"
    if ! as_postgres "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
      if [ ! -s "$root/data/PG_VERSION" ]; then
        as_postgres "$bin/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --no-sync >"$root/initdb.log" 2>&1 \
          || { cat "$root/initdb.log" >&2; exit 1; }
      fi
      # The server must inherit neither the lock (it would hold it for its whole life) nor this script's output
      # (a caller reading it to the end would wait for the server to exit).
      as_postgres "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c full_page_writes=off -c max_connections=300" start \
        >"$root/pg_ctl.log" 2>&1 9>&- </dev/null \
        || { cat "$root/pg_ctl.log" >&2; tail -20 "$root/server.log" >&2; exit 1; }
    fi
    echo "$url"
    ;;
  halt)
    bin=$(pg_bindir)
    as_postgres "$bin/pg_ctl" -D "$root/data" -m immediate -w stop >/dev/null
    ;;
  stop)
    if [ -d "$root/data" ]; then
      bin=$(pg_bindir)
      as_postgres "$bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$root" "$root.lock"
    ;;
  url)
    echo "$url"
    ;;
  *)
    echo "usage: tests/postgres.sh start|halt|stop|url" >&2
    exit 2
    ;;
esac
