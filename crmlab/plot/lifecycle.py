"""Plots for the customer lifecycle: cohort retention heatmap and stage flows.

Each function takes a table from :mod:`crmlab.lifecycle` and ``ax=None`` and returns the Axes.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlab.validation import check_frame

__all__ = ["cohort_heatmap", "stage_flow_plot"]

_STAGE_COLOURS = {"prospect": "#bdbdbd", "new": "#9ecae1", "repeat": "#4292c6", "loyal": "#08519c",
                  "at_risk": "#fd8d3c", "lapsed": "#d62728"}


def _heatmap(data, **kwargs: Any) -> Axes:
    # seaborn's heatmap triggers a matplotlib deprecation notice that is not ours to fix
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        return sns.heatmap(data, **kwargs)


def cohort_heatmap(table: pd.DataFrame, *, max_periods: int | None = None, annot: bool | None = None,
                   ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Cohort retention as a heatmap: cohorts down, periods since first purchase across.

    ``table`` comes from :func:`crmlab.lifecycle.cohort_retention`. Read along a row for
    one cohort's decay, down a column to compare cohorts at the same age.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame([[1.0, 0.5], [1.0, None]], index=["2024-01", "2024-02"])
    >>> ax = cohort_heatmap(t)
    >>> ax.get_xlabel()
    'periods since first purchase'
    """
    table = check_frame(table, name="table")
    if max_periods is not None:
        table = table.iloc[:, :max_periods]
    table = table.set_axis([str(i) for i in table.index], axis=0)
    if annot is None:
        annot = table.shape[1] <= 13 and len(table) <= 24
    values = table.to_numpy(dtype=float)
    normalized = bool(np.nanmax(values) <= 1.0)
    if normalized and values.shape[1] > 1 and "vmax" not in kwargs:
        # column 0 is 100 % by definition; scale the colours on the later periods
        kwargs["vmax"] = float(np.nanmax(values[:, 1:])) if np.isfinite(values[:, 1:]).any() else 1.0
    ax = _ax(ax, (0.55 * table.shape[1] + 3, 0.3 * len(table) + 2))
    _heatmap(table.astype(float), annot=annot, fmt=".0%" if normalized else ".0f",
                cmap=kwargs.pop("cmap", "Blues"), ax=ax,
                cbar_kws={"label": "share of cohort buying" if normalized else "customers buying"},
                annot_kws={"fontsize": 7}, **kwargs)
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel("periods since first purchase")
    ax.set_ylabel("cohort (first purchase)")
    return ax


def _ax(ax, size):
    return plt.subplots(figsize=size)[1] if ax is None else ax


def stage_flow_plot(transitions: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Where each lifecycle stage goes: one stacked bar per starting stage.

    ``transitions`` comes from :func:`crmlab.lifecycle.stage_transitions` (counts or row
    shares); every bar is shown as shares of its stage, with the number of customers in
    the label when counts are given. Stages nobody started in are left out.
    """
    transitions = check_frame(transitions, name="transitions")
    counts = transitions.fillna(0.0)
    totals = counts.sum(axis=1)
    shares = counts[totals > 0].div(totals[totals > 0], axis=0)
    is_count = bool((transitions.fillna(0).to_numpy() > 1).any())
    ax = _ax(ax, (7.5, 0.5 * len(shares) + 1.8))
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for stage in shares.columns:
        width = shares[stage].to_numpy()
        ax.barh(y, width, left=left, color=_STAGE_COLOURS.get(stage), label=str(stage), height=0.7)
        for yi, start, w in zip(y, left, width):
            if w >= 0.07:
                ax.text(start + w / 2, yi, f"{w:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if stage in ("loyal", "lapsed", "repeat") else "black")
        left += width
    labels = [f"{s} (n={int(totals[s])})" if is_count else str(s) for s in shares.index]
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share moving to each stage ({transitions.columns.name or 'to'})")
    ax.set_ylabel(f"stage at start ({transitions.index.name or 'from'})")
    ax.legend(title="stage at end", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    return ax
