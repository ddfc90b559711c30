"""The site's build: sources, hidden claim cells, alt text, offline pages, links.

Checked on the HTML files themselves (no browser): see test_site_browser.py for the pages as
a reader's browser shows them.
"""

from __future__ import annotations

import base64
import html
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import build_site
import crmlab_site
import nbformat
import pytest
from sitepaths import DOCS, ROOT, html_pages

# a 2x2 PNG, so the fixture needs no plotting library
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg=="
)


class _Page(HTMLParser):
    """The parts of a page the checks need: tags with their attributes, and element ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _image_cell(source: str, **metadata) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"})]
    return cell


def _fixture_notebook() -> nbformat.NotebookNode:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    visible = code('print("VISIBLE_MARKER")')
    visible.outputs = [nbformat.v4.new_output("stream", name="stdout", text="VISIBLE_OUTPUT\n")]
    claim = code('assert "CLAIM_MARKER" == "CLAIM_MARKER"', metadata={"tags": ["claim"]})
    claim.outputs = [nbformat.v4.new_output("stream", name="stdout", text="CLAIM_OUTPUT\n")]
    cells = [
        md("# Fixture chapter (测试章节)\n\nThe mean is $\\bar{x} = 2$."),
        visible,
        claim,
        _image_cell("ax.bar([1, 2], [1, 2])"),
        md("**What to see:** the second bar is twice the first. Nothing else."),
        md("Spend by month, as a line:"),
        _image_cell("ax.plot([1, 2, 3])"),
        _image_cell("fig, ax = plt.subplots()\nax.set_title('Fixture title')", mystnb={"image": {"alt": "An authored description"}}),
        code("x = 1"),
        _image_cell("fig, ax = plt.subplots()\nax.set_xlabel('month')\nax.hist(x)"),
        md("## Next section (下一节)\n\nText."),
    ]
    return nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> Path:
    """A two-page site built with the real configuration from a fixture notebook."""
    from sphinx.cmd.build import build_main

    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("html")
    (src / "index.md").write_text("# Fixture\n\n```{toctree}\nchapter\n```\n", encoding="utf-8")
    nbformat.write(_fixture_notebook(), src / "chapter.ipynb")
    with warnings.catch_warnings():  # the theme's deprecation notices are not this test's subject
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        status = build_main(["-q", "-b", "html", "-c", str(DOCS), "-d", str(out / ".doctrees"), str(src), str(out)])
    assert status == 0
    return out


def test_claim_cells_are_hidden_and_others_shown(fixture_site):
    text = _page_text(fixture_site / "chapter.html")
    assert 'print("VISIBLE_MARKER")' in text and "VISIBLE_OUTPUT" in text
    assert "CLAIM_MARKER" not in text
    assert "CLAIM_OUTPUT" not in text


def test_figure_alt_text_comes_from_metadata_prose_or_code(fixture_site):
    alts = [attrs.get("alt") for tag, attrs in parse(fixture_site / "chapter.html").tags if tag == "img"]
    assert alts == [
        # the sentence after the plot, without its "What to see:" lead
        "The second bar is twice the first. Nothing else.",
        # no sentence after it (the next cell is code): the paragraph before it
        "Spend by month, as a line:",
        # the author's own, from the cell metadata
        "An authored description",
        # a new section follows and code precedes: what the plotting code says
        "Figure: x axis: month",
    ]


def test_fixture_math_is_marked_for_the_local_mathjax(fixture_site):
    page = (fixture_site / "chapter.html").read_text(encoding="utf-8")
    assert re.search(r'<span class="math notranslate nohighlight">\\\(\\bar\{x\} = 2\\\)</span>', page)
    assert re.search(r'<script[^>]+src="_static/mathjax/tex-chtml\.js', page)
    assert (fixture_site / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000


def test_notebook_prose_becomes_alt_text():
    """Each committed figure followed by a 'What to see' sentence gets that sentence."""
    checked = 0
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if not crmlab_site.has_image_output(cell):
                continue
            alt = crmlab_site.figure_alt(cells, i)
            assert alt.strip(), f"{path.name} cell {i}: empty alt text"
            assert len(alt) <= crmlab_site.MAX_ALT_CHARS + 2
            following = cells[i + 1].source if i + 1 < len(cells) else ""
            lead = re.match(r"\W*what to see\s*(?:\((\w+)\))?\W*", following, re.IGNORECASE)
            if lead:
                expected = (lead.group(1) or "") + " " + following[lead.end():]
                words = lambda text: re.findall(r"\w+", text.lower())[:4]  # noqa: E731
                assert words(alt) == words(expected), (path.name, i, alt)
                checked += 1
    assert checked >= 1


def test_sources_are_the_course_without_solutions():
    sources = build_site.site_sources()
    notebooks = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    exercises = {f"exercises/{p.name}" for p in (ROOT / "exercises").glob("*.ipynb")}
    assert notebooks | exercises <= set(sources)
    assert {"notebooks/GLOSSARY.md", "notebooks/README.md", "datasets/README.md", "index.md"} <= set(sources)
    assert not [s for s in sources if "solutions" in s]


def test_api_reference_covers_every_public_module():
    import crmlab

    pages = build_site.api_pages()
    modules = [name for name in crmlab.__all__ if (ROOT / "crmlab" / f"{name}.py").exists()
               or (ROOT / "crmlab" / name / "__init__.py").exists()]
    for name in set(modules) - build_site.API_EXCLUDE:
        assert f"api/{name}.rst" in pages, name
        assert f".. automodule:: crmlab.{name}" in pages[f"api/{name}.rst"]


# -- the built site -------------------------------------------------------------------------

_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_RESOURCE_ATTRS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src",
                   "video": "src", "embed": "src", "object": "data", "link": "href"}


def test_every_page_is_offline(site):
    """No page loads a script, style, font or image from another host."""
    external = []
    for path in html_pages(site):
        for tag, attrs in parse(path).tags:
            attr = _RESOURCE_ATTRS.get(tag)
            value = attrs.get(attr) or "" if attr else ""
            if value and _EXTERNAL.match(value):
                external.append(f"{path.relative_to(site)}: <{tag} {attr}={value!r}>")
            if tag == "img" and (attrs.get("srcset") or "").find("//") >= 0:
                external.append(f"{path.relative_to(site)}: <img srcset={attrs['srcset']!r}>")
    assert not external, "\n".join(external[:20])


def test_styles_load_nothing_from_another_host(site):
    bad = []
    for css in site.rglob("*.css"):
        for url in re.findall(r"(?:url\(|@import\s+)\s*[\"']?([^\"')\s]+)", css.read_text(encoding="utf-8", errors="replace")):
            if _EXTERNAL.match(url):
                bad.append(f"{css.relative_to(site)}: {url}")
    assert not bad, "\n".join(bad[:20])


def test_every_image_has_alt_text(site):
    missing = [f"{path.relative_to(site)}: {attrs.get('src')}"
               for path in html_pages(site) for tag, attrs in parse(path).tags
               if tag == "img" and not (attrs.get("alt") or "").strip()]
    assert not missing, "\n".join(missing[:20])
    figures = sum(1 for path in (site / "notebooks").glob("*.html") for tag, _ in parse(path).tags if tag == "img")
    assert figures >= 30  # the course's figures are on the pages


def test_internal_links_and_anchors_resolve(site):
    pages = {path: parse(path) for path in html_pages(site)}
    broken, checked = [], 0
    for path, page in pages.items():
        for tag, attrs in page.tags:
            ref = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag in ("img", "script") else None
            if not ref or _EXTERNAL.match(ref) or ref.startswith(("mailto:", "javascript:", "data:")):
                continue
            parts = urlsplit(ref)
            checked += 1
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)} -> {ref}")
            elif parts.fragment and target.suffix == ".html" and target in pages:
                if unquote(parts.fragment) not in pages[target].ids:
                    broken.append(f"{path.relative_to(site)} -> {ref} (no such anchor)")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:30])
    assert checked > 20 * len(pages)  # the navigation of every page was followed


def test_every_notebook_and_exercise_set_has_a_page(site):
    for folder in ("notebooks", "exercises"):
        for nb in (ROOT / folder).glob("*.ipynb"):
            assert (site / folder / f"{nb.stem}.html").is_file(), nb
    assert not (site / "exercises" / "solutions").exists()
    for page in ("notebooks/GLOSSARY.html", "notebooks/README.html", "datasets/README.html", "api/index.html",
                 "search.html"):
        assert (site / page).is_file(), page


def _page_text(path: Path) -> str:
    """The text a reader sees (highlighted code is split into spans: join them back)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_committed_claim_cells_are_not_on_their_pages(site):
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = _page_text(site / "notebooks" / f"{path.stem}.html")
        cells = nbformat.read(path, as_version=4).cells
        shown = [c for c in cells if c.cell_type == "code" and "claim" not in c.metadata.get("tags", [])
                 and c.source.strip() and "remove-cell" not in c.metadata.get("tags", [])]
        if shown:  # the check can see code: the first visible cell's first line is on the page
            assert shown[0].source.strip().splitlines()[0] in text, path.name
        for cell in cells:
            if "claim" in cell.metadata.get("tags", []):
                for line in (ln.strip() for ln in cell.source.splitlines()):
                    if len(line) > 12 and all(line not in c.source for c in shown):
                        assert line not in text, f"{path.name}: claim cell shown: {line}"


def test_pages_are_utf8_with_the_chinese_terms(site):
    page = (site / "notebooks" / "08_customer_lifetime_value.html").read_text(encoding="utf-8")
    assert re.search(r'<meta charset="utf-8"', page, re.IGNORECASE)
    assert "客户生命周期价值" in page
    glossary = (site / "notebooks" / "GLOSSARY.html").read_text(encoding="utf-8")
    assert "术语表" in glossary and "客户关系管理" in glossary
