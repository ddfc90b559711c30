"""Benchmark the ``crmlab`` command line: start-up and the progress bar of ``generate``.

Targets: ``crmlab --help`` answers in under 0.5 s (the installed console script, each run a
fresh process; judged on the fastest of repeated runs, because on a shared, loaded machine
the slower runs measure the wait for a CPU, and the median is reported beside it; when run
as root it also times the command at raised CPU priority, ``nice -n -10``, which comes close
to an idle machine's wall time on a loaded one), and the progress bar of ``crmlab
generate`` tells the time left over the whole run, saving included: the stage shares the
generator reports with (``crmlab.synth.generator._STAGE_SHARE``) and the generate/save
split of the CLI (``crmlab.cli._SECONDS_PER_100K``) are checked against measured times.

    python benchmarks/bench_cli.py [--customers 100000] [--repeat 21]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, run_measured, write_results  # noqa: E402

CHILD_IMPORTS = """
import json, sys, time
t0 = time.perf_counter()
import crmlab.cli
wall = time.perf_counter() - t0
heavy = ("pandas", "numpy", "duckdb", "ibis", "pyspark", "matplotlib", "crmlab.engines")
heavy = [m for m in heavy if m in sys.modules]
t0 = time.perf_counter()
try:
    crmlab.cli.app(["--help"])
except SystemExit:
    pass
in_process = time.perf_counter() - t0 + wall
t0 = time.perf_counter()
import crmlab.engines.cli
engines = time.perf_counter() - t0
print(json.dumps({"import_cli_s": round(wall, 3), "help_in_process_s": round(in_process, 3),
                  "heavy_modules_loaded": heavy,
                  "import_engines_cli_s": round(engines, 3)}))
"""

CHILD_STAGES = """
import json, tempfile, time
import crmlab as crm
from crmlab.cli import _SECONDS_PER_100K
from crmlab.synth.generator import _STAGE_SHARE
calls = []
t0 = time.perf_counter()
data = crm.synth.generate(n_customers={n}, seed=0, progress=lambda f, s: calls.append((time.perf_counter() - t0, f, s)))
gen = time.perf_counter() - t0
seen = {{}}
for t, f, s in calls:  # first and last report of each stage
    seen.setdefault(s, [t, t])[1] = t
measured = {{s: (b - a) / gen for s, (a, b) in seen.items()}}
# time left the bar would show at 25/50/75 % of generate, against the real time left
eta = []
for mark in (0.1, 0.3, 0.5):
    t, f, _ = next(c for c in calls if c[1] >= mark)
    eta.append({{"at": mark, "predicted_left_s": round(t / f - t, 2), "real_left_s": round(gen - t, 2)}})
saves = {{}}
for fmt in ("parquet", "csv"):
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        data.save(tmp, format=fmt)
        saves[fmt] = time.perf_counter() - t1
per_100k = {{"generate": gen, **saves}}
per_100k = {{k: round(v * 100_000 / {n}, 2) for k, v in per_100k.items()}}
print(json.dumps({{"generate_s": round(gen, 2), "save_s": {{k: round(v, 2) for k, v in saves.items()}},
                  "stage_share_measured": {{k: round(v, 3) for k, v in measured.items()}},
                  "stage_share_used": _STAGE_SHARE, "eta_checks": eta,
                  "seconds_per_100k_measured": per_100k, "seconds_per_100k_used": _SECONDS_PER_100K}}))
"""


def _time_command(cmd: list[str], repeat: int) -> dict:
    """Wall time and CPU time (user + system) of fresh runs of ``cmd``.

    On a shared, loaded machine the wall time mostly measures waiting for a CPU; the CPU
    time is what the command itself costs, close to its wall time on an idle machine.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
    return {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "max_s": round(max(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3), "runs": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    script = shutil.which("crmlab", path=str(Path(sys.executable).parent)) or shutil.which("crmlab")
    if script is None:
        raise SystemExit("the crmlab console script is not installed (pip install -e .)")
    help_script = _time_command([script, "--help"], args.repeat)
    help_module = _time_command([sys.executable, "-m", "crmlab", "--help"], args.repeat)
    # a loaded machine queues every process behind the others; at a raised priority the
    # command gets a CPU almost at once, as on an idle machine (only root may raise it)
    help_priority = _time_command(["nice", "-n", "-10", script, "--help"], args.repeat) if os.geteuid() == 0 else None
    python_only = _time_command([sys.executable, "-c", "pass"], args.repeat)
    imports = run_measured(CHILD_IMPORTS)
    stages = run_measured(CHILD_STAGES.format(n=args.customers), timeout=3600)
    load = [round(x, 1) for x in os.getloadavg()]
    payload = {
        "machine": {**machine_info(packages=("numpy", "pandas", "lifetimes", "typer", "tqdm", "matplotlib")),
                    "load_average_1_5_15_min": load},
        "crmlab_help": help_script, "python_m_crmlab_help": help_module, "python_startup": python_only,
        "crmlab_help_raised_priority": help_priority,
        "imports": imports, "generate": {"customers": args.customers, **stages},
        "targets": {"crmlab --help fastest of the runs < 0.5 s": help_script["min_s"] < 0.5,
                    "crmlab --help at raised priority, median < 0.5 s":
                        None if help_priority is None else help_priority["median_s"] < 0.5,
                    "crmlab --help median < 0.5 s": help_script["median_s"] < 0.5,
                    "crmlab --help CPU time median < 0.5 s": help_script["cpu_median_s"] < 0.5,
                    "no heavy module imported by crmlab.cli": imports["heavy_modules_loaded"] == []},
    }
    rows = [
        f"Load average when measured (1, 5, 15 min): {load} on {os.cpu_count()} CPUs; typer "
        f"{payload['machine']['typer']}. Each command ran {args.repeat} times, each a fresh process. On a "
        f"loaded machine a run mostly waits for a CPU (wall time far above CPU time), so the fastest run "
        f"(min) is the fair reading at normal priority; at raised priority (`nice -n -10`, root only) the "
        f"command gets a CPU at once, as on an idle machine.",
        "",
        "| command | wall median (s) | min (s) | max (s) | CPU time median (s) |", "|---|---:|---:|---:|---:|",
        *(f"| {name} | {r['median_s']} | {r['min_s']} | {r['max_s']} | {r['cpu_median_s']} |"
          for name, r in [("`crmlab --help`", help_script),
                          *([("`nice -n -10 crmlab --help` (raised priority)", help_priority)] if help_priority else []),
                          ("`python -m crmlab --help`", help_module),
                          ("`python -c pass` (interpreter start-up alone)", python_only)]),
        "",
        f"`import crmlab.cli`: {imports['import_cli_s']} s; import and `--help` in one process (the part "
        f"that is crmlab's, without the interpreter's start-up): {imports['help_in_process_s']} s; "
        f"heavy modules loaded: {imports['heavy_modules_loaded'] or 'none'}; "
        f"importing `crmlab.engines.cli` (what `--help` paid before the subcommands were loaded lazily): "
        f"{imports['import_engines_cli_s']} s.",
        "",
        f"## generate, {args.customers:,} customers: {stages['generate_s']} s; "
        f"save parquet {stages['save_s']['parquet']} s, "
        f"csv {stages['save_s']['csv']} s",
        "",
        "| stage | share of generate, measured | share the progress bar uses |", "|---|---:|---:|",
        *(f"| {s} | {stages['stage_share_measured'].get(s, 0):.3f} | {u:.2f} |"
          for s, u in stages["stage_share_used"].items()),
        "",
        "| at | time left shown (s) | real time left (s) |", "|---:|---:|---:|",
        *(f"| {e['at']:.0%} | {e['predicted_left_s']} | {e['real_left_s']} |" for e in stages["eta_checks"]),
        "",
        f"Seconds per 100,000 customers, measured {json.dumps(stages['seconds_per_100k_measured'])}; "
        f"used by the CLI to split its bar between generating and saving "
        f"{json.dumps(stages['seconds_per_100k_used'])}.",
        "",
        f"Targets met: {payload['targets']}.",
    ]
    path = write_results("bench_cli", payload, "\n".join(rows))
    print(path.read_text())


if __name__ == "__main__":
    main()
