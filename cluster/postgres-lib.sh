# Shared by tests/postgres.sh and cluster/cluster.sh (sourced): where PostgreSQL's programs are, installing Debian's
# postgresql when the machine has none (needs root), and running them as the postgres user when root (initdb and
# the server refuse to run as root).

pg_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$found" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL is not installed; run this as root (it uses apt-get) or install it" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$found"
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
