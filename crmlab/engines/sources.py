"""Sources: where a transaction log comes from, and binding it to an engine as an Ibis table.

- files: a parquet or CSV path, a glob (``"logs/*.parquet"``), a folder, or a list of them.
  One log is one format: a folder or list mixing parquet and CSV files is an error, never
  half read.
- a pandas DataFrame: handed to DuckDB through Arrow without copying the columns (only the
  columns a query needs), or to Spark through Arrow;
- a Spark DataFrame: used where it lives.

Examples
--------
>>> import os, tempfile, pandas as pd
>>> folder = tempfile.mkdtemp()
>>> pd.DataFrame({"customer_id": [1], "date": ["2024-01-31"]}).to_csv(os.path.join(folder, "a.csv"), index=False)
>>> files, kind = expand_paths(folder)
>>> [os.path.basename(f) for f in files], kind
(['a.csv'], 'csv')
"""

from __future__ import annotations

import contextlib
import csv
import glob
import gzip
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crmlab.engines.resolve import engine_name, is_spark_frame
from crmlab.validation import check_unique_columns

__all__ = ["expand_paths", "file_format", "file_columns", "read_log", "Source", "open_source"]

_PARQUET = (".parquet", ".parq", ".pq")
_CSV = (".csv", ".csv.gz", ".tsv", ".txt")
_FORMAT_NAMES = {"parquet": "parquet", "csv": "CSV"}


def file_format(path: str | os.PathLike) -> str:
    """``"parquet"`` or ``"csv"`` from a file name's ending; ``ValueError`` for anything else.

    >>> file_format("part-0.snappy.parquet")
    'parquet'
    """
    lower = str(path).lower()
    if lower.endswith(_PARQUET):
        return "parquet"
    if lower.endswith(_CSV):
        return "csv"
    raise ValueError(f"Cannot tell the format of {str(path)!r}: use a .parquet or .csv file.")


def _folder_files(folder: str) -> list[str]:
    """The data files of a folder; hidden files and markers such as Spark's ``_SUCCESS`` are skipped."""
    names = sorted(n for n in os.listdir(folder) if not n.startswith((".", "_")))
    return [os.path.join(folder, n) for n in names
            if os.path.isfile(os.path.join(folder, n)) and n.lower().endswith(_PARQUET + _CSV)]


def expand_paths(paths: str | os.PathLike | list | tuple) -> tuple[list[str], str]:
    """The files of a path, glob, folder or list of them, and their one format.

    Raises
    ------
    FileNotFoundError
        An item matches no file.
    ValueError
        The files mix parquet and CSV (in a folder, a glob or a list), or a file has
        another ending.

    Examples
    --------
    >>> expand_paths("no/such/*.parquet")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No file matches 'no/such/*.parquet'; check the path (and quote globs such as 'logs/*.parquet').
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    files: list[str] = []
    for item in map(str, items):
        if os.path.isdir(item):
            found = _folder_files(item)
            if not found:
                raise FileNotFoundError(f"Folder {item!r} holds no .parquet or .csv file; check the path.")
        else:
            found = sorted(glob.glob(item)) if glob.has_magic(item) else ([item] if os.path.isfile(item) else [])
            if not found:
                raise FileNotFoundError(
                    f"No file matches {item!r}; check the path (and quote globs such as 'logs/*.parquet')."
                )
        files.extend(found)
    kinds: dict[str, list[str]] = {}
    for f in files:
        kinds.setdefault(file_format(f), []).append(f)
    if len(kinds) > 1:
        where = f"Folder {items[0]!s}" if len(items) == 1 and os.path.isdir(str(items[0])) else f"The input {items}"
        counts = ", ".join(f"{len(v)} {_FORMAT_NAMES[k]}" for k, v in sorted(kinds.items()))
        raise ValueError(
            f"{where!s} mixes parquet and CSV files ({counts}); a log is read in one format. "
            f"Keep one format (convert the others, or move them out), or pass a glob such as "
            f"'{os.path.join(str(items[0]), '*.parquet') if len(items) == 1 else 'logs/*.parquet'}'."
        )
    return files, next(iter(kinds))


def _csv_header(path: str) -> list[str]:
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8", errors="replace") as fh:
        line = fh.readline()
    if not line.strip():
        return []
    try:
        dialect = csv.Sniffer().sniff(line, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return next(csv.reader([line], dialect))


def file_columns(files: list[str], kind: str) -> list[str]:
    """Column names as stored in the first file, duplicates kept (engines rename duplicates silently)."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(files[0]).names)
    return _csv_header(files[0])


def read_log(paths: str | os.PathLike | list | tuple) -> pd.DataFrame:
    """Read parquet or CSV files into one pandas DataFrame (for the pandas engine)."""
    files, kind = expand_paths(paths)
    reader = pd.read_parquet if kind == "parquet" else pd.read_csv
    frames = [reader(f) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


@dataclass
class Source:
    """A transaction log bound to an engine.

    ``table`` is the Ibis table the queries read, ``backend`` the Ibis connection that runs
    them, ``columns`` the column names as the user stored them (duplicates kept) and
    ``frame`` the pandas DataFrame when the log came as one.
    """

    table: Any
    backend: Any
    columns: list[str]
    frame: pd.DataFrame | None = None
    cleanup: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        for fn in self.cleanup:
            with contextlib.suppress(Exception):
                fn()


def _pandas_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame | None:
    """The needed columns of a checked log (no data copied: pandas copies on write); None if some are missing."""
    if not all(c in df.columns for c in columns) or df.columns.duplicated().any():
        return None
    return df[columns]


def _register_arrow(con: Any, frame: pd.DataFrame) -> tuple[Any, Callable[[], Any]]:
    import pyarrow as pa

    name = f"crmlab_tx_{uuid.uuid4().hex}"
    arrow = pa.Table.from_pandas(frame, preserve_index=False)   # zero-copy for numbers and timestamps
    con.con.register(name, arrow)
    return con.table(name), lambda: con.con.unregister(name)


def open_source(transactions: Any, engine: Any, columns: list[str]) -> Source:
    """Bind ``transactions`` to ``engine`` (a name or an Ibis connection) as an Ibis table.

    A pandas DataFrame must be checked first (:func:`crmlab.validation.check_transactions`:
    dates parsed, time zones dropped); files and Spark frames are checked by the engine
    (:mod:`crmlab.engines.audit`) once bound.
    """
    import ibis

    from crmlab.engines.connections import connect_duckdb, quiet_spark, spark_session

    backend = None if isinstance(engine, str) else engine
    name = engine_name(engine)
    frame = transactions if isinstance(transactions, pd.DataFrame) else None
    if frame is not None:
        raw = [str(c) for c in frame.columns]
    elif is_spark_frame(transactions):
        raw = list(transactions.columns)
    else:
        files, kind = expand_paths(transactions)
        raw = file_columns(files, kind)
    # before an engine reads the columns: engines rename or reject duplicated names in their own words
    check_unique_columns(raw, name="transactions")
    if name == "duckdb":
        con = backend or connect_duckdb()
        if frame is not None:
            sub = _pandas_columns(frame, columns)
            if sub is None:
                return Source(None, con, raw, frame)
            table, drop = _register_arrow(con, sub)
            return Source(table, con, raw, frame, [drop])
        table = con.read_parquet(files) if kind == "parquet" else con.read_csv(files)
        return Source(table, con, raw)
    # Spark
    if is_spark_frame(transactions):
        sdf, session = transactions, transactions.sparkSession
    else:
        session = backend._session if backend is not None else spark_session()
        if frame is not None:
            import pyarrow as pa

            sub = _pandas_columns(frame, columns)
            if sub is None:
                return Source(None, backend, raw, frame)
            with quiet_spark():
                sdf = session.createDataFrame(pa.Table.from_pandas(sub, preserve_index=False))
        else:
            reader = session.read
            # pandas writes infinity as "inf": read it as Spark's infinity, as DuckDB and pandas do
            sdf = reader.parquet(*files) if kind == "parquet" else reader.csv(
                files, header=True, inferSchema=True, positiveInf="inf", negativeInf="-inf")
    con = backend or ibis.pyspark.connect(session)
    view = f"crmlab_tx_{uuid.uuid4().hex}"
    sdf.createOrReplaceTempView(view)
    return Source(con.table(view), con, raw, frame, [lambda: session.catalog.dropTempView(view)])
