"""The single customer profile (客户档案): integrating sources, checking quality, keeping it current.

>>> import crmlab as crm
>>> data = crm.load_retail()
>>> view = crm.profile.customer_profile(data)
>>> view.loc[1, ["orders", "total_spend"]].tolist() == [
...     int((data.transactions.customer_id == 1).sum()),
...     data.transactions.loc[data.transactions.customer_id == 1, "amount"].sum()]
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.validation import check_frame, check_timestamp, require_columns

__all__ = ["customer_profile", "quality_report", "reconcile", "source_extracts"]

_PROFILE_COLUMNS = [
    "signup_date", "region", "city_tier", "age", "gender", "income_band", "is_member",
    "member_tier", "marketing_consent",
]


def customer_profile(data, *, as_of=None) -> pd.DataFrame:
    """One row per customer combining profile, purchases, service contacts and surveys.

    Only what was known at ``as_of`` (default: the observation end) is used, so the
    same function rebuilds the profile as it stood on any past date.

    Returns a DataFrame indexed by ``customer_id`` with the profile columns and
    ``orders``, ``total_spend``, ``first_purchase``, ``last_purchase``,
    ``days_since_last_purchase``, ``favourite_channel``, ``complaints``,
    ``unresolved_complaints``, ``last_csat`` and ``last_nps``.
    """
    as_of = data.observation_end if as_of is None else check_timestamp(as_of, name="as_of")
    customers = check_frame(data.customers, required=["customer_id", *_PROFILE_COLUMNS], unique="customer_id",
                            name="customers")
    tx = check_frame(data.transactions, required=["customer_id", "date", "amount", "channel"],
                     dates=["date"], numeric=["amount"], not_missing=["customer_id", "date"], name="transactions")
    inter = check_frame(data.interactions, required=["customer_id", "date", "type", "resolved"], dates=["date"],
                        allow_empty=True, name="interactions")
    surveys = check_frame(data.surveys, required=["customer_id", "date", "csat", "nps"], dates=["date"],
                          allow_empty=True, name="surveys")
    customers = customers[customers["signup_date"] <= as_of]
    tx, inter, surveys = tx[tx["date"] <= as_of], inter[inter["date"] <= as_of], surveys[surveys["date"] <= as_of]

    by = tx.groupby("customer_id")
    purchases = pd.DataFrame({
        "orders": by.size(),
        "total_spend": by["amount"].sum(),
        "first_purchase": by["date"].min(),
        "last_purchase": by["date"].max(),
        "favourite_channel": tx.groupby(["customer_id", "channel"]).size().unstack(fill_value=0).idxmax(axis=1),
    })
    complaints = inter[inter["type"] == "complaint"].groupby("customer_id")["resolved"].agg(
        complaints="size", unresolved_complaints=lambda r: int((~r.astype(bool)).sum()))
    last_survey = surveys.sort_values("date").groupby("customer_id")[["csat", "nps"]].last()
    last_survey.columns = ["last_csat", "last_nps"]

    out = customers.set_index("customer_id")[_PROFILE_COLUMNS].join([purchases, complaints, last_survey])
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["total_spend"] = out["total_spend"].fillna(0.0)
    out["complaints"] = out["complaints"].fillna(0).astype("int64")
    out["unresolved_complaints"] = out["unresolved_complaints"].fillna(0).astype("int64")
    out["days_since_last_purchase"] = (as_of - out["last_purchase"]).dt.days
    # membership as it stood at as_of
    since = data.customers.set_index("customer_id")["member_since"].reindex(out.index)
    out["is_member"] = since.notna() & (since <= as_of)
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


def reconcile(records: pd.DataFrame, *, key: str = "customer_id", updated_col: str = "updated_at",
              fields=None) -> pd.DataFrame:
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


def source_extracts(data, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two extracts of the customer master that disagree, as real CRM silos do.

    Returns ``(store_crm, online_shop)``: the store system's export (names, phones,
    some duplicates and stale phones) and the online shop's accounts (e-mails in mixed
    case with stray spaces, some missing phones, newer updates). Both carry
    ``customer_id`` and ``updated_at``. The true values are in ``data.customers``.
    """
    rng = np.random.default_rng(seed)
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
