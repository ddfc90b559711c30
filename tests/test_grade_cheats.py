"""Adversarial submissions: each class of cheat measured in the grading issue earns nothing.

Every cheating notebook below gives a *wrong* answer for ``n_buyers`` (or for the
exercise it attacks) and then tries to make the check pass anyway, or to hang, stop or
corrupt the grading run. One grading run (two kernels at a time) grades them all with
the tiny demo set (tests/fixtures/course/solutions/90_demo.ipynb); honest work in the
same notebooks must still get its credit.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest

from crmlab.course.grade import grade
from crmlab.course.sandbox import isolation_mode

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "tests" / "fixtures" / "course" / "solutions"
DEMO = SOLUTIONS / "90_demo.ipynb"
IDS = ["total_spend", "n_buyers", "top_customers"]
WRONG = "buyers = -1\n"
MARK = "crmlab-cheat-marker"


def _sol():
    return nbformat.read(DEMO, as_version=4)


def _cell(nb, tag):
    return next(c for c in nb.cells if tag in c.metadata.get("tags", []))


def _with(cheat: str, *, wrong=True, where="solution:n_buyers"):
    nb = _sol()
    cell = _cell(nb, where)
    cell.source = (WRONG if wrong and where == "solution:n_buyers" else cell.source + "\n") + cheat
    return nb


def _extra(nb, source, after_tag):
    pos = next(i for i, c in enumerate(nb.cells) if after_tag in c.metadata.get("tags", [])) + 1
    nb.cells.insert(pos, nbformat.v4.new_code_cell(source))
    return nb


CHEATS = {
    # rebinding the check, the comparison helpers or what they call
    "rebind_check": "check.n_buyers = lambda *a, **k: None",
    "patch_compare": "compare.assert_scalar_close = lambda *a, **k: None\ncompare.fail = lambda *a, **k: None",
    "patch_module": ("import crmlab.check.compare as c, crmlab.check as cc\n"
                     "c.assert_scalar_close = cc.assert_scalar_close = lambda *a, **k: None"),
    "patch_builtins": "import builtins\nbuiltins.AssertionError = type('AE', (Exception,), {})",
    # IPython machinery
    "custom_exc": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "showtraceback": "ip = get_ipython(); ip._showtraceback = lambda *a, **k: None; ip.showtraceback = lambda *a, **k: None",
    "pre_run_cell": ("def _hook(info):\n    info.raw_cell = 'pass'\n"
                     "get_ipython().events.register('pre_run_cell', _hook)"),
    "input_transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "ast_transformer": ("import ast\nclass _T(ast.NodeTransformer):\n"
                        "    def visit_Call(self, node):\n        return ast.Constant(None)\n"
                        "get_ipython().ast_transformers.append(_T())"),
    # an answer that claims to equal anything, and reading the check's frames
    "equals_anything": ("class _Any(int):\n    def __eq__(self, o): return True\n    __ne__ = lambda s, o: False\n"
                        "    __hash__ = int.__hash__\n"
                        "class _Obj:\n    __eq__ = lambda s, o: True\n    def __float__(self): return 0.0\n"
                        "buyers = _Obj()"),
    "stack_frame": ("import sys\n_orig = sys.settrace\n"
                    "def _grab(frame, event, arg):\n"
                    "    global buyers\n"
                    "    if 'expected' in frame.f_locals: buyers = frame.f_locals['expected']\n"
                    "    return _grab\nsys.settrace(_grab); sys.setprofile(_grab)"),
    # writing the grader's own files from inside the kernel
    "fake_results": ("import json, os, pathlib\nh = pathlib.Path(os.environ.get('CRMLAB_SCRATCH', '.'))\n"
                     "(h / 'run.json').write_text(json.dumps({'cells': {}, 'done': True}))\n"
                     "d = h / '.answers' / 'e1'; d.mkdir(parents=True, exist_ok=True)\n"
                     "(d / 'manifest.json').write_text(json.dumps({'args': {'0': -1}, 'errors': {}}))\n"
                     "os.symlink('/dev/zero', h / '.answers' / 'e1' / 'v1.npy')"),
    # rebinding data so that the wrong answer is 'right' on it
    "rebind_data": "data.transactions = data.transactions.iloc[:0]\nbuyers = 0",
}
# what each cheat still earns honestly (some also break the later, honest cells)
EXPECTED = {"rebind_data": [1, 0, 0], "input_transformer": [1, 0, 0], "ast_transformer": [1, 0, 0]}


def _spy_sources(paths: dict) -> dict:
    """Cheats that succeed only when a file outside the sandbox is readable or writable."""
    readable = (
        "import os, glob\n"
        f"found = [p for p in {list(map(str, paths['secret']))!r} if os.path.exists(p)]\n"
        "found += [p for p in os.listdir(os.path.dirname(found[0] if found else '/')) if p.endswith('.ipynb')]\n"
        "buyers = count_buyers(data.transactions) if found else -1\n"
    )
    daemon = (
        "import subprocess, sys\n"
        f"code = 'import time\\nwhile True:\\n    try: open({str(paths['marker'])!r}, \"a\").write(\"x\")\\n"
        f"    except Exception: pass\\n    time.sleep(0.2)  # {MARK}'\n"
        "subprocess.Popen([sys.executable, '-c', code], start_new_session=True, stdin=subprocess.DEVNULL,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(paths['grades'])!r}, 'w').write('student,total\\nmallory,100\\n')\n"
    )
    return {"read_solution_or_classmate": readable, "outlive_grader": daemon}


# kills, stops and resource exhaustion: honest answers elsewhere must still count. The fault
# sits in a cell of its own after solution:n_buyers, which first computes the right answer;
# whether n_buyers survives depends on whether the kernel survived (None: either is right).
FAULTS = {
    "exit_in_extra_cell": ("exit()", [1, 1, 1]),
    "sigkill_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", [1, 0, 1]),
    "sigterm_group": ("import os, signal\nos.killpg(0, signal.SIGTERM)", [1, None, 1]),
    "kill_everything": ("import os, signal\nos.kill(-1, signal.SIGKILL)", [1, 0, 1]),
    "sigstop_self": ("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)", [1, 0, 1]),
    "os_exit": ("import os\nos._exit(3)", [1, 0, 1]),
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", [1, 0, 1]),
    "memory": ("def grow():\n    x = []\n    while True:\n        x.append(bytearray(50 * 2**20))\ngrow()", [1, 1, 1]),
    "endless_output": ("while True:\n    print('x' * 10000)", [1, None, 1]),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("cheats")
    subs, out = base / "subs", base / "out"
    subs.mkdir()
    out.mkdir()
    paths = {"marker": base / "daemon-was-here", "grades": out / "grades.csv",
             "secret": [DEMO, subs / "honest_90_demo.ipynb"]}
    expected = {}

    def write(nb, student, scores):
        nbformat.write(nb, subs / f"{student}_90_demo.ipynb")
        expected[student] = scores

    write(_sol(), "honest", [1, 1, 1])
    for name, cheat in CHEATS.items():
        write(_with(cheat), name, EXPECTED.get(name, [1, 0, 1]))
    for name, cheat in _spy_sources(paths).items():
        write(_with(cheat), name, [1, 0, 1])
    for name, (cheat, scores) in FAULTS.items():
        if name == "exit_in_extra_cell":
            nb = _extra(_sol(), cheat, "exercise:total_spend")
        else:
            nb = _extra(_sol(), cheat, "solution:n_buyers")
            _cell(nb, "solution:n_buyers").source = "buyers = None"  # the fault cell would have set it
            nb.cells[next(i for i, c in enumerate(nb.cells) if "solution:n_buyers" in c.metadata.get("tags", [])) + 1]\
                .source = "buyers = data.transactions['customer_id'].nunique()\n" + cheat
        write(nb, name, scores)
    # a second setup cell and a check dragged above its solution
    nb = _sol()
    extra = nbformat.v4.new_code_cell(
        "data = make_data(seed=5)\nspend = data.transactions.groupby('customer_id')['amount'].sum()")
    extra.metadata["tags"] = ["setup"]
    nb.cells.insert(next(i for i, c in enumerate(nb.cells) if "solution:total_spend" in c.metadata.get("tags", []))
                    + 1, extra)
    _cell(nb, "solution:total_spend").source = "pass"
    write(nb, "second_setup", [0, 1, 0])
    nb = _sol()
    check = _cell(nb, "exercise:top_customers")
    nb.cells.remove(check)
    nb.cells.insert(1, check)
    write(nb, "dragged_check", [1, 1, 1])
    # planted files are never read or executed
    (subs / "conftest.py").write_text(f"open({str(base / 'conftest-ran')!r}, 'w').write('x')\n")
    (subs / "pytest.ini").write_text("[pytest]\naddopts = -p conftest\n")
    (subs / "helper.py").write_text(f"open({str(base / 'helper-ran')!r}, 'w').write('x')\n")

    t0 = time.perf_counter()
    book = grade(subs, solutions_dir=SOLUTIONS, out=out / "grades.csv", timeout=4, notebook_timeout=60,
                 progress=False, jobs=2)
    elapsed = time.perf_counter() - t0
    time.sleep(1.0)  # give a surviving daemon the chance to write
    book = book.set_index("student")
    # On a busy 2-core machine a kernel of this 30-notebook run is sometimes lost to the load
    # ("the notebook's run ended early") while its neighbours exhaust memory and processes.
    # Such a row carries no verdict at all, so it is graded again, alone; a verdict is never
    # retried, so a cheat that earns credit still fails.
    lost = [s for s in book.index if "run ended early" in str(book.loc[s, "note"])
            and (subs / f"{s}_90_demo.ipynb").is_file()]
    if lost:
        again = base / "again"
        again.mkdir()
        for s in lost:
            shutil.copy(subs / f"{s}_90_demo.ipynb", again / f"{s}_90_demo.ipynb")
        redo = grade(again, solutions_dir=SOLUTIONS, out=None, timeout=4, notebook_timeout=60, progress=False,
                     jobs=1).set_index("student")
        for s in lost:
            book.loc[s, redo.columns.intersection(book.columns)] = redo.loc[s, redo.columns.intersection(book.columns)]
    return book, base, expected, elapsed


def _scores(book, student):
    return [int(book.loc[student, f"ex90.{i}"]) for i in IDS]


NAMESPACE_ONLY = {"read_solution_or_classmate", "outlive_grader"}


@pytest.mark.parametrize("student", ["honest", *CHEATS, *sorted(NAMESPACE_ONLY), "second_setup"])
def test_cheat_earns_no_credit(run, student):
    if student in NAMESPACE_ONLY and isolation_mode() != "namespace":
        pytest.skip("files outside the scratch folder are hidden only in namespace isolation")
    book, _, expected, _ = run
    assert _scores(book, student) == expected[student], book.loc[student, "note"]


@pytest.mark.parametrize("student", list(FAULTS))
def test_kill_stop_and_exhaustion_cost_only_the_cell(run, student):
    book, _, expected, _ = run
    got = _scores(book, student)
    want = expected[student]
    assert [g if w is not None else None for g, w in zip(got, want)] == want, book.loc[student, "note"]
    if want[1] == 0 or student in ("fork_bomb", "memory", "endless_output"):
        assert book.loc[student, "note"] != ""  # the notebook says which cell was stopped and why


def test_exit_blames_no_innocent_cell(run):
    book, _, _, _ = run
    assert _scores(book, "exit_in_extra_cell") == [1, 1, 1]
    assert "exercise" not in book.loc["exit_in_extra_cell", "note"]


def test_dragged_check_is_moved_back(run):
    book, _, _, _ = run
    assert _scores(book, "dragged_check") == [1, 1, 1]


@pytest.mark.skipif(isolation_mode() != "namespace", reason="namespace isolation is not available here")
def test_nothing_escapes_the_sandbox(run):
    book, base, _, elapsed = run
    assert not (base / "conftest-ran").exists() and not (base / "helper-ran").exists()
    assert not (base / "daemon-was-here").exists()
    assert not any(MARK in " ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"]))
    again = pd.read_csv(base / "out" / "grades.csv")
    assert "mallory" not in set(again["student"]) and len(again) == len(book)
    assert elapsed < 600


def test_one_wall_limit_per_notebook(tmp_path):
    """Many cells each just under the cell limit stop at the notebook limit, not n x the cell limit."""
    nb = _sol()
    for _ in range(12):
        nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(3.5)"))
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nb, subs / "slow_90_demo.ipynb")
    t0 = time.perf_counter()
    book = grade(subs, solutions_dir=SOLUTIONS, out=None, timeout=4, notebook_timeout=15, progress=False, jobs=1)
    assert time.perf_counter() - t0 < 45
    assert "did not finish within 15 s" in book.loc[0, "note"] or "time limit" in book.loc[0, "note"]
    assert book.loc[0, "points"] == 0


@pytest.mark.skipif(isolation_mode() != "namespace", reason="namespace isolation is not available here")
def test_namespace_mode_sees_no_solutions(tmp_path):
    nb = _sol()
    _cell(nb, "solution:n_buyers").source = (
        "import os\nbuyers = data.transactions['customer_id'].nunique()\n"
        f"assert not os.path.exists({str(ROOT / 'exercises')!r})\n"
        f"assert not os.path.exists({str(SOLUTIONS)!r})\n"
        "assert os.getuid() != 0 and os.getpid() < 100")
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nb, subs / "probe_90_demo.ipynb")
    book = grade(subs, solutions_dir=SOLUTIONS, out=None, timeout=10, progress=False, jobs=1)
    assert int(book.loc[0, "ex90.n_buyers"]) == 1, book.loc[0, "note"]
    assert "weaker isolation" not in book.loc[0, "note"]
