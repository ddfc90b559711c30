"""Checks for ``exercises/solutions/08_customer_lifetime_value.ipynb`` (客户生命周期价值, CLV).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.clv` and
:mod:`crmlab.features`. Model estimates are compared with a relative tolerance of 1e-4,
which any converged optimiser meets.
"""

from __future__ import annotations

import pandas as pd

from crmlab import clv, features
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = ["simple_formula", "weekly_summary", "bgnbd_params", "p_alive", "holdout_errors", "clv_12m",
           "segment_params"]

#: The cutoff of the holdout exercise: the calibration period ends on this day (inclusive); the
#: holdout runs from the next day to the observation end.
CUTOFF = "2024-06-30"
_CAL = dict(frequency_col="frequency_cal", recency_col="recency_cal", T_col="T_cal")


def simple_formula(answer, data=None) -> None:
    """CLV by the course formula for a margin of 50 per year, retention 85%, discount rate 10%
    (margins paid at the end of each year, infinite horizon)."""
    expected = clv.simple_clv(50, 0.85, 0.10)
    assert_scalar_close(answer, expected, what="your CLV",
                        hint="CLV = m * r / (1 + d - r) with r and d as fractions (85% -> 0.85). If you got "
                             "50 more, you counted a margin paid today.")
    passed("simple_formula")


def _summary(data) -> pd.DataFrame:
    return features.customer_summary(data.transactions, observation_end=data.observation_end, time_unit="W",
                                     amount_col="amount")


def weekly_summary(answer, data=None) -> None:
    """Per customer: frequency, recency, T in weeks and monetary_value, indexed by customer_id."""
    data = resolve_data(data)
    assert_frame_matches(answer, _summary(data), what="your customer summary", rtol=1e-9, atol=1e-9,
                         hint="Merge same-day purchases, count repeat purchase days (days - 1), measure "
                              "recency and T in days / 7 from the first purchase day to the last purchase "
                              "day and to the day of data.observation_end, and average the repeat days' "
                              "amounts (0 without repeat purchases). crm.features.customer_summary(..., "
                              "time_unit='W', amount_col='amount') does all of this.")
    passed("weekly_summary")


def bgnbd_params(answer, data=None) -> None:
    """BG/NBD parameters (a Series r, alpha, a, b) fitted to the weekly summary."""
    data = resolve_data(data)
    expected = clv.BetaGeoModel().fit(_summary(data)).params_
    assert_series_matches(answer, expected, rtol=1e-4, what="your BG/NBD parameters",
                          hint="Fit crm.clv.BetaGeoModel() to the weekly summary of exercise 2 and take "
                               ".params_. If alpha is 7 times too large, your summary is in days.")
    passed("bgnbd_params")


def p_alive(answer, data=None) -> None:
    """P(alive) at the observation end per customer (a Series indexed by customer_id)."""
    data = resolve_data(data)
    summary = _summary(data)
    expected = clv.BetaGeoModel().fit(summary).probability_alive(summary)
    assert_series_matches(answer, expected, rtol=1e-4, atol=1e-6, what="your P(alive)",
                          hint="model.probability_alive(summary) with the BG/NBD model of exercise 3; "
                               "customers without repeat purchases have P(alive) = 1 in BG/NBD.")
    passed("p_alive")


def _holdout_errors(data) -> pd.DataFrame:
    ch = features.calibration_holdout(data.transactions, cutoff=CUTOFF,
                                      observation_end=data.observation_end, time_unit="W")
    model = clv.BetaGeoModel().fit(ch, **_CAL)
    return clv.holdout_errors(clv.holdout_predictions({"BG/NBD": model}, ch))


def holdout_errors(answer, data=None) -> None:
    """Holdout errors table (model, mae, rmse, bias, ...) of BG/NBD and the baseline."""
    data = resolve_data(data)
    assert_frame_matches(answer, _holdout_errors(data), key="model", rtol=1e-4, what="your error table",
                         hint=f"calibration_holdout(..., cutoff='{CUTOFF}', "
                              f"observation_end=data.observation_end, time_unit='W'), fit BG/NBD on the *_cal "
                              f"columns, then crm.clv.holdout_errors(crm.clv.holdout_predictions("
                              f"{{'BG/NBD': model}}, ch)).")
    passed("holdout_errors")


def clv_12m(answer, data=None) -> None:
    """12-month CLV per customer (BG/NBD + Gamma-Gamma on repeat buyers, 1% monthly discount)."""
    data = resolve_data(data)
    summary = _summary(data)
    bg = clv.BetaGeoModel().fit(summary)
    gg = clv.GammaGammaModel().fit(summary[summary["frequency"] > 0])
    expected = clv.customer_lifetime_value(bg, gg, summary, horizon_months=12, discount_rate=0.01)
    assert isinstance(expected, pd.Series)
    assert_series_matches(answer, expected, rtol=1e-4, atol=1e-6, what="your CLV",
                          hint="Fit GammaGammaModel on the repeat buyers only (frequency > 0), then "
                               "crm.clv.customer_lifetime_value(bg, gg, summary, horizon_months=12, "
                               "discount_rate=0.01) for every customer (the model knows its time unit).")
    passed("clv_12m")


def _segment_params(data) -> pd.DataFrame:
    summary = _summary(data)
    channel = data.customers.set_index("customer_id")["acquisition_channel"].reindex(summary.index)
    rows = {name: clv.BetaGeoModel().fit(part).params_ for name, part in summary.groupby(channel)}
    return pd.DataFrame(rows).T.rename_axis("acquisition_channel")


def segment_params(answer, data=None) -> None:
    """BG/NBD parameters fitted separately per acquisition channel (an observable segment): a
    DataFrame indexed by channel with columns r, alpha, a, b."""
    data = resolve_data(data)
    assert_frame_matches(answer, _segment_params(data), rtol=1e-3, what="your per-channel parameters",
                         hint="Attach data.customers' acquisition_channel to the weekly summary by customer_id "
                              "(the latent segments of data.truth are not observable: they only judge the "
                              "models), then fit one BetaGeoModel per channel (groupby) and stack the "
                              "params_ as rows, one per channel.")
    passed("segment_params")
