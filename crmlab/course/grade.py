"""Grade a folder of submitted exercise notebooks with nbval.

``grade("submissions/")`` (command line: ``crmlab grade submissions/ --out grades.csv``)
grades every ``*.ipynb`` below the folder and returns (and writes) a gradebook with one
row per student and exercise set.

Naming convention
-----------------
A submission belongs to the exercise set whose ``NN_`` number it carries:
``alice_02_segmentation.ipynb`` (student ``alice``) or ``alice/02_segmentation.ipynb``
(student = first folder below the submissions folder). The student name is everything
before ``NN_`` in the file name (``alice_wang_02_segmentation.ipynb`` is ``alice_wang``).
Files whose set cannot be found still get a row, with the reason in ``note``.

What grading does to a submission
---------------------------------
1. The official check cells (tag ``exercise:<id>``) and setup cell (tag ``setup``) are
   copied back from the solution notebook, by tag: an edited check cell is replaced, a
   deleted one is re-inserted after the student's ``solution:<id>`` cell (or after the
   previous check, or at the end), so editing or deleting a check cannot pass it.
   Outputs are cleared.
2. Per-student data: the official setup cell is restored, but the student's own data
   line is kept when it is a plain call of ``crm.synth.generate`` (or of the function
   the official data line calls) whose arguments are literals or
   ``crm.course.student_seed("name")`` / ``crm.course.student_seed(NAME)`` (a
   ``NAME = "..."`` line is kept too). Checks recompute from the notebook's ``data``,
   so a student who works on their own dataset is graded on it. With
   ``per_student_data=True`` the grader instead *imposes* the dataset of the student
   named in the file (``crm.synth.generate(seed=crm.course.student_seed("alice"))``),
   so nobody can hand in answers computed on someone else's data.
3. The notebook runs under nbval in a subprocess (``pytest --nbval-lax``), one kernel
   per notebook, with a per-cell timeout. An endless loop is interrupted at the timeout
   and fails only its exercise. A cell that kills the kernel (or ignores the
   interrupt) is replaced by a cell that raises, and the notebook is run again, so the
   other exercises are still graded. A whole-run time limit ensures nothing hangs.
4. nbval reports results by code-cell index; cell tags map them to exercise ids. An
   exercise passes when its official check cell runs without error.

The gradebook has columns ``student``, ``set``, ``file``, one column
``exNN.<id>`` per exercise (1 pass / 0 fail), ``points`` (earned, weights from
``points:<n>`` tags, default 1), ``max`` (available), ``total`` (percentage),
``concept:<name>`` (share of that concept's points earned, from ``concept:<name>``
tags) and ``note`` (why a notebook could not be graded normally: invalid JSON, kernel
died, timeout, setup cell failed, ...). A markdown feedback file per student lists
each failed exercise with the check's message.

Grading runs student code; like any notebook grader it is not a sandbox. Run it on a
machine or account you can afford to lose, and review notebooks that look odd.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

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
_ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*[A-Za-z]")
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning|Iteration))(?::[ \t]?(.*)|[ \t]*)$", re.M)
_AFTER_TIMEOUT = "failed (an earlier cell had timed out, so this cell was not run normally)"
_KILLED = ("Failed to interrupt kernel", "exceeded waiting for output", "Kernel dead on test start")
DEFAULT_STUDENT_DATA = "crm.synth.generate(seed={seed})"
_MAX_RERUNS = 3


# ----------------------------------------------------------------------------- exercise sets
@dataclass
class Exercise:
    """One exercise of a set: its id, check cell and grading weights."""

    id: str
    check_source: str
    check_metadata: dict
    points: float = 1.0
    concepts: tuple[str, ...] = ()


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
    def from_solution(cls, path) -> "ExerciseSet":
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
            exercises.append(Exercise(
                id=ids[0], check_source=cell.source, check_metadata=copy.deepcopy(dict(cell.metadata)),
                points=points, concepts=tuple(t.split(":", 1)[1] for t in tags if t.startswith("concept:")),
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
    """True when ``line`` is ``data = <allowed>(<literals / student_seed(...)>)``."""
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

    def ok_arg(arg) -> bool:
        if isinstance(arg, ast.Constant):
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
        if (len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign)
                and [ast.unparse(t) for t in tree.body[0].targets] == ["data"]
                and isinstance(tree.body[0].value, ast.Call)):
            return ast.unparse(tree.body[0].value.func)
    return None


def _replace_data_line(setup_source: str, new_lines: list[str]) -> str:
    lines = setup_source.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^\s*data\s*=", line):
            indent = line[: len(line) - len(line.lstrip())]
            return "\n".join(lines[:i] + [indent + l.strip() for l in new_lines] + lines[i + 1:])
    return "\n".join(lines + new_lines)


def _setup_source(official: str, student_setup: str | None, student: str | None,
                  per_student_data: bool | str) -> str:
    if per_student_data:
        template = DEFAULT_STUDENT_DATA if per_student_data is True else per_student_data
        name = student if student is not None else ""
        seed = f"crm.course.student_seed({name!r})"
        return _replace_data_line(official, [f"data = {template.format(seed=seed)}"])
    if not student_setup:
        return official
    callees = {"crm.synth.generate", "crmlab.synth.generate"}
    official_callee = _official_data_callee(official)
    if official_callee:
        callees.add(official_callee)
    kept_data = [l for l in student_setup.split("\n")
                 if not l.lstrip().startswith("#") and _data_line_ok(l, callees)]
    if not kept_data:
        return official
    data_line = kept_data[-1]
    keep = []
    if "NAME" in data_line:
        names = [l for l in student_setup.split("\n")
                 if re.match(r"""^\s*NAME\s*=\s*(?:"[^"\\]*"|'[^'\\]*')\s*(?:#.*)?$""", l)]
        if not names:
            return official
        keep.append(names[-1])
    keep.append(data_line)
    if [l.strip() for l in keep] == [_official_line(official)]:
        return official
    return _replace_data_line(official, keep)


def _official_line(setup_source: str) -> str | None:
    for line in setup_source.split("\n"):
        if re.match(r"^\s*data\s*=", line):
            return line.strip()
    return None


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
        source = _setup_source(exercise_set.setup_source, student_setup, student, per_student_data)
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
        if tagged:
            same = [i for i in tagged if cells[i].source == ex.check_source]
            keep = same[0] if same else tagged[0]
            cells[keep] = new
            for i in tagged:
                if i != keep:  # a copy: keep the student's code, drop the exercise tags
                    cells[i].metadata["tags"] = [t for t in _tags(cells[i]) if not t.startswith(("exercise:", "points:", "concept:"))]
            previous = new
            continue
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


# ----------------------------------------------------------------------------- running nbval
@dataclass
class CellResult:
    passed: bool
    message: str = ""
    killed: bool = False
    timed_out: bool = False


@dataclass
class NotebookResult:
    """Outcome of grading one submission."""

    passed: dict[str, bool] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return _ANSI.sub("", text or "")


def _exception_message(text: str) -> str:
    """The final ``ExcType: message`` of a traceback reported by nbval."""
    text = _clean(text)
    matches = list(_EXC_LINE.finditer(text))
    if matches:
        # the final exception line of an IPython traceback follows a blank line
        after_blank = [m for m in matches if m.start() >= 2 and text[m.start() - 2:m.start()] == "\n\n"]
        m = (after_blank or matches)[-1]
        rest = text[m.start(2):].strip() if m.group(2) is not None else ""
        return f"{m.group(1)}: {rest}" if rest else m.group(1)
    for line in text.split("\n"):
        if "Cell " in line and ":" in line:
            return line.split(":", 1)[1].strip()
    return text.strip().split("\n")[0] if text.strip() else "the cell failed"


def _parse_junit(path: Path) -> dict[str, dict[int, CellResult]]:
    """Cell results per notebook (file stem) from nbval's JUnit XML report."""
    by_file: dict[str, dict[int, CellResult]] = {}
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        m = re.match(r"^Cell (\d+)$", case.get("name", ""))
        if not m:
            continue
        idx = int(m.group(1))
        results = by_file.setdefault(Path(case.get("classname", "")).stem, {})
        bad = [child for child in case if child.tag in ("failure", "error", "skipped")]
        if not bad:
            results[idx] = CellResult(True)
            continue
        child = bad[0]
        text = _clean(child.text or child.get("message") or "")
        killed = any(k in text for k in _KILLED)
        timed_out = "Timeout of" in text or "timed out" in text
        if "Kernel dead on test start" in text:
            message = "not run: the kernel had stopped in an earlier cell"
        elif "Failed to interrupt kernel" in text or "exceeded waiting for output" in text:
            message = "the cell crashed the kernel or did not stop at the time limit"
        elif timed_out and "KeyboardInterrupt" in text:
            message = "the cell did not finish within the time limit (endless loop?) and was interrupted"
        elif child.tag == "skipped" and "xfail" in (child.get("type") or ""):
            message = _exception_message(child.text) if child.text else _AFTER_TIMEOUT
        else:
            message = _exception_message(text)
        results[idx] = CellResult(False, message, killed=killed, timed_out=timed_out)
    return by_file


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill a pytest process and every kernel it started."""
    try:
        import psutil

        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            children = []
        for p in children:
            try:
                p.kill()
            except psutil.Error:
                pass
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.kill()
    proc.wait()


@dataclass
class _Job:
    """One submission on its way through nbval."""

    key: str
    nb: object
    roles: dict
    stubbed: dict = field(default_factory=dict)
    cells: dict | None = None
    note: str = ""

    @property
    def n_code(self) -> int:
        return sum(c.cell_type == "code" for c in self.nb.cells)


def _wall_limit(jobs: list[_Job], timeout: int) -> int:
    return 30 + sum(60 + j.n_code * (timeout + 10) for j in jobs)


def _run_batch(jobs: list[_Job], workdir: Path, timeout: int, on_start=None) -> str:
    """Run notebooks in one pytest process (one kernel each); fill ``job.cells``.

    Returns "" or, when the whole run failed (time limit, nbval did not start), a note.
    """
    xml_path = workdir / "results.xml"
    if xml_path.exists():
        xml_path.unlink()
    (workdir / "pytest.ini").write_text("[pytest]\n")
    paths = []
    for job in jobs:
        path = workdir / f"{job.key}.ipynb"
        nbformat.write(job.nb, str(path))
        paths.append(path.name)
    wall = _wall_limit(jobs, timeout)
    cmd = [sys.executable, "-m", "pytest", "-p", "nbval.plugin", "--nbval-lax", "--nbval-current-env",
           f"--nbval-cell-timeout={timeout}", "-p", "no:cacheprovider", "--tb=no", "--no-header",
           "-o", "console_output_style=classic", f"--junitxml={xml_path.name}", *paths]
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    tail: list[str] = []
    names = {f"{job.key}.ipynb": job.key for job in jobs}

    def read() -> None:
        for raw in proc.stdout:
            line = _clean(raw.decode("utf-8", "replace")).rstrip()
            tail[:] = (tail + [line])[-5:]
            first = line.split(" ", 1)[0]
            if on_start is not None and first in names:
                on_start(names[first])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        reader.join(5)
        return f"the notebook did not finish within {wall} s and was stopped"
    reader.join(5)
    if not xml_path.exists():
        return "nbval could not run the notebook: " + " | ".join(t for t in tail if t)
    try:
        by_file = _parse_junit(xml_path)
    except ET.ParseError as exc:
        return f"could not read nbval's report ({exc})"
    missing = [job for job in jobs if job.key not in by_file]
    for job in jobs:
        job.cells = by_file.get(job.key)
    if missing:
        return "nbval did not report on the notebook: " + " | ".join(t for t in tail if t)
    return ""


def _run_jobs(jobs: list[_Job], workdir: Path, timeout: int, *, batch_size: int = 16, tick=None) -> None:
    """Run all jobs; isolate failures; re-run notebooks whose kernel died with the culprit stubbed."""
    pending = list(jobs)
    first_round = True
    for _ in range(_MAX_RERUNS + 1):
        for start in range(0, len(pending), batch_size):
            batch = pending[start:start + batch_size]
            started: list[str] = []

            def on_start(key, started=started):
                if first_round and tick is not None and started:
                    tick(1)
                started.append(key)

            note = _run_batch(batch, workdir, timeout, on_start=on_start)
            if note and len(batch) > 1:  # find the culprit: run the incomplete ones alone
                for job in batch:
                    if job.cells is None:
                        job.note = _run_batch([job], workdir, timeout)
            elif note:
                batch[0].note = note
            if first_round and tick is not None:
                tick(len(batch) - max(len(started) - 1, 0))
        first_round = False
        again = []
        for job in pending:
            if job.cells is None:
                continue
            killer = _first_killer(job.cells)
            if killer is not None and killer not in job.stubbed and len(job.stubbed) < _MAX_RERUNS:
                job.stubbed[killer] = job.cells[killer].message
                code_cells = [c for c in job.nb.cells if c.cell_type == "code"]
                code_cells[killer].source = _STUB
                again.append(job)
        pending = again
        if not pending:
            break


_STUB = ("raise RuntimeError('Skipped by the grader: this cell crashed the kernel or did not "
         "stop at the time limit.')")


def _friendly(message: str, ex_id: str) -> str:
    m = re.match(r"^NameError: name '(\w+)' is not defined", message)
    if m:
        return (f"`{m.group(1)}` is not defined when the check runs: complete the solution cell "
                f"for {ex_id} and make sure it assigns `{m.group(1)}`.")
    return message


def _prepare(path: Path, exercise_set: ExerciseSet, key: str, *, student, per_student_data):
    """Read and restore one submission: a job to run, or a finished result when unreadable."""
    result = NotebookResult(passed={e.id: False for e in exercise_set.exercises})
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.notes.append(f"not valid JSON ({type(exc).__name__}: {exc}); is the file a saved notebook?")
        return None, _fill_messages(result, "the notebook could not be read")
    except OSError as exc:
        result.notes.append(f"could not read the file ({exc})")
        return None, _fill_messages(result, "the notebook could not be read")
    try:
        nb = nbformat.reads(text, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
        for cell in nb.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                raise ValueError("a cell has no valid type or source")
            cell.setdefault("metadata", nbformat.NotebookNode())
        graded, roles = restore_official_cells(nb, exercise_set, student=student,
                                               per_student_data=per_student_data)
        nbformat.validate(graded)
    except Exception as exc:  # noqa: BLE001 - any malformed notebook is graded with zeros
        result.notes.append(f"not a valid notebook ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
        return None, _fill_messages(result, "the notebook could not be read")
    return _Job(key=key, nb=graded, roles=roles), None


def _result(job: _Job, exercise_set: ExerciseSet, timeout: int) -> NotebookResult:
    result = NotebookResult(passed={e.id: False for e in exercise_set.exercises})
    if job.cells is None:
        result.notes.append(job.note or "the notebook was not run")
        return _fill_messages(result, job.note or "the notebook was not run")
    cells = job.cells
    for idx in sorted(job.stubbed):
        role, ex_id = job.roles.get(idx, ("other", None))
        what = "the setup cell" if role == "setup" else (f"the {role} cell of {ex_id}" if ex_id else "a cell")
        result.notes.append(f"{what} (code cell {idx}) crashed the kernel or did not stop after {timeout} s; "
                            f"it was skipped")
    for idx, cell in cells.items():
        role, _ = job.roles.get(idx, ("other", None))
        if role == "setup" and not cell.passed:
            result.notes.append(f"the setup cell failed: {cell.message}")
    solution_errors = {}
    for idx, (role, ex_id) in job.roles.items():
        if role == "solution" and idx in cells and not cells[idx].passed:
            solution_errors[ex_id] = ("it crashed the kernel or ran past the time limit"
                                      if idx in job.stubbed else cells[idx].message)
    for idx, (role, ex_id) in job.roles.items():
        if role != "check":
            continue
        cell = cells.get(idx)
        if cell is None:
            result.messages[ex_id] = "the check cell was not run"
            continue
        result.passed[ex_id] = cell.passed
        if cell.passed:
            continue
        msg = _friendly(cell.message, ex_id)
        if msg.startswith("AssertionError: "):
            msg = msg[len("AssertionError: "):]
        sol = solution_errors.get(ex_id)
        if sol and sol.startswith("NotImplementedError"):
            msg = "not attempted: the solution cell still raises NotImplementedError."
        elif sol:
            check_said = "" if msg == _AFTER_TIMEOUT or msg.startswith("`") else f"\nThe check then said: {msg}"
            msg = f"your solution cell failed: {_friendly(sol, ex_id)}{check_said}"
        result.messages[ex_id] = msg
    return result


def grade_notebook(path, exercise_set: ExerciseSet, *, student: str | None = None, timeout: int = 60,
                   per_student_data: bool | str = False) -> NotebookResult:
    """Grade one submitted notebook; never raises for a broken submission.

    Returns a :class:`NotebookResult` with pass/fail and the failure message per
    exercise id, and notes explaining anything that prevented normal grading.
    """
    timeout = check_positive_int(timeout, name="timeout")
    job, done = _prepare(Path(path), exercise_set, "submission", student=student,
                         per_student_data=per_student_data)
    if done is not None:
        return done
    with tempfile.TemporaryDirectory(prefix="crmlab-grade-") as tmp:
        _run_jobs([job], Path(tmp), timeout)
    return _result(job, exercise_set, timeout)


def _first_killer(cells: dict[int, CellResult]) -> int | None:
    for idx in sorted(cells):
        c = cells[idx]
        if c.killed:
            if c.message.startswith("not run"):  # died between cells: blame the previous one
                return max(idx - 1, 0)
            return idx
    return None


def _fill_messages(result: NotebookResult, message: str) -> NotebookResult:
    for ex_id in result.passed:
        result.messages.setdefault(ex_id, message)
    return result


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


def _safe_filename(name: str) -> str:
    return re.sub(r"[^\w\-.]+", "_", name).strip("._") or "student"


def grade(
    submissions_dir,
    *,
    solutions_dir="exercises/solutions",
    out="grades.csv",
    feedback_dir=None,
    timeout: int = 60,
    progress: bool = True,
    per_student_data: bool | str = False,
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

    Returns
    -------
    pandas.DataFrame
        One row per submission: ``student``, ``set``, ``file``, ``exNN.<id>`` (1/0),
        ``points``, ``max``, ``total`` (percent), ``concept:<name>`` and ``note``.

    Examples
    --------
    >>> from crmlab.course.grade import grade
    >>> book = grade("submissions/", out="grades.csv")  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    sub = Path(submissions_dir)
    if not sub.is_dir():
        raise ValueError(f"submissions_dir {str(sub)!r} is not a folder; pass the folder that holds the "
                         f"submitted notebooks.")
    timeout = check_positive_int(timeout, name="timeout")
    if not (isinstance(per_student_data, bool) or (isinstance(per_student_data, str) and "{seed}" in per_student_data)):
        raise ValueError(f"per_student_data must be True, False or an expression with '{{seed}}', "
                         f"got {per_student_data!r}.")
    sets = _find_sets(Path(solutions_dir))
    files = sorted(p for p in sub.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not files:
        raise ValueError(f"no notebooks (*.ipynb) found in {str(sub)!r}.")

    entries = []  # (path, rel, student, exercise set or None, notes, job or None, result or None)
    for i, path in enumerate(files):
        student, number = parse_submission_name(path, sub)
        notes = []
        if student is None:
            student = path.stem
            notes.append("no student name in the file name (expected alice_NN_topic.ipynb or alice/NN_topic.ipynb)")
        ex_set = sets.get(number) if number else None
        job = done = None
        if ex_set is None:
            notes.append(f"no exercise set matches this file name (sets: {', '.join(s.name for s in sets.values())})")
        else:
            job, done = _prepare(path, ex_set, f"s{i:05d}", student=student, per_student_data=per_student_data)
        entries.append([path, str(path.relative_to(sub)), student, ex_set, notes, job, done])

    jobs = [e[5] for e in entries if e[5] is not None]
    with tqdm(total=len(files), desc="grading", unit="notebook", disable=not progress, file=sys.stderr) as bar:
        bar.update(len(files) - len(jobs))
        with tempfile.TemporaryDirectory(prefix="crmlab-grade-") as tmp:
            _run_jobs(jobs, Path(tmp), timeout, tick=bar.update)

    rows, feedback = [], {}
    for path, rel, student, ex_set, notes, job, res in entries:
        row = {"student": student, "set": None, "file": rel}
        if ex_set is None:
            row["note"] = "; ".join(notes)
            rows.append(row)
            feedback.setdefault(student, []).append((rel, None, None, row["note"]))
            continue
        if job is not None:
            res = _result(job, ex_set, timeout)
        notes = notes + res.notes
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
        row["note"] = "; ".join(notes)
        rows.append(row)
        feedback.setdefault(student, []).append((rel, ex_set, res, row["note"]))

    book = _assemble(rows, sets)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        book.to_csv(out, index=False)
    if feedback_dir is None and out is not None:
        feedback_dir = out.parent / "feedback"
    if feedback_dir is not None:
        _write_feedback(Path(feedback_dir), feedback, book)
    return book


def _assemble(rows: list[dict], sets: dict[str, ExerciseSet]) -> pd.DataFrame:
    ex_cols = [s.column(e.id) for s in sets.values() for e in s.exercises]
    present = {k for r in rows for k in r}
    ex_cols = [c for c in ex_cols if c in present]
    concept_cols = sorted(k for k in present if k.startswith("concept:"))
    cols = ["student", "set", "file", *ex_cols, "points", "max", "total", *concept_cols, "note"]
    book = pd.DataFrame(rows, columns=cols)
    for c in ex_cols:
        book[c] = book[c].astype("Int64")
    for c in ("points", "max", "total", *concept_cols):
        book[c] = book[c].astype(float)
    book["note"] = book["note"].fillna("").astype(str)
    return book.sort_values(["student", "set", "file"], na_position="last", kind="stable").reset_index(drop=True)


def _write_feedback(folder: Path, feedback: dict, book: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for student, items in sorted(feedback.items()):
        lines = [f"# Feedback for {student}", ""]
        for rel, ex_set, res, note in items:
            if ex_set is None:
                lines += [f"## {rel}", "", f"Not graded: {note}", ""]
                continue
            row = book[(book["file"] == rel)].iloc[0]
            lines += [f"## {ex_set.name} ({rel}): {row['points']:g} / {row['max']:g} points", ""]
            if note:
                lines += [f"Note: {note}", ""]
            for ex in ex_set.exercises:
                if res.passed.get(ex.id):
                    lines.append(f"- \u2714 `{ex.id}`: correct")
                else:
                    msg = res.messages.get(ex.id, "failed")
                    lines += [f"- \u2718 `{ex.id}`:", "", "  ```text",
                              *("  " + l for l in msg.split("\n")), "  ```"]
            lines.append("")
        (folder / f"{_safe_filename(student)}.md").write_text("\n".join(lines), encoding="utf-8")
