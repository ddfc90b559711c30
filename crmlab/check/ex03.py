"""Checks for ``exercises/solutions/03_customer_value.ipynb`` (客户价值评估, 二八法则, 客户金字塔, ABC).

Customer value in this exercise set is each buyer's spend in calendar year 2024; the cost to
serve is 25 CNY per service contact in 2024 (discounts are not a cost: ``amount`` is already net
of them, see :func:`crmlab.segmentation.cost_to_serve`). Hints name the idea and the section of
notebook 03; they never give the code. Exercises 2-5 build on the spend of exercise 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import segmentation
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    judge,
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
    judge(assert_series_matches, answer, _spend(data), what="your 2024 spend",
          mistakes=[("your spend covers every year: keep the transactions dated in 2024 only.",
                     lambda: data.transactions.groupby("customer_id")["amount"].sum())],
          hint="Customer value here is each buyer's spend in calendar year 2024 — notebook 03, section 1 "
               "(客户价值评估).")
    passed("spend_2024")


def gini_2024(answer, data=None) -> None:
    """Gini coefficient of 2024 spend across buyers."""
    data = resolve_data(data)
    spend = _spend(data)
    judge(assert_scalar_close, answer, segmentation.gini(spend), what="your Gini coefficient",
          mistakes=[("your Gini uses the spend of every year: use the 2024 spend of exercise 1.",
                     lambda: segmentation.gini(data.transactions.groupby("customer_id")["amount"].sum()))],
          builds_on="exercise 1 (spend_2024)",
          hint="The Gini coefficient measures how far the Lorenz curve of spend is from equality (0 = equal, "
               "near 1 = concentrated) — notebook 03, section 2 (二八法则).")
    passed("gini_2024")


def top20_share(answer, data=None) -> None:
    """Share (0-1) of 2024 spend from the top 20% of buyers."""
    data = resolve_data(data)
    expected = segmentation.pareto_table(_spend(data), top=(0.2,))["value_share"].iloc[0]
    spend = _spend(data).sort_values()
    judge(assert_scalar_close, answer, expected, what="your top-20% share",
          mistakes=[("your share is a percentage: give a fraction between 0 and 1.", 100 * expected),
                    ("your share is that of the bottom 20% of buyers: rank by spend, largest first.",
                     lambda: spend.iloc[:int(np.ceil(0.2 * len(spend)))].sum() / spend.sum())],
          builds_on="exercise 1 (spend_2024)",
          hint="Rank buyers by spend, largest first, and take the share of spend of the first fifth of them "
               "(rounded up) — notebook 03, section 2 (二八法则).")
    passed("top20_share")


def abc(answer, data=None) -> None:
    """ABC class of every 2024 buyer (thresholds 80% and 95% of spend)."""
    data = resolve_data(data)
    spend = _spend(data)
    judge(assert_series_matches, answer, segmentation.abc_classes(spend), what="your ABC classes",
          mistakes=[("your classes cut by share of customers (top 20% = A), not by cumulative share of spend.",
                     lambda: pd.Series(np.where(spend.rank(ascending=False, pct=True) <= 0.2, "A",
                                                np.where(spend.rank(ascending=False, pct=True) <= 0.5, "B", "C")),
                                       index=spend.index))],
          builds_on="exercise 1 (spend_2024)",
          hint="Rank by spend; a customer is A while the customers ranked above it hold less than 80% of the "
               "spend, B up to 95%, C after — notebook 03, section 3 (ABC 分类).")
    passed("abc")


def pyramid(answer, data=None) -> None:
    """Customer pyramid of 2024 spend with the cost to serve (25 CNY per 2024 service contact)."""
    data = resolve_data(data)
    spend = _spend(data)
    expected = segmentation.customer_pyramid(spend, cost_to_serve=_cost(data, spend))
    expected = expected.drop(columns=["tier_zh", "advice"])
    def with_discounts():
        discounts = (_in_2024(data.transactions).groupby("customer_id")["discount"].sum()
                     .reindex(spend.index, fill_value=0.0))
        return segmentation.customer_pyramid(spend, cost_to_serve=_cost(data, spend) + discounts).drop(
            columns=["tier_zh", "advice"])

    def no_contacts():
        return segmentation.customer_pyramid(spend, cost_to_serve=pd.Series(0.0, index=spend.index)).drop(
            columns=["tier_zh", "advice"])

    judge(assert_frame_matches, answer, expected, key="tier", what="your pyramid",
          mistakes=[("your cost to serve counts the discounts: 'amount' is already net of them, so they are "
                     "counted twice.", with_discounts),
                    ("your cost to serve leaves out the service contacts: add 25 CNY per 2024 contact.",
                     no_contacts)],
          builds_on="exercise 1 (spend_2024)",
          hint="Cost to serve = 25 CNY per 2024 service contact, 0 for customers without any, aligned on "
               "customer_id; discounts are not a cost here — notebook 03, section 5 (客户金字塔).")
    passed("pyramid")
