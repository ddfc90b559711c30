"""Checks for ``exercises/solutions/09_churn_early_warning.ipynb`` (客户流失预警, 流失原因).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.churn`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab import churn
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = [
    "CUTOFF", "HORIZON_DAYS", "ACTIVE_DAYS", "VALUE", "CONTACT_COST", "OFFER_COST", "ACCEPT_RATE",
    "churn_label", "recency_at_cutoff", "lift_by_quintile", "best_number_to_contact", "complaint_rates",
]

CUTOFF = "2024-06-30"
"""Last day of the known history."""
HORIZON_DAYS = 90
"""Churned = no purchase in this many days after the cutoff."""
ACTIVE_DAYS = 180
"""Population: customers with a purchase in this many days up to the cutoff."""
VALUE, CONTACT_COST, OFFER_COST, ACCEPT_RATE = 100.0, 5.0, 20.0, 0.3
"""Economics of the retention offer in the profit exercise."""


def _labels(data) -> pd.Series:
    return churn.churn_labels(data, cutoff=CUTOFF, horizon_days=HORIZON_DAYS, active_days=ACTIVE_DAYS)["churned"]


def _recency_score(data) -> pd.Series:
    r = churn.churn_features(data, cutoff=CUTOFF, active_days=ACTIVE_DAYS)["recency_days"]
    return r / r.max()


def churn_label(answer: Any, data: Any = None) -> None:
    """True/False per active customer (indexed by customer_id): no purchase in the window."""
    data = resolve_data(data)
    expected = _labels(data)
    if isinstance(answer, pd.Series) and answer.dtype != bool:
        answer = answer.astype(bool) if set(pd.unique(answer)) <= {0, 1} else answer
    assert_series_matches(answer, expected, what="your churn labels",
                          hint="Population: customers with a purchase from 2024-01-03 to 2024-06-30 "
                               "(180 days up to the end of the cutoff day). Churned: no purchase from "
                               "2024-07-01 to 2024-09-28 (90 days). Compare dates with < the day after.")
    passed("churn_label")


def recency_at_cutoff(answer: Any, data: Any = None) -> None:
    """Whole days from the day of each active customer's last purchase to the cutoff day."""
    data = resolve_data(data)
    expected = churn.churn_features(data, cutoff=CUTOFF, active_days=ACTIVE_DAYS)["recency_days"]
    assert_series_matches(answer, expected, rtol=1e-6, what="your recency",
                          hint="Recency is a whole number of days from the day of the last purchase to the cutoff "
                               "day itself (0 = bought on the cutoff day, 15:30 included): "
                               "(pd.Timestamp(CUTOFF) - last.dt.normalize()).dt.days. Use only purchases before "
                               "midnight after the cutoff day.")
    passed("recency_at_cutoff")


def lift_by_quintile(answer: Any, data: Any = None) -> None:
    """Lift table with 5 groups for the score ``recency_days / max recency``."""
    data = resolve_data(data)
    y = _labels(data)
    expected = churn.lift_table(y.astype(int), _recency_score(data).loc[y.index], bins=5)
    cols = ["decile", "customers", "churners", "rate", "lift", "cumulative_gain"]
    if isinstance(answer, pd.DataFrame):
        missing = [c for c in cols if c not in answer.columns]
        if not missing:
            answer = answer[cols]
    assert_frame_matches(answer, expected[cols], key="decile", what="your lift table",
                         hint="Sort customers by score, highest first, cut them into 5 equal groups "
                              "(group 1 = highest score), and per group count customers and churners; "
                              "lift = group churn rate / overall churn rate; cumulative_gain = churners "
                              "so far / all churners. crm.churn.lift_table does all of it.")
    passed("lift_by_quintile")


def best_number_to_contact(answer: Any, data: Any = None) -> None:
    """Number of customers (highest recency score first) that maximises the campaign profit."""
    data = resolve_data(data)
    y = _labels(data)
    curve = churn.profit_curve(y.astype(int), _recency_score(data).loc[y.index], value=VALUE,
                               contact_cost=CONTACT_COST, offer_cost=OFFER_COST, accept_rate=ACCEPT_RATE)
    expected = int(curve.loc[curve["profit"].idxmax(), "contacted"])
    assert_scalar_close(answer, expected, rtol=0, atol=0.5, what="your number of customers to contact",
                        hint="Per contacted churner the profit is accept_rate * (value - offer_cost) - contact_cost, "
                             "per contacted stayer -(offer_cost + contact_cost). Sort by score, take the cumulative "
                             "sum and find where it peaks (crm.churn.profit_curve).")
    passed("best_number_to_contact")


def complaint_rates(answer: Any, data: Any = None) -> None:
    """Complaints per 100 orders (before the cutoff) of churners and of stayers: Series churners/stayers."""
    data = resolve_data(data)
    prof = churn.complaint_profile(data, _labels(data), cutoff=CUTOFF).set_index("category")
    expected = pd.Series({"churners": prof.loc["all", "churners_rate"], "stayers": prof.loc["all", "stayers_rate"]})
    if isinstance(answer, dict):
        answer = pd.Series(answer)
    assert_series_matches(answer, expected, what="your complaint rates",
                          hint="For each group: complaints (type 'complaint', filed before 2024-07-01) of its "
                               "customers, divided by the orders of its customers before 2024-07-01, times 100.")
    passed("complaint_rates")


