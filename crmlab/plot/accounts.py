"""Key-account plots: the portfolio matrix and the pipeline funnel."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlab.validation import check_frame

__all__ = ["portfolio_matrix", "pipeline_funnel"]

_ORDER = ["key", "develop", "maintain", "opportunistic"]


def portfolio_matrix(data: pd.DataFrame, *, x: str = "value", y: str = "attractiveness", hue: str = "quadrant",
                     ax: Axes | None = None, log: bool = True, **kwargs: Any) -> Axes:
    """Scatter the accounts of :func:`crmlab.accounts.account_portfolio`: current value × attractiveness.

    The dashed lines are the medians that split the four quadrants (关键/发展/维持/普通客户).

    Examples
    --------
    >>> import crmlab as crm
    >>> ax = portfolio_matrix(crm.accounts.account_portfolio(crm.load_retail().accounts))
    """
    df = check_frame(data, required=[x, y, hue], numeric=[x, y], name="data")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    order = [q for q in _ORDER if q in set(df[hue])] or None
    sns.scatterplot(data=df, x=x, y=y, hue=hue, hue_order=order, ax=ax, **kwargs)
    ax.axvline(df[x].median(), ls="--", color="grey", lw=1)
    ax.axhline(df[y].median(), ls="--", color="grey", lw=1)
    if log and (df[x] > 0).all() and (df[y] > 0).all():
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("current value (revenue last year)")
    ax.set_ylabel("attractiveness (potential × fit)")
    ax.set_title("Account portfolio: big is not the same as key")
    return ax


def pipeline_funnel(conversion: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Bars of the opportunities entering each stage (:func:`crmlab.pipeline.stage_conversion`),
    labelled with the stage's conversion.

    Examples
    --------
    >>> import crmlab as crm
    >>> ax = pipeline_funnel(crm.pipeline.stage_conversion(crm.load_retail().opportunity_stages))
    """
    c = check_frame(conversion.reset_index(), required=["stage", "entered", "conversion"],
                    numeric=["entered", "conversion"], name="conversion")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.barh(c["stage"][::-1], c["entered"][::-1], **kwargs)
    for bar, conv in zip(bars, c["conversion"][::-1]):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f"  {conv:.0%} move on", va="center")
    ax.set_xlabel("opportunities that entered the stage")
    ax.set_title("Sales pipeline")
    return ax
