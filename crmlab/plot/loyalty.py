"""Plots for loyalty analysis: the satisfaction-loyalty curve and the loyalty matrix."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from crmlab.plot._fonts import use_cjk_font
from crmlab.plot._labels import LANGS, term_label
from crmlab.validation import check_choice, require_columns

__all__ = ["satisfaction_loyalty_plot", "loyalty_matrix_plot"]

_ZONE_COLOURS = {"defection": "tab:red", "indifference": "lightgrey", "affection": "tab:green"}


def satisfaction_loyalty_plot(curve: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Loyalty by satisfaction level with its interval and the shaded Jones & Sasser zones.

    ``curve`` comes from :func:`crmlab.loyalty.satisfaction_loyalty_curve`.

    >>> import pandas as pd, crmlab as crm
    >>> df = pd.DataFrame({"csat": [1, 2, 3, 4, 5, 5], "stayed": [0, 0, 1, 0, 1, 1]})
    >>> ax = satisfaction_loyalty_plot(crm.loyalty.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="stayed"))
    """
    require_columns(curve, ["satisfaction", "loyalty", "ci_low", "ci_high", "zone"], name="curve")
    ax = plt.subplots(figsize=(6.5, 4))[1] if ax is None else ax
    zones = curve.attrs.get("zones")
    if zones:
        for name, (lo, hi) in zones.items():
            ax.axvspan(lo - 0.5, hi + 0.5, color=_ZONE_COLOURS.get(name, "whitesmoke"), alpha=0.15, lw=0)
            ax.text((lo + hi) / 2, 1.01, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=9)
    (line,) = ax.plot(curve["satisfaction"], curve["loyalty"], marker="o", **kwargs)
    ax.fill_between(curve["satisfaction"], curve["ci_low"], curve["ci_high"], alpha=0.2, color=line.get_color())
    ax.set_xticks(curve["satisfaction"].tolist())
    ax.set_xlabel(f"satisfaction ({curve.attrs.get('satisfaction_col', 'level')})")
    ax.set_ylabel(curve.attrs.get("loyalty_col", "loyalty"))
    return ax


def loyalty_matrix_plot(data: pd.DataFrame, *, attitudinal: str, behavioural: str, hue: str = "loyalty_type",
                        ax: Axes | None = None, jitter: float = 0.15, random_state: int | None = 0, lang: str = "both") -> Axes:
    """Scatter of attitude × behaviour coloured by Dick & Basu cell, with the cut lines.

    ``data`` comes from :func:`crmlab.loyalty.loyalty_matrix`; points are jittered
    (``jitter``, fixed ``random_state``) because ratings and counts repeat. The cells of the
    loyalty matrix (忠诚度矩阵) are named in ``lang``: ``"both"`` (default,
    ``真正忠诚 true loyalty``), ``"zh"`` or ``"en"``.

    >>> import pandas as pd, crmlab as crm
    >>> df = pd.DataFrame({"att": [6, 6, 2, 2], "orders": [9, 1, 9, 1]})
    >>> m = crm.loyalty.loyalty_matrix(df, attitudinal="att", behavioural="orders", cut=(4, 5))
    >>> ax = loyalty_matrix_plot(m, attitudinal="att", behavioural="orders")
    """
    import numpy as np

    check_choice(lang, LANGS, name="lang")
    require_columns(data, [attitudinal, behavioural, hue], name="data")
    use_cjk_font()
    ax = plt.subplots(figsize=(6.5, 4.5))[1] if ax is None else ax
    rng = np.random.default_rng(random_state)
    colours = {"true loyalty": "tab:green", "latent loyalty": "tab:blue", "spurious loyalty": "tab:orange",
               "no loyalty": "tab:grey"}
    for name, part in data.groupby(hue, sort=True):
        xj = part[behavioural] + rng.uniform(-jitter, jitter, len(part))
        yj = part[attitudinal] + rng.uniform(-jitter, jitter, len(part))
        ax.scatter(xj, yj, s=10, alpha=0.5, label=f"{term_label(name, lang)} ({len(part)})", color=colours.get(name))
    if "behaviour_cut" in data.attrs:
        ax.axvline(data.attrs["behaviour_cut"], color="black", lw=1, ls="--")
        ax.axhline(data.attrs["attitude_cut"], color="black", lw=1, ls="--")
    ax.set_xlabel(f"behaviour ({behavioural})")
    ax.set_ylabel(f"attitude ({attitudinal})")
    ax.legend(fontsize=8, loc="best")
    return ax
