"""Benchmark the simulated company's generator.

Targets (2 cores): the whole company for 1M customers in <= 60 s and <= 8 GiB, and at
least 100x the customers per second of lifetimes' ``beta_geometric_nbd_model`` generator,
measured side by side (fastest of three runs each). Each measurement runs in its own
process.

    python benchmarks/bench_synth.py [--customers 1000000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, run_measured, write_results  # noqa: E402

CHILD_CRMLAB = """
import json, resource, time
import crmlab as crm
t0 = time.perf_counter()
data = crm.synth.generate(n_customers={n}, seed=0)
wall = time.perf_counter() - t0
rows = {{k: len(v) for k, v in data.tables.items()}}
print(json.dumps({{"wall_s": round(wall, 2), "rows": rows,
                  "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}}))
"""

CHILD_SUMMARY = """
import json, resource, time
import crmlab as crm
walls = []
for seed in range(3):  # fastest of three, as for lifetimes below
    t0 = time.perf_counter()
    s = crm.synth.bgnbd_summary({n}, r=0.8, alpha=6.0, a=0.6, b=3.0, T=104, seed=seed)
    walls.append(time.perf_counter() - t0)
wall = min(walls)
print(json.dumps({{"wall_s": round(wall, 3),
                  "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}}))
"""

CHILD_LIFETIMES = """
import json, resource, time
from lifetimes.generate_data import beta_geometric_nbd_model
walls = []
for _ in range(3):
    t0 = time.perf_counter()
    df = beta_geometric_nbd_model(T=104, r=0.8, alpha=6.0, a=0.6, b=3.0, size={n})
    walls.append(time.perf_counter() - t0)
wall = min(walls)
print(json.dumps({{"wall_s": round(wall, 2),
                  "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-customers", type=int, default=20_000)
    args = parser.parse_args()

    ours = run_measured(CHILD_CRMLAB.format(n=args.customers))
    summary = run_measured(CHILD_SUMMARY.format(n=args.customers))
    theirs = run_measured(CHILD_LIFETIMES.format(n=args.lifetimes_customers))
    ours_rate = args.customers / ours["wall_s"]
    summary_rate = args.customers / summary["wall_s"]
    theirs_rate = args.lifetimes_customers / theirs["wall_s"]
    speedup = summary_rate / theirs_rate
    payload = {
        "machine": machine_info(),
        "crmlab_generate": {"customers": args.customers, **ours, "customers_per_s": round(ours_rate)},
        "crmlab_bgnbd_summary": {"customers": args.customers, **summary, "customers_per_s": round(summary_rate)},
        "lifetimes_beta_geometric_nbd_model": {
            "customers": args.lifetimes_customers, **theirs, "customers_per_s": round(theirs_rate)},
        "speedup_customers_per_s": round(speedup, 1),
        "speedup_whole_company_vs_lifetimes_summary": round(ours_rate / theirs_rate, 1),
        "targets": {"wall_s<=60": ours["wall_s"] <= 60, "peak_rss_gib<=8": ours["peak_rss_gib"] <= 8,
                    "speedup>=100": speedup >= 100},
    }
    rows = ours["rows"]
    table = "\n".join([
        "| what | customers | wall (s) | peak RSS (GiB) | customers / s |",
        "|---|---:|---:|---:|---:|",
        f"| crmlab.synth.generate (whole company: {rows['transactions']:,} transactions, "
        f"{rows['order_lines']:,} order lines, {rows['touchpoints']:,} touchpoints) | {args.customers:,} | "
        f"{ours['wall_s']} | {ours['peak_rss_gib']} | {ours_rate:,.0f} |",
        f"| crmlab.synth.bgnbd_summary (same output as lifetimes: frequency, recency, T) | {args.customers:,} | "
        f"{summary['wall_s']} | {summary['peak_rss_gib']} | {summary_rate:,.0f} |",
        f"| lifetimes beta_geometric_nbd_model (summary only) | {args.lifetimes_customers:,} | {theirs['wall_s']} | "
        f"{theirs['peak_rss_gib']} | {theirs_rate:,.0f} |",
        "",
        f"Like for like (BG/NBD summaries), crmlab simulates **{speedup:,.0f}x** the customers per second "
        f"of lifetimes (target >= 100x); the whole company, with every table, still runs "
        f"{ours_rate / theirs_rate:,.1f}x faster than lifetimes' summary-only generator. "
        f"Targets met: {payload['targets']}.",
    ])
    path = write_results("bench_synth", payload, table)
    print(path.read_text())


if __name__ == "__main__":
    main()
