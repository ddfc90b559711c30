"""Tests for crmlab.course: per-student seeds and the release of student notebooks."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import typer
from typer.testing import CliRunner

from crmlab.course import normalize_name, student_seed
from crmlab.course.cli import register
from crmlab.course.release import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    notebook_bytes,
    release,
    release_notebook,
    release_source,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_SOLUTIONS = ROOT / "tests" / "fixtures" / "course" / "solutions"
DEMO = FIXTURE_SOLUTIONS / "90_demo.ipynb"
REPO_SOLUTIONS = sorted((ROOT / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _code_ok(source: str) -> bool:
    from IPython.core.inputtransformer2 import TransformerManager

    ast.parse(TransformerManager().transform_cell(source))
    return True


# ---------------------------------------------------------------- seeds
def test_student_seed_is_stable_across_processes_and_hash_seeds():
    code = "from crmlab.course import student_seed; print(student_seed('Alice Wang'))"
    values = set()
    for hash_seed in ("0", "123", "random"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        values.add(int(out.stdout))
    assert values == {student_seed("Alice Wang")}


def test_student_seed_range_and_spread():
    seeds = [student_seed(f"student {i}") for i in range(2000)]
    assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds)
    assert len(set(seeds)) == len(seeds)
    # roughly uniform: each half of the range gets a fair share
    low = sum(s < 2**30 for s in seeds)
    assert 850 < low < 1150


def test_student_seed_normalises_names():
    assert student_seed("Alice Wang") == student_seed("  alice_wang ") == student_seed("ALICE-WANG")
    assert student_seed("王小明") == student_seed(" 王小明 ")
    assert student_seed("Alice Wang") != student_seed("Alice Wan")
    assert normalize_name("Ｂｏｂ") == "bob"  # full-width letters (NFKC)


def test_student_seed_bad_input():
    with pytest.raises(TypeError, match=r"name must be a string such as 'Alice Wang', got int 7"):
        student_seed(7)
    with pytest.raises(ValueError, match=r"name must contain at least one letter or digit, got '  _ '"):
        student_seed("  _ ")


# ---------------------------------------------------------------- release_source
def test_release_source_keeps_indentation_and_surrounding_lines():
    src = "def f(x):\n    # compute y\n    ### BEGIN SOLUTION\n    y = x + 1\n    z = y\n    ### END SOLUTION\n    return z"
    out = release_source(src)
    assert out == ("def f(x):\n    # compute y\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                   "    return z")
    assert "x + 1" not in out
    assert _code_ok(out)


def test_release_source_several_blocks_and_markdown():
    src = f"a = 1\n{BEGIN_SOLUTION}\nb = 2\n{END_SOLUTION}\nc = 3\n{BEGIN_SOLUTION}\nd = 4\n{END_SOLUTION}"
    out = release_source(src)
    assert out.count("raise NotImplementedError()") == 2
    assert "b = 2" not in out and "d = 4" not in out and "c = 3" in out
    md = release_source(f"Why?\n\n{BEGIN_SOLUTION}\nBecause recency matters.\n{END_SOLUTION}", cell_type="markdown")
    assert md == "Why?\n\nYOUR ANSWER HERE"
    assert release_source("no markers") == "no markers"


@pytest.mark.parametrize("src, match", [
    (f"{BEGIN_SOLUTION}\nx = 1", "is never closed"),
    (f"x = 1\n{END_SOLUTION}", r"line 2: '### END SOLUTION' without a matching"),
    (f"{BEGIN_SOLUTION}\n{BEGIN_SOLUTION}\n{END_SOLUTION}", "inside another solution block"),
])
def test_release_source_unbalanced_markers(src, match):
    with pytest.raises(ValueError, match=match):
        release_source(src, where="demo, cell 3")


def test_release_source_rejects_non_string():
    with pytest.raises(TypeError, match="source must be a string"):
        release_source(["x = 1"])


# ---------------------------------------------------------------- release_notebook
def _noisy_copy(tmp_path: Path) -> Path:
    """The demo solution as it looks after running it in JupyterLab: outputs, counts, timestamps."""
    nb = nbformat.read(DEMO, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.execution_count = i + 7
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"run {i}\n")]
            cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T10:00:00Z"}
            cell.metadata["scrolled"] = True
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "pygments_lexer": "ipython3"}
    nb.metadata["widgets"] = {"state": {}}
    path = tmp_path / "solutions" / DEMO.name
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


def test_release_notebook_strips_solutions_and_outputs():
    sol = nbformat.read(DEMO, as_version=4)
    nb = release_notebook(DEMO)
    assert len(nb.cells) == len(sol.cells)
    for before, after in zip(sol.cells, nb.cells):
        assert before.cell_type == after.cell_type and _tags(before) == _tags(after)
        if after.cell_type != "code":
            continue
        assert after.outputs == [] and after.execution_count is None
        assert BEGIN_SOLUTION not in after.source and END_SOLUTION not in after.source
        assert _code_ok(after.source)
        if BEGIN_SOLUTION in before.source:
            assert "raise NotImplementedError()" in after.source
            assert "nunique" not in after.source and "nlargest" not in after.source
        else:
            assert after.source == before.source
    # the solution notebook itself is untouched
    assert nbformat.read(DEMO, as_version=4) == sol


def test_release_notebook_protects_setup_and_check_cells_only():
    nb = release_notebook(DEMO)
    for cell in nb.cells:
        protected = any(t == "setup" or t.startswith("exercise:") for t in _tags(cell))
        if protected:
            assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        else:
            assert "editable" not in cell.metadata and "deletable" not in cell.metadata
    assert sum(1 for c in nb.cells if c.metadata.get("editable") is False) == 4


def test_release_keeps_name_and_answer_cells_editable_but_not_deletable(tmp_path):
    nb = nbformat.read(DEMO, as_version=4)
    name = nbformat.v4.new_code_cell('NAME = ""')
    name.metadata["tags"] = ["name"]
    answer = nbformat.v4.new_markdown_cell(f"**Your answer**\n\n{BEGIN_SOLUTION}\nBecause.\n{END_SOLUTION}")
    answer.metadata["tags"] = ["answer:why"]
    answer.metadata["editable"] = False  # an instructor's slip must not lock the student out
    nb.cells[1:1] = [name]
    nb.cells.append(answer)
    path = tmp_path / "90_demo.ipynb"
    nbformat.write(nb, path)
    out = release_notebook(path)
    for cell in (out.cells[1], out.cells[-1]):
        assert cell.metadata["deletable"] is False and "editable" not in cell.metadata
    assert out.cells[1].source == 'NAME = ""'
    assert out.cells[-1].source == "**Your answer**\n\nYOUR ANSWER HERE"


def test_release_is_deterministic_and_ignores_run_noise(tmp_path):
    clean = notebook_bytes(release_notebook(DEMO))
    assert clean == notebook_bytes(release_notebook(DEMO))
    noisy = notebook_bytes(release_notebook(_noisy_copy(tmp_path)))
    assert noisy == clean
    text = clean.decode("utf-8")
    assert text.endswith("}\n")
    assert "widgets" not in text and "3.11.7" not in text and "iopub" not in text
    parsed = json.loads(text)
    assert text == json.dumps(parsed, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert parsed["metadata"]["kernelspec"]["name"] == "python3"


def test_release_gives_missing_cell_ids_stable_values(tmp_path):
    raw = json.loads(DEMO.read_text())
    for cell in raw["cells"]:
        cell.pop("id")
    path = tmp_path / "90_demo.ipynb"
    path.write_text(json.dumps(raw))
    first = notebook_bytes(release_notebook(path))
    assert first == notebook_bytes(release_notebook(path))
    ids = [c["id"] for c in json.loads(first)["cells"]]
    assert len(set(ids)) == len(ids)


def test_release_notebook_rejects_half_expressions(tmp_path):
    nb = nbformat.read(DEMO, as_version=4)
    nb.cells[3].source = f"spend = (\n    {BEGIN_SOLUTION}\n    data.transactions\n    {END_SOLUTION}\n)"
    path = tmp_path / "90_demo.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=r"90_demo.ipynb, cell 3 \(code cell 1\): the released cell is not valid Python"):
        release_notebook(path)


def test_release_notebook_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        release_notebook(tmp_path / "nope.ipynb")
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"01_bad.ipynb is not a valid notebook \(JSON error"):
        release_notebook(bad)


# ---------------------------------------------------------------- release()
def test_release_writes_then_is_up_to_date(tmp_path):
    out = tmp_path / "exercises"
    written = release(FIXTURE_SOLUTIONS, out)
    assert written == [out / "90_demo.ipynb"]
    assert (out / "90_demo.ipynb").read_bytes() == notebook_bytes(release_notebook(DEMO))
    assert release(FIXTURE_SOLUTIONS, out) == []
    assert release(FIXTURE_SOLUTIONS, out, check=True) == []


def test_release_check_reports_stale_missing_and_orphans_without_writing(tmp_path):
    sol_dir = tmp_path / "solutions"
    sol_dir.mkdir()
    (sol_dir / DEMO.name).write_bytes(DEMO.read_bytes())
    out = tmp_path / "exercises"
    assert release(sol_dir, out, check=True) == [out / "90_demo.ipynb"]
    assert not out.exists()
    release(sol_dir, out)
    # the instructor edits the solution but forgets to release
    nb = nbformat.read(sol_dir / DEMO.name, as_version=4)
    nb.cells[0].source += "\n\nNew instructions."
    nbformat.write(nb, sol_dir / DEMO.name)
    before = (out / "90_demo.ipynb").read_bytes()
    (out / "89_old.ipynb").write_text("{}")
    assert release(sol_dir, out, check=True) == [out / "90_demo.ipynb", out / "89_old.ipynb"]
    assert (out / "90_demo.ipynb").read_bytes() == before


def test_release_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"solutions_dir '.*missing' is not a folder"):
        release(tmp_path / "missing", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no solution notebooks named NN_topic.ipynb"):
        release(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ValueError, match="out_dir must differ from solutions_dir"):
        release(FIXTURE_SOLUTIONS, FIXTURE_SOLUTIONS)
    with pytest.raises(TypeError, match="check must be True or False"):
        release(FIXTURE_SOLUTIONS, tmp_path / "out", check="yes")


# ---------------------------------------------------------------- command line
@pytest.fixture
def app():
    app = typer.Typer()

    @app.callback()
    def main():  # a callback keeps subcommand names even with few commands
        pass

    register(app)
    return app


def test_cli_release_and_check(app, tmp_path):
    runner = CliRunner()
    out = tmp_path / "exercises"
    args = ["--solutions", str(FIXTURE_SOLUTIONS), "--exercises", str(out)]
    res = runner.invoke(app, ["release", "--check", *args])
    assert res.exit_code == 1
    assert "90_demo.ipynb" in res.output and "Out of date" in res.output
    res = runner.invoke(app, ["release", *args])
    assert res.exit_code == 0, res.output
    assert "Wrote 1 student notebook(s)" in res.output
    res = runner.invoke(app, ["release", "--check", *args])
    assert res.exit_code == 0 and "up to date" in res.output


def test_cli_release_bad_arguments_one_line_no_traceback(app, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["release", "--solutions", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert res.output.strip().startswith("Error: --solutions")
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    bad = tmp_path / "sol"
    bad.mkdir()
    (bad / "01_x.ipynb").write_text("{oops")
    res = runner.invoke(app, ["release", "--solutions", str(bad), "--exercises", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.output.startswith("Error: ") and "Traceback" not in res.output


# ---------------------------------------------------------------- the repository's exercise sets
@pytest.mark.parametrize("solution", REPO_SOLUTIONS, ids=[p.stem for p in REPO_SOLUTIONS])
def test_repo_solution_releases_cleanly(solution):
    from crmlab.course.grade import ExerciseSet

    nb = release_notebook(solution)
    ex_set = ExerciseSet.from_solution(solution)
    assert ex_set.setup_source is not None, "the setup cell (tag 'setup') is missing"
    assert ex_set.exercises
    sol_ids = {t.split(":", 1)[1] for c in nb.cells for t in _tags(c) if t.startswith("solution:")}
    assert {e.id for e in ex_set.exercises} <= sol_ids, "every exercise needs a solution:<id> cell"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert _code_ok(cell.source)
            assert not cell.outputs


def test_repo_student_notebooks_in_sync():
    if not REPO_SOLUTIONS:
        pytest.skip("no exercise sets in exercises/solutions yet")
    stale = release(ROOT / "exercises" / "solutions", ROOT / "exercises", check=True)
    assert stale == [], f"run `crmlab release`: out of date {[str(p) for p in stale]}"
