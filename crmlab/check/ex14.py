"""Checks for ``exercises/solutions/14_data_privacy.ipynb`` (客户数据安全, 隐私保护).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.privacy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import privacy
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_set,
    assert_scalar_close,
    fail,
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
    expected = privacy.pseudonymize_frame(data.transactions, "customer_id", KEY)
    assert_frame_matches(answer, expected, key="transaction_id", what="your pseudonymised transactions",
                         hint="Use crm.privacy.pseudonymize_frame(data.transactions, 'customer_id', check.KEY).")
    passed("pseudonymized_transactions")


def masked_contacts(answer: Any, data: CRMData | None = None) -> None:
    """One row per customer: ``customer_id``, masked ``email`` and masked ``phone``."""
    data = resolve_data(data)
    c = data.customers
    expected = pd.DataFrame({"customer_id": c["customer_id"], "email": privacy.mask_email(c["email"]),
                             "phone": privacy.mask_phone(c["phone"])})
    assert_frame_matches(answer, expected, key="customer_id", what="your masked contact table",
                         hint="mask_email keeps the first character and the domain; mask_phone keeps "
                              "the first 3 and last 4 digits.")
    if isinstance(answer, pd.DataFrame) and "name" in answer.columns:
        fail("your masked contact table still has the column 'name'; a service screen that only "
              "confirms contact details does not need it.", "Keep customer_id, email and phone only.")
    passed("masked_contacts")


def unique_share(answer: Any, data: CRMData | None = None) -> None:
    """Share of customers who are unique on :data:`QUASI_IDENTIFIERS` (class size 1)."""
    data = resolve_data(data)
    expected = float((privacy.class_sizes(data.customers, QUASI_IDENTIFIERS) == 1).mean())
    assert_scalar_close(answer, expected, what="your share of unique customers",
                        hint="crm.privacy.class_sizes gives each customer's class size; take the share "
                             "equal to 1 (a fraction between 0 and 1, not a count).")
    passed("unique_share")


def k_with_age_bands(answer: Any, data: CRMData | None = None) -> None:
    """k-anonymity on the quasi-identifiers after replacing age by 10-year bands."""
    data = resolve_data(data)
    c = data.customers.assign(age=privacy.band(data.customers["age"], 10))
    expected = privacy.k_anonymity(c, QUASI_IDENTIFIERS)
    assert_scalar_close(answer, expected, what="your k",
                        hint="Replace age by crm.privacy.band(customers['age'], 10), keep gender, region "
                             "and city_tier, then call crm.privacy.k_anonymity.")
    passed("k_with_age_bands")


def analysis_extract(answer: Any, data: CRMData | None = None) -> None:
    """An extract of ``customers`` that is 5-anonymous and holds no direct identifier.

    Any valid extract passes: the check verifies the properties, not one particular
    generalisation.
    """
    data = resolve_data(data)
    c = data.customers
    if not isinstance(answer, pd.DataFrame):
        fail(f"your extract should be a DataFrame, got {type(answer).__name__}.")
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
              "Pseudonymise it with crm.privacy.pseudonymize(..., check.KEY).")
    text = set(answer.astype(str).to_numpy().ravel().tolist())
    for col in privacy.DIRECT_IDENTIFIERS:
        hits = text & set(c[col].astype(str))
        if hits:
            fail(f"your extract contains a raw {col} value ({sorted(hits)[0]!r}).", "Drop or pseudonymise it.")
    k = privacy.k_anonymity(answer, QUASI_IDENTIFIERS)
    if k < 5:
        sizes = privacy.equivalence_classes(answer, QUASI_IDENTIFIERS)
        worst = sizes.iloc[0]
        combo = dict(zip(QUASI_IDENTIFIERS, worst[QUASI_IDENTIFIERS].tolist()))
        fail(f"your extract is only {k}-anonymous: e.g. {combo} is shared by "
              f"{int(worst['size'])} customer(s); every combination needs at least 5.",
              "Use crm.privacy.generalize_until_k(..., k=5) (max_suppression=... suppresses outliers).")
    passed("analysis_extract")


def member_mailing_list(answer: Any, data: CRMData | None = None) -> None:
    """Loyalty members who gave marketing consent: ``customer_id`` and ``email`` only."""
    data = resolve_data(data)
    members = data.customers[data.customers["is_member"].to_numpy(dtype=bool)]
    expected = privacy.marketing_list(members, columns=["customer_id", "email"])
    if isinstance(answer, pd.DataFrame):
        extra = [col for col in answer.columns if col not in ("customer_id", "email")]
        if extra:
            fail(f"your mailing list has extra column(s) {extra}; the mailing only needs customer_id and email "
                  f"(data minimisation).", "Select just those two columns.")
    if isinstance(answer, pd.DataFrame) and "customer_id" in answer.columns:
        no_consent = set(answer["customer_id"]) & set(
            data.customers.loc[~data.customers["marketing_consent"].to_numpy(dtype=bool), "customer_id"])
        if no_consent:
            fail(f"your list includes {len(no_consent)} customer(s) who did not consent, "
                  f"e.g. customer {sorted(no_consent)[0]}.", "Keep only marketing_consent == True.")
        assert_same_set(answer["customer_id"], expected["customer_id"], what="your list's customers",
                        hint="Members (is_member) who gave marketing consent.")
    assert_frame_matches(answer, expected, key="customer_id", what="your mailing list")
    passed("member_mailing_list")
