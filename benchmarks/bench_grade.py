"""Benchmark grading: a class of submissions across every exercise set, in sandboxes.

The class is generated from the solution notebooks: per set, most students hand in the
solution (full marks), some the untouched student version (zero) and some a solution with
its first answer broken (that exercise lost, and any later one built on it), under a mix
of student names. The gradebook is checked against that design, so a fast but wrong
grader does not pass.

    python benchmarks/bench_grade.py [--n 200] [--jobs N]

Results (seconds per notebook and in total, the isolation mode, the machine's load
average, machine and versions) go to benchmarks/results/bench_grade.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["alice wang", "bob_li", "Chen Jing", "dmitri", "Émilie Roux", "farah", "王小明", "li lei", "maria",
         "nguyen an", "omar", "priya"]


def make_class(folder: Path, n: int) -> dict:
    """Write ``n`` submissions; return ``{(student, set): expected points or None (zero)}``."""
    import nbformat

    from crmlab.course.release import release_notebook

    solutions = sorted((ROOT / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
    expected = {}
    for k in range(n):
        sol = solutions[k % len(solutions)]
        student = f"{NAMES[k % len(NAMES)]} {k // len(NAMES)}"
        kind = ("student" if k % 10 == 3 else "broken" if k % 10 == 7 else "solution")
        if kind == "student":
            nb = release_notebook(sol)
        else:
            nb = nbformat.read(sol, as_version=4)
            if kind == "broken":  # the first solution cell's answer becomes None
                cell = next(c for c in nb.cells if any(t.startswith("solution:") for t in c.metadata.get("tags", [])))
                ex_id = next(t for t in cell.metadata["tags"] if t.startswith("solution:")).split(":", 1)[1]
                check = next(c for c in nb.cells if f"exercise:{ex_id}" in c.metadata.get("tags", []))
                import ast

                answer = ast.unparse(ast.parse(check.source).body[0].value.args[0])
                cell.source += f"\n{answer} = None"
        nbformat.write(nb, folder / f"{student}_{sol.name}")
        expected[(student, sol.stem)] = kind
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="number of submissions")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()

    from crmlab.course.grade import grade
    from crmlab.course.sandbox import isolation_mode

    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        expected = make_class(subs, args.n)
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        book = grade(subs, solutions_dir=ROOT / "exercises" / "solutions", out=Path(tmp) / "grades.csv",
                     timeout=args.timeout, notebook_timeout=max(300, 5 * args.timeout), jobs=args.jobs,
                     progress=True)
        total = time.perf_counter() - t0
        load_after = os.getloadavg()
    wrong = []
    for _, row in book.iterrows():
        kind = expected[(row["student"], row["set"])]
        want = {"solution": row["max"], "student": 0.0}.get(kind)
        # a broken first answer loses that exercise, and may cascade into later ones that reuse it
        ok = row["points"] == want if want is not None else row["points"] < row["max"]
        if not ok:
            wrong.append(f"{row['student']} {row['set']}: {row['points']}/{row['max']} ({kind}) {row['note']}")
    payload = {
        "machine": machine_info(packages=("numpy", "pandas", "scipy", "lifetimes", "pyarrow", "ipykernel",
                                          "jupyter_client", "nbformat")),
        "n_submissions": args.n, "jobs": args.jobs, "isolation": isolation_mode(),
        "total_s": round(total, 1), "seconds_per_notebook": round(total / args.n, 2),
        "notebook_seconds_per_kernel_slot": round(total * args.jobs / args.n, 2),
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in load_after],
        "rows": len(book), "wrong_verdicts": wrong[:20], "n_wrong": len(wrong),
    }
    table = (
        "| submissions | jobs | isolation | total (s) | s / notebook | s / notebook per slot | wrong verdicts |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {args.n} | {args.jobs} | {payload['isolation']} | {payload['total_s']} | "
        f"{payload['seconds_per_notebook']} | {payload['notebook_seconds_per_kernel_slot']} | {len(wrong)} |\n\n"
        f"Load average of the machine before / after: {payload['load_average_before']} / "
        f"{payload['load_average_after']} (other work shared the CPUs)."
    )
    path = write_results("bench_grade", payload, table)
    print(path.read_text())
    if wrong:
        print("\n".join(wrong[:20]))
        sys.exit(1)


if __name__ == "__main__":
    main()
