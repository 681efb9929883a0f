#!/usr/bin/env python3
"""The benchmark of DESIGN §10 in one run: kpiflow beside DuckDB on the same data.

Called by bench/run.sh after the release build. For one scale it generates the demo company (once,
kept in bench/out/scale-N), times the import, exports the store to Parquet, then times the
overview report (every non-vanity KPI × month × channel over the 24 months), a split report, the
funnel and order-1 Markov attribution: cold (a fresh process each run) and warm (repeated in one
process). DuckDB computes the same overview with hand-written SQL over the exported Parquet
(bench/overview_peer.py) in the same run, and its figures are checked cell by cell against
kpiflow's. Each step runs R times; medians are reported with peak RSS (GNU time's %M, of the process tree's largest process).

Writes bench/out/run-N.csv and bench/out/run-N.json and prints the table.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

TABLES = ["fx_rates", "ad_spend", "sessions", "events", "contacts", "stage_changes", "deals",
          "revenue", "email_campaigns", "social_posts", "seo_keywords", "backlinks", "costs"]
FROM, TO = "2024-01-01", "2025-12-31"


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs `cmd`; returns (seconds, peak RSS in MiB, stderr text).

    Peak RSS is GNU time's: a child forked straight from this process would report this
    process's own resident pages from before its exec (DuckDB's tables, for one) as its peak."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], stdout=stdout,
                           stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
        kib = int(rss.read().split()[-1])
    return elapsed, kib / 1024, p.stderr


def same_csv(a, b):
    """Whether two report CSVs hold the same cells (numbers to a relative 1e-9); and how many."""
    with open(a) as fa, open(b) as fb:
        ra, rb = list(csv.reader(fa)), list(csv.reader(fb))
    if len(ra) != len(rb):
        return False, 0
    cells = 0
    for x, y in zip(ra, rb):
        if len(x) != len(y):
            return False, cells
        for u, v in zip(x, y):
            cells += 1
            if u == v:
                continue
            try:
                fu, fv = float(u), float(v)
            except ValueError:
                return False, cells
            if abs(fu - fv) > 1e-9 * max(abs(fu), abs(fv), 1.0):
                return False, cells
    return True, cells


def median(xs):
    return statistics.median(xs) if xs else None


class Bench:
    def __init__(self, binary, scale, runs):
        self.bin, self.scale, self.runs = binary, scale, runs
        self.out = "bench/out"
        self.data = f"{self.out}/scale-{scale}"
        self.project = f"{self.out}/project-{scale}"
        self.parquet = f"{self.out}/parquet-{scale}"
        self.rows = []

    def kp(self, *args):
        return [self.bin, "--quiet", "--project", self.project, *args]

    def add(self, step, ours=None, peer=None, unit="ms", match="", rss=None, note=""):
        ratio = round(ours / peer, 2) if ours and peer else None
        self.rows.append({"step": step, "scale": self.scale, "unit": unit,
                          "kpiflow_median": None if ours is None else round(ours, 1),
                          "duckdb_median": None if peer is None else round(peer, 1),
                          "ratio": ratio, "match": match,
                          "kpiflow_peak_rss_mib": None if rss is None else round(rss),
                          "note": note})
        print(f"  {step}: kpiflow {ours} {unit}, duckdb {peer}, ratio {ratio}, {match} {note}", flush=True)

    def generate(self):
        if os.path.exists(f"{self.data}/.complete"):
            return
        shutil.rmtree(self.data, ignore_errors=True)
        secs, rss, _ = run([self.bin, "--quiet", "generate", "--out", self.data, "--scale",
                            str(self.scale), "--seed", "7", "--end-month", "2025-12"])
        open(f"{self.data}/.complete", "w").close()
        self.add("generate", secs, unit="s", rss=rss)

    def count_rows(self, path):
        with open(path, "rb") as fh:
            return sum(1 for _ in fh) - 1

    def bench_import(self):
        csv_path = f"{self.data}/sessions.csv"
        rows = self.count_rows(csv_path)
        ours, rss = [], []
        for _ in range(self.runs):
            with tempfile.TemporaryDirectory(dir=self.out) as proj:
                run([self.bin, "--quiet", "init", proj])
                secs, peak, _ = run([self.bin, "--quiet", "--project", proj, "import", "sessions",
                                     csv_path])
                ours.append(secs)
                rss.append(peak)
        peer = []
        # In a child process, so that this one stays small (see `run`).
        load = ("import duckdb, sys, time; con = duckdb.connect(); "
                "con.execute('SET enable_progress_bar = false'); t0 = time.perf_counter(); "
                "con.execute(\"CREATE TABLE sessions AS SELECT * FROM read_csv('\" + sys.argv[1] "
                "+ \"')\"); print(time.perf_counter() - t0)")
        for _ in range(self.runs):
            out = subprocess.run([sys.executable, "-c", load, csv_path], check=True,
                                 capture_output=True, text=True).stdout
            peer.append(float(out.strip().splitlines()[-1]))
        o, p = median(ours), median(peer)
        self.add("import sessions.csv (s)", o, p, unit="s", rss=max(rss),
                 note=f"{rows:,} rows: kpiflow {rows / o:,.0f} rows/s (parse, validate, upsert "
                      f"into Delta), DuckDB {rows / p:,.0f} rows/s (read_csv into a table)")

    def ensure_project(self):
        if os.path.exists(f"{self.project}/.complete"):
            return
        shutil.rmtree(self.project, ignore_errors=True)
        run([self.bin, "--quiet", "init", self.project])
        t0 = time.perf_counter()
        for t in TABLES:
            run(self.kp("import", t, f"{self.data}/{t}.csv"))
        open(f"{self.project}/.complete", "w").close()
        self.add("import every table (s)", time.perf_counter() - t0, unit="s")

    def export(self):
        shutil.rmtree(self.parquet, ignore_errors=True)
        secs, rss, _ = run(self.kp("export", "--out", self.parquet))
        self.add("export to Parquet (s)", secs, unit="s", rss=rss)

    def report(self, step, args, peer=None):
        cold, rss = [], []
        csv_out = f"{self.out}/run-{self.scale}-{step}.csv"
        for _ in range(self.runs):
            with open(csv_out, "w") as fh:
                secs, peak, _ = run(self.kp("report", *args, "--format", "csv"), stdout=fh)
            cold.append(secs * 1000)
            rss.append(peak)

        def warm(extra):
            _, peak, err = run(self.kp("report", *args, "--format", "csv", "--repeat",
                                       str(self.runs + 1), *extra))
            times = [float(l.split(":")[1].split()[0]) for l in err.splitlines()
                     if l.startswith("warm run")]
            return median(times), peak

        warm_cached, rss_w = warm([])
        warm_recompute, rss_r = warm(["--no-result-cache"])
        peak = max(rss)
        if peer is None:
            self.add(f"{step} cold", median(cold), rss=peak)
            self.add(f"{step} warm, result cache", warm_cached, rss=rss_w)
            self.add(f"{step} warm, recomputed", warm_recompute, rss=rss_r)
            return
        peer_cold, peer_warm, summary = [], [], None
        for i in range(self.runs):
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "bench/overview_peer.py", "--export", self.parquet, "--from", FROM,
                 "--to", TO, "--runs", str(self.runs if i == 0 else 1)]
                + (["--kpiflow-csv", csv_out] if i == 0 else []),
                check=True, capture_output=True, text=True).stdout
            elapsed = (time.perf_counter() - t0) * 1000
            s = json.loads(out)
            if i == 0:
                summary = s
                peer_warm = s["warm_ms"]
            peer_cold.append(elapsed)
        ok = summary["mismatches"] == 0
        match = (f"yes: {summary['checked']:,} cells equal" if ok else
                 f"NO: {summary['mismatches']} of {summary['checked']:,} cells differ")
        if not ok:
            with open(f"{self.out}/run-{self.scale}-mismatches.json", "w") as fh:
                json.dump(summary["first_mismatches"], fh, indent=1)
        self.add(f"{step} cold", median(cold), median(peer_cold), match=match, rss=peak,
                 note="fresh process each run (DuckDB: Python, connect, query)")
        self.add(f"{step} warm, result cache", warm_cached, median(peer_warm), match=match,
                 rss=rss_w, note="kpiflow answers a repeated request from its per-snapshot cache")
        self.add(f"{step} warm, recomputed", warm_recompute, median(peer_warm), match=match,
                 rss=rss_r, note="both scan and aggregate again")
        self.peer_summary = summary

    def cluster(self, steps):
        """Starts a scheduler and two 1-core executors on 127.0.0.1 (`kpiflow cluster ...`), runs
        each (step, args) report with `--engine df://...` cold and recomputed warm, checks its CSV
        equals the embedded run's, and stops the processes."""
        import signal
        import socket
        import urllib.request

        held = [socket.socket() for _ in range(5)]
        for h in held:
            h.bind(("127.0.0.1", 0))
        port, *executor_ports = [h.getsockname()[1] for h in held]
        for h in held:
            h.close()
        logs = open(f"{self.out}/cluster-{self.scale}.log", "w")
        procs = []
        try:
            procs.append(subprocess.Popen(
                [self.bin, "cluster", "scheduler", "--bind", f"127.0.0.1:{port}"],
                stdout=logs, stderr=logs))
            for n in range(2):
                procs.append(subprocess.Popen(
                    [self.bin, "cluster", "executor", "--scheduler", f"127.0.0.1:{port}",
                     "--bind", f"127.0.0.1:{executor_ports[2 * n]}",
                     "--grpc-port", str(executor_ports[2 * n + 1]), "--vcores", "1",
                     "--work-dir", f"{self.out}/cluster-work-{n}"], stdout=logs, stderr=logs))
            deadline = time.time() + 60
            while True:
                try:
                    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz").read().decode()
                    if body.startswith("ready: 2"):
                        break
                except OSError:
                    pass
                if time.time() > deadline:
                    sys.exit(f"the cluster did not start: see {self.out}/cluster-{self.scale}.log")
                time.sleep(0.2)
            engine = ["--engine", f"df://127.0.0.1:{port}"]
            for step, args in steps:
                embedded = f"{self.out}/run-{self.scale}-{step}.csv"
                on_cluster = f"{self.out}/run-{self.scale}-{step}-cluster.csv"
                cold, rss = [], []
                for _ in range(self.runs):
                    with open(on_cluster, "w") as fh:
                        secs, peak, _ = run(self.kp("report", *args, "--format", "csv", *engine),
                                            stdout=fh)
                    cold.append(secs * 1000)
                    rss.append(peak)
                _, _, err = run(self.kp("report", *args, "--format", "csv", "--repeat",
                                        str(self.runs + 1), "--no-result-cache", *engine))
                warm = median([float(l.split(":")[1].split()[0]) for l in err.splitlines()
                               if l.startswith("warm run")])
                same, cells = same_csv(embedded, on_cluster)
                match = f"yes: {cells:,} cells equal" if same else "NO: differs from embedded"
                base = {r["step"]: r["kpiflow_median"] for r in self.rows}
                for label, ours, ref in [("cold", median(cold), f"{step} cold"),
                                         ("warm, recomputed", warm, f"{step} warm, recomputed")]:
                    ratio = ours / base[ref] if base.get(ref) else None
                    self.add(f"{step} {label}, cluster", ours, match=match,
                             rss=max(rss) if label == "cold" else None,
                             note=f"2 executors × 1 core on this machine (RSS: the client only); {ratio:.2f}× the embedded "
                                  f"{base[ref]:,.0f} ms" if ratio else "")
                if not same:
                    self.cluster_mismatch = True
        finally:
            for p in procs:
                p.send_signal(signal.SIGINT)
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
            logs.close()

    def cold_only(self, step, args):
        times, rss = [], []
        for _ in range(self.runs):
            secs, peak, _ = run(self.kp(*args, "--format", "csv"))
            times.append(secs * 1000)
            rss.append(peak)
        self.add(f"{step} cold", median(times), rss=max(rss))

    def write(self):
        with open(f"{self.out}/run-{self.scale}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(self.rows[0]))
            w.writeheader()
            w.writerows(self.rows)
        with open(f"{self.out}/run-{self.scale}.json", "w") as fh:
            json.dump({"scale": self.scale, "runs": self.runs, "cpus": os.cpu_count(),
                       "duckdb": duckdb.__version__, "steps": self.rows}, fh, indent=1)

    def print_table(self):
        head = ["step", "kpiflow median", "DuckDB median", "ratio", "match", "peak RSS MiB"]
        lines = [head]
        for r in self.rows:
            unit = r["unit"]
            fmt = lambda v: "" if v is None else f"{v:,.1f} {unit}"
            lines.append([r["step"], fmt(r["kpiflow_median"]), fmt(r["duckdb_median"]),
                          "" if r["ratio"] is None else f"{r['ratio']}×", r["match"],
                          "" if r["kpiflow_peak_rss_mib"] is None else f"{r['kpiflow_peak_rss_mib']:,}"])
        widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
        print(f"\nscale {self.scale}, {self.runs} runs per step, medians "
              f"(ratio = kpiflow / DuckDB; below 1 means kpiflow is faster)")
        for i, l in enumerate(lines):
            print("| " + " | ".join(str(c).ljust(w) for c, w in zip(l, widths)) + " |")
            if i == 0:
                print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in self.rows:
            if r["note"]:
                print(f"- {r['step']}: {r['note']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cluster", action="store_true",
                    help="also run the overview and the split on a local cluster")
    args = ap.parse_args()
    b = Bench(args.bin, args.scale, args.runs)
    os.makedirs(b.out, exist_ok=True)
    print(f"scale {args.scale}: generate, import, export", flush=True)
    b.generate()
    b.bench_import()
    b.ensure_project()
    b.export()
    period = ["--from", FROM, "--to", TO]
    print("overview by channel", flush=True)
    overview = [*period, "--grain", "month", "--by", "channel"]
    b.report("overview", overview, peer=True)
    print("split report", flush=True)
    split = [*period, "--grain", "quarter", "--by", "region,segment",
             "--kpi", "leads,mqls,sqls,customers,lead_to_customer_rate,won_revenue,pipeline_created,win_rate"]
    b.report("split by region and segment", split)
    if args.cluster:
        print("overview and split on a cluster (scheduler + 2 executors on 127.0.0.1)", flush=True)
        b.cluster([("overview", overview), ("split by region and segment", split)])
    print("funnel, attribution", flush=True)
    b.cold_only("funnel", ["funnel", *period])
    b.cold_only("attribution, Markov order 1", ["attribution", "--model", "markov", *period])
    b.write()
    b.print_table()
    if getattr(b, "cluster_mismatch", False):
        print("\nthe cluster's figures differ from the embedded engine's", file=sys.stderr)
        return 1
    mismatched = getattr(b, "peer_summary", {}).get("mismatches", 0)
    if mismatched:
        print(f"\nkpiflow and DuckDB disagree on {mismatched} cells: see "
              f"bench/out/run-{args.scale}-mismatches.json", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
