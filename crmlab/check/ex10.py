"""Checks for ``exercises/solutions/10_churn_survival.ipynb`` (客户流失: 生存分析).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.survival`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab import survival
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = ["INACTIVITY_DAYS", "HORIZON_DAYS", "HAZARD_WIDTH", "tenure", "survival_at_one_year", "median_tenure",
           "logrank_income", "hazard_by_month"]

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
    assert_frame_matches(answer, expected, key="customer_id", what="your tenure table",
                         hint="Count whole calendar days (.dt.normalize() the dates, then .dt.days). "
                              "Churned (1): the last purchase day is more than 90 days before the day of "
                              "data.observation_end; duration = last - first purchase day. Otherwise censored "
                              "(0): duration = observation_end's day - first purchase day.")
    passed("tenure")


def survival_at_one_year(answer: Any, data: Any = None) -> None:
    """Kaplan–Meier probability that a buyer is still a customer 365 days after the first purchase."""
    data = resolve_data(data)
    km = _km(data)
    expected = float(km.loc[km["time"] <= HORIZON_DAYS, "survival"].iloc[-1])
    assert_scalar_close(answer, expected, rtol=1e-6, what="your survival at one year",
                        hint="Use crm.survival.kaplan_meier(duration, churned) and take the survival of the last "
                             "row with time <= 365 (the curve is a step function). Do not drop censored customers.")
    passed("survival_at_one_year")


def median_tenure(answer: Any, data: Any = None) -> None:
    """Kaplan–Meier median tenure in days."""
    data = resolve_data(data)
    expected = float(survival.median_survival(_km(data))["median"].iloc[0])
    assert_scalar_close(answer, expected, rtol=1e-6, what="your median tenure",
                        hint="The median is the first time the Kaplan–Meier survival is <= 0.5 "
                             "(crm.survival.median_survival), not the median of the observed durations.")
    passed("median_tenure")


def logrank_income(answer: Any, data: Any = None) -> None:
    """Chi-square statistic of the log-rank test of tenure across income bands."""
    data = resolve_data(data)
    t = _tenure(data)
    income = data.customers.set_index("customer_id").loc[t.index, "income_band"]
    expected = float(survival.logrank_test(t["duration"], t["churned"], income)["chi2"].iloc[0])
    assert_scalar_close(answer, expected, rtol=1e-6, what="your log-rank chi-square",
                        hint="Align the income band of data.customers with the tenure table on customer_id, then "
                             "crm.survival.logrank_test(duration, churned, income)['chi2'].")
    passed("logrank_income")


def hazard_by_month(answer: Any, data: Any = None) -> None:
    """Hazard per 30-day interval of tenure (Series indexed by the interval start in days)."""
    data = resolve_data(data)
    t = _tenure(data)
    ht = survival.hazard_table(t["duration"], t["churned"], width=HAZARD_WIDTH)
    expected = ht.set_index("start")["hazard"]
    assert_series_matches(answer, expected, what="your hazard per month",
                          hint="Per 30-day interval [a, a + 30): hazard = churns / (customers still there at a - "
                               "censored in the interval / 2). crm.survival.hazard_table(..., width=30).")
    passed("hazard_by_month")
