"""``crmlab release``, ``crmlab grade`` and ``crmlab grade-merge``: the instructor's commands.

``crmlab release`` writes the student notebooks ``exercises/NN_topic.ipynb``;
``crmlab release --out DIR`` writes the bundle students get (no solutions, see
:func:`crmlab.course.release.release_bundle`).

:func:`register` adds the commands to a Typer app (the ``crmlab`` command line calls
it). Bad arguments (usage errors) print one line starting with ``Error:`` and exit with
code 2; data or runtime errors (an unreadable solution notebook, incomplete shards)
exit with code 1, as does ``release --check`` when student notebooks are out of date.

A class too large for one machine is graded as an array job, one shard per task, then
merged::

    crmlab grade submissions/ --shard $((SLURM_ARRAY_TASK_ID))/8 --out parts/grades-$SLURM_ARRAY_TASK_ID.csv
    crmlab grade-merge parts/grades-*.csv --out grades.csv
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
    exercises: Path = typer.Option(Path("exercises"), "--exercises", help="Folder for the student notebooks of the repository."),
    out: Path = typer.Option(None, "--out", help="Write the student bundle (course, exercise sets, data; no solutions) into this folder instead; files the student changed are kept."),
    root: Path = typer.Option(Path("."), "--root", help="The course repository (with notebooks/ and datasets/), for --out."),
) -> None:
    """Write the student notebooks (solutions stubbed, outputs cleared) from the solution notebooks.

    With --out DIR, write the student bundle there instead: course, exercise sets and data, no solutions.
    """
    from crmlab.course.release import release, release_bundle

    if not solutions.is_dir():
        _fail(f"--solutions {str(solutions)!r} is not a folder; pass the folder with the solution notebooks.")
    if out is not None:
        if check:
            _fail("--check compares the repository's student notebooks; use it without --out.")
        if out.exists() and not out.is_dir():
            _fail(f"--out {str(out)!r} is a file; pass a folder for the student bundle.")
        if not (root / "notebooks").is_dir():
            _fail(f"--root {str(root)!r} has no notebooks/ folder; run from the course repository or pass --root.")
        try:
            report = release_bundle(out, root=root, solutions_dir=solutions)
        except (ValueError, TypeError, OSError) as exc:
            _fail(str(exc), code=1)
        kept = report["kept"]
        typer.echo(f"Student bundle in {out}: {len(report['written'])} file(s) written, "
                   f"{len(report['unchanged'])} up to date" + (f", {len(kept)} changed by the student and kept: "
                   + ", ".join(str(p.relative_to(out)) for p in kept) if kept else "") + ".")
        return
    if exercises.exists() and not exercises.is_dir():
        _fail(f"--exercises {str(exercises)!r} is a file; pass a folder.")
    try:
        files = release(solutions, exercises, check=check)
    except (ValueError, TypeError, OSError) as exc:
        _fail(str(exc))
    if check:
        if files:
            typer.echo("Out of date (run `crmlab release`): " + ", ".join(str(f) for f in files), err=True)
            raise typer.Exit(1)
        typer.echo(f"Student notebooks in {exercises} are up to date.")
        return
    if files:
        typer.echo(f"Wrote {len(files)} student notebook(s): " + ", ".join(str(f) for f in files))
    else:
        typer.echo(f"Student notebooks in {exercises} were already up to date.")


def grade_command(
    submissions: Path = typer.Argument(..., help="Folder with alice_NN_topic.ipynb or alice/NN_topic.ipynb files."),
    out: Path = typer.Option(Path("grades.csv"), "--out", "-o", help="Gradebook CSV to write."),
    timeout: int = typer.Option(60, "--timeout", help="Seconds per cell before it is interrupted."),
    notebook_timeout: float = typer.Option(None, "--notebook-timeout", help="Wall-clock seconds for one whole notebook (default: max(300, 5 x --timeout))."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Notebooks graded in parallel (default: number of CPUs)."),
    shard: str = typer.Option(None, "--shard", help="Grade only part i of n of the class, e.g. 2/8; join the parts with grade-merge."),
    memory: int = typer.Option(4096, "--memory-mib", help="Memory limit of each kernel process, in MiB."),
    solutions: Path = typer.Option(Path("exercises/solutions"), "--solutions", help="Folder with the solution notebooks."),
    feedback: Path = typer.Option(None, "--feedback", help="Folder for the feedback files (default: feedback/ next to --out)."),
    per_student_data: bool = typer.Option(False, "--per-student-data", help="Grade each student on their own dataset, seeded by the name in the file name."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Grade every submitted notebook in a sandbox into a gradebook CSV and feedback files."""
    import re

    from crmlab.course.grade import grade

    if not submissions.is_dir():
        _fail(f"SUBMISSIONS {str(submissions)!r} is not a folder; pass the folder with the submitted notebooks.")
    if timeout < 1:
        _fail(f"--timeout must be at least 1 second, got {timeout}.")
    if notebook_timeout is not None and notebook_timeout < 10:
        _fail(f"--notebook-timeout must be at least 10 seconds, got {notebook_timeout:g}.")
    if jobs is not None and jobs < 1:
        _fail(f"--jobs must be at least 1, got {jobs}.")
    if memory < 256:
        _fail(f"--memory-mib must be at least 256, got {memory}.")
    if shard is not None:
        m = re.fullmatch(r"(\d+)/(\d+)", shard.strip())
        if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
            _fail(f"--shard must be i/n with 1 <= i <= n, e.g. 2/8, got {shard!r}.")
    if out.exists() and out.is_dir():
        _fail(f"--out {str(out)!r} is a folder; pass a file name such as grades.csv.")
    if not solutions.is_dir():
        _fail(f"--solutions {str(solutions)!r} is not a folder; pass the folder with the solution notebooks.")
    try:
        book = grade(submissions, solutions_dir=solutions, out=out, feedback_dir=feedback, timeout=timeout,
                     progress=progress, per_student_data=per_student_data, jobs=jobs, shard=shard,
                     notebook_timeout=notebook_timeout, memory_mib=memory)
    except (ValueError, TypeError, OSError, RuntimeError) as exc:  # RuntimeError: no free sandbox slots
        _fail(str(exc), code=1)
    folder = feedback if feedback is not None else out.parent / "feedback"
    n_notes = int((book["note"] != "").sum())
    part = f" (shard {shard}; join the parts with crmlab grade-merge)" if shard else ""
    typer.echo(f"Graded {len(book)} notebook(s) of {book['student'].nunique()} student(s) -> {out}{part}; "
               f"feedback in {folder}" + (f"; {n_notes} with a note (see the 'note' column)." if n_notes else "."))


def grade_merge_command(
    parts: list[Path] = typer.Argument(..., help="Partial gradebooks written by crmlab grade --shard i/n."),
    out: Path = typer.Option(Path("grades.csv"), "--out", "-o", help="Gradebook CSV to write."),
) -> None:
    """Join the partial gradebooks of a sharded grading run into one gradebook CSV."""
    from crmlab.course.gradebook import merge_gradebooks

    if out.exists() and out.is_dir():
        _fail(f"--out {str(out)!r} is a folder; pass a file name such as grades.csv.")
    missing = [p for p in parts if not p.is_file()]
    if missing:
        _fail(f"{str(missing[0])!r} is not a file; pass the partial gradebooks written with --shard i/n.")
    try:
        book = merge_gradebooks(parts, out=out)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        _fail(str(exc), code=1)
    typer.echo(f"Merged {len(parts)} part(s): {len(book)} row(s) of {book['student'].nunique()} student(s) -> {out}.")


def register(app: typer.Typer) -> None:
    """Add the ``release`` and ``grade`` commands to ``app``.

    Examples
    --------
    >>> import typer
    >>> app = typer.Typer()
    >>> register(app)
    >>> sorted(c.name for c in app.registered_commands)
    ['grade', 'grade-merge', 'release']
    """
    help_opts = {"help_option_names": ["-h", "--help"]}
    app.command("release", context_settings=help_opts)(release_command)
    app.command("grade", context_settings=help_opts)(grade_command)
    app.command("grade-merge", context_settings=help_opts)(grade_merge_command)
