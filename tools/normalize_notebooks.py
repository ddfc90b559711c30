"""Give every notebook of the course the kernel metadata JupyterLab writes itself.

JupyterLab rewrites a notebook's ``kernelspec`` when it starts the kernel; a stored
``display_name`` other than the one the ipykernel kernelspec reports makes every notebook
open as modified. Run after executing notebooks: ``python tools/normalize_notebooks.py``.
"""

from __future__ import annotations

import pathlib
import sys

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ROOT = pathlib.Path(__file__).resolve().parents[1]


def notebooks() -> list[pathlib.Path]:
    return sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("exercises/*.ipynb"),
                   *ROOT.glob("exercises/solutions/*.ipynb")])


def main() -> int:
    changed = 0
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        if nb.metadata.get("kernelspec") != KERNELSPEC:
            nb.metadata["kernelspec"] = dict(KERNELSPEC)
            nbformat.write(nb, path)
            changed += 1
    print(f"{changed} notebook(s) normalised")
    return 0


if __name__ == "__main__":
    sys.exit(main())
