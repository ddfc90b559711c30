"""crmlab: Customer Relationship Management (客户关系管理) analytics for teaching and research.

>>> import crmlab as crm
>>> data = crm.load_retail()          # the simulated company shipped with the course
>>> data.transactions.shape[1] > 0
True

Submodules are imported on first use (``crm.segmentation``, ``crm.clv``, ...).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "validation", "data", "time", "synth", "features", "segmentation", "lifecycle",
    "profile", "satisfaction", "loyalty", "clv", "churn", "survival", "uplift", "recommend",
    "journey", "privacy", "monitoring", "accounts", "pipeline", "negotiation", "systems",
    "plot", "check", "course", "engines", "cli",
)

__all__ = ["CRMData", "load_retail", "load_cdnow", "load_donations", "load_mobi", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in {"data", "CRMData", "load_retail", "load_cdnow", "load_donations", "load_mobi"}:
        importlib.import_module("crmlab.synth")  # registers how a saved dataset's config is rebuilt
        data = importlib.import_module("crmlab.data")
        return data if name == "data" else getattr(data, name)
    if name in _SUBMODULES:
        return importlib.import_module(f"crmlab.{name}")
    raise AttributeError(f"module 'crmlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__ + ["__version__"])
