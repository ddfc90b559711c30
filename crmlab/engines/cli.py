"""``crmlab summarize``: the per-customer summary of a large log, from files to a file.

>>> import typer
>>> app = typer.Typer()
>>> register(app)
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def summarize(
    input: str = typer.Argument(..., help="Transaction log: a CSV or parquet file, a directory or a quoted glob."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .parquet or .csv."),
    observation_end: str = typer.Option(..., "--observation-end",
                                        help="Last day of the observation window (YYYY-MM-DD)."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default, out of core), spark or pandas."),
    time_unit: str = typer.Option("D", "--time-unit", help="D (days) or W (weeks = days / 7) for recency and T."),
    customer_col: str = typer.Option("customer_id", "--customer-col", help="Customer id column."),
    date_col: str = typer.Option("date", "--date-col", help="Purchase date column."),
    amount_col: str = typer.Option("amount", "--amount-col", help="Amount column ('' for none)."),
) -> None:
    """Per-customer frequency, recency, T and monetary value of a transaction log.

    Same-day purchases count as one; the definitions are those of
    crmlab.features.customer_summary (and lifetimes).
    """
    from crmlab import engines

    if engine not in engines.ENGINES:
        _fail(f"--engine must be one of {', '.join(engines.ENGINES)}, got {engine!r}.")
    if time_unit not in ("D", "W"):
        _fail(f"--time-unit must be D or W, got {time_unit!r}.")
    try:
        info = engines.summarize(input, out, observation_end=observation_end, customer_col=customer_col,
                                 date_col=date_col, amount_col=amount_col or None, time_unit=time_unit,
                                 engine=engine)
    except (FileNotFoundError, ValueError, TypeError, ImportError) as exc:
        _fail(" ".join(str(exc).split()))
    except Exception as exc:  # engine errors (bad CSV, Spark/Java problems): one line, no traceback
        _fail(f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}")
    typer.echo(f"Summarised {info['rows']:,} transactions into {info['customers']:,} customers "
               f"with {info['engine']} in {info['seconds']:.1f} s -> {info['out']}")


def register(app: typer.Typer) -> None:
    """Add the ``summarize`` command to a Typer app (the ``crmlab`` command line)."""
    app.command("summarize")(summarize)
