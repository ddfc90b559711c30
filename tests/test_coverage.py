"""notebooks/COVERAGE.md: every notebook and section it names exists, and its status line is true."""

from __future__ import annotations

import pathlib
import re

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
COVERAGE = (ROOT / "notebooks" / "COVERAGE.md").read_text()
ROWS = [line for line in COVERAGE.splitlines() if re.match(r"^\| [A-N]\d+ \|", line)]


def _sections(number: str) -> set[str]:
    paths = list((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    assert len(paths) == 1, f"COVERAGE.md names notebook {number}, which does not exist"
    nb = nbformat.read(paths[0], 4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found.update(re.findall(r"^## (\d+)\.", cell.source, flags=re.M))
    return found


def test_every_concept_is_listed_once():
    ids = [re.match(r"^\| ([A-N]\d+) \|", r).group(1) for r in ROWS]
    assert len(ids) == len(set(ids)) == 122


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.split("|")[1].strip())
def test_references_exist(row):
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    refs, cls = cells[3], cells[4].strip("*")
    assert cls in {"CW", "C", "M", "A"}
    if cls in {"CW", "C"}:
        assert refs != "—", "a taught concept must say where"
    for number, section in re.findall(r"(\d\d)(?: §(\d+))?", refs):
        sections = _sections(number)
        if section:
            assert section in sections, f"notebook {number} has no section {section}"


def test_status_line_counts_the_rows():
    classes = [re.search(r"\*\*(CW|C|M|A)\*\*", r).group(1) for r in ROWS]
    status = re.search(r"Status: CW (\d+), C (\d+), M (\d+), A (\d+) of (\d+)", COVERAGE)
    assert status is not None
    assert [int(x) for x in status.groups()] == [classes.count(k) for k in ("CW", "C", "M", "A")] + [len(ROWS)]
