"""Choosing and reviewing a CRM system (CRM系统 选型与实施, 复盘), with numbers.

- :func:`stakeholder_weights` and :func:`decision_matrix`: requirements weighted by the
  stakeholders and scored per vendor (a weighted decision matrix);
- :func:`weight_sensitivity`: how far each weight must move before the winner changes, and
  whether the decision survives a stated weight disagreement (robustness);
- :func:`total_cost_of_ownership`: on-premise vs SaaS over several years, discounted;
- :func:`migration_effort`: the data-migration work implied by a data-quality report;
- :func:`after_action_review`: 复盘 — goal → result → gap, the table behind the lessons.

>>> scores = pd.DataFrame({"A": [4, 3], "B": [3, 5]}, index=["fit", "cost"])
>>> decision_matrix(scores, {"fit": 0.7, "cost": 0.3}).index[0]
'A'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crmlab.validation import check_positive_int

__all__ = ["stakeholder_weights", "decision_matrix", "weight_sensitivity", "total_cost_of_ownership",
           "migration_effort", "after_action_review"]


def _weights(weights, criteria) -> pd.Series:
    if isinstance(weights, Mapping):
        weights = pd.Series(dict(weights), dtype=float)
    if not isinstance(weights, pd.Series):
        raise TypeError("weights must be a dict or Series: criterion -> weight.")
    missing = [c for c in criteria if c not in weights.index]
    extra = [c for c in weights.index if c not in criteria]
    if missing or extra:
        raise ValueError(f"weights and scores must name the same criteria; missing {missing}, unknown {extra}.")
    w = weights.reindex(criteria).astype(float)
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("weights must be finite and non-negative.")
    if w.sum() <= 0:
        raise ValueError("weights sum to 0; give at least one criterion a positive weight.")
    return w / w.sum()


def _scores(scores) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise TypeError("scores must be a DataFrame: one row per criterion, one column per vendor.")
    if scores.empty or scores.shape[1] < 1:
        raise ValueError("scores is empty; give one row per criterion and one column per vendor.")
    if scores.index.duplicated().any() or scores.columns.duplicated().any():
        raise ValueError("scores has duplicate criteria or vendors; name each once.")
    values = scores.apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        raise ValueError("scores must be numbers for every criterion and vendor (no missing values).")
    if not np.all(np.isfinite(values.to_numpy(dtype=float))):
        raise ValueError("scores must be finite.")
    return values.astype(float)


def stakeholder_weights(ratings: pd.DataFrame) -> pd.Series:
    """Criterion weights from stakeholders' importance ratings: each stakeholder's ratings are
    normalised to sum to 1 (so everyone has one vote), then averaged.

    ``ratings`` has one row per criterion and one column per stakeholder (e.g. sales,
    service, marketing, IT, finance).

    Examples
    --------
    >>> r = pd.DataFrame({"sales": [3, 1], "it": [1, 1]}, index=["pipeline", "security"])
    >>> stakeholder_weights(r).tolist()
    [0.625, 0.375]
    """
    r = _scores(ratings)
    if (r < 0).any().any():
        raise ValueError("ratings must be non-negative.")
    totals = r.sum(axis=0)
    if (totals <= 0).any():
        raise ValueError(f"stakeholder(s) {totals.index[totals <= 0].tolist()} rated everything 0.")
    w = (r / totals).mean(axis=1)
    w.name = "weight"
    return w


def decision_matrix(scores: pd.DataFrame, weights: Mapping[str, float] | pd.Series) -> pd.DataFrame:
    """Weighted score per vendor (weights normalised to sum to 1), ranked best first.

    Returns ``total`` and ``rank`` per vendor, plus one column per criterion with its
    weighted contribution.

    Examples
    --------
    >>> scores = pd.DataFrame({"A": [4, 3], "B": [3, 5]}, index=["fit", "cost"])
    >>> decision_matrix(scores, {"fit": 0.7, "cost": 0.3})["total"].round(2).tolist()
    [3.7, 3.6]
    """
    s = _scores(scores)
    w = _weights(weights, list(s.index))
    contrib = s.mul(w, axis=0).T
    out = contrib.assign(total=contrib.sum(axis=1))
    out = out.sort_values("total", ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    out.index.name = "vendor"
    return out[["total", "rank", *s.index]]


def weight_sensitivity(scores: pd.DataFrame, weights: Mapping[str, float] | pd.Series, *,
                       tolerance: float = 0.10) -> pd.DataFrame:
    """How much must each criterion's weight change before the winner changes?

    One weight ``w_c`` is moved to a new value ``x`` in [0, 1] while the others keep their
    proportions and the weights still sum to 1. Each vendor's total is then linear in
    ``x``, so the smallest change that lets another vendor overtake the winner is found
    exactly.

    **Robustness.** The decision is *robust to criterion c* when no change of ``w_c`` by at
    most ``tolerance`` (in weight units: 0.10 = ten percentage points) changes the winner,
    i.e. ``|change_needed| > tolerance`` or no change at all flips it. A criterion whose
    weight must move by 84 points before the winner changes is robust; one where three points
    suffice is not. Choose ``tolerance`` as the disagreement you expect among stakeholders.

    Parameters
    ----------
    scores : DataFrame
        One row per criterion, one column per vendor.
    weights : dict or Series
        Criterion -> non-negative weight (normalised to sum to 1).
    tolerance : float, default 0.10
        Largest weight change (absolute, in [0, 1]) the decision must survive to count as
        robust.

    Returns
    -------
    DataFrame
        One row per criterion: ``weight``, ``change_needed`` (signed; NaN when no move of that
        weight in [0, 1] changes the winner), ``new_winner`` and ``robust``
        (``|change_needed| > tolerance``, or NaN change). ``attrs["winner"]`` and
        ``attrs["tolerance"]`` record the current winner and the tolerance used.

    Examples
    --------
    >>> scores = pd.DataFrame({"A": [4, 3], "B": [3, 5]}, index=["fit", "cost"])
    >>> sens = weight_sensitivity(scores, {"fit": 0.7, "cost": 0.3})
    >>> round(float(sens.loc["fit", "change_needed"]), 4), bool(sens.loc["fit", "robust"])
    (-0.0333, False)
    >>> bool(weight_sensitivity(scores, {"fit": 0.7, "cost": 0.3}, tolerance=0.02).loc["fit", "robust"])
    True
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.integer, np.floating)):
        raise TypeError(f"tolerance must be a number in [0, 1], got {type(tolerance).__name__}.")
    if not (np.isfinite(tolerance) and 0 <= tolerance <= 1):
        raise ValueError(f"tolerance must be in [0, 1] (a weight change; 0.10 = ten points), got {tolerance}.")
    s = _scores(scores)
    w = _weights(weights, list(s.index))
    totals = s.mul(w, axis=0).sum()
    winner = totals.idxmax()
    rows = []
    for c in s.index:
        rest = w.drop(c)
        rest_share = rest / rest.sum() if rest.sum() > 0 else rest * 0
        # total_v(x) = x * s[c, v] + (1 - x) * sum_k rest_share_k * s[k, v]
        base = s.drop(c).mul(rest_share, axis=0).sum() if len(rest) else pd.Series(0.0, index=s.columns)
        slope = s.loc[c] - base
        best_change, best_vendor = np.nan, None
        for v in s.columns:
            if v == winner:
                continue
            d_slope = slope[v] - slope[winner]
            d_base = base[v] - base[winner]
            if d_slope == 0:
                continue
            x = -d_base / d_slope                  # totals equal at x
            if 0 <= x <= 1 and not np.isclose(x, w[c]):
                change = x - w[c]
                if np.isnan(best_change) or abs(change) < abs(best_change):
                    best_change, best_vendor = change, v
        robust = best_vendor is None or abs(best_change) > tolerance
        rows.append({"criterion": c, "weight": w[c], "change_needed": best_change, "new_winner": best_vendor,
                     "robust": bool(robust)})
    out = pd.DataFrame(rows).set_index("criterion")
    out.attrs["winner"] = winner
    out.attrs["tolerance"] = float(tolerance)
    return out


def total_cost_of_ownership(
    options: Mapping,
    *,
    years: int = 5,
    discount_rate: float = 0.08,
) -> pd.DataFrame:
    """Discounted total cost of ownership (TCO) of each option over ``years``.

    Each option maps to ``upfront`` (paid now: licences, hardware, implementation,
    migration) and ``annual`` (paid at the end of each year: subscriptions, maintenance,
    hosting, staff), either a number or a list with one value per year. Returns
    ``upfront``, ``annual_pv`` and ``tco`` (present value) per option, cheapest first.

    Examples
    --------
    >>> tco = total_cost_of_ownership({"on_premise": {"upfront": 500, "annual": 60},
    ...                                "saas": {"upfront": 80, "annual": 150}}, years=5, discount_rate=0.1)
    >>> tco["tco"].round(1).to_dict()
    {'saas': 648.6, 'on_premise': 727.4}
    """
    years = check_positive_int(years, name="years")
    if years > 100:
        raise ValueError(f"years={years} is longer than any system lives; use at most 100.")
    if isinstance(discount_rate, bool) or not isinstance(discount_rate, (int, float)) or not -1 < discount_rate < 1:
        raise ValueError(f"discount_rate must be a yearly rate in (-1, 1), e.g. 0.08; got {discount_rate!r}.")
    if not isinstance(options, Mapping) or not options:
        raise TypeError("options must be a non-empty dict: option -> {'upfront': ..., 'annual': ...}.")
    factors = (1 + discount_rate) ** -np.arange(1, years + 1)
    rows = {}
    for name, costs in options.items():
        if not isinstance(costs, Mapping) or set(costs) - {"upfront", "annual"}:
            raise ValueError(f"option {name!r} must be a dict with 'upfront' and 'annual' only.")
        upfront = float(costs.get("upfront", 0.0))
        annual = np.asarray(costs.get("annual", 0.0), dtype=float)
        annual = np.full(years, float(annual)) if annual.ndim == 0 else annual
        if annual.shape != (years,):
            raise ValueError(f"option {name!r}: 'annual' needs one value per year ({years}), got {annual.size}.")
        if not np.isfinite(upfront) or not np.all(np.isfinite(annual)) or upfront < 0 or (annual < 0).any():
            raise ValueError(f"option {name!r}: costs must be finite and non-negative.")
        pv = float(annual @ factors)
        rows[name] = {"upfront": upfront, "annual_pv": pv, "tco": upfront + pv}
    return pd.DataFrame(rows).T.sort_values("tco", kind="stable")


def migration_effort(report: pd.DataFrame, *, hours_per_issue: float = 0.05, hours_per_column: float = 2.0,
                     n_rows: int | None = None) -> pd.DataFrame:
    """Data-migration effort from a data-quality report (:func:`crmlab.profile.quality_report`).

    Every column costs ``hours_per_column`` to map into the new system and every missing
    value or duplicate key found costs ``hours_per_issue`` to resolve. Returns one row per
    column with ``issues`` and ``hours``, and a ``total`` row.

    Examples
    --------
    >>> rep = pd.DataFrame({"missing": [10, 0]}, index=["email", "phone"])
    >>> float(migration_effort(rep, hours_per_issue=0.1).loc["total", "hours"])
    5.0
    """
    if not isinstance(report, pd.DataFrame) or "missing" not in report.columns:
        raise TypeError("report must be the DataFrame of crmlab.profile.quality_report (with a 'missing' column).")
    for name, v in (("hours_per_issue", hours_per_issue), ("hours_per_column", hours_per_column)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a non-negative number, got {v!r}.")
    issues = pd.to_numeric(report["missing"], errors="coerce").fillna(0)
    if (issues < 0).any():
        raise ValueError("report has negative counts; pass the output of quality_report.")
    is_column = ~report.index.astype(str).str.endswith("(duplicates)")
    hours = issues * hours_per_issue + np.where(is_column, hours_per_column, 0.0)
    out = pd.DataFrame({"issues": issues.astype(int), "hours": hours.astype(float)})
    out.loc["total"] = [int(out["issues"].sum()), float(out["hours"].sum())]
    return out.astype({"issues": int})


def after_action_review(goals: pd.DataFrame, *, metric_col: str = "metric", target_col: str = "target",
                        actual_col: str = "actual", direction_col: str | None = "direction") -> pd.DataFrame:
    """复盘 (after-action review): goal → result → gap, one row per goal.

    ``goals`` has a metric name, its ``target`` and the ``actual`` result, and optionally a
    ``direction`` (``"higher"`` is better, the default, or ``"lower"``). Adds ``gap`` (actual −
    target, signed so that a positive gap is good), ``gap_share`` (gap divided by the absolute target) and
    ``met``. Any other columns (lessons, next actions, owners) are kept: the table is the
    record the review discusses.

    Examples
    --------
    >>> g = pd.DataFrame({"metric": ["retained", "cost"], "target": [0.8, 100.0], "actual": [0.75, 90.0],
    ...                   "direction": ["higher", "lower"]})
    >>> after_action_review(g)["met"].tolist()
    [False, True]
    """
    if not isinstance(goals, pd.DataFrame):
        raise TypeError("goals must be a DataFrame with metric, target and actual columns.")
    from crmlab.validation import check_frame

    df = check_frame(goals, required=[metric_col, target_col, actual_col], numeric=[target_col, actual_col],
                     not_missing=[metric_col, target_col, actual_col], name="goals")
    if direction_col is not None and direction_col in df.columns:
        direction = df[direction_col].fillna("higher")
        bad = ~direction.isin(["higher", "lower"])
        if bad.any():
            raise ValueError(f"goals column {direction_col!r} must be 'higher' or 'lower', got {direction[bad].iloc[0]!r}.")
    else:
        direction = pd.Series("higher", index=df.index)
    sign = np.where(direction == "lower", -1.0, 1.0)
    gap = (df[actual_col] - df[target_col]) * sign + 0.0   # + 0.0 turns -0.0 into 0.0
    target_abs = df[target_col].abs()
    df["gap"] = gap
    df["gap_share"] = np.where(target_abs > 0, gap / target_abs.where(target_abs > 0, 1), np.nan)
    df["met"] = gap >= 0
    if (target_abs == 0).any():
        df.attrs["note"] = "gap_share is undefined (NaN) where the target is 0"
    return df
