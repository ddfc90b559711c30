"""The course's per-customer tables on DuckDB and Spark, for logs too large for pandas.

:mod:`crmlab.features` and :mod:`crmlab.lifecycle` hold the pandas reference that the
notebooks teach. Here the same tables are computed by a database engine from one
engine-neutral definition of each query (:mod:`crmlab.engines.queries`, written with
Ibis), with results equal to the reference:

- a pandas DataFrame runs on DuckDB, in process;
- a parquet or CSV path, glob or list of paths runs on DuckDB, out of core (DuckDB reads
  the files in chunks and spills to disk when memory runs short);
- a Spark DataFrame runs on its Spark session (local or a cluster).

``engine=None`` picks DuckDB for pandas frames and paths and Spark for Spark frames;
``engine="pandas"`` runs the reference. ``engine`` may also be an Ibis DuckDB connection
made with :func:`connect_duckdb` (to set a memory limit, threads or a spill directory).

Examples
--------
>>> import crmlab as crm
>>> tx = crm.load_cdnow()
>>> early = tx[tx["date"] <= "1997-09-30"]          # Fader & Hardie's calibration period
>>> s = crm.engines.customer_summary(early, observation_end="1997-09-30", time_unit="W")
>>> s.loc[1].round(2).tolist()                      # as in their published summary
[2.0, 30.43, 38.86]
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from crmlab.engines import queries
from crmlab.validation import check_choice, check_timestamp, require_columns

__all__ = [
    "customer_summary",
    "rfm_table",
    "calibration_holdout",
    "cohort_retention",
    "summarize",
    "connect_duckdb",
    "spark_session",
    "ENGINES",
]

ENGINES = ("pandas", "duckdb", "spark")
_TIME_UNITS = ("D", "W")
_COHORT_PERIODS = ("M", "W", "Q")
_PARQUET = (".parquet", ".parq", ".pq")
_CSV = (".csv", ".csv.gz", ".tsv", ".txt")
_PANDAS_SPARK_WARNING = r".*PySpark does not yet fully support pandas.*"


# ----------------------------------------------------------------------------- connections
def connect_duckdb(*, memory_limit: str | None = None, threads: int | None = None,
                   temp_directory: str | os.PathLike | None = None):
    """An Ibis DuckDB connection set up for large logs; pass it as ``engine=``.

    Parameters
    ----------
    memory_limit : str, optional
        Most memory DuckDB may use, e.g. ``"4GB"`` (default: 80% of RAM). Beyond it DuckDB
        spills intermediate results to ``temp_directory``.
    threads : int, optional
        Worker threads (default: all cores).
    temp_directory : path, optional
        Where to spill (default: ``crmlab-duckdb`` in the system temporary directory).

    Examples
    --------
    >>> con = connect_duckdb(memory_limit="2GB", threads=2)
    >>> con.name
    'duckdb'
    """
    spill = Path(temp_directory) if temp_directory is not None else Path(tempfile.gettempdir()) / "crmlab-duckdb"
    config = {"temp_directory": str(spill)}
    if memory_limit is not None:
        config["memory_limit"] = str(memory_limit)
    if threads is not None:
        config["threads"] = int(threads)
    return ibis.duckdb.connect(**config)


def spark_session(master: str = "local[2]", *, app_name: str = "crmlab", **config):
    """A quiet Spark session with crmlab's settings (or the active one, if there is one).

    Settings: no web UI, no progress bars, log level ERROR, 4 shuffle partitions and the
    session time zone UTC, so timestamps turn into the same calendar days as in pandas.
    Extra Spark options are passed as keyword arguments with dots replaced by ``__``
    (``spark__driver__memory="4g"``).

    Examples
    --------
    >>> spark = spark_session()                     # doctest: +SKIP
    >>> crm.engines.customer_summary(spark.read.parquet("tx/*.parquet"), ...)  # doctest: +SKIP
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ImportError("Spark support needs PySpark and Java: pip install 'crmlab[spark]'.") from exc
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_quiet_log4j()}",
    }
    settings.update({k.replace("__", "."): str(v) for k, v in config.items()})
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    with _quiet_spark():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _quiet_log4j() -> str:
    path = Path(tempfile.gettempdir()) / "crmlab-spark-log4j2.properties"
    if not path.exists():
        path.write_text(
            "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
            "appender.console.type = Console\nappender.console.name = console\n"
            "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex\n"
        )
    return str(path)


@contextlib.contextmanager
def _quiet_spark():
    """Silence PySpark's warning that pandas 3 is newer than it was tested with."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS_SPARK_WARNING, category=FutureWarning)
        yield


# ----------------------------------------------------------------------------- inputs
def _is_spark_frame(obj) -> bool:
    return type(obj).__module__.startswith("pyspark.") and hasattr(obj, "sparkSession")


def _is_path_like(obj) -> bool:
    if isinstance(obj, (str, os.PathLike)):
        return True
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(isinstance(p, (str, os.PathLike)) for p in obj)


def _resolve_engine(transactions, engine) -> str | object:
    if not (_is_spark_frame(transactions) or _is_path_like(transactions) or isinstance(transactions, pd.DataFrame)):
        raise TypeError(
            f"transactions must be a pandas DataFrame, a parquet/CSV path or glob, or a Spark DataFrame; "
            f"got {type(transactions).__name__}."
        )
    if isinstance(engine, ibis.BaseBackend):
        if engine.name not in ("duckdb", "pyspark"):
            raise ValueError(
                f"engine must be a DuckDB or PySpark Ibis connection, got an Ibis {engine.name!r} connection."
            )
        return engine
    if engine is None:
        return "spark" if _is_spark_frame(transactions) else "duckdb"
    check_choice(engine, ENGINES, name="engine")
    if engine == "pandas" and _is_spark_frame(transactions):
        raise TypeError("engine='pandas' cannot read a Spark DataFrame; use engine='spark' (or engine=None).")
    if engine == "duckdb" and _is_spark_frame(transactions):
        raise TypeError("engine='duckdb' cannot read a Spark DataFrame; use engine='spark' (or engine=None).")
    return engine


def _expand_paths(paths) -> tuple[list[str], str]:
    """Files matched by a path, glob, directory or list of them, and their format."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    files: list[str] = []
    for item in map(str, items):
        if os.path.isdir(item):
            found = sorted(glob.glob(os.path.join(item, "*.parquet"))) or sorted(glob.glob(os.path.join(item, "*.csv")))
        else:
            found = sorted(glob.glob(item)) if glob.has_magic(item) else ([item] if os.path.isfile(item) else [])
        if not found:
            raise FileNotFoundError(
                f"No file matches {item!r}; check the path (and quote globs such as 'logs/*.parquet')."
            )
        files.extend(found)
    kinds = {_file_format(f) for f in files}
    if len(kinds) > 1:
        raise ValueError(f"Mixed file formats in {items}; pass only parquet files or only CSV files.")
    return files, kinds.pop()


def _file_format(path: str) -> str:
    lower = path.lower()
    if lower.endswith(_PARQUET):
        return "parquet"
    if lower.endswith(_CSV):
        return "csv"
    raise ValueError(f"Cannot tell the format of {path!r}: use a .parquet or .csv file.")


@dataclass
class _Source:
    """A transaction log bound to an engine: an Ibis table and the backend that runs it."""

    table: ibis.Table
    backend: object
    cleanup: list = field(default_factory=list)

    def close(self) -> None:
        for fn in self.cleanup:
            with contextlib.suppress(Exception):
                fn()


def _pandas_input(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` itself (never copied: DuckDB scans it in place) once the columns are checked."""
    require_columns(df, columns, name="transactions")
    return df


def _open(transactions, engine, columns: list[str], date_col: str) -> _Source:
    if isinstance(engine, ibis.BaseBackend):
        backend, engine = engine, ("spark" if engine.name == "pyspark" else "duckdb")
    else:
        backend = None
    if engine == "duckdb":
        con = backend or connect_duckdb()
        if isinstance(transactions, pd.DataFrame):
            frame = _normalise_dates(_pandas_input(transactions, columns), date_col)
            name = f"crmlab_tx_{uuid.uuid4().hex}"
            con.con.register(name, frame)             # DuckDB scans the frame in place
            return _Source(con.table(name), con, [lambda: con.con.unregister(name)])
        files, kind = _expand_paths(transactions)
        table = con.read_parquet(files) if kind == "parquet" else con.read_csv(files)
        return _Source(table, con)
    # spark
    import pyarrow as pa

    if _is_spark_frame(transactions):
        frame = transactions
        session = frame.sparkSession
    else:
        session = backend._session if backend is not None else spark_session()
        if isinstance(transactions, pd.DataFrame):
            pdf = _normalise_dates(_pandas_input(transactions, columns)[columns], date_col)
            with _quiet_spark():
                frame = session.createDataFrame(pa.Table.from_pandas(pdf, preserve_index=False))
        else:
            files, kind = _expand_paths(transactions)
            reader = session.read
            frame = reader.parquet(*files) if kind == "parquet" else reader.csv(files, header=True, inferSchema=True)
    con = backend or ibis.pyspark.connect(session)
    name = f"crmlab_tx_{uuid.uuid4().hex}"
    frame.createOrReplaceTempView(name)
    return _Source(con.table(name), con, [lambda: session.catalog.dropTempView(name)])


def _normalise_dates(df: pd.DataFrame, date_col: str) -> pd.DataFrame:
    """Dates as the pandas reference reads them: strings parsed, time zones dropped (wall clock kept)."""
    s = df[date_col]
    if pd.api.types.is_datetime64_any_dtype(s) and getattr(s.dt, "tz", None) is None:
        return df
    from crmlab.validation import check_dates

    return check_dates(df, [date_col], name="transactions")


# ----------------------------------------------------------------------------- checks
def _check_columns(table: ibis.Table, *, customer_col: str, date_col: str, amount_col: str | None) -> None:
    """Missing columns and wrong types, from the schema alone (no data is read)."""
    columns = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    require_columns(pd.DataFrame(columns=list(table.columns)), columns, name="transactions")
    schema = table.schema()
    dtype = schema[date_col]
    if not (dtype.is_timestamp() or dtype.is_date() or dtype.is_string()):
        raise TypeError(
            f"transactions column {date_col!r} holds {dtype}, not dates. Store dates as timestamps, "
            f"dates or ISO strings such as '2024-01-31'."
        )
    if amount_col is not None and (not schema[amount_col].is_numeric() or schema[amount_col].is_boolean()):
        raise TypeError(
            f"transactions column {amount_col!r} must be numeric, got {schema[amount_col]}. Remove currency "
            f"signs or thousands separators and store it as a number."
        )


def _audit(table: ibis.Table, *, customer_col: str, date_col: str, amount_col: str | None,
           end, end_name: str, late_allowed: bool = False) -> dict:
    """The data checks of the pandas reference, from one cheap pass (counts, minima, maxima).

    Raises the errors :func:`crmlab.validation.check_frame` would: no rows, missing values,
    dates that do not parse, negative amounts, events after the day of ``end``. The exact
    number of offending rows is counted only when there are some. Returns ``rows``,
    ``earliest`` and ``latest``.
    """
    _check_columns(table, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    raw = table[date_col]
    date = raw.try_cast("timestamp") if raw.type().is_string() else raw.cast("timestamp")
    metrics = {"rows": table.count(), "customer_n": table[customer_col].count(), "date_n": raw.count(),
               "earliest": date.min(), "latest": date.max()}
    if raw.type().is_string():
        metrics["parsed_n"] = date.count()
    if amount_col is not None:
        metrics["amount_n"] = table[amount_col].count()
        metrics["smallest"] = table[amount_col].min()
    facts = _run_scalars(table.aggregate(**metrics))
    rows = int(facts["rows"])
    if rows == 0:
        raise ValueError("transactions is empty: it has columns but no rows. Pass at least one row.")
    for col, key in ((customer_col, "customer_n"), (date_col, "date_n"), (amount_col, "amount_n")):
        if col is not None and int(facts[key]) < rows:
            raise ValueError(
                f"transactions column {col!r} has {rows - int(facts[key])} missing value(s). Drop those rows or "
                f"fill them before calling this function; crmlab does not drop rows silently."
            )
    if "parsed_n" in facts and int(facts["parsed_n"]) < rows:
        raise ValueError(
            f"transactions column {date_col!r} has {rows - int(facts['parsed_n'])} value(s) that are not dates. "
            f"Fix or drop those rows, or store the column as timestamps."
        )
    if amount_col is not None and facts["smallest"] < 0:
        negative = _run_scalars(table.aggregate(n=(table[amount_col] < 0).sum()))["n"]
        raise ValueError(
            f"transactions column {amount_col!r} has {int(negative)} negative value(s) "
            f"(e.g. {facts['smallest']!r}). Negative amounts are usually refunds: net them against the "
            f"original purchase, or drop them explicitly, before computing customer summaries."
        )
    end_of_day = (pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).to_pydatetime()
    if pd.Timestamp(facts["latest"]) >= end_of_day and not late_allowed:
        late = _run_scalars(table.aggregate(n=(date >= end_of_day).sum()))["n"]
        raise ValueError(
            f"transactions has {int(late)} event(s) in {date_col!r} after {end_name}={pd.Timestamp(end).date()} "
            f"(latest {facts['latest']}). Filter them out first "
            f"(transactions[transactions[{date_col!r}] <= {end_name}]) or move {end_name} later."
        )
    return facts


def _run_scalars(expr: ibis.Table) -> dict:
    with _quiet_spark():
        return expr.execute().iloc[0].to_dict()


# ----------------------------------------------------------------------------- running
def _collect(source: _Source, expr: ibis.Table, customer_col: str) -> pd.DataFrame:
    with _quiet_spark():
        table = source.backend.to_pyarrow(expr)
    df = table.to_pandas()
    ids = df[customer_col]
    if pd.api.types.is_signed_integer_dtype(ids):
        ids = ids.astype("int64")   # Spark reads small integers from CSV as int32; pandas as int64
    index = pd.Index(ids, name=customer_col)   # set_index would turn 1..n into a RangeIndex
    return df.drop(columns=customer_col).set_axis(index, axis=0)


@contextlib.contextmanager
def _session(transactions, engine, columns, date_col):
    source = _open(transactions, engine, columns, date_col)
    try:
        yield source
    finally:
        source.close()


def _pandas_reference(function: str, transactions, **kwargs) -> pd.DataFrame:
    """Run the pandas reference; files are read into pandas first."""
    import importlib

    module = importlib.import_module("crmlab.lifecycle" if function == "cohort_retention" else "crmlab.features")
    if not isinstance(transactions, pd.DataFrame):
        transactions = _read_pandas(transactions)
    return getattr(module, function)(transactions, engine="pandas", **kwargs)


def _read_pandas(paths) -> pd.DataFrame:
    files, kind = _expand_paths(paths)
    if kind == "parquet":
        frames = [pd.read_parquet(f) for f in files]
    else:
        frames = [pd.read_csv(f) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _columns(customer_col, date_col, amount_col) -> list[str]:
    return [customer_col, date_col] + ([amount_col] if amount_col is not None else [])


def customer_summary(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    observation_end,
    time_unit: str = "D",
    engine=None,
) -> pd.DataFrame:
    """Frequency, recency, T (and monetary value) per customer on DuckDB or Spark.

    The same table as :func:`crmlab.features.customer_summary` (see there for the
    definitions), computed by a database engine.

    Parameters
    ----------
    transactions : pandas.DataFrame, path, glob, list of paths, or Spark DataFrame
        One row per purchase; files are parquet or CSV.
    customer_col, date_col, amount_col, observation_end, time_unit
        As in :func:`crmlab.features.customer_summary`.
    engine : {None, "duckdb", "spark", "pandas"} or Ibis connection
        ``None``: Spark for Spark DataFrames, DuckDB otherwise.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), float64 columns ``frequency``, ``recency``, ``T``
        [, ``monetary_value``].

    Examples
    --------
    >>> import crmlab as crm
    >>> s = crm.engines.customer_summary(crm.load_cdnow(), amount_col="amount",
    ...                                  observation_end="1998-06-30", engine="duckdb")
    >>> list(s.columns)
    ['frequency', 'recency', 'T', 'monetary_value']
    """
    check_choice(time_unit, _TIME_UNITS, name="time_unit")
    end = check_timestamp(observation_end, name="observation_end")
    engine = _resolve_engine(transactions, engine)
    kwargs = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    if engine == "pandas":
        return _pandas_reference("customer_summary", transactions, observation_end=end, time_unit=time_unit,
                                 **kwargs)
    return _customer_summary(transactions, engine, end, time_unit, **kwargs)[0]


def _customer_summary(transactions, engine, end, time_unit, **kwargs) -> tuple[pd.DataFrame, dict]:
    columns = _columns(kwargs["customer_col"], kwargs["date_col"], kwargs["amount_col"])
    with _session(transactions, engine, columns, kwargs["date_col"]) as src:
        facts = _audit(src.table, end=end, end_name="observation_end", **kwargs)
        expr = queries.customer_summary_query(src.table, observation_end=end, time_unit=time_unit, **kwargs)
        return _collect(src, expr, kwargs["customer_col"]), facts


def rfm_table(
    transactions,
    *,
    as_of,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    exclude_after: bool = False,
    engine=None,
) -> pd.DataFrame:
    """Recency (days), frequency (orders) and monetary (total) per customer on DuckDB or Spark.

    The same table as :func:`crmlab.features.rfm_table`.

    Examples
    --------
    >>> import crmlab as crm
    >>> rfm = crm.engines.rfm_table(crm.load_cdnow(), as_of="1998-06-30")
    >>> rfm.dtypes.astype(str).tolist()
    ['int64', 'int64', 'float64']
    """
    if not isinstance(exclude_after, bool):
        raise TypeError(f"exclude_after must be True or False, got {exclude_after!r}.")
    as_of = check_timestamp(as_of, name="as_of")
    engine = _resolve_engine(transactions, engine)
    kwargs = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    if engine == "pandas":
        return _pandas_reference("rfm_table", transactions, as_of=as_of, exclude_after=exclude_after, **kwargs)
    with _session(transactions, engine, _columns(customer_col, date_col, amount_col), date_col) as src:
        facts = _audit(src.table, end=as_of, end_name="as_of", late_allowed=exclude_after, **kwargs)
        if pd.Timestamp(facts["earliest"]).normalize() > as_of.normalize():
            raise ValueError(f"transactions has no orders on or before as_of={as_of.date()}; choose a later as_of.")
        return _collect(src, queries.rfm_query(src.table, as_of=as_of, **kwargs), customer_col)


def calibration_holdout(
    transactions,
    *,
    calibration_end,
    observation_end,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    time_unit: str = "D",
    engine=None,
) -> pd.DataFrame:
    """Calibration-period summary and holdout outcomes per customer on DuckDB or Spark.

    The same table as :func:`crmlab.features.calibration_holdout`.

    Examples
    --------
    >>> import crmlab as crm
    >>> ch = crm.engines.calibration_holdout(crm.load_cdnow(), calibration_end="1997-09-30",
    ...                                      observation_end="1998-06-30", time_unit="W")
    >>> ch.loc[1, ["frequency_cal", "frequency_holdout"]].tolist()
    [2.0, 1.0]
    """
    check_choice(time_unit, _TIME_UNITS, name="time_unit")
    cal_end = check_timestamp(calibration_end, name="calibration_end")
    obs_end = check_timestamp(observation_end, name="observation_end")
    if cal_end.normalize() >= obs_end.normalize():
        raise ValueError(
            f"calibration_end={cal_end.date()} must fall on a day before observation_end={obs_end.date()}; "
            f"the holdout period is the days in between."
        )
    engine = _resolve_engine(transactions, engine)
    kwargs = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    if engine == "pandas":
        return _pandas_reference("calibration_holdout", transactions, calibration_end=cal_end,
                                 observation_end=obs_end, time_unit=time_unit, **kwargs)
    with _session(transactions, engine, _columns(customer_col, date_col, amount_col), date_col) as src:
        facts = _audit(src.table, end=obs_end, end_name="observation_end", **kwargs)
        if pd.Timestamp(facts["earliest"]).normalize() > cal_end.normalize():
            raise ValueError(
                f"transactions has no purchases on or before calibration_end={cal_end.date()}; "
                f"choose a later calibration_end."
            )
        expr = queries.calibration_holdout_query(src.table, calibration_end=cal_end, observation_end=obs_end,
                                                 time_unit=time_unit, **kwargs)
        return _collect(src, expr, customer_col)


def cohort_retention(
    transactions,
    *,
    period: str = "M",
    customer_col: str = "customer_id",
    date_col: str = "date",
    normalize: bool = True,
    engine=None,
) -> pd.DataFrame:
    """Cohort retention table on DuckDB or Spark.

    The same table as :func:`crmlab.lifecycle.cohort_retention`: the engine counts the
    active customers per cohort and period; the small result is pivoted in pandas.

    Examples
    --------
    >>> import crmlab as crm
    >>> table = crm.engines.cohort_retention(crm.load_cdnow(), period="Q")
    >>> float(table.iloc[0, 0])
    1.0
    """
    check_choice(period, _COHORT_PERIODS, name="period")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}.")
    engine = _resolve_engine(transactions, engine)
    kwargs = dict(customer_col=customer_col, date_col=date_col)
    if engine == "pandas":
        return _pandas_reference("cohort_retention", transactions, period=period,
                                 normalize=normalize, **kwargs)
    with _session(transactions, engine, [customer_col, date_col], date_col) as src:
        _audit(src.table, end=pd.Timestamp.max.normalize() - pd.Timedelta(days=1), end_name="end",
               late_allowed=True, amount_col=None, **kwargs)
        with _quiet_spark():
            expr = queries.cohort_retention_query(src.table, period=period, **kwargs)
            long = src.backend.to_pyarrow(expr).to_pandas()
    return _cohort_table(long, period, normalize)


def _cohort_table(long: pd.DataFrame, period: str, normalize: bool) -> pd.DataFrame:
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


# ----------------------------------------------------------------------------- files
def summarize(
    source,
    out,
    *,
    observation_end,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "D",
    engine=None,
) -> dict:
    """Write the customer summary of a (large) log straight to a parquet or CSV file.

    DuckDB streams from the input files to the output file without building a pandas
    table, so the log may be larger than memory. Spark writes through pandas.

    Parameters
    ----------
    source : path, glob, list of paths or pandas DataFrame
        The transaction log (parquet or CSV).
    out : path
        Output file; ``.parquet`` or ``.csv``.
    engine : {None, "duckdb", "spark", "pandas"} or Ibis connection
        ``None`` means DuckDB.
    Other parameters as in :func:`customer_summary`.

    Returns
    -------
    dict
        ``rows`` (transactions read), ``customers`` (rows written), ``seconds``, ``engine``, ``out``.

    Examples
    --------
    >>> import crmlab as crm, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "summary.parquet")
    >>> info = summarize(crm.load_cdnow(), path, observation_end="1998-06-30")
    >>> info["customers"]
    2357
    """
    start = time.perf_counter()
    check_choice(time_unit, _TIME_UNITS, name="time_unit")
    end = check_timestamp(observation_end, name="observation_end")
    out = Path(out)
    kind = _file_format(str(out))
    if not out.parent.exists():
        raise FileNotFoundError(f"Output directory {str(out.parent)!r} does not exist; create it first.")
    engine = _resolve_engine(source, engine)
    kwargs = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    name = engine if isinstance(engine, str) else ("spark" if engine.name == "pyspark" else "duckdb")
    if name == "duckdb":
        with _session(source, engine, _columns(customer_col, date_col, amount_col), date_col) as src:
            facts = _audit(src.table, end=end, end_name="observation_end", **kwargs)
            expr = queries.customer_summary_query(src.table, observation_end=end, time_unit=time_unit, **kwargs)
            (src.backend.to_parquet if kind == "parquet" else src.backend.to_csv)(expr, out)
            written = src.backend.read_parquet(str(out)) if kind == "parquet" else src.backend.read_csv(str(out))
            customers = written.count().execute()
        rows = int(facts["rows"])
    else:
        if name == "pandas":
            frame = source if isinstance(source, pd.DataFrame) else _read_pandas(source)
            table = _pandas_reference("customer_summary", frame, observation_end=end, time_unit=time_unit, **kwargs)
            rows = len(frame)
        else:
            table, facts = _customer_summary(source, engine, end, time_unit, **kwargs)
            rows = int(facts["rows"])
        table = table.reset_index()   # the same file layout as DuckDB writes: the id is a column
        if kind == "parquet":
            table.to_parquet(out, index=False)
        else:
            table.to_csv(out, index=False)
        customers = len(table)
    return {"rows": rows, "customers": int(customers), "seconds": time.perf_counter() - start,
            "engine": name, "out": str(out)}

