"""Claims are code: every quantitative sentence about an output has a claim cell beside it.

A *claim cell* is a code cell tagged ``claim`` that asserts, on the data, what the prose next
to it says ("about a quarter" -> 0.2-0.3, "rises" -> a trend test). The notebook tests
(nbval) run them, so a changed dataset says which sentences no longer hold. This module checks
the other half: that a markdown paragraph stating a number or a proportion has a claim cell
within two cells before or after it.

A markdown cell tagged ``claim-exempt`` states numbers that are not about an output (a
formula's parameters, a policy table, a question to the reader); use it sparingly.
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: Notebooks whose prose is checked by claim cells (by name: numbers moved when chapters were
#: inserted). Those not present in a checkout are skipped.
CONVERTED = [
    "00_crm_and_the_company",
    "01_customer_data",
    "02_segmentation",
    "03_customer_value",
    "04_lifecycle",
    "05_satisfaction",
    "06_complaints_and_recovery",
    "07_loyalty",
    "08_customer_lifetime_value",
    "09_churn_early_warning",
    "10_churn_survival",
    "11_retention_and_winback",
    "12_personalisation",
    "13_customer_journey",
    "14_data_privacy",
    "15_kpis_and_experiments",
    "16_from_prototype_to_production",
    "17_key_accounts",
    "18_crm_systems",
    "19_capstone",
]
#: Notebooks whose quantitative paragraphs have no claim cells yet: none. A new chapter goes here
#: until its prose is backed by claims.
NOT_YET_CONVERTED: list[str] = []

# A number about an output: a percentage, an approximate quantity, a fraction word or a
# multiple. Plain numbers without these markers (dates, parameters, chapter numbers) are not
# flagged: a detector that flags every digit would teach people to ignore it.
QUANTITATIVE = re.compile(
    r"\d+(?:\.\d+)?\s*%"
    r"|\b(?:about|around|roughly|nearly|almost|over|under)\s+(?:a|an|one|two|three|four|five|half|\d)"
    r"|\b(?:twice|half|quarter|third|fifth|sixth|tenth)s?\b"
    r"|\b\d+(?:\.\d+)?\s+times\b",
    re.IGNORECASE,
)
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.DOTALL)
_CODE = re.compile(r"`[^`]*`")


def _notebook(name: str) -> Path | None:
    path = NOTEBOOKS / f"{name}.ipynb"
    return path if path.exists() else None


def quantitative_paragraphs(source: str) -> list[str]:
    """The paragraphs of a markdown cell that state a number or proportion (headings excluded)."""
    text = _CODE.sub("", _MATH.sub("", source))
    out = []
    for para in re.split(r"\n\s*\n", text):
        lines = [ln for ln in para.splitlines() if not ln.lstrip().startswith("#")]
        para = " ".join(lines).strip()
        if para and QUANTITATIVE.search(para):
            out.append(para)
    return out


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def unbacked_paragraphs(nb) -> list[tuple[int, str]]:
    """(cell index, paragraph) of quantitative paragraphs with no claim cell within two cells."""
    cells = nb.cells
    claims = {i for i, c in enumerate(cells) if c.cell_type == "code" and "claim" in _tags(c)}
    missing = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or "claim-exempt" in _tags(cell):
            continue
        if any(j in claims for j in range(i - 2, i + 3)):
            continue
        missing += [(i, p) for p in quantitative_paragraphs(cell.source)]
    return missing


def test_detector_flags_quantities_not_plain_text():
    assert quantitative_paragraphs("About a quarter of the customers churn.")
    assert quantitative_paragraphs("The rate rose to 12.5 % in June.")
    assert quantitative_paragraphs("Key customers spend twice as much.")
    assert quantitative_paragraphs("Churners complain 3 times as often.")
    assert not quantitative_paragraphs("## 3. Hazard (风险)\n\nThe hazard is the churn rate of those still there.")
    assert not quantitative_paragraphs("A formula: $h = d / (n - c/2)$ and `width=30`.")


def test_every_chapter_is_listed_once():
    chapters = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    listed = CONVERTED + NOT_YET_CONVERTED
    assert len(listed) == len(set(listed))
    assert set(chapters) <= set(listed), f"chapters missing from CONVERTED/NOT_YET_CONVERTED: {set(chapters) - set(listed)}"


@pytest.mark.parametrize("chapter", [c for c in CONVERTED if _notebook(c) is not None])
def test_quantitative_prose_has_claims(chapter):
    nb = nbformat.read(_notebook(chapter), as_version=4)
    n_claims = sum(1 for c in nb.cells if c.cell_type == "code" and "claim" in _tags(c))
    assert n_claims > 0, f"chapter {chapter} is listed as converted but has no claim cell"
    missing = unbacked_paragraphs(nb)
    assert not missing, (
        f"chapter {chapter}: {len(missing)} quantitative paragraph(s) without a claim cell within two cells:\n"
        + "\n".join(f"  cell {i}: {p[:140]}" for i, p in missing)
        + "\nAdd a code cell tagged 'claim' that asserts the sentence on the data (or tag a paragraph "
        "that states no output 'claim-exempt')."
    )
