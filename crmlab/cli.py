"""The ``crmlab`` command line.

Commands: ``generate`` and ``describe`` (the simulated company), ``release`` and
``grade`` (exercise sets, see :mod:`crmlab.course`), ``summarize`` (per-customer
summaries of large logs, see :mod:`crmlab.engines`). ``crmlab --help`` lists them.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    help="crmlab: customer relationship management analytics (客户关系管理).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def generate(
    customers: int = typer.Option(5000, "--customers", "-n", help="Number of customers."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same data)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the tables to."),
    format: str = typer.Option("csv", "--format", help="csv or parquet."),
    start: str = typer.Option("2023-01-01", "--start", help="First day of the observation window."),
    end: str = typer.Option("2024-12-31", "--end", help="Last day of the observation window."),
) -> None:
    """Generate the simulated company and save every table to OUT."""
    from crmlab import synth

    if customers < 1:
        _fail(f"--customers must be a positive number, got {customers}.")
    if seed < 0:
        _fail(f"--seed must be non-negative, got {seed}.")
    if format not in ("csv", "parquet"):
        _fail(f"--format must be 'csv' or 'parquet', got {format!r}.")
    if out.exists() and not out.is_dir():
        _fail(f"--out {str(out)!r} is a file; give a directory.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".crmlab-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        _fail(f"cannot write to {str(out)!r} ({exc.strerror}); choose a writable directory.")
    t0 = time.perf_counter()
    try:
        data = synth.generate(n_customers=customers, seed=seed, start=start, end=end, progress=customers >= 100_000)
    except (ValueError, TypeError) as exc:
        _fail(str(exc))
    data.save(out, format=format)
    typer.echo(f"Wrote {len(data.customers):,} customers, {len(data.transactions):,} transactions "
               f"to {out} ({format}) in {time.perf_counter() - t0:.1f} s.")


@app.command()
def describe(directory: Path = typer.Argument(..., help="A directory written by `crmlab generate`.")) -> None:
    """Print the tables, row counts and period of a saved dataset."""
    from crmlab.data import CRMData

    if not directory.is_dir():
        _fail(f"{str(directory)!r} is not a directory.")
    try:
        data = CRMData.load(directory)
    except (ValueError, OSError, KeyError) as exc:
        _fail(str(exc))
    typer.echo(repr(data))


def _register_optional(module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        importlib.import_module(module).register(app)


for _module in ("crmlab.course.cli", "crmlab.engines.cli"):
    try:
        _register_optional(_module)
    except ModuleNotFoundError:
        pass


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
