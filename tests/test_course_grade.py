"""Tests for crmlab.course.grade: golden submissions built from solution notebooks.

The demo set (tests/fixtures/course/solutions/90_demo.ipynb) is tiny and builds its own
data, so a whole class of broken submissions is graded in one run. Every exercise set
in exercises/solutions/ is also graded: its solution gets full marks and its released
student version gets zero without any harness note.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from crmlab.course import student_seed
from crmlab.course.cli import register
from crmlab.course.grade import (
    WEAK_NOTE,
    ExerciseSet,
    grade,
    grade_notebook,
    parse_submission_name,
    restore_official_cells,
)
from crmlab.course.gradebook import feedback_filename
from crmlab.course.release import release_notebook

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_SOLUTIONS = ROOT / "tests" / "fixtures" / "course" / "solutions"
DEMO = FIXTURE_SOLUTIONS / "90_demo.ipynb"
REPO_SOLUTIONS = sorted((ROOT / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
TIMEOUT = 4
IDS = ["total_spend", "n_buyers", "top_customers"]


def _plain(note: str) -> str:
    """The note without the remark that a weaker isolation mode was used (hosts without namespaces)."""
    return "; ".join(n for n in str(note).split("; ") if n != WEAK_NOTE)


def _solution():
    return nbformat.read(DEMO, as_version=4)


def _cell(nb, tag):
    return next(c for c in nb.cells if tag in c.metadata.get("tags", []))


def _tagged(nb, prefix):
    return [c for c in nb.cells if any(t.startswith(prefix) for t in c.metadata.get("tags", []))]


# ---------------------------------------------------------------- golden submissions
def _submissions(folder: Path) -> dict[str, str]:
    """Write one notebook per scenario; return student -> what the scenario tests."""
    folder.mkdir()
    sol = _solution()

    def write(nb, name):
        nbformat.write(nb, folder / name)

    write(sol, "alice_90_demo.ipynb")                                  # the solution itself
    write(release_notebook(DEMO), "bob_90_demo.ipynb")                 # untouched student version
    nb = copy.deepcopy(sol)                                            # one wrong answer
    _cell(nb, "solution:n_buyers").source = "buyers = len(data.transactions)"
    write(nb, "carol_90_demo.ipynb")
    nb = copy.deepcopy(sol)                                            # endless loop
    _cell(nb, "solution:total_spend").source = "while True:\n    pass"
    write(nb, "dave_90_demo.ipynb")
    nb = copy.deepcopy(sol)                                            # wrong + check deleted
    _cell(nb, "solution:n_buyers").source = "buyers = -1"
    nb.cells.remove(_cell(nb, "exercise:n_buyers"))
    write(nb, "erin_90_demo.ipynb")
    nb = copy.deepcopy(sol)                                            # wrong + check edited
    _cell(nb, "solution:n_buyers").source = "buyers = -1"
    _cell(nb, "exercise:n_buyers").source = "pass  # check.n_buyers(buyers, data)"
    write(nb, "frank_90_demo.ipynb")
    (folder / "gina_90_demo.ipynb").write_text('{"cells": [', encoding="utf-8")   # corrupt file
    nb = copy.deepcopy(sol)                                            # kills its kernel
    _cell(nb, "solution:total_spend").source = "import os\nos._exit(1)"
    write(nb, "hank_90_demo.ipynb")
    nb = copy.deepcopy(sol)                                            # raises everywhere
    for c in nb.cells:
        if c.cell_type == "code":
            c.source = "raise ValueError('nope')"
    write(nb, "ivan_90_demo.ipynb")
    nb = copy.deepcopy(sol)                                            # missing cells
    nb.cells = [c for c in nb.cells if c not in _tagged(nb, "exercise:")
                and c is not _cell(nb, "solution:top_customers")]
    write(nb, "judy_90_demo.ipynb")
    nb = copy.deepcopy(sol)                                            # own dataset
    setup = _cell(nb, "setup")
    setup.source = setup.source.replace(
        "data = make_data(seed=0)", 'NAME = "kate"\ndata = make_data(seed=crm.course.student_seed(NAME))')
    write(nb, "kate_90_demo.ipynb")
    nb = copy.deepcopy(nb)                                             # own dataset, answer from another
    _cell(nb, "solution:total_spend").source = (
        "spend = make_data(seed=0).transactions.groupby('customer_id')['amount'].sum()")
    write(nb, "leo_90_demo.ipynb")
    (folder / "mike").mkdir()                                          # student folder
    write(sol, "mike/90_demo.ipynb")
    write(sol, "nina_91_other.ipynb")                                  # no such set
    nb = copy.deepcopy(sol)                                            # sneaks code into setup
    _cell(nb, "setup").source += "\ndata = make_data(seed=0); check.n_buyers = lambda *a: None"
    _cell(nb, "solution:n_buyers").source = "buyers = -1"
    write(nb, "olga_90_demo.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    _submissions(base / "subs")
    t0 = time.perf_counter()
    book = grade(base / "subs", solutions_dir=FIXTURE_SOLUTIONS, out=base / "out" / "grades.csv",
                 timeout=TIMEOUT, progress=False, jobs=2)
    elapsed = time.perf_counter() - t0
    return book.set_index("student"), base, elapsed


def _scores(book, student):
    return [int(book.loc[student, f"ex90.{i}"]) for i in IDS]


def _feedback(base, student):
    return (base / "out" / "feedback" / feedback_filename(student)).read_text(encoding="utf-8")


def test_gradebook_layout(graded):
    book, base, _ = graded
    assert list(book.reset_index().columns) == [
        "student", "set", "file", "ex90.total_spend", "ex90.n_buyers", "ex90.top_customers",
        "points", "max", "total", "concept:basics", "concept:value", "note"]
    assert (base / "out" / "grades.csv").is_file()
    again = pd.read_csv(base / "out" / "grades.csv")
    assert len(again) == len(book) == 15
    assert book.loc["mike", "file"] == "mike/90_demo.ipynb"


def test_solution_gets_full_marks(graded):
    book, base, _ = graded
    for student in ("alice", "mike"):
        assert _scores(book, student) == [1, 1, 1]
        assert book.loc[student, "points"] == book.loc[student, "max"] == 4.0  # top_customers has points:2
        assert book.loc[student, "total"] == 100.0
        assert _plain(book.loc[student, "note"]) == ""
    assert "\u2714 `n_buyers`: correct" in _feedback(base, "alice")


def test_student_version_gets_zero_without_harness_error(graded):
    book, base, _ = graded
    assert _scores(book, "bob") == [0, 0, 0]
    assert _plain(book.loc["bob", "note"]) == ""
    assert _feedback(base, "bob").count("not attempted") == 3


def test_one_wrong_answer_fails_exactly_that_exercise(graded):
    book, base, _ = graded
    assert _scores(book, "carol") == [1, 0, 1]
    assert book.loc["carol", "points"] == 3.0 and book.loc["carol", "total"] == 75.0
    assert book.loc["carol", "concept:basics"] == 0.0 and book.loc["carol", "concept:value"] == 1.0
    fb = _feedback(base, "carol")
    n_tx, n_customers = (lambda d: (len(d), d["customer_id"].nunique()))(_demo_transactions(0))
    assert f"your number of buyers is {n_tx}, which is too {'high' if n_tx > n_customers else 'low'}." in fb
    assert "Hint: Count distinct customers." in fb
    assert "Traceback" not in fb and "\x1b" not in fb


def _demo_transactions(seed):
    ns = {}
    setup = _cell(_solution(), "setup").source
    exec(setup.split("check = types.SimpleNamespace")[0], ns)
    return ns["make_data"](seed=seed).transactions


def test_endless_loop_fails_only_its_exercise(graded):
    book, base, elapsed = graded
    assert _scores(book, "dave") == [0, 1, 1]
    assert "did not finish within the time limit" in _feedback(base, "dave")
    assert elapsed < 240  # nothing hangs: 15 notebooks with several time-outs


@pytest.mark.parametrize("student", ["erin", "frank"])
def test_deleted_or_edited_check_is_graded_by_the_official_one(graded, student):
    book, base, _ = graded
    assert _scores(book, student) == [1, 0, 1]
    assert "your number of buyers is -1, which is too low" in _feedback(base, student)


def test_corrupt_file_is_reported(graded):
    book, base, _ = graded
    assert _scores(book, "gina") == [0, 0, 0]
    assert _plain(book.loc["gina", "note"]).startswith("not valid JSON")
    assert "not valid JSON" in _feedback(base, "gina")


def test_kernel_killer_fails_only_its_exercise(graded):
    book, _, _ = graded
    assert _scores(book, "hank") == [0, 1, 1]
    assert "solution cell of total_spend" in book.loc["hank", "note"]
    assert "crashed the kernel" in book.loc["hank", "note"]


def test_raising_everywhere_gets_zero_and_setup_is_restored(graded):
    book, base, _ = graded
    assert _scores(book, "ivan") == [0, 0, 0]
    assert _plain(book.loc["ivan", "note"]) == ""  # the official setup cell ran fine
    assert "ValueError: nope" in _feedback(base, "ivan")


def test_missing_cells_are_reinserted(graded):
    book, _, _ = graded
    assert _scores(book, "judy") == [1, 1, 0]


def test_own_dataset_is_used_for_checking(graded):
    book, base, _ = graded
    assert _scores(book, "kate") == [1, 1, 1]
    # leo declared his own dataset but answered with the default one: caught
    assert _scores(book, "leo") == [0, 1, 1]
    assert "the values differ for" in _feedback(base, "leo")
    assert student_seed("kate") != 0


def test_unknown_set_gets_a_row_with_the_reason(graded):
    book, _, _ = graded
    assert pd.isna(book.loc["nina", "set"])
    assert "no exercise set matches this file name" in book.loc["nina", "note"]
    assert pd.isna(book.loc["nina", "points"])


def test_setup_cell_is_official_even_when_student_adds_code(graded):
    book, _, _ = graded
    assert _scores(book, "olga") == [1, 0, 1]


# ---------------------------------------------------------------- per-student data imposed
def test_per_student_data_imposes_the_named_students_dataset(tmp_path):
    ex_set = ExerciseSet.from_solution(DEMO)
    honest = tmp_path / "paula_90_demo.ipynb"
    nbformat.write(_solution(), honest)
    copied = _solution()
    _cell(copied, "solution:total_spend").source = (
        "spend = make_data(seed=0).transactions.groupby('customer_id')['amount'].sum()")
    copier = tmp_path / "quinn_90_demo.ipynb"
    nbformat.write(copied, copier)
    template = "make_data(seed={seed})"
    # the two datasets really differ, so the test can fail
    assert not _demo_transactions(0).equals(_demo_transactions(student_seed("quinn")))
    res_copy = grade_notebook(copier, ex_set, student="quinn", timeout=TIMEOUT, per_student_data=template)
    assert res_copy.passed == {"total_spend": False, "n_buyers": True, "top_customers": True}
    res_honest = grade_notebook(honest, ex_set, student="paula", timeout=TIMEOUT, per_student_data=template)
    assert all(res_honest.passed.values()), res_honest.messages


# ---------------------------------------------------------------- restoring cells (no kernel)
def test_restore_replaces_edited_and_reinserts_deleted_checks():
    ex_set = ExerciseSet.from_solution(DEMO)
    nb = _solution()
    _cell(nb, "exercise:total_spend").source = "pass"
    nb.cells.remove(_cell(nb, "exercise:n_buyers"))
    extra = nbformat.v4.new_code_cell("print(1)")
    extra.metadata["tags"] = ["exercise:made_up"]
    nb.cells.append(extra)
    restored, roles = restore_official_cells(nb, ex_set)
    official = {e.id: e.check_source for e in ex_set.exercises}
    code = [c for c in restored.cells if c.cell_type == "code"]
    checks = [(i, c) for i, c in enumerate(code) if any(t.startswith("exercise:") for t in c.metadata["tags"])]
    assert [c.source for _, c in checks] == [official[i] for i in IDS]
    # the re-inserted check follows the student's solution cell for n_buyers
    sol_pos = next(i for i, c in enumerate(code) if "solution:n_buyers" in c.metadata.get("tags", []))
    assert "exercise:n_buyers" in code[sol_pos + 1].metadata["tags"]
    assert roles[sol_pos] == ("solution", "n_buyers") and roles[sol_pos + 1] == ("check", "n_buyers")
    assert roles[0] == ("setup", None)
    assert code[-1].metadata["tags"] == [] and roles[len(code) - 1] == ("other", None)
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_restore_without_solution_cells_appends_checks_in_order():
    ex_set = ExerciseSet.from_solution(DEMO)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("my work")])
    restored, roles = restore_official_cells(nb, ex_set)
    assert [r for r in roles.values()] == [("setup", None)] + [("check", i) for i in IDS]


def test_restore_keeps_a_safe_own_seed_line_only():
    ex_set = ExerciseSet.from_solution(DEMO)

    def setup_after(student_lines, **kw):
        nb = _solution()
        _cell(nb, "setup").source = student_lines
        restored, _ = restore_official_cells(nb, ex_set, **kw)
        return _cell(restored, "setup").source

    official = ex_set.setup_source
    assert setup_after("data = make_data(seed=0)") == official
    own = setup_after("import crmlab as crm\ndata = crm.synth.generate(seed=crm.course.student_seed('Kate Li'))")
    assert "data = crm.synth.generate(seed=crm.course.student_seed('Kate Li'))" in own
    assert "data = make_data(seed=0)" not in own
    assert own.replace("data = crm.synth.generate(seed=crm.course.student_seed('Kate Li'))",
                       "data = make_data(seed=0)") == official
    named = setup_after('NAME = "kate"\ndata = make_data(seed=crm.course.student_seed(NAME), n_customers=20)')
    assert 'NAME = "kate"\ndata = make_data(seed=crm.course.student_seed(NAME), n_customers=20)' in named
    # anything else than literals and student_seed(...) is not kept
    for bad in ("data = make_data(seed=__import__('os').getpid())",
                "data = crm.synth.generate(seed=crm.course.student_seed(NAME))",  # NAME never set
                "data = evil(seed=1)",
                "data = make_data(seed=1); check = None",
                "# data = make_data(seed=crm.course.student_seed('x'))"):
        assert setup_after(bad) == official, bad
    forced = setup_after("data = make_data(seed=0)", student="Bob Li", per_student_data=True)
    assert "data = crm.synth.generate(seed=crm.course.student_seed('Bob Li'))" in forced
    assert "data = make_data(seed=0)" not in forced


def test_restore_inserts_missing_setup_before_first_code_cell():
    ex_set = ExerciseSet.from_solution(DEMO)
    nb = _solution()
    nb.cells.remove(_cell(nb, "setup"))
    restored, roles = restore_official_cells(nb, ex_set)
    code = [c for c in restored.cells if c.cell_type == "code"]
    assert code[0].source == ex_set.setup_source and roles[0] == ("setup", None)


# ---------------------------------------------------------------- names and arguments
@pytest.mark.parametrize("path, expected", [
    ("subs/alice_02_segmentation.ipynb", ("alice", "02")),
    ("subs/alice_wang_02_segmentation.ipynb", ("alice_wang", "02")),
    ("subs/Alice Wang - 11_retention.ipynb", ("Alice Wang", "11")),
    ("subs/bob/02_segmentation.ipynb", ("bob", "02")),
    ("subs/bob/week2/alice_02_segmentation.ipynb", ("alice", "02")),
    ("subs/02_segmentation.ipynb", (None, "02")),
    ("subs/alice_homework.ipynb", (None, None)),
])
def test_parse_submission_name(path, expected):
    assert parse_submission_name(Path(path), Path("subs")) == expected


def test_exercise_set_from_solution_reads_tags():
    ex_set = ExerciseSet.from_solution(DEMO)
    assert [e.id for e in ex_set.exercises] == IDS
    assert [e.points for e in ex_set.exercises] == [1.0, 1.0, 2.0]
    assert ex_set.exercises[2].concepts == ("value",)
    assert ex_set.max_points == 4.0 and ex_set.column("n_buyers") == "ex90.n_buyers"


def test_exercise_set_rejects_bad_solutions(tmp_path):
    nb = _solution()
    _cell(nb, "exercise:n_buyers").metadata["tags"] = ["exercise:total_spend"]
    path = tmp_path / "90_demo.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="exercise id 'total_spend' is used by two check cells"):
        ExerciseSet.from_solution(path)
    _cell(nb, "exercise:total_spend").metadata["tags"] = ["exercise:total_spend", "points:many"]
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="tag 'points:many' must be points:<number>"):
        ExerciseSet.from_solution(path)
    with pytest.raises(ValueError, match="must be named NN_topic.ipynb"):
        ExerciseSet.from_solution(tmp_path / "demo.ipynb")


def test_grade_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"submissions_dir '.*nope' is not a folder"):
        grade(tmp_path / "nope", solutions_dir=FIXTURE_SOLUTIONS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no notebooks \(\*\.ipynb\) found"):
        grade(tmp_path / "empty", solutions_dir=FIXTURE_SOLUTIONS, out=None)
    with pytest.raises(ValueError, match="no solution notebooks named NN_topic.ipynb"):
        grade(tmp_path / "empty", solutions_dir=tmp_path / "empty", out=None)
    with pytest.raises(ValueError, match="timeout must be at least 1"):
        grade(tmp_path / "empty", solutions_dir=FIXTURE_SOLUTIONS, timeout=0)
    with pytest.raises(TypeError, match="timeout must be an integer"):
        grade(tmp_path / "empty", solutions_dir=FIXTURE_SOLUTIONS, timeout=2.5)
    with pytest.raises(ValueError, match=r"per_student_data must be True, False or an expression with '\{seed\}'"):
        grade(tmp_path / "empty", solutions_dir=FIXTURE_SOLUTIONS, per_student_data="make_data()")


def test_cli_grade(tmp_path):
    app = typer.Typer()

    @app.callback()
    def main():
        pass

    register(app)
    runner = CliRunner()
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_solution(), subs / "alice_90_demo.ipynb")
    (subs / "bob_90_demo.ipynb").write_text("not json")
    out = tmp_path / "grades.csv"
    res = runner.invoke(app, ["grade", str(subs), "--out", str(out), "--solutions", str(FIXTURE_SOLUTIONS),
                              "--timeout", str(TIMEOUT), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "Graded 2 notebook(s) of 2 student(s)" in res.output and "1 with a note" in res.output
    book = pd.read_csv(out).set_index("student")
    assert book.loc["alice", "total"] == 100.0 and book.loc["bob", "total"] == 0.0
    assert (tmp_path / "feedback" / feedback_filename("alice")).is_file()
    assert (tmp_path / "feedback" / feedback_filename("bob")).is_file()
    for args in (["grade", str(tmp_path / "missing")],
                 ["grade", str(subs), "--timeout", "0"],
                 ["grade", str(subs), "--out", str(tmp_path)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, args
        assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1
        assert "Traceback" not in res.output


# ---------------------------------------------------------------- the repository's exercise sets
@pytest.fixture(scope="module")
def repo_graded(tmp_path_factory):
    if not REPO_SOLUTIONS:
        pytest.skip("no exercise sets in exercises/solutions yet")
    subs = tmp_path_factory.mktemp("repo_subs")
    for sol in REPO_SOLUTIONS:
        nbformat.write(nbformat.read(sol, as_version=4), subs / f"solution_{sol.name}")
        nbformat.write(release_notebook(sol), subs / f"student_{sol.name}")
    book = grade(subs, solutions_dir=ROOT / "exercises" / "solutions", out=None, timeout=120, progress=False)
    return book.set_index(["student", "set"])


@pytest.mark.parametrize("solution", REPO_SOLUTIONS, ids=[p.stem for p in REPO_SOLUTIONS])
def test_repo_solution_full_marks_student_version_zero(repo_graded, solution):
    row = repo_graded.loc[("solution", solution.stem)]
    assert _plain(row["note"]) == "", row["note"]
    assert row["points"] == row["max"] > 0
    student = repo_graded.loc[("student", solution.stem)]
    assert _plain(student["note"]) == "", student["note"]
    assert student["points"] == 0


@pytest.mark.parametrize("content, reason", [
    ('{"cells": [', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    ("[]", "not a valid notebook"),
    ('{"a": 1}', "not a valid notebook"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}', "not a valid notebook"),
])
def test_unreadable_notebooks_get_zeros_and_a_reason_without_running(tmp_path, content, reason):
    path = tmp_path / "x_90_demo.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    res = grade_notebook(path, ExerciseSet.from_solution(DEMO), student="x", timeout=TIMEOUT)
    assert res.passed == dict.fromkeys(IDS, False)
    assert len(res.notes) == 1 and res.notes[0].startswith(reason)
    assert set(res.messages.values()) == {"the notebook could not be read"}
