"""Sphinx extension for the crmlab course website.

It changes how the committed notebooks are *rendered*, never the notebooks themselves:

- cells tagged ``claim`` (assertions that back a sentence of the prose) are removed from
  the page, like cells tagged ``remove-cell``;
- every image output gets alt text: the cell's own ``mystnb.image.alt`` metadata if the
  author wrote one, else the sentence next to the plot that says what to see, else a
  description built from the plot call in the code.

Both run on the ``source-read`` event, so myst-nb renders the adjusted notebook with its
usual machinery (the alt text becomes myst-nb's per-cell image option).
"""

from __future__ import annotations

import re

import nbformat

#: cell tags hidden on the site besides myst-nb's own remove-cell/remove-input/hide-input
HIDDEN_TAGS = ("claim",)
#: a description longer than this is cut at a sentence (or word) boundary
MAX_ALT_CHARS = 320

_IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
# a full stop followed by a new sentence, not the one of "e.g." or "i.e." or "vs."
_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)(?<!\bvs)(\.)\s+(?=[A-Z(\"“])")
_WHAT_TO_SEE = re.compile(r"^\s*what to see\s*(\([^)]*\))?\s*:\s*", re.IGNORECASE)


def has_image_output(cell) -> bool:
    """True when a code cell has at least one image among its stored outputs."""
    return cell.get("cell_type") == "code" and any(
        mime in output.get("data", {}) for output in cell.get("outputs", []) for mime in _IMAGE_MIMES
    )


def markdown_to_text(markdown: str) -> str:
    """Plain text of a markdown paragraph: emphasis, code marks, links and math delimiters dropped."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", markdown)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    text = re.sub(r"(?<!\\)\$+", "", text)  # $...$ and $$...$$
    text = text.replace("\\$", "$")
    text = re.sub(r"<[^>]+>", "", text)  # inline html
    return re.sub(r"\s+", " ", text).strip()


def _paragraphs(markdown: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]


def _is_prose(paragraph: str) -> bool:
    """A paragraph of running text: not a heading, list, table, code fence, quote or math block."""
    return not re.match(r"^(#|[-*+] |\d+\. |\||```|~~~|>|\$\$|<)", paragraph)


def shorten(text: str, limit: int = MAX_ALT_CHARS) -> str:
    """Cut ``text`` to at most ``limit`` characters, at the end of a sentence when possible."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end(1) for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > limit // 3:
        return cut[: ends[-1]]
    return cut[: cut.rfind(" ")].rstrip(",;:") + " …"


def _describe_code(source: str) -> str:
    """Last resort: what the plotting code says about its figure (title, axis labels, call)."""
    title = re.findall(r"(?:set_title|suptitle|title)\(\s*[fr]?([\"'])(.+?)\1", source)
    labels = re.findall(r"set_([xy])label\(\s*[fr]?([\"'])(.+?)\2", source)
    calls = sorted(set(re.findall(r"\b(crm\.plot\.\w+|sns\.\w+|plt\.\w+|\.(?:plot|bar|barh|hist|scatter|imshow|heatmap)\b)\(", source)))
    calls = [c.lstrip(".") for c in calls if c not in {"plt.show", "plt.subplots", "plt.figure", "plt.tight_layout"}]
    parts = []
    if title:
        parts.append(title[0][1])
    if labels:
        parts.append(", ".join(f"{axis} axis: {label}" for axis, _, label in labels))
    if not parts and calls:
        parts.append("drawn with " + ", ".join(calls))
    return "Figure" + (": " + "; ".join(parts) if parts else " produced by the code above")


def figure_alt(cells, index: int) -> str:
    """Alt text for the images of ``cells[index]``.

    The course writes one sentence beside each plot saying what to see. This takes, in order:
    the cell's ``mystnb.image.alt`` metadata; the first paragraph of the markdown cell right
    after the plot, when it is running text (not a new section); the last running-text
    paragraph of the nearest markdown cell before the plot (within two cells); a description
    of the plot call in the code.
    """
    cell = cells[index]
    authored = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    if authored:
        return str(authored)
    text = ""
    following = cells[index + 1] if index + 1 < len(cells) else None
    if following is not None and following.get("cell_type") == "markdown":
        paragraphs = _paragraphs(following.get("source", ""))
        if paragraphs and _is_prose(paragraphs[0]):
            text = markdown_to_text(paragraphs[0])
    if not text:
        for back in (index - 1, index - 2):
            if back >= 0 and cells[back].get("cell_type") == "markdown":
                prose = [p for p in _paragraphs(cells[back].get("source", "")) if _is_prose(p)]
                if prose:
                    text = markdown_to_text(prose[-1])
                break
    if text:
        # "What to see (left): ..." keeps which panel it speaks of: "Left: ..."
        text = _WHAT_TO_SEE.sub(lambda m: f"{m.group(1)[1:-1].strip().capitalize()}: " if m.group(1) else "", text)
        text = text[:1].upper() + text[1:]
        return shorten(text)
    return shorten(_describe_code(cell.get("source", "")))


def prepare_notebook(notebook) -> int:
    """Hide claim cells and give every image output alt text, in place on ``notebook``.

    Returns the number of cells hidden. ``notebook`` is an ``nbformat`` NotebookNode read
    from the source text; the file on disk is never written.
    """
    hidden = 0
    cells = notebook.cells
    for index, cell in enumerate(cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if any(tag in HIDDEN_TAGS for tag in tags) and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]
            hidden += 1
        if has_image_output(cell):
            alt = figure_alt(cells, index)
            mystnb = cell.metadata.setdefault("mystnb", {})
            mystnb.setdefault("image", {})["alt"] = alt
    return hidden


def _source_read(app, docname: str, source: list[str]) -> None:
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = nbformat.reads(source[0], as_version=4)
    prepare_notebook(notebook)
    source[0] = nbformat.writes(notebook)


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn adds set_fit_request & co. to every estimator class for metadata routing;
    # they are scikit-learn's API, documented there, not crmlab's
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("source-read", _source_read)
    app.connect("autodoc-skip-member", _skip_member)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
