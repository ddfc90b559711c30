"""Churn early warning (客户流失预警) and churn reasons (流失原因).

The workflow an analyst takes to production:

1. :func:`churn_labels`: who churned after a cutoff date. In a non-contractual business
   nobody cancels, so churn is *observed* as "no purchase within ``horizon_days`` after the
   cutoff"; the simulated company's truth also says who *really* dropped out.
2. :func:`churn_features`: point-in-time features, computed only from what was known at
   the cutoff (no leakage from the future). The per-customer purchase features come from
   :func:`crmlab.features.customer_features` (one vocabulary for the whole library); this
   module adds only what other tables say (visits, service contacts, surveys, profile,
   campaign).
3. :func:`early_warning`: the course's rule-based indicators as a transparent scorecard.
4. :func:`make_churn_model`: scikit-learn pipelines (logistic regression, gradient
   boosting) with class weights and probability calibration.
5. Evaluation that answers "whom do we call?": :func:`lift_table`, :func:`profit_curve`,
   :func:`cost_threshold`.
6. Reasons: :func:`churn_drivers` (permutation importance) and
   :func:`complaint_profile` (complaint categories of churners vs stayers).

Dates follow :mod:`crmlab.time`: the ``cutoff`` day belongs to the known history (an order
at 15:30 on it is known); the outcome window is the ``horizon_days`` days after it.

Examples
--------
>>> import crmlab as crm
>>> data = crm.synth.generate(n_customers=300, seed=1)
>>> X = churn_features(data, cutoff="2024-06-30")
>>> y = churn_labels(data, cutoff="2024-06-30", horizon_days=90)
>>> bool((X.index == y.index).all())
True
"""

from __future__ import annotations

import re
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from crmlab.data.columns import CHANNEL, CUSTOMER, DATE, DISCOUNT, SESSION, SIGNUP, TIMESTAMP
from crmlab.features import customer_features
from crmlab.time import DateLike, window_end
from crmlab.validation import (
    check_array,
    check_choice,
    check_frame,
    check_in_range,
    check_positive_int,
    check_same_length,
    check_timestamp,
    check_transactions,
)

__all__ = [
    "churn_labels",
    "churn_features",
    "early_warning",
    "WARNING_RULES",
    "make_churn_model",
    "lift_table",
    "brier_score",
    "calibration_table",
    "profit_curve",
    "cost_threshold",
    "churn_drivers",
    "complaint_profile",
]

_DAY = pd.Timedelta(days=1)
# columns of the other tables of a CRMData (schema names; transaction columns come from
# crmlab.data.columns)
_TYPE, _RESOLVED, _RESOLUTION_DAYS, _CATEGORY = "type", "resolved", "resolution_days", "category"
_CSAT, _NPS = "csat", "nps"
_CAMPAIGN_DATE, _TREATED = "campaign_date", "treated"
_MEMBER_SINCE = "member_since"
_PROFILE = ("acquisition_channel", "age", "city_tier", "income_band")


# ----------------------------------------------------------------------------- helpers
def _table(data: Any, name: str) -> pd.DataFrame:
    table = getattr(data, name, None)
    if table is None:
        raise TypeError(
            f"data must be a CRMData (e.g. crm.load_retail()) with a {name!r} table; "
            f"got {type(data).__name__} without it."
        )
    return table


def _cut(cutoff) -> pd.Timestamp:
    """First moment *after* the cutoff day (exclusive upper bound of what is known)."""
    return window_end(cutoff, name="cutoff")


def _check_binary(y_true, *, name: str = "y_true") -> np.ndarray:
    y = check_array(y_true, name=name)
    if not np.isin(y, (0.0, 1.0)).all():
        bad = y[~np.isin(y, (0.0, 1.0))][0]
        raise ValueError(f"{name} must be 0/1 (or True/False) churn labels; found {bad:g}.")
    if np.unique(y).size < 2:
        raise ValueError(
            f"{name} holds a single class (all {int(y[0])}); lift and profit need both churners "
            f"and stayers. Use a longer window or a larger sample."
        )
    return y.astype(int)


def _check_scores(y_score, *, name: str = "y_score") -> np.ndarray:
    s = check_array(y_score, name=name)
    check_in_range(s, low=0.0, high=1.0, name=name)
    return s


def _check_labels_scores(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y = check_array(y_true, name="y_true")
    s = check_array(y_score, name="y_score")
    check_same_length(y_true=y, y_score=s)
    return _check_binary(y), _check_scores(s)


def _check_money(value: Any, *, name: str) -> float:
    """A single finite, non-negative amount of money (CNY)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number (CNY), got {value!r}.")
    amount = float(value)
    if not np.isfinite(amount) or amount < 0:
        raise ValueError(f"{name} must be a finite, non-negative amount, got {value!r}.")
    return amount


# ----------------------------------------------------------------------------- labels & features
def _check_active_days(active_days) -> int | None:
    return None if active_days is None else check_positive_int(active_days, name="active_days")


def _transactions(data: Any) -> pd.DataFrame:
    return check_transactions(_table(data, "transactions"), customer_col=CUSTOMER, date_col=DATE,
                              extra=[DISCOUNT, CHANNEL])


def _population(features: pd.DataFrame, active_days: int | None, cutoff: pd.Timestamp) -> pd.Index:
    """Customers who bought by the cutoff (within the last ``active_days`` days if given)."""
    idx = features.index if active_days is None else features.index[features["recency_days"] < active_days]
    if idx.empty:
        within = "" if active_days is None else f" in the {active_days} days up to"
        raise ValueError(f"No customer bought anything{within} the cutoff {cutoff.date()}; choose a later cutoff"
                         f"{'' if active_days is None else ' or a larger active_days'}.")
    return idx


def _features_at(tx: pd.DataFrame, end: pd.Timestamp, **kwargs) -> pd.DataFrame | None:
    """customer_features at ``end`` (point-in-time), or None when nobody had bought by then."""
    if not (tx[DATE] < window_end(end)).any():
        return None
    return customer_features(tx, observation_end=end, exclude_after=True, customer_col=CUSTOMER, date_col=DATE,
                             **kwargs)


def churn_labels(data: Any, *, cutoff: DateLike, horizon_days: int = 90,
                 active_days: int | None = None) -> pd.DataFrame:
    """Observed churn after ``cutoff`` and, when the data has a truth table, real dropout.

    The population is every customer who bought at least once up to the end of the cutoff
    day (with ``active_days``: within the last ``active_days`` days up to it, i.e.
    ``recency_days < active_days`` at the cutoff).

    - ``churned`` (observed, what an analyst can know): no purchase in the
      ``horizon_days`` days after the cutoff day (``n_orders_last_{horizon_days}d == 0`` of
      :func:`crmlab.features.customer_features` at ``cutoff + horizon_days``).
    - ``dropped_out`` (simulated data only): the customer had really left by the end of
      the window (``truth.dropout_date`` within it or before). Quiet but alive customers
      are "churned" without having left; customers who buy once more and then leave
      are "dropped out" without being "churned".

    Parameters
    ----------
    data : CRMData
    cutoff : date-like
        Last day of the known history (its whole day counts).
    horizon_days : int, default 90
        Length of the outcome window after the cutoff day. It must end by
        ``data.observation_end``.
    active_days : int, optional
        A population filter: keep only customers who bought within the ``active_days``
        days up to the cutoff; customers silent for longer are already lost, not "about
        to churn".

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: bool ``churned`` [, bool ``dropped_out``].

    Examples
    --------
    >>> import crmlab as crm
    >>> data = crm.synth.generate(n_customers=200, seed=3)
    >>> y = churn_labels(data, cutoff="2024-06-30")
    >>> list(y.columns)
    ['churned', 'dropped_out']
    """
    horizon_days = check_positive_int(horizon_days, name="horizon_days")
    active_days = _check_active_days(active_days)
    cut_day = check_timestamp(cutoff, name="cutoff").normalize()
    label_end = cut_day + pd.Timedelta(days=horizon_days)
    obs_end = getattr(data, "observation_end", None)
    tx = _transactions(data)
    if obs_end is not None and label_end > check_timestamp(obs_end).normalize():
        raise ValueError(
            f"The label window ({(cut_day + _DAY).date()} to {label_end.date()}) runs past the observation end "
            f"{pd.Timestamp(obs_end).date()}: nobody could be seen buying after it. Choose an earlier "
            f"cutoff or a shorter horizon_days."
        )
    known = _features_at(tx, cut_day, amount_col=None)
    if known is None:
        raise ValueError(f"No customer bought anything by the cutoff {cut_day.date()}; choose a later cutoff.")
    base = _population(known, active_days, cut_day)
    later = customer_features(tx, observation_end=label_end, exclude_after=True, customer_col=CUSTOMER,
                              date_col=DATE, amount_col=None, lookback_days=horizon_days)
    bought = later[f"n_orders_last_{horizon_days}d"].reindex(base, fill_value=0) > 0
    out = pd.DataFrame({"churned": ~bought.to_numpy()}, index=pd.Index(base, name=CUSTOMER))
    truth = getattr(data, "truth", None)
    if truth is not None and "dropout_date" in truth.columns:
        dd = truth.set_index(CUSTOMER)["dropout_date"].reindex(base)
        out["dropped_out"] = (dd.notna() & (dd < window_end(label_end))).to_numpy()
    return out


def _count_between(frame: pd.DataFrame, date_col: str, lo, hi, index: pd.Index, *, nunique=None) -> pd.Series:
    part = frame[(frame[date_col] >= lo) & (frame[date_col] < hi)]
    g = part.groupby(CUSTOMER)
    s = g[nunique].nunique() if nunique is not None else g.size()
    return s.reindex(index, fill_value=0).astype(float)


def churn_features(data: Any, *, cutoff: DateLike, lookback_days: int = 90,
                   active_days: int | None = None) -> pd.DataFrame:
    """Point-in-time churn features: only what was known at the end of the cutoff day.

    One row per customer who bought at least once by the cutoff (within ``active_days``
    if given: the population of :func:`churn_labels` with the same arguments). "Last" is
    the ``lookback_days`` days up to the cutoff, "prev" the ``lookback_days`` before that;
    a trend is last minus prev. ``L`` below is ``lookback_days``.

    Parameters
    ----------
    data : CRMData
    cutoff : date-like
        Last day of the known history (its whole day counts).
    lookback_days : int, default 90
        Length of the recent feature window before the cutoff.
    active_days : int, optional
        See :func:`churn_labels`.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``, with these columns:

        - purchases, in the vocabulary of :func:`crmlab.features.customer_features` at the
          cutoff: ``recency_days``, ``tenure_days`` (since the first purchase), ``n_orders``,
          ``n_purchase_days``, ``total_spend``, ``mean_order_value``, ``orders_per_month``,
          ``n_orders_last_{L}d``, ``spend_last_{L}d``, ``discount_share``, ``n_channels``,
          ``main_channel``, ``share_<channel>``; and from the same builder at ``cutoff - L``:
          ``n_orders_prev_{L}d``, ``spend_prev_{L}d``, with ``n_orders_trend``, ``spend_trend``;
        - engagement: ``visits_last_{L}d``, ``visits_prev_{L}d``, ``visits_trend`` (journey
          sessions);
        - service: ``inquiries``, ``complaints``, ``complaints_last_{L}d``, ``open_complaints``
          (filed but not resolved by the cutoff: a complaint resolved later was still open);
        - attitude: ``csat_last``, ``nps_last`` (latest survey before the cutoff; missing if none);
        - profile: ``days_since_signup``, ``acquisition_channel``, ``age``, ``city_tier``,
          ``income_band``, ``is_member`` (joined by the cutoff), ``member_days``,
          ``offer_received`` (retention offer sent by the cutoff).

        ``member_tier`` is not used: the customers table records it at the observation end,
        which would leak the future.

    Examples
    --------
    >>> import crmlab as crm
    >>> X = churn_features(crm.synth.generate(n_customers=200, seed=3), cutoff="2024-06-30")
    >>> bool((X["recency_days"] >= 0).all()), "n_orders_last_90d" in X
    (True, True)
    """
    lookback_days = check_positive_int(lookback_days, name="lookback_days")
    active_days = _check_active_days(active_days)
    cut_day = check_timestamp(cutoff, name="cutoff").normalize()
    cut = window_end(cut_day)
    L = lookback_days
    period = pd.Timedelta(days=L)
    tx = _transactions(data)
    cust = check_frame(_table(data, "customers"), required=[CUSTOMER, SIGNUP, *_PROFILE, _MEMBER_SINCE],
                       dates=[SIGNUP, _MEMBER_SINCE], unique=CUSTOMER, name="customers")
    inter = check_frame(_table(data, "interactions"), required=[CUSTOMER, DATE, _TYPE, _RESOLVED, _RESOLUTION_DAYS],
                        dates=[DATE], numeric=[_RESOLUTION_DAYS], allow_empty=True, name="interactions")
    surveys = check_frame(_table(data, "surveys"), required=[CUSTOMER, DATE, _CSAT, _NPS], dates=[DATE],
                          numeric=[_CSAT, _NPS], allow_empty=True, name="surveys")
    touch = check_frame(_table(data, "touchpoints"), required=[CUSTOMER, TIMESTAMP, SESSION],
                        dates=[TIMESTAMP], allow_empty=True, name="touchpoints")
    camp = check_frame(_table(data, "campaigns"), required=[CUSTOMER, _CAMPAIGN_DATE, _TREATED],
                       dates=[_CAMPAIGN_DATE], allow_empty=True, name="campaigns")

    now = _features_at(tx, cut_day, lookback_days=L, discount_col=DISCOUNT, channel_col=CHANNEL)
    if now is None:
        raise ValueError(f"No customer bought anything by the cutoff {cut_day.date()}; choose a later cutoff.")
    idx = _population(now, active_days, cut_day)
    X = now.loc[idx].drop(columns=["first_purchase", "last_purchase"])
    before = _features_at(tx, cut_day - period, lookback_days=L)
    for what, dtype in (("n_orders", "int64"), ("spend", "float64")):
        prev = before[f"{what}_last_{L}d"].reindex(idx, fill_value=0) if before is not None else 0
        X[f"{what}_prev_{L}d"] = pd.Series(prev, index=idx).astype(dtype)
        X[f"{what}_trend"] = X[f"{what}_last_{L}d"] - X[f"{what}_prev_{L}d"]

    tp = touch[touch[TIMESTAMP] < cut]
    X[f"visits_last_{L}d"] = _count_between(tp, TIMESTAMP, cut - period, cut, idx, nunique=SESSION)
    X[f"visits_prev_{L}d"] = _count_between(tp, TIMESTAMP, cut - 2 * period, cut - period, idx, nunique=SESSION)
    X["visits_trend"] = X[f"visits_last_{L}d"] - X[f"visits_prev_{L}d"]

    known = inter[inter[DATE] < cut]
    complaints = known[known[_TYPE] == "complaint"]
    X["inquiries"] = known[known[_TYPE] != "complaint"].groupby(CUSTOMER).size().reindex(idx, fill_value=0).astype(float)
    X["complaints"] = complaints.groupby(CUSTOMER).size().reindex(idx, fill_value=0).astype(float)
    X[f"complaints_last_{L}d"] = _count_between(complaints, DATE, cut - period, cut, idx)
    X["open_complaints"] = complaints[_still_open(complaints, cut)].groupby(CUSTOMER).size().reindex(
        idx, fill_value=0).astype(float)

    last_survey = surveys[surveys[DATE] < cut].sort_values([CUSTOMER, DATE]).drop_duplicates(CUSTOMER, keep="last")
    last_survey = last_survey.set_index(CUSTOMER).reindex(idx)
    X["csat_last"] = last_survey[_CSAT].astype(float)
    X["nps_last"] = last_survey[_NPS].astype(float)

    profile = cust.set_index(CUSTOMER).reindex(idx)
    missing = idx[profile[SIGNUP].isna()]
    if len(missing):
        raise ValueError(
            f"{len(missing)} buyer(s) are missing from the customers table or have no {SIGNUP!r} "
            f"(e.g. customer {missing[0]!r}); every buyer needs a customer record."
        )
    X["days_since_signup"] = ((cut_day - profile[SIGNUP].dt.normalize()).dt.days).astype(float)
    X["acquisition_channel"] = profile["acquisition_channel"].astype("str")
    X["age"] = profile["age"].astype(float)
    X["city_tier"] = profile["city_tier"].astype(float)
    X["income_band"] = profile["income_band"].astype("str")
    joined = profile[_MEMBER_SINCE] < cut
    X["is_member"] = joined.astype(float)
    X["member_days"] = ((cut - profile[_MEMBER_SINCE]) / _DAY).where(joined, 0.0).astype(float)
    sent = camp[(camp[_CAMPAIGN_DATE] < cut) & camp[_TREATED].astype(bool)][CUSTOMER].unique()
    X["offer_received"] = idx.isin(sent).astype(float)
    X.index.name = CUSTOMER
    return X


def _still_open(complaints: pd.DataFrame, cut: pd.Timestamp) -> pd.Series:
    """Complaints not resolved before ``cut`` (a complaint resolved later was still open)."""
    closed_at = complaints[DATE] + pd.to_timedelta(complaints[_RESOLUTION_DAYS], unit="D")
    return ~(complaints[_RESOLVED].astype(bool) & (closed_at < cut))


# ----------------------------------------------------------------------------- early warning
#: The course's warning indicators (流失预警指标): name -> description.
WARNING_RULES = {
    "falling_frequency": "fewer orders in the last lookback window than in the one before",
    "falling_spend": "lower spend in the last lookback window than in the one before",
    "fewer_interactions": "fewer visits (sessions) in the last lookback window than in the one before",
    "unresolved_complaint": "at least one complaint still open at the cutoff",
}

_PREV = re.compile(r"^n_orders_prev_(\d+)d$")


def _lookback_of(features: pd.DataFrame, lookback_days: int | None) -> int:
    if lookback_days is not None:
        return check_positive_int(lookback_days, name="lookback_days")
    found = sorted(int(m.group(1)) for c in map(str, features.columns) if (m := _PREV.match(c)))
    if len(found) != 1:
        raise ValueError(
            f"features has {'no' if not found else len(found)} 'n_orders_prev_<L>d' column(s) {found or ''}; "
            f"pass the output of churn_features, or lookback_days=L to say which window to compare."
        )
    return found[0]


def early_warning(features: pd.DataFrame, *, weights: dict[str, float] | None = None,
                  lookback_days: int | None = None) -> pd.DataFrame:
    """Rule-based early-warning scorecard (客户流失预警指标).

    Each rule of :data:`WARNING_RULES` raises a flag; the warning score is the weighted
    number of flags, rescaled to [0, 1] (so it can be fed to :func:`lift_table`), and the
    level is ``"high"`` (at least half of the total weight), ``"medium"`` (any flag) or
    ``"low"``.

    Parameters
    ----------
    features : DataFrame
        Output of :func:`churn_features` (needs the ``*_last_{L}d``/``*_prev_{L}d`` columns
        of orders, spend and visits and ``open_complaints``).
    weights : dict, optional
        Rule name -> weight (default 1 each).
    lookback_days : int, optional
        The window ``L`` of the columns to compare; found from the column names when
        ``features`` holds one window.

    Returns
    -------
    DataFrame
        Same index; one bool column per rule, ``n_flags``, ``warning_score``, ``warning_level``.

    Examples
    --------
    >>> f = pd.DataFrame({"n_orders_last_90d": [0, 3], "n_orders_prev_90d": [2, 1],
    ...                   "spend_last_90d": [0.0, 90.0], "spend_prev_90d": [50.0, 40.0],
    ...                   "visits_last_90d": [1, 4], "visits_prev_90d": [3, 2], "open_complaints": [1, 0]})
    >>> early_warning(f)["warning_level"].tolist()
    ['high', 'low']
    """
    if not isinstance(features, pd.DataFrame):
        raise TypeError(f"features must be a DataFrame from churn_features, got {type(features).__name__}.")
    L = _lookback_of(features, lookback_days)
    pairs = {rule: (f"{what}_last_{L}d", f"{what}_prev_{L}d")
             for rule, what in (("falling_frequency", "n_orders"), ("falling_spend", "spend"),
                                ("fewer_interactions", "visits"))}
    needed = [c for pair in pairs.values() for c in pair] + ["open_complaints"]
    f = check_frame(features, required=needed, numeric=needed, not_missing=needed, name="features")
    w = {rule: 1.0 for rule in WARNING_RULES}
    if weights is not None:
        if not isinstance(weights, dict):
            raise TypeError(f"weights must be a dict of rule -> weight, got {type(weights).__name__}.")
        for rule, value in weights.items():
            check_choice(rule, list(WARNING_RULES), name="weights key")
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value) \
                    or value < 0:
                raise ValueError(f"weights[{rule!r}] must be a finite number >= 0, got {value!r}.")
            w[rule] = float(value)
    total = sum(w.values())
    if total <= 0:
        raise ValueError("weights are all zero; give at least one rule a positive weight.")
    out = pd.DataFrame(index=f.index)
    for rule, (last, prev) in pairs.items():
        out[rule] = f[last] < f[prev]
    out["unresolved_complaint"] = f["open_complaints"] > 0
    out["n_flags"] = out[list(WARNING_RULES)].sum(axis=1).astype(int)
    score = sum(out[rule].astype(float) * w[rule] for rule in WARNING_RULES) / total
    out["warning_score"] = score
    out["warning_level"] = np.select([score >= 0.5, score > 0], ["high", "medium"], "low")
    out["warning_level"] = out["warning_level"].astype("str")
    return out


# ----------------------------------------------------------------------------- models
def make_churn_model(kind: str = "logistic", *, class_weight: str | None = None, calibrate: str | None = None,
                     random_state: int | np.random.RandomState | None = 0) -> Any:
    """A scikit-learn pipeline for churn: preprocessing + classifier (+ calibration).

    Numeric columns are median-imputed (with a missing-value indicator, e.g. "never
    answered a survey") and, for the logistic model, standardised; text columns are
    one-hot encoded (unseen categories ignored).

    Parameters
    ----------
    kind : {"logistic", "boosting"}
        ``LogisticRegression`` or ``HistGradientBoostingClassifier``.
    class_weight : None or "balanced"
        ``"balanced"`` up-weights the rare churners. It improves the ranking of some
        models but inflates the probabilities: calibrate before using them as money.
    calibrate : None, "sigmoid" or "isotonic"
        Wrap the pipeline in ``CalibratedClassifierCV(method=..., cv=3)``.
    random_state : int, RandomState or None, default 0
        Seed of the boosting model (the logistic model is deterministic).

    Returns
    -------
    sklearn estimator (unfitted)

    Examples
    --------
    >>> model = make_churn_model("boosting", calibrate="isotonic")
    >>> type(model).__name__
    'CalibratedClassifierCV'
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    check_choice(kind, ["logistic", "boosting"], name="kind")
    check_choice(class_weight, [None, "balanced"], name="class_weight")
    check_choice(calibrate, [None, "sigmoid", "isotonic"], name="calibrate")
    numeric_steps = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
    if kind == "logistic":
        numeric_steps.append(("scale", StandardScaler()))
        clf = LogisticRegression(max_iter=2000, class_weight=class_weight)
    else:
        clf = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=15,
                                             min_samples_leaf=40, l2_regularization=1.0,
                                             class_weight=class_weight, random_state=random_state)
    pre = ColumnTransformer(
        [("num", Pipeline(numeric_steps), make_column_selector(dtype_include="number")),
         ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
          make_column_selector(dtype_exclude="number"))],
        verbose_feature_names_out=False,
    )
    model = Pipeline([("prepare", pre), ("classifier", clf)])
    if calibrate is not None:
        model = CalibratedClassifierCV(model, method=calibrate, cv=3)
    return model


# ----------------------------------------------------------------------------- evaluation
def lift_table(y_true: ArrayLike, y_score: ArrayLike, bins: int = 10) -> pd.DataFrame:
    r"""Lift and cumulative gain by score decile (提升度表).

    Customers are sorted by score (highest first; ties keep the input order) and cut into
    ``bins`` groups of (nearly) equal size; group 1 is the riskiest. A constant score
    ranks nobody and raises ``ValueError``.

    .. math::
        \text{lift}_k = \frac{\text{churn rate in group } k}{\text{overall churn rate}},\qquad
        \text{gain}_k = \frac{\text{churners in groups } 1..k}{\text{all churners}}

    Parameters
    ----------
    y_true : array-like of 0/1
        Observed churn.
    y_score : array-like of float in [0, 1]
        Predicted churn probability (or any score rescaled to [0, 1]).
    bins : int, default 10

    Returns
    -------
    DataFrame
        ``decile, customers, churners, mean_score, rate, lift, cum_share, cumulative_gain,
        cumulative_lift``.

    Examples
    --------
    >>> t = lift_table([1, 1, 0, 1, 0, 0, 0, 0, 1, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], bins=5)
    >>> t[["decile", "churners", "lift", "cumulative_gain"]].values.tolist()[:2]
    [[1.0, 2.0, 2.5, 0.5], [2.0, 1.0, 1.25, 0.75]]
    """
    y, s = _check_labels_scores(y_true, y_score)
    n = y.size
    bins = check_positive_int(bins, name="bins")
    if np.ptp(s) == 0:
        raise ValueError(
            f"y_score is constant ({s[0]:g} for every customer): it does not rank anyone, so the groups "
            f"and their lift would only reflect the input order. Score the customers with a model first."
        )
    if bins > n:
        raise ValueError(f"bins={bins} is more than the {n} customers; use at most {n} bins.")
    order = np.argsort(-s, kind="stable")
    group = (np.arange(n) * bins) // n + 1
    df = pd.DataFrame({"decile": group, "y": y[order], "s": s[order]})
    t = df.groupby("decile").agg(customers=("y", "size"), churners=("y", "sum"), mean_score=("s", "mean")).reset_index()
    overall = y.mean()
    t["rate"] = t["churners"] / t["customers"]
    t["lift"] = t["rate"] / overall
    t["cum_share"] = t["customers"].cumsum() / n
    t["cumulative_gain"] = t["churners"].cumsum() / y.sum()
    t["cumulative_lift"] = t["cumulative_gain"] / t["cum_share"]
    return t.astype({"customers": int, "churners": int})


def brier_score(y_true: ArrayLike, y_score: ArrayLike) -> pd.DataFrame:
    r"""Brier score of churn probabilities, with the base-rate reference and the skill score.

    .. math:: \mathrm{BS} = \frac{1}{n}\sum_i (p_i - y_i)^2, \qquad
              \mathrm{BSS} = 1 - \mathrm{BS} / \mathrm{BS}_{\mathrm{ref}}

    where :math:`\mathrm{BS}_{\mathrm{ref}} = \bar y (1 - \bar y)` is the score of
    predicting the churn rate :math:`\bar y` for everyone. Lower is better; a skill score
    above 0 means the model beats that constant forecast. Unlike the AUC the Brier score
    punishes probabilities that rank well but are too high or too low: it is what matters
    when a probability is multiplied by a value (expected loss). ``brier`` equals
    :func:`sklearn.metrics.brier_score_loss` (tested).

    Returns
    -------
    DataFrame
        One row: ``brier, reference, skill, churn_rate, n``.

    Examples
    --------
    >>> brier_score([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])["brier"].round(4).tolist()
    [0.0375]
    """
    y, p = _check_labels_scores(y_true, y_score)
    brier = float(np.mean((p - y) ** 2))
    rate = float(y.mean())
    reference = rate * (1 - rate)
    return pd.DataFrame({"brier": [brier], "reference": [reference], "skill": [1 - brier / reference],
                         "churn_rate": [rate], "n": [int(y.size)]})


def calibration_table(y_true: ArrayLike, y_score: ArrayLike, *, n_bins: int = 10,
                      strategy: str = "quantile") -> pd.DataFrame:
    """Reliability (calibration) table: observed churn rate against mean predicted probability.

    Customers are put into ``n_bins`` bins of predicted probability (``"quantile"``: equal
    numbers of customers; ``"uniform"``: equal-width bins on [0, 1]); empty bins are left
    out. A well-calibrated model has ``observed`` close to ``predicted`` in every bin (of the
    customers given 30 %, 30 % churn). ``observed`` and ``predicted`` equal
    :func:`sklearn.calibration.calibration_curve` with the same bins (tested); this table adds
    the count per bin and a binomial standard error of the observed rate.

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``bin, n, predicted, observed, se, gap``
        (``gap = observed - predicted``).

    Examples
    --------
    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)["observed"].tolist()
    [0.0, 1.0]
    """
    y, p = _check_labels_scores(y_true, y_score)
    n_bins = check_positive_int(n_bins, name="n_bins")
    check_choice(strategy, ["uniform", "quantile"], name="strategy")
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    # same assignment as scikit-learn: a score equal to an inner edge goes to the lower bin
    bin_id = np.searchsorted(edges[1:-1], p, side="left")
    frame = pd.DataFrame({"bin": bin_id, "y": y, "p": p})
    out = frame.groupby("bin").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean")).reset_index()
    out["se"] = np.sqrt(out["observed"] * (1 - out["observed"]) / out["n"])
    out["gap"] = out["observed"] - out["predicted"]
    return out


def _check_value(value, n: int) -> np.ndarray:
    if np.ndim(value) == 0:
        v = np.full(n, _check_money(value, name="value"))
    else:
        v = check_array(value, name="value")
        check_same_length(y_true=range(n), value=v)
    if (v < 0).any():
        raise ValueError(f"value must be >= 0 (the value saved if a churner stays); found {v[v < 0][0]:g}.")
    return v


def profit_curve(y_true: ArrayLike, y_score: ArrayLike, *, value: float | ArrayLike, contact_cost: float,
                 offer_cost: float, accept_rate: float = 1.0) -> pd.DataFrame:
    r"""Profit of a retention campaign that contacts everyone above each threshold.

    Each contacted customer costs ``contact_cost``. A contacted churner accepts the
    offer with probability ``accept_rate`` and stays: the company keeps ``value`` but
    pays ``offer_cost``. A contacted customer who would have stayed anyway takes the
    offer too (``offer_cost`` wasted). For customer :math:`i` contacted:

    .. math:: \pi_i = y_i\, a\, (V_i - c_o) - (1 - y_i)\, c_o - c_c

    Parameters
    ----------
    y_true : array-like of 0/1
        Observed churn (in a holdout sample).
    y_score : array-like in [0, 1]
        Predicted churn probability.
    value : float or array-like
        Value saved when a churner is retained (e.g. CLV), one number or one per customer.
    contact_cost, offer_cost : float
        Cost per contact and per offer redeemed (CNY).
    accept_rate : float, default 1
        Share of contacted churners who accept and stay.

    Returns
    -------
    DataFrame
        One row per distinct score used as threshold (plus "contact nobody", whose
        ``threshold`` is ``inf``): ``threshold, contacted, share_contacted,
        churners_reached, profit``.

    Examples
    --------
    >>> pc = profit_curve([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1], value=100, contact_cost=5, offer_cost=10)
    >>> pc[["contacted", "profit"]].values.tolist()
    [[0.0, 0.0], [1.0, 85.0], [2.0, 70.0], [3.0, 155.0], [4.0, 140.0]]
    """
    y, s = _check_labels_scores(y_true, y_score)
    v = _check_value(value, y.size)
    c_c = _check_money(contact_cost, name="contact_cost")
    c_o = _check_money(offer_cost, name="offer_cost")
    a = check_array([accept_rate], name="accept_rate")[0]
    check_in_range(np.array([a]), low=0.0, high=1.0, name="accept_rate")
    order = np.argsort(-s, kind="stable")
    ys, ss, vs = y[order], s[order], v[order]
    gain = ys * a * (vs - c_o) - (1 - ys) * c_o - c_c
    cum = np.concatenate([[0.0], np.cumsum(gain)])
    reached = np.concatenate([[0], np.cumsum(ys)])
    # a threshold contacts every customer with score >= it, so keep the last row of each tie block
    last_of_tie = np.r_[ss[1:] != ss[:-1], True]
    keep = np.r_[True, last_of_tie]
    contacted = np.arange(y.size + 1)[keep]
    return pd.DataFrame({
        "threshold": np.r_[np.inf, ss][keep],
        "contacted": contacted.astype(float),
        "share_contacted": contacted / y.size,
        "churners_reached": reached[keep].astype(float),
        "profit": cum[keep],
    }).reset_index(drop=True)


def cost_threshold(*, value: float, contact_cost: float, offer_cost: float, accept_rate: float = 1.0) -> float:
    r"""Churn probability above which contacting a customer pays, in expectation.

    With a calibrated probability :math:`p`, contacting is worth
    :math:`p\,a\,(V - c_o) - (1 - p)\,c_o - c_c`, positive when

    .. math:: p > p^* = \frac{c_c + c_o}{a V + (1 - a) c_o}

    The same assumptions as :func:`profit_curve`. A threshold above 1 means contacting
    never pays at these costs.

    Examples
    --------
    >>> cost_threshold(value=200, contact_cost=5, offer_cost=15)
    0.1
    """
    v = _check_money(value, name="value")
    c_c = _check_money(contact_cost, name="contact_cost")
    c_o = _check_money(offer_cost, name="offer_cost")
    a = check_array([accept_rate], name="accept_rate")[0]
    check_in_range(np.array([a]), low=0.0, high=1.0, name="accept_rate")
    denom = a * v + (1 - a) * c_o
    if denom <= 0:
        raise ValueError("value * accept_rate must be positive: with nothing to save no threshold pays.")
    return float((c_c + c_o) / denom)


# ----------------------------------------------------------------------------- reasons
def churn_drivers(model: Any, X: pd.DataFrame, y: ArrayLike, *, scoring: str = "roc_auc", n_repeats: int = 5,
                  random_state: int | np.random.RandomState | None = 0) -> pd.DataFrame:
    """Churn reasons from a fitted model: permutation importance on held-out data.

    A thin wrapper of :func:`sklearn.inspection.permutation_importance`: each feature
    is shuffled ``n_repeats`` times and the drop in ``scoring`` is its importance.

    Returns
    -------
    DataFrame
        ``feature, importance, importance_std``, most important first.

    Examples
    --------
    >>> import crmlab as crm
    >>> data = crm.synth.generate(n_customers=400, seed=2)
    >>> X = churn_features(data, cutoff="2024-06-30")
    >>> y = churn_labels(data, cutoff="2024-06-30")["churned"]
    >>> m = make_churn_model().fit(X, y)
    >>> churn_drivers(m, X, y, n_repeats=2).columns.tolist()
    ['feature', 'importance', 'importance_std']
    """
    from sklearn.inspection import permutation_importance

    if not hasattr(model, "predict_proba"):
        raise TypeError(f"model must be a fitted classifier with predict_proba, got {type(model).__name__}.")
    X = check_frame(X, name="X")
    y = _check_binary(y, name="y")
    check_same_length(X=X, y=y)
    n_repeats = check_positive_int(n_repeats, name="n_repeats")
    res = permutation_importance(model, X, y, scoring=scoring, n_repeats=n_repeats, random_state=random_state)
    out = pd.DataFrame({"feature": X.columns.astype(str), "importance": res.importances_mean,
                        "importance_std": res.importances_std})
    return out.sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True)


def complaint_profile(data: Any, churned: pd.Series, *, cutoff: DateLike) -> pd.DataFrame:
    """Complaint categories of churners vs stayers (流失原因), per 100 orders.

    Customers who buy more also complain more, so raw complaint counts make the loyal
    look unhappy. Rates per 100 orders (all before the cutoff) remove that: for each
    complaint category, and for ``"all"`` and ``"unresolved"`` (open at the cutoff)
    complaints, the rate among churners and among stayers and their ratio.

    Parameters
    ----------
    data : CRMData
    churned : bool Series indexed by customer_id
        E.g. ``churn_labels(...)["churned"]``; it defines the population.
    cutoff : date-like
        Only orders and complaints by the end of this day count.

    Returns
    -------
    DataFrame
        ``category, churners_rate, stayers_rate, ratio`` (rates per 100 orders), highest
        ratio first. ``ratio`` is ``inf`` when only churners complained about a category
        and ``NaN`` when nobody did (possible only for ``"unresolved"``: no complaint was
        open at the cutoff).

    Examples
    --------
    >>> import crmlab as crm
    >>> data = crm.synth.generate(n_customers=400, seed=2)
    >>> y = churn_labels(data, cutoff="2024-06-30")["churned"]
    >>> complaint_profile(data, y, cutoff="2024-06-30").columns.tolist()
    ['category', 'churners_rate', 'stayers_rate', 'ratio']
    """
    cut = _cut(cutoff)
    if not isinstance(churned, pd.Series):
        raise TypeError("churned must be a pandas Series of True/False indexed by customer_id, "
                        "e.g. churn_labels(...)['churned'].")
    if churned.index.has_duplicates:
        dup = churned.index[churned.index.duplicated()][0]
        raise ValueError(f"churned has customer {dup!r} more than once; pass one label per customer.")
    labels = pd.Series(_check_binary(churned, name="churned").astype(bool), index=churned.index)
    tx = _transactions(data)
    inter = check_frame(_table(data, "interactions"),
                        required=[CUSTOMER, DATE, _TYPE, _CATEGORY, _RESOLVED, _RESOLUTION_DAYS],
                        dates=[DATE], numeric=[_RESOLUTION_DAYS], allow_empty=True, name="interactions")
    known = _features_at(tx, cut - _DAY, amount_col=None)
    orders = (known["n_orders"] if known is not None else pd.Series(dtype="int64")).reindex(labels.index, fill_value=0)
    n_orders = {True: orders[labels].sum(), False: orders[~labels].sum()}
    if min(n_orders.values()) == 0:
        raise ValueError("One group has no orders before the cutoff; pass labels of customers who bought by then.")
    comp = inter[(inter[_TYPE] == "complaint") & (inter[DATE] < cut) & inter[CUSTOMER].isin(labels.index)]
    comp = comp.assign(churner=labels.reindex(comp[CUSTOMER]).to_numpy())
    unresolved = _still_open(comp, cut)
    groups = {str(c): comp[comp[_CATEGORY] == c] for c in sorted(comp[_CATEGORY].unique())}
    groups.update({"all": comp, "unresolved": comp[unresolved]})
    rows = []
    for cat, part in groups.items():
        c = 100 * part["churner"].sum() / n_orders[True]
        s_ = 100 * (~part["churner"]).sum() / n_orders[False]
        rows.append({"category": cat, "churners_rate": float(c), "stayers_rate": float(s_),
                     "ratio": float(c / s_) if s_ > 0 else (np.inf if c > 0 else np.nan)})
    return pd.DataFrame(rows).sort_values("ratio", ascending=False, ignore_index=True)
