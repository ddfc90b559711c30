"""Survival analysis of customer tenure (客户流失 timing): Kaplan–Meier, log-rank, hazard.

A customer's *duration* is the time from acquisition until churn (an *event*) or until
the end of observation (a *censored* duration: the customer is still active, so we only
know the tenure is at least this long). Treating censored customers as churned, or
dropping them, biases every average; the estimators here use them correctly.

The Kaplan–Meier estimator is written out in numpy as the course reference and is
tested against :class:`statsmodels.duration.survfunc.SurvfuncRight`; the log-rank test
is tested against :func:`statsmodels.duration.survfunc.survdiff`. :func:`at_risk_table` gives
the numbers at risk printed under a Kaplan–Meier plot; :func:`cox_model` fits a Cox
proportional-hazards model with :class:`statsmodels.duration.hazard_regression.PHReg` and
:func:`proportional_hazards_test` checks its assumption with Schoenfeld residuals.

Examples
--------
>>> from crmlab.survival import kaplan_meier, median_survival
>>> km = kaplan_meier([3, 5, 5, 8, 12], [1, 1, 0, 1, 0])
>>> km["survival"].round(3).tolist()
[0.8, 0.6, 0.3, 0.3]
>>> float(median_survival(km)["median"].iloc[0])
8.0
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from crmlab.data.columns import CUSTOMER, DATE
from crmlab.features import customer_features
from crmlab.time import to_days
from crmlab.validation import (
    check_array,
    check_choice,
    check_fraction,
    check_frame,
    check_positive_int,
    check_same_length,
    check_timestamp,
)

__all__ = [
    "tenure_table",
    "kaplan_meier",
    "median_survival",
    "survival_by_group",
    "logrank_test",
    "hazard_table",
    "at_risk_table",
    "cox_model",
    "proportional_hazards_test",
    "MAX_INTERVALS",
]

#: Most intervals :func:`hazard_table` builds; a finer ``width`` is refused (it would only
#: allocate memory for empty intervals).
MAX_INTERVALS = 100_000


def _as_durations(durations) -> np.ndarray:
    """Durations as a float array; timedeltas are converted to days by :func:`crmlab.time.to_days`."""
    if isinstance(durations, (pd.Series, pd.Index, np.ndarray, list, tuple)):
        values = durations.to_numpy() if isinstance(durations, (pd.Series, pd.Index)) else np.asarray(durations)
        temporal = (pd.Timedelta, np.timedelta64, pd.Timestamp, np.datetime64)
        if values.dtype.kind in "mM" or (values.dtype == object and values.size
                                         and isinstance(values.ravel()[0], temporal)):
            # timedeltas become days; dates are refused (they are not durations)
            durations = to_days(durations, name="durations")
    return check_array(durations, name="durations")


def _check_durations_events(durations, events) -> tuple[np.ndarray, np.ndarray]:
    t = _as_durations(durations)
    e = check_array(events, name="events")
    check_same_length(durations=t, events=e)
    if (t < 0).any():
        raise ValueError(
            f"durations must be >= 0; found {int((t < 0).sum())} negative value(s) "
            f"(e.g. {t[t < 0][0]:g}). A negative tenure usually means the end date is "
            f"before the start date."
        )
    if not np.isin(e, (0.0, 1.0)).all():
        bad = e[~np.isin(e, (0.0, 1.0))][0]
        raise ValueError(
            f"events must be 0 (censored: still a customer) or 1 (churned); found {bad:g}. "
            f"Convert a True/False churn flag with .astype(int)."
        )
    return t, e.astype(int)


def tenure_table(transactions: pd.DataFrame, *, observation_end: Any, inactivity_days: int = 90,
                 customer_col: str = CUSTOMER, date_col: str = DATE) -> pd.DataFrame:
    """Tenure of each buyer from a transaction log, with non-contractual churn as the event.

    Tenure is counted in whole calendar days from the day of the first purchase:
    ``tenure_days`` and ``recency_days`` of :func:`crmlab.features.customer_features`. The day of
    ``observation_end`` is inside the window: a purchase at 15:30 on that day counts.

    - A customer whose last purchase is more than ``inactivity_days`` days before the day of
      ``observation_end`` (``recency_days > inactivity_days``) counts as churned on the day of
      her last purchase: ``duration`` = days from the first to the last purchase day,
      ``churned`` = 1.
    - Everyone else is censored at ``observation_end``: ``duration`` = days from the first
      purchase day to the day of ``observation_end`` (``tenure_days``), ``churned`` = 0.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase; events after the day of ``observation_end`` raise an error.
    observation_end : date-like
        Last day of observation (its whole day counts).
    inactivity_days : int, default 90
        Days without a purchase after which a customer counts as churned.
    customer_col, date_col : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by customer id: ``duration`` (float days), ``churned`` (0/1).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                    "date": pd.to_datetime(["2024-01-01 09:00", "2024-03-01 12:00", "2024-06-30 15:30"])})
    >>> tenure_table(tx, observation_end="2024-06-30").to_dict("list")
    {'duration': [60.0, 0.0], 'churned': [1, 0]}
    """
    inactivity_days = check_positive_int(inactivity_days, name="inactivity_days")
    end = check_timestamp(observation_end, name="observation_end")
    f = customer_features(transactions, observation_end=end, customer_col=customer_col, date_col=date_col,
                          amount_col=None)
    churned = f["recency_days"] > inactivity_days
    duration = (f["tenure_days"] - f["recency_days"]).where(churned, f["tenure_days"])
    out = pd.DataFrame({"duration": duration.astype("float64"), "churned": churned.astype("int64")})
    out.index.name = customer_col
    return out


def kaplan_meier(durations: ArrayLike, events: ArrayLike, *, confidence: float = 0.95) -> pd.DataFrame:
    r"""Kaplan–Meier survival curve with a pointwise confidence band.

    .. math::
        \hat S(t) = \prod_{t_j \le t} \left(1 - \frac{d_j}{n_j}\right), \qquad
        \widehat{\mathrm{Var}}\,\hat S(t) = \hat S(t)^2 \sum_{t_j \le t} \frac{d_j}{n_j (n_j - d_j)}

    where :math:`n_j` customers are at risk (still observed) just before :math:`t_j` and
    :math:`d_j` of them churn at :math:`t_j`. The band uses the log(−log) transform
    (as R's ``survival`` with ``conf.type="log-log"`` and lifelines), which stays inside
    [0, 1]: :math:`\hat S(t)^{\exp(\pm z\,\sigma(t))}` with
    :math:`\sigma(t) = \mathrm{se}(t) / (\hat S(t)\,|\log \hat S(t)|)`.

    Parameters
    ----------
    durations : array-like of float or timedelta
        Tenure of each customer (time to churn, or to the end of observation). Timedeltas
        are converted to days with :func:`crmlab.time.to_days`.
    events : array-like of 0/1 or bool
        1 if the customer churned at ``durations``, 0 if still active (censored).
    confidence : float, default 0.95
        Confidence level of the band.

    Returns
    -------
    DataFrame
        One row per distinct duration: ``time, at_risk, events, censored, survival,
        se`` (Greenwood), ``lower, upper``.

    Examples
    --------
    >>> km = kaplan_meier([2, 4, 4, 7], [1, 1, 0, 1])
    >>> km["survival"].round(2).tolist()
    [0.75, 0.5, 0.0]
    """
    t, e = _check_durations_events(durations, events)
    confidence = check_fraction(confidence, name="confidence")
    times, inverse = np.unique(t, return_inverse=True)
    n_events = np.bincount(inverse, weights=e, minlength=len(times)).astype(int)
    n_total = np.bincount(inverse, minlength=len(times))
    at_risk = n_total[::-1].cumsum()[::-1]
    survival = np.cumprod(1.0 - n_events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > n_events, n_events / (at_risk * (at_risk - n_events)), 0.0)
        greenwood = np.cumsum(terms)
        se = survival * np.sqrt(greenwood)
        z = stats.norm.ppf(0.5 + confidence / 2)
        sigma = np.sqrt(greenwood) / np.abs(np.log(survival))
        lower = survival ** np.exp(z * sigma)
        upper = survival ** np.exp(-z * sigma)
    defined = (survival > 0) & (survival < 1)
    lower = np.where(defined, lower, survival)
    upper = np.where(defined, upper, survival)
    return pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk.astype(int),
            "events": n_events,
            "censored": (n_total - n_events).astype(int),
            "survival": survival,
            "se": se,
            "lower": lower,
            "upper": upper,
        }
    )


def _check_km_table(km) -> None:
    cols = ["time", "survival", "lower", "upper"]
    check_frame(km, required=cols, numeric=cols, not_missing=cols, name="km")


def _first_time_below(times: np.ndarray, curve: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(curve <= level)
    return float(times[hit[0]]) if hit.size else np.nan


def median_survival(km: pd.DataFrame) -> pd.DataFrame:
    """Median tenure: the first time the survival curve reaches 50 %.

    The interval is read off the confidence band (where the lower and upper curves
    cross 0.5). A documented ``NaN`` means "not reached": the curve (or that side of the
    band) never gets down to 0.5, because more than half of the customers are still
    active at the longest observed tenure; report it as "more than the longest tenure",
    never as a number.

    Parameters
    ----------
    km : DataFrame
        Output of :func:`kaplan_meier`.

    Returns
    -------
    DataFrame
        One row: ``median, lower, upper``.

    Examples
    --------
    >>> median_survival(kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]))["median"].tolist()
    [2.0]
    """
    _check_km_table(km)
    times = km["time"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "median": [_first_time_below(times, km["survival"].to_numpy(float), 0.5)],
            "lower": [_first_time_below(times, km["lower"].to_numpy(float), 0.5)],
            "upper": [_first_time_below(times, km["upper"].to_numpy(float), 0.5)],
        }
    )


def _check_groups(groups, n: int) -> np.ndarray:
    if isinstance(groups, pd.DataFrame):
        raise TypeError("groups must be one column (a Series or array), got a DataFrame.")
    g = np.asarray(groups.to_numpy() if isinstance(groups, pd.Series) else groups, dtype=object)
    if g.ndim != 1:
        raise ValueError(f"groups must be one-dimensional, got shape {g.shape}.")
    check_same_length(durations=range(n), groups=g)
    missing = pd.isna(g)
    if missing.any():
        raise ValueError(
            f"groups has {int(missing.sum())} missing value(s); give those customers a group "
            f"(e.g. 'unknown') or drop them first."
        )
    if len(pd.unique(g)) < 2:
        raise ValueError(f"groups has a single value ({g[0]!r}); comparing survival needs at least two groups.")
    return g


def survival_by_group(durations: ArrayLike, events: ArrayLike, groups: ArrayLike, *,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier curves per group (segment, channel, contract type ...), stacked.

    Returns the :func:`kaplan_meier` columns plus ``group``, groups in sorted order.

    Examples
    --------
    >>> out = survival_by_group([1, 2, 3, 4], [1, 0, 1, 1], ["a", "a", "b", "b"])
    >>> out.groupby("group").size().tolist()
    [2, 2]
    """
    t, e = _check_durations_events(durations, events)
    g = _check_groups(groups, len(t))
    frames = []
    for level in sorted(pd.unique(g), key=str):
        mask = g == level
        frames.append(kaplan_meier(t[mask], e[mask], confidence=confidence).assign(group=level))
    out = pd.concat(frames, ignore_index=True)
    return out[["group", *[c for c in out.columns if c != "group"]]]


def logrank_test(durations: ArrayLike, events: ArrayLike, groups: ArrayLike) -> pd.DataFrame:
    r"""Log-rank test that two or more groups share one survival curve.

    At each event time the churns expected in group :math:`k` under the null are
    :math:`E_{kj} = d_j\, n_{kj} / n_j`; the statistic
    :math:`(O - E)^\top V^{-1} (O - E)` over the first :math:`K-1` groups is
    :math:`\chi^2_{K-1}` under the null (Mantel 1966).

    Returns
    -------
    DataFrame
        One row: ``n_groups, chi2, dof, p_value``, plus per group (sorted) the observed
        and expected churns in the columns ``observed`` and ``expected`` as tuples.

    Examples
    --------
    >>> res = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1])
    >>> round(float(res["p_value"].iloc[0]), 3)
    0.025
    """
    t, e = _check_durations_events(durations, events)
    g = _check_groups(groups, len(t))
    levels = sorted(pd.unique(g), key=str)
    codes = pd.Categorical(g, categories=levels).codes
    k = len(levels)
    event_times = np.unique(t[e == 1])
    if event_times.size == 0:
        raise ValueError("No churn events at all (events are all 0): the log-rank test needs at least one event.")
    # at_risk[j, c]: customers of group c with duration >= event time j; deaths[j, c]: churns at it
    at_risk = np.empty((event_times.size, k))
    deaths = np.empty((event_times.size, k))
    for c in range(k):
        tc = np.sort(t[codes == c])
        dc = np.sort(t[(codes == c) & (e == 1)])
        at_risk[:, c] = tc.size - np.searchsorted(tc, event_times, side="left")
        deaths[:, c] = np.searchsorted(dc, event_times, side="right") - np.searchsorted(dc, event_times, side="left")
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    expected = at_risk * (d / n)[:, None]
    observed = deaths.sum(axis=0)
    o_minus_e = observed - expected.sum(axis=0)
    factor = np.where(n > 1, d * (n - d) / (n**2 * np.maximum(n - 1, 1)), 0.0)
    # sum over event times of factor_j * (diag(n_j * at_risk_j) - outer(at_risk_j, at_risk_j))
    cov = np.diag((factor * n) @ at_risk) - (at_risk * factor[:, None]).T @ at_risk
    empty = [str(levels[c]) for c in range(k) if at_risk[:, c].sum() == 0]
    if empty:
        raise ValueError(
            f"group(s) {empty} have nobody at risk at any churn time (all their durations are "
            f"shorter than the first event): the log-rank test cannot compare them. Drop or merge "
            f"those groups."
        )
    try:
        stat = float(o_minus_e[:-1] @ np.linalg.solve(cov[:-1, :-1], o_minus_e[:-1]))
    except np.linalg.LinAlgError:
        stat = np.nan
    if not np.isfinite(stat):
        raise ValueError(
            "The log-rank variance matrix is singular (a group contributes no variance at any "
            "churn time, e.g. its customers are the only ones at risk); merge small groups first."
        )
    dof = k - 1
    return pd.DataFrame(
        {
            "n_groups": [k],
            "chi2": [stat],
            "dof": [dof],
            "p_value": [float(stats.chi2.sf(stat, dof))],
            "observed": [tuple(observed.tolist())],
            "expected": [tuple(expected.sum(axis=0).round(10).tolist())],
        }
    )


def hazard_table(durations: ArrayLike, events: ArrayLike, *, width: float | pd.Timedelta = 1.0) -> pd.DataFrame:
    r"""Life table: churn hazard per tenure interval (actuarial method).

    For the interval :math:`[a, a + w)`, with :math:`n` customers still there at
    :math:`a`, :math:`d` churning and :math:`c` censored inside it, the hazard is

    .. math:: h = \frac{d}{n - c/2}

    (censored customers count as at risk for half the interval), and survival to the
    end of the interval is :math:`\prod (1 - h)`. A falling hazard is what the sBG
    model predicts for a heterogeneous customer base: the churn-prone leave first.

    Parameters
    ----------
    durations, events : see :func:`kaplan_meier`.
    width : float or timedelta, default 1
        Interval width in the units of ``durations`` (e.g. 1 month, 30 days); a timedelta
        (with timedelta durations) is converted to days. At most :data:`MAX_INTERVALS`
        intervals are built: a width so small that more are needed raises ``ValueError``.

    Returns
    -------
    DataFrame
        ``start, end, at_risk, events, censored, hazard, survival`` for every interval
        up to the longest duration.

    Examples
    --------
    >>> hazard_table([0.5, 1.5, 1.5, 2.5], [1, 1, 0, 0])[["start", "hazard"]].round(3).values.tolist()
    [[0.0, 0.25], [1.0, 0.4], [2.0, 0.0]]
    """
    t, e = _check_durations_events(durations, events)
    if isinstance(width, (pd.Timedelta, np.timedelta64)):
        width = float(to_days([width], name="width")[0])
    if isinstance(width, (bool, np.bool_)) or not isinstance(width, Real):
        raise TypeError(f"width must be a positive number (interval length), got {width!r}.")
    width = float(width)
    if not np.isfinite(width) or width <= 0:
        raise ValueError(f"width must be a positive number (interval length), got {width!r}.")
    n_needed = np.floor(t.max() / width) + 1
    if not np.isfinite(n_needed) or n_needed > MAX_INTERVALS:
        raise ValueError(
            f"width={width!r} cuts the longest duration {t.max():g} into {n_needed:.3g} intervals, more "
            f"than MAX_INTERVALS={MAX_INTERVALS:,}. Use width >= {t.max() / MAX_INTERVALS:.3g} (e.g. 30 for "
            f"months of days)."
        )
    idx = np.floor(t / width).astype(np.int64)
    n_int = int(idx.max()) + 1
    d = np.bincount(idx, weights=e, minlength=n_int).astype(int)
    total = np.bincount(idx, minlength=n_int)
    c = total - d
    at_risk = total[::-1].cumsum()[::-1]
    effective = at_risk - c / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(effective > 0, d / effective, np.nan)
    survival = np.cumprod(1.0 - np.nan_to_num(hazard))
    start = np.arange(n_int) * float(width)
    return pd.DataFrame(
        {
            "start": start,
            "end": start + float(width),
            "at_risk": at_risk.astype(int),
            "events": d,
            "censored": c.astype(int),
            "hazard": hazard,
            "survival": survival,
        }
    )


def at_risk_table(durations: ArrayLike, events: ArrayLike, times: ArrayLike, *,
                  groups: ArrayLike | None = None) -> pd.DataFrame:
    """Numbers at risk at chosen times: the table printed under a Kaplan–Meier plot.

    At time :math:`t` a customer is *at risk* when her duration is at least :math:`t`
    (she has neither churned nor been censored before :math:`t`), as ``at_risk`` of
    :func:`kaplan_meier`. ``events`` and ``censored`` count what happened before :math:`t`
    (durations strictly shorter than :math:`t`), so ``at_risk + events + censored`` is
    the group size at every time.

    Parameters
    ----------
    durations, events : see :func:`kaplan_meier`.
    times : array-like of float
        The times to report (e.g. ``[0, 180, 365, 730]``), ``>= 0``.
    groups : array-like, optional
        One label per customer; one block of rows per group (sorted).

    Returns
    -------
    DataFrame
        ``time, at_risk, events, censored`` (plus ``group`` first when ``groups`` is given).

    Examples
    --------
    >>> at_risk_table([2, 4, 4, 7], [1, 1, 0, 1], [0, 3, 5])["at_risk"].tolist()
    [4, 3, 1]
    """
    t, e = _check_durations_events(durations, events)
    at = check_array(times, name="times")
    if (at < 0).any():
        raise ValueError(f"times must be >= 0, got {at[at < 0][0]:g}.")

    def one(tt: np.ndarray, ee: np.ndarray) -> pd.DataFrame:
        order = np.sort(tt)
        ev = np.sort(tt[ee == 1])
        before = np.searchsorted(order, at, side="left")
        ev_before = np.searchsorted(ev, at, side="left")
        return pd.DataFrame({"time": at, "at_risk": (tt.size - before).astype(int),
                             "events": ev_before.astype(int), "censored": (before - ev_before).astype(int)})

    if groups is None:
        return one(t, e)
    g = _check_groups(groups, len(t))
    frames = [one(t[g == level], e[g == level]).assign(group=level) for level in sorted(pd.unique(g), key=str)]
    out = pd.concat(frames, ignore_index=True)
    return out[["group", "time", "at_risk", "events", "censored"]]


def _cox_inputs(data, duration: str, event: str, covariates) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise ValueError("covariates is empty: name at least one column of data.")
    if duration in covariates or event in covariates:
        raise ValueError(f"covariates must not contain the duration ({duration!r}) or event ({event!r}) column.")
    df = check_frame(data, required=[duration, event, *covariates], not_missing=[duration, event, *covariates],
                     name="data")
    non_numeric = [c for c in covariates if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    if non_numeric:
        raise TypeError(
            f"covariate column(s) {non_numeric} are not numeric; encode categories first, e.g. "
            f"pd.get_dummies(data, columns={non_numeric}, drop_first=True, dtype=float)."
        )
    t, e = _check_durations_events(df[duration], df[event])
    if e.sum() == 0:
        raise ValueError(f"{event!r} has no events (all 0): a Cox model needs at least one churn.")
    X = df[covariates].astype("float64")
    constant = [c for c in covariates if X[c].nunique() < 2]
    if constant:
        raise ValueError(f"covariate column(s) {constant} are constant: a hazard ratio cannot be estimated; drop them.")
    return t, e, X


def cox_model(data: pd.DataFrame, *, duration: str, event: str, covariates: str | list[str],
              confidence: float = 0.95, ties: str = "breslow") -> pd.DataFrame:
    r"""Cox proportional-hazards model: hazard ratios of covariates, as a tidy table.

    The hazard of customer :math:`i` at tenure :math:`t` is
    :math:`h_i(t) = h_0(t)\exp(x_i^\top\beta)`: the baseline hazard :math:`h_0` is left free
    and each covariate multiplies it by the **hazard ratio** :math:`e^{\beta}` per unit
    (> 1: churns sooner). Fitted by partial likelihood with
    :class:`statsmodels.duration.hazard_regression.PHReg`. The assumption that the ratios do
    not change with tenure is checked by :func:`proportional_hazards_test`.

    Parameters
    ----------
    data : DataFrame
        One row per customer.
    duration, event : str
        Columns with the tenure and the churn flag (0/1), as for :func:`kaplan_meier`.
    covariates : str or list of str
        Numeric (or boolean) columns; encode categories with ``pd.get_dummies`` first.
    confidence : float, default 0.95
        Confidence level of the intervals.
    ties : {"breslow", "efron"}
        Handling of tied durations.

    Returns
    -------
    DataFrame
        Indexed by covariate: ``coef, se, hazard_ratio, hr_lower, hr_upper, z, p_value``;
        ``attrs`` hold ``n``, ``n_events``, ``log_likelihood`` and ``confidence``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, 2000)
    >>> df = pd.DataFrame({"t": rng.exponential(1 / np.exp(np.log(2) * x)), "e": 1, "x": x})
    >>> hr = float(cox_model(df, duration="t", event="e", covariates="x")["hazard_ratio"].iloc[0])
    >>> bool(1.8 < hr < 2.3)  # the simulated hazard ratio is 2
    True
    """
    from statsmodels.duration.hazard_regression import PHReg

    confidence = check_fraction(confidence, name="confidence")
    check_choice(ties, ["breslow", "efron"], name="ties")
    t, e, X = _cox_inputs(data, duration, event, covariates)
    res = PHReg(t, X.to_numpy(), status=e, ties=ties).fit()
    coef = np.asarray(res.params, dtype=float)
    if not np.isfinite(coef).all() or not np.isfinite(res.bse).all():
        raise ValueError("The Cox model did not converge (infinite coefficients: a covariate separates churners "
                         "from stayers perfectly, or covariates are collinear). Drop or merge those covariates.")
    ci = np.asarray(res.conf_int(alpha=1 - confidence), dtype=float)
    out = pd.DataFrame(
        {"coef": coef, "se": np.asarray(res.bse, dtype=float), "hazard_ratio": np.exp(coef),
         "hr_lower": np.exp(ci[:, 0]), "hr_upper": np.exp(ci[:, 1]), "z": coef / np.asarray(res.bse, dtype=float),
         "p_value": np.asarray(res.pvalues, dtype=float)},
        index=pd.Index(X.columns, name="covariate"),
    )
    out.attrs.update(n=int(t.size), n_events=int(e.sum()), log_likelihood=float(res.llf), confidence=confidence)
    return out


def proportional_hazards_test(data: pd.DataFrame, *, duration: str, event: str, covariates: str | list[str],
                              ties: str = "breslow") -> pd.DataFrame:
    r"""Check the proportional-hazards assumption with Schoenfeld residuals.

    Under proportional hazards the Schoenfeld residuals of a covariate (its value for the
    customer who churns minus the risk-weighted mean of the risk set, one per churn) have
    no trend in time. The test correlates each covariate's residuals with the rank of the
    churn time (the ``transform="rank"`` variant of Grambsch & Therneau 1994, unscaled) and
    tests the correlation with :func:`scipy.stats.pearsonr`. A small ``p_value`` says that
    covariate's hazard ratio changes with tenure: report it per period, or stratify on it.

    Parameters
    ----------
    data, duration, event, covariates, ties : see :func:`cox_model`.

    Returns
    -------
    DataFrame
        Indexed by covariate: ``rho`` (correlation with the time rank), ``p_value``, ``n_events``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.integers(0, 2, 1000)
    >>> df = pd.DataFrame({"t": rng.exponential(1 / np.exp(0.7 * x)), "e": 1, "x": x})
    >>> bool(proportional_hazards_test(df, duration="t", event="e", covariates="x")["p_value"].iloc[0] > 0.01)
    True
    """
    from statsmodels.duration.hazard_regression import PHReg

    check_choice(ties, ["breslow", "efron"], name="ties")
    t, e, X = _cox_inputs(data, duration, event, covariates)
    res = PHReg(t, X.to_numpy(), status=e, ties=ties).fit()
    resid = np.asarray(res.schoenfeld_residuals, dtype=float)
    used = e == 1
    if used.sum() < 3:
        raise ValueError(f"Only {int(used.sum())} churn(s): the proportional-hazards test needs at least 3 events.")
    time_rank = stats.rankdata(t[used])
    rows = []
    for j in range(resid.shape[1]):
        r_j = resid[used, j]
        if np.nanstd(r_j) == 0:
            rows.append((np.nan, np.nan))
            continue
        rho, p = stats.pearsonr(time_rank, r_j)
        rows.append((float(rho), float(p)))
    out = pd.DataFrame(rows, columns=["rho", "p_value"], index=pd.Index(X.columns, name="covariate"))
    out["n_events"] = int(used.sum())
    return out
