"""Checks for ``exercises/solutions/10_churn_survival.ipynb`` (客户流失: 生存分析).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.survival`. Hints name
the idea and the section of notebook 10; they never give the code. Exercises 2-5 build on the
tenure table of exercise 1.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab import survival
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    judge,
    passed,
    resolve_data,
)

__all__ = ["INACTIVITY_DAYS", "HORIZON_DAYS", "HAZARD_WIDTH", "tenure", "survival_at_one_year", "median_tenure",
           "logrank_income", "hazard_by_month", "member_hazard_ratio"]

INACTIVITY_DAYS = 90
"""A customer silent more than this many days before the observation end counts as churned."""
HORIZON_DAYS = 365
"""Tenure at which the survival exercise reads the curve."""
HAZARD_WIDTH = 30
"""Width (days) of the life-table intervals."""


def _tenure(data) -> pd.DataFrame:
    return survival.tenure_table(data.transactions, observation_end=data.observation_end,
                                 inactivity_days=INACTIVITY_DAYS)


def _km(data) -> pd.DataFrame:
    t = _tenure(data)
    return survival.kaplan_meier(t["duration"], t["churned"])


def tenure(answer: Any, data: Any = None) -> None:
    """Per buyer (index customer_id): ``duration`` in days and ``churned`` (0/1)."""
    data = resolve_data(data)
    expected = _tenure(data).reset_index()
    if isinstance(answer, pd.DataFrame) and "customer_id" not in answer.columns:
        answer = answer.reset_index()
    def censored_as_last():
        t = expected.copy()
        g = data.transactions["date"].dt.normalize().groupby(data.transactions["customer_id"])
        span = (g.max() - g.min()).dt.days.reindex(t["customer_id"]).to_numpy()
        return t.assign(duration=span.astype(float))

    judge(assert_frame_matches, answer, expected, key="customer_id", what="your tenure table",
          mistakes=[("your duration stops at the last purchase for every customer: a censored customer (still "
                     "active) is observed up to the end of the data.", censored_as_last)],
          hint="In whole calendar days: a churned customer's tenure ends at the last purchase; a censored one's "
               "runs to the end of the data — notebook 10, section 1 (在网时长与删失).")
    passed("tenure")


def survival_at_one_year(answer: Any, data: Any = None) -> None:
    """Kaplan–Meier probability that a buyer is still a customer 365 days after the first purchase."""
    data = resolve_data(data)
    km = _km(data)
    expected = float(km.loc[km["time"] <= HORIZON_DAYS, "survival"].iloc[-1])
    t = _tenure(data)
    judge(assert_scalar_close, answer, expected, rtol=1e-6, what="your survival at one year",
          mistakes=[("your survival is the plain share with a tenure over 365 days: censored customers left early "
                     "by the end of the data, not by churning — use the Kaplan-Meier estimate.",
                     lambda: float((t["duration"] > HORIZON_DAYS).mean())),
                    ("your estimate drops the censored customers: they count as at risk until they leave the data.",
                     lambda: float(survival.kaplan_meier(t.loc[t["churned"] == 1, "duration"],
                                                         t.loc[t["churned"] == 1, "churned"])
                                   .pipe(lambda k: k.loc[k["time"] <= HORIZON_DAYS, "survival"].iloc[-1])))],
          builds_on="exercise 1 (tenure)",
          hint="Read the Kaplan-Meier curve at 365 days (it is a step function: the last step at or before) — "
               "notebook 10, section 2 (Kaplan–Meier 生存曲线).")
    passed("survival_at_one_year")


def median_tenure(answer: Any, data: Any = None) -> None:
    """Kaplan–Meier median tenure in days."""
    data = resolve_data(data)
    expected = float(survival.median_survival(_km(data))["median"].iloc[0])
    t = _tenure(data)
    judge(assert_scalar_close, answer, expected, rtol=1e-6, what="your median tenure",
          mistakes=[("your median is that of the observed durations, which treats censored (still active) customers "
                     "as if they had left: read the median off the Kaplan-Meier curve.",
                     lambda: float(t["duration"].median()))],
          builds_on="exercise 1 (tenure)",
          hint="The median tenure is the first time the Kaplan-Meier survival falls to 0.5 or below — notebook 10, "
               "section 2 (Kaplan–Meier 生存曲线).")
    passed("median_tenure")


def logrank_income(answer: Any, data: Any = None) -> None:
    """Chi-square statistic of the log-rank test of tenure across income bands."""
    data = resolve_data(data)
    t = _tenure(data)
    income = data.customers.set_index("customer_id").loc[t.index, "income_band"]
    expected = float(survival.logrank_test(t["duration"], t["churned"], income)["chi2"].iloc[0])
    judge(assert_scalar_close, answer, expected, rtol=1e-6, what="your log-rank chi-square",
          mistakes=[("your answer is the p-value: the exercise asks for the chi-square statistic.",
                     lambda: float(survival.logrank_test(t["duration"], t["churned"], income)["p_value"].iloc[0]))],
          builds_on="exercise 1 (tenure)",
          hint="The log-rank test compares observed and expected churns of each income band over time; align the "
               "band with the tenure table on customer_id — notebook 10, section 3 (分组生存曲线与对数秩检验).")
    passed("logrank_income")


def hazard_by_month(answer: Any, data: Any = None) -> None:
    """Hazard per 30-day interval of tenure (Series indexed by the interval start in days)."""
    data = resolve_data(data)
    t = _tenure(data)
    ht = survival.hazard_table(t["duration"], t["churned"], width=HAZARD_WIDTH)
    expected = ht.set_index("start")["hazard"]
    def no_actuarial():
        return (ht["events"] / ht["at_risk"]).set_axis(ht["start"])

    if isinstance(answer, pd.DataFrame) and {"start", "hazard"} <= set(answer.columns):
        answer = answer.set_index("start")["hazard"]
    judge(assert_series_matches, answer, expected, what="your hazard per month",
          mistakes=[("your hazard divides by everyone at the start of the interval: the censored of the interval "
                     "count as half at risk (the actuarial correction).", no_actuarial)],
          builds_on="exercise 1 (tenure)",
          hint="Per 30-day interval: churns over the customers at risk, the censored of the interval counting "
               "half — notebook 10, section 4 (按在网时长的流失风险).")
    passed("hazard_by_month")


def _member_table(data) -> pd.DataFrame:
    t = _tenure(data)
    member = data.customers.set_index("customer_id")["is_member"].reindex(t.index).astype(float)
    return t.assign(is_member=member.to_numpy())


def member_hazard_ratio(answer: Any, data: Any = None) -> None:
    """Hazard ratio of members against non-members in a Cox model of tenure."""
    data = resolve_data(data)
    table = _member_table(data)
    cox = survival.cox_model(table, duration="duration", event="churned", covariates="is_member")
    expected = float(cox["hazard_ratio"].iloc[0])
    judge(assert_scalar_close, answer, expected, rtol=1e-3, what="your hazard ratio",
          mistakes=[("your answer is the coefficient (the log of the hazard ratio): the hazard ratio is its "
                     "exponential.", float(cox["coef"].iloc[0])),
                    ("your hazard ratio compares non-members with members: code membership as 1 for members.",
                     1 / expected),
                    ("your answer is the p-value: the exercise asks for the hazard ratio.",
                     float(cox["p_value"].iloc[0]))],
          builds_on="exercise 1 (tenure)",
          hint="A Cox model leaves the baseline hazard free and multiplies it by one factor per covariate: the "
               "hazard ratio (below 1: members churn more slowly at every tenure) — notebook 10, section 7 "
               "(Cox 比例风险模型).")
    passed("member_hazard_ratio")
