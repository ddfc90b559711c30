"""Plots for customer lifetime value models: tracking, conditional expectations, P(alive)."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from sklearn.utils.validation import check_is_fitted

from crmlab import time as crm_time
from crmlab.validation import check_frame, check_positive_int

__all__ = ["tracking_plot", "conditional_expectation_plot", "alive_matrix_plot", "alive_calibration_plot"]

_STYLE: dict[str, dict[str, Any]] = {"actual": dict(color="black", lw=2), "baseline": dict(color="grey", ls=":", lw=1.5)}


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def tracking_plot(table: pd.DataFrame, *, cumulative: bool = True, ax: Axes | None = None) -> Axes:
    """Actual vs model repeat transactions per period (the output of ``crm.clv.tracking_table``).

    A dashed vertical line marks the end of the calibration period; to its right is the
    holdout, where the model's curve is a forecast.

    >>> import crmlab as crm
    >>> log = crm.load_cdnow()
    >>> bg = crm.clv.BetaGeoModel().fit(crm.load_cdnow("summary"), time_unit="W")
    >>> t = crm.clv.tracking_table(bg, log, cutoff="1997-09-30", observation_end="1998-06-30")
    >>> ax = crm.plot.tracking_plot(t)
    """
    kind = "cumulative" if cumulative else "incremental"
    cols = [f"actual_{kind}", f"model_{kind}"]
    check_frame(table, required=["period_end", "holdout", *cols], name="table")
    ax = _ax(ax)
    x = table["period_end"]
    ax.plot(x, table[f"actual_{kind}"], label="actual", **_STYLE["actual"])
    ax.plot(x, table[f"model_{kind}"], label="model", color="C0", ls="--", lw=2)
    if f"baseline_{kind}" in table.columns:
        ax.plot(x, table[f"baseline_{kind}"], label="baseline (historical rate)", **_STYLE["baseline"])
    holdout = table.loc[table["holdout"], "period_end"]
    if len(holdout):
        cal_end = table.loc[~table["holdout"], "period_end"].max()
        ax.axvline(cal_end, color="grey", ls="--", lw=1)
        ax.annotate(" holdout →", xy=(cal_end, 0.02), xycoords=("data", "axes fraction"), ha="left",
                    va="bottom", fontsize=9, color="grey")
    locator = mdates.AutoDateLocator(maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("period end")
    ax.set_ylabel(f"{kind} repeat transactions")
    ax.legend(frameon=False, loc="upper left" if cumulative else "upper right")
    return ax


def conditional_expectation_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases by calibration frequency: actual vs each model
    (the output of ``crm.clv.conditional_expectation_table``)."""
    check_frame(table, required=["actual"], name="table")
    ax = _ax(ax)
    x = np.asarray(table.index, dtype=float)
    ax.plot(x, table["actual"], marker="o", label="actual", **_STYLE["actual"])
    models = [c for c in table.columns if c not in ("actual", "n_customers")]
    for i, c in enumerate(models):
        style = _STYLE["baseline"] if c == "baseline" else dict(color=f"C{i}", ls="--")
        ax.plot(x, table[c], marker=".", label=c, **style)
    labels = [str(int(v)) for v in x]
    if labels:
        labels[-1] += "+"
    ax.set_xticks(x, labels)
    ax.set_xlabel("purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.legend(frameon=False)
    return ax


def alive_matrix_plot(model: Any, *, T: float, max_frequency: int = 20, n_recency: int = 40, ax: Axes | None = None,
                      cmap: str | Colormap = "RdYlGn") -> Axes:
    """Heatmap of P(alive) for customers of age ``T`` by frequency and recency.

    ``T`` and the recency axis are in the unit the model was fitted in (``model.time_unit_``).
    Customers with many purchases and a long silence (high frequency, low recency) are
    the ones the model thinks are gone.
    """
    check_is_fitted(model, "params_")
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, float, np.integer, np.floating)):
        raise TypeError(f"T must be a number (an age since the first purchase), got {T!r}.")
    f = check_positive_int(max_frequency, name="max_frequency")
    k = check_positive_int(n_recency, name="n_recency", minimum=2)
    if f > 1_000 or k > 1_000:
        raise ValueError(f"max_frequency={f:,} and n_recency={k:,} must each be at most 1,000 (the grid has "
                         f"one cell per pair; a screen shows far fewer).")
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"T must be a positive age (time since the first purchase), got {T!r}.")
    freqs = np.arange(0, f + 1)
    recs = np.linspace(0, T, k)
    grid = pd.DataFrame([(x, r if x > 0 else 0.0, T) for r in recs for x in freqs],
                        columns=["frequency", "recency", "T"])
    p = model.probability_alive(grid, frequency_col="frequency", recency_col="recency", T_col="T")
    z = p.to_numpy().reshape(len(recs), len(freqs))
    ax = _ax(ax)
    mesh = ax.pcolormesh(freqs, recs, z, cmap=cmap, vmin=0, vmax=1, shading="nearest")
    ax.figure.colorbar(mesh, ax=ax, label="P(alive)")
    ax.set_xlabel("frequency (repeat purchases)")
    unit = getattr(model, "time_unit_", None)
    unit = f" {crm_time.unit_name(unit)}" if unit is not None else ""
    ax.set_ylabel(f"recency (age at last purchase,{unit or ' time units'})")
    ax.set_title(f"P(alive) for customers of age T = {T:g}{unit}")
    return ax


def alive_calibration_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Reliability diagram of P(alive): observed share alive vs mean prediction per bin
    (the output of ``crm.clv.alive_calibration_table``); points on the diagonal are calibrated."""
    check_frame(table, required=["mean_predicted", "observed", "n_customers"], name="table")
    ax = _ax(ax)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfect calibration")
    ax.plot(table["mean_predicted"], table["observed"], marker="o", color="C0", label="model")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(alive)")
    ax.set_ylabel("share actually alive")
    ax.legend(frameon=False)
    return ax
