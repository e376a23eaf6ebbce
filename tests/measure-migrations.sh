#!/usr/bin/env bash
# Measures `migrate run` of the seven orchestrator migrations on fresh SQLite files, as sqlx records it:
# execution_time of each migration in _sqlx_migrations (read back through `migrate info`), plus the wall time of the whole command.
# Usage: bash tests/measure-migrations.sh [runs]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
dotnet build src/Gateway.Server -c Release -v quiet -nologo >/dev/null
dll="src/Gateway.Server/bin/Release/net10.0/Gateway.Server.dll"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
per_migration=(); totals=(); walls=()
for i in $(seq "$runs"); do
  db="$work/run$i.db"
  start=$(date +%s%N)
  dotnet "$dll" migrate run --set orchestrator --database-url "sqlite:$db" >/dev/null
  walls+=($(( ($(date +%s%N) - start) / 1000 )))
  # execution_time as `migrate info` shows it (ms or µs), in µs
  mapfile -t times < <(dotnet "$dll" migrate info --set orchestrator --database-url "sqlite:$db" | awk 'NR > 1 { v = $(NF-1); u = $NF; printf "%d\n", (u == "ms") ? v * 1000 : v }')
  sum=0; for t in "${times[@]}"; do per_migration+=("$t"); sum=$((sum + t)); done
  totals+=("$sum")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "runs: $runs, fresh file each, journal WAL, synchronous FULL (sqlx's defaults)"
echo "per migration (execution_time): median $(median "${per_migration[@]}") µs"
echo "all seven (sum of execution_time): median $(median "${totals[@]}") µs"
echo "whole command incl. .NET start-up: median $(( $(median "${walls[@]}") / 1000 )) ms"
gateway=$(median "${per_migration[@]}")
if command -v python3 >/dev/null; then
  baseline=$(python3 tests/measure-migrations-baseline.py migrations/sqlite "$work" "$runs")
  echo "baseline, raw sqlite3 (Python) on the same disk: median ${baseline} µs per migration"
  awk -v g="$gateway" -v b="$baseline" 'BEGIN { printf "ratio gateway/baseline: %.2f\n", g / b }'
fi
