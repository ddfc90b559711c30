"""The input audit of a log on DuckDB or Spark: the checks of the pandas reference, in SQL.

A pandas DataFrame is checked by :func:`crmlab.validation.check_transactions` itself, on any
engine. Files and Spark DataFrames are never loaded into pandas, so they are checked here:
first from the column names and types alone (no data read), then with one aggregate pass
(counts, minima, maxima) over the log. The checks run in the order of the pandas reference
and raise its exception types with the message builders of :mod:`crmlab.validation`, so a
bad log gets the same error on every engine:

duplicate column names, missing columns (listing those present), no rows, missing ids,
dates or amounts (NaN counts as missing), date columns that hold numbers or strings that
do not parse, non-numeric or infinite amounts, negative amounts, events after the day of
``observation_end``.

Examples
--------
>>> import ibis, pandas as pd
>>> t = ibis.memtable(pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-01-02", "2024-01-09"]),
...                                 "amount": [5.0, -1.0]}))
>>> audit_table(t, list(t.columns), customer_col="customer_id", date_col="date", amount_col="amount")
Traceback (most recent call last):
...
ValueError: transactions column 'amount' has 1 negative value(s) (e.g. -1.0). Negative amounts are usually refunds: net them against the original purchase, or drop them explicitly, before computing customer summaries.
"""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd

from crmlab import time as _time
from crmlab import validation as V
from crmlab.engines.connections import quiet_spark

__all__ = ["audit_table", "check_schema"]


def check_schema(columns: list[str], *, customer_col: str, date_col: str, amount_col: str | None,
                 name: str = "transactions") -> None:
    """The checks that need only column names: duplicates, then missing columns.

    ``columns`` are the names as stored (duplicates kept; engines rename them silently).
    """
    V.check_unique_columns(columns, name=name)
    required = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    V.require_columns(pd.DataFrame(columns=columns), required, name=name)


def _scalars(expr: Any) -> dict[str, Any]:
    with quiet_spark():
        return expr.execute().iloc[0].to_dict()


def _first(table: Any, value: Any, where: Any) -> Any:
    """One value of ``value`` on a row where ``where`` holds (for the e.g. of a message)."""
    with quiet_spark():
        out = table.filter(where).select(value.name("v")).limit(1).execute()
    return out["v"].iloc[0] if len(out) else None


def audit_table(table: Any, columns: list[str], *, customer_col: str, date_col: str, amount_col: str | None,
                observation_end: pd.Timestamp | None = None, exclude_after: bool = False,
                name: str = "transactions") -> dict[str, Any]:
    """Check a log bound to an engine as the pandas reference checks a DataFrame.

    Parameters
    ----------
    table : ibis.Table
        The log on its engine.
    columns : list of str
        Its column names as stored (duplicates kept).
    customer_col, date_col, amount_col : str
        The columns read; ``amount_col=None`` checks no amounts.
    observation_end : Timestamp, optional
        End of the window (its whole day counts). Later events raise, unless
        ``exclude_after`` (the query then leaves them out).

    Returns
    -------
    dict
        ``rows``, ``earliest`` and ``latest`` (the date range of the log).
    """
    check_schema(columns, customer_col=customer_col, date_col=date_col, amount_col=amount_col, name=name)
    schema = table.schema()
    dtype = schema[date_col]
    date_is_text, date_is_time = dtype.is_string(), dtype.is_timestamp() or dtype.is_date()
    amount_type = schema[amount_col] if amount_col is not None else None
    amount_is_number = amount_type is not None and amount_type.is_numeric() and not amount_type.is_boolean()
    amount_is_float = amount_type is not None and amount_is_number and amount_type.is_floating()

    raw = table[date_col]
    date = raw.try_cast("timestamp") if date_is_text else raw.cast("timestamp") if date_is_time else None
    metrics: dict[str, Any] = {"rows": table.count(), "customer_n": table[customer_col].count(),
                               "date_n": raw.count()}
    if date is not None:
        metrics.update(earliest=date.min(), latest=date.max())
        if date_is_text:
            metrics["parsed_n"] = date.count()
    if amount_col is not None:
        amount = table[amount_col]
        metrics["amount_n"] = amount.count()
        if amount_is_float:
            metrics["amount_nan"] = amount.isnan().sum()     # Spark and CSV keep NaN apart from NULL
            # beyond the largest finite double: Ibis compiles isinf() to FALSE for Spark
            metrics["amount_inf"] = (amount.abs() > sys.float_info.max).sum()
        if amount_is_number:
            metrics["smallest"] = amount.min()
    facts = _scalars(table.aggregate(**metrics))

    rows = int(facts["rows"])
    if rows == 0:
        raise ValueError(V.empty_message(name))
    missing = {customer_col: rows - int(facts["customer_n"]), date_col: rows - int(facts["date_n"])}
    if amount_col is not None:
        missing[amount_col] = rows - int(facts["amount_n"]) + int(facts.get("amount_nan") or 0)
    for col, n in missing.items():
        if n:
            raise ValueError(V.missing_values_message(name, col, n))
    if date is None:
        if dtype.is_numeric() or dtype.is_boolean():
            raise TypeError(V.numbers_not_dates_message(name, date_col, dtype))
        raise TypeError(f"{name} column {date_col!r} holds {dtype}, not dates. Store dates as timestamps, "
                        f"dates or ISO strings such as '2024-01-31'.")
    if date_is_text and int(facts["parsed_n"]) < rows:
        example = _first(table, raw, date.isnull())
        raise ValueError(V.not_dates_message(name, date_col, rows - int(facts["parsed_n"]), example))
    if amount_col is not None:
        if not amount_is_number:
            example = _first(table, table[amount_col], table[amount_col].notnull())
            raise TypeError(V.not_numeric_message(name, amount_col, amount_type, example))
        if int(facts.get("amount_inf") or 0):
            raise ValueError(V.infinite_message(name, amount_col))
        if facts["smallest"] < 0:
            n = int(_scalars(table.aggregate(n=(table[amount_col] < 0).sum()))["n"])
            example = _first(table, table[amount_col], table[amount_col] < 0)
            raise ValueError(V.negative_message(name, amount_col, n, example))
    if observation_end is not None and not exclude_after:
        bound = _time.window_end(observation_end).to_pydatetime()
        if pd.Timestamp(facts["latest"]) >= bound:
            n = int(_scalars(table.aggregate(n=(date >= bound).sum()))["n"])
            raise ValueError(V.late_events_message(name, date_col, n, observation_end, facts["latest"]))
    return {"rows": rows, "earliest": pd.Timestamp(facts["earliest"]), "latest": pd.Timestamp(facts["latest"])}
