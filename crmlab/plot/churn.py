"""Churn evaluation charts: lift, cumulative gain, calibration, profit."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from crmlab.validation import check_choice, check_frame, check_positive_int

__all__ = ["lift_chart", "gain_chart", "calibration_chart", "profit_chart"]


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def lift_chart(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Bar chart of the lift per decile from :func:`crmlab.churn.lift_table`.

    Bars above the dashed line at 1 are groups with more churners than average.

    Examples
    --------
    >>> from crmlab.churn import lift_table
    >>> ax = lift_chart(lift_table([1, 0, 1, 0, 0, 1], [.9, .2, .7, .4, .1, .6], bins=3))
    """
    t = check_frame(table, required=["decile", "lift"], numeric=["lift"], name="table")
    ax = _ax(ax)
    ax.bar(t["decile"].astype(int), t["lift"], color=kwargs.pop("color", "tab:red"), **kwargs)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_xticks(t["decile"].astype(int))
    ax.set_xlabel("score group (1 = highest risk)")
    ax.set_ylabel("lift (churn rate / average)")
    ax.set_title("Lift by decile")
    return ax


def gain_chart(table: pd.DataFrame, *, ax: Axes | None = None, label: str = "model", **kwargs: Any) -> Axes:
    """Cumulative gain curve: share of all churners reached vs share of customers contacted.

    Call it several times on one ``ax`` to compare models; the diagonal is random targeting.

    Examples
    --------
    >>> from crmlab.churn import lift_table
    >>> ax = gain_chart(lift_table([1, 0, 1, 0, 0, 1], [.9, .2, .7, .4, .1, .6], bins=3))
    """
    t = check_frame(table, required=["cum_share", "cumulative_gain"], numeric=["cum_share", "cumulative_gain"],
                    name="table")
    ax = _ax(ax)
    ax.plot(np.r_[0, t["cum_share"]], np.r_[0, t["cumulative_gain"]], marker="o", label=label, **kwargs)
    if not any(line.get_label() == "random" for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="random")
    ax.set_xlabel("share of customers contacted")
    ax.set_ylabel("share of churners reached")
    ax.set_title("Cumulative gain")
    ax.legend()
    return ax


def calibration_chart(y_true: ArrayLike, scores: ArrayLike | dict[str, ArrayLike], *, n_bins: int = 10,
                      strategy: str = "quantile", ax: Axes | None = None) -> Axes:
    """Reliability diagram from :func:`sklearn.calibration.calibration_curve`.

    ``scores`` is one array of predicted probabilities or a dict ``{name: array}``;
    points on the diagonal are well calibrated (of the customers given 30 %, 30 % churn).

    Examples
    --------
    >>> ax = calibration_chart([0, 1, 0, 1, 1, 0], {"m": [.1, .8, .3, .7, .9, .2]}, n_bins=2)
    """
    from sklearn.calibration import calibration_curve

    from crmlab.churn import _check_labels_scores

    n_bins = check_positive_int(n_bins, name="n_bins")
    check_choice(strategy, ["uniform", "quantile"], name="strategy")
    if not isinstance(scores, dict):
        scores = {"model": scores}
    checked = {str(name): _check_labels_scores(y_true, s) for name, s in scores.items()}
    ax = _ax(ax)
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfectly calibrated")
    for name, (y, s) in checked.items():
        frac, mean = calibration_curve(y, s, n_bins=n_bins, strategy=strategy)
        ax.plot(mean, frac, marker="o", label=name)
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Calibration")
    ax.legend()
    return ax


def profit_chart(curve: pd.DataFrame, *, ax: Axes | None = None, label: str = "model", **kwargs: Any) -> Axes:
    """Campaign profit vs share of customers contacted, from :func:`crmlab.churn.profit_curve`.

    The marker shows the most profitable cut.

    Examples
    --------
    >>> from crmlab.churn import profit_curve
    >>> pc = profit_curve([1, 0, 1, 0], [.9, .8, .4, .1], value=100, contact_cost=5, offer_cost=10)
    >>> ax = profit_chart(pc)
    """
    c = check_frame(curve, required=["share_contacted", "profit"], numeric=["share_contacted", "profit"], name="curve")
    ax = _ax(ax)
    (line,) = ax.plot(c["share_contacted"], c["profit"], label=label, **kwargs)
    best = c["profit"].idxmax()
    ax.plot(c.loc[best, "share_contacted"], c.loc[best, "profit"], "o", color=line.get_color())
    ax.axhline(0, color="grey", lw=1)
    ax.set_xlabel("share of customers contacted")
    ax.set_ylabel("campaign profit")
    ax.set_title("Profit curve")
    ax.legend()
    return ax
