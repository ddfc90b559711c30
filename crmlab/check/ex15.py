"""Checks for ``exercises/solutions/15_kpis_and_experiments.ipynb`` (实施与监控, KPI, 反馈与改进).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.monitoring`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import monitoring
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    fail,
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
    assert_series_matches(answer, expected, what="your monthly active customers",
                          hint="Group transactions by date.dt.to_period('M') and count distinct customer_id "
                               "(nunique), not orders.")
    passed("monthly_active")


def churn_rate_last_month(answer: Any, data: CRMData | None = None) -> None:
    """Churn rate of the last month of the data (3-month inactivity window), as a fraction."""
    data = resolve_data(data)
    expected = float(_kpis(data)["churn_rate"].iloc[-1])
    assert_scalar_close(answer, expected, what="your churn rate",
                        hint="crm.monitoring.kpi_table(data) has one row per month; take churn_rate of the "
                             "last row (a fraction: lost customers / customers at the start of the month).")
    passed("churn_rate_last_month")


def churn_chart(answer: Any, data: CRMData | None = None) -> None:
    """p-chart of the monthly churn rate from :data:`CHART_START`, limits from its first 12 months."""
    data = resolve_data(data)
    k = _kpis(data)
    k = k[(k["period"] >= pd.Period(CHART_START, freq="M")).to_numpy()].reset_index(drop=True)
    expected = monitoring.control_chart(k, "churn_rate", n_col="customers_start", baseline=12)
    expected = expected[["period", "center", "lcl", "ucl", "alert"]]
    assert_frame_matches(answer, expected, key="period", what="your churn control chart",
                         hint="Keep the months from check.CHART_START, then crm.monitoring.control_chart("
                              "kpis, 'churn_rate', n_col='customers_start', baseline=12).")
    passed("churn_chart")


def _campaign(data):
    from crmlab.uplift import campaign_table

    return campaign_table(data)


def campaign_test(answer: Any, data: CRMData | None = None) -> None:
    """Two-proportion test of ``retained`` between treated and control customers of the campaign."""
    data = resolve_data(data)
    expected = monitoring.ab_test(_campaign(data), group_col="treated", treatment=1, control=0,
                                  outcome_col="retained")
    hint = ("Use crm.monitoring.ab_test(crm.uplift.campaign_table(data), group_col='treated', treatment=1, "
            "control=0, outcome_col='retained').")
    if not isinstance(answer, pd.DataFrame) or len(answer) != 1:
        fail("your answer should be the one-row table that ab_test returns.", hint)
    for col in ("difference", "ci_low", "ci_high", "p_value"):
        if col not in answer.columns:
            fail(f"your table has no column {col!r}.", hint)
        assert_scalar_close(answer[col].iloc[0], expected[col].iloc[0], what=f"your {col}", hint=hint)
    passed("campaign_test")


def customers_needed(answer: Any, data: CRMData | None = None) -> None:
    """Treated customers needed to detect +3 points of retention with 80 % power (equal groups)."""
    data = resolve_data(data)
    table = _campaign(data)
    control_rate = float(table.loc[table["treated"] == 0, "retained"].mean())
    expected = monitoring.sample_size("proportion", baseline=control_rate, mde=0.03, power=0.8, alpha=0.05)
    assert_scalar_close(answer, expected, rtol=0, atol=0.5, what="your sample size",
                        hint="crm.monitoring.sample_size('proportion', baseline=<control retention rate>, "
                             "mde=0.03) with the default alpha=0.05 and power=0.8.")
    passed("customers_needed")
