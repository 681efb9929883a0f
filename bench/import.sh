#!/usr/bin/env bash
# Import benchmark (DESIGN §10: CSV → store ≥ 1 M rows/s at 10 M sessions).
#
#   bench/import.sh [--scale N] [--runs R]
#
# Builds the release binary, generates the demo company at the scale asked (default 100: about
# 10 M sessions) into bench/out/, then imports sessions.csv into a fresh project R times (default
# 3), each in a fresh process, and prints wall time, rows/s and peak RSS per run and the medians.
# Also times `generate` itself (wall time, peak RSS) the first time. The generated files stay in
# bench/out/ for later runs. Results go to bench/out/import.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=100
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: bench/import.sh [--scale N] [--runs R]" >&2; exit 1 ;;
  esac
done
. bench/lib.sh
build
ensure_generated "$scale"
rows=$(($(wc -l < "$out/sessions.csv") - 1))
bytes=$(stat -c %s "$out/sessions.csv")
echo "sessions.csv: $rows rows, $((bytes / 1024 / 1024)) MiB"

echo "run,rows,seconds,rows_per_second,peak_rss_mib" > bench/out/import.csv
for r in $(seq 1 "$runs"); do
  proj=$(mktemp -d)
  "$bin" --quiet init "$proj" >/dev/null
  /usr/bin/time -f '%e %M' -o bench/out/import.time \
    "$bin" --quiet --project "$proj" import sessions "$out/sessions.csv" >/dev/null
  read -r secs kb < bench/out/import.time
  rps=$(python3 -c "print(round($rows / $secs))")
  echo "$r,$rows,$secs,$rps,$((kb / 1024))" >> bench/out/import.csv
  echo "run $r: $secs s, $rps rows/s, peak RSS $((kb / 1024)) MiB"
  rm -rf "$proj"
done
python3 - <<'PY'
import csv, statistics
rows = list(csv.DictReader(open("bench/out/import.csv")))
secs = statistics.median(float(r["seconds"]) for r in rows)
rps = statistics.median(float(r["rows_per_second"]) for r in rows)
rss = statistics.median(float(r["peak_rss_mib"]) for r in rows)
print(f"median: {secs:.2f} s, {rps:,.0f} rows/s, peak RSS {rss:.0f} MiB (target >= 1,000,000 rows/s)")
PY
