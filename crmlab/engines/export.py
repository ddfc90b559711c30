"""The customer summary of a (large) log written straight to a file, for ``crmlab summarize``.

Examples
--------
>>> import crmlab as crm, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "summary.parquet")
>>> info = summarize(crm.load_cdnow(), path, observation_end="1998-06-30", engine="duckdb")
>>> info["customers"], info["engine"]
(2357, 'duckdb')
"""

from __future__ import annotations

import os
import time as _clock
from pathlib import Path
from typing import Any

from crmlab import time as _time
from crmlab.data import columns as C
from crmlab.engines import queries
from crmlab.engines.backend import checked_source, collect
from crmlab.engines.resolve import engine_name, resolve_engine
from crmlab.engines.sources import file_format
from crmlab.validation import check_timestamp

__all__ = ["summarize"]

def summarize(
    source: Any,
    out: str | os.PathLike[str],
    *,
    observation_end: Any,
    customer_col: str = C.CUSTOMER,
    date_col: str = C.DATE,
    amount_col: str | None = C.AMOUNT,
    time_unit: str = "D",
    engine: Any = None,
) -> dict[str, Any]:
    """Write the customer summary of a log to a parquet or CSV file, through DuckDB or Spark.

    The table is :func:`crmlab.features.customer_summary`'s, with the customer id as a
    column. DuckDB streams from the input files to the output file without building a
    pandas table, so the log may be larger than memory; Spark writes through pandas (the
    summary is one row per customer). The pandas reference has no streaming path: compute
    it with ``crm.features.customer_summary(crm.engines.read_log(source), engine="pandas")``
    and write that.

    Parameters
    ----------
    source : path, glob, folder, list of paths, pandas DataFrame or Spark DataFrame
        The transaction log (parquet or CSV files).
    out : path
        Output file; ``.parquet`` or ``.csv``. Its folder must exist.
    engine : {None, "duckdb", "spark"} or Ibis connection
        ``None`` picks by the type of ``source`` (files: DuckDB; Spark frames: Spark); a
        pandas DataFrame needs an explicit ``engine``.
    observation_end, customer_col, date_col, amount_col, time_unit
        As in :func:`crmlab.features.customer_summary`.

    Returns
    -------
    dict
        ``rows`` (transactions read), ``customers`` (rows written), ``seconds``, ``engine``, ``out``.
    """
    start = _clock.perf_counter()
    _time.check_time_unit(time_unit)
    end = check_timestamp(observation_end, name="observation_end")
    out = Path(out)
    kind = file_format(out)
    if not out.parent.exists():
        raise FileNotFoundError(f"Output directory {str(out.parent)!r} does not exist; create it first.")
    engine = resolve_engine(source, engine)
    if isinstance(engine, str) and engine == "pandas":
        raise ValueError(
            "summarize streams a log through DuckDB or Spark; pass engine='duckdb' or engine='spark'. For the "
            "pandas reference, compute crm.features.customer_summary(crm.engines.read_log(source), "
            "engine='pandas', ...) and write the result."
        )
    name = engine_name(engine)
    with checked_source(source, engine, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                        observation_end=end) as (src, facts):
        expr = queries.customer_summary_query(src.table, customer_col=customer_col, date_col=date_col,
                                              amount_col=amount_col, observation_end=end, time_unit=time_unit)
        if name == "duckdb":   # straight from the input files to the output file
            (src.backend.to_parquet if kind == "parquet" else src.backend.to_csv)(expr, out)
            written = src.backend.read_parquet(str(out)) if kind == "parquet" else src.backend.read_csv(str(out))
            customers = int(written.count().execute())
        else:                  # one row per customer comes back to pandas
            table = collect(src, expr, customer_col).reset_index()   # the id is a column, as DuckDB writes it
            if kind == "parquet":
                table.to_parquet(out, index=False)
            else:
                table.to_csv(out, index=False)
            customers = len(table)
    return {"rows": int(facts["rows"]), "customers": customers, "seconds": _clock.perf_counter() - start,
            "engine": name, "out": str(out)}
