"""Plots for satisfaction analysis: importance-performance map, SERVQUAL gaps, NPS shares."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from crmlab.validation import require_columns

__all__ = ["importance_performance_plot", "gap_plot", "nps_shares_plot"]

_QUADRANT_POS = {  # (x side, y side) of the label: performance low/high, importance high/low
    "concentrate here": (0.02, 0.97, "left", "top"),
    "keep up the good work": (0.98, 0.97, "right", "top"),
    "low priority": (0.02, 0.03, "left", "bottom"),
    "possible overkill": (0.98, 0.03, "right", "bottom"),
}


def _ax(ax):
    return plt.subplots(figsize=(6.5, 4.5))[1] if ax is None else ax


def importance_performance_plot(data: pd.DataFrame, *, x: str = "performance", y: str = "importance",
                                label: str = "driver", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Importance-performance map from :func:`crmlab.satisfaction.importance_performance`.

    One point per attribute, cross-hairs at the cut values (``data.attrs``, else the means)
    and the four quadrant names. Returns the Axes.

    >>> import crmlab as crm
    >>> d = crm.load_retail()
    >>> ipa = crm.satisfaction.importance_performance(d.surveys, target="csat",
    ...     drivers=[c for c in d.surveys if c.startswith("perf_")])
    >>> ax = importance_performance_plot(ipa)
    """
    require_columns(data, [x, y, label], name="data")
    ax = _ax(ax)
    ax.scatter(data[x], data[y], s=kwargs.pop("s", 60), zorder=3, **kwargs)
    for _, row in data.iterrows():
        ax.annotate(str(row[label]), (row[x], row[y]), textcoords="offset points", xytext=(5, 5), fontsize=9)
    xc = data.attrs.get("performance_cut", data[x].mean())
    yc = data.attrs.get("importance_cut", data[y].mean())
    ax.axvline(xc, color="grey", lw=1, ls="--")
    ax.axhline(yc, color="grey", lw=1, ls="--")
    for name, (tx, ty, ha, va) in _QUADRANT_POS.items():
        ax.text(tx, ty, name, transform=ax.transAxes, ha=ha, va=va, fontsize=9, color="dimgrey", style="italic")
    xpad = (data[x].max() - data[x].min()) * 0.25 or 0.1
    ypad = (data[y].max() - data[y].min()) * 0.25 or 0.01
    ax.set_xlim(data[x].min() - xpad, data[x].max() + xpad)
    ax.set_ylim(data[y].min() - ypad, data[y].max() + ypad)
    ax.set_xlabel("performance (mean rating)" if x == "performance" else x)
    ax.set_ylabel(f"importance ({data.attrs.get('importance_measure', y)})" if y == "importance" else y)
    ax.set_title("Importance-performance analysis")
    return ax


def gap_plot(data: pd.DataFrame, *, dimension: str = "dimension", expectation: str = "expectation",
             perception: str = "perception", ax: Axes | None = None) -> Axes:
    """Dumbbell chart of expectation vs perception per dimension (from :func:`gap_analysis`).

    >>> import crmlab as crm
    >>> ax = gap_plot(crm.satisfaction.gap_analysis(crm.load_retail().surveys))
    """
    require_columns(data, [dimension, expectation, perception], name="data")
    ax = _ax(ax)
    pos = range(len(data))
    ax.hlines(list(pos), data[perception], data[expectation], color="lightgrey", lw=3, zorder=1)
    ax.scatter(data[expectation], list(pos), label="expectation", zorder=2, color="tab:blue")
    ax.scatter(data[perception], list(pos), label="perception", zorder=2, color="tab:red")
    ax.set_yticks(list(pos))
    ax.set_yticklabels(data[dimension].astype(str))
    ax.invert_yaxis()  # first row (largest shortfall) on top
    ax.set_xlabel("mean rating")
    ax.set_title("Expectation vs perception (SERVQUAL gap)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8)
    return ax


def nps_shares_plot(data: pd.DataFrame, *, by: str, ax: Axes | None = None) -> Axes:
    """Stacked bars of detractors / passives / promoters per group, with the NPS written on each.

    ``data`` is a table from :func:`crmlab.satisfaction.score_table` with ``metric="nps"``.

    >>> import crmlab as crm
    >>> d = crm.load_retail()
    >>> sv = d.surveys.merge(d.customers[["customer_id", "region"]], on="customer_id")
    >>> ax = nps_shares_plot(crm.satisfaction.score_table(sv, column="nps", by="region"), by="region")
    """
    require_columns(data, [by, "detractors", "passives", "promoters", "score"], name="data")
    ax = _ax(ax)
    labels = data[by].astype(str).tolist()
    left = pd.Series(0.0, index=data.index)
    for col, colour in (("detractors", "tab:red"), ("passives", "lightgrey"), ("promoters", "tab:green")):
        ax.barh(labels, data[col], left=left, color=colour, label=col)
        left = left + data[col]
    for i, score in enumerate(data["score"]):
        ax.text(1.01, i, f"NPS {score:+.0f}", va="center", fontsize=9)
    ax.set_xlim(0, 1.18)
    ax.set_xlabel("share of respondents")
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.15), ncol=3, fontsize=8)
    return ax
