"""Plotting helpers: each takes ``data`` and column names (or fitted results) and
``ax=None``, draws with matplotlib/seaborn and returns the Axes.

The helpers live in one small module per topic (``crmlab/plot/<topic>.py``); every
name in a module's ``__all__`` is re-exported here, so ``crm.plot.lorenz_curve(...)``
works whatever module defines it.

Chinese labels render with a real CJK font: importing ``crmlab.plot`` calls
:func:`use_cjk_font`, which adds one to matplotlib's font fallback list (Latin text keeps
the default font). The figures of the course's bilingual terms (RFM classes, pyramid
tiers, loyalty types) label them in both languages; pass ``lang="zh"`` or ``"en"`` for one.
"""

from __future__ import annotations

import importlib
import pkgutil

from crmlab.plot._fonts import use_cjk_font

__all__: list[str] = ["use_cjk_font"]


def _export_topic_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "__all__", ()):
            globals()[name] = getattr(module, name)
            __all__.append(name)


_export_topic_modules()
use_cjk_font()
