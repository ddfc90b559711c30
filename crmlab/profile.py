"""The single customer profile (客户档案): integrating sources, checking quality, keeping it current.

>>> import crmlab as crm
>>> data = crm.load_retail()
>>> view = crm.profile.customer_profile(data)
>>> view.loc[1, ["n_orders", "total_spend"]].tolist() == [
...     int((data.transactions.customer_id == 1).sum()),
...     data.transactions.loc[data.transactions.customer_id == 1, "amount"].sum()]
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlab.data.columns import CHANNEL, CUSTOMER, DATE, SIGNUP
from crmlab.features import customer_features
from crmlab.time import window_end
from crmlab.validation import check_frame, check_timestamp, require_columns

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = ["customer_profile", "quality_report", "reconcile", "source_extracts"]

_PROFILE_COLUMNS = [
    SIGNUP, "region", "city_tier", "age", "gender", "income_band", "is_member",
    "member_tier", "marketing_consent",
]
_PURCHASE_COLUMNS = ["n_orders", "total_spend", "mean_order_value", "first_purchase", "last_purchase",
                     "recency_days", "tenure_days", "n_channels", "main_channel"]


def customer_profile(data: CRMData, *, observation_end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per customer combining profile, purchases, service contacts and surveys.

    Only what was known at ``observation_end`` (default: ``data.observation_end``; its whole
    day counts) is used, so the same function rebuilds the profile as it stood on any past
    date: customers who signed up later are left out, and so are later orders, contacts,
    surveys and programme joins.

    The purchase columns are :func:`crmlab.features.customer_features` (same names and
    definitions): ``n_orders``, ``total_spend``, ``mean_order_value``, ``first_purchase``,
    ``last_purchase``, ``recency_days`` (whole days from the last purchase to
    ``observation_end``), ``tenure_days``, ``n_channels`` and ``main_channel``. Customers who
    never bought have 0 orders and spend, and missing (``<NA>``/NaT) dates, recency, tenure,
    mean order value and main channel: there is no purchase to describe. The profile adds
    ``complaints``, ``unresolved_complaints``, ``last_csat`` and ``last_nps`` (missing without
    a survey answer), and ``is_member``/``member_tier`` as they stood at ``observation_end``.

    An order, contact or survey by a customer id that is not in ``data.customers`` raises
    ``ValueError``.
    """
    end = check_timestamp(data.observation_end if observation_end is None else observation_end,
                          name="observation_end")
    stop = window_end(end)
    customers = check_frame(data.customers, required=[CUSTOMER, *_PROFILE_COLUMNS, "member_since"],
                            dates=[SIGNUP, "member_since"], not_missing=[CUSTOMER], unique=CUSTOMER,
                            name="customers")
    inter = check_frame(data.interactions, required=[CUSTOMER, DATE, "type", "resolved"], dates=[DATE],
                        not_missing=[CUSTOMER, DATE, "type"], allow_empty=True, name="interactions")
    surveys = check_frame(data.surveys, required=[CUSTOMER, DATE, "csat", "nps"], dates=[DATE],
                          not_missing=[CUSTOMER, DATE], allow_empty=True, name="surveys")
    for name, table in (("interactions", inter), ("surveys", surveys)):
        unknown = ~table[CUSTOMER].isin(customers[CUSTOMER])
        if unknown.any():
            raise ValueError(f"{name} has {int(unknown.sum())} row(s) by customer ids missing from customers "
                             f"(e.g. {table.loc[unknown, CUSTOMER].iloc[0]!r}). Fix the ids or add those customers.")
    purchases = customer_features(data.transactions, observation_end=end, exclude_after=True, channel_col=CHANNEL,
                                  customers=customers[[CUSTOMER]])[_PURCHASE_COLUMNS]
    known = customers[customers[SIGNUP] < stop]
    inter, surveys = inter[inter[DATE] < stop], surveys[surveys[DATE] < stop]

    complaints = inter[inter["type"] == "complaint"].groupby(CUSTOMER)["resolved"].agg(
        complaints="size", unresolved_complaints=lambda r: int((~r.astype(bool)).sum()))
    last_survey = surveys.sort_values(DATE, kind="stable").groupby(CUSTOMER)[["csat", "nps"]].last()
    last_survey.columns = ["last_csat", "last_nps"]

    out = known.set_index(CUSTOMER)[_PROFILE_COLUMNS].join([purchases, complaints, last_survey])
    out["complaints"] = out["complaints"].fillna(0).astype("int64")
    out["unresolved_complaints"] = out["unresolved_complaints"].fillna(0).astype("int64")
    # membership as it stood at observation_end
    since = known.set_index(CUSTOMER)["member_since"]
    out["is_member"] = since.notna() & (since < stop)
    out.loc[~out["is_member"], "member_tier"] = "none"
    return out


def quality_report(df: pd.DataFrame, *, key: str | None = None, name: str = "data") -> pd.DataFrame:
    """Per-column data-quality summary: dtype, missing values, distinct values, an example.

    With ``key``, adds a row ``<key> (duplicates)`` counting rows whose key repeats.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2], "email": ["a@x.cn", None, "b@x.cn"]})
    >>> quality_report(df, key="id").loc["email", "missing"]
    np.int64(1)
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}.")
    if key is not None:
        require_columns(df, [key], name=name)
    rows = []
    for col in df.columns:
        s = df[col]
        non_missing = s.dropna()
        rows.append({
            "column": col, "dtype": str(s.dtype), "missing": int(s.isna().sum()),
            "missing_share": float(s.isna().mean()) if len(s) else 0.0,
            "distinct": int(non_missing.nunique()),
            "example": non_missing.iloc[0] if len(non_missing) else None,
        })
    report = pd.DataFrame(rows).set_index("column")
    if key is not None:
        report.loc[f"{key} (duplicates)", ["missing", "distinct"]] = [int(df[key].duplicated(keep=False).sum()), np.nan]
    return report


def reconcile(records: pd.DataFrame, *, key: str = CUSTOMER, updated_col: str = "updated_at",
              fields: Sequence[str] | None = None) -> pd.DataFrame:
    """Merge records of the same customers from several sources into one golden record.

    For every key and field, the most recently updated non-missing value wins (the rule
    most CRM systems use to break data silos, 数据孤岛). Returns one row per key with the
    chosen values and ``n_sources`` (how many records were merged) and ``conflicts``
    (fields whose non-missing values disagreed).

    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1], "email": ["old@x.cn", "new@x.cn"],
    ...                      "phone": ["138", None],
    ...                      "updated_at": pd.to_datetime(["2024-01-01", "2024-06-01"])})
    >>> reconcile(recs).loc[1, ["email", "phone", "conflicts"]].tolist()
    ['new@x.cn', '138', 'email']
    """
    records = check_frame(records, required=[key, updated_col], dates=[updated_col], not_missing=[key, updated_col],
                          name="records")
    fields = [c for c in records.columns if c not in (key, updated_col, "source")] if fields is None else list(fields)
    require_columns(records, fields, name="records")
    ordered = records.sort_values([key, updated_col], kind="stable")
    grouped = ordered.groupby(key, sort=True)
    out = grouped[fields].last()  # last non-missing value per field, i.e. the latest
    out["n_sources"] = grouped.size()
    distinct = grouped[fields].nunique()
    out["conflicts"] = distinct.apply(lambda row: ",".join(c for c in fields if row[c] > 1), axis=1)
    return out


def source_extracts(data: CRMData, *, random_state: int | np.random.Generator | np.random.RandomState | None = 0
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two extracts of the customer master that disagree, as real CRM silos do.

    Returns ``(store_crm, online_shop)``: the store system's export (names, phones,
    some duplicates and stale phones) and the online shop's accounts (e-mails in mixed
    case with stray spaces, some missing phones, newer updates). Both carry
    ``customer_id`` and ``updated_at``. The true values are in ``data.customers``.
    ``random_state`` (int, None, Generator or RandomState) fixes which records are messed up.
    """
    rng = np.random.default_rng(random_state)
    c = data.customers[["customer_id", "name", "email", "phone", "signup_date"]]
    store = c.sample(frac=0.7, random_state=int(rng.integers(2**31))).sort_values("customer_id")
    store = store.assign(updated_at=store["signup_date"])
    stale = rng.random(len(store)) < 0.1
    store.loc[stale, "phone"] = "139" + pd.Series(rng.integers(0, 10**8, stale.sum()), index=store.index[stale]).astype(str).str.zfill(8)
    dup = store.sample(frac=0.03, random_state=int(rng.integers(2**31)))
    store = pd.concat([store, dup.assign(updated_at=dup["updated_at"] - pd.Timedelta(days=30))]).sort_values(
        ["customer_id", "updated_at"])
    online = c.sample(frac=0.6, random_state=int(rng.integers(2**31))).sort_values("customer_id")
    messy = rng.random(len(online)) < 0.3
    online.loc[messy, "email"] = " " + online.loc[messy, "email"].str.upper() + " "
    no_phone = rng.random(len(online)) < 0.15
    online.loc[no_phone, "phone"] = None
    online = online.assign(updated_at=data.observation_end - pd.to_timedelta(rng.integers(0, 300, len(online)), unit="D"))
    cols = ["customer_id", "name", "email", "phone", "updated_at"]
    return store[cols].reset_index(drop=True), online[cols].reset_index(drop=True)
