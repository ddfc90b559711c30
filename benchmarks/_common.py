"""Shared bits of the benchmark scripts: machine/version info and child-process measurement."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine_info(packages=("numpy", "pandas", "scipy", "lifetimes", "duckdb", "ibis-framework", "pyspark")) -> dict:
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "crmlab": metadata.version("crmlab"),
        **versions,
    }


def run_measured(code: str, timeout: float = 3600) -> dict:
    """Run ``code`` in a fresh Python process; return its JSON output plus wall time and peak RSS.

    The child prints one JSON object on its last stdout line. Peak memory is the child's
    maximum resident set size, so each measurement starts from a clean interpreter.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = round(wall, 2)
    # ru_maxrss of children is the max over all children so far: run the biggest last or
    # read the child's own figure, which every benchmark child reports as peak_rss_gib
    out.setdefault("peak_rss_gib", round(max(peak_kib, before) / 2**20, 3))
    return out


def write_results(name: str, payload: dict, table: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    info = payload["machine"]
    header = (
        f"# {name}\n\nMeasured {info['date']} on {info['cpus']} CPUs ({info['processor']}), "
        f"{info['memory_gib']} GiB RAM; Python {info['python']}, crmlab {info['crmlab']}, "
        f"numpy {info['numpy']}, pandas {info['pandas']}, lifetimes {info['lifetimes']}.\n\n"
    )
    path = RESULTS / f"{name}.md"
    path.write_text(header + table + "\n")
    return path
