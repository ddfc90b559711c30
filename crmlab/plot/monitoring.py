"""Plots for monitoring: control charts, KPI trends, A/B test intervals and power curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlab.validation import check_fraction, require_columns

__all__ = ["control_chart_plot", "kpi_trends_plot", "ab_test_plot", "power_curve_plot"]


def _ax(ax, size=(7.5, 3.8)):
    return plt.subplots(figsize=size)[1] if ax is None else ax


def _x(data: pd.DataFrame):
    if "period" in data.columns:
        p = data["period"]
        if isinstance(p.dtype, pd.PeriodDtype):
            return p.dt.to_timestamp().to_numpy()
        return p.to_numpy()
    return np.arange(len(data))


def control_chart_plot(data: pd.DataFrame, *, title: str | None = None, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Draw a control chart from :func:`crmlab.monitoring.control_chart`.

    The KPI as a line, the centre line, the control limits (a step line for a p-chart,
    whose limits vary with ``n``) and alerts as red markers. Returns the Axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlab.monitoring import control_chart
    >>> chart = control_chart(pd.DataFrame({"x": [10, 12, 11, 9, 10, 30]}), "x", baseline=5)
    >>> ax = control_chart_plot(chart)
    """
    require_columns(data, ["value", "center", "lcl", "ucl", "alert"], name="data")
    ax = _ax(ax)
    x = _x(data)
    ax.plot(x, data["value"], marker="o", ms=4, lw=1.5, color=kwargs.pop("color", "C0"), label="value", **kwargs)
    ax.plot(x, data["center"], color="grey", lw=1, label="centre")
    ax.step(x, data["ucl"], where="mid", color="C3", lw=1, ls="--", label="control limits")
    ax.step(x, data["lcl"], where="mid", color="C3", lw=1, ls="--")
    hits = data["alert"].to_numpy(dtype=bool)
    if hits.any():
        ax.scatter(np.asarray(x)[hits], data.loc[hits, "value"], s=80, facecolors="none", edgecolors="red",
                   linewidths=2, zorder=4, label="alert")
    if title:
        ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.legend(loc="best", fontsize=8)
    return ax


def kpi_trends_plot(data: pd.DataFrame, *, columns: str | Sequence[str],
                    ax: Axes | Sequence[Axes] | np.ndarray | None = None, **kwargs: Any) -> np.ndarray:
    """Small multiples of KPIs over time from :func:`crmlab.monitoring.kpi_table`.

    ``columns`` lists the KPIs; one panel each (``ax`` may be an array of Axes with at
    least that many). Returns the array of Axes.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise ValueError("columns is empty: name at least one KPI, e.g. ['churn_rate', 'nps'].")
    require_columns(data, columns, name="data")
    if ax is None:
        ncol = min(3, len(columns))
        nrow = int(np.ceil(len(columns) / ncol))
        _, ax = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.6 * nrow), squeeze=False)
    axes = np.asarray(ax).ravel()
    if len(axes) < len(columns):
        raise ValueError(f"ax has {len(axes)} Axes but {len(columns)} KPIs were requested.")
    x = _x(data)
    for a, col in zip(axes, columns):
        a.plot(x, data[col], marker="o", ms=3, **kwargs)
        a.set_title(col, fontsize=10)
        a.tick_params(axis="x", labelrotation=45, labelsize=8)
    for a in axes[len(columns):]:
        a.set_visible(False)
    return axes


def ab_test_plot(data: pd.DataFrame, *, label: str | None = None, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Difference and confidence interval of one or more :func:`crmlab.monitoring.ab_test` rows.

    A dot per test with its interval and a vertical line at zero: an interval that
    crosses zero is inconclusive. ``label`` names a column to label the rows with.
    """
    require_columns(data, ["difference", "ci_low", "ci_high"] + ([label] if label else []), name="data")
    ax = _ax(ax, size=(6.5, 0.8 + 0.6 * len(data)))
    y = np.arange(len(data))
    d = data["difference"].to_numpy(dtype=float)
    err = np.vstack([d - data["ci_low"].to_numpy(dtype=float), data["ci_high"].to_numpy(dtype=float) - d])
    ax.errorbar(d, y, xerr=err, fmt="o", capsize=4, color=kwargs.pop("color", "C0"), **kwargs)
    ax.axvline(0, color="grey", lw=1, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(data[label].astype(str) if label else [f"test {i + 1}" for i in y])
    ax.set_ylim(-0.7, len(data) - 0.3)
    ax.set_xlabel("difference (treatment - control)")
    return ax


def power_curve_plot(kind: str = "proportion", *, mde: float, baseline: float | None = None, sd: float | None = None,
                     alpha: float = 0.05, n_max: int = 5000, target: float = 0.8, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Power against group size for one or more minimum detectable effects.

    One line per value in ``mde`` (from :func:`crmlab.monitoring.power`) and a dashed
    line at the ``target`` power. Returns the Axes.

    Examples
    --------
    >>> ax = power_curve_plot("proportion", baseline=0.4, mde=[0.03, 0.05])
    """
    from crmlab.monitoring import power

    target = check_fraction(target, name="target")
    mdes = [mde] if isinstance(mde, (int, float)) else list(mde)
    if not mdes:
        raise ValueError("mde is empty: give one or more effects to plot, e.g. [0.02, 0.05].")
    ax = _ax(ax, size=(6.5, 4))
    n = np.unique(np.geomspace(10, n_max, 80).astype(int))
    for m in mdes:
        ax.plot(n, [power(kind, n_treatment=int(k), mde=m, baseline=baseline, sd=sd, alpha=alpha) for k in n],
                label=f"mde = {m:g}", **kwargs)
    ax.axhline(target, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("customers per group")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    return ax
