"""The course's notebooks follow the house rules students and instructors rely on."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def _headings(nb):
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        in_code = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                in_code = not in_code
            elif not in_code and re.match(r"^#{1,2} ", line):
                yield line


def test_the_course_has_all_chapters():
    numbers = {p.name[:2] for p in COURSE}
    assert numbers == {f"{i:02d}" for i in range(20)}


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_course_notebook_headings_carry_the_chinese_term(path):
    nb = nbformat.read(path, as_version=4)
    missing = [h for h in _headings(nb) if not CJK.search(h)]
    assert not missing, f"headings without the Chinese term: {missing}"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_course_notebooks_are_committed_executed(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.execution_count is not None for c in code), "execute the notebook before committing"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebooks_have_a_course_notebook_and_no_outputs(path):
    assert (ROOT / "notebooks" / path.name).is_file(), "an exercise set belongs to a course notebook of the same name"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "setup" in tags
    assert sum(t.startswith("exercise:") for t in tags) >= 4


def test_glossary_names_existing_functions():
    import importlib

    text = (ROOT / "notebooks" / "GLOSSARY.md").read_text()
    names = set(re.findall(r"`crm\.([a-z_]+(?:\.[A-Za-z_]+)+)", text))
    missing = []
    for dotted in sorted(n for n in names if "exNN" not in n):
        parts = dotted.split(".")
        obj = importlib.import_module(f"crmlab.{parts[0]}")
        for part in parts[1:]:
            if not hasattr(obj, part):
                missing.append(dotted)
                break
            obj = getattr(obj, part)
    assert not missing, f"GLOSSARY.md names functions that do not exist: {missing}"


def test_notebooks_open_unmodified_in_jupyterlab():
    """The stored kernelspec is the one JupyterLab writes, so opening a notebook changes nothing."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("normalize", ROOT / "tools" / "normalize_notebooks.py")
    normalize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(normalize)
    from jupyter_client.kernelspec import KernelSpecManager

    installed = KernelSpecManager().get_kernel_spec("python3")
    assert normalize.KERNELSPEC["display_name"] == installed.display_name
    wrong = [p.name for p in normalize.notebooks()
             if nbformat.read(p, as_version=4).metadata.get("kernelspec") != normalize.KERNELSPEC]
    assert not wrong, f"run python tools/normalize_notebooks.py: {wrong}"
