"""Per-customer rows from a transaction log: the one feature builder of crmlab.

Every module that needs per-customer facts from a log (segmentation, lifecycle, loyalty,
churn, journeys, profiles) builds them here, so a column means the same thing everywhere.

**Time.** A date that ends a window (``observation_end``, ``cutoff``) covers its whole day
(:mod:`crmlab.time`). Nothing after ``observation_end`` ever reaches a feature: later events
raise an error, or are left out on purpose with ``exclude_after=True`` (a point-in-time view
of a longer log, "what did we know on 1 July?").

**The vocabulary** (index: the customer id, named like ``customer_col``, sorted)::

    | column | dtype | meaning | built by |
    |---|---|---|---|
    | ``frequency`` | float | repeat purchase days (distinct purchase days − 1) | :func:`customer_summary` |
    | ``recency`` | float | first to last purchase day, in ``time_unit`` | :func:`customer_summary` |
    | ``T`` | float | first purchase day to the day of ``observation_end``, in ``time_unit`` | :func:`customer_summary` |
    | ``monetary_value`` | float | mean amount per repeat purchase day (0 without repeats) | :func:`customer_summary` |
    | ``*_cal``, ``frequency_holdout``, ``monetary_value_holdout``, ``duration_holdout`` | float | the summary up to ``cutoff`` and what followed | :func:`calibration_holdout` |
    | ``first_purchase``, ``last_purchase`` | datetime | time of the first and last order | :func:`customer_features` |
    | ``recency_days`` | int | whole days from the day of the last order to the day of ``observation_end`` (0 = bought that day) | :func:`customer_features`, :func:`rfm_table` |
    | ``tenure_days`` | int | whole days from the day of the first order to the day of ``observation_end`` | :func:`customer_features` |
    | ``n_orders`` | int | orders (rows of the log), the first included | :func:`customer_features`, :func:`rfm_table` |
    | ``n_purchase_days`` | int | distinct days with an order | :func:`customer_features` |
    | ``total_spend`` | float | sum of ``amount_col`` | :func:`customer_features`, :func:`rfm_table` |
    | ``mean_order_value`` | float | ``total_spend / n_orders`` | :func:`customer_features` |
    | ``orders_per_month`` | float | ``n_orders`` per month of tenure (month = 30.4375 days; the first month counts fully) | :func:`customer_features` |
    | ``n_orders_last_{L}d``, ``spend_last_{L}d`` | int, float | orders and spend in the last ``L = lookback_days`` days up to ``observation_end`` | :func:`customer_features` |
    | ``discount_share`` | float | share of orders with a discount (``discount_col``) | :func:`customer_features` |
    | ``n_channels``, ``main_channel``, ``share_<channel>`` | int, str, float | channels used, the most used, share of orders per channel (``channel_col``) | :func:`customer_features` |
    | ``share_<category>`` | float | share of spend per product category (``order_lines`` + ``products``) | :func:`customer_features` |

"frequency" means only the BTYD repeat count; an order count is ``n_orders``.

**Engines.** :func:`customer_summary`, :func:`rfm_table` and :func:`calibration_holdout`
take ``engine=``: ``"pandas"`` (the readable reference taught in the notebooks), ``"duckdb"``
or ``"spark"`` (the same result, from the backends in :mod:`crmlab.engines`). By default a
pandas DataFrame is computed with pandas, a file path, glob or list of paths with DuckDB and
a Spark DataFrame with Spark. This module is the only public entry to the engines.

**Validation.** Every function validates the log with
:func:`crmlab.validation.check_transactions`: missing ids or dates, non-numeric, infinite
or negative amounts (refunds must be netted first), duplicate column names and events after
the window end raise an error that says how to fix them.

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
...                    "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-10"],
...                    "amount": [10.0, 5.0, 20.0, 8.0]})
>>> s = customer_summary(tx, amount_col="amount", observation_end="2024-01-31")
>>> s.loc[1].tolist(), s.attrs["time_unit"]
([1.0, 14.0, 30.0, 20.0], 'D')
>>> f = customer_features(tx, observation_end="2024-01-31")
>>> f.loc[1, ["recency_days", "n_orders", "total_spend"]].tolist()
[16.0, 3.0, 35.0]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab import time as _time
from crmlab.data import columns as C
from crmlab.time import DateLike
from crmlab.validation import (
    check_frame,
    check_positive_int,
    check_timestamp,
    check_transactions,
)

__all__ = ["customer_summary", "calibration_holdout", "customer_features", "rfm_table", "RFM_COLUMNS"]

#: The R, F and M columns of :func:`rfm_table`.
RFM_COLUMNS = ("recency_days", "n_orders", "total_spend")


# ----------------------------------------------------------------------------- engines
def _resolve_engine(transactions, engine):
    """The engine for ``transactions``: the one rule of :func:`crmlab.engines.resolve.resolve_engine`."""
    from crmlab.engines.resolve import resolve_engine  # light: loads no backend

    return resolve_engine(transactions, engine)


def _delegate(kind: str, transactions, engine, **kwargs) -> pd.DataFrame:
    from crmlab.engines import backend

    return backend.run(kind, transactions, engine=engine, **kwargs)


def _with_unit(table: pd.DataFrame, time_unit: str, observation_end: pd.Timestamp) -> pd.DataFrame:
    # attrs hold plain strings, so a summary saves to parquet (its metadata is JSON)
    table.attrs["time_unit"] = time_unit
    table.attrs["observation_end"] = observation_end.normalize().date().isoformat()
    return table


# ----------------------------------------------------------------------------- BTYD summary
def _purchase_days(tx: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None) -> pd.DataFrame:
    """One row per customer and purchase day (same-day purchases merged, amounts summed)."""
    days = tx.assign(day=tx[date_col].dt.normalize())
    if amount_col is None:
        return days[[customer_col, "day"]].drop_duplicates().sort_values([customer_col, "day"], ignore_index=True)
    return days.groupby([customer_col, "day"], as_index=False)[amount_col].sum()


def _summary_from_days(days: pd.DataFrame, end_day: pd.Timestamp, unit: pd.Timedelta,
                       customer_col: str, amount_col: str | None) -> pd.DataFrame:
    by_customer = days.groupby(customer_col)["day"]
    first, last = by_customer.min(), by_customer.max()
    summary = pd.DataFrame({
        "frequency": by_customer.size() - 1,          # repeat purchase days
        "recency": (last - first) / unit,             # first to last purchase
        "T": (end_day - first) / unit,                # first purchase to the end
    })
    if amount_col is not None:
        # mean spend per repeat purchase day: the first day is left out
        repeat = days[days["day"] > days[customer_col].map(first)]
        mean_repeat = repeat.groupby(customer_col)[amount_col].mean()
        summary["monetary_value"] = mean_repeat.reindex(summary.index, fill_value=0.0)
    summary.index.name = customer_col
    return summary.astype("float64")


def customer_summary(
    transactions: pd.DataFrame | str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Any,
    *,
    observation_end: DateLike,
    customer_col: str = C.CUSTOMER,
    date_col: str = C.DATE,
    amount_col: str | None = None,
    time_unit: str = "D",
    engine: str | None = None,
) -> pd.DataFrame:
    """Frequency, recency, T (and monetary value) per customer: the BTYD summary, as in ``lifetimes``.

    Purchases on the same calendar day are merged into one purchase occasion.

    - ``frequency``: number of *repeat* purchase days (distinct purchase days − 1);
    - ``recency``: time from the first to the last purchase day;
    - ``T``: time from the first purchase day to the day of ``observation_end``;
    - ``monetary_value`` (when ``amount_col`` is given): mean amount per repeat purchase
      day (amounts of one day summed; the first day excluded), 0 when ``frequency`` is 0.

    The result records its unit in ``summary.attrs["time_unit"]``; the CLV models read it,
    so a model fitted on days can never be asked for weeks by mistake.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per purchase.
    observation_end : date-like
        End of the observation window; its whole day counts. Events after it raise an
        error (filter them first).
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` leaves out ``monetary_value``.
    time_unit : {"D", "W", "M"}
        Unit of ``recency`` and ``T`` (:data:`crmlab.time.TIME_UNITS`; exact, not rounded).
    engine : {None, "pandas", "duckdb", "spark"} or Ibis connection
        Where to compute; ``None`` chooses from the type of ``transactions``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), float64 columns ``frequency``, ``recency``, ``T``
        [, ``monetary_value``]. Equal to
        ``lifetimes.utils.summary_data_from_transaction_data(..., freq="D",
        freq_multiplier=1 or 7)``.

    Examples
    --------
    >>> import crmlab as crm
    >>> cdnow = crm.load_cdnow()
    >>> early = cdnow[cdnow["date"] <= "1997-09-30"]
    >>> s = customer_summary(early, observation_end="1997-09-30", time_unit="W")
    >>> s.loc[1].round(2).tolist(), s.attrs["time_unit"]
    ([2.0, 30.43, 38.86], 'W')
    """
    _time.check_time_unit(time_unit)
    end = check_timestamp(observation_end, name="observation_end")
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        out = _delegate("customer_summary", transactions, engine, customer_col=customer_col, date_col=date_col,
                        amount_col=amount_col, observation_end=end, time_unit=time_unit)
        return _with_unit(out, time_unit, end)
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                            observation_end=end)
    days = _purchase_days(tx, customer_col, date_col, amount_col)
    summary = _summary_from_days(days, end.normalize(), _time.unit_timedelta(time_unit), customer_col, amount_col)
    return _with_unit(summary, time_unit, end)


def calibration_holdout(
    transactions: pd.DataFrame | str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Any,
    *,
    cutoff: DateLike,
    observation_end: DateLike,
    customer_col: str = C.CUSTOMER,
    date_col: str = C.DATE,
    amount_col: str | None = None,
    time_unit: str = "D",
    engine: str | None = None,
) -> pd.DataFrame:
    """Split a log at ``cutoff`` into calibration features and holdout outcomes per customer.

    The calibration period runs up to the day of ``cutoff`` (inclusive); the holdout period
    is the days after it up to the day of ``observation_end``. Customers are those who bought
    in the calibration period (a model fitted on it knows no one else); customers first seen
    in the holdout period are not rows of the result.

    Columns follow ``lifetimes.utils.calibration_and_holdout_data``:

    - ``frequency_cal``, ``recency_cal``, ``T_cal`` [, ``monetary_value_cal``]: the
      :func:`customer_summary` of the calibration period;
    - ``frequency_holdout``: number of purchase days in the holdout period;
    - [``monetary_value_holdout``: mean amount per holdout purchase day, 0 if none;]
    - ``duration_holdout``: length of the holdout period in ``time_unit``.

    Unlike lifetimes, the holdout monetary value also merges same-day purchases (as the
    calibration columns do), so both periods measure spend per purchase occasion. The unit
    is recorded in ``attrs["time_unit"]``.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per purchase.
    cutoff : date-like
        Last day of the calibration period (its whole day counts).
    observation_end : date-like
        Last day of the holdout period.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` leaves out the monetary columns.
    time_unit : {"D", "W", "M"}
        Unit of the time columns.
    engine : {None, "pandas", "duckdb", "spark"}
        Where to compute; ``None`` chooses from the type of ``transactions``.

    Examples
    --------
    >>> import crmlab as crm
    >>> ch = calibration_holdout(crm.load_cdnow(), cutoff="1997-09-30",
    ...                          observation_end="1998-06-30", time_unit="W")
    >>> ch.loc[1, ["frequency_cal", "frequency_holdout"]].tolist()
    [2.0, 1.0]
    """
    _time.check_time_unit(time_unit)
    cut = check_timestamp(cutoff, name="cutoff")
    obs_end = check_timestamp(observation_end, name="observation_end")
    if cut.normalize() >= obs_end.normalize():
        raise ValueError(
            f"cutoff={cut.date()} must fall on a day before observation_end={obs_end.date()}; "
            f"the holdout period is the days in between."
        )
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        out = _delegate("calibration_holdout", transactions, engine, cutoff=cut, observation_end=obs_end,
                        customer_col=customer_col, date_col=date_col, amount_col=amount_col, time_unit=time_unit)
        out = _with_unit(out, time_unit, cut)
        out.attrs["holdout_end"] = obs_end.date().isoformat()
        return out
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                            observation_end=obs_end)
    days = _purchase_days(tx, customer_col, date_col, amount_col)
    in_calibration = days["day"] <= cut.normalize()
    if not in_calibration.any():
        raise ValueError(
            f"transactions has no purchases on or before cutoff={cut.date()}; choose a later cutoff."
        )
    unit = _time.unit_timedelta(time_unit)
    cal = _summary_from_days(days[in_calibration], cut.normalize(), unit, customer_col, amount_col)
    cal.columns = [f"{c}_cal" for c in cal.columns]

    holdout = days[~in_calibration].groupby(customer_col)
    cal["frequency_holdout"] = holdout.size().reindex(cal.index, fill_value=0).astype("float64")
    if amount_col is not None:
        cal["monetary_value_holdout"] = holdout[amount_col].mean().reindex(cal.index, fill_value=0.0)
    cal["duration_holdout"] = (obs_end.normalize() - cut.normalize()) / unit
    cal = _with_unit(cal, time_unit, cut)
    cal.attrs["holdout_end"] = obs_end.date().isoformat()
    return cal


# ----------------------------------------------------------------------------- descriptive features
def _check_customers(customers, customer_col: str) -> pd.Index | None:
    if customers is None:
        return None
    if isinstance(customers, pd.DataFrame):
        ids = check_frame(customers, required=[customer_col], not_missing=[customer_col], unique=customer_col,
                          allow_empty=True, name="customers")[customer_col]
    else:
        if isinstance(customers, (str, bytes)) or np.ndim(customers) != 1:
            raise TypeError("customers must be a DataFrame with the customer column or a list of ids.")
        ids = pd.Series(np.asarray(customers))
        if ids.isna().any():
            raise ValueError("customers has missing ids; drop them first.")
        if ids.duplicated().any():
            raise ValueError(f"customers has duplicate ids (e.g. {ids[ids.duplicated()].iloc[0]!r}); pass each once.")
    return pd.Index(ids, name=customer_col)


def _share_columns(values: pd.Series, weights: pd.Series | None, keys: pd.Series, prefix: str) -> pd.DataFrame:
    """Share of orders (or of ``weights``) per value of ``values``, one column per value."""
    w = pd.Series(1.0, index=values.index) if weights is None else weights.astype(float)
    table = w.groupby([keys, values]).sum().unstack(fill_value=0.0)
    totals = table.sum(axis=1)
    shares = table.div(totals.where(totals > 0), axis=0).fillna(0.0)
    shares.columns = [f"{prefix}{c}" for c in shares.columns]
    return shares


def customer_features(
    transactions: pd.DataFrame,
    *,
    observation_end: DateLike,
    customer_col: str = C.CUSTOMER,
    date_col: str = C.DATE,
    amount_col: str | None = C.AMOUNT,
    exclude_after: bool = False,
    lookback_days: int | Iterable[int] | None = None,
    discount_col: str | None = None,
    channel_col: str | None = None,
    order_lines: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    transaction_col: str = C.TRANSACTION,
    product_col: str = C.PRODUCT,
    line_amount_col: str = C.LINE_AMOUNT,
    category_col: str = C.CATEGORY,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Descriptive per-customer features at ``observation_end`` (see the vocabulary table above).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order.
    observation_end : date-like
        The date the table describes; its whole day counts.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` leaves out the spend columns.
    exclude_after : bool, default False
        Orders after ``observation_end`` raise an error (``False``: they usually mean the
        date is wrong) or are left out (``True``: a point-in-time view of a longer log).
    lookback_days : int or list of int, optional
        Adds ``n_orders_last_{L}d`` (and ``spend_last_{L}d``) for each window length ``L``.
    discount_col : str, optional
        Adds ``discount_share``.
    channel_col : str, optional
        Adds ``n_channels``, ``main_channel`` and ``share_<channel>``.
    order_lines, products : pandas.DataFrame, optional
        Together, add ``share_<category>`` (share of spend), linking lines to orders by
        ``transaction_col`` and to categories by ``product_col``.
    customers : DataFrame with ``customer_col``, or list of ids, optional
        Everyone to report, e.g. ``data.customers``: customers without orders get 0 orders
        and spend and missing dates/recency (``<NA>``); an order by an id that is not in
        ``customers`` raises an error.

    Returns
    -------
    pandas.DataFrame
        One row per customer with an order (or per id of ``customers``), sorted by id.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0], "discount": [0.0, 2.0, 0.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-20"])})
    >>> f = customer_features(tx, observation_end="2024-03-31", discount_col="discount", lookback_days=60)
    >>> f.loc[1, ["n_orders", "n_orders_last_60d", "mean_order_value", "discount_share"]].tolist()
    [2.0, 1.0, 20.0, 0.5]
    """
    end = check_timestamp(observation_end, name="observation_end")
    windows = _check_lookbacks(lookback_days)
    extra = [c for c in (discount_col, channel_col) if c is not None]
    if order_lines is not None or products is not None:
        extra.append(transaction_col)
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                            observation_end=end, exclude_after=exclude_after, extra=extra)
    ids = _check_customers(customers, customer_col)
    if ids is not None:
        unknown = ~tx[customer_col].isin(ids)
        if unknown.any():
            raise ValueError(
                f"transactions has {int(unknown.sum())} order(s) by customer ids missing from customers "
                f"(e.g. {tx.loc[unknown, customer_col].iloc[0]!r}). Fix the ids or add those customers."
            )
    if tx.empty and ids is None:
        raise ValueError(f"transactions has no orders on or before observation_end={end.date()}; "
                         f"choose a later observation_end.")
    end_day = end.normalize()
    by = tx.groupby(customer_col)
    first, last = by[date_col].min(), by[date_col].max()
    n_orders = by.size().astype("int64")
    tenure = (end_day - first.dt.normalize()).dt.days.astype("int64")
    out = pd.DataFrame({
        "first_purchase": first,
        "last_purchase": last,
        "recency_days": (end_day - last.dt.normalize()).dt.days.astype("int64"),
        "tenure_days": tenure,
        "n_orders": n_orders,
        "n_purchase_days": tx[date_col].dt.normalize().groupby(tx[customer_col]).nunique().astype("int64"),
    })
    if amount_col is not None:
        spend = by[amount_col].sum().astype("float64")
        out["total_spend"] = spend
        out["mean_order_value"] = spend / n_orders
    # the first month counts fully: one order last week is 1 order per month, not 4
    out["orders_per_month"] = n_orders / ((tenure + 1) / _time.MONTH_DAYS).clip(lower=1.0)
    for days in windows:
        recent = tx[date_col] >= _time.window_end(end) - pd.Timedelta(days=days)
        out[f"n_orders_last_{days}d"] = recent.groupby(tx[customer_col]).sum().astype("int64")
        if amount_col is not None:
            out[f"spend_last_{days}d"] = tx[amount_col].where(recent, 0.0).groupby(tx[customer_col]).sum()
    if discount_col is not None:
        check_frame(tx, numeric=[discount_col], not_missing=[discount_col], nonnegative=[discount_col],
                    name="transactions")
        out["discount_share"] = (tx[discount_col] > 0).groupby(tx[customer_col]).mean()
    if channel_col is not None:
        check_frame(tx, not_missing=[channel_col], name="transactions")
        shares = _share_columns(tx[channel_col].astype(str), None, tx[customer_col], "share_")
        out["n_channels"] = tx.groupby(customer_col)[channel_col].nunique().astype("int64")
        out["main_channel"] = shares.idxmax(axis=1).str.removeprefix("share_")
        out = out.join(shares)
    if (order_lines is None) != (products is None):
        raise ValueError("Pass both order_lines and products to get category shares (or neither).")
    if order_lines is not None:
        out = out.join(_category_shares(tx, order_lines, products, customer_col=customer_col,
                                        transaction_col=transaction_col, product_col=product_col,
                                        line_amount_col=line_amount_col, category_col=category_col))
        share_cols = [c for c in out.columns if c.startswith("share_")]
        out[share_cols] = out[share_cols].fillna(0.0)
    out.index.name = customer_col
    if ids is not None:
        out = _reindex_customers(out, ids.sort_values())
    return out.sort_index()


def _check_lookbacks(lookback_days) -> list[int]:
    if lookback_days is None:
        return []
    values = [lookback_days] if np.ndim(lookback_days) == 0 else list(lookback_days)
    return [check_positive_int(v, name="lookback_days") for v in values]


def _category_shares(tx, order_lines, products, *, customer_col, transaction_col, product_col, line_amount_col,
                     category_col) -> pd.DataFrame:
    lines = check_frame(order_lines, required=[transaction_col, product_col, line_amount_col],
                        numeric=[line_amount_col], not_missing=[transaction_col, product_col, line_amount_col],
                        nonnegative=[line_amount_col], name="order_lines")
    products = check_frame(products, required=[product_col, category_col], unique=product_col,
                           not_missing=[category_col], name="products")
    lines = lines.merge(products[[product_col, category_col]], on=product_col, how="left", validate="m:1")
    if lines[category_col].isna().any():
        bad = lines.loc[lines[category_col].isna(), product_col].iloc[0]
        raise ValueError(f"order_lines has product ids missing from products (e.g. {bad!r}); fix the catalogue.")
    lines = lines.merge(tx[[transaction_col, customer_col]], on=transaction_col, how="inner")
    if lines.empty:
        return pd.DataFrame(index=pd.Index([], name=customer_col))
    return _share_columns(lines[category_col].astype(str), lines[line_amount_col], lines[customer_col], "share_")


def _reindex_customers(out: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    full = out.reindex(ids)
    for col in full.columns:
        if col in ("first_purchase", "last_purchase"):
            continue
        if col in ("recency_days", "tenure_days"):
            full[col] = full[col].astype("Int64")
        elif col == "main_channel":
            continue
        elif pd.api.types.is_integer_dtype(out[col]) or col.startswith(("n_orders", "n_purchase", "n_channels")):
            full[col] = full[col].fillna(0).astype("int64")
        elif col == "mean_order_value":
            continue  # undefined without orders: stays missing
        else:
            full[col] = full[col].fillna(0.0)
    return full


def rfm_table(
    transactions: pd.DataFrame | str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Any,
    *,
    observation_end: DateLike,
    customer_col: str = C.CUSTOMER,
    date_col: str = C.DATE,
    amount_col: str = C.AMOUNT,
    exclude_after: bool = False,
    engine: str | None = None,
) -> pd.DataFrame:
    """Recency, frequency and monetary value (RFM 分析) per customer at ``observation_end``.

    The R, F and M columns of :func:`customer_features`: ``recency_days`` (whole days from
    the day of the last order to the day of ``observation_end``), ``n_orders`` and
    ``total_spend``. Customers without orders up to ``observation_end`` are absent.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per order.
    observation_end : date-like
        The date the table describes; its whole day counts.
    exclude_after : bool, default False
        As in :func:`customer_features`.
    engine : {None, "pandas", "duckdb", "spark"}
        Where to compute; ``None`` chooses from the type of ``transactions``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"])})
    >>> rfm = rfm_table(tx, observation_end="2024-03-31")
    >>> rfm.loc[1].tolist(), rfm.loc[2].tolist()
    ([30.0, 2.0, 40.0], [59.0, 1.0, 5.0])
    """
    end = check_timestamp(observation_end, name="observation_end")
    if not isinstance(exclude_after, (bool, np.bool_)):
        raise TypeError(f"exclude_after must be True or False, got {exclude_after!r}.")
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        return _delegate("rfm_table", transactions, engine, observation_end=end, customer_col=customer_col,
                         date_col=date_col, amount_col=amount_col, exclude_after=bool(exclude_after))
    features = customer_features(transactions, observation_end=end, customer_col=customer_col, date_col=date_col,
                                 amount_col=amount_col, exclude_after=exclude_after)
    return features[list(RFM_COLUMNS)]
