#!/usr/bin/env bash
# Attribution benchmark (DESIGN §10: order-1 Markov over 1 M journeys ≤ 2 s).
#
#   bench/attribution.sh [--journeys N] [--runs R] [--scale S]
#
# A: N generated journeys (bench/gen_paths.py, one row per journey, default 1,000,000) read as
#    aggregated paths: `kpiflow attribution --paths` with order-1 Markov, then with the nine
#    other position models and Shapley; the model's own time (`--timings`) and the whole
#    process (wall, peak RSS), medians of R runs (default 3).
# B: the journeys of the generated company at scale S (default 100: ~1 M contacts, ~10 M
#    sessions) built from the store, every model: journey building and each model's time.
# Results: bench/out/attribution.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
journeys=1000000
runs=3
scale=100
while [ $# -gt 0 ]; do
  case "$1" in
    --journeys) journeys="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    *) echo "usage: bench/attribution.sh [--journeys N] [--runs R] [--scale S]" >&2; exit 1 ;;
  esac
done
. bench/lib.sh
build
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

paths="bench/out/paths-$journeys.csv"
[ -f "$paths" ] || python3 bench/gen_paths.py --journeys "$journeys" --out "$paths"

echo "input,models,step,median_ms,peak_rss_mib" > bench/out/attribution.csv
# run LABEL MODELS ARGS...: R runs; per step (timing lines) and the whole process, medians.
run() {
  local input="$1" models="$2"; shift 2
  rm -f bench/out/attribution.timings
  for r in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %M' -o bench/out/attribution.time "$bin" --quiet "$@" --model "$models" \
      --timings --format csv 2> bench/out/attribution.err > /dev/null
    grep '^timing ' bench/out/attribution.err >> bench/out/attribution.timings || true
    read -r secs kb < bench/out/attribution.time
    echo "timing process $(awk -v s="$secs" 'BEGIN {print s * 1000}') $((kb / 1024))" >> bench/out/attribution.timings
  done
  for step in $(awk '{print $2}' bench/out/attribution.timings | awk '!seen[$0]++'); do
    local ms rss
    ms=$(awk -v s="$step" '$2 == s {print $3}' bench/out/attribution.timings | median)
    rss=""
    [ "$step" = process ] && rss=$(awk '$2 == "process" {print $4}' bench/out/attribution.timings | median)
    printf '%-10s %-28s %-26s %10.1f ms %s\n' "$input" "${models:0:28}" "$step" "$ms" "${rss:+ peak RSS ${rss} MiB}"
    echo "$input,\"$models\",$step,$ms,$rss" >> bench/out/attribution.csv
  done
}
rules=first,last,last_non_direct,linear,u_shaped,w_shaped,full_path,j_shaped,inverse_j,shapley
echo "== $journeys generated journeys ($paths), medians of $runs runs"
run "paths" markov attribution --paths "$paths"
run "paths" "$rules" attribution --paths "$paths"
ensure_project "$scale"
echo "== the store at scale $scale (journeys to leads, last 12 months), medians of $runs runs"
run "store-$scale" all --project "$project" attribution
