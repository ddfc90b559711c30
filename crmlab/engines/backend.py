"""Run a per-customer table on DuckDB or Spark: the one entry :mod:`crmlab.features` calls.

``run(kind, transactions, engine=..., **kwargs)`` takes the keyword arguments of the
features function after its validation (column names, ``observation_end``/``cutoff`` as
Timestamps, ``time_unit``, ``exclude_after``, ...) and returns the DataFrame the pandas
reference returns: same index, columns, dtypes and ``attrs["time_unit"]``.

The steps are the same for every table: check the log (a pandas DataFrame with
:func:`crmlab.validation.check_transactions`, files and Spark frames with
:func:`crmlab.engines.audit.audit_table`), bind it to the engine
(:mod:`crmlab.engines.sources`), build the query (:mod:`crmlab.engines.queries`), and
bring the small per-customer result back to pandas.

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0],
...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"])})
>>> s = run("customer_summary", tx, engine="duckdb", customer_col="customer_id", date_col="date",
...         amount_col="amount", observation_end=pd.Timestamp("2024-03-31"), time_unit="D")
>>> s.loc[1].tolist(), s.attrs["time_unit"]
([1.0, 60.0, 90.0, 30.0], 'D')
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from crmlab import validation as V
from crmlab.engines import queries
from crmlab.engines.audit import audit_table
from crmlab.engines.connections import quiet_spark
from crmlab.engines.resolve import engine_name
from crmlab.engines.sources import Source, open_source

__all__ = ["KINDS", "run", "cohort_table"]

#: The tables a backend computes.
KINDS = ("customer_summary", "rfm_table", "calibration_holdout", "cohort_retention")

# DuckDB's hash aggregate by (customer, day) holds every group at once: for a 10-million-row
# frame that is more memory than the frame itself. Aggregating the customers in buckets, one
# after another, bounds it (a customer's rows all fall in one bucket, so the result is the same).
_ROWS_PER_BUCKET = 2_500_000


def run(kind: str, transactions: Any, *, engine: Any, **kwargs: Any) -> pd.DataFrame:
    """Compute table ``kind`` of ``transactions`` on ``engine`` (``"duckdb"``, ``"spark"`` or a connection).

    Parameters
    ----------
    kind : {"customer_summary", "rfm_table", "calibration_holdout", "cohort_retention"}
        The table; ``kwargs`` are the keyword arguments of the features function of that
        name after validation.
    transactions : pandas.DataFrame, path, glob, folder, list of paths or Spark DataFrame
        The log.
    engine : {"duckdb", "spark"} or Ibis DuckDB/PySpark connection
        A resolved engine (:func:`crmlab.engines.resolve.resolve_engine`); pandas is the
        reference, computed by :mod:`crmlab.features` itself.

    Returns
    -------
    pandas.DataFrame
        Equal to the pandas reference.
    """
    V.check_choice(kind, KINDS, name="kind")
    if isinstance(engine, str) and engine == "pandas":
        raise ValueError("engine='pandas' is the reference computed by crmlab.features; call "
                         f"crmlab.features.{kind}(..., engine='pandas') instead.")
    if isinstance(engine, str):
        V.check_choice(engine, ("duckdb", "spark"), name="engine")
    return _RUNNERS[kind](transactions, engine, **kwargs)


# ----------------------------------------------------------------------------- the shared steps
@contextlib.contextmanager
def checked_source(transactions: Any, engine: Any, *, customer_col: str, date_col: str,
                    amount_col: str | None, observation_end: pd.Timestamp | None = None,
                    exclude_after: bool = False) -> Iterator[tuple[Source, dict[str, Any]]]:
    """The log checked as the pandas reference checks it, bound to ``engine``; and its facts.

    Facts: ``rows`` and ``earliest`` (the first date left after ``exclude_after``).
    """
    columns = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    if isinstance(transactions, pd.DataFrame):
        # the pandas checks themselves (no copy of the data: pandas copies on write only)
        tx = V.check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                                  observation_end=observation_end, exclude_after=exclude_after)
        facts: dict[str, Any]
        if tx.empty:
            facts = {"rows": 0, "earliest": None}
        else:
            facts = {"rows": len(tx), "earliest": tx[date_col].min()}
        source = open_source(tx, engine, columns)
    else:
        source = open_source(transactions, engine, columns)
        try:
            facts = audit_table(source.table, source.columns, customer_col=customer_col, date_col=date_col,
                                amount_col=amount_col, observation_end=observation_end, exclude_after=exclude_after)
        except BaseException:
            source.close()
            raise
    try:
        yield source, facts
    finally:
        source.close()


def collect(source: Source, expr: Any, customer_col: str) -> pd.DataFrame:
    """The query's result as the reference lays it out: indexed by the customer id."""
    with quiet_spark():
        table = source.backend.to_pyarrow(expr)
    return _indexed(table.to_pandas(), customer_col)


def _indexed(df: pd.DataFrame, customer_col: str) -> pd.DataFrame:
    ids = df[customer_col]
    if pd.api.types.is_signed_integer_dtype(ids):
        ids = ids.astype("int64")   # Spark reads small integers from CSV as int32; pandas as int64
    elif ids.dtype == object and pd.api.types.infer_dtype(ids, skipna=False) == "string":
        ids = ids.astype("str")     # older pyarrow hands strings to pandas as objects; pandas 3 reads str
    index = pd.Index(ids, name=customer_col)   # set_index would turn 1..n into a RangeIndex
    return df.drop(columns=customer_col).set_axis(index, axis=0)


def collect_per_customer(source: Source, facts: dict[str, Any], query: Callable[[Any], Any], customer_col: str) -> pd.DataFrame:
    """Run a per-customer ``query`` (a function of the log's table) and collect it.

    A large pandas frame on DuckDB is aggregated in customer buckets, one after another
    (see ``_ROWS_PER_BUCKET``); files and Spark run the query once.
    """
    buckets = 1
    if source.frame is not None and engine_name(source.backend) == "duckdb":
        buckets = max(1, math.ceil(int(facts["rows"]) / _ROWS_PER_BUCKET))
    if buckets == 1:
        return collect(source, query(source.table), customer_col)
    import pyarrow as pa

    t = source.table
    bucket = (t[customer_col].hash() % buckets + buckets) % buckets    # Ibis reads DuckDB's hash as signed
    parts = [source.backend.to_pyarrow(query(t.filter(bucket == i))) for i in range(buckets)]
    table = pa.concat_tables(parts).sort_by(customer_col)
    return _indexed(table.to_pandas(), customer_col)


def _no_orders(end: pd.Timestamp) -> ValueError:
    return ValueError(f"transactions has no orders on or before observation_end={end.date()}; "
                      f"choose a later observation_end.")


def _with_unit(table: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    table.attrs["time_unit"] = time_unit
    return table


# ----------------------------------------------------------------------------- the tables
def _customer_summary(transactions: Any, engine: Any, *, observation_end: pd.Timestamp, customer_col: str,
                      date_col: str, amount_col: str | None, time_unit: str) -> pd.DataFrame:
    with checked_source(transactions, engine, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                         observation_end=observation_end) as (src, facts):
        def query(t: Any) -> Any:
            return queries.customer_summary_query(t, customer_col=customer_col, date_col=date_col,
                                                  amount_col=amount_col, observation_end=observation_end,
                                                  time_unit=time_unit)

        return _with_unit(collect_per_customer(src, facts, query, customer_col), time_unit)


def _rfm_table(transactions: Any, engine: Any, *, observation_end: pd.Timestamp, customer_col: str, date_col: str,
               amount_col: str, exclude_after: bool = False) -> pd.DataFrame:
    with checked_source(transactions, engine, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                         observation_end=observation_end, exclude_after=exclude_after) as (src, facts):
        if facts["rows"] == 0 or pd.Timestamp(facts["earliest"]).normalize() > observation_end.normalize():
            raise _no_orders(observation_end)
        def query(t: Any) -> Any:
            return queries.rfm_query(t, observation_end=observation_end, customer_col=customer_col,
                                     date_col=date_col, amount_col=amount_col)

        return collect_per_customer(src, facts, query, customer_col)


def _calibration_holdout(transactions: Any, engine: Any, *, cutoff: pd.Timestamp, observation_end: pd.Timestamp,
                         customer_col: str, date_col: str, amount_col: str | None, time_unit: str) -> pd.DataFrame:
    with checked_source(transactions, engine, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                         observation_end=observation_end) as (src, facts):
        if pd.Timestamp(facts["earliest"]).normalize() > cutoff.normalize():
            raise ValueError(f"transactions has no purchases on or before cutoff={cutoff.date()}; "
                             f"choose a later cutoff.")
        def query(t: Any) -> Any:
            return queries.calibration_holdout_query(t, cutoff=cutoff, observation_end=observation_end,
                                                     customer_col=customer_col, date_col=date_col,
                                                     amount_col=amount_col, time_unit=time_unit)

        return _with_unit(collect_per_customer(src, facts, query, customer_col), time_unit)


def _cohort_retention(transactions: Any, engine: Any, *, period: str, customer_col: str, date_col: str,
                      normalize: bool) -> pd.DataFrame:
    with checked_source(transactions, engine, customer_col=customer_col, date_col=date_col,
                         amount_col=None) as (src, _):
        expr = queries.cohort_retention_query(src.table, period=period, customer_col=customer_col, date_col=date_col)
        with quiet_spark():
            long = src.backend.to_pyarrow(expr).to_pandas()
    return cohort_table(long, period, normalize)


def cohort_table(long: pd.DataFrame, period: str, normalize: bool) -> pd.DataFrame:
    """Pivot (cohort, offset, customers) into the reference layout: NaN where not yet observed."""
    freq = "W-SUN" if period == "W" else period
    first, last = int(long["cohort"].min()), int(long["period"].max())
    n_offsets = last - first + 1
    counts = long.pivot_table(index="cohort", columns="offset", values="customers", aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=range(n_offsets), fill_value=0).astype("float64")
    cohorts = counts.index.to_numpy(dtype="int64")
    observed = np.add.outer(cohorts - first, np.arange(n_offsets))
    counts = counts.where(observed <= n_offsets - 1)
    counts.index = pd.PeriodIndex.from_ordinals(cohorts, freq=freq, name="cohort")
    counts.columns = pd.RangeIndex(n_offsets, name="periods_since_first")
    if normalize:
        counts = counts.div(counts[0], axis=0)
    return counts


_RUNNERS: dict[str, Callable[..., pd.DataFrame]] = {"customer_summary": _customer_summary, "rfm_table": _rfm_table,
            "calibration_holdout": _calibration_holdout, "cohort_retention": _cohort_retention}


