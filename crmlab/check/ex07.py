"""Checks for ``exercises/solutions/07_loyalty.ipynb`` (客户忠诚度衡量, 忠诚度计划).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.loyalty`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import loyalty
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

__all__ = ["repeat_rate", "surveyed_loyalty", "loyalty_types", "curve", "naive_vs_adjusted"]


def repeat_rate(answer: Any, data: CRMData | None = None) -> None:
    """Share of buying customers with at least two orders."""
    data = resolve_data(data)
    expected = loyalty.repeat_purchase_rate(data.transactions)
    assert_scalar_close(answer, expected, what="your repeat purchase rate",
                        hint="Count orders per customer_id in data.transactions; the rate is the share of "
                             "customers (who bought at all) with 2 or more orders, as a fraction.")
    passed("repeat_rate")


def _surveyed(data) -> pd.DataFrame:
    b = loyalty.behavioural_loyalty(data.transactions, observation_end=data.observation_end)
    a = loyalty.attitudinal_loyalty(data.surveys)
    return a[["attitudinal"]].join(b[["orders_per_month"]], how="inner").reset_index()


def surveyed_loyalty(answer: Any, data: CRMData | None = None) -> None:
    """Per surveyed customer: ``customer_id``, ``attitudinal`` and ``orders_per_month``."""
    data = resolve_data(data)
    assert_frame_matches(answer, _surveyed(data), key="customer_id", what="your loyalty table",
                         hint="Join crm.loyalty.attitudinal_loyalty(data.surveys)['attitudinal'] with "
                              "crm.loyalty.behavioural_loyalty(...)['orders_per_month'] on customer_id, "
                              "keeping customers who appear in both.")
    passed("surveyed_loyalty")


def loyalty_types(answer: Any, data: CRMData | None = None) -> None:
    """Number of surveyed customers in each Dick & Basu cell (median cuts): a Series by loyalty type."""
    data = resolve_data(data)
    m = loyalty.loyalty_matrix(_surveyed(data), attitudinal="attitudinal", behavioural="orders_per_month")
    expected = m["loyalty_type"].value_counts().sort_index()
    if isinstance(answer, pd.Series):
        answer = answer.sort_index()
    assert_series_matches(answer, expected, what="your loyalty-type counts",
                          hint="crm.loyalty.loyalty_matrix(table, attitudinal='attitudinal', "
                               "behavioural='orders_per_month') then value_counts() of 'loyalty_type'.")
    passed("loyalty_types")


def curve(answer: Any, data: CRMData | None = None) -> None:
    """Satisfaction-loyalty curve: share of respondents who bought again after their survey, by ``csat``."""
    data = resolve_data(data)
    sv = data.surveys
    last = data.transactions.groupby("customer_id")["date"].max()
    df = sv.assign(bought_again=(sv["customer_id"].map(last) > sv["date"]).astype(int))
    expected = loyalty.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="bought_again")
    assert_frame_matches(answer, expected[["satisfaction", "n", "loyalty", "zone"]], key="satisfaction",
                         what="your satisfaction-loyalty curve",
                         hint="bought_again = 1 when the customer's last order is later than the survey date; then "
                              "crm.loyalty.satisfaction_loyalty_curve(df, satisfaction='csat', loyalty='bought_again').")
    passed("curve")


def naive_vs_adjusted(answer: Any, data: CRMData | None = None) -> None:
    """The programme effect as a dict ``{"naive": ..., "before_after": ...}`` (relative increase, 0.2 = +20%)."""
    data = resolve_data(data)
    pe = loyalty.programme_effect(data.customers, data.transactions, observation_end=data.observation_end)
    expected = pe.set_index("method")["effect"]
    if not isinstance(answer, dict) or set(answer) != {"naive", "before_after"}:
        fail("your answer should be a dict with the keys 'naive' and 'before_after'.",
             "take the 'effect' column of crm.loyalty.programme_effect(...) for those two rows.")
    for key in ("naive", "before_after"):
        assert_scalar_close(answer[key], expected[key], what=f"your {key} effect",
                            hint="Use the 'effect' column (rate ratio - 1), not 'rate_ratio'.")
    passed("naive_vs_adjusted")
