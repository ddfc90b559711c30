"""Plots for recommendation: association rules, model comparison and segment affinity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlab.validation import require_columns

__all__ = ["rules_scatter", "recommender_comparison_plot", "affinity_heatmap"]


def rules_scatter(rules: pd.DataFrame, *, x: str = "support", y: str = "confidence", hue: str = "lift",
                  label_top: int = 5, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Association rules as points (support × confidence, coloured by lift).

    The best rules sit top-right (common and reliable) and dark (far above chance);
    the ``label_top`` rules with the highest lift are labelled "A → C".

    >>> import pandas as pd, crmlab as crm
    >>> lines = pd.DataFrame({"transaction_id": [1, 1, 2, 2, 3], "product_id": ["a", "b", "a", "b", "a"]})
    >>> ax = rules_scatter(crm.recommend.association_rules(lines, min_support=0.3, min_confidence=0.5))
    """
    require_columns(rules, [x, y, hue, "antecedents", "consequents"], name="rules")
    ax = plt.subplots(figsize=(6.5, 4.5))[1] if ax is None else ax
    kwargs.setdefault("palette", "viridis")
    sns.scatterplot(data=rules, x=x, y=y, hue=hue, ax=ax, **kwargs)
    top = rules.nlargest(label_top, hue) if label_top else rules.iloc[:0]
    for _, r in top.iterrows():
        text = f"{', '.join(map(str, r['antecedents']))} → {', '.join(map(str, r['consequents']))}"
        ax.annotate(text, (r[x], r[y]), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set_title("Association rules")
    return ax


def recommender_comparison_plot(table: pd.DataFrame, *, metrics: Sequence[str] = ("hit_rate", "coverage"),
                                ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Grouped bars of evaluation metrics per model.

    ``table`` comes from :func:`crmlab.recommend.evaluate_recommenders` (models as index).

    >>> import pandas as pd
    >>> t = pd.DataFrame({"hit_rate": [0.4, 0.6], "coverage": [0.2, 0.9]},
    ...                  index=pd.Index(["popular", "item_knn"], name="model"))
    >>> ax = recommender_comparison_plot(t)
    """
    metrics = list(metrics)
    require_columns(table, metrics, name="table")
    ax = plt.subplots(figsize=(6.5, 4))[1] if ax is None else ax
    long = table[metrics].rename_axis("model").reset_index().melt(id_vars="model", var_name="metric",
                                                                   value_name="value")
    sns.barplot(data=long, x="metric", y="value", hue="model", ax=ax, **kwargs)
    k = table["k"].iloc[0] if "k" in table.columns else None
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.set_title(f"Recommenders on the holdout (k = {k})" if k is not None else "Recommenders on the holdout")
    return ax


def affinity_heatmap(affinity: pd.DataFrame, *, segment_col: str = "segment", item_col: str = "category",
                     value: str = "affinity", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Heatmap of segment × category affinity (1 = like the average customer).

    ``affinity`` comes from :func:`crmlab.recommend.segment_affinity`.

    >>> import pandas as pd, crmlab as crm
    >>> lines = pd.DataFrame({"customer_id": [1, 1, 2], "category": ["tea", "cup", "cup"]})
    >>> seg = pd.DataFrame({"customer_id": [1, 2], "segment": ["A", "B"]})
    >>> ax = affinity_heatmap(crm.recommend.segment_affinity(lines, seg))
    """
    require_columns(affinity, [segment_col, item_col, value], name="affinity")
    ax = plt.subplots(figsize=(8, 3.5))[1] if ax is None else ax
    grid = affinity.pivot(index=segment_col, columns=item_col, values=value)
    kwargs.setdefault("cmap", "RdBu_r")
    kwargs.setdefault("annot", True)
    kwargs.setdefault("fmt", ".2f")
    if value == "affinity":
        # centre the colours on 1 (no difference) on a log scale, so 0.5 and 2 look equally strong
        spread = float(np.nanmax(np.abs(np.log(grid.where(grid > 0)).to_numpy()))) if grid.size else 1.0
        kwargs.setdefault("norm", _log_norm(spread))
    sns.heatmap(grid, ax=ax, **kwargs)
    ax.set_title("Category affinity by segment (1 = average)" if value == "affinity" else value)
    return ax


def _log_norm(spread: float):
    from matplotlib.colors import LogNorm

    spread = max(spread, 0.1)
    return LogNorm(vmin=float(np.exp(-spread)), vmax=float(np.exp(spread)))
