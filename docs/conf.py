"""Sphinx configuration of the crmlab course website (课程网站).

Built by ``make site`` (``python docs/build_site.py``), which stages the sources into
``docs/_build/src`` and writes the site to ``docs/_build/html``. See docs/README.md.

Why Sphinx + myst-nb + numpydoc: everything installs with pip alone (Jupyter Book 2 and the
MyST document engine need Node.js, which a student's machine may not have); myst-nb renders
the outputs stored in the committed notebooks without executing them; numpydoc reads the
library's numpydoc docstrings as they are; and Sphinx ships a client-side search that works
from a static folder. Nothing is fetched from the network at build or view time: MathJax is
served from the site's own ``_static/mathjax`` (copied from the ``sphinx-mathjax-offline``
package) and the theme bundles its fonts and icons.
"""

from __future__ import annotations

import sys
from pathlib import Path

import crmlab

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "crmlab"
author = "crmlab contributors"
copyright = "crmlab contributors, BSD-3-Clause"
version = release = crmlab.__version__
# The course is written in English with the Chinese terms beside the English ones.
language = "en"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/mathjax and points mathjax_path at it
    "crmlab_site",  # claim cells hidden, alt text for every figure
]

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "tests", "README.md", "build_site.py"]
templates_path = []

# -- notebooks: render the stored outputs, never execute -----------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
# the committed notebooks carry their own outputs; a stderr output is shown, not a warning
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# -- math: MathJax from the site itself (sphinx-mathjax-offline sets mathjax_path) ------------
mathjax_path = "mathjax/tex-chtml.js"

# -- API reference ------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters section already gives the types
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "crmlab · CRM analytics (客户关系管理)"
html_static_path = ["_static"]
html_css_files = ["crmlab.css"]
html_favicon = "_static/favicon.svg"  # else every browser asks for a /favicon.ico that is not there
# light, as the committed figures are drawn on white (an empty mode is a console error)
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
    "show_navbar_depth": 1,
}
