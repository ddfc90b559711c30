"""Checks for ``exercises/solutions/06_complaints_and_recovery.ipynb`` (客户投诉处理, 客户反馈管理).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.satisfaction`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import satisfaction
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

__all__ = ["complaints_per_1000", "resolved_share_by_category", "median_resolution_days", "slowest_channel",
           "recovery_table"]


def complaints_per_1000(answer: Any, data: CRMData | None = None) -> None:
    """Complaints per 1,000 orders over the whole period."""
    data = resolve_data(data)
    expected = satisfaction.complaint_rate(data.interactions, data.transactions)["complaints_per_1000_orders"].iloc[0]
    assert_scalar_close(answer, expected, what="your complaint rate",
                        hint="Count rows of data.interactions with type == 'complaint' (not inquiries), divide "
                             "by the number of orders in data.transactions and multiply by 1000.")
    passed("complaints_per_1000")


def resolved_share_by_category(answer: Any, data: CRMData | None = None) -> None:
    """Share of complaints resolved per complaint category: a Series indexed by category."""
    data = resolve_data(data)
    m = satisfaction.complaint_metrics(data.interactions, by="category")
    expected = m[m["n_complaints"] > 0].set_index("category")["resolved_share"].sort_index()
    if isinstance(answer, pd.DataFrame) and {"category", "resolved_share"} <= set(answer.columns):
        answer = answer[answer["resolved_share"].notna()].set_index("category")["resolved_share"]
    if isinstance(answer, pd.Series):
        answer = answer.dropna().sort_index()
    assert_series_matches(answer, expected, what="your resolved shares",
                          hint="Keep complaints only (type == 'complaint'), group by category and take the mean "
                               "of the boolean 'resolved' column.")
    passed("resolved_share_by_category")


def median_resolution_days(answer: Any, data: CRMData | None = None) -> None:
    """Median days to resolve a complaint, over resolved complaints."""
    data = resolve_data(data)
    expected = satisfaction.complaint_metrics(data.interactions, by=None)["resolution_days_p50"].iloc[0]
    assert_scalar_close(answer, expected, what="your median resolution time",
                        hint="Use complaints that were resolved (unresolved ones have no resolution time), and "
                             "leave inquiries out: their resolution times are much shorter.")
    passed("median_resolution_days")


def slowest_channel(answer: Any, data: CRMData | None = None) -> None:
    """The service channel with the highest 90th percentile of complaint resolution time."""
    data = resolve_data(data)
    m = satisfaction.complaint_metrics(data.interactions, by="channel")
    expected = m.sort_values("resolution_days_p90", ascending=False)["channel"].iloc[0]
    if answer != expected:
        fail(f"your slowest channel is {answer!r}; the channel with the highest 90th percentile "
             f"of resolution days among resolved complaints is a different one.",
             "crm.satisfaction.complaint_metrics(data.interactions, by='channel') has "
             "'resolution_days_p90'; sort by it.")
    passed("slowest_channel")


def recovery_table(answer: Any, data: CRMData | None = None) -> None:
    """The service-recovery comparison with survey outcomes (``service_recovery(..., surveys=...)``)."""
    data = resolve_data(data)
    expected = satisfaction.service_recovery(data.interactions, data.transactions, surveys=data.surveys)
    expected = expected[["group", "n_orders", "repurchase_share", "n_responses", "mean_csat"]]
    assert_frame_matches(answer, expected, key="group", what="your service-recovery table",
                         hint="crm.satisfaction.service_recovery(data.interactions, data.transactions, "
                              "surveys=data.surveys).")
    passed("recovery_table")
