#!/usr/bin/env bash
# The benchmark of DESIGN §10 in one command: kpiflow beside DuckDB on the same data.
#
#   bench/run.sh [--scale N] [--runs R] [--cluster]
#
# Builds the release binary (as CI builds it), installs DuckDB from PyPI into bench/out/venv when
# the machine's Python lacks it, then runs bench/run.py: generate the demo company at scale N
# (default 100: ~10 M sessions, ~1 M contacts, ~100 k deals; kept in bench/out/scale-N), time the
# import, export the store to Parquet, and time the overview (every non-vanity KPI × month ×
# channel over 24 months, cold and warm), a split report, the funnel and order-1 Markov
# attribution, with peak RSS; DuckDB computes the same overview with hand-written SQL over the
# Parquet files (bench/overview_peer.py) and every cell is compared. R runs per step (default 3),
# medians. Prints the table and writes bench/out/run-N.csv and bench/out/run-N.json. Exits 1 when
# the two disagree on any cell. --cluster also times the overview and the split on a local
# cluster (`kpiflow cluster`: a scheduler and two 1-core executors on 127.0.0.1) beside the
# embedded runs, and checks they give the same cells.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=100
runs=3
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --cluster) extra+=(--cluster); shift ;;
    *) echo "usage: bench/run.sh [--scale N] [--runs R] [--cluster]" >&2; exit 1 ;;
  esac
done
. bench/lib.sh
build
python=python3
if ! "$python" -c "import duckdb" >/dev/null 2>&1; then
  venv=bench/out/venv
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb" >/dev/null 2>&1; then
    echo "installing duckdb (PyPI) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q duckdb
  fi
  python="$venv/bin/python"
fi
exec "$python" bench/run.py --bin "$bin" --scale "$scale" --runs "$runs" "${extra[@]}"
