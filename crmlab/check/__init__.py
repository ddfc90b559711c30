"""Exercise checks: one module per exercise set, plus shared comparison helpers.

``crm.check.ex02`` is the check module of ``exercises/solutions/02_segmentation.ipynb``;
it is imported on first use. Each exercise is a function ``<exercise_id>(answer, data=None)``
that recomputes the expected answer from ``data`` (the shipped dataset when None) with
crmlab's reference implementation, compares, and prints one line on success or raises an
``AssertionError`` that says what differs.

The comparison helpers of :mod:`crmlab.check.compare` are re-exported here.

Examples
--------
>>> from crmlab.check import assert_scalar_close, passed
>>> assert_scalar_close(0.5, 0.5)
>>> passed("demo")
✔ demo: correct
"""

from __future__ import annotations

import importlib
import re

from crmlab.check.compare import (
    assert_axes,
    assert_frame_matches,
    assert_same_partition,
    assert_same_set,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
    matches,
    passed,
    resolve_data,
)

__all__ = [
    "assert_frame_matches",
    "assert_series_matches",
    "assert_scalar_close",
    "assert_same_set",
    "assert_same_partition",
    "assert_axes",
    "resolve_data",
    "passed",
    "fail",
    "judge",
    "matches",
    "compare",
]

_EXERCISE_MODULE = re.compile(r"^ex\d{2}$")


def __getattr__(name: str):
    if name == "compare" or _EXERCISE_MODULE.match(name):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                raise AttributeError(
                    f"crmlab.check has no exercise set {name!r}; check the set number "
                    f"(ex01 ... ex17) in the setup cell."
                ) from None
            raise
    raise AttributeError(f"module 'crmlab.check' has no attribute {name!r}")


def __dir__():
    import pkgutil
    from pathlib import Path

    sets = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if _EXERCISE_MODULE.match(m.name)]
    return sorted(set(__all__) | set(sets))
