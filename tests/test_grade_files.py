"""Hostile files in the submissions folder, one row per student and set, unique feedback
files, written answers, and sharding: parts merged equal one single run."""

from __future__ import annotations

import os
import time

import nbformat
import pandas as pd
import pytest
import typer
from test_grade_cheats import DEMO, SOLUTIONS, _cell, _sol
from typer.testing import CliRunner

from crmlab.course.cli import register
from crmlab.course.grade import grade
from crmlab.course.gradebook import feedback_filename, merge_gradebooks
from crmlab.course.release import release_notebook

IDS = ["total_spend", "n_buyers", "top_customers"]


def _class(folder):
    """Two real notebooks and a set of files that must not be run (or even opened)."""
    folder.mkdir()
    nb = _sol()
    answer = nbformat.v4.new_markdown_cell("Spend is concentrated: the top three buy a third.")
    answer.metadata["tags"] = ["answer:top_customers"]
    nb.cells.append(answer)
    nbformat.write(nb, folder / "alice wang_90_demo.ipynb")
    nbformat.write(release_notebook(DEMO), folder / "alice_wang_90_demo.ipynb")
    # the same student twice: only the newest counts
    wrong = _sol()
    _cell(wrong, "solution:n_buyers").source = "buyers = -1"
    nbformat.write(wrong, folder / "bob_90_demo.ipynb")
    os.makedirs(folder / "bob")
    nbformat.write(_sol(), folder / "bob" / "90_demo.ipynb")
    past = time.time() - 3600
    os.utime(folder / "bob_90_demo.ipynb", (past, past))
    # hostile files where notebooks are expected
    os.mkfifo(folder / "fifo_90_demo.ipynb")
    (folder / "link_90_demo.ipynb").symlink_to(DEMO)
    (folder / "dev_90_demo.ipynb").symlink_to("/dev/zero")
    (folder / "deep_90_demo.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "tags_90_demo.ipynb").write_text(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": '
        '[{"cell_type": "code", "source": "x", "metadata": {"tags": "setup"}, "outputs": [], "execution_count": null}]}')
    with open(folder / "huge_90_demo.ipynb", "wb") as f:
        f.truncate(40 * 2**20)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("files")
    subs = _class(base / "subs")
    t0 = time.perf_counter()
    book = grade(subs, solutions_dir=SOLUTIONS, out=base / "single" / "grades.csv", timeout=10,
                 progress=False, jobs=2)
    return book, base, time.perf_counter() - t0


def _row(book, student):
    rows = book[book["student"] == student]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.mark.parametrize("student, reason", [
    ("fifo", "is a FIFO"), ("link", "is a symbolic link"), ("dev", "is a symbolic link"),
    ("deep", "nested deeper than 64 levels"), ("huge", "larger than 32 MiB"), ("tags", "not a valid notebook"),
])
def test_hostile_files_get_zeros_and_a_note(graded, student, reason):
    book, _, elapsed = graded
    row = _row(book, student)
    assert row["points"] == 0 and reason in row["note"], row["note"]
    assert elapsed < 400


def test_one_row_per_student_and_set_newest_wins(graded):
    book, _, _ = graded
    row = _row(book, "bob")
    assert row["file"] == "bob/90_demo.ipynb" and row["points"] == row["max"]
    assert "2 files for this set" in row["note"] and "bob_90_demo.ipynb" in row["note"]


def test_similar_names_get_their_own_feedback(graded):
    book, base, _ = graded
    assert _row(book, "alice wang")["total"] == 100.0 and _row(book, "alice_wang")["total"] == 0.0
    folder = base / "single" / "feedback"
    a = (folder / feedback_filename("alice wang")).read_text(encoding="utf-8")
    b = (folder / feedback_filename("alice_wang")).read_text(encoding="utf-8")
    assert "# Feedback for alice wang" in a and "# Feedback for alice_wang" in b
    assert "> Spend is concentrated: the top three buy a third." in a  # the written answer
    assert "not attempted" in b


def test_shards_merged_equal_a_single_run(graded, tmp_path):
    book, base, _ = graded
    parts = []
    for i in (1, 2, 3):
        out = tmp_path / f"part-{i}.csv"
        part = grade(base / "subs", solutions_dir=SOLUTIONS, out=out, feedback_dir=tmp_path / "feedback",
                     timeout=10, progress=False, jobs=2, shard=f"{i}/3")
        assert set(part["student"]) <= set(book["student"])
        parts.append(out)
    assert sum(len(pd.read_csv(p)) for p in parts) == len(book)
    merged = merge_gradebooks(parts, out=tmp_path / "grades.csv")
    single = pd.read_csv(base / "single" / "grades.csv")
    again = pd.read_csv(tmp_path / "grades.csv")
    pd.testing.assert_frame_equal(again, single)
    assert list(merged.columns) == list(book.columns)
    assert sorted(os.listdir(tmp_path / "feedback")) == sorted(os.listdir(base / "single" / "feedback"))
    # incomplete or repeated parts are refused, on the command line with exit code 1
    with pytest.raises(ValueError, match=r"shards 3/3 are missing"):
        merge_gradebooks(parts[:2])
    with pytest.raises(ValueError, match="given twice"):
        merge_gradebooks([parts[0], parts[0], parts[1]])
    app = typer.Typer()

    @app.callback()
    def main():
        pass

    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["grade-merge", *map(str, parts[:2]), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 1 and res.output.startswith("Error: shards 3/3 are missing")
    res = runner.invoke(app, ["grade-merge", *map(str, parts), "--out", str(tmp_path / "y.csv")])
    assert res.exit_code == 0, res.output
    for args in (["grade", str(base / "subs"), "--shard", "4/3"], ["grade", str(base / "subs"), "-j", "0"],
                 ["grade-merge", str(tmp_path / "nope.csv")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and res.output.startswith("Error: "), (args, res.output)
    assert runner.invoke(app, ["grade", "-h"]).exit_code == 0


def test_name_cell_and_check_call_contract():
    from crmlab.course.grade import ExerciseSet, _check_call, restore_official_cells

    nb = _sol()
    name = nbformat.v4.new_code_cell('NAME = "Kate Li"')
    name.metadata["tags"] = ["name"]
    nb.cells.insert(1, name)
    _cell(nb, "setup").source = "data = make_data(seed=crm.course.student_seed(NAME))"
    restored, _ = restore_official_cells(nb, ExerciseSet.from_solution(DEMO))
    setup = _cell(restored, "setup").source
    assert 'NAME = "Kate Li"\ndata = make_data(seed=crm.course.student_seed(NAME))' in setup
    # both spellings of a check cell; data and literals stay in the trusted call
    assert _check_call("check.rfm(rfm, data)", "x") == ("check.rfm(__answer_0__, data)", [("0", "rfm")])
    assert _check_call("crm.check.ex02.rfm_scores(scores.copy(), data, bins=5)", "x") == (
        "crm.check.ex02.rfm_scores(__answer_0__, data, bins=5)", [("0", "scores.copy()")])
    for bad in ("x = 1\ncheck.rfm(rfm, data)", "check.rfm(data)", "print(("):
        with pytest.raises(ValueError, match="check cell"):
            _check_call(bad, "02_segmentation.ipynb, exercise:rfm")


def test_weaker_mode_grades_and_says_so(tmp_path, monkeypatch):
    from crmlab.course.grade import WEAK_NOTE

    monkeypatch.setenv("CRMLAB_GRADE_ISOLATION", "process")
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_sol(), subs / "alice_90_demo.ipynb")
    book = grade(subs, solutions_dir=SOLUTIONS, out=None, timeout=10, progress=False, jobs=1)
    assert book.loc[0, "total"] == 100.0 and book.loc[0, "note"] == WEAK_NOTE
