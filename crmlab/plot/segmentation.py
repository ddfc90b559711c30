"""Plots for segmentation and customer value: RFM heatmap, personas, Lorenz curve, pyramid.

Each function takes a table from :mod:`crmlab.segmentation` (or values) and ``ax=None``
and returns the matplotlib Axes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from crmlab.plot._fonts import use_cjk_font
from crmlab.plot._labels import LANGS, term_label
from crmlab.validation import check_choice, check_frame

__all__ = ["rfm_heatmap", "choose_k_plot", "segment_profile_plot", "segment_share_plot", "lorenz_plot",
           "pyramid_plot"]


def _heatmap(data, **kwargs):
    # seaborn's heatmap triggers a matplotlib deprecation notice that is not ours to fix
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        return sns.heatmap(data, **kwargs)


def _ax(ax, size=(6.5, 4.5)):
    return plt.subplots(figsize=size)[1] if ax is None else ax


def rfm_heatmap(data: pd.DataFrame, *, x: str = "F", y: str = "R", value: str | None = None,
                aggfunc: str = "mean", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Heatmap of customers on two RFM scores (default F across, R down, best top-right).

    Without ``value`` each cell counts customers; with ``value`` (e.g. ``"total_spend"``) it
    shows ``aggfunc`` of that column, so the third dimension appears as colour.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"R": [1, 2, 2, 3], "F": [1, 1, 3, 3]})
    >>> ax = rfm_heatmap(s)
    >>> ax.get_ylabel()
    'R score'
    """
    cols = [x, y] + ([value] if value else [])
    data = check_frame(data, required=cols, numeric=cols, not_missing=cols, name="data")
    check_choice(aggfunc, ("mean", "median", "sum", "count"), name="aggfunc")
    if value is None:
        table = pd.crosstab(data[y], data[x])
        fmt, label = "d", "customers"
    else:
        table = data.pivot_table(index=y, columns=x, values=value, aggfunc=aggfunc)
        fmt, label = ".0f", f"{aggfunc} {value}"
    table = table.sort_index(ascending=False)
    ax = _ax(ax)
    _heatmap(table, annot=True, fmt=fmt, cmap=kwargs.pop("cmap", "YlGnBu"), cbar_kws={"label": label},
                ax=ax, **kwargs)
    ax.set_xlabel(f"{x} score")
    ax.set_ylabel(f"{y} score")
    return ax


def choose_k_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Elbow (inertia, left axis) and silhouette (right axis) against the number of clusters.

    ``table`` comes from :func:`crmlab.segmentation.choose_k`. Look for the k where
    inertia stops falling steeply and the silhouette is high.
    """
    table = check_frame(table.reset_index() if "k" not in table.columns else table,
                        required=["k", "inertia", "silhouette"], numeric=["k", "inertia", "silhouette"],
                        name="table")
    ax = _ax(ax, (6.5, 3.8))
    ax.plot(table["k"], table["inertia"], "o-", color="tab:blue", label="inertia (elbow)")
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("inertia (within-cluster sum of squares)", color="tab:blue")
    right = ax.twinx()
    right.plot(table["k"], table["silhouette"], "s--", color="tab:orange", label="silhouette")
    right.set_ylabel("silhouette", color="tab:orange")
    ax.set_xticks(table["k"])
    ax.set_title("Choosing k: elbow and silhouette")
    return ax


def segment_profile_plot(profile: pd.DataFrame, *, columns: Sequence[str] | None = None, ax: Axes | None = None,
                         lang: str = "both", **kwargs: Any) -> Axes:
    """Personas at a glance: each segment's mean relative to the average customer.

    Colour shows the ratio of the segment mean to the overall mean (1 = average, blue
    below, red above); the numbers are the segment means themselves. ``profile`` comes
    from :func:`crmlab.segmentation.profile_segments`. Segments named by the course's
    schemes (RFM classes, pyramid tiers) are labelled in ``lang``: ``"both"`` (default,
    ``重要价值客户 important value``), ``"zh"`` or ``"en"``.
    """
    check_choice(lang, LANGS, name="lang")
    profile = check_frame(profile, required=["n_customers"], name="profile")
    skip = {"n_customers", "share", "value_share"}
    columns = [c for c in profile.columns if c not in skip and pd.api.types.is_numeric_dtype(profile[c])] \
        if columns is None else list(columns)
    check_frame(profile, required=columns, numeric=columns, name="profile")
    means = profile[columns]
    overall = (means.mul(profile["n_customers"], axis=0).sum() / profile["n_customers"].sum())
    ratio = means.div(overall.where(overall != 0))
    use_cjk_font()
    ax = _ax(ax, (min(1.2 * len(columns) + 3, 12), 0.6 * len(profile) + 2))
    _heatmap(ratio, annot=means.round(2), fmt="g", cmap=kwargs.pop("cmap", "RdBu_r"), center=1.0,
                cbar_kws={"label": "segment mean / overall mean"}, ax=ax, **kwargs)
    ax.set_yticklabels([f"{term_label(i, lang)} ({s:.0%})"
                        for i, s in zip(profile.index, profile["n_customers"] / profile["n_customers"].sum())],
                       rotation=0)
    ax.set_ylabel("segment (share of customers)")
    ax.set_xlabel("")
    return ax


def segment_share_plot(profile: pd.DataFrame, *, ax: Axes | None = None, lang: str = "both") -> Axes:
    """Share of customers and share of value of each segment, side by side.

    ``profile`` comes from :func:`crmlab.segmentation.profile_segments` with
    ``value_col`` (columns ``share`` and ``value_share``), e.g. of the eight RFM classes
    (RFM 八类客户); segments are sorted by value share and course terms are named in
    ``lang``: ``"both"`` (default, ``重要价值客户 important value``), ``"zh"`` or ``"en"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlab.segmentation import profile_segments
    >>> f = pd.DataFrame({"monetary": [900.0, 20.0, 30.0, 50.0]})
    >>> names = ["重要价值客户", "一般挽留客户", "一般挽留客户", "一般挽留客户"]
    >>> prof = profile_segments(f, names, value_col="monetary")
    >>> [t.get_text() for t in segment_share_plot(prof).get_yticklabels()]
    ['一般挽留客户 general at-risk', '重要价值客户 important value']
    """
    check_choice(lang, LANGS, name="lang")
    profile = check_frame(profile, required=["share", "value_share"], numeric=["share", "value_share"],
                          name="profile")
    table = profile.sort_values("value_share")
    use_cjk_font()
    ax = _ax(ax, (7, 0.45 * len(table) + 1.5))
    y = range(len(table))
    ax.barh([i + 0.2 for i in y], table["value_share"], height=0.4, color="tab:red", label="share of value")
    ax.barh([i - 0.2 for i in y], table["share"], height=0.4, color="tab:grey", label="share of customers")
    ax.set_yticks(list(y))
    ax.set_yticklabels([term_label(name, lang) for name in table.index])
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share")
    ax.legend(loc="lower right")
    return ax


def lorenz_plot(data: pd.DataFrame | ArrayLike, *, value: str | None = None, top: float = 0.2,
                label: str | None = None, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Lorenz curve of customer value with the Gini coefficient and the top-``top`` share marked.

    ``data`` is a sequence of values, or a DataFrame with the column ``value``. The gap
    between the curve and the diagonal is value concentration (二八法则).

    Examples
    --------
    >>> ax = lorenz_plot([1, 2, 3, 10, 40])
    >>> "Gini" in ax.get_legend_handles_labels()[1][0]
    True
    """
    from crmlab.segmentation import gini, lorenz_curve, pareto_table

    if isinstance(data, pd.DataFrame):
        if value is None:
            raise ValueError("Pass value='column' to say which column of data holds customer value.")
        check_frame(data, required=[value], name="data")
        values = data[value]
    else:
        values = data
    curve = lorenz_curve(values)
    g = gini(values)
    share = pareto_table(values, top=(top,))["value_share"].iloc[0]
    ax = _ax(ax, (5, 5))
    name = f"{label}: " if label else ""
    ax.plot(curve["customer_share"], curve["value_share"], label=f"{name}Gini = {g:.2f}", **kwargs)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.fill_between(curve["customer_share"], curve["value_share"], curve["customer_share"], alpha=0.1)
    ax.scatter([1 - top], [1 - share], color="black", zorder=3, s=15)
    ax.annotate(f"top {top:.0%} of customers\n= {share:.0%} of value", (1 - top, 1 - share),
                xytext=(-110, 30), textcoords="offset points", arrowprops={"arrowstyle": "->", "color": "grey"})
    ax.set_xlabel("share of customers (smallest first)")
    ax.set_ylabel("share of value")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    return ax


def pyramid_plot(pyramid: pd.DataFrame, *, ax: Axes | None = None,
                 colors: Sequence[str] = ("tab:red", "tab:orange", "tab:grey"),
                 lang: str = "both") -> Axes:
    """The customer pyramid: one centred bar per tier, key customers on top.

    Bar width is the tier's share of customers; the label gives its share of value (and
    of net value when costs were given). ``pyramid`` comes from
    :func:`crmlab.segmentation.customer_pyramid`. Tiers are named in ``lang``:
    ``"both"`` (default, ``关键客户 key``), ``"zh"`` or ``"en"``.
    """
    check_choice(lang, LANGS, name="lang")
    pyramid = check_frame(pyramid, required=["customer_share", "value_share"],
                          numeric=["customer_share", "value_share"], name="pyramid")
    use_cjk_font()
    ax = _ax(ax, (8, 3.2))
    n = len(pyramid)
    for level, (tier, row) in enumerate(pyramid.iterrows()):
        y = n - 1 - level
        w = row["customer_share"]
        ax.barh(y, w, left=-w / 2, color=colors[level % len(colors)], height=0.85)
        text = f"{term_label(tier, lang)}: {w:.0%} of customers, {row['value_share']:.0%} of value"
        if "net_value_share" in pyramid.columns:
            text += f", {row['net_value_share']:.0%} of net value"
        ax.text(0.4, y, text, ha="left", va="center", fontsize=9)
    ax.set_xlim(-0.55, 1.85)
    ax.set_yticks([])
    ax.set_xticks([])
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title({"both": "客户金字塔 Customer pyramid", "zh": "客户金字塔", "en": "Customer pyramid"}[lang]
                 + " (width = share of customers)")
    return ax
