"""Uplift charts: the uplift and Qini curves against random targeting."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from crmlab.validation import check_frame

__all__ = ["uplift_chart"]


def uplift_chart(curve: pd.DataFrame, *, ax: Axes | None = None, label: str = "model", **kwargs: Any) -> Axes:
    """Plot a curve from :func:`crmlab.uplift.uplift_curve` or :func:`crmlab.uplift.qini_curve`.

    The dashed line is random targeting; the area between them is
    :func:`crmlab.uplift.uplift_auc` (or the Qini coefficient). Call it again on the same
    ``ax`` to compare rankings.

    Examples
    --------
    >>> from crmlab.uplift import qini_curve
    >>> ax = uplift_chart(qini_curve([1, 0, 1, 0], [1, 0, 0, 1], [.4, .3, .2, .1]))
    """
    column = "qini" if "qini" in curve.columns else "uplift"
    c = check_frame(curve, required=["share", column, "random"], numeric=["share", column, "random"], name="curve")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    (line,) = ax.plot(c["share"], c[column], label=label, **kwargs)
    ax.plot(c["share"], c["random"], ls="--", color=line.get_color(), lw=1, alpha=0.7)
    ax.axhline(0, color="grey", lw=1)
    ax.set_xlabel("share of customers targeted (highest predicted uplift first)")
    ax.set_ylabel("extra customers retained" if column == "uplift" else "Qini (extra retained, treated scale)")
    ax.set_title("Qini curve" if column == "qini" else "Uplift curve")
    ax.legend()
    return ax
