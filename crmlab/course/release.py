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
  ``editable: false`` and ``deletable: false``, so JupyterLab protects them. The name cell
  (tag ``name``, ``NAME = ""``) and the written-answer cells (tag ``answer:<id>``) stay
  editable but are marked ``deletable: false``, so they are not deleted by accident.
- Volatile metadata (execution timestamps, interpreter versions, widget state) is
  removed and the notebook is written with sorted keys, one-space indentation and a
  trailing newline: the same solution always gives the same bytes.

``release(check=True)`` writes nothing and returns the student notebooks that are out of
date (``crmlab release --check`` exits non-zero naming them), which ``make test`` runs.

``release_bundle(out)`` (``crmlab release --out DIR``) writes the folder students get: the
course notebooks, the student exercise sets, the data the notebooks read, the glossary and
a README for students — never the solution notebooks, the answer keys or any source code
(the checks come with the installed ``crmlab`` package). A bundle can be refreshed in
place: a file the student has changed since it was written is kept, never overwritten.

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
    "release_bundle",
    "bundle_files",
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "PROTECTED_TAGS",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)
PROTECTED_TAGS = ("setup", "exercise:")
KEEP_TAGS = ("name", "answer:")

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
        source = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    return None


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_protected(cell) -> bool:
    return any(t == "setup" or t.startswith("exercise:") for t in _tags(cell))


def _is_kept(cell) -> bool:
    """Cells the student edits but should not delete: the name cell and written answers."""
    return any(t == "name" or t.startswith("answer:") for t in _tags(cell))


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
        elif _is_kept(cell):
            cell.metadata.pop("editable", None)
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


# ----------------------------------------------------------------------------- the student bundle
BUNDLE_MANIFEST = ".crmlab-bundle.json"
# data files the course notebooks read by path (notebook 16 shows the measured benchmark)
_BUNDLE_DATA = ("benchmarks/results/bench_summary.json",)

STUDENT_README = """\
# CRM analytics (客户关系管理) — the course

- `notebooks/` — the course, one chapter per notebook: read them in order, from
  `00_crm_and_the_company.ipynb`. `notebooks/GLOSSARY.md` gives every term in Chinese and
  English with the crmlab function for it.
- `exercises/` — one exercise set per chapter, checked as you go.
- `datasets/` — the simulated company the course studies, as CSV, with its data card
  (`datasets/README.md`). The notebooks load it with `crm.load_retail()`.

## Set-up (准备)

Install crmlab with its course extra (`pip install "crmlab[course]"`, or the wheel your
instructor gives you), then start JupyterLab in this folder: `jupyter lab`. From a copy of
the course repository, `make lab` does both and opens this folder.

## Working on an exercise set (做练习)

1. Open `exercises/NN_topic.ipynb`. If your instructor asks for it, write your name between
   the quotes of `NAME = ""` in the first code cell: every exercise then uses your own
   dataset (the same every time you run it). Left empty, you work on the course dataset.
2. Run the cells in order. In each exercise cell replace the two lines
   `# YOUR CODE HERE` and `raise NotImplementedError()` with your code, run it, then run the
   check cell under it: it recomputes the expected answer from your dataset and says what
   differs. The setup and check cells are locked; you do not need to change them.
3. Where a question asks for words, write them in the cell under it that starts with
   **Your answer**; your instructor reads them.
4. Save, and hand in the notebook named `yourname_NN_topic.ipynb` (for example
   `li_lei_02_segmentation.ipynb`) or in a folder named after you.

When it grades, the instructor runs your notebook again from the top in a fresh kernel with
the original setup and check cells, on the dataset your `NAME` chooses (or the one your
instructor assigns to the name on your file). Only the plain text between the quotes of
`NAME = "..."` is read from the name cell.

Getting a newer version of this folder (`crmlab release --out FOLDER`, or `make lab`) adds
and updates files but never overwrites a file you have changed.
"""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_files(root=".", solutions_dir=None) -> dict[str, bytes]:
    """The student bundle, as ``{relative path: bytes}`` (nothing is written).

    Course notebooks ``notebooks/NN_*.ipynb`` with ``GLOSSARY.md`` and ``README.md``,
    the student version of every set in ``solutions_dir`` (released here, not copied
    from ``exercises/``), ``datasets/README.md`` and ``datasets/retail/*``, the
    benchmark result notebook 16 reads, and a README for students.
    """
    root = Path(root)
    course = root / "notebooks"
    if not course.is_dir():
        raise ValueError(f"{str(course)!r} is not a folder; run from the course repository or pass root=.")
    sol = Path(solutions_dir) if solutions_dir is not None else root / "exercises" / "solutions"
    if not sol.is_dir():
        raise ValueError(f"solutions_dir {str(sol)!r} is not a folder; pass the folder with the solution notebooks.")
    files: dict[str, bytes] = {"README.md": STUDENT_README.encode("utf-8")}
    for path in sorted(course.glob("[0-9][0-9]_*.ipynb")):
        files[f"notebooks/{path.name}"] = path.read_bytes()
    for name in ("GLOSSARY.md", "README.md"):
        if (course / name).is_file():
            files[f"notebooks/{name}"] = (course / name).read_bytes()
    solutions = sorted(p for p in sol.glob("*.ipynb") if _SET_NAME.match(p.name))
    if not solutions:
        raise ValueError(f"no solution notebooks named NN_topic.ipynb in {str(sol)!r}.")
    for path in solutions:
        files[f"exercises/{path.name}"] = notebook_bytes(release_notebook(path))
    data = root / "datasets"
    if (data / "README.md").is_file():
        files["datasets/README.md"] = (data / "README.md").read_bytes()
    if (data / "retail").is_dir():
        for path in sorted((data / "retail").iterdir()):
            if path.is_file() and not path.is_symlink() and path.suffix in (".csv", ".json", ".md"):
                files[f"datasets/retail/{path.name}"] = path.read_bytes()
    for rel in _BUNDLE_DATA:
        if (root / rel).is_file():
            files[rel] = (root / rel).read_bytes()
    return files


def release_bundle(out, *, root=".", solutions_dir=None) -> dict[str, list[Path]]:
    """Write (or refresh) the student bundle in the folder ``out``.

    Parameters
    ----------
    out : the bundle folder; created when missing.
    root : the course repository (the folder holding ``notebooks/`` and ``exercises/``).
    solutions_dir : the solution notebooks (default ``root/exercises/solutions``); only
        their released student versions go into the bundle.

    Returns
    -------
    dict
        ``"written"``: files created or updated; ``"kept"``: files the student changed
        since the bundle wrote them (left as they are; the new version is not written);
        ``"unchanged"``: files already up to date.

    Notes
    -----
    The bundle records the SHA-256 of every file it writes in ``.crmlab-bundle.json``. A
    file is replaced only when its bytes still have that hash (nobody changed it since),
    so refreshing a bundle never loses a student's work; a file the bundle did not write
    is never replaced, and nothing is written through a symbolic link.

    Examples
    --------
    >>> from crmlab.course.release import release_bundle
    >>> report = release_bundle("lab/")  # doctest: +SKIP
    """
    out = Path(out)
    root = Path(root)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {str(out)!r} is a file; pass a folder for the student bundle.")
    sol = Path(solutions_dir) if solutions_dir is not None else root / "exercises" / "solutions"
    target_root = out.resolve()
    if target_root == root.resolve():
        raise ValueError("out must not be the course repository itself; pass a new folder such as lab/.")
    if sol.is_dir() and (target_root == sol.resolve() or sol.resolve() in target_root.parents):
        raise ValueError("out must not lie inside the solutions folder; pass a folder outside exercises/solutions.")
    files = bundle_files(root, sol)
    manifest_path = out / BUNDLE_MANIFEST
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8")).get("files", {})
        if not isinstance(recorded, dict):
            recorded = {}
    except (OSError, ValueError, AttributeError):
        recorded = {}
    report: dict[str, list[Path]] = {"written": [], "kept": [], "unchanged": []}
    manifest = {k: v for k, v in recorded.items() if isinstance(k, str) and isinstance(v, str)}
    for rel, content in files.items():
        target = out / rel
        new_hash = _sha256(content)
        if target.is_symlink() or any(p.is_symlink() for p in target.parents if out in p.parents):
            report["kept"].append(target)
            continue
        if target.exists():
            current = target.read_bytes() if target.is_file() else None
            if current == content:
                manifest[rel] = new_hash
                report["unchanged"].append(target)
                continue
            if current is None or _sha256(current) != manifest.get(rel):
                report["kept"].append(target)  # the student's version: never overwritten
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.crmlab-tmp")
        tmp.write_bytes(content)
        tmp.replace(target)
        manifest[rel] = new_hash
        report["written"].append(target)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps({"files": dict(sorted(manifest.items()))}, indent=1) + "\n", encoding="utf-8")
    return report
