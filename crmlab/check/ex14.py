"""Checks for ``exercises/solutions/14_data_privacy.ipynb`` (客户数据安全, 隐私保护).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.privacy`. Hints name
the idea and the section of notebook 14; they never give the code. What a prompt forbids is
enforced: columns beyond those asked for (exercises 2 and 6), raw identifiers and exact dates
in an analysis extract (exercise 5).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab import privacy
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_set,
    assert_scalar_close,
    fail,
    judge,
    passed,
    resolve_data,
)

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = [
    "KEY",
    "QUASI_IDENTIFIERS",
    "pseudonymized_transactions",
    "masked_contacts",
    "unique_share",
    "k_with_age_bands",
    "analysis_extract",
    "member_mailing_list",
]

KEY = "crm-course-exercise-key-14"
"""The secret key the exercises use (a real key is random and never published)."""

QUASI_IDENTIFIERS = ["age", "gender", "region", "city_tier"]
"""Quasi-identifiers of the ``customers`` table used in the exercises."""


def pseudonymized_transactions(answer: Any, data: CRMData | None = None) -> None:
    """The transactions table with ``customer_id`` pseudonymised with :data:`KEY`."""
    data = resolve_data(data)
    tx = data.transactions
    length = 16
    if isinstance(answer, pd.DataFrame) and "customer_id" in answer.columns and len(answer):
        first = answer["customer_id"].iloc[0]
        if isinstance(first, str) and 8 <= len(first) <= 64:
            length = len(first)  # any length of the HMAC-SHA256 hex digest is a correct pseudonym
        raw = set(tx["customer_id"].tolist())
        if answer["customer_id"].head(1000).isin(raw).all():
            fail("your customer_id column still holds the raw ids.",
                 "Replace each id by its keyed hash — notebook 14, section 3 (假名化).")
    expected = privacy.pseudonymize_frame(tx, "customer_id", KEY, length=length)

    def unkeyed():
        return tx.assign(customer_id=[hashlib.sha256(str(v).encode()).hexdigest()[:length] for v in tx["customer_id"]])

    judge(assert_frame_matches, answer, expected, key="transaction_id", what="your pseudonymised transactions",
          mistakes=[("your pseudonyms are a plain SHA-256 of the id: without a key anyone can hash every id and "
                     "re-identify the customers. Use the keyed hash (HMAC) with check.KEY.", unkeyed)],
          hint="Each customer id is replaced by its HMAC-SHA256 token under check.KEY (the same id always gives the "
               "same token); every other column is unchanged — notebook 14, section 3 (假名化).")
    passed("pseudonymized_transactions")


def masked_contacts(answer: Any, data: CRMData | None = None) -> None:
    """One row per customer: ``customer_id``, masked ``email`` and masked ``phone``."""
    data = resolve_data(data)
    c = data.customers
    expected = pd.DataFrame({"customer_id": c["customer_id"], "email": privacy.mask_email(c["email"]),
                             "phone": privacy.mask_phone(c["phone"])})
    if isinstance(answer, pd.DataFrame):
        extra = [str(col) for col in answer.columns if col not in ("customer_id", "email", "phone")]
        if extra:
            fail(f"your masked contact table has extra column(s) {extra}: a screen that confirms contact details "
                 f"shows customer_id, the masked email and the masked phone — and nothing else.",
                 "Data minimisation: show only what the task needs — notebook 14, section 2 (数据脱敏).")
        for col, raw in (("email", c["email"]), ("phone", c["phone"])):
            if col in answer.columns and answer[col].astype(str).isin(set(raw.astype(str))).any():
                fail(f"your {col} column still shows raw {col} values: mask them.",
                     "notebook 14, section 2 (数据脱敏).")
    judge(assert_frame_matches, answer, expected, key="customer_id", what="your masked contact table",
          hint="The masked e-mail keeps its first character and the domain; the masked phone keeps the first 3 "
               "and last 4 digits — notebook 14, section 2 (数据脱敏).")
    passed("masked_contacts")


def unique_share(answer: Any, data: CRMData | None = None) -> None:
    """Share of customers who are unique on :data:`QUASI_IDENTIFIERS` (class size 1)."""
    data = resolve_data(data)
    sizes = privacy.class_sizes(data.customers, QUASI_IDENTIFIERS)
    expected = float((sizes == 1).mean())
    judge(assert_scalar_close, answer, expected, what="your share of unique customers",
          mistakes=[("your answer is a count: give the share of customers (a fraction between 0 and 1).",
                     float((sizes == 1).sum())),
                    ("your answer is a percentage: give a fraction between 0 and 1.", 100 * expected),
                    ("your share counts combinations, not customers: the share of customers whose class has size 1.",
                     lambda: float((data.customers.groupby(QUASI_IDENTIFIERS).size() == 1).mean()))],
          hint="A customer is unique when no one else shares their combination of the quasi-identifiers (a class "
               "of size 1) — notebook 14, section 4 (k-匿名).")
    passed("unique_share")


def k_with_age_bands(answer: Any, data: CRMData | None = None) -> None:
    """k-anonymity on the quasi-identifiers after replacing age by 10-year bands."""
    data = resolve_data(data)
    c = data.customers.assign(age=privacy.band(data.customers["age"], 10))
    expected = privacy.k_anonymity(c, QUASI_IDENTIFIERS)
    judge(assert_scalar_close, answer, expected, what="your k",
          mistakes=[("your k is that of the raw ages: band the ages first.",
                     lambda: privacy.k_anonymity(data.customers, QUASI_IDENTIFIERS)),
                    ("your k is the largest class: k-anonymity is the size of the smallest class.",
                     lambda: int(privacy.class_sizes(c, QUASI_IDENTIFIERS).max()))],
          hint="Generalise age to 10-year bands, keep the other quasi-identifiers raw; k is the size of the "
               "smallest class — notebook 14, section 5 (泛化与抑制).")
    passed("k_with_age_bands")


def analysis_extract(answer: Any, data: CRMData | None = None) -> None:
    """An extract of ``customers`` that is 5-anonymous and holds no direct identifier.

    Any valid extract passes: the check verifies the properties, not one particular
    generalisation.
    """
    data = resolve_data(data)
    c = data.customers
    if not isinstance(answer, pd.DataFrame):
        fail(f"your extract should be a DataFrame, got {type(answer).__name__}.",
             "notebook 14, section 8 (隐私保护流程).")
    if len(answer) != len(c):
        fail(f"your extract has {len(answer)} rows, expected {len(c)} (one per customer).",
              "Generalise or suppress values instead of dropping customers.")
    present = [col for col in privacy.DIRECT_IDENTIFIERS if col in answer.columns]
    if present:
        fail(f"your extract still has the direct identifier column(s) {present}.", "Drop name, email and phone.")
    missing = [q for q in QUASI_IDENTIFIERS if q not in answer.columns]
    if missing:
        fail(f"your extract has no column {missing[0]!r}; keep the (generalised) quasi-identifiers.")
    if "customer_id" not in answer.columns:
        fail("your extract has no customer_id column.", "Keep it, pseudonymised with check.KEY.")
    raw_ids = set(c["customer_id"].tolist()) | set(c["customer_id"].astype(str))
    leaked = [v for v in answer["customer_id"].head(1000) if v in raw_ids]
    if leaked:
        fail(f"your customer_id column still holds raw ids (e.g. {leaked[0]!r}).",
              "Replace each id by its keyed hash under check.KEY — notebook 14, section 3 (假名化).")
    for col in answer.columns:
        if _exact_dates(answer[col]):
            fail(f"your extract keeps exact dates in column {col!r}: a date of signup (or birth) is a "
                 f"quasi-identifier that re-identifies customers.",
                 "Drop it or generalise it (a year or a month), and keep only what an analyst needs — notebook 14, "
                 "section 8 (隐私保护流程).")
    text = set(answer.astype(str).to_numpy().ravel().tolist())
    for col in privacy.DIRECT_IDENTIFIERS:
        hits = text & set(c[col].astype(str))
        if hits:
            fail(f"your extract contains a raw {col} value.", "Drop or pseudonymise it — notebook 14, section 1.")
    k = privacy.k_anonymity(answer, QUASI_IDENTIFIERS)
    if k < 5:
        sizes = privacy.equivalence_classes(answer, QUASI_IDENTIFIERS)
        worst = sizes.iloc[0]
        combo = dict(zip(QUASI_IDENTIFIERS, worst[QUASI_IDENTIFIERS].tolist()))
        fail(f"your extract is only {k}-anonymous: e.g. {combo} is shared by "
              f"{int(worst['size'])} customer(s); every combination needs at least 5.",
              "Generalise the quasi-identifiers further (wider bands, coarser regions) or suppress the few "
              "outliers until every class has at least 5 customers — notebook 14, section 5 (泛化与抑制).")
    passed("analysis_extract")


def _exact_dates(col: pd.Series) -> bool:
    """True when a column holds day-precise dates (datetimes, or text that parses as full dates)."""
    values = col.dropna()
    if values.empty or pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return False
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dtype.freq.name in ("D", "h", "min", "s")
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        sample = values.head(200).astype(str)
        if not sample.str.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?").all():
            return False
        values = pd.to_datetime(sample, errors="coerce").dropna()
        if values.empty:
            return False
    days = pd.DatetimeIndex(values)
    return bool(np.unique(days.day).size > 1)


def member_mailing_list(answer: Any, data: CRMData | None = None) -> None:
    """Loyalty members who gave marketing consent: ``customer_id`` and ``email`` only."""
    data = resolve_data(data)
    members = data.customers[data.customers["is_member"].to_numpy(dtype=bool)]
    expected = privacy.marketing_list(members, columns=["customer_id", "email"])
    if isinstance(answer, pd.DataFrame):
        extra = [col for col in answer.columns if col not in ("customer_id", "email")]
        if extra:
            fail(f"your mailing list has extra column(s) {extra}; the mailing only needs customer_id and email "
                  f"(data minimisation).", "notebook 14, section 7 (营销同意、数据最小化).")
    if isinstance(answer, pd.DataFrame) and "customer_id" in answer.columns:
        no_consent = set(answer["customer_id"]) & set(
            data.customers.loc[~data.customers["marketing_consent"].to_numpy(dtype=bool), "customer_id"])
        if no_consent:
            fail(f"your list includes {len(no_consent)} customer(s) who did not give marketing consent.",
                 "Only customers who consented to marketing may be e-mailed — notebook 14, section 7 "
                 "(营销同意、数据最小化).")
        consenting = data.customers.loc[data.customers["marketing_consent"].to_numpy(dtype=bool), "customer_id"]
        judge(assert_same_set, answer["customer_id"], expected["customer_id"], what="your list's customers",
              mistakes=[("your list holds every consenting customer: the mailing is for loyalty members only.",
                         consenting)],
              hint="Members (is_member) who gave marketing consent — notebook 14, section 7.")
    assert_frame_matches(answer, expected, key="customer_id", what="your mailing list",
                         hint="notebook 14, section 7 (营销同意、数据最小化).")
    passed("member_mailing_list")
