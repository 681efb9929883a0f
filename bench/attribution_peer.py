#!/usr/bin/env python3
"""kpiflow's attribution beside the ChannelAttribution package's, on the same paths file.

ChannelAttribution (PyPI, GPL-3) is run here as an outside oracle only: it is installed into a
virtual environment under bench/out by attribution_peer.sh, never vendored or shipped.

For each Markov order asked, both tools attribute the file; the script prints, per channel, the
two credited conversions (and values) with their difference, the median wall time of each, and
writes bench/out/attribution_peer.csv and bench/out/attribution_peer_times.csv. The heuristic
models (first, last, linear) are compared too: those must agree exactly (to rounding).

ChannelAttribution's Markov model estimates the removal effects by simulating journeys on the
chain; kpiflow solves the absorbing chain exactly. Differences in the Markov rows are therefore
the simulation's error (plus any difference in how the chain is built), not a tolerance.
"""

import argparse
import csv
import io
import statistics
import subprocess
import sys
import time


def ours(binary, paths, model):
    """kpiflow's CSV for one model spec: {channel: (conversions, value)} and the wall time."""
    started = time.perf_counter()
    out = subprocess.run(
        [binary, "--quiet", "attribution", "--paths", paths, "--model", model, "--format", "csv"],
        check=True, capture_output=True, text=True,
    ).stdout
    elapsed = time.perf_counter() - started
    rows = {}
    for r in csv.DictReader(io.StringIO(out)):
        rows.setdefault(r["model"], {})[r["channel"]] = (float(r["conversions"]), float(r["value"] or 0))
    return rows, elapsed


def theirs_markov(data, order):
    import ChannelAttribution as ca
    started = time.perf_counter()
    res = ca.markov_model(data, var_path="path", var_conv="total_conversions",
                          var_value="total_conversion_value", var_null="total_null",
                          order=order, sep=">", verbose=False, flg_pro=False)
    elapsed = time.perf_counter() - started
    if isinstance(res, dict):
        res = res["result"]
    return {r["channel_name"]: (float(r["total_conversions"]), float(r.get("total_conversion_value", 0.0)))
            for _, r in res.iterrows()}, elapsed


def theirs_heuristics(data):
    import ChannelAttribution as ca
    res = ca.heuristic_models(data, var_path="path", var_conv="total_conversions",
                              var_value="total_conversion_value", sep=">", flg_pro=False)
    out = {}
    for name, prefix in [("first", "first_touch"), ("last", "last_touch"), ("linear", "linear_touch")]:
        out[name] = {r["channel_name"]: (float(r[f"{prefix}_conversions"]), float(r[f"{prefix}_value"]))
                     for _, r in res.iterrows()}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", required=True)
    ap.add_argument("--bin", help="the kpiflow binary (omit with --peer-only)")
    ap.add_argument("--orders", default="1,3")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peer-only", action="store_true", help="run ChannelAttribution alone")
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--convergence", default="1e5:0.05,1e6:0.005",
                    help="order-1 simulation sizes nsim_start:conv_par to run against kpiflow's exact solution "
                         "(empty to skip; 1e7:0.0005 takes minutes)")
    args = ap.parse_args()

    import pandas as pd
    data = pd.read_csv(args.paths, sep=None, engine="python")
    orders = [int(o) for o in args.orders.split(",")]
    rows, times = [], []

    if not args.peer_only:
        heur = theirs_heuristics(data)
        mine, _ = ours(args.bin, args.paths, "first,last,linear")
        worst = 0.0
        for model in ("first", "last", "linear"):
            for ch, (conv, value) in heur[model].items():
                c, v = mine[model].get(ch, (0.0, 0.0))
                worst = max(worst, abs(c - conv), abs(v - value))
        print(f"heuristic models (first, last, linear): largest difference {worst:.2e}")

    for order in orders:
        spec = f"markov:{order}"
        their_times, our_times = [], []
        theirs = mine = None
        for _ in range(args.runs):
            theirs, t = theirs_markov(data, order)
            their_times.append(t)
            if not args.peer_only:
                got, t = ours(args.bin, args.paths, spec)
                mine = got[spec]
                our_times.append(t)
        t_theirs = statistics.median(their_times)
        t_ours = statistics.median(our_times) if our_times else float("nan")
        times.append((order, t_ours, t_theirs))
        total = sum(c for c, _ in theirs.values())
        print(f"\nMarkov order {order}: ChannelAttribution {t_theirs * 1000:.0f} ms (median of {args.runs}), "
              f"kpiflow {t_ours * 1000:.0f} ms (whole process)")
        print(f"{'channel':<10} {'theirs':>10} {'ours':>10} {'diff':>9} {'diff %':>7} {'theirs val':>11} {'ours val':>11}")
        for ch in sorted(theirs, key=lambda c: -theirs[c][0]):
            tc, tv = theirs[ch]
            oc, ov = (mine or {}).get(ch, (float("nan"), float("nan")))
            diff = oc - tc
            rel = diff / tc * 100 if tc else float("nan")
            print(f"{ch:<10} {tc:>10.1f} {oc:>10.1f} {diff:>9.1f} {rel:>6.2f}% {tv:>11.1f} {ov:>11.1f}")
            rows.append((order, ch, tc, oc, diff, tv, ov, ov - tv))
        if mine:
            share_gap = max(abs(mine[c][0] - theirs[c][0]) / total for c in theirs)
            print(f"largest difference: {share_gap * 100:.2f} % of all conversions")

    if args.convergence and not args.peer_only:
        import ChannelAttribution as ca
        exact, _ = ours(args.bin, args.paths, "markov")
        exact = exact["markov"]
        total = sum(c for c, _ in exact.values())
        print("\nChannelAttribution's order-1 simulation against kpiflow's exact solution:")
        for level in args.convergence.split(","):
            nsim, conv = (float(x) for x in level.split(":"))
            started = time.perf_counter()
            res = ca.markov_model(data, var_path="path", var_conv="total_conversions", var_null="total_null",
                                  order=1, sep=">", nsim_start=nsim, conv_par=conv, verbose=False, flg_pro=False)
            elapsed = time.perf_counter() - started
            gap = max(abs(exact[c][0] - float(v)) for c, v in zip(res["channel_name"], res["total_conversions"]))
            print(f"  nsim_start={nsim:.0e} conv_par={conv}: {elapsed:.2f} s, largest gap {gap / total * 100:.3f} % of conversions")

    with open(f"{args.out}/attribution_peer.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order", "channel", "theirs_conversions", "ours_conversions", "diff",
                    "theirs_value", "ours_value", "value_diff"])
        w.writerows(rows)
    with open(f"{args.out}/attribution_peer_times.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order", "kpiflow_median_s", "channelattribution_median_s"])
        w.writerows(times)


if __name__ == "__main__":
    sys.exit(main())
