"""Checks for ``exercises/solutions/03_customer_value.ipynb`` (客户价值评估, 二八法则, 客户金字塔, ABC).

Customer value in this exercise set is each buyer's spend in calendar year 2024; the cost to
serve is 25 CNY per service contact in 2024 (discounts are not a cost: ``amount`` is already net
of them, see :func:`crmlab.segmentation.cost_to_serve`).
"""

from __future__ import annotations

import pandas as pd

from crmlab import segmentation
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = ["spend_2024", "gini_2024", "top20_share", "abc", "pyramid"]

CONTACT_COST = 25.0


def _in_2024(frame: pd.DataFrame, column: str = "date") -> pd.DataFrame:
    return frame[frame[column].dt.year == 2024]


def _spend(data) -> pd.Series:
    return _in_2024(data.transactions).groupby("customer_id")["amount"].sum()


def _cost(data, spend: pd.Series) -> pd.Series:
    return segmentation.cost_to_serve(data.transactions, data.interactions, customers=spend.index,
                                      contact_cost=CONTACT_COST, observation_start="2024-01-01",
                                      observation_end="2024-12-31")


def spend_2024(answer, data=None) -> None:
    """Total spend per customer in 2024 (customers who bought in 2024)."""
    data = resolve_data(data)
    assert_series_matches(answer, _spend(data), what="your 2024 spend",
                          hint="Keep the transactions dated in 2024 (data.transactions['date'].dt.year == 2024), "
                               "then group by customer_id and sum 'amount'.")
    passed("spend_2024")


def gini_2024(answer, data=None) -> None:
    """Gini coefficient of 2024 spend across buyers."""
    data = resolve_data(data)
    assert_scalar_close(answer, segmentation.gini(_spend(data)), what="your Gini coefficient",
                        hint="crm.segmentation.gini(spend) on the 2024 spend of each buyer; 0 = equal, near 1 = "
                             "concentrated.")
    passed("gini_2024")


def top20_share(answer, data=None) -> None:
    """Share (0-1) of 2024 spend from the top 20% of buyers."""
    data = resolve_data(data)
    expected = segmentation.pareto_table(_spend(data), top=(0.2,))["value_share"].iloc[0]
    assert_scalar_close(answer, expected, what="your top-20% share",
                        hint="Sort buyers by spend (largest first), take the first ceil(0.2 x n) and divide their "
                             "spend by the total; or read crm.segmentation.pareto_table(spend).")
    passed("top20_share")


def abc(answer, data=None) -> None:
    """ABC class of every 2024 buyer (thresholds 80% and 95% of spend)."""
    data = resolve_data(data)
    assert_series_matches(answer, segmentation.abc_classes(_spend(data)), what="your ABC classes",
                          hint="A customer is A while the customers ranked above it hold less than 80% of the "
                               "spend; use crm.segmentation.abc_classes(spend).")
    passed("abc")


def pyramid(answer, data=None) -> None:
    """Customer pyramid of 2024 spend with the cost to serve (25 CNY per 2024 service contact)."""
    data = resolve_data(data)
    spend = _spend(data)
    expected = segmentation.customer_pyramid(spend, cost_to_serve=_cost(data, spend))
    expected = expected.drop(columns=["tier_zh", "advice"])
    assert_frame_matches(answer, expected, key="tier", what="your pyramid",
                         hint="Cost to serve = 25 x 2024 service contacts (data.interactions), 0 for customers "
                              "without any; do not add the discounts: 'amount' is already net of them. Pass it as "
                              "cost_to_serve= to "
                              "crm.segmentation.customer_pyramid(spend, ...), aligned on customer_id.")
    passed("pyramid")
