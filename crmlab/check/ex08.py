"""Checks for ``exercises/solutions/08_customer_lifetime_value.ipynb`` (客户生命周期价值, CLV).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.clv` and
:mod:`crmlab.features`. Model estimates are compared with a relative tolerance of 1e-4,
which any converged optimiser meets. Hints name the idea and the section of notebook 08; they
never give the code. Exercises 3, 4 and 6 build on the weekly summary of exercise 2.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from crmlab import clv, features
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    judge,
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
    judge(assert_scalar_close, answer, expected, what="your CLV",
          mistakes=[("your CLV counts a margin paid today as well: the margins are paid at the end of each year.",
                     expected + 50),
                    ("your CLV uses the formula m / (1 + d - r), the one for a margin paid today; here the first "
                     "margin comes at the end of the first year, and only if the customer stays.",
                     lambda: 50 / (1 + 0.10 - 0.85))],
          hint="Sum the margins of every future year, each weighted by the probability of still being a customer "
               "and discounted back to today — notebook 08, section 1 (简单 CLV 公式).")
    passed("simple_formula")


def _summary(data) -> pd.DataFrame:
    return features.customer_summary(data.transactions, observation_end=data.observation_end, time_unit="W",
                                     amount_col="amount")


def weekly_summary(answer, data=None) -> None:
    """Per customer: frequency, recency, T in weeks and monetary_value, indexed by customer_id."""
    data = resolve_data(data)
    expected = _summary(data)

    def in_days():
        return expected.assign(recency=expected["recency"] * 7, T=expected["T"] * 7)

    judge(assert_frame_matches, answer, expected, what="your customer summary", rtol=1e-9, atol=1e-9,
          key="customer_id",
          mistakes=[("your recency and T are in days: the exercise measures them in weeks.", in_days)],
          hint="Merge same-day purchases; frequency counts repeat purchase days; recency and T run from the first "
               "purchase day, in weeks; monetary value averages the repeat days' amounts — notebook 08, section 4 "
               "(从原始交易日志复现).")
    passed("weekly_summary")


def bgnbd_params(answer, data=None) -> None:
    """BG/NBD parameters (a Series r, alpha, a, b) fitted to the weekly summary."""
    data = resolve_data(data)
    expected = clv.BetaGeoModel().fit(_summary(data)).params_
    if isinstance(answer, Mapping):
        answer = pd.Series(dict(answer))
    if isinstance(answer, pd.Series):
        answer = answer.reindex([k for k in expected.index if k in answer.index] +
                                [k for k in answer.index if k not in expected.index])
    judge(assert_series_matches, answer, expected, rtol=1e-4, what="your BG/NBD parameters",
          mistakes=[("your alpha is about 7 times too large: the summary you fitted is in days, not weeks.",
                     lambda: expected.mul(pd.Series({"alpha": 7.0}).reindex(expected.index, fill_value=1.0)))],
          builds_on="exercise 2 (weekly_summary)",
          hint="Fit the BG/NBD model to the weekly summary and report its four parameters r, alpha, a, b — "
               "notebook 08, section 3 (非契约型客户：BG/NBD 模型).")
    passed("bgnbd_params")


def p_alive(answer, data=None) -> None:
    """P(alive) at the observation end per customer (a Series indexed by customer_id)."""
    data = resolve_data(data)
    summary = _summary(data)
    expected = clv.BetaGeoModel().fit(summary).probability_alive(summary)
    judge(assert_series_matches, answer, expected, rtol=1e-4, atol=1e-6, what="your P(alive)",
          mistakes=[("your values are the probability of having churned: P(alive) is one minus that.",
                     lambda: 1 - expected)],
          builds_on="exercise 3 (bgnbd_params)",
          hint="The fitted BG/NBD model gives each customer's probability of still being active at the end of "
               "the data; customers without repeat purchases have P(alive) = 1 — notebook 08, section 8 "
               "(各细分群体的存活概率与 CLV).")
    passed("p_alive")


def _holdout_errors(data) -> pd.DataFrame:
    ch = features.calibration_holdout(data.transactions, cutoff=CUTOFF,
                                      observation_end=data.observation_end, time_unit="W")
    model = clv.BetaGeoModel().fit(ch, **_CAL)
    return clv.holdout_errors(clv.holdout_predictions({"BG/NBD": model}, ch))


def holdout_errors(answer, data=None) -> None:
    """Holdout errors table (model, mae, rmse, bias, ...) of BG/NBD and the baseline."""
    data = resolve_data(data)
    def fitted_on_everything():
        ch = features.calibration_holdout(data.transactions, cutoff=CUTOFF,
                                          observation_end=data.observation_end, time_unit="W")
        model = clv.BetaGeoModel().fit(_summary(data))
        return clv.holdout_errors(clv.holdout_predictions({"BG/NBD": model}, ch))

    judge(assert_frame_matches, answer, _holdout_errors(data), key="model", rtol=1e-4, what="your error table",
          mistakes=[("your model was fitted on the whole history: fit it on the calibration period only (the "
                     "*_cal columns), or it has seen the holdout.", fitted_on_everything)],
          hint=f"Split the history at check.CUTOFF ({CUTOFF}); fit on the calibration period only and compare the "
               f"predicted and actual holdout purchases — notebook 08, section 5 (模型检验).")
    passed("holdout_errors")


def _overall_margin(data) -> float:
    """The company's margin on all spend: one rate for every customer (a mistake in exercise 6)."""
    tx = data.transactions
    return float(clv.margin_rate(tx.assign(customer_id=0), cost_share=data.config.b2b.cost_share).iloc[0])


def clv_12m(answer, data=None) -> None:
    """12-month CLV per customer: discounted margin (BG/NBD + Gamma-Gamma on repeat buyers, 1% monthly
    discount, each customer's margin rate from :func:`crmlab.clv.margin_rate`)."""
    data = resolve_data(data)
    summary = _summary(data)
    bg = clv.BetaGeoModel().fit(summary)
    gg = clv.GammaGammaModel().fit(summary[summary["frequency"] > 0])
    margin = clv.margin_rate(data).reindex(summary.index)

    def value(**kwargs):
        return clv.customer_lifetime_value(bg, gg, summary, horizon_months=12, **kwargs)
    expected = value(discount_rate=0.01, margin=margin)
    assert isinstance(expected, pd.Series)
    judge(assert_series_matches, answer, expected, rtol=1e-4, atol=1e-6, what="your CLV",
          mistakes=[("you used revenue, not margin: CLV keeps each customer's margin rate of what she spends "
                     "(crm.clv.margin_rate).", lambda: value(discount_rate=0.01)),
                    ("your CLV applies one margin to everybody: customers who buy on discount earn a lower margin "
                     "rate; give each customer her own.",
                     lambda: value(discount_rate=0.01, margin=_overall_margin(data))),
                    ("your CLV is not discounted: use the 1% monthly discount rate.",
                     lambda: value(discount_rate=0.0, margin=margin)),
                    ("your CLV is revenue and not discounted: keep the margin and discount 1% a month.",
                     lambda: value(discount_rate=0.0)),
                    ("your CLV covers only the repeat buyers: give every customer of the summary a value.",
                     lambda: expected[summary["frequency"] > 0])],
          builds_on="exercise 3 (bgnbd_params)",
          hint="Spend per purchase comes from a Gamma-Gamma model fitted on repeat buyers only; the CLV of every "
               "customer combines it with the BG/NBD purchases over 12 months, discounted, and keeps her margin "
               "rate of it — notebook 08, section 7 (客户生命周期价值计算) and notebook 08, section 8 "
               "(各细分群体的存活概率与 CLV).")
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
    expected = _segment_params(data)

    def pooled():
        return pd.DataFrame([clv.BetaGeoModel().fit(_summary(data)).params_] * len(expected),
                            index=expected.index)

    judge(assert_frame_matches, answer, expected, rtol=1e-3, what="your per-channel parameters",
          mistakes=[("your rows repeat the parameters of one model for everybody: fit a separate model on each "
                     "channel's customers.", pooled)],
          builds_on="exercise 2 (weekly_summary)",
          hint="Attach each customer's acquisition channel (from the customer table) to the weekly summary by "
               "customer_id — the latent segments of data.truth are not observable, they only judge the models — "
               "then fit one BG/NBD model on each channel's customers and put their four parameters in one row "
               "per channel — notebook 08, section 3 (非契约型客户：BG/NBD 模型).")
    passed("segment_params")
