"""Release student notebooks from the instructor's solution notebooks.

``release()`` turns every ``exercises/solutions/NN_topic.ipynb`` into the student version
``exercises/NN_topic.ipynb`` (command line: ``crmlab release``):

- In code cells, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` (markers
  included) become a stub at the marker's indentation::

      # YOUR CODE HERE
      raise NotImplementedError()

  The markers must enclose complete statements (``scores = crm.segmentation...`` inside
  the block, not half an expression); the released cell must still be valid Python, and
  release fails naming the cell if it is not. Lines outside the block (e.g. a comment
  naming the variable to fill) are kept. In markdown cells the block becomes
  ``YOUR ANSWER HERE``.
- Outputs and execution counts are cleared.
- The setup cell (tag ``setup``) and the check cells (tag ``exercise:<id>``) are marked
  ``editable: false`` and ``deletable: false``, so JupyterLab protects them.
- Volatile metadata (execution timestamps, interpreter versions, widget state) is
  removed and the notebook is written with sorted keys, one-space indentation and a
  trailing newline: the same solution always gives the same bytes.

``release(check=True)`` writes nothing and returns the student notebooks that are out of
date (``crmlab release --check`` exits non-zero naming them), which ``make test`` runs.

Examples
--------
>>> from crmlab.course.release import release_source
>>> print(release_source("x = 1\\n    ### BEGIN SOLUTION\\n    y = 2\\n    ### END SOLUTION"))
x = 1
    # YOUR CODE HERE
    raise NotImplementedError()
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
from pathlib import Path

try:
    import nbformat
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("Releasing exercise sets needs nbformat: pip install 'crmlab[grade]'.") from exc

__all__ = [
    "release_source",
    "release_notebook",
    "notebook_bytes",
    "release",
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "PROTECTED_TAGS",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)
PROTECTED_TAGS = ("setup", "exercise:")

_SET_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")
_KEEP_NB_METADATA = ("kernelspec", "language_info", "title", "authors")
_DROP_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "heading_collapsed",
                       "hidden", "pycharm", "vscode")
_DEFAULT_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def release_source(source: str, *, cell_type: str = "code", where: str = "cell") -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block with a stub.

    Parameters
    ----------
    source : the cell source.
    cell_type : ``"code"`` (stub ``# YOUR CODE HERE`` / ``raise NotImplementedError()``) or
        ``"markdown"`` (stub ``YOUR ANSWER HERE``).
    where : how to name the cell in error messages.

    Raises
    ------
    ValueError
        When the markers are unbalanced or nested.

    Examples
    --------
    >>> print(release_source("### BEGIN SOLUTION\\nanswer = 42\\n### END SOLUTION\\ncheck(answer)"))
    # YOUR CODE HERE
    raise NotImplementedError()
    check(answer)
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a string, got {type(source).__name__}.")
    stub = CODE_STUB if cell_type == "code" else MARKDOWN_STUB
    out: list[str] = []
    inside = False
    for lineno, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN_SOLUTION):
            if inside:
                raise ValueError(f"{where}, line {lineno}: '{BEGIN_SOLUTION}' inside another solution "
                                 f"block; close the first block with '{END_SOLUTION}'.")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif stripped.startswith(END_SOLUTION):
            if not inside:
                raise ValueError(f"{where}, line {lineno}: '{END_SOLUTION}' without a matching "
                                 f"'{BEGIN_SOLUTION}' above it.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{BEGIN_SOLUTION}' is never closed; add '{END_SOLUTION}' after "
                         f"the solution lines.")
    return "\n".join(out)


def _python_ok(source: str) -> str | None:
    """Return the syntax error of ``source`` (IPython magics allowed), or None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        source = "\n".join(l for l in source.split("\n") if not l.lstrip().startswith(("%", "!")))
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    return None


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_protected(cell) -> bool:
    return any(t == "setup" or t.startswith("exercise:") for t in _tags(cell))


def _read_solution(path: Path):
    """Read a notebook and give cells without an id a deterministic one."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    cells = raw.get("cells", [])
    for i, cell in enumerate(cells):
        if not cell.get("id"):
            cell["id"] = hashlib.sha1(f"{path.name}:{i}".encode()).hexdigest()[:8]
    if raw.get("nbformat") == 4:
        raw["nbformat_minor"] = max(int(raw.get("nbformat_minor", 5)), 5)
    return nbformat.reads(json.dumps(raw), as_version=4)


def release_notebook(solution_path) -> nbformat.NotebookNode:
    """Return the student version of one solution notebook (nothing is written).

    Parameters
    ----------
    solution_path : path of ``exercises/solutions/NN_topic.ipynb``.

    Returns
    -------
    nbformat.NotebookNode
        Solutions replaced by stubs, outputs cleared, setup and check cells protected.
    """
    path = Path(solution_path)
    if not path.is_file():
        raise FileNotFoundError(f"solution notebook {str(path)!r} does not exist.")
    try:
        nb = _read_solution(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a valid notebook (JSON error: {exc}).") from exc
    out = copy.deepcopy(nb)
    meta = {k: copy.deepcopy(nb.metadata[k]) for k in _KEEP_NB_METADATA if k in nb.metadata}
    meta.setdefault("kernelspec", dict(_DEFAULT_KERNELSPEC))
    if "language_info" in meta:
        meta["language_info"] = {"name": meta["language_info"].get("name", "python")}
    out.metadata = nbformat.from_dict(meta)
    code_no = 0
    for i, cell in enumerate(out.cells):
        where = f"{path.name}, cell {i}" + (f" (code cell {code_no})" if cell.cell_type == "code" else "")
        for key in _DROP_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type in ("code", "markdown"):
            released = release_source(cell.source, cell_type=cell.cell_type, where=where)
            if cell.cell_type == "code" and released != cell.source:
                error = _python_ok(released)
                if error:
                    raise ValueError(
                        f"{where}: the released cell is not valid Python ({error}). Put complete "
                        f"statements between '{BEGIN_SOLUTION}' and '{END_SOLUTION}', e.g. the whole "
                        f"line 'scores = ...'."
                    )
            cell.source = released
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            code_no += 1
        if _is_protected(cell):
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False
    nbformat.validate(out)
    return out


def notebook_bytes(nb: nbformat.NotebookNode) -> bytes:
    """Serialise a notebook deterministically: sorted keys, indent 1, trailing newline."""
    text = nbformat.writes(nb, version=4)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def release(solutions_dir="exercises/solutions", out_dir="exercises", check: bool = False) -> list[Path]:
    """Write the student version of every solution notebook.

    Parameters
    ----------
    solutions_dir : folder with the solution notebooks ``NN_topic.ipynb``.
    out_dir : folder for the student notebooks (same file names).
    check : write nothing; return the student notebooks that are missing or differ
        from what release would write, plus student notebooks ``NN_topic.ipynb`` in
        ``out_dir`` that no longer have a solution.

    Returns
    -------
    list of Path
        The files written (only those whose bytes changed), or with ``check=True`` the
        files that are out of date.

    Examples
    --------
    >>> from crmlab.course.release import release
    >>> stale = release(check=True)  # doctest: +SKIP
    """
    sol = Path(solutions_dir)
    out = Path(out_dir)
    if not sol.is_dir():
        raise ValueError(f"solutions_dir {str(sol)!r} is not a folder; pass the folder with the "
                         f"solution notebooks (default exercises/solutions).")
    if not isinstance(check, bool):
        raise TypeError(f"check must be True or False, got {check!r}.")
    solutions = sorted(p for p in sol.glob("*.ipynb") if _SET_NAME.match(p.name))
    if not solutions:
        raise ValueError(f"no solution notebooks named NN_topic.ipynb in {str(sol)!r}.")
    if out.resolve() == sol.resolve():
        raise ValueError("out_dir must differ from solutions_dir, or the solutions would be overwritten.")
    changed: list[Path] = []
    for path in solutions:
        content = notebook_bytes(release_notebook(path))
        target = out / path.name
        if target.is_file() and target.read_bytes() == content:
            continue
        changed.append(target)
        if not check:
            out.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    if check and out.is_dir():
        names = {p.name for p in solutions}
        changed.extend(sorted(p for p in out.glob("*.ipynb") if _SET_NAME.match(p.name) and p.name not in names))
    return changed
