#!/usr/bin/env bash
# One command: builds Release, starts Gateway and the baselines, runs scenarios a-e, prints the table and writes
# bench/results/latest.json. Options: --quick (a smoke run of about a minute), --scenarios abcde, --connections N,
# --subscribers N, --rates 10,25,..., --out FILE. Exit code 0 when every target is met, 3 when one is missed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# 5,000 client connections in one process, and as many server sockets: raise the descriptor limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

echo "building (Release)..." >&2
dotnet build src/Gateway.Server/Gateway.Server.csproj -c Release -nologo -v quiet >&2
dotnet build bench/Gateway.Bench.Baselines/Gateway.Bench.Baselines.csproj -c Release -nologo -v quiet >&2
dotnet build bench/Gateway.Bench.Probe/Gateway.Bench.Probe.csproj -c Release -nologo -v quiet >&2
dotnet build bench/Gateway.Bench/Gateway.Bench.csproj -c Release -nologo -v quiet >&2

# Pinned to one core, a .NET process sees a one-CPU machine and multiplies tiered compilation's call-counting delay by
# 10 (TC_DelaySingleProcMultiplier): every new tier-0 method restarts a 1 s wait, so a busy server with many code paths
# runs unoptimised code for minutes (scenario d measured 832 µs per change pinned, 259 µs with the multiplier at 1).
# The two-core machines the targets are for never apply it; set it to 1 for every process of the run (servers,
# baselines and generator alike, inherited from here).
export DOTNET_TC_DelaySingleProcMultiplier=1

# Server on cpu 0, generator on cpu 1 (with two or more cores and taskset); otherwise both unpinned.
CORES="$(nproc --all 2>/dev/null || echo 1)"
PIN=()
GEN=()
if [ "$CORES" -ge 2 ] && command -v taskset >/dev/null; then
  PIN=(--server-cpus 0)
  GEN=(taskset -c 1)
fi

echo "machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB; load: $(uptime | sed 's/.*load average: //')" >&2
START=$(date +%s)
set +e
"${GEN[@]}" dotnet bench/Gateway.Bench/bin/Release/net10.0/Gateway.Bench.dll --repo "$ROOT" "${PIN[@]}" "$@"
CODE=$?
set -e
echo "total $(( $(date +%s) - START )) s after the build; load: $(uptime | sed 's/.*load average: //')" >&2
exit $CODE
