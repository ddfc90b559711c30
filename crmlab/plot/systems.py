"""CRM-system selection plots: the weighted decision matrix."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["decision_matrix_chart"]


def decision_matrix_chart(matrix: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Stacked bars of each vendor's weighted score by criterion (:func:`crmlab.systems.decision_matrix`).

    Examples
    --------
    >>> from crmlab.systems import decision_matrix
    >>> scores = pd.DataFrame({"A": [4, 3], "B": [3, 5]}, index=["fit", "cost"])
    >>> ax = decision_matrix_chart(decision_matrix(scores, {"fit": 0.7, "cost": 0.3}))
    """
    if not isinstance(matrix, pd.DataFrame) or "total" not in matrix.columns:
        raise TypeError("matrix must be the DataFrame returned by crmlab.systems.decision_matrix.")
    parts = matrix.drop(columns=["total", "rank"], errors="ignore")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    parts.plot.barh(stacked=True, ax=ax, **kwargs)
    ax.invert_yaxis()
    ax.set_xlabel("weighted score")
    ax.set_title("Vendor decision matrix")
    return ax
