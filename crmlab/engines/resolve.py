"""Which engine computes a per-customer table: the one rule, used by :mod:`crmlab.features`.

An explicit ``engine`` wins. Otherwise the type of ``transactions`` decides: a pandas
DataFrame runs on pandas (the reference), a parquet/CSV path, glob, folder or list of
paths on DuckDB, a Spark DataFrame on Spark. An Ibis DuckDB or PySpark connection (for
example :func:`crmlab.engines.connect_duckdb`) is an explicit engine too.

This module imports neither Ibis nor any engine, so :mod:`crmlab.features` can use it
without loading them.

Examples
--------
>>> import pandas as pd
>>> resolve_engine(pd.DataFrame({"customer_id": [1]}), None)
'pandas'
>>> resolve_engine("logs/*.parquet", None)
'duckdb'
>>> resolve_engine(pd.DataFrame({"customer_id": [1]}), "duckdb")
'duckdb'
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from crmlab.validation import check_choice

__all__ = ["ENGINES", "resolve_engine", "engine_name", "is_spark_frame", "is_path_like"]

#: The engines ``engine=`` accepts by name.
ENGINES = ("pandas", "duckdb", "spark")


def is_spark_frame(obj: Any) -> bool:
    """True for a PySpark DataFrame (classic or Spark Connect), without importing PySpark."""
    return type(obj).__module__.startswith("pyspark.") and hasattr(obj, "sparkSession")


def is_path_like(obj: Any) -> bool:
    """True for a path, glob or folder (``str`` or ``os.PathLike``) or a non-empty list of them."""
    if isinstance(obj, (str, os.PathLike)):
        return True
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(isinstance(p, (str, os.PathLike)) for p in obj)


def _is_ibis_connection(obj: Any) -> bool:
    return type(obj).__module__.startswith("ibis.") and hasattr(obj, "name") and hasattr(obj, "table")


def resolve_engine(transactions: Any, engine: Any = None) -> str | Any:
    """The engine that computes a table of ``transactions``: a name or an Ibis connection.

    Parameters
    ----------
    transactions : pandas.DataFrame, path, glob, folder, list of paths, or Spark DataFrame
        The transaction log.
    engine : {None, "pandas", "duckdb", "spark"} or Ibis DuckDB/PySpark connection
        ``None`` chooses from the type of ``transactions``.

    Returns
    -------
    str or Ibis connection
        ``"pandas"``, ``"duckdb"``, ``"spark"``, or the connection passed as ``engine``.

    Raises
    ------
    TypeError
        ``transactions`` is none of the accepted types, or ``engine`` cannot read it
        (pandas cannot read files or Spark frames; DuckDB cannot read Spark frames).
    ValueError
        ``engine`` is an unknown name or an Ibis connection to another backend.

    Examples
    --------
    >>> resolve_engine(["a.parquet", "b.parquet"], None)
    'duckdb'
    >>> resolve_engine("a.parquet", "pandas")
    Traceback (most recent call last):
    ...
    TypeError: engine='pandas' needs a pandas DataFrame, got str. Use engine='duckdb' for files and engine='spark' for Spark DataFrames (or leave engine=None to choose automatically).
    """
    spark, path = is_spark_frame(transactions), is_path_like(transactions)
    if not (spark or path or isinstance(transactions, pd.DataFrame)):
        raise TypeError(
            f"transactions must be a pandas DataFrame, a parquet/CSV path or glob, or a Spark DataFrame; "
            f"got {type(transactions).__name__}."
        )
    if engine is None:
        return "spark" if spark else "duckdb" if path else "pandas"
    if _is_ibis_connection(engine):
        if engine.name not in ("duckdb", "pyspark"):
            raise ValueError(
                f"engine must be a DuckDB or PySpark Ibis connection, got an Ibis {engine.name!r} connection."
            )
        if engine.name == "duckdb" and spark:
            raise TypeError("A DuckDB connection cannot read a Spark DataFrame; use engine='spark' (or engine=None).")
        return engine
    if not isinstance(engine, str):
        raise TypeError(
            f"engine must be one of {list(ENGINES)}, an Ibis DuckDB/PySpark connection or None; "
            f"got {type(engine).__name__}."
        )
    check_choice(engine, ENGINES, name="engine")
    if engine == "pandas" and (path or spark):
        raise TypeError(
            f"engine='pandas' needs a pandas DataFrame, got {type(transactions).__name__}. "
            f"Use engine='duckdb' for files and engine='spark' for Spark DataFrames "
            f"(or leave engine=None to choose automatically)."
        )
    if engine == "duckdb" and spark:
        raise TypeError("engine='duckdb' cannot read a Spark DataFrame; use engine='spark' (or engine=None).")
    return engine


def engine_name(engine: str | Any) -> str:
    """``"pandas"``, ``"duckdb"`` or ``"spark"`` for a resolved engine (a name or a connection).

    >>> engine_name("duckdb")
    'duckdb'
    """
    if isinstance(engine, str):
        return engine
    return "spark" if engine.name == "pyspark" else "duckdb"
