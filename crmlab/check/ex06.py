"""Checks for ``exercises/solutions/06_complaints_and_recovery.ipynb`` (客户投诉处理, 客户反馈管理).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.satisfaction`. Hints
name the idea and the section of notebook 06; they never give the code.
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
    judge,
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
    n_orders = len(data.transactions)
    judge(assert_scalar_close, answer, expected, what="your complaint rate",
          mistakes=[("your rate counts every interaction: inquiries are not complaints.",
                     lambda: 1000 * len(data.interactions) / n_orders),
                    ("your rate is per order, not per 1,000 orders.", expected / 1000),
                    ("your rate divides by customers, not by orders.",
                     lambda: 1000 * int((data.interactions["type"] == "complaint").sum())
                     / data.transactions["customer_id"].nunique())],
          hint="Complaints (not inquiries) over orders, scaled to 1,000 orders — notebook 06, section 3 "
               "(投诉处理指标).")
    passed("complaints_per_1000")


def resolved_share_by_category(answer: Any, data: CRMData | None = None) -> None:
    """Share of complaints resolved per complaint category: a Series indexed by category."""
    data = resolve_data(data)
    m = satisfaction.complaint_metrics(data.interactions, by="category")
    expected = m[m["n_complaints"] > 0].set_index("category")["resolved_share"].sort_index()
    if isinstance(answer, pd.DataFrame) and {"category", "resolved_share"} <= set(answer.columns):
        answer = answer[answer["resolved_share"].notna()].set_index("category")["resolved_share"]
    if isinstance(answer, dict):
        answer = pd.Series(answer)
    if isinstance(answer, pd.Series):
        answer = answer.dropna().sort_index()
    every = data.interactions.groupby("category")["resolved"].mean()
    judge(assert_series_matches, answer, expected, what="your resolved shares",
          mistakes=[("your shares include inquiries: keep complaints only.",
                     every),
                    ("your shares are percentages: give fractions between 0 and 1.", lambda: 100 * expected)],
          hint="Among complaints only, the share resolved in each category — notebook 06, section 3 "
               "(投诉处理指标).")
    passed("resolved_share_by_category")


def median_resolution_days(answer: Any, data: CRMData | None = None) -> None:
    """Median days to resolve a complaint, over resolved complaints."""
    data = resolve_data(data)
    expected = satisfaction.complaint_metrics(data.interactions, by=None)["resolution_days_p50"].iloc[0]
    inter = data.interactions
    judge(assert_scalar_close, answer, expected, what="your median resolution time",
          mistakes=[("your median includes inquiries: keep complaints only.",
                     lambda: float(inter.loc[inter["resolved"].astype(bool), "resolution_days"].median())),
                    ("your median is a mean: take the median.",
                     lambda: float(inter.loc[(inter["type"] == "complaint") & inter["resolved"].astype(bool),
                                             "resolution_days"].mean()))],
          hint="Over resolved complaints only (unresolved ones have no resolution time; inquiries are not "
               "complaints) — notebook 06, section 3 (投诉处理指标).")
    passed("median_resolution_days")


def slowest_channel(answer: Any, data: CRMData | None = None) -> None:
    """The service channel with the highest 90th percentile of complaint resolution time."""
    data = resolve_data(data)
    m = satisfaction.complaint_metrics(data.interactions, by="channel")
    expected = m.sort_values("resolution_days_p90", ascending=False)["channel"].iloc[0]
    if answer != expected:
        by_median = m.sort_values("resolution_days_p50", ascending=False)["channel"].iloc[0]
        if answer == by_median and by_median != expected:
            fail(f"{answer!r} has the slowest median; the exercise ranks channels by the 90th percentile "
                 f"(the slow tail customers remember).", "notebook 06, section 3 (投诉处理指标).")
        fail(f"your slowest channel is {answer!r}, which is not the channel with the highest 90th percentile of "
             f"resolution days among resolved complaints.",
             "Compare the 90th percentile of resolution days per channel over resolved complaints — notebook 06, "
             "section 3 (投诉处理指标).")
    passed("slowest_channel")


def recovery_table(answer: Any, data: CRMData | None = None) -> None:
    """The service-recovery comparison with survey outcomes (``service_recovery(..., surveys=...)``)."""
    data = resolve_data(data)
    expected = satisfaction.service_recovery(data.interactions, data.transactions, surveys=data.surveys)
    expected = expected[["group", "n_orders", "repurchase_share", "n_responses", "mean_csat"]]
    judge(assert_frame_matches, answer, expected, key="group", what="your service-recovery table",
          mistakes=[("your repurchase_share is a percentage: give a fraction between 0 and 1.",
                     lambda: expected.assign(repurchase_share=100 * expected["repurchase_share"]))],
          hint="Compare customers whose complaint was resolved, unresolved and who never complained: repurchase "
               "after the complaint and the CSAT of later surveys — notebook 06, section 4 (服务补救).")
    passed("recovery_table")
