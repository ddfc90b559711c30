"""Checks for ``exercises/solutions/01_customer_data.ipynb`` (客户档案, 数据整合, 数据质量).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.profile`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import profile
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_set,
    assert_series_matches,
    passed,
    resolve_data,
)

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = [
    "SOURCE_RANDOM_STATE", "OBSERVATION_END", "orders_per_customer", "complaints_per_customer",
    "duplicate_store_records", "clean_emails", "golden_record", "days_since_last_purchase",
]

SOURCE_RANDOM_STATE = 1
"""Random state of the two disagreeing extracts:
``crm.profile.source_extracts(data, random_state=check.SOURCE_RANDOM_STATE)``."""

OBSERVATION_END = pd.Timestamp("2024-06-30")
"""The date of the point-in-time profile exercise (its whole day counts)."""


def _extracts(data):
    return profile.source_extracts(data, random_state=SOURCE_RANDOM_STATE)


def orders_per_customer(answer: Any, data: CRMData | None = None) -> None:
    """Number of orders of every customer, 0 for those who never bought, indexed by customer_id."""
    data = resolve_data(data)
    expected = profile.customer_profile(data)["n_orders"]
    assert_series_matches(answer, expected, what="your orders per customer",
                          hint="Count transactions per customer_id, then reindex on every customer in "
                               "data.customers with fill_value=0: prospects have 0 orders, not a missing row.")
    passed("orders_per_customer")


def complaints_per_customer(answer: Any, data: CRMData | None = None) -> None:
    """Number of complaints (interactions of type 'complaint') of every customer, 0 if none."""
    data = resolve_data(data)
    expected = profile.customer_profile(data)["complaints"]
    assert_series_matches(answer, expected, what="your complaints per customer",
                          hint="Keep interactions whose type is 'complaint' (inquiries are not complaints), "
                               "count per customer_id and reindex on all customers with fill_value=0.")
    passed("complaints_per_customer")


def duplicate_store_records(answer: Any, data: CRMData | None = None) -> None:
    """The set of customer ids that appear more than once in the store system's extract."""
    data = resolve_data(data)
    store, _ = _extracts(data)
    expected = set(store.loc[store["customer_id"].duplicated(keep=False), "customer_id"])
    assert_same_set(answer, expected, what="your duplicated customer ids",
                    hint="store['customer_id'].duplicated(keep=False) marks every copy of a repeated id.")
    passed("duplicate_store_records")


def clean_emails(answer: Any, data: CRMData | None = None) -> None:
    """The online shop's e-mails, trimmed and lower-cased, indexed by customer_id."""
    data = resolve_data(data)
    _, online = _extracts(data)
    expected = online.set_index("customer_id")["email"].str.strip().str.lower()
    assert_series_matches(answer, expected, what="your cleaned e-mails",
                          hint="Use .str.strip() to remove spaces and .str.lower() for case; keep customer_id "
                               "as the index.")
    passed("clean_emails")


def golden_record(answer: Any, data: CRMData | None = None) -> None:
    """One row per customer with the reconciled ``email`` and ``phone`` of both extracts.

    The online e-mails are cleaned first; the latest non-missing value wins.
    """
    data = resolve_data(data)
    store, online = _extracts(data)
    online = online.assign(email=online["email"].str.strip().str.lower())
    expected = profile.reconcile(pd.concat([store, online], ignore_index=True), fields=["email", "phone"])
    got = answer
    if isinstance(answer, pd.DataFrame) and "customer_id" in answer.columns:
        got = answer.set_index("customer_id")
    if isinstance(got, pd.DataFrame):
        got = got[[c for c in ("email", "phone") if c in got.columns]]
    assert_frame_matches(got, expected[["email", "phone"]], what="your golden record",
                         hint="Clean the online e-mails first, stack both extracts with pd.concat and call "
                              "crm.profile.reconcile(records, fields=['email', 'phone']).")
    passed("golden_record")


def days_since_last_purchase(answer: Any, data: CRMData | None = None) -> None:
    """Days since each buyer's last purchase (``recency_days``) as known at the end of the day
    :data:`OBSERVATION_END` (buyers up to then only)."""
    data = resolve_data(data)
    view = profile.customer_profile(data, observation_end=OBSERVATION_END)
    expected = view["recency_days"].dropna().astype("int64")
    assert_series_matches(answer, expected, what="your days since last purchase",
                          hint="Use only transactions up to the end of the day check.OBSERVATION_END and count "
                               "whole days from the day of the last purchase to check.OBSERVATION_END (not to "
                               "today, and not to the data's observation end).")
    passed("days_since_last_purchase")
