"""Build the crmlab course website: ``python docs/build_site.py`` (``make site``).

1. Stage the sources in ``docs/_build/src``, keeping the repository's layout so the
   notebooks' relative links (``../exercises/08_....ipynb``, ``GLOSSARY.md``) still resolve:
   ``docs/index.md``, ``notebooks/*.ipynb`` and its two markdown pages, the student exercise
   sets ``exercises/*.ipynb`` (never ``exercises/solutions/``) and the data card
   ``datasets/README.md``. Files are copied only when they changed, so a second build
   re-reads only what changed.
2. Write one API page per public crmlab module (``api/<module>.rst``), found by walking the
   package, so a new or renamed module appears without editing the site.
3. Run Sphinx with ``docs/conf.py`` into ``docs/_build/html``. Nothing is executed: the
   notebooks are rendered with the outputs they were committed with.

Open ``docs/_build/html/index.html``, or serve it: ``python -m http.server -d docs/_build/html``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import shutil
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
BUILD = DOCS / "_build"
SRC = BUILD / "src"
HTML = BUILD / "html"
DOCTREES = BUILD / "doctrees"

#: modules left out of the API reference: the command line has its own ``crmlab --help``
API_EXCLUDE = {"cli"}


def site_sources(root: Path = ROOT) -> dict[str, Path]:
    """Map of staged path (relative to the Sphinx source folder) to the file it copies."""
    files: dict[str, Path] = {"index.md": DOCS / "index.md"}
    for pattern in ("notebooks/*.ipynb", "notebooks/*.md", "exercises/*.ipynb", "datasets/README.md"):
        for path in sorted(root.glob(pattern)):
            files[path.relative_to(root).as_posix()] = path
    return files


def public_modules(package: str = "crmlab") -> list[str]:
    """Public top-level modules and subpackages of ``package``, in the order of its ``__all__``."""
    pkg = importlib.import_module(package)
    found = {m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")}
    listed = [name for name in getattr(pkg, "__all__", []) if name in found]
    rest = sorted(found - set(listed))
    return [name for name in listed + rest if name not in API_EXCLUDE]


def _first_line(module) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""


def api_pages(package: str = "crmlab") -> dict[str, str]:
    """Text of the API reference pages: an index and one page per public module."""
    pages: dict[str, str] = {}
    rows = []
    for name in public_modules(package):
        module = importlib.import_module(f"{package}.{name}")
        full = f"{package}.{name}"
        # functions and classes: a constant's "docstring" would be its type's
        members = [m for m in getattr(module, "__all__", [])
                   if callable(getattr(module, m, None)) and not isinstance(getattr(module, m), type(module))]
        summary = ""
        if members:
            summary = (
                ".. autosummary::\n   :nosignatures:\n\n"
                + "".join(f"   {member}\n" for member in members)
                + "\n"
            )
        pages[f"api/{name}.rst"] = (
            f"{full}\n{'=' * len(full)}\n\n"
            f".. currentmodule:: {full}\n\n"
            f"{summary}"
            f".. automodule:: {full}\n   :members:\n"
        )
        rows.append(f"| [`{full}`]({name}.rst) | {_first_line(module).replace('|', '/')} |")
    toctree = "\n".join(f"{name}" for name in public_modules(package))
    pages["api/index.md"] = (
        "# API reference (接口参考)\n\n"
        "Every public module of the library, generated from its numpydoc docstrings. "
        "`import crmlab as crm`; every plot takes `data`, column names and `ax=None` and returns "
        "the Axes; every function validates its input and never modifies it.\n\n"
        "| module | what it is for |\n|---|---|\n" + "\n".join(rows) + "\n\n"
        "```{toctree}\n:hidden:\n:maxdepth: 1\n\n" + toctree + "\n```\n"
    )
    return pages


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def stage(src: Path = SRC, root: Path = ROOT) -> list[str]:
    """Copy the site's sources into ``src`` and write the API pages; return the staged paths."""
    wanted: dict[str, bytes] = {rel: path.read_bytes() for rel, path in site_sources(root).items()}
    wanted.update({rel: text.encode("utf-8") for rel, text in api_pages().items()})
    for rel, data in wanted.items():
        _write_if_changed(src / rel, data)
    for path in sorted(src.rglob("*"), reverse=True):  # drop what is no longer a source
        rel = path.relative_to(src).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return sorted(wanted)


def build(clean: bool = False, jobs: str = "1", quiet: bool = True) -> int:
    """Stage and build the site; return Sphinx's exit status."""
    from sphinx.cmd.build import build_main

    if clean:
        shutil.rmtree(BUILD / "src", ignore_errors=True)
        shutil.rmtree(HTML, ignore_errors=True)
        shutil.rmtree(DOCTREES, ignore_errors=True)
    start = time.perf_counter()
    staged = stage()
    args = ["-b", "html", "-c", str(DOCS), "-d", str(DOCTREES), "-j", jobs,
            "-w", str(BUILD / "warnings.txt"), str(SRC), str(HTML)]
    if quiet:
        args.insert(0, "-q")
    status = build_main(args)
    warnings = (BUILD / "warnings.txt").read_text(encoding="utf-8").strip()
    print(f"site: {len(staged)} sources, {time.perf_counter() - start:.0f} s, "
          f"{len(warnings.splitlines()) if warnings else 0} warning lines (docs/_build/warnings.txt); "
          f"open {HTML.relative_to(ROOT) / 'index.html'}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="rebuild everything from scratch")
    parser.add_argument("-j", "--jobs", default="1", help="Sphinx parallel jobs (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    return build(clean=args.clean, jobs=args.jobs, quiet=not args.verbose)


if __name__ == "__main__":
    sys.exit(main())
