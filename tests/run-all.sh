#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: restores, builds, tests every project of Gateway.sln,
# and prints one summary line "N passed, N failed[, N skipped]".
# Services the tests need are installed and started here, on loopback only, by the project's own scripts:
# Chromium and Node.js (tests/install-test-dependencies.sh), a throwaway PostgreSQL (tests/postgres.sh), stopped
# and deleted when the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d "${TMPDIR:-/tmp}/gateway-test-results.XXXXXX")"
stop_postgres=false
cleanup() {
  rm -rf "$results"
  if [ "$stop_postgres" = true ]; then bash tests/postgres.sh stop; fi
}
trap cleanup EXIT

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
status=0
bash tests/install-test-dependencies.sh
if [ -z "${GATEWAY_TEST_POSTGRES_URL:-}" ]; then
  stop_postgres=true
  GATEWAY_TEST_POSTGRES_URL="$(bash tests/postgres.sh start)"
  export GATEWAY_TEST_POSTGRES_URL
  echo "PostgreSQL for the tests: $GATEWAY_TEST_POSTGRES_URL"
fi
dotnet build Gateway.sln --nologo -v q || status=$?
if [ "$status" -eq 0 ]; then
  # Both passes at once: the machine idles while tests wait on processes, timers and sockets, and every test keeps to
  # files, ports and PostgreSQL databases of its own.
  dotnet test Gateway.sln --no-build --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" &
  first=$!
  # The same server suites again on PostgreSQL: the test classes and tests marked [Trait("Providers", "both")], their
  # test servers on PostgreSQL databases (README, What runs where).
  GATEWAY_TEST_PROVIDER=postgres dotnet test tests/Gateway.Server.Tests --no-build --filter "Providers=both" \
    --logger "trx;LogFileName=postgres-pass.trx" --logger "console;verbosity=minimal" --results-directory "$results" &
  second=$!
  wait "$first" || status=$?
  wait "$second" || status=$?
fi

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
