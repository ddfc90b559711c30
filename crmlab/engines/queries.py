"""The per-customer queries, each defined once as an engine-neutral Ibis expression.

Every function here takes an Ibis table (bound to DuckDB, Spark or nothing at all) and
returns an Ibis expression; :mod:`crmlab.engines` binds the table to an engine and runs
it. The definitions mirror the pandas reference in :mod:`crmlab.features` and
:mod:`crmlab.lifecycle` line by line: same-day purchases are merged into one purchase
day, times are counted in whole calendar days and converted with the one table of units
(:data:`crmlab.time.TIME_UNITS`), and an end date covers its whole day.

Purchases are grouped by calendar date; dates become day numbers (days since 1970-01-01)
only to take differences, so every difference of two dates is an exact integer on every
engine.

Examples
--------
>>> import ibis
>>> from crmlab.engines.queries import customer_summary_query
>>> tx = ibis.table({"customer_id": "int64", "date": "timestamp", "amount": "float64"}, name="tx")
>>> expr = customer_summary_query(tx, customer_col="customer_id", date_col="date",
...                               amount_col="amount", observation_end="1997-09-30", time_unit="W")
>>> expr.columns
('customer_id', 'frequency', 'recency', 'T', 'monetary_value')
>>> sql = ibis.to_sql(expr, dialect="duckdb")   # or dialect="pyspark"
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from crmlab.time import TIME_UNITS, DateLike

__all__ = [
    "customer_summary_query",
    "rfm_query",
    "calibration_holdout_query",
    "cohort_retention_query",
    "day_number",
    "to_sql",
]

_EPOCH = pd.Timestamp("1970-01-01")
_DAY, _AMOUNT = "_day", "_amount"


def day_number(value: DateLike) -> int:
    """Days from 1970-01-01 to the calendar day of ``value`` (a date-like scalar).

    >>> day_number("1970-01-02 23:59")
    1
    """
    return int((pd.Timestamp(value).normalize() - _EPOCH).days)


def to_sql(expr: ibis.Expr, engine: str = "duckdb") -> str:
    """The SQL that ``engine`` (``"duckdb"`` or ``"spark"``) runs for a query of this module.

    Compiling for Spark needs PySpark installed but no Java and no session.

    >>> tx = ibis.table({"customer_id": "int64", "date": "timestamp"}, name="tx")
    >>> expr = customer_summary_query(tx, customer_col="customer_id", date_col="date", amount_col=None,
    ...                               observation_end="2024-12-31", time_unit="D")
    >>> "GROUP BY" in to_sql(expr, "duckdb")
    True
    """
    from crmlab.validation import check_choice

    check_choice(engine, ("duckdb", "spark"), name="engine")
    if engine == "spark":
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
            ibis.pyspark  # noqa: B018  registers the Spark compiler's options
        return ibis.to_sql(expr, dialect="pyspark")
    return ibis.to_sql(expr, dialect="duckdb")


def _as_date(column: ibis.Value) -> ibis.Value:
    """Calendar day of a date, timestamp or ISO-string column (a DATE: 4 bytes to group by)."""
    if column.type().is_string():
        column = column.cast("timestamp")
    return column.date() if column.type().is_timestamp() else column


def _as_day(column: ibis.Value) -> ibis.Value:
    """Calendar day of a date, timestamp or ISO-string column, as a day number."""
    return _as_date(column).epoch_days()


def _date_literal(value: DateLike) -> ibis.Value:
    return ibis.literal(pd.Timestamp(value).date(), type="date")


def _purchase_days(t: ibis.Table, customer_col: str, date_col: str, amount_col: str | None) -> ibis.Table:
    """One row per customer and purchase day: ``customer_col``, ``_day`` (a date) [, ``_amount`` summed]."""
    days = t.select(t[customer_col], _as_date(t[date_col]).name(_DAY),
                    *([t[amount_col].cast("float64").name(_AMOUNT)] if amount_col else []))
    if amount_col is None:
        return days.distinct()
    return days.group_by([customer_col, _DAY]).aggregate(days[_AMOUNT].sum().name(_AMOUNT))


@ibis.udf.agg.builtin(name="min_by")
def _min_by(arg: dt.float64, key: dt.date) -> dt.float64:
    """The value of ``arg`` on the row with the smallest ``key`` (DuckDB ``arg_min``, Spark ``min_by``)."""


def _summary(days: ibis.Table, customer_col: str, end_day: int, unit: float, with_amount: bool,
             suffix: str = "") -> ibis.Table:
    """frequency, recency, T [, monetary_value] from purchase days, one row per customer."""
    aggregates = {"_n": days.count(), "_first": days[_DAY].min(), "_last": days[_DAY].max()}
    if with_amount:
        aggregates["_total"] = days[_AMOUNT].sum()
        aggregates["_first_amount"] = _min_by(days[_AMOUNT], days[_DAY])
    g = days.group_by(customer_col).aggregate(**aggregates)
    first, last = g._first.epoch_days(), g._last.epoch_days()      # exact integers on every engine
    unit_value = ibis.literal(unit)
    out = {
        "frequency": (g._n - 1).cast("float64"),                    # repeat purchase days
        "recency": (last - first).cast("float64") / unit_value,
        "T": (ibis.literal(end_day) - first).cast("float64") / unit_value,
    }
    if with_amount:
        # mean spend per repeat day: everything but the first day, over the repeat days. One pass
        # over the purchase days (a join back to the first day costs twice as much); the
        # subtraction rounds at ~1e-16 of the customer's total, far inside the 1e-9 we promise.
        out["monetary_value"] = ibis.ifelse(g._n > 1, (g._total - g._first_amount) / (g._n - 1).cast("float64"), 0.0)
    return g.select(customer_col, **{f"{k}{suffix}": v for k, v in out.items()})


def customer_summary_query(t: ibis.Table, *, customer_col: str, date_col: str, amount_col: str | None,
                           observation_end: DateLike, time_unit: str) -> ibis.Table:
    """frequency, recency, T [, monetary_value] per customer (see :func:`crmlab.features.customer_summary`)."""
    days = _purchase_days(t, customer_col, date_col, amount_col)
    summary = _summary(days, customer_col, day_number(observation_end), TIME_UNITS[time_unit], amount_col is not None)
    return summary.order_by(customer_col)


def rfm_query(t: ibis.Table, *, observation_end: DateLike, customer_col: str, date_col: str,
              amount_col: str) -> ibis.Table:
    """recency_days, n_orders, total_spend per customer up to the day of ``observation_end``.

    The R, F and M columns of :func:`crmlab.features.rfm_table`. Orders after the day of
    ``observation_end`` are left out (the caller decides whether they are an error).
    """
    orders = t.select(t[customer_col], _as_date(t[date_col]).name(_DAY), t[amount_col].cast("float64").name(_AMOUNT))
    orders = orders.filter(orders[_DAY] <= _date_literal(observation_end))
    g = orders.group_by(customer_col).aggregate(
        _last=orders[_DAY].max(), _n=orders.count(), _total=orders[_AMOUNT].sum())
    recency = (ibis.literal(day_number(observation_end)) - g._last.epoch_days()).cast("int64")
    return g.select(customer_col, recency_days=recency, n_orders=g._n.cast("int64"),
                    total_spend=g._total.cast("float64")).order_by(customer_col)


def calibration_holdout_query(t: ibis.Table, *, cutoff: DateLike, observation_end: DateLike, customer_col: str,
                              date_col: str, amount_col: str | None, time_unit: str) -> ibis.Table:
    """Summary up to the day of ``cutoff`` plus holdout outcomes (see :func:`crmlab.features.calibration_holdout`)."""
    cal_day, end_day, unit = day_number(cutoff), day_number(observation_end), TIME_UNITS[time_unit]
    cal_date = _date_literal(cutoff)
    days = _purchase_days(t, customer_col, date_col, amount_col)
    with_amount = amount_col is not None
    cal = _summary(days.filter(days[_DAY] <= cal_date), customer_col, cal_day, unit, with_amount, suffix="_cal")
    holdout_days = days.filter(days[_DAY] > cal_date)
    holdout = holdout_days.group_by(customer_col).aggregate(
        _n=holdout_days.count(), **({"_mean": holdout_days[_AMOUNT].mean()} if with_amount else {}))
    joined = cal.left_join(holdout, customer_col)
    extra = {"frequency_holdout": joined._n.fill_null(0).cast("float64")}
    if with_amount:
        extra["monetary_value_holdout"] = joined._mean.fill_null(0.0)
    extra["duration_holdout"] = ibis.literal((end_day - cal_day) / unit, type="float64")
    return joined.select(*cal.columns, **extra).order_by(customer_col)


def _period_ordinal(column: ibis.Value, period: str) -> ibis.Value:
    """pandas' ``Period.ordinal`` of the month, quarter or week (Monday to Sunday) of each date."""
    date = _as_date(column)
    if period == "M":
        return (date.year() - 1970) * 12 + date.month() - 1
    if period == "Q":
        return (date.year() - 1970) * 4 + (date.month() - 1) // 3
    # 1970-01-01 is a Thursday; pandas numbers the week 1969-12-29 .. 1970-01-04 as 1
    return (date.epoch_days() + 3) // 7 + 1


def cohort_retention_query(t: ibis.Table, *, period: str, customer_col: str, date_col: str) -> ibis.Table:
    """Active customers per (cohort, periods since first purchase), in long form.

    Columns ``cohort`` and ``period`` (pandas period ordinals), ``offset`` and
    ``customers``; :func:`crmlab.engines.backend.cohort_table` pivots it into the cohort table.
    """
    active = t.select(t[customer_col], _period_ordinal(t[date_col], period).name("period")).distinct()
    cohorts = active.group_by(customer_col).aggregate(cohort=active.period.min())
    joined = active.join(cohorts, customer_col)
    return (joined.group_by(["cohort", "period"])
            .aggregate(customers=joined.count())
            .mutate(offset=lambda r: r.period - r.cohort)
            .order_by(["cohort", "offset"]))
