"""Checks for ``exercises/solutions/01_customer_data.ipynb`` (客户档案, 数据整合, 数据质量).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.profile`. Hints name
the idea and the section of notebook 01; they never give the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import profile
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_set,
    assert_series_matches,
    fail,
    judge,
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


def _prospects_missing(answer, expected: pd.Series, what: str) -> None:
    if isinstance(answer, pd.Series) and len(answer) < len(expected) and answer.index.isin(expected.index).all() \
            and (answer > 0).all():
        fail(f"your {what} per customer leave out the customers with none ({len(expected) - len(answer)} "
             f"missing): every customer of data.customers needs a value, 0 when there is nothing to count.",
             "A profile has one row per customer, buyers or not — notebook 01, section 2 (建立客户档案).")


def orders_per_customer(answer: Any, data: CRMData | None = None) -> None:
    """Number of orders of every customer, 0 for those who never bought, indexed by customer_id."""
    data = resolve_data(data)
    expected = profile.customer_profile(data)["n_orders"]
    _prospects_missing(answer, expected, "orders")
    judge(assert_series_matches, answer, expected, what="your orders per customer",
          hint="A profile has one row per customer of the customer table, buyers or not — notebook 01, "
               "section 2 (建立客户档案).")
    passed("orders_per_customer")


def complaints_per_customer(answer: Any, data: CRMData | None = None) -> None:
    """Number of complaints (interactions of type 'complaint') of every customer, 0 if none."""
    data = resolve_data(data)
    expected = profile.customer_profile(data)["complaints"]
    _prospects_missing(answer, expected, "complaints")
    every_contact = data.interactions.groupby("customer_id").size().reindex(expected.index, fill_value=0)
    judge(assert_series_matches, answer, expected, what="your complaints per customer",
          mistakes=[("your counts include inquiries: only interactions of type 'complaint' are complaints.",
                     every_contact)],
          hint="Only complaints count, and every customer of the customer table gets a value — notebook 01, "
               "section 2 (建立客户档案).")
    passed("complaints_per_customer")


def duplicate_store_records(answer: Any, data: CRMData | None = None) -> None:
    """The set of customer ids that appear more than once in the store system's extract."""
    data = resolve_data(data)
    store, _ = _extracts(data)
    expected = set(store.loc[store["customer_id"].duplicated(keep=False), "customer_id"])
    if isinstance(answer, pd.DataFrame) and "customer_id" in answer.columns:
        answer = answer["customer_id"]
    judge(assert_same_set, answer, expected, what="your duplicated customer ids",
          mistakes=[("your set holds every customer of the store extract, not only those who appear more than once.",
                     lambda: set(store["customer_id"]))],
          hint="An id is duplicated when it appears on more than one row of the store extract — notebook 01, "
               "section 4 (数据质量检查).")
    passed("duplicate_store_records")


def clean_emails(answer: Any, data: CRMData | None = None) -> None:
    """The online shop's e-mails, trimmed and lower-cased, indexed by customer_id."""
    data = resolve_data(data)
    _, online = _extracts(data)
    expected = online.set_index("customer_id")["email"].str.strip().str.lower()
    raw = online.set_index("customer_id")["email"]
    judge(assert_series_matches, answer, expected, what="your cleaned e-mails",
          mistakes=[("your e-mails are lower-cased but still carry spaces at the ends.", lambda: raw.str.lower()),
                    ("your e-mails are trimmed but not lower-cased.", lambda: raw.str.strip())],
          hint="The same address can differ by surrounding spaces and by letter case — notebook 01, "
               "section 4 (数据质量检查).")
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
    raw = profile.reconcile(pd.concat([store, _extracts(data)[1]], ignore_index=True), fields=["email", "phone"])
    judge(assert_frame_matches, got, expected[["email", "phone"]], what="your golden record",
          mistakes=[("your golden record uses the online e-mails before cleaning: clean them first (exercise 4).",
                     lambda: raw[["email", "phone"]])],
          builds_on="exercise 4 (clean_emails)",
          hint="Stack both extracts and keep, per customer and field, the latest value that is not missing — "
               "notebook 01, section 3 (数据孤岛与数据整合).")
    passed("golden_record")


def days_since_last_purchase(answer: Any, data: CRMData | None = None) -> None:
    """Days since each buyer's last purchase (``recency_days``) as known at the end of the day
    :data:`OBSERVATION_END` (buyers up to then only)."""
    data = resolve_data(data)
    view = profile.customer_profile(data, observation_end=OBSERVATION_END)
    expected = view["recency_days"].dropna().astype("int64")
    tx = data.transactions
    before_day = tx[tx["date"] < OBSERVATION_END]
    late = (OBSERVATION_END - before_day.groupby("customer_id")["date"].max().dt.normalize()).dt.days
    judge(assert_series_matches, answer, expected, what="your days since last purchase",
          mistakes=[("your table leaves out the purchases made during the day check.OBSERVATION_END itself: its "
                     "whole day counts.", late)],
          hint="A point-in-time view uses only what was known at that date (its whole day included) and counts "
               "whole days up to that date, not to today — notebook 01, section 5 (定期更新客户信息).")
    passed("days_since_last_purchase")
