#!/usr/bin/env bash
# Dashboard and API load benchmark (DESIGN §10: dashboard page p99 ≤ 100 ms warm, 32 concurrent
# clients, at scale 100).
#
#   bench/serve.sh [--scale N] [--runs R] [--seconds S] [--connections C]
#
# On a release build with the imported project of bench/lib.sh (scale 100 by default): starts
# `kpiflow serve` on 127.0.0.1, requests each target once (cold: the first request after start,
# which builds the derived sources and computes every measure group), then runs `wrk` (Debian's
# package) R times for S seconds with C connections on each target (warm: the server's engine
# already holds the results for this store snapshot, as a dashboard being read does). Reports
# requests/s and the p50/p99 latency (medians over the runs) and the server's peak RSS.
# Targets: the overview page, the Channels page, and a KPI API call split by channel.
# Results: bench/out/serve.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=100
runs=3
seconds=15
connections=32
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    *) echo "usage: bench/serve.sh [--scale N] [--runs R] [--seconds S] [--connections C]" >&2; exit 1 ;;
  esac
done
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }
. bench/lib.sh
build
ensure_project "$scale"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/time -f '%M' -o bench/out/serve.rss "$bin" --project "$project" serve --addr "127.0.0.1:$port" \
  > bench/out/serve.log 2>&1 &
server=$!
# GNU time ignores SIGINT while it waits: the signal goes to the server itself.
stop() { pkill -INT -P "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 600); do
  grep -q '^kpiflow dashboard:' bench/out/serve.log && break
  sleep 0.1
done
base="http://127.0.0.1:$port"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# wrk prints latencies as 1.23ms / 456.00us / 1.02s: in milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v}'; }

echo "target,scale,connections,cold_ms,requests_per_s,p50_ms,p99_ms,errors" > bench/out/serve.csv
bench() {
  local name="$1" path="$2"
  local cold
  cold=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$base$path")
  [ "${cold%% *}" = "200" ] || { echo "$name: HTTP ${cold%% *} for $path" >&2; exit 1; }
  cold=$(python3 -c "print(round(${cold#* } * 1000))")
  local rps=() p50=() p99=() errors=0
  for r in $(seq 1 "$runs"); do
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$base$path" > bench/out/wrk.txt
    rps+=("$(awk '/^Requests\/sec:/ {print $2}' bench/out/wrk.txt)")
    p50+=("$(awk '$1 == "50%" {print $2}' bench/out/wrk.txt | to_ms)")
    p99+=("$(awk '$1 == "99%" {print $2}' bench/out/wrk.txt | to_ms)")
    local e
    e=$(awk '/Non-2xx or 3xx responses:/ {print $NF} /Socket errors:/ {gsub(",", ""); print $4+$6+$8+$10}' bench/out/wrk.txt | paste -sd+ | bc 2>/dev/null || echo 0)
    errors=$((errors + ${e:-0}))
  done
  local m_rps m_p50 m_p99
  m_rps=$(printf '%s\n' "${rps[@]}" | median)
  m_p50=$(printf '%s\n' "${p50[@]}" | median)
  m_p99=$(printf '%s\n' "${p99[@]}" | median)
  echo "$name,$scale,$connections,$cold,$m_rps,$m_p50,$m_p99,$errors" >> bench/out/serve.csv
  printf '%-20s cold %6s ms  %9s req/s  p50 %7s ms  p99 %7s ms  (runs p99: %s)  errors %s\n' \
    "$name" "$cold" "$m_rps" "$m_p50" "$m_p99" "${p99[*]}" "$errors"
}
bench overview_page "/"
bench channels_page "/channels"
bench api_report "/api/report?kpi=leads,mqls,cpl,cac,won_revenue&by=channel"
stop
trap - EXIT
echo "server peak RSS: $(( $(tail -1 bench/out/serve.rss) / 1024 )) MiB"
