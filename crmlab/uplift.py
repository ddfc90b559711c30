"""Retention campaigns (挽留策略) and win-back (挽回流失客户): uplift and targeting by profit.

A churn model says who is likely to leave; a retention offer pays only where it *changes*
the outcome. The uplift of customer :math:`x` is

.. math:: \\tau(x) = P(Y = 1 \\mid x, \\text{offer}) - P(Y = 1 \\mid x, \\text{no offer})

for a desired outcome :math:`Y` (here: the customer is retained). It is estimated from a
randomised campaign (treatment and control group) with

- :class:`TwoModelUplift`: one classifier per group, uplift = difference of predictions;
- :class:`ClassTransformationUplift`: one classifier for
  :math:`Z = YT + (1-Y)(1-T)`, uplift = :math:`2P(Z=1 \\mid x) - 1` (Jaskowski &
  Jaroszewicz 2012; groups re-weighted to equal size);

evaluated with :func:`uplift_curve`/:func:`qini_curve` and their areas, and turned into a
contact list by :func:`target_customers` (expected profit with the course's win-back
policy by customer tier). :func:`campaign_table` builds the analysis table from the
simulated company's campaign.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"x": rng.normal(size=2000)})
>>> t = rng.random(2000) < 0.5
>>> y = rng.random(2000) < 0.3 + 0.2 * t * (X["x"] > 0)
>>> m = TwoModelUplift(LogisticRegression()).fit(X, t, y)
>>> bool(m.predict(pd.DataFrame({"x": [2.0]}))[0] > m.predict(pd.DataFrame({"x": [-2.0]}))[0])
True
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from crmlab.churn import _check_money
from crmlab.data.columns import CUSTOMER, DATE
from crmlab.time import window_end
from crmlab.validation import (
    check_array,
    check_frame,
    check_in_range,
    check_positive_int,
    check_same_length,
    check_transactions,
    check_unique_columns,
)

__all__ = [
    "TwoModelUplift",
    "ClassTransformationUplift",
    "uplift_curve",
    "qini_curve",
    "uplift_auc",
    "qini_coefficient",
    "qini_auc_score",
    "uplift_auc_score",
    "uplift_score_interval",
    "WINBACK_HURDLES",
    "target_customers",
    "policy_profit",
    "campaign_table",
]


# ----------------------------------------------------------------------------- checks
def _binary(values, *, name: str, both: bool = True) -> np.ndarray:
    v = check_array(values, name=name)
    if not np.isin(v, (0.0, 1.0)).all():
        bad = v[~np.isin(v, (0.0, 1.0))][0]
        raise ValueError(f"{name} must be 0/1 (or True/False); found {bad:g}.")
    if both and np.unique(v).size < 2:
        raise ValueError(
            f"{name} holds a single class (all {int(v[0])}); uplift needs both values "
            f"(treated and control customers, responders and non-responders)."
        )
    return v.astype(int)


def _check_X(X) -> pd.DataFrame | np.ndarray:
    if isinstance(X, pd.DataFrame):
        check_unique_columns(X.columns, name="X")
        return X
    if isinstance(X, (pd.Series, str, bytes)) or np.ndim(X) != 2:
        raise TypeError(
            f"X must be a 2-D table of features (a DataFrame or a 2-D array), got {type(X).__name__}; "
            f"use X[[column]] for a single feature."
        )
    return np.asarray(X)


def _check_xty(X, treatment, y):
    X = _check_X(X)
    t = _binary(treatment, name="treatment")
    yy = _binary(y, name="y")
    check_same_length(X=X, treatment=t, y=yy)
    for group, label in ((1, "treatment"), (0, "control")):
        if np.unique(yy[t == group]).size < 2:
            raise ValueError(
                f"In the {label} group every y is {int(yy[t == group][0])}; a model of that group "
                f"cannot be fitted. Use a longer outcome window or more customers."
            )
    return X, t, yy


def _default_estimator():
    from crmlab.churn import make_churn_model

    return make_churn_model("logistic")


def _fit(estimator, X, y, sample_weight=None):
    if sample_weight is None:
        return estimator.fit(X, y)
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        return estimator.fit(X, y, **{f"{estimator.steps[-1][0]}__sample_weight": sample_weight})
    return estimator.fit(X, y, sample_weight=sample_weight)


def _proba(estimator, X) -> np.ndarray:
    return estimator.predict_proba(X)[:, 1]


# ----------------------------------------------------------------------------- estimators
class TwoModelUplift(BaseEstimator):
    """Uplift as the difference of two classifiers ("T-learner").

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, optional
        Cloned for each group; default :func:`crmlab.churn.make_churn_model` (logistic).

    Attributes
    ----------
    model_treatment_, model_control_ : fitted classifiers
    treated_share_ : float

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": np.linspace(-1, 1, 200)})
    >>> t = np.tile([0, 1], 100); y = (np.arange(200) % 3 == 0)
    >>> TwoModelUplift(LogisticRegression()).fit(X, t, y).predict(X).shape
    (200,)
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: pd.DataFrame | np.ndarray, treatment: ArrayLike, y: ArrayLike) -> TwoModelUplift:
        """Fit one model on the treated customers and one on the control group."""
        X, t, yy = _check_xty(X, treatment, y)
        base = self.estimator if self.estimator is not None else _default_estimator()
        sel = (lambda m: X[m]) if not isinstance(X, pd.DataFrame) else (lambda m: X.loc[m])
        self.model_treatment_ = _fit(clone(base), sel(t == 1), yy[t == 1])
        self.model_control_ = _fit(clone(base), sel(t == 0), yy[t == 0])
        self.treated_share_ = float(t.mean())
        return self

    def predict_outcomes(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """P(y = 1) with and without the offer: columns ``p_treatment, p_control``."""
        check_is_fitted(self, ["model_treatment_", "model_control_"])
        X = _check_X(X)
        return pd.DataFrame({"p_treatment": _proba(self.model_treatment_, X), "p_control": _proba(self.model_control_, X)},
                            index=X.index if isinstance(X, pd.DataFrame) else None)

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Estimated uplift P(y=1 | offer) − P(y=1 | no offer)."""
        out = self.predict_outcomes(X)
        return (out["p_treatment"] - out["p_control"]).to_numpy()

    def __repr__(self) -> str:
        state = f"fitted, treated share {self.treated_share_:.2f}" if hasattr(self, "treated_share_") else "not fitted"
        return f"TwoModelUplift(estimator={self.estimator!r}) [{state}]"


class ClassTransformationUplift(BaseEstimator):
    r"""Uplift from one classifier of the transformed class :math:`Z = YT + (1-Y)(1-T)`.

    With treatment and control weighted to equal total weight,
    :math:`P(Z=1 \mid x) = \tfrac12 + \tfrac12\,\tau(x)`, so :math:`\tau(x) = 2P(Z=1\mid x) - 1`
    (Jaskowski & Jaroszewicz 2012). Valid for a randomised campaign.

    Parameters
    ----------
    estimator : classifier with ``predict_proba`` accepting ``sample_weight``, optional
        Default :func:`crmlab.churn.make_churn_model` (logistic).

    Attributes
    ----------
    model_ : fitted classifier of Z
    treated_share_ : float

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": np.linspace(-1, 1, 200)})
    >>> t = np.tile([0, 1], 100); y = (np.arange(200) % 3 == 0)
    >>> u = ClassTransformationUplift(LogisticRegression()).fit(X, t, y).predict(X)
    >>> bool(((u >= -1) & (u <= 1)).all())
    True
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: pd.DataFrame | np.ndarray, treatment: ArrayLike, y: ArrayLike) -> ClassTransformationUplift:
        """Fit the classifier of Z with groups re-weighted to equal size."""
        X, t, yy = _check_xty(X, treatment, y)
        z = yy * t + (1 - yy) * (1 - t)
        share = t.mean()
        weight = np.where(t == 1, 0.5 / share, 0.5 / (1 - share))
        base = self.estimator if self.estimator is not None else _default_estimator()
        self.model_ = _fit(clone(base), X, z, sample_weight=weight)
        self.treated_share_ = float(share)
        return self

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Estimated uplift 2 P(Z=1 | x) − 1."""
        check_is_fitted(self, "model_")
        X = _check_X(X)
        return 2.0 * _proba(self.model_, X) - 1.0

    def __repr__(self) -> str:
        state = f"fitted, treated share {self.treated_share_:.2f}" if hasattr(self, "treated_share_") else "not fitted"
        return f"ClassTransformationUplift(estimator={self.estimator!r}) [{state}]"


# ----------------------------------------------------------------------------- evaluation
def _cumulative(y, treatment, score):
    yy = _binary(y, name="y")
    t = _binary(treatment, name="treatment")
    s = check_array(score, name="uplift")
    check_same_length(y=yy, treatment=t, uplift=s)
    order = np.argsort(-s, kind="stable")
    yy, t, s = yy[order], t[order], s[order]
    n_t = np.cumsum(t)
    n_c = np.cumsum(1 - t)
    y_t = np.cumsum(yy * t)
    y_c = np.cumsum(yy * (1 - t))
    # a cut can only fall between different scores
    keep = np.r_[s[1:] != s[:-1], True]
    return n_t[keep], n_c[keep], y_t[keep], y_c[keep], (n_t + n_c)[keep], yy.size


def uplift_curve(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> pd.DataFrame:
    r"""Cumulative uplift when targeting customers in order of predicted uplift.

    For the top :math:`k` customers, with :math:`Y^T_k, N^T_k` (:math:`Y^C_k, N^C_k`)
    the responders and customers of the treatment (control) group among them,

    .. math:: U(k) = \left(\frac{Y^T_k}{N^T_k} - \frac{Y^C_k}{N^C_k}\right) k

    is the number of extra responders the offer produces among the top :math:`k`. This is
    the definition of ``sklift.metrics.uplift_curve`` with one exception: while one group is
    still empty the difference is undefined and the curve is 0 here, whereas scikit-uplift
    takes the empty group's response rate as 0. The two agree from the first ``k`` at which
    both groups have a customer.

    Returns
    -------
    DataFrame
        ``n`` (customers targeted, from 0), ``share``, ``uplift`` and ``random`` (the
        straight line of random targeting).

    Examples
    --------
    >>> c = uplift_curve([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1])
    >>> c["uplift"].tolist()
    [0.0, 0.0, 2.0, 1.5, 0.0]
    """
    n_t, n_c, y_t, y_c, n, total = _cumulative(y, treatment, uplift)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where((n_t > 0) & (n_c > 0), (y_t / n_t - y_c / n_c) * n, 0.0)
    n = np.r_[0, n]
    u = np.r_[0.0, u]
    return pd.DataFrame({"n": n, "share": n / total, "uplift": u, "random": n / total * u[-1]})


def qini_curve(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> pd.DataFrame:
    r"""Qini curve (Radcliffe 2007): :math:`Q(k) = Y^T_k - Y^C_k\,N^T_k / N^C_k`.

    Extra responders among the top :math:`k`, counted in treated customers.

    Returns
    -------
    DataFrame
        ``n, share, qini, random``.

    Examples
    --------
    >>> qini_curve([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1])["qini"].tolist()
    [0.0, 1.0, 1.0, 0.5, 0.0]
    """
    n_t, n_c, y_t, y_c, n, total = _cumulative(y, treatment, uplift)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c > 0, y_t - y_c * n_t / n_c, y_t)
    n = np.r_[0, n]
    q = np.r_[0.0, q]
    return pd.DataFrame({"n": n, "share": n / total, "qini": q, "random": n / total * q[-1]})


def _area_above_random(curve: pd.DataFrame, column: str) -> float:
    x = curve["share"].to_numpy()
    gap = (curve[column] - curve["random"]).to_numpy()
    return float(np.trapezoid(gap, x))


def uplift_auc(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> float:
    """Area between the uplift curve and random targeting, per customer.

    Positive when the ranking puts the customers the offer helps first; about 0 for a
    random ranking. Divided by the number of customers so that samples of different
    size compare.

    Examples
    --------
    >>> round(uplift_auc([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1]), 3)
    0.219
    """
    curve = uplift_curve(y, treatment, uplift)
    return float(_area_above_random(curve, "uplift") / curve["n"].iloc[-1])


def qini_coefficient(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> float:
    """Area between the Qini curve and random targeting, per customer (Radcliffe's Qini).

    Examples
    --------
    >>> round(qini_coefficient([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1]), 3)
    0.156
    """
    curve = qini_curve(y, treatment, uplift)
    return float(_area_above_random(curve, "qini") / curve["n"].iloc[-1])


def _curve_area(y: np.ndarray, t: np.ndarray, score: np.ndarray, kind: str) -> float:
    """Area between the curve and random targeting, on the share axis (checked 0/1 arrays)."""
    order = np.argsort(-score, kind="stable")
    yy, tt, ss = y[order], t[order], score[order]
    keep = np.r_[ss[1:] != ss[:-1], True]
    n_t = np.cumsum(tt)[keep].astype(float)
    n = (np.flatnonzero(keep) + 1).astype(float)
    n_c = n - n_t
    y_t = np.cumsum(yy * tt)[keep].astype(float)
    y_c = np.cumsum(yy * (1 - tt))[keep].astype(float)
    if kind == "qini":
        values = np.where(n_c > 0, y_t - y_c * np.divide(n_t, n_c, out=np.zeros(n_c.size), where=n_c > 0), y_t)
    else:
        # a group nobody among the top k is in counts with response rate 0 (as scikit-uplift)
        rate_t = np.divide(y_t, n_t, out=np.zeros(n_t.size), where=n_t > 0)
        rate_c = np.divide(y_c, n_c, out=np.zeros(n_c.size), where=n_c > 0)
        values = (rate_t - rate_c) * n
    share = np.r_[0.0, n / y.size]
    values = np.r_[0.0, values]
    return float(np.trapezoid(values - share * values[-1], share))


def _normalised_score(y: np.ndarray, t: np.ndarray, score: np.ndarray, kind: str) -> float:
    if kind == "qini":
        # the perfect ranking with negative effects: treated responders first, control responders last
        perfect = y * t - y * (1 - t)
    else:
        control_responders = np.sum((y == 1) & (t == 0))
        treated_non_responders = np.sum((y == 0) & (t == 1))
        perfect = 2 * (y == t) + (y if control_responders > treated_non_responders else t)
    best = _curve_area(y, t, perfect.astype(float), kind)
    if not np.isfinite(best) or best <= 0:
        raise ValueError(
            "The perfect ranking gains nothing over random targeting on this sample (treated and "
            "control respond alike), so a normalised score cannot be computed; use qini_coefficient."
        )
    return _curve_area(y, t, score, kind) / best


def qini_auc_score(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> float:
    r"""Normalised Qini: area above random of the Qini curve over that of the perfect ranking.

    The perfect ranking puts treated responders first and control responders last (it
    contains the negative effects, Radcliffe 2007); 1 is that ranking, 0 is random targeting,
    negative is worse than random. Unlike :func:`qini_coefficient` it does not depend on the
    response rate, so samples and campaigns compare. The definition of
    ``sklift.metrics.qini_auc_score`` (``negative_effect=True``), tested against it.

    Examples
    --------
    >>> round(qini_auc_score([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1]), 3)
    0.833
    """
    yy = _binary(y, name="y")
    t = _binary(treatment, name="treatment")
    sc = check_array(uplift, name="uplift")
    check_same_length(y=yy, treatment=t, uplift=sc)
    return _normalised_score(yy, t, sc, "qini")


def uplift_auc_score(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> float:
    """Normalised area under the uplift curve (AUUC): 1 for the perfect ranking, 0 for random.

    The perfect ranking is that of ``sklift.metrics.perfect_uplift_curve`` (treated
    responders and control non-responders first), and, as there, a group nobody among the
    top :math:`k` belongs to counts with response rate 0; tested against
    ``sklift.metrics.uplift_auc_score``.

    Examples
    --------
    >>> round(uplift_auc_score([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1]), 3)
    1.0
    """
    yy = _binary(y, name="y")
    t = _binary(treatment, name="treatment")
    sc = check_array(uplift, name="uplift")
    check_same_length(y=yy, treatment=t, uplift=sc)
    return _normalised_score(yy, t, sc, "auuc")


_SCORES = ("qini", "auuc")


def uplift_score_interval(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, *, metric: str = "qini",
                          n_boot: int = 500, confidence: float = 0.95,
                          random_state: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """Normalised Qini or AUUC with a bootstrap percentile interval.

    Customers are resampled with replacement within the treatment and the control group
    (so each replicate keeps the campaign's group sizes) and the score is recomputed on
    every replicate. An interval that contains 0 means the ranking is not shown to beat
    random targeting on this sample.

    Parameters
    ----------
    y, treatment, uplift : array-like
        Outcome (0/1), treatment flag (0/1) and predicted uplift per customer.
    metric : {"qini", "auuc"}
        :func:`qini_auc_score` or :func:`uplift_auc_score`.
    n_boot : int, default 500
        Bootstrap replicates (at most 100,000).
    confidence : float, default 0.95
        Confidence level of the interval.
    random_state : int, Generator or None
        Seed of the resampling.

    Returns
    -------
    DataFrame
        One row: ``metric, estimate, lower, upper, n_boot``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.integers(0, 2, 400); s = rng.random(400)
    >>> y = (rng.random(400) < 0.2 + 0.4 * t * s).astype(int)
    >>> res = uplift_score_interval(y, t, s, n_boot=100)
    >>> bool(res["lower"].iloc[0] < res["estimate"].iloc[0] < res["upper"].iloc[0])
    True
    """
    from crmlab.validation import check_choice, check_fraction

    check_choice(metric, list(_SCORES), name="metric")
    n_boot = check_positive_int(n_boot, name="n_boot", minimum=10)
    if n_boot > 100_000:
        raise ValueError(f"n_boot={n_boot:,} is more than 100,000 replicates; a few hundred give a stable interval.")
    confidence = check_fraction(confidence, name="confidence")
    yy = _binary(y, name="y")
    t = _binary(treatment, name="treatment")
    s = check_array(uplift, name="uplift")
    check_same_length(y=yy, treatment=t, uplift=s)
    estimate = _normalised_score(yy, t, s, metric)
    rng = np.random.default_rng(random_state)
    groups = [np.flatnonzero(t == 1), np.flatnonzero(t == 0)]
    reps = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        try:
            reps[b] = _normalised_score(yy[idx], t[idx], s[idx], metric)
        except ValueError:  # a replicate where the perfect ranking gains nothing
            reps[b] = np.nan
    ok = reps[np.isfinite(reps)]
    if ok.size < 0.9 * n_boot:
        raise ValueError(f"{n_boot - ok.size} of {n_boot} bootstrap replicates had no computable score: the "
                         "sample is too small or too balanced for an interval.")
    lo, hi = np.quantile(ok, [(1 - confidence) / 2, (1 + confidence) / 2])
    return pd.DataFrame({"metric": [metric], "estimate": [estimate], "lower": [float(lo)], "upper": [float(hi)],
                         "n_boot": [int(ok.size)]})


# ----------------------------------------------------------------------------- targeting
#: The course's win-back policy (挽回流失客户) as a hurdle on return per unit of cost:
#: contact when expected gain >= hurdle x cost. 关键客户 "try hard" (accept a loss on the
#: offer: the relationship is worth more than the model's horizon), 普通客户 "try" (break
#: even), 小客户 "case by case" (only clearly profitable), 劣质客户 "let go" (never).
WINBACK_HURDLES = {"key": 0.5, "ordinary": 1.0, "small": 2.0, "unprofitable": np.inf}


def target_customers(data: pd.DataFrame, *, value: str, uplift: str, cost: float | str, p_churn: str | None = None,
                     tier: str | None = None, hurdles: dict[str, float] | None = None) -> pd.DataFrame:
    r"""Whom to contact: expected profit of the offer, with the win-back policy by tier.

    .. math::
        \text{expected gain} = V \cdot \Delta p, \qquad
        \text{expected profit} = V \cdot \Delta p - c

    where :math:`V` is the value at risk (CLV) and :math:`\Delta p` the reduction in the
    churn probability the offer causes. With ``p_churn`` given,
    :math:`\Delta p = P(\text{churn}) \times \text{uplift}`, the course formula, where
    ``uplift`` is the share of would-be churners the offer saves; without it ``uplift``
    is :math:`\Delta p` itself (the output of an uplift model).

    A customer is contacted when the expected gain reaches ``hurdle × cost`` for their
    tier (:data:`WINBACK_HURDLES`); without ``tier`` the hurdle is 1 (profit > 0).

    Parameters
    ----------
    data : DataFrame
        One row per customer.
    value, uplift : str
        Column names.
    cost : float or str
        Cost per contact (offer + contact), a number or a column name.
    p_churn, tier : str, optional
        Column names.
    hurdles : dict, optional
        Tier -> hurdle; default :data:`WINBACK_HURDLES`. Every tier in the data needs one.

    Returns
    -------
    DataFrame
        A copy of ``data`` with ``delta_p, expected_gain, expected_profit, contact``.

    Examples
    --------
    >>> df = pd.DataFrame({"clv": [500.0, 500.0, 80.0], "u": [0.1, 0.1, 0.5],
    ...                    "tier": ["key", "unprofitable", "small"]})
    >>> target_customers(df, value="clv", uplift="u", cost=30.0, tier="tier")["contact"].tolist()
    [True, False, False]
    """
    cols = [value, uplift] + [c for c in (p_churn, tier) if c is not None]
    cost_col = cost if isinstance(cost, str) else None
    if cost_col is not None:
        cols.append(cost_col)
    numeric = [c for c in cols if c != tier]
    df = check_frame(data, required=cols, numeric=numeric, not_missing=cols, name="data")
    if (df[value] < 0).any():
        raise ValueError(f"data column {value!r} (value at risk) must be >= 0; found {df[value].min():g}.")
    if p_churn is not None:
        check_in_range(df[p_churn].to_numpy(float), low=0, high=1, name=f"data column {p_churn!r}")
    # an uplift (or share of churners saved) is a difference of probabilities
    check_in_range(df[uplift].to_numpy(float), low=-1, high=1, name=f"data column {uplift!r} (uplift)")
    if cost_col is None:
        c = np.full(len(df), _check_money(cost, name="cost"))
    else:
        c = df[cost_col].to_numpy(float)
        if (c < 0).any():
            raise ValueError(f"data column {cost_col!r} (cost) must be >= 0; found {c.min():g}.")
    delta = df[uplift].to_numpy(float) * (df[p_churn].to_numpy(float) if p_churn is not None else 1.0)
    gain = df[value].to_numpy(float) * delta
    if tier is None:
        hurdle = np.ones(len(df))
    else:
        if hurdles is not None and not isinstance(hurdles, dict):
            raise TypeError(f"hurdles must be a dict of tier -> hurdle, got {type(hurdles).__name__}.")
        h = dict(WINBACK_HURDLES if hurdles is None else hurdles)
        for key, hv in h.items():
            if isinstance(hv, (bool, np.bool_)) or not isinstance(hv, Real) or np.isnan(hv) or hv < 0:
                raise ValueError(f"hurdles[{key!r}] must be a number >= 0 (np.inf: never contact), got {hv!r}.")
        unknown = sorted(set(df[tier].astype(str)) - set(h))
        if unknown:
            raise ValueError(
                f"tier value(s) {unknown} have no hurdle; known tiers: {list(h)}. "
                f"Pass hurdles={{...}} with a hurdle for each tier."
            )
        hurdle = df[tier].astype(str).map(h).to_numpy(float)
    out = df.copy()
    out["delta_p"] = delta
    out["expected_gain"] = gain
    out["expected_profit"] = gain - c
    with np.errstate(invalid="ignore"):
        out["contact"] = np.isfinite(hurdle) & (gain >= hurdle * c) & (gain > 0)
    return out


def policy_profit(contact: ArrayLike, *, true_uplift: ArrayLike, value: float | ArrayLike,
                  cost: float | ArrayLike) -> float:
    """Profit a contact policy really earns: sum over contacted of value × true uplift − cost.

    Only possible on simulated data, where the true uplift is known.

    Examples
    --------
    >>> policy_profit([True, False, True], true_uplift=[0.1, 0.5, 0.0], value=[300, 300, 300], cost=10)
    10.0
    """
    k = _binary(contact, name="contact", both=False)
    u = check_array(true_uplift, name="true_uplift")
    check_in_range(u, low=-1, high=1, name="true_uplift")
    v = np.full(k.size, _check_money(value, name="value")) if np.ndim(value) == 0 else check_array(value, name="value")
    c = np.full(k.size, _check_money(cost, name="cost")) if np.ndim(cost) == 0 else check_array(cost, name="cost")
    for arr, label in ((v, "value"), (c, "cost")):
        if (arr < 0).any():
            raise ValueError(f"{label} must be >= 0; found {arr.min():g}.")
    check_same_length(contact=k, true_uplift=u, value=v, cost=c)
    return float(np.sum(k * (v * u - c)))


def campaign_table(data: Any, *, horizon_days: int = 90, active_days: int | None = 365) -> pd.DataFrame:
    """The randomised retention campaign as an analysis table.

    Features are :func:`crmlab.churn.churn_features` with the cutoff on the day before the
    campaign (purchase features in the vocabulary of
    :func:`crmlab.features.customer_features`); the outcome an analyst sees is
    ``retained``: at least one purchase in the last ``horizon_days`` days of the
    observation window (its end day included), i.e. still active at the end. Customers
    must have bought before the campaign (within ``active_days`` days of it, if given: a
    population filter).

    Parameters
    ----------
    data : CRMData
        With ``campaigns`` (one campaign date) and ``transactions``.
    horizon_days : int, default 90
        Length of the outcome window at the end of the observation; it must start after
        the campaign.
    active_days : int or None, default 365
        Keep the campaign customers who bought in the ``active_days`` days up to the day
        before the campaign.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: the features, ``treated`` (0/1), ``offer_cost``,
        ``retained`` (0/1).

    Examples
    --------
    >>> import crmlab as crm
    >>> tab = campaign_table(crm.synth.generate(n_customers=400, seed=2))
    >>> {"treated", "retained", "n_orders", "recency_days"} <= set(tab.columns)
    True
    """
    from crmlab.churn import _table, churn_features

    horizon_days = check_positive_int(horizon_days, name="horizon_days")
    camp = check_frame(_table(data, "campaigns"),
                       required=[CUSTOMER, "campaign_date", "treated", "offer_cost"], dates=["campaign_date"],
                       numeric=["offer_cost"], not_missing=[CUSTOMER, "campaign_date", "treated", "offer_cost"],
                       nonnegative=["offer_cost"], unique=CUSTOMER, name="campaigns")
    dates = camp["campaign_date"].dt.normalize().unique()
    if len(dates) != 1:
        raise ValueError(f"campaigns holds {len(dates)} campaign dates; analyse one campaign at a time.")
    campaign_day = pd.Timestamp(dates[0])
    obs_end = getattr(data, "observation_end", None)
    if obs_end is None:
        raise TypeError("data must be a CRMData with an observation_end (the outcome is read at its end).")
    end = window_end(obs_end)
    start = end - pd.Timedelta(days=horizon_days)
    if start <= campaign_day:
        raise ValueError(
            f"horizon_days={horizon_days} reaches back to {start.date()}, not after the campaign of "
            f"{campaign_day.date()}; use a shorter horizon_days."
        )
    X = churn_features(data, cutoff=campaign_day - pd.Timedelta(days=1), active_days=active_days)
    X = X.drop(columns="offer_received")
    c = camp.set_index(CUSTOMER)
    X = X.loc[X.index.intersection(c.index)]
    if X.empty:
        raise ValueError("No campaign customer bought before the campaign (within active_days); "
                         "pass a larger active_days or active_days=None.")
    tx = check_transactions(_table(data, "transactions"), customer_col=CUSTOMER, date_col=DATE, amount_col=None)
    active = tx.loc[(tx[DATE] >= start) & (tx[DATE] < end), CUSTOMER].unique()
    out = X.copy()
    out["treated"] = c.loc[X.index, "treated"].astype(int).to_numpy()
    out["offer_cost"] = c.loc[X.index, "offer_cost"].astype(float).to_numpy()
    out["retained"] = X.index.isin(active).astype(int)
    return out
