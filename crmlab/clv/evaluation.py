"""Holdout evaluation of customer-base models (模型检验): calibration vs holdout
predictions, error metrics, conditional expectations by calibration frequency, cumulative
and incremental tracking, and the calibration of P(alive) against the truth.

Every table puts a simple heuristic baseline beside the models: a customer keeps buying
at her own historical repeat rate, ``frequency / T`` (:class:`HistoricalRateBaseline`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from crmlab import time as crm_time
from crmlab._estimator import TextReprEstimator
from crmlab.clv._base import _check_rft, _check_same_unit, _fit_time_unit, _weights
from crmlab.data import columns as C
from crmlab.time import DateLike
from crmlab.validation import (
    check_array,
    check_frame,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "HistoricalRateBaseline",
    "holdout_predictions",
    "holdout_errors",
    "conditional_expectation_table",
    "tracking_table",
    "alive_brier_score",
    "alive_calibration_table",
]

_TRACKING_UNITS = ("D", "W")


class HistoricalRateBaseline(TextReprEstimator):
    """Heuristic benchmark: each customer's future purchases = her repeat rate x t.

    The rate is ``frequency / T`` (repeat purchases per time unit since the first
    purchase); customers with ``T = 0`` get the pooled rate ``sum(frequency) / sum(T)``.
    No dropout: everyone is assumed alive, which is what the probabilistic models improve on.
    Like the models, it records the time unit of the summary it was fitted on (``time_unit_``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [10.0, 0.0], "T": [20.0, 10.0]})
    >>> HistoricalRateBaseline().fit(s).predict_purchases(s, 10).tolist()
    [1.0, 0.0]
    """

    _label = "historical rate"

    def fit(self, summary: pd.DataFrame, y: object = None, *, frequency_col: str = "frequency",
            recency_col: str = "recency", T_col: str = "T", weights: str | ArrayLike | None = None,
            time_unit: str | None = None) -> HistoricalRateBaseline:
        """Pool the repeat rate of ``summary`` (``y`` is ignored; ``time_unit`` as in BetaGeoModel.fit)."""
        unit = _fit_time_unit(type(self).__name__, summary, time_unit)
        x, _, T = _check_rft(summary, frequency_col, recency_col, T_col)
        w = _weights(summary, weights)
        if np.dot(w, T) <= 0:
            raise ValueError(f"summary: {T_col!r} is 0 for every customer; no time has passed to measure a rate.")
        self.rate_ = float(np.dot(w, x) / np.dot(w, T))
        self.frequency_col_, self.recency_col_, self.T_col_ = frequency_col, recency_col, T_col
        self.time_unit_ = unit
        return self

    def predict_purchases(self, summary: pd.DataFrame, t: ArrayLike, *, frequency_col: str | None = None,
                          recency_col: str | None = None, T_col: str | None = None) -> pd.Series:
        """Each customer's own repeat rate times ``t`` (in ``time_unit_``)."""
        check_is_fitted(self, "rate_")
        _check_same_unit(self, summary)
        x, _, T = _check_rft(summary, frequency_col or self.frequency_col_, recency_col or self.recency_col_,
                             T_col or self.T_col_)
        rate = np.where(T > 0, x / np.where(T > 0, T, 1.0), self.rate_)
        return pd.Series(rate * _check_horizon(t), index=summary.index, name="expected_purchases")

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """The pooled rate times ``t`` (in ``time_unit_``)."""
        check_is_fitted(self, "rate_")
        return self.rate_ * _check_horizon(t)

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        rate = getattr(self, "rate_", None)
        if rate is None:
            return super().__repr__(N_CHAR_MAX)
        return f"<HistoricalRateBaseline: pooled rate={rate:.4g} per {crm_time.unit_name(self.time_unit_)[:-1]}>"


def _check_horizon(t) -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"t must be a non-negative time span (or one per customer), got {t!r}.")
    return arr


def _model_dict(models) -> dict:
    if isinstance(models, dict):
        if not models:
            raise ValueError("models is empty; pass {'BG/NBD': fitted_model, ...}.")
        return dict(models)
    if isinstance(models, (list, tuple)):
        return {getattr(m, "_label", type(m).__name__): m for m in models}
    return {getattr(models, "_label", type(models).__name__): models}


def holdout_predictions(models: object, calib_holdout: pd.DataFrame, *, frequency_col: str = "frequency_cal",
                        recency_col: str = "recency_cal", T_col: str = "T_cal",
                        holdout_col: str = "frequency_holdout", duration_col: str = "duration_holdout",
                        baseline: bool = True) -> pd.DataFrame:
    """Per-customer predicted vs actual purchases in the holdout period.

    Parameters
    ----------
    models : fitted model, list of models or dict ``{name: model}``
        Each needs ``predict_purchases(summary, t, frequency_col=..., ...)`` and should
        have been fitted on the calibration columns.
    calib_holdout : DataFrame
        The output of :func:`crmlab.features.calibration_holdout` (one row per customer).
    baseline : bool, default True
        Add the :class:`HistoricalRateBaseline` (fitted on the same calibration data).

    Returns
    -------
    DataFrame indexed like ``calib_holdout``: ``frequency_cal``, ``actual`` and one column
    of predictions per model (and ``baseline``).

    Examples
    --------
    >>> import crmlab as crm
    >>> ch = crm.features.calibration_holdout(crm.load_cdnow(), cutoff="1997-09-30",
    ...                                       observation_end="1998-06-30", time_unit="W")
    >>> bg = crm.clv.BetaGeoModel().fit(ch, frequency_col="frequency_cal", recency_col="recency_cal",
    ...                                 T_col="T_cal")
    >>> pred = holdout_predictions({"BG/NBD": bg}, ch)
    >>> list(pred.columns)
    ['frequency_cal', 'actual', 'BG/NBD', 'baseline']
    """
    models = _model_dict(models)
    df = check_frame(calib_holdout, numeric=[holdout_col, duration_col], not_missing=[holdout_col, duration_col],
                     nonnegative=[holdout_col, duration_col], name="calib_holdout")
    _check_rft(df, frequency_col, recency_col, T_col, name="calib_holdout")
    durations = df[duration_col].to_numpy(dtype=float)
    out = pd.DataFrame({"frequency_cal": df[frequency_col].astype(float), "actual": df[holdout_col].astype(float)},
                       index=df.index)
    cols = dict(frequency_col=frequency_col, recency_col=recency_col, T_col=T_col)
    for name, model in models.items():
        if name in out.columns:
            raise ValueError(f"model name {name!r} clashes with a result column; choose another name.")
        out[name] = model.predict_purchases(df, durations, **cols).to_numpy()
    if baseline:
        out["baseline"] = HistoricalRateBaseline().fit(df, **cols).predict_purchases(df, durations).to_numpy()
    return out


def _prediction_columns(predictions: pd.DataFrame, actual_col: str, frequency_col: str):
    check_frame(predictions, numeric=[actual_col], not_missing=[actual_col], name="predictions")
    cols = [c for c in predictions.columns if c not in (actual_col, frequency_col)]
    if not cols:
        raise ValueError("predictions has no model columns; build it with holdout_predictions(...).")
    check_frame(predictions, numeric=cols, not_missing=cols, name="predictions")
    return cols


def holdout_errors(predictions: pd.DataFrame, *, actual_col: str = "actual",
                   frequency_col: str = "frequency_cal") -> pd.DataFrame:
    """MAE, RMSE and bias of each model's per-customer holdout predictions.

    Returns a tidy DataFrame with one row per model: ``mae``, ``rmse``, ``bias`` (mean
    prediction minus mean actual), ``total_predicted`` and ``total_actual``.

    >>> import pandas as pd
    >>> p = pd.DataFrame({"actual": [0.0, 2.0], "m": [1.0, 2.0]})
    >>> holdout_errors(p)["mae"].tolist()
    [0.5]
    """
    cols = _prediction_columns(predictions, actual_col, frequency_col)
    actual = predictions[actual_col].to_numpy(dtype=float)
    rows = []
    for c in cols:
        err = predictions[c].to_numpy(dtype=float) - actual
        rows.append({"model": c, "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2))),
                     "bias": float(np.mean(err)), "total_predicted": float(predictions[c].sum()),
                     "total_actual": float(actual.sum())})
    return pd.DataFrame(rows)


def conditional_expectation_table(predictions: pd.DataFrame, *, max_frequency: int = 7,
                                  actual_col: str = "actual", frequency_col: str = "frequency_cal") -> pd.DataFrame:
    """Mean holdout purchases, actual and predicted, by calibration frequency.

    Frequencies of ``max_frequency`` and more are pooled into one row (labelled with
    ``max_frequency``), as in Fader, Hardie & Lee (2005, Figure 4).

    Returns a DataFrame indexed by ``frequency_cal`` with ``n_customers``, ``actual`` and
    one column per model.
    """
    m = check_positive_int(max_frequency, name="max_frequency")
    cols = _prediction_columns(predictions, actual_col, frequency_col)
    check_frame(predictions, numeric=[frequency_col], not_missing=[frequency_col], name="predictions")
    group = predictions[frequency_col].clip(upper=m).astype("int64").rename(frequency_col)
    table = predictions[[actual_col, *cols]].groupby(group).mean()
    table.insert(0, "n_customers", predictions.groupby(group).size())
    return table.rename(columns={actual_col: "actual"})


def tracking_table(model: Any, transactions: pd.DataFrame, *, cutoff: DateLike, observation_end: DateLike,
                   customer_col: str = C.CUSTOMER, date_col: str = C.DATE, time_unit: str | None = None,
                   baseline: HistoricalRateBaseline | None = None) -> pd.DataFrame:
    """Repeat transactions of a cohort per period, actual vs expected by the model.

    The cohort is every customer whose first purchase falls on or before the day of
    ``cutoff`` (the end of the calibration period). Purchases on the same day are one occasion (as in
    :func:`crmlab.features.customer_summary`). The model's expected cumulative repeat
    purchases at time tau is the sum over customers of ``E[X(tau - t0_i)]`` for a new
    customer who made her first purchase at ``t0_i`` (Fader, Hardie & Lee 2005, Figure 2).

    Parameters
    ----------
    model : fitted model with ``expected_purchases_new(t)`` and ``time_unit_``
    transactions : DataFrame
        The raw log (calibration and holdout periods).
    cutoff, observation_end : date-like
        Last day of the calibration period and of the observation window (whole days).
    time_unit : {"W", "D"}, optional
        Period length: the model's ``time_unit_`` (weeks = 7 days). Passing another unit
        raises ``ValueError``.
    baseline : fitted HistoricalRateBaseline, optional
        Adds ``baseline_incremental`` / ``baseline_cumulative`` (pooled rate x exposure).

    Returns
    -------
    DataFrame with one row per period: ``period`` (1, 2, ...), ``period_end`` (date),
    ``holdout`` (bool), ``actual_incremental``, ``model_incremental``,
    ``actual_cumulative``, ``model_cumulative`` [, baseline columns].
    """
    check_is_fitted(model, "time_unit_")
    unit_code = _check_same_unit(model, None, time_unit)
    if baseline is not None:
        check_is_fitted(baseline, "rate_")
        _check_same_unit(baseline, None, unit_code)
    if unit_code not in _TRACKING_UNITS:
        raise ValueError(f"tracking_table counts whole days or weeks; the model is in time_unit_={unit_code!r}. "
                         f"Refit it on a summary in 'D' or 'W'.")
    unit = crm_time.unit_days(unit_code)
    cal_end = crm_time.day(cutoff, name="cutoff")
    obs_end = crm_time.day(observation_end, name="observation_end")
    if cal_end >= obs_end:
        raise ValueError(f"cutoff={cal_end.date()} must fall before observation_end={obs_end.date()}.")
    tx = check_frame(transactions, required=[customer_col], dates=[date_col], not_missing=[customer_col, date_col],
                     name="transactions")
    late = crm_time.after(tx[date_col], obs_end)
    if late.any():
        raise ValueError(f"transactions has {int(late.sum())} event(s) in {date_col!r} after "
                         f"observation_end={obs_end.date()} (its whole day counts); filter them out first or "
                         f"move observation_end later.")
    days = tx[[customer_col]].assign(day=tx[date_col].dt.normalize()).drop_duplicates()
    first = days.groupby(customer_col)["day"].transform("min")
    cohort = first <= cal_end
    days, first = days[cohort], first[cohort]
    if days.empty:
        raise ValueError(f"no customer made a first purchase on or before cutoff={cal_end.date()}.")
    start = first.min()
    n_periods = int(np.floor(((obs_end - start).days + 1) / unit))  # whole periods in the window
    if n_periods < 1:
        raise ValueError("the observation window is shorter than one period; use time_unit='D'.")
    # time in days from the first day: period j covers days up to tau - 1 = j * unit - 1, and a
    # customer who first bought on day k0 has then been observed for tau - 1 - k0 days
    k_repeat = ((days.loc[days["day"] > first, "day"] - start).dt.days).to_numpy(dtype=float)
    first_days = ((days.loc[days["day"] == first, "day"] - start).dt.days).to_numpy(dtype=float)
    taus = np.arange(1, n_periods + 1) * unit
    actual_cum = np.searchsorted(np.sort(k_repeat), taus, side="left").astype(float)
    offsets, counts = np.unique(first_days, return_counts=True)
    model_cum = np.array([
        float(np.dot(counts[offsets < tau], model.expected_purchases_new((tau - 1 - offsets[offsets < tau]) / unit)))
        for tau in taus
    ])
    out = pd.DataFrame({
        "period": np.arange(1, n_periods + 1),
        "period_end": start + pd.to_timedelta(taus - 1, unit="D"),
        "holdout": start + pd.to_timedelta(taus - 1, unit="D") > cal_end,
        "actual_incremental": np.diff(actual_cum, prepend=0.0),
        "model_incremental": np.diff(model_cum, prepend=0.0),
        "actual_cumulative": actual_cum,
        "model_cumulative": model_cum,
    })
    if baseline is not None:
        base_cum = np.array([float(np.dot(counts[offsets < tau], baseline.expected_purchases_new(
            (tau - 1 - offsets[offsets < tau]) / unit))) for tau in taus])
        out["baseline_incremental"] = np.diff(base_cum, prepend=0.0)
        out["baseline_cumulative"] = base_cum
    return out


def _probability_and_outcome(p_alive, alive):
    p = check_array(p_alive, name="p_alive")
    y = check_array(alive, name="alive")
    check_same_length(p_alive=p, alive=y)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p_alive must hold probabilities in [0, 1].")
    if not np.all(np.isin(y, (0.0, 1.0))):
        raise ValueError("alive must be True/False (or 1/0): whether each customer was really alive.")
    return p, y


def alive_brier_score(p_alive: ArrayLike, alive: ArrayLike) -> float:
    """Brier score of P(alive) against the true status (lower is better; 0.25 = coin flip).

    >>> round(alive_brier_score([0.9, 0.2], [True, False]), 3)   # ((0.1)**2 + 0.2**2) / 2
    0.025
    """
    from sklearn.metrics import brier_score_loss

    p, y = _probability_and_outcome(p_alive, alive)
    return float(brier_score_loss(y, p))


def alive_calibration_table(p_alive: ArrayLike, alive: ArrayLike, *, n_bins: int = 10,
                            strategy: str = "quantile") -> pd.DataFrame:
    """Calibration of P(alive): mean predicted vs observed share alive per bin.

    ``strategy="quantile"`` puts about the same number of customers in each bin,
    ``"uniform"`` uses equal-width bins on [0, 1] (as ``sklearn.calibration.calibration_curve``).

    Returns one row per non-empty bin: ``bin``, ``n_customers``, ``mean_predicted``, ``observed``.
    """
    p, y = _probability_and_outcome(p_alive, alive)
    k = check_positive_int(n_bins, name="n_bins", minimum=2)
    if k > len(p):
        raise ValueError(f"n_bins={k:,} is more than the {len(p):,} customers; use fewer bins.")
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0, 1, k + 1))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, k + 1)
    else:
        raise ValueError(f"strategy={strategy!r} is not allowed; choose 'quantile' or 'uniform'.")
    ids = np.searchsorted(edges[1:-1], p, side="right")
    frame = pd.DataFrame({"bin": ids, "p": p, "y": y})
    table = frame.groupby("bin").agg(n_customers=("p", "size"), mean_predicted=("p", "mean"), observed=("y", "mean"))
    return table.reset_index()
