"""Connections to the engines: an Ibis DuckDB connection and a quiet Spark session.

Examples
--------
>>> from crmlab.engines.connections import connect_duckdb
>>> connect_duckdb(threads=1).name
'duckdb'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["connect_duckdb", "spark_session", "quiet_spark"]

_PANDAS_SPARK_WARNING = r".*PySpark does not yet fully support pandas.*"


def connect_duckdb(*, memory_limit: str | None = None, threads: int | None = None,
                   temp_directory: str | os.PathLike | None = None) -> Any:
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

    Returns
    -------
    ibis.backends.duckdb.Backend
        An in-memory DuckDB database.

    Examples
    --------
    >>> con = connect_duckdb(memory_limit="2GB", threads=2)
    >>> con.name
    'duckdb'
    """
    import ibis

    if memory_limit is not None and not isinstance(memory_limit, str):
        raise TypeError(f"memory_limit must be a string such as '4GB', got {memory_limit!r}.")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}.")
    spill = Path(temp_directory) if temp_directory is not None else Path(tempfile.gettempdir()) / "crmlab-duckdb"
    config: dict[str, Any] = {"temp_directory": str(spill)}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = threads
    return ibis.duckdb.connect(**config)


def spark_session(master: str = "local[2]", *, app_name: str = "crmlab", **config: Any) -> Any:
    """A quiet Spark session with crmlab's settings (or the active one, if there is one).

    Settings: no web UI, no progress bars, log level ERROR, 4 shuffle partitions and the
    session time zone UTC, so timestamps turn into the same calendar days as in pandas.
    Extra Spark options are passed as keyword arguments with dots replaced by ``__``
    (``spark__driver__memory="4g"``).

    Returns
    -------
    pyspark.sql.SparkSession

    Examples
    --------
    >>> spark = spark_session()                     # doctest: +SKIP
    >>> crm.features.customer_summary(spark.read.parquet("tx/*.parquet"), ...)  # doctest: +SKIP
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
    with quiet_spark():
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
def quiet_spark() -> Iterator[None]:
    """Silence PySpark's warning that pandas 3 is newer than it was tested with."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS_SPARK_WARNING, category=FutureWarning)
        yield
