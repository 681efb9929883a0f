#!/usr/bin/env bash
# kpiflow's attribution beside the ChannelAttribution package (PyPI) on its own example paths
# (shared/datasets/channelattribution/Data.csv): heuristic models must agree exactly; Markov
# order 1 and 3 per channel (theirs simulated, ours exact) with median times; then the order-1
# simulation at growing sizes against our exact solution.
#
#   bench/attribution_peer.sh [--runs R] [--orders 1,3] [--convergence 1e5:0.05,1e6:0.005]
#
# ChannelAttribution is GPL-3: it is installed into bench/out/venv-channelattribution (ignored
# by git) and run as an outside oracle only; nothing of it is vendored or shipped.
# Results: bench/out/attribution_peer.csv, bench/out/attribution_peer_times.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
orders=1,3
convergence=1e5:0.05,1e6:0.005
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --orders) orders="$2"; shift 2 ;;
    --convergence) convergence="$2"; shift 2 ;;
    *) echo "usage: bench/attribution_peer.sh [--runs R] [--orders 1,3] [--convergence LIST]" >&2; exit 1 ;;
  esac
done
. bench/lib.sh
build
venv=bench/out/venv-channelattribution
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import ChannelAttribution" >/dev/null 2>&1; then
  echo "installing ChannelAttribution (and its import-time needs) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip setuptools wheel Cython
  "$venv/bin/pip" install -q ChannelAttribution matplotlib pandas numpy
fi
data=../shared/datasets/channelattribution/Data.csv
"$venv/bin/python" bench/attribution_peer.py --paths "$data" --bin "$bin" --orders "$orders" \
  --runs "$runs" --convergence "$convergence" 2>&1 | grep -v '^\*\*\*\|^Version:'
