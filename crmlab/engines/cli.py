"""``crmlab summarize``: the per-customer summary of a large log, from files to a file.

Bad choices (``--engine``, ``--time-unit``) are usage errors (exit code 2); errors in the
data or from the engine print one line and exit with code 1.

>>> import typer
>>> app = typer.Typer()
>>> register(app)
"""

from __future__ import annotations

import enum
import warnings
from pathlib import Path
from typing import Any

import typer

from crmlab.cli import fail

__all__ = ["register", "Engine", "TimeUnit"]

class Engine(enum.StrEnum):
    """The engines of :data:`crmlab.engines.ENGINES`, as command-line choices (a test keeps them equal)."""

    pandas = "pandas"
    duckdb = "duckdb"
    spark = "spark"


class TimeUnit(enum.StrEnum):
    """Unit of recency and T: D (days) or W (weeks = days / 7)."""

    D = "D"
    W = "W"


def summarize(
    input: str = typer.Argument(..., help="Transaction log: a CSV or parquet file, a directory or a quoted glob."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .parquet or .csv."),
    observation_end: str = typer.Option(..., "--observation-end",
                                        help="Last day of the observation window (YYYY-MM-DD)."),
    engine: Engine = typer.Option("duckdb", "--engine", case_sensitive=False,
                                  help="duckdb (out of core), spark or pandas."),
    time_unit: TimeUnit = typer.Option(TimeUnit.D, "--time-unit",
                                       help="D (days) or W (weeks = days / 7) for recency and T."),
    customer_col: str = typer.Option("customer_id", "--customer-col", help="Customer id column."),
    date_col: str = typer.Option("date", "--date-col", help="Purchase date column."),
    amount_col: str = typer.Option("amount", "--amount-col", help="Amount column ('' for none)."),
) -> None:
    """Per-customer frequency, recency, T and monetary value of a transaction log.

    Same-day purchases count as one; the definitions are those of
    crmlab.features.customer_summary (and lifetimes).
    """
    from crmlab import engines

    try:
        with warnings.catch_warnings():
            # PySpark warns that it is not tested with pandas 3; the summary does not depend on it
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\.|$)")
            kwargs = dict(observation_end=observation_end, customer_col=customer_col, date_col=date_col,
                          amount_col=amount_col or None, time_unit=TimeUnit(time_unit).value)
            if Engine(engine).value == "pandas":
                info = _summarize_with_pandas(input, out, **kwargs)
            else:
                info = engines.summarize(input, out, engine=Engine(engine).value, **kwargs)
    except (FileNotFoundError, ValueError, TypeError, ImportError) as exc:
        fail(str(exc))
    except Exception as exc:  # engine errors (bad CSV, Spark/Java problems): one line, no traceback
        fail(f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}")
    typer.echo(f"Summarised {info['rows']:,} transactions into {info['customers']:,} customers "
               f"with {info['engine']} in {info['seconds']:.1f} s -> {info['out']}")


def _summarize_with_pandas(source: str, out: Path, **kwargs: Any) -> dict[str, Any]:
    """The pandas reference: read the whole log, summarise it, write the table (fits in memory only)."""
    import time

    from crmlab import engines, features

    start = time.perf_counter()
    out = Path(out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"--out must end in .parquet or .csv, got {out.name!r}.")
    if not out.parent.exists():
        raise FileNotFoundError(f"Output directory {str(out.parent)!r} does not exist; create it first.")
    log = engines.read_log(source)
    table = features.customer_summary(log, engine="pandas", **kwargs).reset_index()
    table.attrs = {}
    if out.suffix.lower() == ".parquet":
        table.to_parquet(out, index=False)
    else:
        table.to_csv(out, index=False)
    return {"rows": len(log), "customers": len(table), "seconds": time.perf_counter() - start,
            "engine": "pandas", "out": str(out)}


def register(app: typer.Typer) -> None:
    """Add the ``summarize`` command to a Typer app (the ``crmlab`` command line)."""
    app.command("summarize")(summarize)
