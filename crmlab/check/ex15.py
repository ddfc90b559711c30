"""Checks for ``exercises/solutions/15_kpis_and_experiments.ipynb`` (实施与监控, KPI, 反馈与改进).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.monitoring`. Hints
name the idea and the section of notebook 15; they never give the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab import monitoring
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
    passed,
    resolve_data,
)

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = [
    "CHART_START",
    "monthly_active",
    "churn_rate_last_month",
    "churn_chart",
    "campaign_test",
    "customers_needed",
]

CHART_START = "2023-07"
"""First month charted in the control-chart exercise (the months before build up the base)."""


def _kpis(data):
    return monitoring.kpi_table(data)


def monthly_active(answer: Any, data: CRMData | None = None) -> None:
    """Distinct customers who bought in each month: a Series indexed by monthly Period."""
    data = resolve_data(data)
    expected = _kpis(data).set_index("period")["active_customers"]
    expected = expected[expected > 0]
    if isinstance(answer, pd.Series) and not isinstance(answer.index, pd.PeriodIndex):
        try:
            answer = answer.set_axis(pd.PeriodIndex(answer.index.astype(str), freq="M"))
        except (ValueError, TypeError):
            pass
    tx = data.transactions
    orders = lambda: tx.groupby(tx["date"].dt.to_period("M")).size().reindex(expected.index)  # noqa: E731
    judge(assert_series_matches, answer, expected, what="your monthly active customers",
          mistakes=[("your counts are orders: an active customer counts once per month, however often they buy.",
                     orders)],
          hint="Per calendar month, the number of distinct customers who bought — notebook 15, section 1 "
               "(关键绩效指标).")
    passed("monthly_active")


def churn_rate_last_month(answer: Any, data: CRMData | None = None) -> None:
    """Churn rate of the last month of the data (3-month inactivity window), as a fraction."""
    data = resolve_data(data)
    k = _kpis(data)
    expected = float(k["churn_rate"].iloc[-1])
    judge(assert_scalar_close, answer, expected, what="your churn rate",
          mistakes=[("your churn rate is a percentage: give a fraction between 0 and 1.", 100 * expected),
                    ("your churn rate is that of the first month: the exercise asks for the last month of the data.",
                     float(k["churn_rate"].dropna().iloc[0]) if k["churn_rate"].notna().any() else None),
                    ("your churn rate is the mean over all months: the exercise asks for the last month.",
                     float(k["churn_rate"].mean()))],
          hint="Lost customers over the customers active at the start of the month, with the 3-month inactivity "
               "window, for the last month of the data — notebook 15, section 1 (关键绩效指标).")
    passed("churn_rate_last_month")


def churn_chart(answer: Any, data: CRMData | None = None) -> None:
    """p-chart of the monthly churn rate from :data:`CHART_START`, limits from its first 12 months."""
    data = resolve_data(data)
    k = _kpis(data)
    k = k[(k["period"] >= pd.Period(CHART_START, freq="M")).to_numpy()].reset_index(drop=True)
    expected = monitoring.control_chart(k, "churn_rate", n_col="customers_start", baseline=12)
    expected = expected[["period", "center", "lcl", "ucl", "alert"]]
    def every_month_baseline():
        c = monitoring.control_chart(k, "churn_rate", n_col="customers_start", baseline=len(k))
        return c[["period", "center", "lcl", "ucl", "alert"]]

    def from_the_start():
        full = _kpis(data)
        c = monitoring.control_chart(full, "churn_rate", n_col="customers_start", baseline=12)
        return c[["period", "center", "lcl", "ucl", "alert"]]

    judge(assert_frame_matches, answer, expected, key="period", what="your churn control chart",
          mistakes=[("your limits come from every month: set them on the first 12 months only (the baseline), then "
                     "watch the later months against them.", every_month_baseline),
                    ("your chart starts at the first month of the data: start at check.CHART_START (the months "
                     "before only build up the customer base).", from_the_start)],
          hint="A p-chart: the centre line and 3-sigma limits (which depend on each month's number of customers) "
               "come from the first 12 charted months — notebook 15, section 2 (控制图).")
    passed("churn_chart")


def _campaign(data):
    from crmlab.uplift import campaign_table

    return campaign_table(data)


def campaign_test(answer: Any, data: CRMData | None = None) -> None:
    """Two-proportion test of ``retained`` between treated and control customers of the campaign."""
    data = resolve_data(data)
    expected = monitoring.ab_test(_campaign(data), group_col="treated", treatment=1, control=0,
                                  outcome_col="retained")
    hint = ("Compare the retention of treated and control customers of the campaign: the difference, its 95% "
            "confidence interval and the p-value of the two-proportion test — notebook 15, section 3 (A/B 测试).")
    if isinstance(answer, pd.Series):
        answer = answer.to_frame().T
    if isinstance(answer, dict):
        answer = pd.DataFrame([answer])
    if not isinstance(answer, pd.DataFrame) or len(answer) != 1:
        fail("your answer should be one row with difference, ci_low, ci_high and p_value.", hint)
    for col in ("difference", "ci_low", "ci_high", "p_value"):
        if col not in answer.columns:
            fail(f"your table has no column {col!r}.", hint)
    if np.isclose(float(answer["difference"].iloc[0]), -float(expected["difference"].iloc[0]), rtol=1e-6) and \
            float(expected["difference"].iloc[0]) != 0:
        fail("your difference is control minus treated: the effect is treated minus control.", hint)
    for col in ("difference", "ci_low", "ci_high", "p_value"):
        assert_scalar_close(answer[col].iloc[0], expected[col].iloc[0], what=f"your {col}", hint=hint)
    passed("campaign_test")


def customers_needed(answer: Any, data: CRMData | None = None) -> None:
    """Treated customers needed to detect +3 points of retention with 80 % power (equal groups)."""
    data = resolve_data(data)
    table = _campaign(data)
    control_rate = float(table.loc[table["treated"] == 0, "retained"].mean())
    expected = monitoring.sample_size("proportion", baseline=control_rate, mde=0.03, power=0.8, alpha=0.05)
    judge(assert_scalar_close, answer, expected, rtol=0, atol=0.5, what="your sample size",
          mistakes=[("your number counts both groups: the exercise asks for the treated customers (one group).",
                     2 * expected),
                    ("your baseline is the treated group's retention: the baseline is the control group's rate.",
                     lambda: monitoring.sample_size("proportion", baseline=float(
                         table.loc[table["treated"] == 1, "retained"].mean()), mde=0.03, power=0.8, alpha=0.05))],
          builds_on="exercise 4 (campaign_test)",
          hint="The sample size per group to detect +3 points over the control group's retention, with 80% power "
               "at the 5% level — notebook 15, section 4 (统计功效与样本量).")
    passed("customers_needed")
