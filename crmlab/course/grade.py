"""Grade a folder of submitted exercise notebooks; verdicts are decided outside student code.

``grade("submissions/")`` (command line: ``crmlab grade submissions/ --out grades.csv``)
grades every ``*.ipynb`` below the folder and returns (and writes) a gradebook with one
row per student and exercise set (see :mod:`crmlab.course.gradebook`).

Naming convention
-----------------
A submission belongs to the exercise set whose ``NN_`` number it carries:
``alice_02_segmentation.ipynb`` (student ``alice``) or ``alice/02_segmentation.ipynb``
(student = first folder below the submissions folder). The student name is everything
before ``NN_`` in the file name. When a student handed in several files for one set,
the newest (by modification time) is graded and the note names the others. Only regular
``*.ipynb`` files are read (never through a symlink, a FIFO or a device); nothing else in
the submissions folder is read or executed.

How a submission is graded
--------------------------
1. **Official cells.** The official setup cell (tag ``setup``) and check cells (tag
   ``exercise:<id>``) are copied back from the solution notebook by tag; a check cell
   goes right after the student's ``solution:<id>`` cell wherever the student moved,
   edited or deleted it.
2. **Data.** The dataset is the official one, or the student's own when the setup cell
   (or a code cell tagged ``name``) holds only ``NAME = "..."`` and a plain
   ``data = crm.synth.generate(seed=crm.course.student_seed(NAME))`` line (literal
   arguments only). With ``per_student_data=True`` the dataset of the student named in
   the file name is imposed instead.
3. **Sandboxed run.** The notebook runs in a fresh kernel inside a sandbox
   (:mod:`crmlab.course.sandbox`): its own scratch folder holding only a copy of the
   notebook, no view of the solutions, other submissions, gradebook or feedback, memory,
   process and file-size limits, a time limit per cell and one wall-clock limit per
   notebook. Each check cell is replaced by a cell that *exports* the answers it would
   have passed to the check, as data only (:mod:`crmlab.course.export`).
4. **Trusted checks.** A separate process that runs no student code
   (:mod:`crmlab.course.checker`) runs the official setup (with the allowed data line)
   to rebuild ``data``, reads the exported answers with strict readers and evaluates the
   official check call on them. An exercise passes when the check returns. Whatever the
   student's code redefined in its kernel (the check, comparison helpers, reference
   functions, IPython hooks, ``data``) has no effect on the verdict.

A cell that loops, floods output, kills or stops its kernel fails only the exercises it
prevents from being answered; a broken file gets zeros and a note; the run always
finishes. ``jobs`` notebooks run in parallel, and ``shard=(i, n)`` grades the i-th of n
deterministic parts of the class (one student is always in one part), to be joined by
:func:`crmlab.course.gradebook.merge_gradebooks` (``crmlab grade-merge``).

Written answers: markdown or raw cells tagged ``answer:<id>`` are copied into the
feedback file for the instructor to read.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import nbformat
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("Grading exercise sets needs nbformat: pip install 'crmlab[grade]'.") from exc
import pandas as pd

from crmlab.validation import check_positive_int

__all__ = [
    "grade",
    "grade_notebook",
    "restore_official_cells",
    "parse_submission_name",
    "ExerciseSet",
    "NotebookResult",
]

_SET_FILE = re.compile(r"^(\d{2})_[A-Za-z0-9_]+$")
_SET_IN_NAME = re.compile(r"(?:^|[_\-\s.])(\d{2})_[A-Za-z]")
DEFAULT_STUDENT_DATA = "crm.synth.generate(seed={seed})"
MAX_NOTEBOOK_BYTES = 32 * 2**20
_NOTEBOOK_DEPTH = 64
WEAK_NOTE = ("weaker isolation: the kernel ran as a plain child process with resource limits, able to read "
             "what the grader can read (the namespace sandbox needs Linux, root and unshare)")


# ----------------------------------------------------------------------------- exercise sets
@dataclass
class Exercise:
    """One exercise of a set: its id, check cell and grading weights."""

    id: str
    check_source: str
    check_metadata: dict
    points: float = 1.0
    concepts: tuple[str, ...] = ()
    call: str = ""
    exports: tuple = ()


@dataclass
class ExerciseSet:
    """What grading needs from a solution notebook: setup cell and check cells, by tag."""

    name: str
    path: Path
    setup_source: str | None
    setup_metadata: dict
    exercises: list[Exercise]

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def max_points(self) -> float:
        return float(sum(e.points for e in self.exercises))

    def column(self, exercise_id: str) -> str:
        return f"ex{self.number}.{exercise_id}"

    @classmethod
    def from_solution(cls, path) -> ExerciseSet:
        """Read the official cells of ``exercises/solutions/NN_topic.ipynb``."""
        path = Path(path)
        if not _SET_FILE.match(path.stem):
            raise ValueError(f"solution notebook {path.name!r} must be named NN_topic.ipynb, e.g. 02_segmentation.ipynb.")
        nb = nbformat.read(str(path), as_version=4)
        setup_source, setup_meta = None, {}
        exercises: list[Exercise] = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            tags = _tags(cell)
            if "setup" in tags and setup_source is None:
                setup_source, setup_meta = cell.source, copy.deepcopy(dict(cell.metadata))
            ids = [t.split(":", 1)[1] for t in tags if t.startswith("exercise:")]
            if not ids:
                continue
            if len(ids) > 1:
                raise ValueError(f"{path.name}: a check cell has several exercise tags {ids}; use one per cell.")
            points = 1.0
            for t in tags:
                if t.startswith("points:"):
                    try:
                        points = float(t.split(":", 1)[1])
                    except ValueError:
                        raise ValueError(f"{path.name}: tag {t!r} must be points:<number>, e.g. points:2.") from None
            if any(e.id == ids[0] for e in exercises):
                raise ValueError(f"{path.name}: exercise id {ids[0]!r} is used by two check cells; ids must be unique.")
            call, exports = _check_call(cell.source, f"{path.name}, exercise:{ids[0]}")
            exercises.append(Exercise(
                id=ids[0], check_source=cell.source, check_metadata=copy.deepcopy(dict(cell.metadata)),
                points=points, concepts=tuple(t.split(":", 1)[1] for t in tags if t.startswith("concept:")),
                call=call, exports=tuple(exports),
            ))
        if not exercises:
            raise ValueError(f"{path.name} has no check cells tagged exercise:<id>; nothing to grade.")
        return cls(name=path.stem, path=path, setup_source=setup_source, setup_metadata=setup_meta,
                   exercises=exercises)


def _tags(cell) -> list[str]:
    return [str(t) for t in cell.get("metadata", {}).get("tags", [])]


# ----------------------------------------------------------------------------- names
def parse_submission_name(path, root) -> tuple[str | None, str | None]:
    """Return ``(student, set_number)`` from a submission path, ``None`` where unknown.

    >>> from pathlib import Path
    >>> parse_submission_name(Path("subs/alice_wang_02_segmentation.ipynb"), Path("subs"))
    ('alice_wang', '02')
    >>> parse_submission_name(Path("subs/bob/02_segmentation.ipynb"), Path("subs"))
    ('bob', '02')
    """
    path, root = Path(path), Path(root)
    stem = path.stem
    matches = list(_SET_IN_NAME.finditer(stem))
    number = matches[-1].group(1) if matches else None
    prefix = stem[: matches[-1].start(1)].strip("_- .") if matches else ""
    student = prefix or None
    if student is None:
        try:
            parts = path.parent.relative_to(root).parts
        except ValueError:
            parts = ()
        if parts:
            student = parts[0]
    return student, number


# ----------------------------------------------------------------------------- restoring cells
def _data_line_ok(line: str, allowed_callees: set[str]) -> bool:
    """True when ``line`` is ``data = <allowed>(<literals / NAME / student_seed(...)>)``."""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return False
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return False
    node = tree.body[0]
    if [ast.unparse(t) for t in node.targets] != ["data"] or not isinstance(node.value, ast.Call):
        return False
    call = node.value
    if ast.unparse(call.func) not in allowed_callees:
        return False

    def ok_arg(arg: ast.expr) -> bool:
        if isinstance(arg, ast.Constant) or (isinstance(arg, ast.Name) and arg.id == "NAME"):
            return True
        if isinstance(arg, ast.Call) and ast.unparse(arg.func) in {"crm.course.student_seed",
                                                                 "crmlab.course.student_seed"}:
            return (len(arg.args) == 1 and not arg.keywords
                    and (isinstance(arg.args[0], ast.Constant) or ast.unparse(arg.args[0]) == "NAME"))
        return False

    return all(ok_arg(a) for a in call.args) and all(ok_arg(k.value) for k in call.keywords if k.arg)


def _official_data_callee(setup_source: str) -> str | None:
    for line in setup_source.split("\n"):
        try:
            tree = ast.parse(line.strip())
        except SyntaxError:
            continue
        first = tree.body[0] if len(tree.body) == 1 else None
        if (isinstance(first, ast.Assign) and [ast.unparse(t) for t in first.targets] == ["data"]
                and isinstance(first.value, ast.Call)):
            return ast.unparse(first.value.func)
    return None


def _replace_data_line(setup_source: str, new_lines: list[str]) -> str:
    lines = setup_source.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^\s*data\s*=", line):
            indent = line[: len(line) - len(line.lstrip())]
            return "\n".join(lines[:i] + [indent + new.strip() for new in new_lines] + lines[i + 1:])
    return "\n".join(lines + new_lines)


MAX_NAME_CHARS = 100


def _name_assignments(source: str) -> list[ast.stmt]:
    """The top-level statements of ``source`` that bind ``NAME`` (line by line if it does not parse)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = []
        for line in source.split("\n"):
            if line[:1].isspace():
                continue  # an indented line belongs to a block: it may never run
            try:
                body += ast.parse(line).body
            except SyntaxError:
                continue

    def binds(stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Assign):
            return any(isinstance(n, ast.Name) and n.id == "NAME" for t in stmt.targets for n in ast.walk(t))
        if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            return isinstance(stmt.target, ast.Name) and stmt.target.id == "NAME"
        return False

    return [stmt for stmt in body if binds(stmt)]


def student_name(source: str | None) -> tuple[str | None, str | None]:
    """Read the student's name from a name cell: ``(name, problem)``.

    Only a plain top-level ``NAME = "..."`` (a string literal, the last binding of
    ``NAME`` in the cell) counts; nothing of the cell is ever run by the grader.
    ``name`` is None when the cell sets no usable name (``problem`` then says why,
    or is None when the cell does not mention ``NAME``); ``""`` means the course dataset.

    >>> student_name('NAME = "Li Lei"  # my name')
    ('Li Lei', None)
    >>> student_name('NAME = open("/etc/passwd").read()')[1]
    'the name cell must set NAME to a plain string such as NAME = "Li Lei"'
    """
    if not source:
        return None, None
    found = _name_assignments(source)
    if not found:
        return None, None
    last = found[-1]
    value = last.value if isinstance(last, ast.Assign) else None
    if (not isinstance(last, ast.Assign) or len(last.targets) != 1 or not isinstance(last.targets[0], ast.Name)
            or not isinstance(value, ast.Constant) or not isinstance(value.value, str)):
        return None, 'the name cell must set NAME to a plain string such as NAME = "Li Lei"'
    name = value.value
    if len(name) > MAX_NAME_CHARS:
        return None, f"the name in the name cell is longer than {MAX_NAME_CHARS} characters"
    if name.strip():
        from crmlab.course.seeds import normalize_name

        try:
            normalize_name(name)
        except ValueError:
            return None, f"the name {name!r} in the name cell has no letter or digit"
    return name, None


def _name_line(name: str) -> str:
    # JSON's string syntax is a subset of Python's: the literal evaluates back to ``name``
    line = "NAME = " + json.dumps(name, ensure_ascii=False)
    assert ast.literal_eval(line.split("=", 1)[1].strip()) == name
    return line


def _setup_source(official: str, student_setup: str | None, student: str | None,
                  per_student_data: bool | str, name_cell: str | None = None) -> str:
    """The setup the kernel and the trusted checks run: the official cell with the allowed data line.

    From the student's cells only two things are taken, each parsed, never run: the name
    (a string literal, :func:`student_name`) and a data line of the allowed form
    (:func:`_data_line_ok`). The official setup then gets ``NAME = "<name>"`` (when it or
    the data line uses ``NAME``) and that data line.
    """
    uses_name = re.search(r"\bNAME\b", official) is not None
    if per_student_data:
        template = DEFAULT_STUDENT_DATA if per_student_data is True else per_student_data
        file_name = student if student is not None else ""
        seed = f"crm.course.student_seed({file_name!r})"
        lines = [f"data = {template.format(seed=seed)}"]
        if uses_name:
            lines.insert(0, _name_line(file_name))
        return _replace_data_line(official, lines)
    name: str | None = None
    for source in (name_cell, student_setup):
        name = student_name(source)[0]
        if name is not None:
            break
    official_data = _official_line(official)
    data_line = official_data
    callees = {"crm.synth.generate", "crmlab.synth.generate"}
    official_callee = _official_data_callee(official)
    if official_callee:
        callees.add(official_callee)
    student_lines = "\n".join(s for s in (student_setup, name_cell) if s).split("\n")
    kept_data = [line for line in student_lines if not line.lstrip().startswith("#") and _data_line_ok(line, callees)]
    if kept_data:
        data_line = kept_data[-1].strip()
    needs_name = uses_name or (data_line is not None and re.search(r"\bNAME\b", data_line) is not None)
    if needs_name and name is None and not uses_name:
        return official  # the student's data line names NAME but no name is set: the course dataset
    keep = ([_name_line(name or "")] if needs_name else []) + ([data_line] if data_line else [])
    if not needs_name and data_line == official_data:
        return official
    return _replace_data_line(official, keep)


def _official_line(setup_source: str) -> str | None:
    for line in setup_source.split("\n"):
        if re.match(r"^\s*data\s*=", line):
            return line.strip()
    return None


def _name_cell_source(cells) -> str | None:
    """The source of the first code cell tagged ``name`` (None when there is none)."""
    return next((c.source for c in cells if c.cell_type == "code" and "name" in _tags(c)), None)


def _new_code_cell(source: str, metadata: dict):
    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata = nbformat.from_dict(copy.deepcopy(metadata))
    return cell


def restore_official_cells(nb, exercise_set: ExerciseSet, *, student: str | None = None,
                           per_student_data: bool | str = False):
    """Return a copy of a submitted notebook with the official setup and check cells.

    Parameters
    ----------
    nb : the submitted notebook (``nbformat.NotebookNode``).
    exercise_set : the official cells (:meth:`ExerciseSet.from_solution`).
    student : the student's name (used with ``per_student_data``).
    per_student_data : False keeps a student's own ``crm.synth.generate(seed=...)`` data
        line; True (or an expression template with ``{seed}``) imposes the dataset of
        ``student``.

    Returns
    -------
    (notebook, roles)
        ``roles`` maps each code-cell index to ``("setup", None)``,
        ``("check", id)``, ``("solution", id)`` or ``("other", None)``.
    """
    nb = copy.deepcopy(nb)
    cells = list(nb.cells)
    official_ids = [e.id for e in exercise_set.exercises]

    # setup cell
    if exercise_set.setup_source is not None:
        setup_idx = [i for i, c in enumerate(cells) if c.cell_type == "code" and "setup" in _tags(c)]
        student_setup = cells[setup_idx[0]].source if setup_idx else None
        name_cell = _name_cell_source(cells)
        source = _setup_source(exercise_set.setup_source, student_setup, student, per_student_data, name_cell)
        new = _new_code_cell(source, exercise_set.setup_metadata)
        if setup_idx:
            cells[setup_idx[0]] = new
            for i in setup_idx[1:]:
                cells[i].metadata["tags"] = [t for t in _tags(cells[i]) if t != "setup"]
        else:
            first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
            cells.insert(first_code, new)
    else:
        for c in cells:
            if "setup" in _tags(c):
                c.metadata["tags"] = [t for t in _tags(c) if t != "setup"]

    # check cells: strip exercise tags the official set does not have, then restore by id
    for c in cells:
        if any(t.startswith("exercise:") and t.split(":", 1)[1] not in official_ids for t in _tags(c)):
            c.metadata["tags"] = [t for t in _tags(c)
                                  if not (t.startswith("exercise:") and t.split(":", 1)[1] not in official_ids)]
    previous = None
    for ex in exercise_set.exercises:
        new = _new_code_cell(ex.check_source, ex.check_metadata)
        tagged = [i for i, c in enumerate(cells) if c.cell_type == "code"
                  and f"exercise:{ex.id}" in _tags(c)]
        sol = [i for i, c in enumerate(cells) if c.cell_type == "code" and f"solution:{ex.id}" in _tags(c)]
        if tagged:
            same = [i for i in tagged if cells[i].source == ex.check_source]
            keep = same[0] if same else tagged[0]
            for i in tagged:
                if i != keep:  # a copy: keep the student's code, drop the exercise tags
                    cells[i].metadata["tags"] = [t for t in _tags(cells[i]) if not t.startswith(("exercise:", "points:", "concept:"))]
            if not sol or keep > sol[-1]:
                cells[keep] = new
                previous = new
                continue
            cells.pop(keep)  # dragged above its solution: put it back after the solution cell
            sol = [i for i, c in enumerate(cells) if c.cell_type == "code" and f"solution:{ex.id}" in _tags(c)]
        if sol:
            pos = sol[-1] + 1
        elif previous is not None:
            pos = next(i for i, c in enumerate(cells) if c is previous) + 1
        else:
            pos = len(cells)
        cells.insert(pos, new)
        previous = new

    for c in cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    nb.cells = cells
    # always run with the course's Python kernel, whatever the submission says
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    roles: dict[int, tuple[str, str | None]] = {}
    setup_seen = False
    for k, c in enumerate(c for c in cells if c.cell_type == "code"):
        tags = _tags(c)
        check_ids = [t.split(":", 1)[1] for t in tags if t.startswith("exercise:")]
        sol_ids = [t.split(":", 1)[1] for t in tags if t.startswith("solution:")]
        if "setup" in tags and not setup_seen:
            setup_seen = True
            roles[k] = ("setup", None)
        elif check_ids:
            roles[k] = ("check", check_ids[0])
        elif sol_ids:
            roles[k] = ("solution", sol_ids[0])
        else:
            roles[k] = ("other", None)
    return nb, roles


# ----------------------------------------------------------------------------- check calls
def _check_call(source: str, where: str) -> tuple[str, list[tuple[str, str]]]:
    """Split an official check cell into the trusted call and the answers to export.

    Returns ``(call_source, [(key, answer_expression), ...])``: every argument that is
    not ``data`` and not a literal is an answer, evaluated in the student's kernel and
    replaced by ``__answer_<key>__`` in the call the trusted process runs.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the check cell is not valid Python ({exc.msg}).") from None
    calls = [n.value for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    if len(tree.body) != 1 or len(calls) != 1:
        raise ValueError(f"{where}: a check cell must be one call such as check.rfm(rfm, data), got {source!r}.")
    call = calls[0]
    exports: list[tuple[str, str]] = []

    def swap(node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Name) and node.id == "data":
            return node
        try:
            ast.literal_eval(node)
            return node
        except ValueError:
            pass
        key = str(len(exports))
        exports.append((key, ast.unparse(node)))
        return ast.Name(id=f"__answer_{key}__", ctx=ast.Load())

    call.args = [swap(a) for a in call.args]
    for kw in call.keywords:
        kw.value = swap(kw.value)
    if not exports:
        raise ValueError(f"{where}: the check cell passes no answer to the check: {source!r}.")
    return ast.unparse(tree), exports


def _export_source(index: int, exports: list[tuple[str, str]]) -> str:
    getters = ", ".join(f"{key!r}: (lambda: ({expr}))" for key, expr in exports)
    return (f"__import__('crmlab.course.export', fromlist=['export_answers'])"
            f".export_answers('e{index}', {{{getters}}})")


# ----------------------------------------------------------------------------- results
@dataclass
class NotebookResult:
    """Outcome of grading one submission."""

    passed: dict[str, bool] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)


@dataclass
class _Job:
    """One submission on its way through the sandbox and the trusted checks."""

    key: str
    exercise_set: ExerciseSet
    nb: Any  # nbformat.NotebookNode
    roles: dict
    setup: str
    written: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _fill_messages(result: NotebookResult, message: str) -> NotebookResult:
    for ex_id in result.passed:
        result.messages.setdefault(ex_id, message)
    return result


def _read_notebook_text(path: Path) -> str:
    """The text of a regular file of bounded size, opened without following links or blocking."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise _Unreadable(f"not read: the submission is {kind}, not a saved notebook file")
    if st.st_size > MAX_NOTEBOOK_BYTES:
        raise _Unreadable(f"not read: the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise _Unreadable(f"not read: the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    return raw.decode("utf-8")


class _Unreadable(Exception):
    pass


def _prepare(path: Path, exercise_set: ExerciseSet, key: str, *, student, per_student_data):
    """Read and restore one submission: a job to run, or a finished result when unreadable."""
    from crmlab.course.export import _json_depth

    result = NotebookResult(passed={e.id: False for e in exercise_set.exercises})
    try:
        text = _read_notebook_text(path)
        if _json_depth(text, _NOTEBOOK_DEPTH) > _NOTEBOOK_DEPTH:
            raise ValueError(f"it is nested deeper than {_NOTEBOOK_DEPTH} levels")
        json.loads(text)
    except _Unreadable as exc:
        result.notes.append(str(exc))
        return None, _fill_messages(result, "the notebook could not be read")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        result.notes.append(f"not valid JSON ({type(exc).__name__}: {str(exc)[:200]}); is the file a saved notebook?")
        return None, _fill_messages(result, "the notebook could not be read")
    except OSError as exc:
        result.notes.append(f"could not read the file ({exc})")
        return None, _fill_messages(result, "the notebook could not be read")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a submission's missing cell ids are not the instructor's concern
            nb = nbformat.reads(text, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
        for cell in nb.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                raise ValueError("a cell has no valid type or source")
            if not isinstance(cell.get("metadata", {}), dict) or not isinstance(cell.get("metadata", {}).get("tags", []), list):
                raise ValueError("a cell has malformed metadata")
            cell.setdefault("metadata", nbformat.NotebookNode())
        graded, roles = restore_official_cells(nb, exercise_set, student=student, per_student_data=per_student_data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(graded)
    except Exception as exc:  # noqa: BLE001 - any malformed notebook is graded with zeros
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        result.notes.append(f"not a valid notebook ({type(exc).__name__}: {first})")
        return None, _fill_messages(result, "the notebook could not be read")
    result_notes = _name_notes(nb, exercise_set, student, per_student_data)
    written = {}
    for cell in nb.cells:
        if cell.cell_type in ("markdown", "raw"):
            for t in _tags(cell):
                if t.startswith("answer:"):
                    written[t.split(":", 1)[1]] = _written_answer(cell.source)
    setup = next((c.source for k, c in enumerate(c for c in graded.cells if c.cell_type == "code")
                  if roles.get(k, ("",))[0] == "setup"), exercise_set.setup_source or "")
    index = {e.id: k for k, e in enumerate(exercise_set.exercises)}
    for k, c in enumerate(c for c in graded.cells if c.cell_type == "code"):
        role, ex_id = roles.get(k, ("other", None))
        if role == "check":
            ex = exercise_set.exercises[index[ex_id]]
            c.source = _export_source(index[ex_id], list(ex.exports))
    return _Job(key=key, exercise_set=exercise_set, nb=graded, roles=roles, setup=setup, written=written,
                notes=result_notes), None


def _written_answer(source: str) -> str:
    """A written answer as the instructor reads it: marked when the student wrote nothing."""
    text = source[:5000]
    lines = text.strip().split("\n")
    body = [line for line in lines[1 if lines and lines[0].startswith("**Your answer") else 0:]
            if line.strip() and line.strip() != "YOUR ANSWER HERE"]
    return text if body else text.replace("YOUR ANSWER HERE", "").rstrip() + "\n\n*(not answered)*"


def _name_notes(nb, exercise_set: ExerciseSet, student: str | None, per_student_data: bool | str) -> list[str]:
    """Notes for the instructor about the name cell: unusable, or not the name on the file."""
    from crmlab.course.seeds import normalize_name

    source = _name_cell_source(nb.cells)
    name, problem = student_name(source)
    official = exercise_set.setup_source or ""
    if problem:
        return [f"{problem}; graded on the course dataset" if not per_student_data else problem]
    if not name or not name.strip() or student is None or "NAME" not in official + (source or ""):
        return []
    try:
        same = normalize_name(name) == normalize_name(student)
    except ValueError:
        same = False
    if same:
        return []
    if per_student_data:
        return [f"the name cell says {name!r}; graded on the dataset of {student!r} (the file name)"]
    return [f"the name cell says {name!r}, the file name {student!r}; graded on the dataset of {name!r}"]


# ----------------------------------------------------------------------------- running
_OUTER_RERUNS = 2
_STUB = "raise RuntimeError('Skipped by the grader: this cell stopped the kernel or did not stop in time.')"

@dataclass
class _Options:
    timeout: int
    notebook_timeout: float
    memory_mib: int
    mode: str


def _run_job(job: _Job, workdir: Path, slot: int, opts: _Options, checker) -> NotebookResult:
    import time

    from crmlab.course.export import AnswerError, read_json_strict
    from crmlab.course.sandbox import HOME, Limits, run_sandboxed

    scratch = workdir / job.key
    scratch.mkdir()
    start = time.monotonic()
    outer_blamed: dict[int, str] = {}
    try:
        nb = copy.deepcopy(job.nb)
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        home = HOME if opts.mode == "namespace" else str(scratch)
        for _ in range(_OUTER_RERUNS + 1):
            for stale in (scratch / ".answers", scratch / "run.json"):
                if stale.is_dir() and not stale.is_symlink():
                    shutil.rmtree(stale, ignore_errors=True)
                elif stale.exists() or stale.is_symlink():
                    stale.unlink()
            nbformat.write(nb, str(scratch / "submission.ipynb"))
            wall = opts.notebook_timeout - (time.monotonic() - start)
            limits = Limits(memory_mib=opts.memory_mib, wall_s=max(wall, 5.0))
            argv = [sys.executable, "-I", "-m", "crmlab.course.runner", f"{home}/submission.ipynb",
                    "--cell-timeout", str(opts.timeout), "--deadline", str(max(3.0, wall - 5)),
                    "--setup-cell", str(next((k for k, r in job.roles.items() if r[0] == "setup"), -1))]
            run = run_sandboxed(argv, scratch, limits=limits, slot=slot, mode=opts.mode)
            try:
                state = read_json_strict(scratch / "run.json")
                if not isinstance(state, dict):
                    raise AnswerError("run.json is malformed")
            except AnswerError:
                state = {}
            running = [i for i, c in _cells(state).items() if c["status"] == "running"]
            if run.timed_out or state.get("done") or not running or running[0] >= len(code_cells):
                break
            if opts.notebook_timeout - (time.monotonic() - start) < 15:
                break
            # the runner itself was killed from inside: skip that cell and run the notebook again
            outer_blamed[running[0]] = "the kernel's runner was killed while this cell ran"
            code_cells[running[0]].source = _STUB
        if outer_blamed:
            state.setdefault("blamed", {})
            if isinstance(state["blamed"], dict):
                state["blamed"].update({str(k): v for k, v in outer_blamed.items()})
        task = {"setup": job.setup, "answers": str(scratch / ".answers"),
                "calls": [{"index": k, "call": e.call, "keys": [key for key, _ in e.exports]}
                          for k, e in enumerate(job.exercise_set.exercises)]}
        checked = checker.run(task, timeout=max(120.0, 10.0 * len(task["calls"])))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for suffix in (".log", ".spec.json"):
            try:
                (workdir / f"{job.key}{suffix}").unlink()
            except OSError:
                pass
    return _result(job, state, run, checked, opts)


def _cells(state: dict) -> dict[int, dict]:
    out = {}
    cells = state.get("cells") if isinstance(state, dict) else None
    if isinstance(cells, dict):
        for k, v in cells.items():
            if isinstance(v, dict) and str(k).isdigit():
                out[int(k)] = {"status": str(v.get("status", ""))[:20], "message": str(v.get("message", ""))[:2000]}
    return out


def _friendly(message: str, ex_id: str) -> str:
    m = re.match(r"^NameError: name '(\w+)' is not defined", message)
    if m:
        return (f"`{m.group(1)}` is not defined when the check runs: complete the solution cell "
                f"for {ex_id} and make sure it assigns `{m.group(1)}`.")
    return message


def _result(job: _Job, state: dict, run, checked: dict, opts: _Options) -> NotebookResult:
    ex_set = job.exercise_set
    result = NotebookResult(passed={e.id: False for e in ex_set.exercises}, written=dict(job.written),
                            notes=list(job.notes))
    cells = _cells(state)
    blamed = {}
    if isinstance(state.get("blamed"), dict):
        blamed = {int(k): str(v)[:300] for k, v in state["blamed"].items() if str(k).isdigit()}
    if opts.mode != "namespace":
        result.notes.append(WEAK_NOTE)
    for idx in sorted(blamed):
        role, ex_id = job.roles.get(idx, ("other", None))
        what = "the setup cell" if role == "setup" else (f"the {role} cell of {ex_id}" if ex_id else "a cell")
        msg = blamed[idx]
        why = ("killed the kernel's runner" if "runner" in msg else f"did not stop after {opts.timeout} s"
               if "time limit" in msg else "called exit(), which stops the kernel" if "exit()" in msg
               else "crashed the kernel (or stopped it)")
        result.notes.append(f"{what} (code cell {idx}) {why}; it was skipped and the notebook run again")
    running = [i for i, c in cells.items() if c["status"] == "running"]
    if run.timed_out or running or not state.get("done"):
        where = ""
        if running:
            role, ex_id = job.roles.get(running[0], ("other", None))
            where = f" while code cell {running[0]} ({role}{' of ' + ex_id if ex_id else ''}) was running"
        if run.timed_out:
            result.notes.append(f"the notebook did not finish within {opts.notebook_timeout:g} s and was stopped{where}")
        else:
            result.notes.append(f"the notebook's run ended early{where} (the kernel or its runner was killed)")
    if state.get("note") and isinstance(state.get("note"), str):
        result.notes.append(state["note"][:300])
    for idx, c in sorted(cells.items()):
        role, ex_id = job.roles.get(idx, ("other", None))
        what = "the setup cell" if role == "setup" else (f"the {role} cell of {ex_id}" if ex_id else "a cell")
        if role == "setup" and c["status"] == "error":
            result.notes.append(f"the setup cell failed: {c['message']}")
        elif c["status"] in ("timeout", "output") and idx not in blamed:
            result.notes.append(f"{what} (code cell {idx}) {c['message']}")
        elif c["status"] == "error" and c["message"].startswith("MemoryError"):
            result.notes.append(f"{what} (code cell {idx}) ran out of memory (limit {opts.memory_mib} MiB per process)")
    if "error" in checked:
        result.notes.append(str(checked["error"]))
        return _fill_messages(result, "not checked: " + str(checked["error"]))
    solution_errors = {}
    for idx, (role, ex_id) in job.roles.items():
        ran = cells.get(idx)
        if role == "solution" and ran and ran["status"] not in ("ok", "running"):
            solution_errors[ex_id] = ("it stopped the kernel or ran past the time limit" if ran["status"] == "skipped"
                                      else ran["message"] or ran["status"])
    check_cell = {ex_id: idx for idx, (role, ex_id) in job.roles.items() if role == "check"}
    for k, ex in enumerate(ex_set.exercises):
        passed, message, export_error = checked.get(k, (False, "", "no answer"))
        result.passed[ex.id] = bool(passed)
        if passed:
            continue
        sol = solution_errors.get(ex.id)
        if export_error:
            cell = cells.get(check_cell.get(ex.id, -1))
            if sol and sol.startswith("NotImplementedError"):
                msg = "not attempted: the solution cell still raises NotImplementedError."
            elif sol:
                msg = f"your solution cell failed: {_friendly(sol, ex.id)}"
            elif export_error.startswith("no answer") and (cell is None or cell["status"] in ("running", "not_run", "")):
                msg = "the check was not reached: the notebook stopped before this exercise"
            else:
                msg = _friendly(export_error, ex.id)
        else:
            msg = message
            if sol and not sol.startswith("NotImplementedError"):
                msg = f"your solution cell failed: {_friendly(sol, ex.id)}\nThe check then said: {message}"
        result.messages[ex.id] = msg
    return result


class _Slots:
    """Parallel slots: each owns a sandbox uid (leased machine-wide) and a trusted checker process."""

    def __init__(self, n: int):
        from crmlab.course.checker import Checker
        from crmlab.course.sandbox import SlotLease

        self.lease = SlotLease(n)
        self.free = list(self.lease.slots)
        self.checkers = {i: Checker() for i in self.free}
        self.lock = threading.Condition()

    def acquire(self) -> int:
        with self.lock:
            while not self.free:
                self.lock.wait()
            return self.free.pop()

    def release(self, slot: int) -> None:
        with self.lock:
            self.free.append(slot)
            self.lock.notify()

    def close(self) -> None:
        for c in self.checkers.values():
            c.close()
        self.lease.close()


def _run_all(jobs: list[_Job], opts: _Options, jobs_n: int, tick=None) -> dict[str, NotebookResult]:
    results: dict[str, NotebookResult] = {}
    if not jobs:
        return results
    n = max(1, min(jobs_n, len(jobs)))
    slots = _Slots(n)
    with tempfile.TemporaryDirectory(prefix="crmlab-grade-") as tmp:
        os.chmod(tmp, 0o711)  # sandbox users may traverse to their own scratch folder only

        def one(job):
            slot = slots.acquire()
            try:
                try:
                    res = _run_job(job, Path(tmp), slot, opts, slots.checkers[slot])
                except Exception as exc:  # noqa: BLE001 - a grader-side failure costs this notebook only
                    res = NotebookResult(passed={e.id: False for e in job.exercise_set.exercises})
                    res.notes.append(f"could not be graded ({type(exc).__name__}: {exc})"[:300])
                    _fill_messages(res, "not graded")
                results[job.key] = res
            finally:
                slots.release(slot)
                if tick is not None:
                    tick(1)

        try:
            with ThreadPoolExecutor(max_workers=n) as pool:
                list(pool.map(one, jobs))
        finally:
            slots.close()
    return results


def _options(timeout, notebook_timeout, memory_mib) -> _Options:
    from crmlab.course.sandbox import isolation_mode

    timeout = check_positive_int(timeout, name="timeout")
    if notebook_timeout is None:
        notebook_timeout = max(300, 5 * timeout)
    if isinstance(notebook_timeout, bool) or not isinstance(notebook_timeout, (int, float)) or notebook_timeout < 10:
        raise ValueError(f"notebook_timeout must be a number of seconds of at least 10, got {notebook_timeout!r}.")
    memory_mib = check_positive_int(memory_mib, name="memory_mib")
    return _Options(timeout=timeout, notebook_timeout=float(notebook_timeout), memory_mib=memory_mib,
                    mode=isolation_mode())


def grade_notebook(path, exercise_set: ExerciseSet, *, student: str | None = None, timeout: int = 60,
                   per_student_data: bool | str = False, notebook_timeout: float | None = None,
                   memory_mib: int = 4096) -> NotebookResult:
    """Grade one submitted notebook; never raises for a broken submission.

    Returns a :class:`NotebookResult` with pass/fail and the failure message per
    exercise id, and notes explaining anything that prevented normal grading.
    """
    opts = _options(timeout, notebook_timeout, memory_mib)
    job, done = _prepare(Path(path), exercise_set, "submission", student=student, per_student_data=per_student_data)
    if done is not None:
        return done
    return _run_all([job], opts, 1)[job.key]


# ----------------------------------------------------------------------------- gradebook
def _find_sets(solutions_dir: Path) -> dict[str, ExerciseSet]:
    if not solutions_dir.is_dir():
        raise ValueError(f"solutions_dir {str(solutions_dir)!r} is not a folder; pass the folder with the "
                         f"solution notebooks (default exercises/solutions).")
    sets = {}
    for p in sorted(solutions_dir.glob("*.ipynb")):
        if _SET_FILE.match(p.stem):
            s = ExerciseSet.from_solution(p)
            sets[s.number] = s
    if not sets:
        raise ValueError(f"no solution notebooks named NN_topic.ipynb in {str(solutions_dir)!r}.")
    return sets


def _list_notebooks(root: Path) -> list[Path]:
    """Every ``*.ipynb`` entry below ``root`` (not following directory links; checkpoints skipped)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        found += [Path(dirpath) / f for f in filenames if f.endswith(".ipynb")]
    return sorted(found, key=lambda p: str(p.relative_to(root)))


def _parse_shard(shard) -> tuple[int, int] | None:
    if shard is None:
        return None
    if isinstance(shard, str):
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", shard)
        if not m:
            raise ValueError(f"shard must look like 1/4 (part i of n), got {shard!r}.")
        shard = (int(m.group(1)), int(m.group(2)))
    if (not isinstance(shard, tuple) or len(shard) != 2 or not all(isinstance(x, int) for x in shard)
            or not 1 <= shard[0] <= shard[1]):
        raise ValueError(f"shard must be (i, n) with 1 <= i <= n, e.g. (1, 4) or '1/4', got {shard!r}.")
    return shard


def _shard_of(student: str, n: int) -> int:
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def grade(
    submissions_dir,
    *,
    solutions_dir="exercises/solutions",
    out="grades.csv",
    feedback_dir=None,
    timeout: int = 60,
    progress: bool = True,
    per_student_data: bool | str = False,
    jobs: int | None = None,
    shard=None,
    notebook_timeout: float | None = None,
    memory_mib: int = 4096,
) -> pd.DataFrame:
    """Grade every submitted notebook in a folder into a gradebook.

    Parameters
    ----------
    submissions_dir : folder with ``student_NN_topic.ipynb`` or ``student/NN_topic.ipynb``.
    solutions_dir : folder with the solution notebooks (source of the official cells).
    out : CSV file to write, or None to only return the table.
    feedback_dir : folder for one markdown feedback file per student; default
        ``feedback/`` next to ``out`` (no feedback files when both are None).
    timeout : seconds per cell before it is interrupted.
    progress : show a progress bar over submissions.
    per_student_data : impose each student's own dataset (see the module docstring);
        True uses ``crm.synth.generate(seed=...)``, a string is an expression
        template with ``{seed}``.
    jobs : notebooks graded in parallel (default: the number of CPUs).
    shard : ``(i, n)`` or ``"i/n"``: grade only the i-th of n parts of the class (each
        student is in exactly one part, chosen from a hash of the name); ``out`` is then
        a partial gradebook for :func:`crmlab.course.gradebook.merge_gradebooks`.
    notebook_timeout : wall-clock seconds for one whole notebook (default
        ``max(300, 5 * timeout)``), whatever its number of cells.
    memory_mib : memory limit of each process of a kernel, in MiB.

    Returns
    -------
    pandas.DataFrame
        One row per student and set: ``student``, ``set``, ``file``, ``exNN.<id>`` (1/0),
        ``points``, ``max``, ``total`` (percent), ``concept:<name>`` and ``note``.

    Examples
    --------
    >>> from crmlab.course.grade import grade
    >>> book = grade("submissions/", out="grades.csv", jobs=4)  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from crmlab.course.gradebook import assemble, write_feedback, write_gradebook

    sub = Path(submissions_dir)
    if not sub.is_dir():
        raise ValueError(f"submissions_dir {str(sub)!r} is not a folder; pass the folder that holds the "
                         f"submitted notebooks.")
    opts = _options(timeout, notebook_timeout, memory_mib)
    if not (isinstance(per_student_data, bool) or (isinstance(per_student_data, str) and "{seed}" in per_student_data)):
        raise ValueError(f"per_student_data must be True, False or an expression with '{{seed}}', "
                         f"got {per_student_data!r}.")
    jobs_n = (os.cpu_count() or 1) if jobs is None else check_positive_int(jobs, name="jobs")
    shard = _parse_shard(shard)
    sets = _find_sets(Path(solutions_dir))
    files = _list_notebooks(sub)
    if not files:
        raise ValueError(f"no notebooks (*.ipynb) found in {str(sub)!r}.")

    # group by student and set: the newest file is graded, the others are named in the note
    entries: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for path in files:
        student, number = parse_submission_name(path, sub)
        notes = []
        if student is None:
            student = path.stem
            notes.append("no student name in the file name (expected alice_NN_topic.ipynb or alice/NN_topic.ipynb)")
        ex_set = sets.get(number) if number else None
        if ex_set is None:
            notes.append(f"no exercise set matches this file name (sets: {', '.join(s.name for s in sets.values())})")
        entry = {"path": path, "rel": str(path.relative_to(sub)), "student": student, "set": ex_set, "notes": notes}
        if ex_set is None:
            entries.append(entry)
            continue
        groups.setdefault((student, ex_set.number), []).append(entry)
    for group in groups.values():
        def mtime(e):
            try:
                return os.lstat(e["path"]).st_mtime
            except OSError:
                return 0.0
        group.sort(key=lambda e: (mtime(e), e["rel"]))
        newest = group[-1]
        if len(group) > 1:
            others = ", ".join(e["rel"] for e in group[:-1])
            newest["notes"].append(f"{len(group)} files for this set; graded the newest, not: {others}")
        entries.append(newest)
    if shard is not None:
        entries = [e for e in entries if _shard_of(e["student"], shard[1]) == shard[0]]
    entries.sort(key=lambda e: e["rel"])

    to_run = []
    for i, e in enumerate(entries):
        e["job"] = e["done"] = None
        if e["set"] is not None:
            e["job"], e["done"] = _prepare(e["path"], e["set"], f"s{i:05d}", student=e["student"],
                                           per_student_data=per_student_data)
            if e["job"] is not None:
                to_run.append(e["job"])
    with tqdm(total=len(entries), desc="grading", unit="notebook", disable=not progress, file=sys.stderr) as bar:
        bar.update(len(entries) - len(to_run))
        results = _run_all(to_run, opts, jobs_n, tick=bar.update)

    rows: list[dict[str, Any]] = []
    feedback: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        ex_set, student = e["set"], e["student"]
        row = {"student": student, "set": None, "file": e["rel"]}
        if ex_set is None:
            row["note"] = "; ".join(e["notes"])
            rows.append(row)
            feedback.setdefault(student, []).append({"file": e["rel"], "set": None, "result": None, "row": row})
            continue
        res = results[e["job"].key] if e["job"] is not None else e["done"]
        row["set"] = ex_set.name
        earned = 0.0
        concept_pts: dict[str, list[float]] = {}
        for ex in ex_set.exercises:
            ok = bool(res.passed.get(ex.id, False))
            row[ex_set.column(ex.id)] = int(ok)
            earned += ex.points * ok
            for c in ex.concepts:
                concept_pts.setdefault(c, [0.0, 0.0])
                concept_pts[c][0] += ex.points * ok
                concept_pts[c][1] += ex.points
        row["points"] = earned
        row["max"] = ex_set.max_points
        row["total"] = round(100 * earned / ex_set.max_points, 1) if ex_set.max_points else 0.0
        for c, (got, avail) in sorted(concept_pts.items()):
            row[f"concept:{c}"] = round(got / avail, 3) if avail else float("nan")
        row["note"] = "; ".join(e["notes"] + res.notes)
        rows.append(row)
        feedback.setdefault(student, []).append({"file": e["rel"], "set": ex_set, "result": res, "row": row})

    book = assemble(rows, [s.column(e.id) for s in sets.values() for e in s.exercises])
    if out is not None:
        write_gradebook(book, out, shard=shard, students={e["student"] for e in entries})
    if feedback_dir is None and out is not None:
        feedback_dir = Path(out).parent / "feedback"
    if feedback_dir is not None:
        write_feedback(Path(feedback_dir), feedback)
    return book
