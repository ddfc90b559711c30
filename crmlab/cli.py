"""The ``crmlab`` command line (also ``python -m crmlab``).

Commands: ``generate`` and ``describe`` (the simulated company), ``release`` and
``grade`` (exercise sets, see :mod:`crmlab.course`), ``summarize`` (per-customer
summaries of large logs, see :mod:`crmlab.engines`). ``crmlab -h`` lists them and
``crmlab COMMAND -h`` explains one.

Exit codes follow click: 0 success, 1 a data or runtime error (the message is printed
on one line, without a traceback), 2 a usage error (unknown option, bad choice).

Importing this module is cheap (no pandas, no engines): each command imports what it
needs when it runs, and ``release``, ``grade`` and ``summarize`` are loaded from their
modules only when invoked, so ``crmlab --help`` answers at once.

>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--version"])
>>> result.exit_code, result.output.startswith("crmlab ")
(0, True)
"""

from __future__ import annotations

import enum
import importlib
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer carries its own click; its classes are named here for the type checker only
    from typer._click.core import Command, Context

__all__ = ["app", "main", "fail", "LAZY_COMMANDS"]

#: Commands defined in other modules, loaded on first use: name -> (module with
#: ``register(app)``, the one-line help ``crmlab --help`` shows without importing it).
LAZY_COMMANDS = {
    "release": ("crmlab.course.cli", "Write the student notebooks (solutions stubbed, outputs cleared) from the "
                                     "solution notebooks."),
    "grade": ("crmlab.course.cli", "Grade every submitted notebook in a sandbox into a gradebook CSV and feedback "
                                   "files."),
    "grade-merge": ("crmlab.course.cli", "Join the partial gradebooks of a sharded grading run into one gradebook "
                                         "CSV."),
    "summarize": ("crmlab.engines.cli", "Per-customer frequency, recency, T and monetary value of a transaction log."),
}

#: From this many customers ``--format auto`` writes parquet (CSV is about 11x slower to write).
LARGE_COMPANY = 100_000

# seconds per 100,000 customers on the reference machine (benchmarks/results/bench_cli.md),
# used to split one progress bar between generating and saving
_SECONDS_PER_100K = {"generate": 3.6, "parquet": 2.0, "csv": 22.5}


class _LazyGroup(TyperGroup):
    """A command group that imports the modules of :data:`LAZY_COMMANDS` only when invoked."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in LAZY_COMMANDS:  # for the help listing: name and one line only
            return TyperCommand(cmd_name, help=LAZY_COMMANDS[cmd_name][1])
        return cmd

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] in LAZY_COMMANDS and args[0] not in self.commands:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, cmd_name: str) -> None:
        """Import the module of ``cmd_name`` and add the commands it registers."""
        module = LAZY_COMMANDS[cmd_name][0]
        try:
            register = importlib.import_module(module).register
        except ImportError as exc:
            typer.echo(f"Error: `crmlab {cmd_name}` is not available ({exc}); "
                       f"reinstall crmlab with its dependencies (pip install crmlab).", err=True)
            raise typer.Exit(1) from None
        sub = typer.Typer(rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False)
        sub.callback()(_no_op)
        register(sub)
        group = cast(TyperGroup, typer.main.get_command(sub))   # a Typer with a callback is a group
        for name, cmd in group.commands.items():
            self.add_command(cmd, name)


def _no_op() -> None:
    pass


app = typer.Typer(
    name="crmlab",
    cls=_LazyGroup,
    help="crmlab: customer relationship management analytics (客户关系管理).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from crmlab import __version__

        typer.echo(f"crmlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """crmlab: customer relationship management analytics (客户关系管理)."""


def fail(message: str, code: int = 1) -> None:
    """Print ``Error: message`` on one line to standard error and exit with ``code`` (1: data or runtime error)."""
    typer.echo(f"Error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(code)


class Format(enum.StrEnum):
    auto = "auto"
    csv = "csv"
    parquet = "parquet"


def _date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _clear_tables(out: Path) -> None:
    """Remove the tables and meta.json of an earlier dataset in ``out`` (both formats, so none is left mixed)."""
    from crmlab.data.schema import TABLES

    for name in [*(f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")), "meta.json"]:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", "-o", file_okay=False, help="Folder to write the tables to."),
    customers: int = typer.Option(5000, "--customers", "-n", min=1, help="Number of customers."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same data)."),
    format: Format = typer.Option(Format.auto, "--format", case_sensitive=False,
                                  help=f"Table format; auto is parquet from {LARGE_COMPANY:,} customers on, "
                                       f"csv below."),
    start: datetime = typer.Option("2023-01-01", "--start", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                                   help="First day of the observation window."),
    end: datetime = typer.Option("2024-12-31", "--end", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                                 help="Last day of the observation window."),
    force: bool = typer.Option(False, "--force", "-f",
                               help="Write into a folder that is not empty, replacing an earlier dataset there."),
    progress: bool = typer.Option(True, "--progress/--no-progress",
                                  help="Show a progress bar (only when standard error is a terminal)."),
) -> None:
    """Generate the simulated company and save every table to the folder OUT."""
    if end <= start:
        raise typer.BadParameter(f"--end {_date(end)} must be after --start {_date(start)}.", param_hint="'--end'")
    fmt = format.value
    if fmt == "auto":
        fmt = "parquet" if customers >= LARGE_COMPANY else "csv"
    elif fmt == "csv" and customers >= LARGE_COMPANY:
        typer.echo(f"Warning: CSV for {customers:,} customers is slow to write and read (about 11x slower than "
                   f"parquet); use --format parquet (or auto) for large companies.", err=True)
    if out.exists() and any(out.iterdir()):
        if not force:
            fail(f"--out {str(out)!r} is not empty; choose a new or empty folder, or pass --force to replace "
                 f"the dataset there.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".crmlab-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        fail(f"cannot write to {str(out)!r} ({exc.strerror}); choose a writable folder.")
    from crmlab import synth
    from crmlab._progress import ProgressBar

    t0 = time.perf_counter()
    split = _SECONDS_PER_100K["generate"] / (_SECONDS_PER_100K["generate"] + _SECONDS_PER_100K[fmt])
    with ProgressBar(f"crmlab generate ({customers:,} customers)", disable=None if progress else True) as bar:
        try:
            data = synth.generate(n_customers=customers, seed=seed, start=_date(start), end=_date(end),
                                  progress=bar.part(0.0, split))
            if force:
                _clear_tables(out)
            data.save(out, format=fmt, progress=bar.part(split, 1.0, label=f"saving {{}}.{fmt}"))
        except (ValueError, TypeError, OSError) as exc:
            fail(str(exc))
    typer.echo(f"Wrote {len(data.customers):,} customers, {len(data.transactions):,} transactions "
               f"to {out} ({fmt}) in {time.perf_counter() - t0:.1f} s.")


@app.command()
def describe(
    directory: Path = typer.Argument(..., exists=True, file_okay=False,
                                     help="A folder written by `crmlab generate`."),
) -> None:
    """Print the tables, row counts and period of a saved dataset."""
    from crmlab.data import CRMData

    try:
        data = CRMData.load(directory)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        fail(exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc))
    typer.echo(repr(data))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
