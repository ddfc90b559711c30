"""Plots for customer journeys: the conversion funnel and the moments of truth."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.container import BarContainer

from crmlab.validation import require_columns

__all__ = ["funnel_plot", "moments_of_truth_plot"]


def funnel_plot(funnel: pd.DataFrame, *, by: str | None = None, value: str = "overall_conversion",
                ax: Axes | None = None,
                **kwargs: Any) -> Axes:
    """Horizontal bars of a funnel: the share of sessions that reach each step.

    ``funnel`` comes from :func:`crmlab.journey.funnel`; pass the same ``by`` to get one
    colour per channel or segment. Each bar is labelled with its value.

    >>> import pandas as pd, crmlab as crm
    >>> tp = pd.DataFrame({"session_id": [1, 1, 2], "event": ["visit", "purchase", "visit"]})
    >>> ax = funnel_plot(crm.journey.funnel(tp, steps=("visit", "purchase")))
    """
    require_columns(funnel, ["step", value] + ([by] if by else []), name="funnel")
    ax = plt.subplots(figsize=(6.5, 3.5))[1] if ax is None else ax
    sns.barplot(data=funnel, y="step", x=value, hue=by, orient="h", ax=ax, **kwargs)
    for container in ax.containers:
        if isinstance(container, BarContainer):
            ax.bar_label(container, fmt="%.2f", fontsize=8, padding=2)
    ax.set_xlabel(value.replace("_", " "))
    ax.set_ylabel("")
    if value.endswith("conversion"):
        ax.set_xlim(0, 1.1)
    ax.set_title("Conversion funnel")
    return ax


def moments_of_truth_plot(mot: pd.DataFrame, *, value: str = "effect", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Effect of each experience with its confidence interval (a coefficient plot).

    ``mot`` comes from :func:`crmlab.journey.moments_of_truth`. Bars left of zero are
    experiences that lower the outcome; an interval crossing zero is not distinguishable
    from no effect.

    >>> import numpy as np, pandas as pd, crmlab as crm
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame({"complaint": rng.integers(0, 2, 200), "inquiry": rng.integers(0, 2, 200)})
    >>> t["csat"] = 4 - t["complaint"] + rng.normal(0, 1, 200)
    >>> ax = moments_of_truth_plot(crm.journey.moments_of_truth(t, outcome="csat", factors=["complaint", "inquiry"]))
    """
    require_columns(mot, [value, "ci_low", "ci_high"], name="mot")
    ax = plt.subplots(figsize=(6.5, 0.5 * len(mot) + 1.5))[1] if ax is None else ax
    y = np.arange(len(mot))
    err = None
    if value == "effect":
        err = np.vstack([mot[value] - mot["ci_low"], mot["ci_high"] - mot[value]])
    colours = np.where(mot[value] < 0, "tab:red", "tab:green")
    kwargs.setdefault("alpha", 0.8)
    ax.barh(y, mot[value], xerr=err, color=colours, capsize=3, **kwargs)
    ax.set_yticks(y, [str(i) for i in mot.index])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(value)
    ax.set_title("Moments of truth")
    return ax
