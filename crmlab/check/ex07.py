"""Checks for ``exercises/solutions/07_loyalty.ipynb`` (客户忠诚度衡量, 忠诚度计划).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.loyalty`. Hints name
the idea and the section of notebook 07; they never give the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import loyalty
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

__all__ = ["repeat_rate", "surveyed_loyalty", "loyalty_types", "curve", "naive_vs_adjusted"]


def repeat_rate(answer: Any, data: CRMData | None = None) -> None:
    """Share of buying customers with at least two orders."""
    data = resolve_data(data)
    expected = loyalty.repeat_purchase_rate(data.transactions)
    orders = data.transactions.groupby("customer_id").size()
    judge(assert_scalar_close, answer, expected, what="your repeat purchase rate",
          mistakes=[("your rate is a percentage: give a fraction between 0 and 1.", 100 * expected),
                    ("your rate divides by every customer, prospects included: divide by the customers who bought.",
                     lambda: float((orders >= 2).sum() / len(data.customers))),
                    ("your rate counts customers with more than 2 orders: 2 orders already make a repeat buyer.",
                     lambda: float((orders > 2).mean()))],
          hint="Among customers who bought at all, the share with at least two orders — notebook 07, section 1 "
               "(行为忠诚).")
    passed("repeat_rate")


def _surveyed(data) -> pd.DataFrame:
    b = loyalty.behavioural_loyalty(data.transactions, observation_end=data.observation_end)
    a = loyalty.attitudinal_loyalty(data.surveys)
    return a[["attitudinal"]].join(b[["orders_per_month"]], how="inner").reset_index()


def surveyed_loyalty(answer: Any, data: CRMData | None = None) -> None:
    """Per surveyed customer: ``customer_id``, ``attitudinal`` and ``orders_per_month``."""
    data = resolve_data(data)
    expected = _surveyed(data)
    if isinstance(answer, pd.DataFrame) and len(answer) > len(expected):
        fail(f"your loyalty table has {len(answer)} rows, more than the {len(expected)} customers who both answered "
             f"a survey and bought: keep customers who appear in both.",
             "An inner join keeps the customers measured both ways — notebook 07, section 3 (忠诚度衡量指标).")
    judge(assert_frame_matches, answer, expected, key="customer_id", what="your loyalty table",
          hint="Per customer, the attitudinal score from the surveys next to the purchase rate per month, for "
               "customers measured both ways — notebook 07, section 3 (忠诚度衡量指标).")
    passed("surveyed_loyalty")


def loyalty_types(answer: Any, data: CRMData | None = None) -> None:
    """Number of surveyed customers in each Dick & Basu cell (median cuts): a Series by loyalty type."""
    data = resolve_data(data)
    m = loyalty.loyalty_matrix(_surveyed(data), attitudinal="attitudinal", behavioural="orders_per_month")
    expected = m["loyalty_type"].value_counts().sort_index()
    if isinstance(answer, Mapping):
        answer = pd.Series(dict(answer))
    if isinstance(answer, pd.Series):
        answer = answer.sort_index()
    judge(assert_series_matches, answer, expected, what="your loyalty-type counts",
          mistakes=[("your counts are shares: give the number of customers in each cell.",
                     lambda: expected / expected.sum())],
          builds_on="exercise 2 (surveyed_loyalty)",
          hint="Cut attitudinal and behavioural loyalty at their medians: the four cells of Dick & Basu — "
               "notebook 07, section 4 (忠诚度矩阵).")
    passed("loyalty_types")


def curve(answer: Any, data: CRMData | None = None) -> None:
    """Satisfaction-loyalty curve: share of respondents who bought again after their survey, by ``csat``."""
    data = resolve_data(data)
    sv = data.surveys
    last = data.transactions.groupby("customer_id")["date"].max()
    df = sv.assign(bought_again=(sv["customer_id"].map(last) > sv["date"]).astype(int))
    expected = loyalty.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="bought_again")
    any_order = sv.assign(bought_again=sv["customer_id"].isin(last.index).astype(int))
    judge(assert_frame_matches, answer, expected[["satisfaction", "n", "loyalty", "zone"]], key="satisfaction",
          what="your satisfaction-loyalty curve",
          mistakes=[("your bought_again counts any order: only an order after the survey date counts.",
                     lambda: loyalty.satisfaction_loyalty_curve(any_order, satisfaction="csat",
                                                                loyalty="bought_again")[
                         ["satisfaction", "n", "loyalty", "zone"]])],
          hint="A respondent bought again when their last order is later than the survey; then the share who "
               "did at each csat level — notebook 07, section 5 (满意度与忠诚度).")
    passed("curve")


def naive_vs_adjusted(answer: Any, data: CRMData | None = None) -> None:
    """The programme effect as a dict ``{"naive": ..., "before_after": ...}`` (relative increase, 0.2 = +20%)."""
    data = resolve_data(data)
    pe = loyalty.programme_effect(data.customers, data.transactions, observation_end=data.observation_end)
    expected = pe.set_index("method")["effect"]
    ratio = pe.set_index("method")["rate_ratio"] if "rate_ratio" in pe.columns else None
    if isinstance(answer, pd.DataFrame) and "method" in answer.columns and "effect" in answer.columns:
        answer = answer.set_index("method")["effect"]
    if isinstance(answer, pd.Series):
        answer = answer.to_dict()
    if not isinstance(answer, Mapping) or not {"naive", "before_after"} <= set(answer):
        fail("your answer should map 'naive' and 'before_after' to an effect (a dict or a Series).",
             "The programme effect is estimated two ways: members vs non-members, and members before vs after "
             "joining — notebook 07, section 6 (忠诚度计划).")
    for key in ("naive", "before_after"):
        judge(assert_scalar_close, answer[key], expected[key], what=f"your {key} effect",
              mistakes=[] if ratio is None else [
                  (f"your {key} effect is the rate ratio: the effect is the ratio minus 1 (0.2 = +20%).",
                   float(ratio[key]))],
              hint="A relative increase: the rate ratio minus 1 — notebook 07, section 6 (忠诚度计划).")
    passed("naive_vs_adjusted")
