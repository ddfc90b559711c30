"""Survival charts: Kaplan–Meier curves with confidence bands, hazard by tenure."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlab.validation import check_frame

__all__ = ["survival_chart", "hazard_chart"]


def survival_chart(km: pd.DataFrame, *, group: str | None = None, band: bool = True, ax: Axes | None = None,
                   **kwargs: Any) -> Axes:
    """Step plot of Kaplan–Meier curves from :func:`crmlab.survival.kaplan_meier`.

    Pass the output of :func:`crmlab.survival.survival_by_group` with ``group="group"``
    for one curve per group. The shaded band is the confidence interval.

    Examples
    --------
    >>> from crmlab.survival import kaplan_meier
    >>> ax = survival_chart(kaplan_meier([3, 5, 5, 8, 12], [1, 1, 0, 1, 0]))
    """
    cols = ["time", "survival", "lower", "upper"]
    km = check_frame(km, required=cols + ([group] if group else []), numeric=cols, name="km")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    parts = [(None, km)] if group is None else list(km.groupby(group, sort=True))
    for name, part in parts:
        t = np.r_[0.0, part["time"].to_numpy(float)]
        (line,) = ax.step(t, np.r_[1.0, part["survival"]], where="post",
                          label=str(name) if name is not None else "all customers", **kwargs)
        if band:
            ax.fill_between(t, np.r_[1.0, part["lower"]], np.r_[1.0, part["upper"]], step="post",
                            alpha=0.2, color=line.get_color())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("tenure")
    ax.set_ylabel("share still a customer")
    ax.set_title("Kaplan–Meier survival")
    ax.legend()
    return ax


def hazard_chart(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Bar chart of the churn hazard per tenure interval from :func:`crmlab.survival.hazard_table`.

    Examples
    --------
    >>> from crmlab.survival import hazard_table
    >>> ax = hazard_chart(hazard_table([0.5, 1.5, 1.5, 2.5], [1, 1, 0, 0]))
    """
    t = check_frame(table, required=["start", "end", "hazard"], numeric=["start", "end", "hazard"], name="table")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.bar(t["start"], t["hazard"], width=(t["end"] - t["start"]) * 0.9, align="edge",
           color=kwargs.pop("color", "tab:orange"), **kwargs)
    ax.set_xlabel("tenure (interval start)")
    ax.set_ylabel("hazard (share of those still there who churn)")
    ax.set_title("Churn hazard by tenure")
    return ax
