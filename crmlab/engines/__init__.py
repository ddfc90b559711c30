"""The DuckDB and Spark backends of :mod:`crmlab.features`, for logs too large for pandas.

The public entry is :mod:`crmlab.features`: ``crm.features.customer_summary(..., engine=...)``
(and ``rfm_table``, ``calibration_holdout``, ``crm.lifecycle.cohort_retention``). Its
``engine`` is ``"pandas"`` (the reference the course teaches), ``"duckdb"``, ``"spark"`` or
an Ibis connection; ``engine=None`` picks pandas for a pandas DataFrame, DuckDB for a
parquet/CSV path, glob, folder or list of paths, and Spark for a Spark DataFrame
(:func:`resolve_engine`). Every engine validates the log as pandas does and returns the
same table.

This package holds the backends, one job per module; nothing here imports
:mod:`crmlab.features`:

- :mod:`~crmlab.engines.resolve`: which engine runs a call (the one rule);
- :mod:`~crmlab.engines.sources`: files (globs, folders, lists; one format per log) and
  binding a log to an engine;
- :mod:`~crmlab.engines.connections`: :func:`connect_duckdb`, :func:`spark_session`;
- :mod:`~crmlab.engines.audit`: the input checks of the pandas reference, run by the engine;
- :mod:`~crmlab.engines.queries`: each table defined once in Ibis, for DuckDB and Spark;
- :mod:`~crmlab.engines.backend`: :func:`~crmlab.engines.backend.run`, what features calls;
- :mod:`~crmlab.engines.export`: :func:`summarize`, a summary streamed to a file
  (``crmlab summarize``).

Examples
--------
>>> import crmlab as crm
>>> tx = crm.load_cdnow()
>>> early = tx[tx["date"] <= "1997-09-30"]          # Fader & Hardie's calibration period
>>> s = crm.features.customer_summary(early, observation_end="1997-09-30", time_unit="W", engine="duckdb")
>>> s.loc[1].round(2).tolist()                      # as in their published summary
[2.0, 30.43, 38.86]
"""

from __future__ import annotations

from typing import Any

from crmlab.engines.connections import connect_duckdb, spark_session
from crmlab.engines.resolve import ENGINES, resolve_engine
from crmlab.engines.sources import read_log

__all__ = ["ENGINES", "resolve_engine", "connect_duckdb", "spark_session", "summarize", "read_log"]


def __getattr__(name: str) -> Any:
    # these need Ibis; load them on first use so that importing crmlab.features stays light
    if name == "summarize":
        from crmlab.engines.export import summarize

        return summarize
    if name == "queries":
        import crmlab.engines.queries as queries

        return queries
    if name == "backend":
        import crmlab.engines.backend as backend

        return backend
    raise AttributeError(f"module 'crmlab.engines' has no attribute {name!r}")
