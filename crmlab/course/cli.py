"""``crmlab release`` and ``crmlab grade``: the instructor's commands.

:func:`register` adds both commands to a Typer app (the ``crmlab`` command line calls
it). Bad arguments print one line starting with ``Error:`` and exit with code 2;
``release --check`` exits with code 1 when student notebooks are out of date.
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def release_command(
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 naming the student notebooks that are out of date."),
    solutions: Path = typer.Option(Path("exercises/solutions"), "--solutions", help="Folder with the solution notebooks."),
    out: Path = typer.Option(Path("exercises"), "--out", help="Folder for the student notebooks."),
) -> None:
    """Write the student notebooks (solutions stubbed, outputs cleared) from the solution notebooks."""
    from crmlab.course.release import release

    if not solutions.is_dir():
        _fail(f"--solutions {str(solutions)!r} is not a folder; pass the folder with the solution notebooks.")
    if out.exists() and not out.is_dir():
        _fail(f"--out {str(out)!r} is a file; pass a folder.")
    try:
        files = release(solutions, out, check=check)
    except (ValueError, TypeError, OSError) as exc:
        _fail(str(exc))
    if check:
        if files:
            typer.echo("Out of date (run `crmlab release`): " + ", ".join(str(f) for f in files), err=True)
            raise typer.Exit(1)
        typer.echo(f"Student notebooks in {out} are up to date.")
        return
    if files:
        typer.echo(f"Wrote {len(files)} student notebook(s): " + ", ".join(str(f) for f in files))
    else:
        typer.echo(f"Student notebooks in {out} were already up to date.")


def grade_command(
    submissions: Path = typer.Argument(..., help="Folder with alice_NN_topic.ipynb or alice/NN_topic.ipynb files."),
    out: Path = typer.Option(Path("grades.csv"), "--out", "-o", help="Gradebook CSV to write."),
    timeout: int = typer.Option(60, "--timeout", help="Seconds per cell before it is interrupted."),
    solutions: Path = typer.Option(Path("exercises/solutions"), "--solutions", help="Folder with the solution notebooks."),
    feedback: Path = typer.Option(None, "--feedback", help="Folder for the feedback files [default: feedback/ next to --out]."),
    per_student_data: bool = typer.Option(False, "--per-student-data", help="Grade each student on their own dataset, seeded by the name in the file name."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Grade every submitted notebook with nbval into a gradebook CSV and feedback files."""
    from crmlab.course.grade import grade

    if not submissions.is_dir():
        _fail(f"SUBMISSIONS {str(submissions)!r} is not a folder; pass the folder with the submitted notebooks.")
    if timeout < 1:
        _fail(f"--timeout must be at least 1 second, got {timeout}.")
    if out.exists() and out.is_dir():
        _fail(f"--out {str(out)!r} is a folder; pass a file name such as grades.csv.")
    try:
        book = grade(submissions, solutions_dir=solutions, out=out, feedback_dir=feedback, timeout=timeout,
                     progress=progress, per_student_data=per_student_data)
    except (ValueError, TypeError, OSError) as exc:
        _fail(str(exc))
    folder = feedback if feedback is not None else out.parent / "feedback"
    n_notes = int((book["note"] != "").sum())
    typer.echo(f"Graded {len(book)} notebook(s) of {book['student'].nunique()} student(s) -> {out}; "
               f"feedback in {folder}" + (f"; {n_notes} with a note (see the 'note' column)." if n_notes else "."))


def register(app: typer.Typer) -> None:
    """Add the ``release`` and ``grade`` commands to ``app``.

    Examples
    --------
    >>> import typer
    >>> app = typer.Typer()
    >>> register(app)
    >>> sorted(c.name for c in app.registered_commands)
    ['grade', 'release']
    """
    app.command("release")(release_command)
    app.command("grade")(grade_command)
