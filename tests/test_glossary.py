"""The glossary (notebooks/GLOSSARY.md) is in chapter order and has every Chinese term of every heading.

A heading's Chinese terms are its pieces that contain Chinese characters, cut at brackets,
、 , ， · : ： ; — ≠ " vs " and at a slash next to Chinese text (``托管/按需``; ``BG/NBD`` stays
whole). A piece ``A与B`` (also 和, 及) is covered when the glossary has the whole piece or each
Chinese part (``客户基础与 KPI`` needs 客户基础). The glossary's terms are read the same way
from the first (中文) column of its tables, so a row ``客户档案 (建立客户档案)`` defines both. Spaces do not count (``CRM系统`` is
``CRM 系统``).

Each chapter has one section, ``## NN · title``, in the order 00 to 19; the sections that
follow them (every chapter, exercises) hold the terms that are not one chapter's. A term
sits in the section of a chapter whose headings use it, or of an earlier one, and in one row
only. (That the crmlab names of the third column exist is checked by
``tests/test_course_notebooks.py::test_glossary_names_existing_functions``.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "notebooks" / "GLOSSARY.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = [f"{i:02d}" for i in range(20)]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPLIT = re.compile(
    r"[()（）\[\]【】、,，·:：;；—≠]"           # brackets and separators
    r"|\s+vs\.?\s+"                           # 预置型 vs 托管
    r"|\s+/\s+"                               # 识别 / 获取
    r"|(?<=[\u3400-\u9fff])/|/(?=[\u3400-\u9fff])"  # 托管/按需, but not BG/NBD
)
_COMPOUND = re.compile(r"[与和及]")
_SECTION = re.compile(r"^## (\d\d) · ")


def _norm(term: str) -> str:
    return re.sub(r"\s+", "", term).lower()


def pieces(text: str) -> list[str]:
    """The Chinese pieces of a heading or a glossary cell, in order."""
    text = re.sub(r"`[^`]*`", " ", text)      # code in a heading is not a term
    return [p.strip() for p in _SPLIT.split(text) if _CJK.search(p)]


def heading_terms(notebook: Path) -> list[tuple[str, str]]:
    """``(heading, term)`` for every Chinese term of every markdown heading of ``notebook``."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    out = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        fenced = False
        for line in "".join(cell["source"]).splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            elif not fenced and re.match(r"^#{1,6}\s", line):
                heading = line.lstrip("#").strip()
                out.extend((heading, term) for term in pieces(heading))
    return out


def read_glossary() -> tuple[list[str], list[tuple[str, str, list[str], str]]]:
    """Section titles in order, and ``(section, chapter or "", terms of the row, crmlab cell)`` per row."""
    sections, rows = [], []
    section, chapter = "", ""
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            match = _SECTION.match(line)
            chapter = match.group(1) if match else ""
            sections.append(section)
        elif line.startswith("|") and section:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] in ("中文", "") or set(cells[0]) <= set("-: "):
                continue
            rows.append((section, chapter, pieces(cells[0]), cells[2] if len(cells) > 2 else ""))
    return sections, rows


def term_index() -> dict[str, list[tuple[str, str]]]:
    """Normalised term -> the ``(section, chapter)`` of every row that defines it."""
    index: dict[str, list[tuple[str, str]]] = {}
    for section, chapter, terms, _ in read_glossary()[1]:
        for term in terms:
            index.setdefault(_norm(term), []).append((section, chapter))
    return index


def covered(term: str, index: dict) -> list[str] | None:
    """The glossary terms that cover ``term`` (itself, or each part of A与B), or None."""
    if _norm(term) in index:
        return [_norm(term)]
    pieces_ = _COMPOUND.split(term)
    parts = [p for p in pieces_ if _CJK.search(p)]     # 客户基础与 KPI: only 客户基础 is a Chinese term
    if len(pieces_) > 1 and parts and all(_norm(p) in index for p in parts):
        return [_norm(p) for p in parts]
    return None


def uses() -> dict[str, list[tuple[str, str, str]]]:
    """Normalised glossary term -> (chapter, notebook, heading) of each use in a heading, in chapter order."""
    index: dict = term_index()
    found: dict[str, list[tuple[str, str, str]]] = {}
    for nb in NOTEBOOKS:
        for heading, term in heading_terms(nb):
            for key in covered(term, index) or []:
                found.setdefault(key, []).append((nb.name[:2], nb.name, heading))
    return found


def test_notebooks_found():
    assert [nb.name[:2] for nb in NOTEBOOKS] == CHAPTERS
    assert all(heading_terms(nb) for nb in NOTEBOOKS)


def test_pieces():
    assert pieces("2. The four core tasks (客户管理的核心要素: 识别 / 获取 / 维护 / 增值)") == [
        "客户管理的核心要素", "识别", "获取", "维护", "增值"]
    assert pieces("Choosing (大客户 ≠ 关键客户)") == ["大客户", "关键客户"]
    assert pieces("TCO (预置型 vs 托管/按需)") == ["预置型", "托管", "按需"]
    assert pieces("(BG/NBD 模型, Dick & Basu 1994)") == ["BG/NBD 模型"]
    assert pieces("The few lines behind `load_retail` (背后的代码)") == ["背后的代码"]
    index = {"企业客户": [], "个人客户": []}
    assert covered("企业客户与个人客户", index) == ["企业客户", "个人客户"]
    assert covered("企业客户与小客户", index) is None
    assert covered("企业客户与 B2B", index) == ["企业客户"]
    assert covered("企业客户", {}) is None


def test_chapter_sections_in_order():
    sections = read_glossary()[0]
    numbered = [s[:2] for s in sections if _SECTION.match("## " + s)]
    assert numbered == CHAPTERS, (
        f"GLOSSARY.md needs one section '## NN · title' per chapter, in the order 00 to 19; found {numbered}")
    last = max(i for i, s in enumerate(sections) if _SECTION.match("## " + s))
    first = min(i for i, s in enumerate(sections) if _SECTION.match("## " + s))
    others = [s for i, s in enumerate(sections) if not _SECTION.match("## " + s) and first < i < last]
    assert not others, f"sections {others} stand between the chapter sections; move them after chapter 19"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_heading_term_is_in_the_glossary(notebook):
    index = term_index()
    chapter = notebook.name[:2]
    section = next((s for s in read_glossary()[0] if s.startswith(f"{chapter} · ")), f"{chapter} · …")
    missing = [(h, t) for h, t in heading_terms(notebook) if covered(t, index) is None]
    assert not missing, (
        f"{notebook.name}: Chinese heading terms missing from notebooks/GLOSSARY.md. Add a row "
        f"'| 中文 | English | crmlab function or — |' to the section '## {section}' for each of:\n"
        + "\n".join(f"  {t!r}  (heading: {h!r})" for h, t in missing)
        + "\n(or, if the term is a variant of a row's term, add it in brackets to that row's 中文 cell)")


def test_terms_sit_in_a_chapter_that_uses_them_or_earlier():
    index, late = term_index(), []
    for key, found in uses().items():
        homes = [c for _, c in index[key] if c]
        chapters = {c for c, _, _ in found}
        if homes and min(homes) > found[0][0] and min(homes) not in chapters:
            chapter, nb, heading = found[0]
            late.append(f"  {key!r}: in section {min(homes)}, first used in {nb} heading {heading!r}; move its "
                        f"row to section {chapter} (or to any chapter whose headings use it: {sorted(chapters)})")
    assert not late, "GLOSSARY.md rows later than the chapters that use them:\n" + "\n".join(late)


def test_each_term_has_one_row():
    doubles = {k: v for k, v in term_index().items() if len(v) > 1}
    assert not doubles, "terms defined in more than one GLOSSARY.md row (keep one, add the chapters to it):\n" + \
        "\n".join(f"  {k!r}: {[s for s, _ in v]}" for k, v in doubles.items())


def _english(term: str) -> str:
    """The English cell of the row that defines ``term``."""
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1 and _norm(term) in {_norm(t) for t in pieces(cells[0])}:
            return cells[1]
    raise AssertionError(f"{term!r} is not in GLOSSARY.md")


def test_the_terms_issue_14_corrected_stay_corrected():
    assert "key-account management" in _english("关键客户管理")
    assert "big-account management" in _english("大客户管理")
    assert "lost causes" in _english("无法挽留客户")
    assert "lost cause" not in _english("已流失客户")
    assert "at-risk" in _english("流失风险客户")
    assert _norm("风险客户") not in term_index(), "an at-risk customer is 流失风险客户; 风险客户 reads as credit risk"
    assert "before" in _english("挽留") and "have left" in _english("挽回")
