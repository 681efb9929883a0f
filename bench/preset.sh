#!/usr/bin/env bash
# A vendor export through its preset beside the canonical CSV import of the same rows
# (DESIGN §10: a 1 M-row UTF-16 Google Ads export at >= 60 % of the canonical import's speed).
#
#   bench/preset.sh [--rows N] [--runs R]
#
# Builds the release binary, writes N rows (default 1,000,000) of a Google Ads campaign report as
# the "Excel CSV" download (UTF-16LE with BOM, tabs, title lines, "9,380" numbers, ` --`, Total
# rows) and as the canonical ad_spend CSV (bench/gen_google_ads.py; kept in bench/out/ads-N),
# then imports each R times (default 3) into a fresh project, alternating, each in a fresh
# process: wall time, rows/s, peak RSS, and the median ratio. Results in bench/out/preset.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=1000000
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: bench/preset.sh [--rows N] [--runs R]" >&2; exit 1 ;;
  esac
done
. bench/lib.sh
build
out="bench/out/ads-$rows"
if [ ! -f "$out/.complete" ]; then
  python3 bench/gen_google_ads.py "$rows" "$out"
  touch "$out/.complete"
fi

echo "kind,run,rows,seconds,rows_per_second,peak_rss_mib" > bench/out/preset.csv
one() { # kind run args...
  local kind="$1" r="$2"; shift 2
  local proj
  proj=$(mktemp -d)
  "$bin" --quiet init "$proj" >/dev/null
  /usr/bin/time -f '%e %M' -o bench/out/preset.time \
    "$bin" --quiet --project "$proj" import "$@" --format json > bench/out/preset-out.json
  read -r secs kb < bench/out/preset.time
  local n
  n=$(python3 -c "import json; print(sum(t['rows'] for t in json.load(open('bench/out/preset-out.json'))['tables']))")
  if [ "$n" != "$rows" ]; then
    echo "$kind run $r stored $n rows, expected $rows" >&2
    exit 1
  fi
  local rps
  rps=$(python3 -c "print(round($rows / $secs))")
  echo "$kind,$r,$rows,$secs,$rps,$((kb / 1024))" >> bench/out/preset.csv
  echo "$kind run $r: $secs s, $rps rows/s, peak RSS $((kb / 1024)) MiB"
  rm -rf "$proj"
}
for r in $(seq 1 "$runs"); do
  one canonical "$r" ad_spend "$out/ad_spend.csv"
  one preset "$r" "$out/google-ads.csv"
done
python3 - <<'PY'
import csv, statistics
rows = list(csv.DictReader(open("bench/out/preset.csv")))
med = {}
for kind in ("canonical", "preset"):
    r = [x for x in rows if x["kind"] == kind]
    med[kind] = (
        statistics.median(float(x["seconds"]) for x in r),
        statistics.median(float(x["rows_per_second"]) for x in r),
        statistics.median(float(x["peak_rss_mib"]) for x in r),
    )
    s, rps, rss = med[kind]
    print(f"{kind:9} median: {s:.2f} s, {rps:,.0f} rows/s, peak RSS {rss:.0f} MiB")
ratio = med["preset"][1] / med["canonical"][1]
print(f"preset speed / canonical speed: {ratio:.0%} (target >= 60%)")
PY
