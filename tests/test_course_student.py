"""The student's side of the exercise sets: instructions that match the stubs, the name cell
the grader reads (and nothing else of it), written-answer cells collected for the
instructor, and the student bundle without solutions."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import crmlab as crm
from crmlab.course import student_data, student_seed
from crmlab.course.cli import register
from crmlab.course.grade import ExerciseSet, grade, restore_official_cells, student_name
from crmlab.course.gradebook import feedback_filename
from crmlab.course.release import (
    BEGIN_SOLUTION,
    BUNDLE_MANIFEST,
    CODE_STUB,
    END_SOLUTION,
    release_bundle,
    release_notebook,
)

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
DEMO = ROOT / "tests" / "fixtures" / "course" / "solutions" / "90_demo.ipynb"
# a prompt that asks for words, not for a value assigned in code
PROSE = re.compile(r"\b(explain|why|in (one|two|three) sentences?|write (two|three) sentences)\b", re.I)


def _tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def _tagged(nb, tag):
    return [c for c in nb.cells if tag in _tags(c)]


def _setup(nb):
    return next(c for c in nb.cells if "setup" in _tags(c))


def _solution_lines(path: Path, inside_blocks: bool = True) -> set[str]:
    """Every line inside (or, with ``inside_blocks=False``, outside) the BEGIN/END SOLUTION blocks."""
    lines = set()
    for cell in nbformat.read(path, as_version=4).cells:
        inside = False
        for line in cell.source.split("\n"):
            s = line.strip()
            if s.startswith(BEGIN_SOLUTION):
                inside = True
            elif s.startswith(END_SOLUTION):
                inside = False
            elif inside == inside_blocks and len(s) >= 12:
                lines.add(s)
    return lines


# ---------------------------------------------------------------- the released notebooks
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_instructions_describe_the_stub_the_student_sees(path):
    nb = release_notebook(path)
    text = "\n".join(c.source for c in nb.cells)
    assert BEGIN_SOLUTION not in text and END_SOLUTION not in text and "BEGIN SOLUTION" not in text
    intro = " ".join(nb.cells[0].source.split())
    for stub_line in CODE_STUB:
        assert f"`{stub_line}`" in intro, f"the instructions do not name the stub line {stub_line!r}"
    assert "NAME = \"\"" in intro
    # every solution cell shows exactly that stub
    for cell in nb.cells:
        if any(t.startswith("solution:") for t in _tags(cell)):
            assert "\n".join(CODE_STUB) in cell.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_set_has_an_editable_name_cell_the_setup_uses(path):
    nb = release_notebook(path)
    names = _tagged(nb, "name")
    assert len(names) == 1, "one code cell tagged 'name'"
    cell = names[0]
    assert cell.cell_type == "code" and cell.metadata.get("editable", True) is True
    assert cell.metadata["deletable"] is False
    assert student_name(cell.source) == ("", None)
    setup = _setup(nb)
    assert nb.cells.index(cell) < nb.cells.index(setup), "the name cell comes before the setup cell"
    assert setup.metadata["editable"] is False
    data_lines = [line.split("#")[0].strip() for line in setup.source.split("\n") if line.startswith("data =")]
    assert data_lines == ["data = crm.course.student_data(NAME)"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_prose_questions_have_answer_cells(path):
    sol = nbformat.read(path, as_version=4)
    released = release_notebook(path)
    ids = [t for c in sol.cells for t in _tags(c) if t.startswith("answer:")]
    assert len(ids) == len(set(ids)), f"answer ids must be unique: {ids}"
    cells = sol.cells
    for i, cell in enumerate(cells[1:], start=1):
        if cell.cell_type != "markdown" or any(t.startswith("answer:") for t in _tags(cell)):
            continue
        body = "\n".join(line for line in cell.source.split("\n") if not line.startswith("#"))
        if not PROSE.search(body):
            continue
        following = []
        for nxt in cells[i + 1:]:
            if nxt.cell_type == "markdown" and not any(t.startswith("answer:") for t in _tags(nxt)):
                break
            following.append(nxt)
        assert any(t.startswith("answer:") for c in following for t in _tags(c)), (
            f"cell {i} asks for words but has no answer:<id> cell before the next prompt: {cell.source[:120]!r}")
    for cell in released.cells:
        if any(t.startswith("answer:") for t in _tags(cell)):
            assert cell.cell_type == "markdown" and "YOUR ANSWER HERE" in cell.source
            assert cell.metadata["deletable"] is False and "editable" not in cell.metadata


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_exercise_headings_carry_the_chinese_term(path):
    cjk = re.compile(r"[\u4e00-\u9fff]")
    headings = [line for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"
                for line in c.source.split("\n") if re.match(r"^#{1,3} ", line) and "SOLUTION" not in line]
    assert headings and not [h for h in headings if not cjk.search(h)]


def test_every_set_from_01_to_15_with_a_written_question_collects_it():
    with_answers = {p.name[:2] for p in SOLUTIONS
                    if any(t.startswith("answer:") for c in nbformat.read(p, as_version=4).cells for t in _tags(c))}
    # the sets whose prompts ask for words (05-08, 10-15) and the B2B sets
    assert {"05", "06", "07", "08", "10", "11", "12", "13", "14", "15", "17", "18"} <= with_answers


# ---------------------------------------------------------------- the dataset a name chooses
def test_student_data_is_the_course_dataset_or_the_students_own():
    course = student_data("")
    retail = crm.load_retail()
    pd.testing.assert_frame_equal(course.customers, retail.customers)
    assert course.config == retail.config and hasattr(course.config, "membership_effect")
    own = student_data("Li Lei")
    expected = crm.synth.generate(seed=student_seed("li_lei"))
    pd.testing.assert_frame_equal(own.transactions, expected.transactions)
    assert not own.transactions["amount"].equals(course.transactions["amount"])
    with pytest.raises(TypeError, match=r"NAME must be a string such as \"Alice Wang\""):
        student_data(None)


@pytest.mark.parametrize("source, expected", [
    ('NAME = "Li Lei"', ("Li Lei", None)),
    ('# my name\nNAME = "x"\nNAME = "Wang Fang"  # fixed', ("Wang Fang", None)),
    ("NAME = '王小明'", ("王小明", None)),
    ('NAME = ""', ("", None)),
    ("x = 1", (None, None)),
    ('if True:\n    NAME = "hidden"', (None, None)),
    ('NAME = "ok"\nNAME = open("/etc/passwd").read()', (None, "plain string")),
    ('NAME = "a" + "b"', (None, "plain string")),
    ('NAME = f"{1}"', (None, "plain string")),
    ('NAME = NAME2 = "x"', (None, "plain string")),
    ('NAME += "x"', (None, "plain string")),
    ('NAME = b"bytes"', (None, "plain string")),
    ('NAME = "' + "x" * 101 + '"', (None, "longer than 100")),
    ('NAME = " _ "', (None, "no letter or digit")),
    ('%time\nNAME = "Li Lei"', ("Li Lei", None)),
])
def test_student_name_reads_only_a_string_literal(source, expected):
    name, problem = student_name(source)
    assert name == expected[0]
    if expected[1] is None:
        assert problem is None
    else:
        assert expected[1] in problem


MALICIOUS = [
    'NAME = "Li Lei"\nimport os; os.system("touch /tmp/crmlab-pwned")',
    'NAME = "Li Lei"\ncheck.rfm = lambda *a, **k: None\ncrm.course.student_data = lambda n: None',
    'NAME = "Li Lei"\ndata = crm.load_retail()\n__import__("builtins").print = None',
    'NAME = "Li Lei"; data = crm.synth.generate(seed=1, n_customers=__import__("os").getpid())',
    'NAME = "Li Lei\\"); import os; (\\""',
    'NAME = """Li Lei\n"""\nexec("x")',
]


@pytest.mark.parametrize("source", MALICIOUS)
def test_a_malicious_name_cell_only_ever_sets_the_name(source):
    path = next(p for p in SOLUTIONS if p.name.startswith("02_"))
    ex_set = ExerciseSet.from_solution(path)
    nb = release_notebook(path)
    _tagged(nb, "name")[0].source = source
    restored, _ = restore_official_cells(nb, ex_set)
    setup = _setup(restored).source
    lines = setup.split("\n")
    name_lines = [line for line in lines if line.startswith("NAME")]
    assert len(name_lines) == 1
    value = ast.literal_eval(name_lines[0].split("=", 1)[1].strip())
    assert isinstance(value, str)
    # apart from that one line, the setup the checks run is the official one, byte for byte
    assert "\n".join(line for line in lines if line not in name_lines) == ex_set.setup_source
    for needle in ("os.system", "lambda", "exec(", "getpid", "print"):
        assert needle not in setup
    tree = ast.parse(name_lines[0])
    assert isinstance(tree.body[0], ast.Assign) and isinstance(tree.body[0].value, ast.Constant)


def test_the_official_setup_gets_the_literal_name():
    path = next(p for p in SOLUTIONS if p.name.startswith("05_"))
    ex_set = ExerciseSet.from_solution(path)
    nb = release_notebook(path)
    _tagged(nb, "name")[0].source = 'NAME = "Li Lei"'
    setup = _setup(restore_official_cells(nb, ex_set)[0]).source
    assert 'NAME = "Li Lei"\ndata = crm.course.student_data(NAME)' in setup
    # no name cell at all: the course dataset, and NAME is still defined for the setup
    nb.cells.remove(_tagged(nb, "name")[0])
    setup = _setup(restore_official_cells(nb, ex_set)[0]).source
    assert 'NAME = ""\ndata = crm.course.student_data(NAME)' in setup
    # --per-student-data: the file name decides, whatever the cell says
    nb = release_notebook(path)
    _tagged(nb, "name")[0].source = 'NAME = "Someone Else"'
    setup = _setup(restore_official_cells(nb, ex_set, student="li_lei", per_student_data=True)[0]).source
    assert "crm.synth.generate(seed=crm.course.student_seed('li_lei'))" in setup
    assert "Someone Else" not in setup


# ---------------------------------------------------------------- grading with the name cell
def _name_set(folder: Path) -> Path:
    """The demo set with a name cell and a setup whose data follow NAME, as the course sets have."""
    nb = nbformat.read(DEMO, as_version=4)
    setup = _setup(nb)
    setup.source = setup.source.replace(
        "def make_data(seed=0, n_customers=12):",
        "def make_data(seed=0, n_customers=12, name=''):").replace(
        '    rng = np.random.default_rng(seed)',
        '    rng = np.random.default_rng(crm.course.student_seed(name) if name else seed)').replace(
        "data = make_data(seed=0)", "data = make_data(name=NAME)")
    name = nbformat.v4.new_code_cell('NAME = ""')
    name.metadata["tags"] = ["name"]
    nb.cells.insert(nb.cells.index(setup), name)
    answer = nbformat.v4.new_markdown_cell(f"**Your answer (书面回答)** — Why?\n\n{BEGIN_SOLUTION}\nBecause.\n{END_SOLUTION}")
    answer.metadata["tags"] = ["answer:why_top"]
    nb.cells.append(answer)
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "90_demo.ipynb")
    return folder / "90_demo.ipynb"


@pytest.fixture(scope="module")
def graded_names(tmp_path_factory):
    base = tmp_path_factory.mktemp("names")
    sol_path = _name_set(base / "solutions")
    sol = nbformat.read(sol_path, as_version=4)
    subs = base / "subs"
    subs.mkdir()

    def variant(student, name_source, answer=None, **solutions):
        nb = nbformat.read(sol_path, as_version=4)
        _tagged(nb, "name")[0].source = name_source
        for ex_id, source in solutions.items():
            _tagged(nb, f"solution:{ex_id}")[0].source = source
        if answer is not None:
            _tagged(nb, "answer:why_top")[0].source = answer
        nbformat.write(nb, subs / f"{student}_90_demo.ipynb")

    # right on Kate's own data
    variant("kate li", 'NAME = "Kate Li"', answer="**Your answer (书面回答)** — Why?\n\nThey buy most often.")
    # Kate's name, but the spend of the course dataset pasted in: wrong for her data
    variant("leo", 'NAME = "Kate Li"',
            total_spend="spend = make_data(seed=0).transactions.groupby('customer_id')['amount'].sum()")
    # a name cell that tries to disable a check and leave files behind, with a wrong answer
    variant("mal", 'NAME = "Mal"\ncheck.n_buyers = lambda *a: None\nopen("planted.py", "w").write("x")',
            n_buyers="buyers = -1")
    # a name cell that computes its name: the course dataset, and a note
    variant("nia", 'NAME = "N" + "ia"')
    nbformat.write(release_notebook(sol_path), subs / "olaf_90_demo.ipynb")  # untouched student version
    book = grade(subs, solutions_dir=base / "solutions", out=base / "out" / "grades.csv", timeout=10,
                 progress=False, jobs=2).set_index("student")
    return book, base, sol


def test_the_grader_checks_on_the_dataset_the_name_chooses(graded_names):
    book, _, _ = graded_names
    assert book.loc["kate li", "total"] == 100.0, book.loc["kate li", "note"]
    assert int(book.loc["leo", "ex90.total_spend"]) == 0 and int(book.loc["leo", "ex90.n_buyers"]) == 1
    assert "the name cell says 'Kate Li', the file name 'leo'" in book.loc["leo", "note"]
    assert int(book.loc["mal", "ex90.n_buyers"]) == 0 and int(book.loc["mal", "ex90.total_spend"]) == 1
    assert int(book.loc["nia", "points"]) == int(book.loc["nia", "max"])  # course dataset, answers computed on it
    assert "the name cell must set NAME to a plain string" in book.loc["nia", "note"]


def test_written_answers_reach_the_feedback_file(graded_names):
    _, base, _ = graded_names
    kate = (base / "out" / "feedback" / feedback_filename("kate li")).read_text(encoding="utf-8")
    assert "### Written answers (for the instructor to read)" in kate
    assert "**why_top**" in kate and "> They buy most often." in kate
    olaf = (base / "out" / "feedback" / feedback_filename("olaf")).read_text(encoding="utf-8")
    assert "*(not answered)*" in olaf and "Because." not in olaf


# ---------------------------------------------------------------- the student bundle
@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "course"
    report = release_bundle(out, root=ROOT)
    return out, report


def _bundle_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def test_bundle_holds_the_course_and_the_student_sets_only(bundle):
    out, report = bundle
    rel = {str(p.relative_to(out)) for p in _bundle_files(out)}
    assert {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")} <= rel
    assert {f"exercises/{p.name}" for p in SOLUTIONS} <= rel
    assert {"README.md", "notebooks/GLOSSARY.md", "datasets/README.md", BUNDLE_MANIFEST} <= rel
    assert "benchmarks/results/bench_summary.json" in rel  # notebook 16 reads it
    assert not [r for r in rel if "solution" in r or "answer_key" in r or r.endswith((".py", ".pyc"))]
    assert not [r for r in rel if r.startswith(("crmlab/", "tests/", "tools/", ".ci/"))]
    for p in SOLUTIONS:
        assert (out / "exercises" / p.name).read_bytes() == (ROOT / "exercises" / p.name).read_bytes()
    assert len(report["written"]) == len(rel) - 1 and not report["kept"]


def test_no_solution_line_appears_anywhere_in_the_bundle(bundle):
    out, _ = bundle
    solution = set().union(*(_solution_lines(p) for p in SOLUTIONS))
    assert len(solution) > 200
    # a line an instructor wrote outside the blocks too (e.g. `tx = data.transactions` in a setup cell) is shown
    solution -= set().union(*(_solution_lines(p, inside_blocks=False) for p in SOLUTIONS))
    assert len(solution) > 200
    keys = ROOT / "exercises" / "solutions" / "answer_keys"
    key_lines = {line.strip() for p in keys.glob("*.md") for line in p.read_text(encoding="utf-8").split("\n")
                 if len(line.strip()) >= 30} if keys.is_dir() else set()
    # the course notebooks teach some calls an exercise then applies (e.g. rfm_scores(rfm, bins=5));
    # those lines are course material, everything else of a solution must stay out of every file
    taught = {line.strip() for p in (ROOT / "notebooks").glob("*.ipynb")
              for c in nbformat.read(p, as_version=4).cells for line in c.source.split("\n")}
    leaks = []
    for path in _bundle_files(out):
        if path.suffix not in (".ipynb", ".md", ".json", ".txt"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            nb = json.loads(text)
            lines = {line.strip() for c in nb["cells"] for line in "".join(c["source"]).split("\n")}
            lines |= {line.strip() for c in nb["cells"] for o in c.get("outputs", [])
                      for line in "".join(o.get("text", "")).split("\n")}
        else:
            lines = {line.strip() for line in text.split("\n")}
        in_course = path.parent.name == "notebooks"
        bad = (lines & (solution - taught if in_course else solution)) | (lines & key_lines)
        leaks += [(str(path.relative_to(out)), line) for line in sorted(bad)]
    assert not leaks, leaks[:10]


def test_every_relative_link_in_the_bundle_resolves_inside_it(bundle):
    out, _ = bundle
    link = re.compile(r"\]\(([^)\s]+)\)")
    broken = []
    for path in _bundle_files(out):
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
        else:
            continue
        for m in link.finditer(text):
            target = m.group(1).split("#")[0]
            if target and not re.match(r"^[a-z]+:", target):
                resolved = (path.parent / target).resolve()
                if not resolved.exists() or out.resolve() not in resolved.parents:
                    broken.append((str(path.relative_to(out)), target))
    assert not broken, broken


def _course_root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "exercises" / "solutions" / "answer_keys").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 00 (入门)")]),
                   root / "notebooks" / "00_intro.ipynb")
    (root / "notebooks" / "GLOSSARY.md").write_text("# Glossary\n", encoding="utf-8")
    (root / "exercises" / "solutions" / "90_demo.ipynb").write_bytes(DEMO.read_bytes())
    (root / "exercises" / "solutions" / "answer_keys" / "00_intro.md").write_text(
        "The instructor's answer that must never reach a student.\n", encoding="utf-8")
    return root


def test_refreshing_a_bundle_never_overwrites_a_students_file(tmp_path):
    root = _course_root(tmp_path)
    out = tmp_path / "lab"
    first = release_bundle(out, root=root)
    ex = out / "exercises" / "90_demo.ipynb"
    assert ex in first["written"] and not (out / "exercises" / "solutions").exists()
    assert not any("instructor's answer" in p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    # the student works on the set; the instructor then changes the set and the course
    mine = json.loads(ex.read_text(encoding="utf-8"))
    mine["cells"][0]["source"] = "my notes"
    ex.write_text(json.dumps(mine), encoding="utf-8")
    edited = ex.read_bytes()
    sol = nbformat.read(root / "exercises" / "solutions" / "90_demo.ipynb", as_version=4)
    sol.cells[0].source += "\n\nA new paragraph."
    nbformat.write(sol, root / "exercises" / "solutions" / "90_demo.ipynb")
    intro = nbformat.read(root / "notebooks" / "00_intro.ipynb", as_version=4)
    intro.cells[0].source += "\n\nNew."
    nbformat.write(intro, root / "notebooks" / "00_intro.ipynb")
    (out / "notebooks" / "GLOSSARY.md").unlink()  # a deleted file comes back
    (out / "README.md").unlink()
    (out / "README.md").symlink_to(root / "notebooks" / "GLOSSARY.md")  # never written through
    second = release_bundle(out, root=root)
    assert ex.read_bytes() == edited and ex in second["kept"]
    assert "New." in (out / "notebooks" / "00_intro.ipynb").read_text(encoding="utf-8")
    assert (out / "notebooks" / "GLOSSARY.md").is_file()
    assert (out / "README.md") in second["kept"]
    assert (root / "notebooks" / "GLOSSARY.md").read_text(encoding="utf-8") == "# Glossary\n"
    third = release_bundle(out, root=root)
    assert not third["written"] and ex in third["kept"]


def test_bundle_arguments_and_command_line(tmp_path):
    root = _course_root(tmp_path)
    with pytest.raises(ValueError, match="must not be the course repository"):
        release_bundle(root, root=root)
    with pytest.raises(ValueError, match="inside the solutions folder"):
        release_bundle(root / "exercises" / "solutions" / "x", root=root)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        release_bundle(tmp_path / "file", root=root)
    app = typer.Typer()

    @app.callback()
    def main():
        pass

    register(app)
    runner = CliRunner()
    args = ["release", "--root", str(root), "--solutions", str(root / "exercises" / "solutions")]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "bundle")])
    assert res.exit_code == 0, res.output
    assert "Student bundle in" in res.output and (tmp_path / "bundle" / "exercises" / "90_demo.ipynb").is_file()
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "bundle"), "--check"])
    assert res.exit_code == 2 and res.output.startswith("Error: --check")
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "file")])
    assert res.exit_code == 2 and "is a file" in res.output


def test_make_lab_opens_the_bundle_not_the_repository():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlab: setup-lab\n", 1)[1].split("\n\n", 1)[0]
    assert '$(BIN)/crmlab release --out "$(LAB_DIR)"' in recipe
    assert '--ServerApp.root_dir="$(abspath $(LAB_DIR))"' in recipe and "$(CURDIR)" not in recipe
    assert "lab/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_grade_without_free_sandbox_slots_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    import crmlab.course.grade as grading

    def busy(*args, **kwargs):
        raise RuntimeError("only 0 of 2 sandbox slots are free on this machine: other grading runs hold the rest")

    monkeypatch.setattr(grading, "grade", busy)
    app = typer.Typer()

    @app.callback()
    def main():
        pass

    register(app)
    (tmp_path / "subs").mkdir()
    res = CliRunner().invoke(app, ["grade", str(tmp_path / "subs"), "--solutions", str(DEMO.parent)])
    assert res.exit_code == 1 and res.output.startswith("Error: only 0 of 2 sandbox slots are free")
