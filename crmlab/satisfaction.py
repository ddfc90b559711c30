"""Customer satisfaction (客户满意度): CSAT, NPS, reliability, key drivers,
importance-performance analysis, expectation-perception gaps and complaint handling.

Every function takes plain arrays or a DataFrame plus column names and returns a
number-like result object or a tidy DataFrame.

>>> import crmlab as crm
>>> crm.satisfaction.nps([10, 9, 8, 7, 6, 3]).score
0.0
>>> round(crm.satisfaction.csat([5, 4, 4, 2, 1]).score, 1)
60.0
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from crmlab.data.columns import CUSTOMER, DATE, TRANSACTION
from crmlab.time import to_days
from crmlab.validation import (
    check_array,
    check_choice,
    check_fraction,
    check_frame,
    check_positive_int,
    check_transactions,
    require_columns,
)

__all__ = [
    "ScoreResult",
    "csat",
    "nps",
    "score_table",
    "cronbach_alpha",
    "item_total_correlations",
    "key_drivers",
    "importance_performance",
    "IPA_QUADRANTS",
    "gap_analysis",
    "perception_matrix",
    "PERCEPTION_CELLS",
    "complaint_metrics",
    "complaint_rate",
    "service_recovery",
]

IPA_QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
"""Martilla & James (1977) quadrants keyed by (high importance, high performance)."""

PERCEPTION_CELLS = {
    (True, True): "satisfied",
    (False, True): "delighted",
    (True, False): "disappointed",
    (False, False): "indifferent",
}
"""Customer perception matrix (客户感知矩阵) cells keyed by (high expectation, high perceived value)."""


# --------------------------------------------------------------------------- scores
@dataclass(frozen=True)
class ScoreResult:
    """A survey score with its uncertainty (returned by :func:`csat` and :func:`nps`).

    Attributes
    ----------
    metric : "csat" or "nps".
    score : the score in percent (CSAT: 0 to 100, NPS: -100 to 100).
    ci_low, ci_high : confidence interval for the score, in the same unit.
    n : number of answers used; ``n_missing`` answers were missing and left out.
    shares : share of answers in each group (e.g. promoters / passives / detractors).
    mean : mean rating.
    confidence, method : confidence level and interval method.
    """

    metric: str
    score: float
    ci_low: float
    ci_high: float
    n: int
    n_missing: int
    shares: dict = field(default_factory=dict)
    mean: float = float("nan")
    confidence: float = 0.95
    method: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: metric, score, CI, n, shares, mean."""
        row = {"metric": self.metric, "score": self.score, "ci_low": self.ci_low, "ci_high": self.ci_high,
               "n": self.n, "n_missing": self.n_missing, **self.shares, "mean": self.mean,
               "confidence": self.confidence, "method": self.method}
        return pd.DataFrame([row])

    def __float__(self) -> float:
        return float(self.score)

    def __repr__(self) -> str:
        shares = ", ".join(f"{k} {v:.1%}" for k, v in self.shares.items())
        return (f"{self.metric.upper()} = {self.score:.1f} ({self.confidence:.0%} CI {self.ci_low:.1f} to "
                f"{self.ci_high:.1f}, {self.method}); n = {self.n}"
                + (f" ({self.n_missing} missing left out)" if self.n_missing else "")
                + (f"; {shares}" if shares else ""))


def _check_scores(scores, *, low: int, high: int, name: str) -> tuple[np.ndarray, int]:
    """Return the non-missing ratings as floats and the number of missing ones."""
    arr = check_array(scores, name=name, allow_nan=True)
    missing = np.isnan(arr)
    if missing.all():
        raise ValueError(f"{name}: all {arr.size} answers are missing; there is nothing to score. "
                         f"Check that you passed the right column.")
    values = arr[~missing]
    frac = values != np.round(values)
    if frac.any():
        raise ValueError(f"{name} must be whole-number ratings on a {low}-{high} scale; found {values[frac][0]:g}. "
                         f"Round or recode the answers first.")
    bad = (values < low) | (values > high)
    if bad.any():
        raise ValueError(f"{name} must lie on the {low}-{high} scale; {int(bad.sum())} answer(s) do not "
                         f"(e.g. {values[bad][0]:g}). Pass the right scale=..., or recode the answers.")
    return values, int(missing.sum())


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + check_fraction(confidence, name="confidence") / 2))


def csat(scores: ArrayLike, *, scale: int = 5, top_box: int = 2, confidence: float = 0.95) -> ScoreResult:
    r"""Customer satisfaction score: the percentage of answers in the top box(es).

    .. math:: \mathrm{CSAT} = 100 \cdot \frac{\#\{\text{answers} > \text{scale} - \text{top\_box}\}}{n}

    The confidence interval is the Wilson score interval for the top-box proportion
    (``statsmodels.stats.proportion.proportion_confint(method="wilson")``), which keeps
    its coverage near the nominal level even for small samples and shares near 0 or 1.

    Parameters
    ----------
    scores : 1-D ratings on the scale ``1..scale``; missing answers are left out and counted in ``n_missing``.
    scale : number of scale points (5 for a 1-5 scale).
    top_box : how many of the top points count as satisfied (2: "4 or 5" on a 5-point scale).
    confidence : confidence level of the interval.

    Examples
    --------
    >>> r = csat([5, 4, 4, 3, 1])
    >>> r.score, r.n
    (60.0, 5)
    """
    from statsmodels.stats.proportion import proportion_confint

    scale = check_positive_int(scale, name="scale", minimum=2)
    top_box = check_positive_int(top_box, name="top_box")
    if top_box >= scale:
        raise ValueError(f"top_box={top_box} must be smaller than scale={scale}; use e.g. top_box=2 for a 5-point scale.")
    values, n_missing = _check_scores(scores, low=1, high=scale, name="scores")
    n = values.size
    k = int((values > scale - top_box).sum())
    low, high = proportion_confint(k, n, alpha=1 - check_fraction(confidence, name="confidence"), method="wilson")
    return ScoreResult("csat", 100 * k / n, 100 * low, 100 * high, n, n_missing,
                       {"top_box": k / n, "bottom_box": float((values <= top_box).mean())},
                       float(values.mean()), confidence, "Wilson")


def nps(scores: ArrayLike, *, confidence: float = 0.95, method: str = "adjusted_wald") -> ScoreResult:
    r"""Net Promoter Score (Reichheld 2003) with a confidence interval.

    Promoters answer 9-10, passives 7-8, detractors 0-6 on the 0-10 "how likely are you to
    recommend us" question; :math:`\mathrm{NPS} = 100\,(p_P - p_D)`.

    The interval uses the variance of a difference of two multinomial proportions,
    :math:`\mathrm{Var}(\hat p_P - \hat p_D) = [p_P + p_D - (p_P - p_D)^2] / n`.
    ``method="adjusted_wald"`` (default) first adds 3/4 of a promoter, 3/4 of a detractor
    and 3 answers in total (``n + 3``), which Rocks (2016, *The American Statistician*)
    found to keep coverage close to nominal for small samples and extreme scores;
    ``method="wald"`` is the plain interval. Limits are clipped to [-100, 100].

    Examples
    --------
    >>> r = nps([10, 10, 9, 8, 7, 5, 0, 10])
    >>> r.score, r.shares["promoters"]
    (25.0, 0.5)
    """
    check_choice(method, ("adjusted_wald", "wald"), name="method")
    z = _z(confidence)
    values, n_missing = _check_scores(scores, low=0, high=10, name="scores")
    n = values.size
    promoters = int((values >= 9).sum())
    detractors = int((values <= 6).sum())
    score = (promoters - detractors) / n
    if method == "adjusted_wald":
        n_adj, p, d = n + 3, (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3)
    else:
        n_adj, p, d = n, promoters / n, detractors / n
    centre = p - d
    half = z * math.sqrt(max(p + d - centre**2, 0.0) / n_adj)
    shares = {"promoters": promoters / n, "passives": (n - promoters - detractors) / n, "detractors": detractors / n}
    return ScoreResult("nps", 100 * score, 100 * max(centre - half, -1.0), 100 * min(centre + half, 1.0),
                       n, n_missing, shares, float(values.mean()), confidence,
                       "adjusted Wald" if method == "adjusted_wald" else "Wald")


def score_table(data: pd.DataFrame, *, column: str, by: str | list[str], metric: str = "nps",
                **kwargs: Any) -> pd.DataFrame:
    """CSAT or NPS per group, one tidy row per group.

    Parameters
    ----------
    data : survey answers, one row per response.
    column : the rating column (e.g. ``"nps"`` or ``"csat"``).
    by : grouping column(s), e.g. ``"region"``.
    metric : ``"nps"`` or ``"csat"``; ``kwargs`` go to :func:`nps` / :func:`csat`.

    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "nps": [10, 9, 0, 8]})
    >>> score_table(df, column="nps", by="g")["score"].tolist()
    [100.0, -50.0]
    """
    by = [by] if isinstance(by, str) else list(by)
    check_choice(metric, ("nps", "csat"), name="metric")
    df = check_frame(data, required=[column, *by], name="data")
    func = nps if metric == "nps" else csat
    rows = []
    for key, group in df.groupby(by, sort=True, dropna=False):
        row = func(group[column], **kwargs).to_frame()
        for i, val in enumerate(key if isinstance(key, tuple) else (key,)):
            row.insert(i, by[i], [val])
        rows.append(row)
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------- reliability
def _items_frame(items, *, name: str = "items", min_items: int = 2) -> pd.DataFrame:
    if not isinstance(items, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame with one column per item and one row per respondent, "
                        f"got {type(items).__name__}.")
    df = check_frame(items, numeric=list(items.columns), not_missing=list(items.columns), name=name)
    if df.shape[1] < min_items:
        raise ValueError(f"{name} needs at least {min_items} item columns, got {df.shape[1]}.")
    if len(df) < 3:
        raise ValueError(f"{name} needs at least 3 respondents, got {len(df)}.")
    const = [c for c in df.columns if df[c].nunique() < 2]
    if const:
        raise ValueError(f"{name} column {const[0]!r} has the same answer for everyone; drop it (it carries no information).")
    return df.astype(float)


def cronbach_alpha(items: pd.DataFrame) -> float:
    r"""Cronbach's alpha: internal consistency of a multi-item scale.

    .. math:: \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\sum_i s_i^2}{s_T^2}\Bigr)

    with :math:`k` items, item variances :math:`s_i^2` and the variance :math:`s_T^2` of
    the summed score. Values above about 0.7 are usually read as acceptable reliability.
    Items that are constant, or whose total is constant (:math:`s_T^2 = 0`), raise
    ``ValueError``: alpha is undefined there.

    >>> items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(items), 3)
    0.954
    """
    df = _items_frame(items)
    k = df.shape[1]
    total_var = df.sum(axis=1).var(ddof=1)
    if not total_var > 0:
        raise ValueError(f"items {list(map(str, df.columns))} add up to the same total for every respondent "
                         f"(their variation cancels out, e.g. an item that is the reverse of another), so "
                         f"Cronbach's alpha is undefined. Recode reverse-worded items (scale_max + 1 - x) first.")
    return float(k / (k - 1) * (1 - df.var(ddof=1).sum() / total_var))


def item_total_correlations(items: pd.DataFrame) -> pd.DataFrame:
    """Per item: corrected item-total correlation and alpha if the item is dropped.

    The corrected correlation relates an item to the sum of the *other* items; an item
    with a low correlation, whose removal raises alpha, measures something else.

    >>> items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [5, 1, 4, 2, 3]})
    >>> item_total_correlations(items)["item"].tolist()
    ['a', 'b', 'c']
    """
    df = _items_frame(items, min_items=3)
    total = df.sum(axis=1)
    rows = []
    for col in df.columns:
        rest = total - df[col]
        alpha_without = cronbach_alpha(df.drop(columns=col))  # raises first if the rest is constant
        rows.append({"item": col, "mean": df[col].mean(), "sd": df[col].std(ddof=1),
                     "item_total_r": float(np.corrcoef(df[col], rest)[0, 1]),
                     "alpha_if_dropped": alpha_without})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- key drivers
def _r2_from_corr(rxx: np.ndarray, rxy: np.ndarray, subset) -> float:
    idx = list(subset)
    if not idx:
        return 0.0
    sub = rxx[np.ix_(idx, idx)]
    r = rxy[idx]
    return float(r @ np.linalg.solve(sub, r))


def _lmg(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Shapley decomposition of R² (Lindeman, Merenda & Gold 1980) over all subsets."""
    p = len(rxy)
    r2 = {}
    for size in range(p + 1):
        for subset in itertools.combinations(range(p), size):
            r2[subset] = _r2_from_corr(rxx, rxy, subset)
    weights = [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    out = np.zeros(p)
    for subset, value in r2.items():
        for j in range(p):
            if j in subset:
                continue
            with_j = tuple(sorted((*subset, j)))
            out[j] += weights[len(subset)] * (r2[with_j] - value)
    return out


def _relative_weights(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights: regress y on the orthogonal counterparts of X."""
    evals, evecs = np.linalg.eigh(rxx)
    lam = evecs @ np.diag(np.sqrt(np.clip(evals, 0, None))) @ evecs.T   # R_xx^(1/2)
    beta = np.linalg.solve(lam, rxy)
    return (lam**2) @ (beta**2)


def key_drivers(data: pd.DataFrame, *, target: str, drivers: list[str], confidence: float = 0.95) -> pd.DataFrame:
    r"""Key driver analysis: which attribute ratings move overall satisfaction most.

    Fits an OLS regression of the standardised ``target`` on the standardised ``drivers``
    (statsmodels) and splits its :math:`R^2` between the drivers in two ways that, unlike
    the betas, stay sensible when the drivers are correlated:

    - ``lmg``: the Shapley / LMG share, the average gain in :math:`R^2` from adding the driver
      over all orders in which drivers can enter the model (exact; up to 15 drivers);
    - ``relative_weight``: Johnson's (2000) relative weights, a fast approximation of LMG.

    Both sum to :math:`R^2`; ``share`` is ``lmg / R²`` and ``rank`` orders drivers by ``lmg``.

    Returns
    -------
    DataFrame, one row per driver: ``driver, beta, ci_low, ci_high, p_value, r`` (zero-order
    correlation), ``lmg, relative_weight, share, rank``. ``.attrs`` holds ``r2`` and ``n``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    >>> df["y"] = 2 * df["a"] + df["b"] + rng.normal(size=200)
    >>> key_drivers(df, target="y", drivers=["a", "b"])["driver"].iloc[0]
    'a'
    """
    import statsmodels.api as sm

    if isinstance(drivers, str):
        drivers = [drivers]
    drivers = list(drivers)
    if not drivers:
        raise ValueError("drivers is empty; pass the attribute rating columns, e.g. drivers=['perf_reliability', ...].")
    if target in drivers:
        raise ValueError(f"target {target!r} is also listed in drivers; a rating cannot explain itself.")
    if len(drivers) > 15:
        raise ValueError(f"{len(drivers)} drivers is too many for the exact LMG decomposition (2^p subsets); use at most 15.")
    cols = [target, *drivers]
    df = check_frame(data, numeric=cols, not_missing=cols, name="data")
    if len(df) <= len(drivers) + 2:
        raise ValueError(f"data has {len(df)} rows for {len(drivers)} drivers; a regression needs clearly more rows than drivers.")
    const = [c for c in cols if df[c].std() == 0]
    if const:
        raise ValueError(f"data column {const[0]!r} is constant; it cannot be standardised. Drop it.")
    z = (df[cols] - df[cols].mean()) / df[cols].std(ddof=1)
    corr = z.corr().to_numpy()
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    if np.linalg.matrix_rank(rxx) < len(drivers):
        raise ValueError("The drivers are perfectly collinear (one is a combination of others); drop the redundant one.")
    fit = sm.OLS(z[target], sm.add_constant(z[drivers])).fit()
    ci = fit.conf_int(alpha=1 - check_fraction(confidence, name="confidence")).loc[drivers]
    lmg = _lmg(rxx, rxy)
    out = pd.DataFrame({
        "driver": drivers,
        "beta": fit.params[drivers].to_numpy(),
        "ci_low": ci[0].to_numpy(),
        "ci_high": ci[1].to_numpy(),
        "p_value": fit.pvalues[drivers].to_numpy(),
        "r": rxy,
        "lmg": lmg,
        "relative_weight": _relative_weights(rxx, rxy),
        "share": lmg / fit.rsquared,
    })
    out["rank"] = out["lmg"].rank(ascending=False, method="first").astype("int64")
    out = out.sort_values("rank").reset_index(drop=True)
    out.attrs.update({"r2": float(fit.rsquared), "n": int(fit.nobs), "target": target})
    return out


def _cut(values: pd.Series, cut: str | float, *, name: str, what: str = "values") -> float:
    if isinstance(cut, str):
        check_choice(cut, ("mean", "median"), name=name)
        if values.nunique() < 2:
            raise ValueError(f"{what} has the single value {float(values.iloc[0]):g}, so a {cut} split cannot tell "
                             f"high from low (everyone would fall on one side). Pass {name}=<number> or use "
                             f"data that varies.")
        return float(values.mean() if cut == "mean" else values.median())
    if isinstance(cut, (int, float)) and not isinstance(cut, bool):
        return float(cut)
    raise TypeError(f"{name} must be 'mean', 'median' or a number, got {cut!r}.")


def importance_performance(data: pd.DataFrame, *, target: str, drivers: list[str], importance: str = "lmg",
                           importance_cut: str | float = "mean",
                           performance_cut: str | float = "mean") -> pd.DataFrame:
    """Importance-performance analysis (IPA, Martilla & James 1977).

    Importance of each attribute comes from :func:`key_drivers` (derived importance),
    performance is its mean rating. Attributes are split at the cut lines into four
    quadrants: *concentrate here* (important, weak), *keep up the good work* (important,
    strong), *low priority* (unimportant, weak) and *possible overkill* (unimportant, strong).

    Parameters
    ----------
    importance : ``"lmg"``, ``"relative_weight"``, ``"beta"`` or ``"r"`` (a column of :func:`key_drivers`).
    importance_cut, performance_cut : ``"mean"``, ``"median"`` (of the attributes) or a number.

    Returns
    -------
    DataFrame: ``driver, importance, performance, quadrant``; ``.attrs`` holds the cut values.

    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame(rng.integers(1, 8, size=(100, 3)), columns=["a", "b", "c"])
    >>> df["y"] = df["a"] + rng.integers(0, 3, 100)
    >>> importance_performance(df, target="y", drivers=["a", "b", "c"]).columns.tolist()
    ['driver', 'importance', 'performance', 'quadrant']
    """
    check_choice(importance, ("lmg", "relative_weight", "beta", "r"), name="importance")
    kd = key_drivers(data, target=target, drivers=drivers).set_index("driver").loc[list(drivers)]
    out = pd.DataFrame({"driver": list(drivers), "importance": kd[importance].to_numpy(),
                        "performance": data[list(drivers)].mean().to_numpy()})
    icut = _cut(out["importance"], importance_cut, name="importance_cut", what="the drivers' importance")
    pcut = _cut(out["performance"], performance_cut, name="performance_cut", what="the drivers' performance")
    out["quadrant"] = [IPA_QUADRANTS[(bool(i >= icut), bool(p >= pcut))] for i, p in zip(out["importance"], out["performance"])]
    out.attrs.update({"importance_cut": icut, "performance_cut": pcut, "importance_measure": importance})
    return out


# --------------------------------------------------------------------------- gaps
def gap_analysis(data: pd.DataFrame, *, dimensions: str | Sequence[str] | None = None, expectation: str = "exp_{}", perception: str = "perf_{}",
                 confidence: float = 0.95) -> pd.DataFrame:
    r"""SERVQUAL gap per service-quality dimension (Parasuraman, Zeithaml & Berry 1988).

    The gap is perception minus expectation, :math:`G_d = \bar P_d - \bar E_d`; a negative
    gap means the service falls short of what customers expect. The interval is the
    paired t-interval of the per-respondent gaps.

    Parameters
    ----------
    data : one row per respondent with an expectation and a perception column per dimension.
    dimensions : dimension names; by default every ``d`` with both ``expectation.format(d)`` and
        ``perception.format(d)`` present.
    expectation, perception : column-name templates (``"exp_{}"``, ``"perf_{}"``).

    Returns
    -------
    DataFrame: ``dimension, expectation, perception, gap, ci_low, ci_high, share_negative, n``,
    sorted from the most negative gap.

    >>> df = pd.DataFrame({"exp_speed": [6, 7, 5], "perf_speed": [4, 6, 5]})
    >>> gap_analysis(df)["gap"].tolist()
    [-1.0]
    """
    if "{}" not in expectation or "{}" not in perception:
        raise ValueError("expectation and perception must be templates with '{}' for the dimension, e.g. 'exp_{}'.")
    require_columns(data, [], name="data")
    if dimensions is None:
        prefix, suffix = expectation.split("{}")
        found = [c[len(prefix):len(c) - len(suffix) if suffix else None] for c in data.columns
                 if isinstance(c, str) and c.startswith(prefix) and c.endswith(suffix)]
        dimensions = [d for d in found if perception.format(d) in data.columns]
        if not dimensions:
            raise ValueError(f"No dimension has both an {expectation!r} and a {perception!r} column in data "
                             f"(columns: {list(map(str, data.columns))}). Pass dimensions=[...] or the right templates.")
    dimensions = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    e_cols = [expectation.format(d) for d in dimensions]
    p_cols = [perception.format(d) for d in dimensions]
    df = check_frame(data, numeric=e_cols + p_cols, not_missing=e_cols + p_cols, name="data")
    if len(df) < 2:
        raise ValueError("data needs at least 2 respondents for a gap interval.")
    level = check_fraction(confidence, name="confidence")
    rows = []
    for d, e, p in zip(dimensions, e_cols, p_cols):
        gaps = df[p].astype(float) - df[e].astype(float)
        n = len(gaps)
        se = gaps.std(ddof=1) / math.sqrt(n)
        t = stats.t.ppf(0.5 + level / 2, n - 1)
        rows.append({"dimension": d, "expectation": df[e].mean(), "perception": df[p].mean(), "gap": gaps.mean(),
                     "ci_low": gaps.mean() - t * se, "ci_high": gaps.mean() + t * se,
                     "share_negative": float((gaps < 0).mean()), "n": n})
    return pd.DataFrame(rows).sort_values("gap", kind="stable").reset_index(drop=True)


def perception_matrix(data: pd.DataFrame, *, expectation: str | Sequence[str], perceived_value: str,
                      cut: str | float | tuple[str | float, str | float] = "median") -> pd.DataFrame:
    """Customer perception matrix (客户感知矩阵): expectation × perceived value.

    Each respondent is placed by whether their expectation and their perceived value are
    high or low (split at ``cut``): *satisfied* (high expectation met by high value),
    *delighted* (value beyond modest expectations), *disappointed* (high expectation, low
    value: the defection risk) and *indifferent* (both low).

    Parameters
    ----------
    expectation : a column, or a list of columns averaged per respondent (e.g. the ``exp_*`` items).
    perceived_value : the perceived-value column.
    cut : ``"median"``, ``"mean"`` or a number (one for both axes) or a pair ``(expectation_cut, value_cut)``.

    Returns
    -------
    A copy of ``data`` with ``expectation_score``, ``high_expectation``, ``high_value`` and ``cell``.

    >>> df = pd.DataFrame({"e": [2, 6, 2, 6], "v": [6, 6, 2, 2]})
    >>> perception_matrix(df, expectation="e", perceived_value="v", cut=4)["cell"].tolist()
    ['delighted', 'satisfied', 'indifferent', 'disappointed']
    """
    e_cols = [expectation] if isinstance(expectation, str) else list(expectation)
    df = check_frame(data, numeric=[*e_cols, perceived_value], not_missing=[*e_cols, perceived_value], name="data")
    e_cut, v_cut = cut if isinstance(cut, tuple) else (cut, cut)
    out = df.copy()
    out["expectation_score"] = df[e_cols].astype(float).mean(axis=1)
    ec = _cut(out["expectation_score"], e_cut, name="cut", what="the expectation score")
    vc = _cut(df[perceived_value].astype(float), v_cut, name="cut", what=f"data column {perceived_value!r}")
    out["high_expectation"] = out["expectation_score"] > ec
    out["high_value"] = df[perceived_value] > vc
    out["cell"] = [PERCEPTION_CELLS[(bool(h), bool(v))] for h, v in zip(out["high_expectation"], out["high_value"])]
    out.attrs.update({"expectation_cut": ec, "value_cut": vc})
    return out


# --------------------------------------------------------------------------- complaints
_INTERACTION_COLS = [CUSTOMER, DATE, "type", "channel", "category", "resolved", "resolution_days"]


def _resolution_days(values: pd.Series, *, name: str = "interactions") -> pd.Series:
    """``resolution_days`` as float days: timedeltas converted (crm.time.to_days), missing kept
    (unresolved), negative or infinite durations rejected."""
    days = pd.Series(to_days(values, name=f"{name} column 'resolution_days'"), index=values.index)
    bad = (days < 0) | np.isinf(days)
    if bad.any():
        raise ValueError(f"{name} column 'resolution_days' has {int(bad.sum())} negative or infinite value(s) "
                         f"(e.g. {days[bad].iloc[0]:g}); a resolution time is a duration of 0 days or more.")
    return days


def _interactions(interactions: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    df = check_frame(interactions, required=[*_INTERACTION_COLS, *extra], dates=[DATE],
                     not_missing=[CUSTOMER, "type", "resolved"], name="interactions")
    df["resolution_days"] = _resolution_days(df["resolution_days"])
    types = set(df["type"].unique())
    if not types <= {"complaint", "inquiry"}:
        other = sorted(map(str, types - {"complaint", "inquiry"}))
        raise ValueError(f"interactions column 'type' must hold 'complaint' or 'inquiry'; found {other}. "
                         f"Recode the contact types first.")
    return df


def complaint_metrics(interactions: pd.DataFrame, *, by: str | list[str] | None = "category",
                      percentiles: Sequence[float] = (0.5, 0.9)) -> pd.DataFrame:
    """Complaint-handling metrics (客户投诉处理), overall or per group.

    Per group: contacts, complaints, share of contacts that are complaints, share of
    complaints resolved, resolution-time percentiles of resolved complaints (days) and mean
    satisfaction with the handling (``satisfaction_after``, when present).

    Parameters
    ----------
    interactions : the ``interactions`` table (``type``, ``channel``, ``category``,
        ``resolved``, ``resolution_days``; ``satisfaction_after`` optional).
    by : column(s) to group by (``"category"``, ``"channel"``, ...) or None for one overall row.
    percentiles : resolution-time quantiles to report, as fractions.

    Returns
    -------
    One row per group. Shares and percentiles a group cannot have are NaN, by design:
    ``resolved_share`` for a group without complaints, ``resolution_days_p*`` for one
    without resolved complaints, ``satisfaction_after`` when nobody was asked.

    >>> import crmlab as crm
    >>> m = complaint_metrics(crm.load_retail().interactions, by="channel")
    >>> {"n_complaints", "resolved_share", "resolution_days_p50"} <= set(m.columns)
    True
    """
    df = _interactions(interactions)
    qs = [check_fraction(q, name="percentiles") for q in percentiles]
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    require_columns(df, by, name="interactions")
    df = df.assign(_complaint=df["type"] == "complaint")
    groups = df.groupby(by, sort=True, dropna=False) if by else [((), df)]
    rows = []
    for key, g in groups:
        c = g[g["_complaint"]]
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        days = c.loc[c["resolved"], "resolution_days"].dropna()
        row.update({"n_contacts": len(g), "n_complaints": len(c),
                    "complaint_share": len(c) / len(g) if len(g) else np.nan,
                    "resolved_share": float(c["resolved"].mean()) if len(c) else np.nan})
        for q in qs:
            row[f"resolution_days_p{round(q * 100):d}"] = float(days.quantile(q)) if len(days) else np.nan
        if "satisfaction_after" in c.columns:
            row["satisfaction_after"] = float(c["satisfaction_after"].mean()) if c["satisfaction_after"].notna().any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def complaint_rate(interactions: pd.DataFrame, transactions: pd.DataFrame, *, freq: str | None = None,
                   per: int = 1000, date_col: str = DATE) -> pd.DataFrame:
    """Complaints per ``per`` orders, overall or per period (``freq="MS"`` for months).

    A period without orders has no rate: its ``complaints_per_<per>_orders`` is NaN.
    ``date_col`` names the order date in ``transactions`` (one row per order).

    >>> import crmlab as crm
    >>> d = crm.load_retail()
    >>> bool(complaint_rate(d.interactions, d.transactions)["complaints_per_1000_orders"].iloc[0] > 0)
    True
    """
    df = _interactions(interactions)
    tx = check_frame(transactions, required=[date_col], dates=[date_col], not_missing=[date_col], name="transactions")
    per = check_positive_int(per, name="per")
    col = f"complaints_per_{per}_orders"
    comp = df[df["type"] == "complaint"]
    if freq is None:
        return pd.DataFrame({"n_orders": [len(tx)], "n_complaints": [len(comp)], col: [per * len(comp) / len(tx)]})
    try:
        orders = tx.set_index(date_col).resample(freq).size().rename("n_orders")
    except ValueError as exc:
        raise ValueError(f"freq={freq!r} is not a pandas frequency; use e.g. 'MS' (months) or 'W' (weeks).") from exc
    complaints = comp.set_index(DATE).resample(freq).size().rename("n_complaints")
    out = pd.concat([orders, complaints], axis=1).fillna(0).astype("int64")
    out[col] = np.where(out["n_orders"] > 0, per * out["n_complaints"] / out["n_orders"].where(out["n_orders"] > 0), np.nan)
    return out.rename_axis("period").reset_index()


def service_recovery(interactions: pd.DataFrame, transactions: pd.DataFrame, *, surveys: pd.DataFrame | None = None,
                     outcomes: str | Sequence[str] = ("csat", "nps"), customer_col: str = CUSTOMER,
                     date_col: str = DATE, transaction_col: str = TRANSACTION) -> pd.DataFrame:
    """The service-recovery comparison: no complaint vs a resolved vs an unresolved complaint.

    Two views, one row per group (``no complaint``, ``resolved``, ``unresolved``):

    - **orders** (behaviour): every order is classified by the complaint filed about it
      (``interactions.transaction_id``); ``repurchase_share`` is the share of those orders
      after which the customer bought again. Complaints hit orders more or less at random,
      so this compares like with like.
    - **survey answers** (attitude, when ``surveys`` is given): each response is classified
      by the customer's complaints filed *before* it: no complaint, all resolved, or at least
      one unresolved; reported are the number of responses and the mean of each outcome
      (and the NPS itself when ``nps`` is an outcome).

    ``customer_col``, ``date_col`` and ``transaction_col`` name the columns of
    ``transactions``; ``interactions`` and ``surveys`` use the schema's names.

    A group without orders or responses has NaN shares and means (``n_orders`` or
    ``n_responses`` is 0 there), since there is nothing to average.

    >>> import crmlab as crm
    >>> d = crm.load_retail()
    >>> service_recovery(d.interactions, d.transactions)["group"].tolist()
    ['no complaint', 'resolved', 'unresolved']
    """
    df = _interactions(interactions, extra=[TRANSACTION])
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=None,
                            extra=[transaction_col])
    check_frame(tx, not_missing=[transaction_col], unique=transaction_col, name="transactions")
    tx = tx.rename(columns={customer_col: CUSTOMER, date_col: DATE, transaction_col: TRANSACTION})
    comp = df[df["type"] == "complaint"]
    if comp[TRANSACTION].isna().any():
        raise ValueError("interactions: some complaints have no transaction_id; every complaint must name its order.")
    unknown = ~comp[TRANSACTION].isin(tx[TRANSACTION])
    if unknown.any():
        raise ValueError(f"interactions: complaint about transaction_id {comp.loc[unknown, 'transaction_id'].iloc[0]!r} "
                         f"that is not in transactions.")
    order = ["no complaint", "resolved", "unresolved"]
    per_order = comp.groupby(TRANSACTION)["resolved"].all()
    last = tx.groupby(CUSTOMER)[DATE].transform("max")
    orders = tx.assign(bought_again=tx[DATE] < last,
                       group=tx[TRANSACTION].map(per_order.map({True: "resolved", False: "unresolved"}))
                       .fillna("no complaint"))
    out = (orders.groupby("group")["bought_again"].agg(n_orders="size", repurchase_share="mean")
           .reindex(order).rename_axis("group").reset_index())
    out["n_orders"] = out["n_orders"].fillna(0).astype("int64")
    if surveys is None:
        return out
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    sv = check_frame(surveys, required=[CUSTOMER, DATE], dates=[DATE], numeric=outcomes,
                     not_missing=[CUSTOMER, DATE], name="surveys").reset_index(drop=True)
    merged = sv[[CUSTOMER, DATE]].reset_index(names="_row").merge(
        comp[[CUSTOMER, DATE, "resolved"]].rename(columns={DATE: "_cdate"}), on=CUSTOMER, how="inner")
    merged = merged[merged["_cdate"] < merged[DATE]]
    status = merged.groupby("_row")["resolved"].all().reindex(range(len(sv)))
    sv["group"] = status.map({True: "resolved", False: "unresolved"}).fillna("no complaint")
    rows = []
    for g in order:
        part = sv[sv["group"] == g]
        row = {"group": g, "n_responses": len(part)}
        for o in outcomes:
            row[f"mean_{o}"] = float(part[o].mean()) if len(part) else np.nan
        if "nps" in outcomes:
            row["nps_score"] = nps(part["nps"]).score if part["nps"].notna().any() else np.nan
        rows.append(row)
    return out.merge(pd.DataFrame(rows), on="group", how="left")
