"""Per-customer feature tables from a transaction log.

These tables feed most of the course:

- :func:`customer_summary`: ``frequency``, ``recency``, ``T`` (and ``monetary_value``),
  the sufficient statistics of the BTYD models (BG/NBD, Pareto/NBD, Gamma-Gamma), with
  the definitions of the ``lifetimes`` package;
- :func:`rfm_table`: recency in days, number of orders and total spend at a date, for
  RFM analysis (RFM 分析);
- :func:`calibration_holdout`: the same summary over a calibration period plus what each
  customer did in the holdout period that follows, for honest model evaluation;
- :func:`persona_features`: behavioural features (order rate, basket, discounts, category
  mix) for clustering personas.

Time is measured in calendar days: all purchases a customer makes on one day count as
one purchase occasion ("period"), and a date given as an end (``observation_end``,
``calibration_end``, ``as_of``) covers that whole day.

The first three take ``engine=``: ``"pandas"`` (the readable reference taught in the
notebooks), ``"duckdb"`` or ``"spark"`` (same result, computed by
:mod:`crmlab.engines` for logs too large for pandas). By default (``engine=None``) a
pandas DataFrame is computed with pandas, a file path or glob with DuckDB and a Spark
DataFrame with Spark.

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
...                    "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-10"],
...                    "amount": [10.0, 5.0, 20.0, 8.0]})
>>> s = customer_summary(tx, amount_col="amount", observation_end="2024-01-31")
>>> s.loc[1].tolist(), s.loc[2].tolist()
([1.0, 14.0, 30.0, 20.0], [0.0, 0.0, 21.0, 0.0])
"""

from __future__ import annotations

import os

import pandas as pd

from crmlab.validation import check_choice, check_frame, check_not_after, check_timestamp

__all__ = ["customer_summary", "rfm_table", "calibration_holdout", "persona_features", "TIME_UNITS"]

#: Length of one time unit; ``"W"`` is exactly 7 days (recency and T are not rounded).
TIME_UNITS = {"D": pd.Timedelta(days=1), "W": pd.Timedelta(days=7)}
_ENGINES = ("pandas", "duckdb", "spark")


# ----------------------------------------------------------------------------- helpers
def _resolve_engine(transactions, engine) -> str:
    """Pick the engine: explicit ``engine`` or one inferred from the type of ``transactions``."""
    is_path = isinstance(transactions, (str, os.PathLike)) or (
        isinstance(transactions, (list, tuple)) and len(transactions) > 0
        and all(isinstance(p, (str, os.PathLike)) for p in transactions)
    )
    is_spark = type(transactions).__module__.startswith("pyspark.")
    if engine is None:
        return "duckdb" if is_path else "spark" if is_spark else "pandas"
    if type(engine).__module__.startswith("ibis."):  # an Ibis DuckDB/PySpark connection
        return engine
    check_choice(engine, _ENGINES, name="engine")
    if engine == "pandas" and (is_path or is_spark):
        raise TypeError(
            f"engine='pandas' needs a pandas DataFrame, got {type(transactions).__name__}. "
            f"Use engine='duckdb' for files and engine='spark' for Spark DataFrames "
            f"(or leave engine=None to choose automatically)."
        )
    return engine


def _delegate(function: str, transactions, engine: str, **kwargs):
    from crmlab import engines

    return getattr(engines, function)(transactions, engine=engine, **kwargs)


def _end_of_day(ts: pd.Timestamp) -> pd.Timestamp:
    """The last microsecond of the day of ``ts``: an end date covers the whole day."""
    return ts.normalize() + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def _check_time_unit(time_unit: str) -> pd.Timedelta:
    return TIME_UNITS[check_choice(time_unit, tuple(TIME_UNITS), name="time_unit")]


def _check_transactions(transactions, *, customer_col, date_col, amount_col, end, end_name) -> pd.DataFrame:
    """Validate the log and return a copy with only the needed columns and parsed dates."""
    required = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    tx = check_frame(
        transactions,
        required=required,
        dates=[date_col],
        numeric=[amount_col] if amount_col is not None else [],
        not_missing=required,
        nonnegative=[amount_col] if amount_col is not None else [],
        name="transactions",
    )
    check_not_after(tx, date_col, end, name="transactions", limit_name=end_name)
    return tx[required]


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


# ----------------------------------------------------------------------------- public
def customer_summary(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    observation_end,
    time_unit: str = "D",
    engine: str | None = None,
) -> pd.DataFrame:
    """Frequency, recency, T (and monetary value) per customer, as in ``lifetimes``.

    Purchases on the same calendar day are merged into one purchase occasion.

    - ``frequency``: number of *repeat* purchase days (distinct purchase days − 1);
    - ``recency``: time from the first to the last purchase day;
    - ``T``: time from the first purchase day to the day of ``observation_end``;
    - ``monetary_value`` (when ``amount_col`` is given): mean amount per repeat purchase
      day (amounts of one day summed; the first day excluded), 0 when ``frequency`` is 0.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per purchase.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` leaves out ``monetary_value``.
    observation_end : date-like
        End of the observation window; its whole day counts. Events after it raise an
        error (filter them first).
    time_unit : {"D", "W"}
        Unit of ``recency`` and ``T``: days, or exact weeks (days / 7, not rounded).
    engine : {None, "pandas", "duckdb", "spark"} or Ibis connection
        Where to compute; ``None`` chooses from the type of ``transactions``; an Ibis
        connection (e.g. :func:`crmlab.engines.connect_duckdb`) runs on that connection.

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
    >>> s.loc[1].round(2).tolist()
    [2.0, 30.43, 38.86]
    """
    unit = _check_time_unit(time_unit)
    end = check_timestamp(observation_end, name="observation_end")
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        return _delegate("customer_summary", transactions, engine, customer_col=customer_col, date_col=date_col,
                         amount_col=amount_col, observation_end=end, time_unit=time_unit)
    tx = _check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                             end=_end_of_day(end), end_name="observation_end")
    days = _purchase_days(tx, customer_col, date_col, amount_col)
    return _summary_from_days(days, end.normalize(), unit, customer_col, amount_col)


def rfm_table(
    transactions,
    *,
    as_of,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    exclude_after: bool = False,
    engine: str | None = None,
) -> pd.DataFrame:
    """Recency, frequency and monetary value (RFM) per customer at the date ``as_of``.

    - ``recency_days``: whole days from the day of the last purchase to the day of ``as_of``
      (0 = bought on that day);
    - ``frequency``: number of orders (rows of ``transactions``), the first one included;
    - ``monetary``: total spend.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per order.
    as_of : date-like
        The date the table describes; its whole day counts.
    customer_col, date_col, amount_col : str
        Column names.
    exclude_after : bool, default False
        What to do with orders after ``as_of``. ``False`` raises an error, because such
        orders usually mean ``as_of`` is wrong. ``True`` leaves them out on purpose, for a
        point-in-time view of a longer log ("what did we know on 1 July?").
    engine : {None, "pandas", "duckdb", "spark"}
        Where to compute; ``None`` chooses from the type of ``transactions``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted): ``recency_days`` (int64), ``frequency`` (int64),
        ``monetary`` (float64). Customers without orders up to ``as_of`` are absent.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"])})
    >>> rfm = rfm_table(tx, as_of="2024-03-31")
    >>> rfm.loc[1].tolist(), rfm.loc[2].tolist()
    ([30.0, 2.0, 40.0], [59.0, 1.0, 5.0])
    """
    if not isinstance(exclude_after, (bool,)):
        raise TypeError(f"exclude_after must be True or False, got {exclude_after!r}.")
    as_of = check_timestamp(as_of, name="as_of")
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        return _delegate("rfm_table", transactions, engine, as_of=as_of, customer_col=customer_col,
                         date_col=date_col, amount_col=amount_col, exclude_after=exclude_after)
    end = _end_of_day(as_of)
    tx = _check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                             end=pd.Timestamp.max if exclude_after else end, end_name="as_of")
    tx = tx[tx[date_col] <= end]
    if tx.empty:
        raise ValueError(f"transactions has no orders on or before as_of={as_of.date()}; choose a later as_of.")
    by_customer = tx.groupby(customer_col)
    last_day = by_customer[date_col].max().dt.normalize()
    rfm = pd.DataFrame({
        "recency_days": (as_of.normalize() - last_day).dt.days.astype("int64"),
        "frequency": by_customer.size().astype("int64"),
        "monetary": by_customer[amount_col].sum().astype("float64"),
    })
    rfm.index.name = customer_col
    return rfm


def calibration_holdout(
    transactions,
    *,
    calibration_end,
    observation_end,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    time_unit: str = "D",
    engine: str | None = None,
) -> pd.DataFrame:
    """Split a log into calibration features and holdout outcomes per customer.

    The calibration period runs up to the day of ``calibration_end`` (inclusive); the
    holdout period is the days after it up to the day of ``observation_end``. Customers
    are those who bought in the calibration period (a model fitted on it knows no one
    else); customers first seen in the holdout period are not rows of the result.

    Columns follow ``lifetimes.utils.calibration_and_holdout_data``:

    - ``frequency_cal``, ``recency_cal``, ``T_cal`` [, ``monetary_value_cal``]: the
      :func:`customer_summary` of the calibration period;
    - ``frequency_holdout``: number of purchase days in the holdout period;
    - [``monetary_value_holdout``: mean amount per holdout purchase day, 0 if none;]
    - ``duration_holdout``: length of the holdout period in ``time_unit``.

    Unlike lifetimes, the holdout monetary value also merges same-day purchases (as the
    calibration columns do), so both periods measure spend per purchase occasion.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per purchase.
    calibration_end, observation_end : date-like
        Last day of the calibration period and of the observation window.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` leaves out the monetary columns.
    time_unit : {"D", "W"}
        Unit of the time columns (exact weeks for ``"W"``).
    engine : {None, "pandas", "duckdb", "spark"}
        Where to compute; ``None`` chooses from the type of ``transactions``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), float64 columns.

    Examples
    --------
    >>> import crmlab as crm
    >>> ch = calibration_holdout(crm.load_cdnow(), calibration_end="1997-09-30",
    ...                          observation_end="1998-06-30", time_unit="W")
    >>> ch.loc[1, ["frequency_cal", "frequency_holdout"]].tolist()
    [2.0, 1.0]
    """
    unit = _check_time_unit(time_unit)
    cal_end = check_timestamp(calibration_end, name="calibration_end")
    obs_end = check_timestamp(observation_end, name="observation_end")
    if cal_end.normalize() >= obs_end.normalize():
        raise ValueError(
            f"calibration_end={cal_end.date()} must fall on a day before observation_end={obs_end.date()}; "
            f"the holdout period is the days in between."
        )
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        return _delegate("calibration_holdout", transactions, engine, calibration_end=cal_end,
                         observation_end=obs_end, customer_col=customer_col, date_col=date_col,
                         amount_col=amount_col, time_unit=time_unit)
    tx = _check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                             end=_end_of_day(obs_end), end_name="observation_end")
    days = _purchase_days(tx, customer_col, date_col, amount_col)
    in_calibration = days["day"] <= cal_end.normalize()
    if not in_calibration.any():
        raise ValueError(
            f"transactions has no purchases on or before calibration_end={cal_end.date()}; "
            f"choose a later calibration_end."
        )
    cal = _summary_from_days(days[in_calibration], cal_end.normalize(), unit, customer_col, amount_col)
    cal.columns = [f"{c}_cal" for c in cal.columns]

    holdout = days[~in_calibration].groupby(customer_col)
    cal["frequency_holdout"] = holdout.size().reindex(cal.index, fill_value=0).astype("float64")
    if amount_col is not None:
        cal["monetary_value_holdout"] = holdout[amount_col].mean().reindex(cal.index, fill_value=0.0)
    cal["duration_holdout"] = (obs_end.normalize() - cal_end.normalize()) / unit
    return cal


def persona_features(
    transactions: pd.DataFrame,
    *,
    as_of,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    discount_col: str | None = None,
    order_lines: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    category_col: str = "category",
) -> pd.DataFrame:
    """Behavioural features for clustering personas (客户画像), one row per buyer.

    - ``recency_days``, ``frequency``, ``monetary``: as in :func:`rfm_table`;
    - ``orders_per_month``: orders per 30.4 days since the first purchase (the first
      month counts fully, so one order last week is 1 order per month, not 4);
    - ``mean_order_value``: ``monetary / frequency``;
    - ``discount_share`` (with ``discount_col``): share of orders with a discount;
    - ``share_<category>`` (with ``order_lines`` and ``products``): share of spend per
      product category, from ``order_lines`` (``transaction_id``, ``product_id``,
      ``line_amount``) and ``products`` (``product_id``, ``category_col``).

    Only orders up to the day of ``as_of`` are used (later ones raise an error).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0], "discount": [0.0, 2.0, 0.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-20"])})
    >>> f = persona_features(tx, as_of="2024-03-31", discount_col="discount")
    >>> f.loc[1, ["frequency", "mean_order_value", "discount_share"]].tolist()
    [2.0, 20.0, 0.5]
    """
    rfm = rfm_table(transactions, as_of=as_of, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    as_of = check_timestamp(as_of, name="as_of")
    tx = check_frame(transactions, required=[customer_col, date_col], dates=[date_col], name="transactions")
    first = tx.groupby(customer_col)[date_col].min().dt.normalize()
    tenure_days = (as_of.normalize() - first).dt.days
    features = rfm.assign(
        orders_per_month=rfm["frequency"] / ((tenure_days + 1) / 30.4).clip(lower=1.0),
        mean_order_value=rfm["monetary"] / rfm["frequency"],
    )
    if discount_col is not None:
        tx = check_frame(tx, required=[discount_col], numeric=[discount_col], not_missing=[discount_col],
                         nonnegative=[discount_col], name="transactions")
        features["discount_share"] = (tx[discount_col] > 0).groupby(tx[customer_col]).mean()
    if (order_lines is None) != (products is None):
        raise ValueError("Pass both order_lines and products to get category shares (or neither).")
    if order_lines is not None:
        if "transaction_id" not in tx.columns:
            raise ValueError("transactions needs a 'transaction_id' column to link order_lines to customers.")
        lines = check_frame(order_lines, required=["transaction_id", "product_id", "line_amount"],
                            numeric=["line_amount"], not_missing=["transaction_id", "product_id", "line_amount"],
                            name="order_lines")
        products = check_frame(products, required=["product_id", category_col], unique="product_id", name="products")
        lines = lines.merge(products[["product_id", category_col]], on="product_id", how="left", validate="m:1")
        if lines[category_col].isna().any():
            bad = lines.loc[lines[category_col].isna(), "product_id"].tolist()[0]
            raise ValueError(f"order_lines has product ids missing from products (e.g. {bad!r}); fix the catalogue.")
        lines = lines.merge(tx[["transaction_id", customer_col]], on="transaction_id", how="inner")
        spend = lines.pivot_table(index=customer_col, columns=category_col, values="line_amount",
                                  aggfunc="sum", fill_value=0.0)
        shares = spend.div(spend.sum(axis=1).where(lambda t: t > 0), axis=0).fillna(0.0)
        shares.columns = [f"share_{c}" for c in shares.columns]
        features = features.join(shares).fillna({c: 0.0 for c in shares.columns})
    return features
