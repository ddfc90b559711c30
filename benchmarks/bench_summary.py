"""Benchmark the per-customer summary (frequency, recency, T, monetary value) on large logs.

Side by side, each measurement in its own fresh Python process (peak RSS of that process):

- 10M rows / 1M customers, from a pandas DataFrame: ``lifetimes.utils.summary_data_from_
  transaction_data``, crmlab's pandas reference, crmlab on DuckDB and hand-written DuckDB
  SQL; the same from the parquet files (no pandas frame at all);
- Spark ``local[2]`` on the 10M log (session start-up timed separately);
- 100M rows / 10M customers from parquet with crmlab on DuckDB under a memory limit,
  spilling to disk if it must, summary written to a parquet file.

Targets on 10M rows: crmlab on DuckDB >= 8x faster than lifetimes, within 1.3x of the
hand-written SQL, peak memory <= 0.5x lifetimes'. Every result is compared with
lifetimes' table (counts and times exactly, means to 1e-9).

    python benchmarks/bench_summary.py [--rows 10_000_000] [--big-rows 100_000_000] [--skip-big]

The logs are generated with numpy (a BTYD-like process: gamma-distributed purchase rates,
first purchases spread over two years, gamma spend), written as parquet parts to
``--data-dir`` (default: the system temporary directory) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, run_measured, write_results  # noqa: E402

OBSERVATION_END = "2024-12-31"
START, DAYS = np.datetime64("2023-01-01T00:00:00", "us"), 731

HAND_SQL = """
WITH daily AS (
    SELECT customer_id, CAST(date AS DATE) AS day, SUM(amount) AS amount
    FROM {source} GROUP BY ALL
)
SELECT customer_id,
       CAST(COUNT(*) - 1 AS DOUBLE) AS frequency,
       CAST(date_diff('day', MIN(day), MAX(day)) AS DOUBLE) AS recency,
       CAST(date_diff('day', MIN(day), DATE '{end}') AS DOUBLE) AS T,
       CASE WHEN COUNT(*) > 1 THEN (SUM(amount) - arg_min(amount, day)) / (COUNT(*) - 1) ELSE 0 END
           AS monetary_value
FROM daily GROUP BY ALL ORDER BY customer_id
"""


# ----------------------------------------------------------------------------- data
def generate_log(n_rows: int, n_customers: int, seed: int = 0, first_id: int = 1) -> pd.DataFrame:
    """A transaction log of about ``n_rows`` purchases by ``n_customers`` customers, in time order."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.0, n_customers)                     # heterogeneous purchase rates
    counts = 1 + rng.multinomial(n_rows - n_customers, rate / rate.sum())
    first = rng.uniform(0, DAYS, n_customers)                   # staggered first purchases
    t0 = np.repeat(first, counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    offset = rng.uniform(0, 1, n_rows) * (DAYS - t0)
    offset[starts] = 0.0                                         # each customer's first purchase
    when = START + ((t0 + offset) * 86_400e6).astype("int64").astype("timedelta64[us]")
    mean_spend = np.repeat(rng.gamma(6.0, 8.0, n_customers), counts)
    log = pd.DataFrame({
        "customer_id": np.repeat(np.arange(first_id, first_id + n_customers, dtype="int64"), counts),
        "date": when,
        "amount": np.round(rng.gamma(4.0, mean_spend / 4.0), 2),
    })
    return log.sort_values("date", ignore_index=True, kind="stable")


def ensure_log(root: Path, n_rows: int, n_customers: int, parts: int) -> str:
    """Write the log as ``parts`` parquet files (customers split between them); return the glob."""
    folder = root / f"log_{n_rows}_{n_customers}"
    done = folder / "_complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        per_part = n_customers // parts
        for i in range(parts):
            log = generate_log(n_rows // parts, per_part, seed=i, first_id=1 + i * per_part)
            log.to_parquet(folder / f"part-{i:03d}.parquet", index=False, row_group_size=1_000_000)
            del log
        done.write_text("ok\n")
    return str(folder / "*.parquet")


# ----------------------------------------------------------------------------- child side
def _peak_gib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)


class _TreeMemory:
    """Peak RSS of this process plus its children (Spark's JVM), sampled every 0.2 s."""

    def __init__(self):
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except Exception:  # a child exited while sampling
                rss = 0
            self.peak = max(self.peak, rss)
            time.sleep(0.2)

    def stop(self) -> float:
        self._stop.set()
        self.thread.join()
        return round(self.peak / 2**30, 3)


def child(case: str, source: str, out: str, memory_limit: str | None = None, repeat: int = 1) -> None:
    """Run one case ``repeat`` times; print a JSON line with the fastest time and the process's peak RSS."""
    runs = [_child_once(case, source, out, memory_limit) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall_s"])
    best["wall_all_s"] = [r["wall_s"] for r in runs]
    best["cpu_s"] = min(r["cpu_s"] for r in runs)
    best["peak_rss_gib"] = _peak_gib()
    print(json.dumps(best))


_FRAME = {}


def _child_once(case: str, source: str, out: str, memory_limit: str | None) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    result: dict = {}
    frame = None
    if case in ("lifetimes", "pandas", "duckdb_frame", "sql_frame", "load_only"):
        if "log" not in _FRAME:                                      # untimed: the data in memory
            _FRAME["log"] = pd.read_parquet(source.replace("*.parquet", ""))
        frame = _FRAME["log"]
        result["rows"] = len(frame)
    import duckdb
    import ibis

    import crmlab as crm  # noqa: F401  imports are not timed
    import crmlab.engines  # noqa: F401
    import crmlab.engines.backend  # noqa: F401
    import crmlab.features  # noqa: F401

    ibis.duckdb  # noqa: B018  import Ibis' DuckDB backend module now, not in the timed call

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    if case == "load_only":
        table = None
    elif case == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data

        table = summary_data_from_transaction_data(frame, "customer_id", "date", monetary_value_col="amount",
                                                   observation_period_end=OBSERVATION_END, freq="D")
    elif case == "pandas":
        table = crm.features.customer_summary(frame, amount_col="amount", observation_end=OBSERVATION_END,
                                              engine="pandas")
    elif case in ("duckdb_frame", "duckdb_parquet"):
        data = frame if case == "duckdb_frame" else source
        table = crm.features.customer_summary(data, amount_col="amount", observation_end=OBSERVATION_END,
                                              engine="duckdb")
    elif case in ("sql_frame", "sql_parquet"):
        con = duckdb.connect()
        if case == "sql_frame":
            con.register("tx", frame)
            src = "tx"
        else:
            src = f"read_parquet('{source}')"
        table = con.sql(HAND_SQL.format(source=src, end=OBSERVATION_END)).df().set_index("customer_id")
    elif case == "duckdb_big":
        con = crm.engines.connect_duckdb(memory_limit=memory_limit)
        info = crm.engines.summarize(source, out, amount_col="amount", observation_end=OBSERVATION_END, engine=con)
        result.update(rows=info["rows"], customers=info["customers"])
        table = None
    elif case == "spark":
        memory = _TreeMemory()
        spark = crm.engines.spark_session("local[2]", spark__driver__memory="6g")
        result["startup_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        table = crm.features.customer_summary(spark.read.parquet(source), amount_col="amount",
                                              observation_end=OBSERVATION_END)
        result["peak_rss_with_jvm_gib"] = memory.stop()
    else:
        raise ValueError(case)
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = round(usage.ru_utime + usage.ru_stime - cpu0, 2)
    if table is not None:
        result["customers"] = len(table)
        table.attrs = {}   # parquet stores attrs as JSON, and a Timestamp in them does not serialise
        table.to_parquet(out)
    return result


# ----------------------------------------------------------------------------- parent side
def measure(case: str, source: str, out: Path, memory_limit: str | None = None, repeat: int = 1) -> dict:
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
            f"from bench_summary import child; child({case!r}, {source!r}, {str(out)!r}, {memory_limit!r}, {repeat})")
    print(f"  {case} ...", flush=True)
    result = run_measured(code, timeout=4 * 3600)
    print(f"    {result}", flush=True)
    return result


def compare(path: Path, reference: Path) -> dict:
    """Compare a summary with lifetimes': counts and times exactly, the monetary mean to 1e-9."""
    got, ref = pd.read_parquet(path), pd.read_parquet(reference).sort_index()
    if "customer_id" in got.columns:
        got = got.set_index("customer_id")
    got = got[ref.columns]
    same_index = got.index.equals(ref.index)
    exact = same_index and all(np.array_equal(got[c].to_numpy(float), ref[c].to_numpy(float))
                               for c in ("frequency", "recency", "T"))
    rel = None
    if same_index:
        money = np.abs(got["monetary_value"].to_numpy(float) - ref["monetary_value"].to_numpy(float))
        rel = money / np.maximum(1.0, np.abs(ref["monetary_value"].to_numpy(float)))
    return {"equal_to_lifetimes": bool(exact and rel.max() <= 1e-9),
            "max_monetary_rel_diff": float(rel.max()) if same_index else None}


LABELS = {
    "load_only": "read the log into pandas (no summary; memory baseline)",
    "lifetimes": "lifetimes summary_data_from_transaction_data (pandas frame)",
    "pandas": "crmlab pandas reference (pandas frame)",
    "duckdb_frame": "crmlab on DuckDB (pandas frame)",
    "sql_frame": "hand-written DuckDB SQL (pandas frame)",
    "duckdb_parquet": "crmlab on DuckDB (parquet files)",
    "sql_parquet": "hand-written DuckDB SQL (parquet files)",
    "spark": "crmlab on Spark local[2] (parquet files)",
    "duckdb_big": "crmlab on DuckDB, memory limit {limit} (parquet files -> parquet file)",
}


_RESULT_JSON = Path(__file__).resolve().parent / "results" / "bench_summary.json"


def render(path: Path = _RESULT_JSON) -> None:
    """Rewrite the targets and the markdown table from a saved JSON result (no measuring)."""
    results = json.loads(path.read_text())
    results["targets"] = _targets(results["cases"])
    write_results("bench_summary", results, _table(results))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: rows / 10")
    parser.add_argument("--big-rows", type=int, default=100_000_000)
    parser.add_argument("--big-memory-limit", default="4GB")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (the fastest counts)")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "crmlab-bench")
    args = parser.parse_args(argv)
    n_customers = args.customers or args.rows // 10
    args.data_dir.mkdir(parents=True, exist_ok=True)
    outputs = args.data_dir / "outputs"
    outputs.mkdir(exist_ok=True)

    print(f"generating {args.rows:,} rows / {n_customers:,} customers ...", flush=True)
    t0 = time.perf_counter()
    source = ensure_log(args.data_dir, args.rows, n_customers, parts=10)
    print(f"  ready in {time.perf_counter() - t0:.0f} s: {source}", flush=True)

    results: dict = {"machine": machine_info(), "rows": args.rows, "customers": n_customers, "repeat": args.repeat,
                     "observation_end": OBSERVATION_END, "cases": {},
                     "load_average_at_start": [round(x, 1) for x in os.getloadavg()]}
    cases = ["load_only", "lifetimes", "pandas", "duckdb_frame", "sql_frame", "duckdb_parquet", "sql_parquet"]
    if not args.skip_spark:
        cases.append("spark")
    for case in cases:
        out = outputs / f"{case}.parquet"
        try:
            results["cases"][case] = measure(case, source, out, repeat=1 if case == "spark" else args.repeat)
        except Exception as exc:  # record what broke instead of stopping the whole run
            results["cases"][case] = {"error": " ".join(str(exc).split())[-500:]}
            continue
        if case not in ("load_only", "lifetimes") and "lifetimes" in results["cases"] and \
                "error" not in results["cases"]["lifetimes"]:
            results["cases"][case].update(compare(out, outputs / "lifetimes.parquet"))

    if not args.skip_big:
        big_customers = args.big_rows // 10
        print(f"generating {args.big_rows:,} rows / {big_customers:,} customers ...", flush=True)
        t0 = time.perf_counter()
        big = ensure_log(args.data_dir, args.big_rows, big_customers, parts=20)
        print(f"  ready in {time.perf_counter() - t0:.0f} s", flush=True)
        try:
            big_result = measure("duckdb_big", big, outputs / "big.parquet", args.big_memory_limit)
        except Exception as exc:
            big_result = {"error": " ".join(str(exc).split())[-500:]}
        big_result.update(rows_requested=args.big_rows, memory_limit=args.big_memory_limit)
        results["big"] = big_result

    results["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    results["targets"] = _targets(results["cases"])
    write_results("bench_summary", results, _table(results))
    print((Path(__file__).resolve().parent / "results" / "bench_summary.md").read_text())


def _targets(cases: dict) -> dict:
    def wall(name):
        return cases.get(name, {}).get("wall_s")

    def peak(name):
        return cases.get(name, {}).get("peak_rss_gib")

    out = {}
    if wall("lifetimes") and wall("duckdb_frame"):
        out["duckdb_speedup_vs_lifetimes"] = round(wall("lifetimes") / wall("duckdb_frame"), 1)
        out["speedup>=8"] = out["duckdb_speedup_vs_lifetimes"] >= 8
    if wall("sql_frame") and wall("duckdb_frame"):
        out["duckdb_vs_hand_sql_frame"] = round(wall("duckdb_frame") / wall("sql_frame"), 2)
        out["within_1.3x_of_sql"] = out["duckdb_vs_hand_sql_frame"] <= 1.3
    if wall("sql_parquet") and wall("duckdb_parquet"):
        out["duckdb_vs_hand_sql_parquet"] = round(wall("duckdb_parquet") / wall("sql_parquet"), 2)
    if peak("lifetimes") and peak("duckdb_frame"):
        out["memory_ratio_vs_lifetimes"] = round(peak("duckdb_frame") / peak("lifetimes"), 2)
        out["memory<=0.5x_from_frame"] = out["memory_ratio_vs_lifetimes"] <= 0.5
    if peak("lifetimes") and peak("duckdb_frame") and peak("load_only"):
        # the memory each method adds on top of the log it was given in pandas
        added = (peak("duckdb_frame") - peak("load_only")) / (peak("lifetimes") - peak("load_only"))
        out["memory_added_ratio_vs_lifetimes"] = round(added, 2)
    if peak("lifetimes") and peak("duckdb_parquet"):
        out["memory_ratio_parquet_vs_lifetimes"] = round(peak("duckdb_parquet") / peak("lifetimes"), 2)
        out["memory<=0.5x_from_parquet"] = out["memory_ratio_parquet_vs_lifetimes"] <= 0.5
    return out


def _table(results: dict) -> str:
    lines = [f"Log: {results['rows']:,} transactions, {results['customers']:,} customers, observation end "
             f"{results['observation_end']}. Time: the summary only, fastest of {results['repeat']} runs in one "
             f"process (Spark and the 100M run: one run); reading the log into pandas is not timed but is in "
             f"the memory figure. Peak RSS: the whole measuring process.\n",
             "| what | time (s) | CPU time (s) | peak RSS (GiB) | equal to lifetimes |", "|---|---:|---:|---:|:---:|"]
    for case in [c for c in LABELS if c in results["cases"]]:
        r = results["cases"][case]
        if "error" in r:
            lines.append(f"| {LABELS[case]} | failed: {r['error'][:120]} | | | |")
            continue
        equal = {True: "yes", False: "**no**", None: ""}[r.get("equal_to_lifetimes")]
        equal = "(reference)" if case == "lifetimes" else equal
        extra = ""
        if case == "spark":
            extra = f" (+ {r['startup_s']} s start-up)"
        memory = f"{r['peak_rss_gib']:.2f}"
        if "peak_rss_with_jvm_gib" in r:
            memory += f" (with JVM {r['peak_rss_with_jvm_gib']:.2f})"
        cpu = "(in the JVM)" if case == "spark" else f"{r.get('cpu_s', float('nan')):.1f}"
        lines.append(f"| {LABELS[case]} | {r['wall_s']:.2f}{extra} | {cpu} | {memory} | {equal} |")
    if "big" in results:
        b = results["big"]
        label = LABELS["duckdb_big"].format(limit=b.get("memory_limit"))
        if "error" in b:
            lines.append(f"| {label}, {b['rows_requested']:,} rows | failed: {b['error'][:160]} | | | |")
        else:
            lines.append(f"| {label}: {b['rows']:,} rows, {b['customers']:,} customers | {b['wall_s']:.2f} | "
                         f"{b.get('cpu_s', float('nan')):.1f} | {b['peak_rss_gib']:.2f} | |")
    t = results["targets"]
    lines.append("")
    if t:
        lines.append(
            f"Targets ({results['rows']:,} rows): DuckDB speed-up over lifetimes "
            f"**{t.get('duckdb_speedup_vs_lifetimes')}x** (target >= 8x); crmlab / hand-written SQL "
            f"**{t.get('duckdb_vs_hand_sql_frame')}** on a pandas frame and {t.get('duckdb_vs_hand_sql_parquet')} "
            f"on parquet (target <= 1.3); peak memory / lifetimes' **{t.get('memory_ratio_vs_lifetimes')}** "
            f"(target <= 0.5; {t.get('memory_ratio_parquet_vs_lifetimes')} from parquet; "
            f"{t.get('memory_added_ratio_vs_lifetimes')} counting only the memory added to the loaded log)."
        )
    load = ""
    if "load_average_at_start" in results:
        load = (f" Load average (1, 5, 15 min) at the start {results['load_average_at_start']}, at the end "
                f"{results.get('load_average_at_end')} on {results['machine']['cpus']} CPUs.")
    lines.append("\nThe machine is shared: wall times include waiting for CPU when other jobs run." + load +
                 " Peak memory does not depend on the load.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
