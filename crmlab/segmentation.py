"""Customer segmentation (客户细分) and customer value (客户价值评估).

- RFM scores and named segments, including the eight-class scheme used in Chinese CRM
  practice (重要价值客户 … 一般挽留客户): :func:`rfm_scores`, :func:`rfm_segments`;
- clustering personas (客户画像) on scaled features: :func:`choose_k`,
  :func:`cluster_segments`, :func:`profile_segments`;
- value concentration (二八法则): :func:`lorenz_curve`, :func:`gini`,
  :func:`pareto_table`, :func:`abc_classes`;
- the customer pyramid (客户金字塔) of key, ordinary and small customers
  (关键客户 / 普通客户 / 小客户): :func:`pyramid_tiers`, :func:`customer_pyramid`, with the
  cost of serving each customer (服务成本): :func:`cost_to_serve`, and a tenure-fair value for
  customers who joined during the window (年化客户价值): :func:`tenure_adjusted_value`.

Examples
--------
>>> import pandas as pd
>>> rfm = pd.DataFrame({"recency_days": [5, 40, 200, 10], "n_orders": [12, 3, 1, 6],
...                     "total_spend": [900.0, 120.0, 30.0, 400.0]}, index=[1, 2, 3, 4])
>>> rfm_scores(rfm, bins=4)["RFM"].tolist()
['444', '222', '111', '333']
>>> round(gini([1, 1, 1, 1]), 3), round(gini([0, 0, 0, 4]), 3)
(0.0, 0.75)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from crmlab.time import DateLike
from crmlab.validation import (
    check_array,
    check_choice,
    check_frame,
    check_in_range,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "rfm_scores",
    "rfm_segments",
    "RFM_GRID",
    "EIGHT_CLASS_SEGMENTS",
    "choose_k",
    "cluster_segments",
    "profile_segments",
    "lorenz_curve",
    "gini",
    "pareto_table",
    "abc_classes",
    "pyramid_tiers",
    "customer_pyramid",
    "cost_to_serve",
    "tenure_adjusted_value",
    "PYRAMID_ADVICE",
]


# ----------------------------------------------------------------------------- RFM
def _quantile_score(values: pd.Series, bins: int) -> pd.Series:
    """Score 1..bins by rank: ``1 + floor(bins * (rank - 1) / n)`` with tied values sharing the lowest rank."""
    rank = values.rank(method="min").to_numpy()
    return pd.Series(1 + np.floor(bins * (rank - 1) / len(values)), index=values.index).astype("int64")


def rfm_scores(
    rfm: pd.DataFrame,
    bins: int = 5,
    *,
    recency_col: str = "recency_days",
    frequency_col: str = "n_orders",
    monetary_col: str = "total_spend",
) -> pd.DataFrame:
    """Quantile scores 1..``bins`` for recency, frequency and monetary value.

    Each customer's score is :math:`1 + \\lfloor b\\,(r-1)/n \\rfloor`, where ``r`` is the
    rank of the customer's value among the ``n`` customers (tied values share the lowest
    rank, so equal values always get equal scores) and ``b`` is ``bins``. Recency is
    reversed: the most recent buyers (fewest days) score highest. With ties, some scores
    may be unused (e.g. when half the customers bought once, F jumps from 1 to 3).

    Parameters
    ----------
    rfm : pandas.DataFrame
        One row per customer, e.g. from :func:`crmlab.features.rfm_table`.
    bins : int
        Number of score levels (5 is usual).
    recency_col, frequency_col, monetary_col : str
        Column names of R, F and M (defaults: the vocabulary of :mod:`crmlab.features`,
        ``recency_days``, ``n_orders``, ``total_spend``).

    Returns
    -------
    pandas.DataFrame
        Same index: ``R``, ``F``, ``M`` (int64), ``RFM`` (the three digits as a string,
        e.g. ``"545"``) and ``score`` (R + F + M).

    Examples
    --------
    >>> rfm = pd.DataFrame({"recency_days": [3, 3, 50], "n_orders": [1, 4, 1], "total_spend": [10.0, 80.0, 5.0]})
    >>> rfm_scores(rfm, bins=3)[["R", "F", "M"]].values.tolist()
    [[2, 1, 2], [2, 3, 3], [1, 1, 1]]
    """
    bins = check_positive_int(bins, name="bins", minimum=2)
    cols = [recency_col, frequency_col, monetary_col]
    rfm = check_frame(rfm, required=cols, numeric=cols, not_missing=cols, nonnegative=cols, name="rfm")
    scores = pd.DataFrame({
        "R": _quantile_score(-rfm[recency_col], bins),
        "F": _quantile_score(rfm[frequency_col], bins),
        "M": _quantile_score(rfm[monetary_col], bins),
    }, index=rfm.index)
    scores["RFM"] = scores["R"].astype(str) + scores["F"].astype(str) + scores["M"].astype(str)
    scores["score"] = scores[["R", "F", "M"]].sum(axis=1)
    return scores


#: The eight classes of the high/low R × F × M scheme: (R high, F high, M high) -> (English, 中文).
#: 挽留 keeps a customer before she leaves (R and F low: "at-risk"); winning back one who has
#: left is 挽回 (chapter 11).
EIGHT_CLASS_SEGMENTS = {
    (True, True, True): ("important value", "重要价值客户"),
    (True, False, True): ("important development", "重要发展客户"),
    (False, True, True): ("important retention", "重要保持客户"),
    (False, False, True): ("important at-risk", "重要挽留客户"),
    (True, True, False): ("general value", "一般价值客户"),
    (True, False, False): ("general development", "一般发展客户"),
    (False, True, False): ("general retention", "一般保持客户"),
    (False, False, False): ("general at-risk", "一般挽留客户"),
}

#: Named segments on the R × F score grid (scores 1–5; rows R, columns F).
RFM_GRID = pd.DataFrame(
    [
        ["lost", "lost", "at risk", "at risk", "can't lose them"],
        ["hibernating", "hibernating", "at risk", "at risk", "can't lose them"],
        ["about to sleep", "needs attention", "needs attention", "loyal", "loyal"],
        ["new", "potential loyalist", "potential loyalist", "champions", "champions"],
        ["new", "potential loyalist", "potential loyalist", "champions", "champions"],
    ],
    index=pd.Index([1, 2, 3, 4, 5], name="R"),
    columns=pd.Index([1, 2, 3, 4, 5], name="F"),
)
_GRID_ZH = {
    "champions": "冠军客户", "loyal": "忠诚客户", "potential loyalist": "潜在忠诚客户", "new": "新客户",
    "needs attention": "需关注客户", "about to sleep": "即将沉睡客户", "at risk": "流失风险客户",
    "can't lose them": "不能失去的客户", "hibernating": "沉睡客户", "lost": "流失客户",
}


def rfm_segments(scores: pd.DataFrame, *, scheme: str = "eight", threshold: float | None = None,
                 r_col: str = "R", f_col: str = "F", m_col: str = "M") -> pd.DataFrame:
    """Name RFM segments, in English (``segment``) and Chinese (``segment_zh``).

    ``scheme="eight"``: each of R, F, M is *high* when the score is above ``threshold``
    (default: the mean score of that column, as in the usual Chinese practice of comparing
    with the average) and *low* otherwise; the 2 × 2 × 2 combinations give the eight
    classes of :data:`EIGHT_CLASS_SEGMENTS`: 重要价值客户 (R, F, M high), 重要发展客户
    (F low), 重要保持客户 (R low), 重要挽留客户 (R and F low), and the four 一般… classes
    with low M.

    ``scheme="grid"``: the ten named segments of :data:`RFM_GRID` on the R × F plane
    (champions, loyal, …, lost); needs 5-level scores.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`rfm_scores` (columns ``R``, ``F``, ``M``).
    scheme : {"eight", "grid"}
    threshold : None or number
        ``"eight"`` only: scores strictly above it are high (e.g. 3 with 5 levels).
    r_col, f_col, m_col : str
        Columns of the R, F and M scores.

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``segment`` and ``segment_zh`` (and for ``"eight"`` the
        booleans ``R_high``, ``F_high``, ``M_high``).

    Examples
    --------
    >>> s = pd.DataFrame({"R": [5, 1], "F": [5, 1], "M": [5, 5]})
    >>> rfm_segments(s, threshold=3)["segment_zh"].tolist()
    ['重要价值客户', '重要挽留客户']
    """
    check_choice(scheme, ("eight", "grid"), name="scheme")
    cols = [r_col, f_col, m_col]
    scores = check_frame(scores, required=cols, numeric=cols, not_missing=cols, name="scores")
    if scheme == "grid":
        if threshold is not None:
            raise ValueError("threshold applies to scheme='eight' only; the grid uses the scores 1-5 as they are.")
        for col in (r_col, f_col):
            check_in_range(scores[col].to_numpy(dtype=float), low=1, high=5, name=f"scores[{col!r}]")
            if (scores[col] != np.round(scores[col])).any():
                raise ValueError(f"scores[{col!r}] must hold whole scores 1-5 for scheme='grid'; "
                                 f"build them with rfm_scores(..., bins=5).")
        english = [str(RFM_GRID.loc[int(r), int(f)]) for r, f in zip(scores[r_col], scores[f_col])]
        return pd.DataFrame({"segment": english, "segment_zh": [_GRID_ZH[e] for e in english]}, index=scores.index)
    out = pd.DataFrame(index=scores.index)
    for key, col in zip(("R", "F", "M"), cols):
        if threshold is None:
            cut = scores[col].mean()
        elif isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool) \
                and np.isfinite(threshold):
            cut = threshold
        else:
            raise TypeError(f"threshold must be None (use the mean score) or a finite number such as 3, "
                            f"got {threshold!r}.")
        out[f"{key}_high"] = scores[col] > cut
    names = [EIGHT_CLASS_SEGMENTS[key] for key in zip(out["R_high"], out["F_high"], out["M_high"])]
    out.insert(0, "segment", [n[0] for n in names])
    out.insert(1, "segment_zh", [n[1] for n in names])
    return out


# ----------------------------------------------------------------------------- clustering personas
def _feature_matrix(features: pd.DataFrame, columns, log: bool) -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.preprocessing import StandardScaler

    features = check_frame(features, name="features")
    columns = list(features.columns) if columns is None else list(columns)
    if not columns:
        raise ValueError("features has no columns to cluster on; pass columns=[...] with numeric features.")
    features = check_frame(features, required=columns, numeric=columns, not_missing=columns,
                           nonnegative=columns if log else (), name="features")
    X = features[columns].to_numpy(dtype=float)
    if log:
        X = np.log1p(X)  # spend and counts are right-skewed; log1p keeps zeros at zero
    constant = [c for c, v in zip(columns, X.T) if np.ptp(v) == 0]
    if len(constant) == len(columns):
        raise ValueError(f"every feature is constant ({constant}): all customers look the same, so there is "
                         f"nothing to cluster. Choose features that vary between customers.")
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = StandardScaler().fit_transform(X)
    if not np.all(np.isfinite(scaled)):
        raise ValueError("features overflow when standardised (values near the float64 limit); rescale them "
                         "(e.g. spend in thousands) or use log=True.")
    return features[columns], scaled


def _check_distinct(X: np.ndarray, k: int) -> None:
    n_distinct = len(np.unique(X, axis=0))
    if k > n_distinct:
        raise ValueError(f"k={k} clusters need at least {k} distinct customers, but the features hold only "
                         f"{n_distinct} distinct rows; use fewer clusters.")


def _kmeans_threads(n_samples: int):
    """Thread limit for k-means: one thread on small data.

    On a few thousand customers, OpenMP start-up and oversubscription on a busy machine
    cost far more than parallelism gains (measured: 20 s with all threads vs 0.3 s with one
    for 70 fits on 2,400 customers); large data keeps every thread.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1 if n_samples < 50_000 else None, user_api="openmp")


def choose_k(
    features: pd.DataFrame,
    k_range: Iterable[int] = range(2, 9),
    *,
    columns: Sequence[str] | None = None,
    log: bool = True,
    random_state: int | np.random.RandomState | None = 0,
    sample_size: int | None = 3000,
) -> pd.DataFrame:
    """Compare k-means solutions for several numbers of clusters ``k``.

    Features are (optionally) ``log1p``-transformed and standardised, then
    :class:`sklearn.cluster.KMeans` is fitted for each ``k``.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer, numeric columns (e.g. a customer summary or RFM table).
    k_range : iterable of int
        Candidate numbers of clusters (each ≥ 2).
    columns : list of str, optional
        Columns to cluster on (default: all).
    log : bool
        Apply ``log1p`` before scaling (requires non-negative features).
    random_state : int, RandomState or None
        Seed for k-means and for the silhouette sample (see
        :func:`sklearn.utils.check_random_state`).
    sample_size : int or None
        Customers sampled to compute the silhouette (it is quadratic in n); None = all.

    Returns
    -------
    pandas.DataFrame
        One row per ``k``: ``inertia`` (within-cluster sum of squares: look for the
        "elbow") and ``silhouette`` (higher is better, at most 1).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": np.r_[rng.normal(0, 1, 50), rng.normal(10, 1, 50)]})
    >>> int(choose_k(X, range(2, 5), log=False)["silhouette"].idxmax())
    2
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    _, X = _feature_matrix(features, columns, log)
    ks = [check_positive_int(k, name="k", minimum=2) for k in k_range]
    if not ks:
        raise ValueError("k_range is empty: pass candidate cluster counts such as range(2, 9).")
    if max(ks) >= len(X):
        raise ValueError(f"k={max(ks)} needs more customers than the {len(X)} given; use smaller k.")
    _check_distinct(X, max(ks))
    rows = []
    n_sample = None if sample_size is None or sample_size >= len(X) else sample_size
    with _kmeans_threads(len(X)):
        for k in ks:
            model = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(X)
            sil = silhouette_score(X, model.labels_, sample_size=n_sample, random_state=random_state)
            rows.append({"k": k, "inertia": float(model.inertia_), "silhouette": float(sil)})
    return pd.DataFrame(rows).set_index("k")


def cluster_segments(
    features: pd.DataFrame,
    n_clusters: int,
    *,
    columns: Sequence[str] | None = None,
    log: bool = True,
    random_state: int | np.random.RandomState | None = 0,
) -> pd.Series:
    """Cluster customers with k-means on (log-)standardised features.

    Clusters are numbered 0, 1, … by decreasing size, so the numbering does not depend on
    k-means' arbitrary labels.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer, numeric columns.
    n_clusters : int
        Number of clusters (choose with :func:`choose_k`).
    columns, log, random_state
        As in :func:`choose_k`.

    Returns
    -------
    pandas.Series
        Cluster number per customer (int64), named ``"cluster"``, with the index of ``features``.

    Examples
    --------
    >>> X = pd.DataFrame({"a": [1.0, 1.1, 0.9, 9.0, 9.2]})
    >>> cluster_segments(X, 2, log=False).tolist()
    [0, 0, 0, 1, 1]
    """
    from sklearn.cluster import KMeans

    n_clusters = check_positive_int(n_clusters, name="n_clusters", minimum=1)
    feats, X = _feature_matrix(features, columns, log)
    if n_clusters > len(X):
        raise ValueError(f"n_clusters={n_clusters} exceeds the {len(X)} customers given.")
    _check_distinct(X, n_clusters)
    with _kmeans_threads(len(X)):
        labels = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit_predict(X)
    sizes = pd.Series(labels).value_counts()
    order = sorted(sizes.index, key=lambda c: (-sizes[c], c))
    relabel = {old: new for new, old in enumerate(order)}
    return pd.Series([relabel[c] for c in labels], index=feats.index, name="cluster", dtype="int64")


def profile_segments(features: pd.DataFrame, labels: Any, *, value_col: str | None = None) -> pd.DataFrame:
    """Persona table (客户画像): size, share, feature means and value share per segment.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer; every numeric column is averaged.
    labels : array-like or pandas.Series
        Segment of each customer (a Series is aligned on the index, an array by position).
    value_col : str, optional
        Column whose total is split between segments (``value_share``); defaults to
        ``"total_spend"`` (the :mod:`crmlab.features` name) or ``"monetary_value"`` when
        present. A value column that sums to 0 raises ``ValueError`` (no value to share).

    Returns
    -------
    pandas.DataFrame
        One row per segment (sorted by label): ``n_customers``, ``share``, the mean of each
        numeric feature and ``value_share``.

    Examples
    --------
    >>> f = pd.DataFrame({"total_spend": [10.0, 30.0, 60.0]})
    >>> profile_segments(f, ["a", "a", "b"])[["n_customers", "total_spend", "value_share"]].values.tolist()
    [[2.0, 20.0, 0.4], [1.0, 60.0, 0.6]]
    """
    features = check_frame(features, name="features")
    if isinstance(labels, pd.Series):
        missing = features.index.difference(labels.index)
        if len(missing):
            raise ValueError(
                f"labels has no segment for {len(missing)} customer(s) of features (e.g. {missing.tolist()[0]!r}); "
                f"pass one label per row of features."
            )
        labels = labels.reindex(features.index)
    else:
        check_same_length(features=features, labels=labels)
        labels = pd.Series(np.asarray(labels), index=features.index)
    if labels.isna().any():
        raise ValueError("labels has missing values; give every customer a segment.")
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])
               and not pd.api.types.is_bool_dtype(features[c])]
    if value_col is None:
        value_col = next((c for c in ("total_spend", "monetary_value") if c in numeric), None)
    elif value_col not in numeric:
        check_frame(features, required=[value_col], numeric=[value_col], name="features")
    if value_col is not None:
        check_frame(features, numeric=[value_col], not_missing=[value_col], nonnegative=[value_col],
                    name="features")
    groups = features[numeric].groupby(labels.to_numpy())
    profile = groups.mean()
    profile.insert(0, "n_customers", groups.size().astype("int64"))
    profile.insert(1, "share", profile["n_customers"] / len(features))
    if value_col is not None:
        total = features[value_col].to_numpy(dtype=float).sum()
        if not total > 0:
            raise ValueError(f"features column {value_col!r} sums to 0: there is no value to share between "
                             f"segments. Pass value_col= a column with positive values.")
        profile["value_share"] = groups[value_col].sum() / total
    profile.index.name = labels.name if labels.name is not None else "segment"
    return profile


# ----------------------------------------------------------------------------- value concentration
def _values(values, name: str = "values") -> np.ndarray:
    arr = check_array(values, name=name)
    if (arr < 0).any():
        raise ValueError(f"{name} has {int((arr < 0).sum())} negative value(s); customer value here must be >= 0 "
                         f"(net refunds first, or clip losses to 0 explicitly).")
    return arr


def _scaled_values(values, what: str, name: str = "values") -> np.ndarray:
    """Non-negative values scaled so that the largest is below 1: sums never overflow float64.

    Shares of value do not change under scaling; values near the float64 limit (1e308)
    would otherwise sum to inf and every share to NaN. The scale is a power of two, so
    scaling is exact and ordinary values give bit-for-bit the unscaled shares.
    """
    arr = _values(values, name)
    top = arr.max()
    if not top > 0:
        raise ValueError(f"{name} sum to 0 (every value is 0): {what} needs some positive value.")
    return np.ldexp(arr, -int(np.frexp(top)[1]))


def lorenz_curve(values: ArrayLike) -> pd.DataFrame:
    """Points of the Lorenz curve of customer value.

    Customers are sorted from the smallest to the largest value; the curve joins
    (share of customers, share of value) from (0, 0) to (1, 1). The further it sags
    below the diagonal, the more concentrated the value.

    Returns
    -------
    pandas.DataFrame
        ``customer_share`` and ``value_share`` (n + 1 rows, starting at 0).

    Examples
    --------
    >>> lorenz_curve([1, 3])["value_share"].tolist()
    [0.0, 0.25, 1.0]
    """
    x = np.sort(_scaled_values(values, "the Lorenz curve"))
    cum = np.cumsum(x)
    n = len(x)
    return pd.DataFrame({
        "customer_share": np.arange(n + 1) / n,
        "value_share": np.r_[0.0, np.minimum(cum / cum[-1], 1.0)],
    })


def gini(values: ArrayLike) -> float:
    """Gini coefficient of customer value: 0 = everyone equal, (n − 1)/n = one customer has it all.

    .. math:: G = \\frac{\\sum_{i=1}^n (2i - n - 1)\\, x_{(i)}}{n \\sum_i x_i}

    with :math:`x_{(1)} \\le \\dots \\le x_{(n)}` the sorted values; equivalently, twice
    the area between the Lorenz curve and the diagonal.

    Examples
    --------
    >>> gini([5, 5, 5])
    0.0
    >>> gini([0, 0, 0, 10])
    0.75
    """
    x = np.sort(_scaled_values(values, "the Gini coefficient"))
    n = len(x)
    i = np.arange(1, n + 1, dtype=float)
    return float(np.sum((2 * i - n - 1) * x) / (n * x.sum()))


def pareto_table(values: ArrayLike, top: float | Sequence[float] = (0.01, 0.05, 0.1, 0.2, 0.5)) -> pd.DataFrame:
    """Share of total value that comes from the top x% of customers (二八法则).

    The top share of customers is rounded up to whole customers (``ceil(x * n)``).

    Returns
    -------
    pandas.DataFrame
        One row per ``top`` fraction: ``n_customers`` and ``value_share``.

    Examples
    --------
    >>> pareto_table([1, 1, 1, 1, 6], top=(0.2, 0.4))["value_share"].tolist()
    [0.6, 0.7]
    """
    from crmlab.validation import check_fraction

    x = np.sort(_scaled_values(values, "the Pareto table"))[::-1]
    tops = [check_fraction(t, name="top", inclusive=False) if t != 1 else 1.0 for t in np.atleast_1d(top)]
    cum = np.cumsum(x)
    cum = np.minimum(cum / cum[-1], 1.0)
    rows = []
    for t in tops:
        k = int(np.ceil(t * len(x) - 1e-12))
        k = max(k, 1)
        rows.append({"top": t, "n_customers": k, "value_share": float(cum[k - 1])})
    return pd.DataFrame(rows).set_index("top")


def _as_series(values, name: str = "values") -> pd.Series:
    arr = _values(values, name)
    index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(arr))
    return pd.Series(arr, index=index, name=getattr(values, "name", None))


def abc_classes(values: ArrayLike, thresholds: Sequence[float] = (0.8, 0.95)) -> pd.Series:
    """ABC classes by cumulative share of value.

    Customers are sorted by decreasing value (ties keep their input order). A customer is
    class A while the value of the customers *before* it is below ``thresholds[0]`` of the
    total, i.e. A is the smallest group of top customers that reaches 80 % of the value;
    B likewise up to ``thresholds[1]``; the rest is C.

    Returns
    -------
    pandas.Series
        ``"A"``, ``"B"`` or ``"C"`` per customer, with the index of ``values``.

    Examples
    --------
    >>> abc_classes([50, 30, 10, 6, 4]).tolist()
    ['A', 'A', 'B', 'B', 'C']
    """
    from crmlab.validation import check_fraction

    s = _as_series(values)
    if len(thresholds) != 2:
        raise ValueError(f"thresholds must be two cumulative shares such as (0.8, 0.95), got {thresholds!r}.")
    a, b = (check_fraction(t, name="thresholds") for t in thresholds)
    if not a < b:
        raise ValueError(f"thresholds must increase, got {thresholds!r}; e.g. (0.8, 0.95).")
    scaled = _scaled_values(s, "ABC classes")
    order = np.argsort(-scaled, kind="stable")
    cum = np.cumsum(scaled[order])
    before = np.r_[0.0, cum[:-1]] / cum[-1]
    classes = np.where(before < a, "A", np.where(before < b, "B", "C"))
    out = np.empty(len(s), dtype=object)
    out[order] = classes
    return pd.Series(out, index=s.index, name="abc_class", dtype="str")


#: The course texts' advice per pyramid tier (关键客户 / 普通客户 / 小客户).
PYRAMID_ADVICE = {
    "key": ("Set up a dedicated team or account manager; concentrate the best resources on these customers; "
            "build the relationship through regular, personal communication over several channels; "
            "if one leaves, do everything possible to win them back."),
    "ordinary": ("Raise their level and control cost: develop those with upgrade potential into key customers; "
                 "for those without it, reduce service to cut cost; try hard to win back those who leave."),
    "small": ("Judge their potential: nurture those who can grow into ordinary or key customers; for the rest, "
              "serve them at lower cost or price the service so they choose whether to stay; drop loss-making "
              "customers; win back leavers only when it pays."),
}
_TIER_ZH = {"key": "关键客户", "ordinary": "普通客户", "small": "小客户"}


def pyramid_tiers(values: ArrayLike, shares: Sequence[float] = (0.2, 0.3)) -> pd.Series:
    """Customer pyramid tier of each customer: key / ordinary / small.

    Customers are ranked by decreasing value (ties keep input order); the top
    ``shares[0]`` of customers are *key* (关键客户), the next ``shares[1]`` *ordinary*
    (普通客户), the rest *small* (小客户). Counts are rounded up to whole customers.

    Returns
    -------
    pandas.Series
        Ordered categorical ``key`` > ``ordinary`` > ``small`` with the index of ``values``.

    Examples
    --------
    >>> pyramid_tiers([10, 500, 40, 5, 60]).tolist()
    ['small', 'key', 'ordinary', 'small', 'ordinary']
    """
    from crmlab.validation import check_fraction

    s = _as_series(values)
    _scaled_values(s, "ranking customers into tiers")  # all-zero values cannot be ranked
    if len(shares) != 2:
        raise ValueError(f"shares must be two customer shares (key, ordinary) such as (0.2, 0.3), got {shares!r}.")
    key, ordinary = (check_fraction(x, name="shares") for x in shares)
    if key + ordinary >= 1:
        raise ValueError(f"shares {shares!r} leave no small customers; they must sum to less than 1.")
    n = len(s)
    n_key = int(np.ceil(key * n - 1e-12))
    n_ord = int(np.ceil((key + ordinary) * n - 1e-12)) - n_key
    order = np.argsort(-s.to_numpy(), kind="stable")
    tiers = np.empty(n, dtype=object)
    tiers[order] = ["key"] * n_key + ["ordinary"] * n_ord + ["small"] * (n - n_key - n_ord)
    dtype = pd.CategoricalDtype(["key", "ordinary", "small"], ordered=True)
    return pd.Series(tiers, index=s.index, name="tier").astype(dtype)


def customer_pyramid(values: ArrayLike, *, cost_to_serve: ArrayLike | None = None,
                     shares: Sequence[float] = (0.2, 0.3)) -> pd.DataFrame:
    """The customer pyramid (客户金字塔): what each tier is worth, costs and needs.

    Parameters
    ----------
    values : array-like or pandas.Series
        Value of each customer (e.g. gross margin or spend over a year).
    cost_to_serve : array-like or pandas.Series, optional
        Cost of serving each customer (service contacts, order handling, care offers; see
        :func:`cost_to_serve`), same length / index as ``values``. Adds ``cost_to_serve``,
        ``net_value`` and ``net_value_share``. Do not count discounts here when ``values``
        are net of discount (crmlab's ``amount`` is): they would be subtracted twice.
    shares : (float, float)
        Customer shares of the key and ordinary tiers (see :func:`pyramid_tiers`).

    Returns
    -------
    pandas.DataFrame
        One row per tier (key, ordinary, small): ``tier_zh``, ``n_customers``,
        ``customer_share``, ``value``, ``value_share``, ``mean_value``, [cost columns,]
        and ``advice`` (the course texts' management advice for the tier).

    Examples
    --------
    >>> pyr = customer_pyramid([100, 50, 20, 10, 5, 5, 4, 3, 2, 1])
    >>> pyr["n_customers"].tolist(), pyr["value"].tolist()
    ([2, 3, 5], [150.0, 35.0, 15.0])
    """
    s = _as_series(values)
    tiers = pyramid_tiers(s, shares)
    frame = pd.DataFrame({"tier": tiers, "value": s})
    if cost_to_serve is not None:
        cost = _as_series(cost_to_serve, name="cost_to_serve")
        if isinstance(cost_to_serve, pd.Series) and isinstance(values, pd.Series):
            if not cost.index.equals(s.index):
                missing = s.index.difference(cost.index)
                if len(missing):
                    raise ValueError(f"cost_to_serve has no cost for {len(missing)} customer(s) (e.g. {missing.tolist()[0]!r}); "
                                     f"give one cost per customer of values.")
                cost = cost.reindex(s.index)
        else:
            check_same_length(values=s, cost_to_serve=cost)
            cost.index = s.index
        frame["cost_to_serve"] = cost
    grouped = frame.groupby("tier", observed=False)
    table = pd.DataFrame({
        "tier_zh": [_TIER_ZH[t] for t in tiers.cat.categories],
        "n_customers": grouped.size().astype("int64"),
        "value": grouped["value"].sum(),
    })
    empty = table.index[table["n_customers"] == 0].tolist()
    if empty:
        raise ValueError(f"the {empty[0]!r} tier has no customer ({len(s)} customer(s) with shares={shares!r}); "
                         f"pass more customers or larger shares so that every tier has one.")
    scaled = _scaled_values(s, "the pyramid's value shares")  # shares from values / max: no overflow
    scaled_sums = pd.Series(scaled, index=s.index).groupby(tiers, observed=False).sum()
    with np.errstate(over="ignore", invalid="ignore"):
        table["customer_share"] = table["n_customers"] / len(s)
        table["value_share"] = scaled_sums / scaled.sum()
        table["mean_value"] = table["value"] / table["n_customers"]
        if cost_to_serve is not None:
            table["cost_to_serve"] = grouped["cost_to_serve"].sum()
            table["net_value"] = table["value"] - table["cost_to_serve"]
            net_total = table["net_value"].sum()
            if net_total == 0:
                raise ValueError("the net value (value - cost_to_serve) sums to 0, so net_value_share is undefined; "
                                 "check cost_to_serve.")
            table["net_value_share"] = table["net_value"] / net_total
    numbers = table.drop(columns=["tier_zh"]).to_numpy(dtype=float)
    if not np.all(np.isfinite(numbers)):
        raise ValueError("customer_pyramid overflowed float64 (values near 1e308); express values in larger units "
                         "(e.g. thousands).")
    table["advice"] = [PYRAMID_ADVICE[t] for t in table.index]
    table.index = pd.Index(list(table.index), name="tier")
    return table[["tier_zh", "n_customers", "customer_share", "value", "value_share", "mean_value",
                  *([c for c in ("cost_to_serve", "net_value", "net_value_share") if c in table]), "advice"]]


def cost_to_serve(transactions: pd.DataFrame, interactions: pd.DataFrame | None = None, *,
                  customers: ArrayLike | None = None, contact_cost: float = 25.0, order_cost: float = 0.0,
                  observation_start: DateLike | None = None, observation_end: DateLike | None = None,
                  customer_col: str = "customer_id", date_col: str = "date") -> pd.Series:
    """Cost of serving each customer over a window (服务成本): orders handled and service contacts.

    .. math:: \\text{cost}_i = c_{\\text{order}}\\, n^{\\text{orders}}_i + c_{\\text{contact}}\\, n^{\\text{contacts}}_i

    counting the orders in ``transactions`` and the contacts (inquiries, complaints) in
    ``interactions`` dated in the window. **Discounts are not a cost to serve here.** crmlab's
    ``amount`` is what the customer paid after the discount, so a discount is already missing
    from the customer's spend; subtracting it again from that spend counts it twice. Count
    discounts as a cost only against a value measured at list price.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order with ``customer_col`` and ``date_col``.
    interactions : pandas.DataFrame, optional
        One row per service contact with ``customer_col`` and ``date_col``.
    customers : array-like, optional
        The customers to cost (e.g. the index of their spend); customers without orders or
        contacts cost 0. Default: every customer with an order in the window.
    contact_cost, order_cost : float
        Internal cost (CNY) of one service contact and of handling one order; ``>= 0``.
    observation_start, observation_end : date-like, optional
        First and last day of the window (each day counts whole); default: all rows.

    Returns
    -------
    pandas.Series
        ``cost_to_serve`` per customer (float), indexed by ``customer_col``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "date": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-02-02"]),
    ...                    "amount": [80.0, 40.0, 20.0], "discount": [20.0, 0.0, 5.0]})
    >>> contacts = pd.DataFrame({"customer_id": [2, 2], "date": pd.to_datetime(["2024-02-03", "2024-02-10"])})
    >>> cost_to_serve(tx, contacts, contact_cost=25.0, order_cost=2.0).tolist()
    [4.0, 52.0]
    """
    from crmlab.time import day, window_end
    from crmlab.validation import check_frame

    for value, name in ((contact_cost, "contact_cost"), (order_cost, "order_cost")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number of CNY per event (e.g. 25.0), got {value!r}.")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite cost >= 0 (e.g. 25.0), got {value!r}.")
    tx = check_frame(transactions, dates=[date_col], not_missing=[customer_col, date_col], name="transactions")
    frames = {"transactions": tx}
    if interactions is not None:
        frames["interactions"] = check_frame(interactions, dates=[date_col], not_missing=[customer_col, date_col],
                                             allow_empty=True, name="interactions")
    start = None if observation_start is None else day(observation_start, name="observation_start")
    stop = None if observation_end is None else window_end(observation_end)
    if start is not None and stop is not None and not start < stop:
        raise ValueError(f"observation_start={observation_start!r} is after observation_end={observation_end!r}; "
                         f"swap them.")
    counts = {}
    for name, frame in frames.items():
        keep = pd.Series(True, index=frame.index)
        if start is not None:
            keep &= frame[date_col] >= start
        if stop is not None:
            keep &= frame[date_col] < stop
        counts[name] = frame.loc[keep].groupby(customer_col).size()
    if customers is None:
        index = pd.Index(counts["transactions"].index, name=customer_col)
        if len(index) == 0:
            raise ValueError("transactions have no order in the window; widen observation_start/observation_end "
                             "or pass customers= to cost customers without orders.")
    else:
        index = pd.Index(customers, name=customer_col)
        if index.has_duplicates:
            raise ValueError(f"customers has duplicated ids (e.g. {index[index.duplicated()][0]!r}); pass each once.")
    cost = float(order_cost) * counts["transactions"].reindex(index, fill_value=0).astype(float)
    if "interactions" in counts:
        cost = cost + float(contact_cost) * counts["interactions"].reindex(index, fill_value=0).astype(float)
    return cost.rename("cost_to_serve")



def tenure_adjusted_value(values: pd.Series, signup_dates: pd.Series, *, observation_start: DateLike,
                          observation_end: DateLike, min_share: float = 0.5) -> pd.Series:
    """Values of a window scaled to the whole window for customers who joined during it (年化客户价值).

    A customer who signed up in October has had a quarter of a calendar year to spend; ranking
    customers on the year's spend makes recent sign-ups look small. This divides each value by
    the share of the window the customer was signed up, with a floor:

    .. math:: v_i = \\frac{x_i}{\\max(a_i,\\, a_{\\min})}, \\qquad
              a_i = \\frac{\\text{end} - \\max(\\text{signup}_i, \\text{start})}{\\text{end} - \\text{start}}

    (``end`` is the exclusive bound of the window: ``observation_end`` counts whole). For a
    calendar-year window this is the annualised value; customers signed up before the window
    keep their value. The floor ``min_share`` stops short exposures from exploding: over a few
    weeks one purchase is a huge rate, and nobody has had time to lapse yet.

    Parameters
    ----------
    values : pandas.Series
        Value of each customer in the window (e.g. spend or cost to serve), indexed by customer.
    signup_dates : pandas.Series
        Sign-up date of each customer, indexed by customer; every customer of ``values`` needs one.
    observation_start, observation_end : date-like
        First and last day of the window (each day counts whole).
    min_share : float, default 0.5
        Smallest share of the window counted as exposure, in (0, 1] (0.5 of a year = six months).

    Returns
    -------
    pandas.Series
        The adjusted values, with the index and name of ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> spend = pd.Series([600.0, 300.0, 100.0], index=["a", "b", "c"])
    >>> signup = pd.Series(pd.to_datetime(["2023-05-01", "2024-04-01", "2024-12-01"]), index=["a", "b", "c"])
    >>> tenure_adjusted_value(spend, signup, observation_start="2024-01-01", observation_end="2024-12-31").round(1).tolist()
    [600.0, 399.3, 200.0]
    """
    from crmlab.time import day, window_end
    from crmlab.validation import check_fraction

    if not isinstance(values, pd.Series) or not isinstance(signup_dates, pd.Series):
        raise TypeError("values and signup_dates must be pandas Series indexed by customer, got "
                        f"{type(values).__name__} and {type(signup_dates).__name__}.")
    x = _as_series(values, name="values")
    if signup_dates.index.has_duplicates:
        raise ValueError("signup_dates has duplicated customers (e.g. "
                         f"{signup_dates.index[signup_dates.index.duplicated()][0]!r}); give one date per customer.")
    missing = x.index.difference(signup_dates.index)
    if len(missing):
        raise ValueError(f"signup_dates has no date for {len(missing)} customer(s) of values (e.g. "
                         f"{missing.tolist()[0]!r}); give a sign-up date for every customer.")
    signup = signup_dates.reindex(x.index)
    if not pd.api.types.is_datetime64_any_dtype(signup):
        raise TypeError(f"signup_dates must hold dates (datetime64), got dtype {signup.dtype}; "
                        f"convert with pd.to_datetime first.")
    if signup.isna().any():
        raise ValueError(f"signup_dates is missing for {int(signup.isna().sum())} customer(s) (e.g. "
                         f"{signup.index[signup.isna()][0]!r}); fill or drop them first.")
    start, stop = day(observation_start, name="observation_start"), window_end(observation_end)
    if not start < stop:
        raise ValueError(f"observation_start={observation_start!r} is after observation_end={observation_end!r}; "
                         f"swap them.")
    late = signup >= stop
    if late.any():
        raise ValueError(f"{int(late.sum())} customer(s) signed up after observation_end (e.g. {late.idxmax()!r}) "
                         f"but have a value in the window; check the dates.")
    floor = check_fraction(min_share, name="min_share", inclusive=True)
    if floor == 0:
        raise ValueError("min_share must be > 0 (e.g. 0.5 for six months of a year): without a floor, a customer "
                         "who joined on the last day would be scaled up hundreds of times.")
    share = (stop - signup.clip(lower=start)) / (stop - start)
    return (x / share.clip(lower=floor).astype(float)).rename(values.name)
