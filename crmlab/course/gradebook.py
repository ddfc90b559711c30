"""The gradebook: rows per student and set, feedback files, and merging shards.

``grades.csv`` has columns ``student``, ``set``, ``file``, one ``exNN.<id>`` column per
exercise (1 pass / 0 fail), ``points``, ``max``, ``total`` (percent), ``concept:<name>``
(share of that concept's points earned) and ``note``. A run with ``--shard i/n`` writes
a partial gradebook plus ``<out>.shard.json`` (which shard, and the students in it);
:func:`merge_gradebooks` checks that the parts are complete and disjoint and joins them
into the table a single run would have written.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd

__all__ = ["assemble", "feedback_filename", "write_feedback", "merge_gradebooks", "write_gradebook"]

_FIXED = ["student", "set", "file"]
_TAIL = ["points", "max", "total"]


def feedback_filename(student: str) -> str:
    """A file name for one student's feedback, unique per exact name.

    >>> feedback_filename("alice wang") != feedback_filename("alice_wang")
    True
    >>> feedback_filename("alice wang")[:11]
    'alice_wang-'
    """
    slug = re.sub(r"[^\w\-.]+", "_", student).strip("._")[:60] or "student"
    return f"{slug}-{hashlib.sha256(student.encode('utf-8')).hexdigest()[:8]}.md"


def _ex_sort_key(col: str, order: dict) -> tuple:
    return (col[2:4], order.get(col, 10**6))


def assemble(rows: list[dict], ex_columns: list[str]) -> pd.DataFrame:
    """The gradebook table from row dicts; ``ex_columns`` gives the exercise column order."""
    present = {k for r in rows for k in r}
    ex_cols = [c for c in ex_columns if c in present]
    concept_cols = sorted(k for k in present if k.startswith("concept:"))
    cols = [*_FIXED, *ex_cols, *_TAIL, *concept_cols, "note"]
    book = pd.DataFrame(rows, columns=cols)
    return _typed(book, ex_cols, concept_cols)


def _typed(book: pd.DataFrame, ex_cols, concept_cols) -> pd.DataFrame:
    for c in ex_cols:
        book[c] = pd.to_numeric(book[c]).astype("Int64")
    for c in (*_TAIL, *concept_cols):
        book[c] = pd.to_numeric(book[c]).astype(float)
    for c in ("student", "set", "file"):
        book[c] = book[c].astype(object).where(book[c].notna(), None)
    book["note"] = book["note"].fillna("").astype(str)
    return book.sort_values(["student", "set", "file"], na_position="last", kind="stable").reset_index(drop=True)


def write_gradebook(book: pd.DataFrame, out, shard: tuple[int, int] | None = None, students=()) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.to_csv(out, index=False)
    sidecar = out.with_name(out.name + ".shard.json")
    if shard is not None:
        sidecar.write_text(json.dumps({"shard": shard[0], "of": shard[1], "students": sorted(students)}, indent=1))
    elif sidecar.exists():
        sidecar.unlink()


def merge_gradebooks(parts, out=None) -> pd.DataFrame:
    """Join partial gradebooks written with ``shard=(i, n)`` into one table.

    Raises ``ValueError`` when a part is missing, repeated, from another split, or when
    two parts hold the same student.
    """
    parts = [Path(p) for p in parts]
    if not parts:
        raise ValueError("no partial gradebooks given; pass the CSV files written with --shard i/n.")
    frames: list[pd.DataFrame] = []
    seen: dict[int, str] = {}
    total: int | None = None
    for p in parts:
        if not p.is_file():
            raise ValueError(f"{str(p)!r} is not a file; pass the partial gradebooks (CSV) written with --shard.")
        meta_path = p.with_name(p.name + ".shard.json")
        if not meta_path.is_file():
            raise ValueError(f"{p.name} has no {meta_path.name} next to it; was it written with --shard i/n?")
        meta = json.loads(meta_path.read_text())
        i, n = int(meta["shard"]), int(meta["of"])
        if total is None:
            total = n
        elif n != total:
            raise ValueError(f"{p.name} is shard {i}/{n} but other parts are of {total}; merge parts of one split.")
        if i in seen:
            raise ValueError(f"shard {i}/{n} is given twice ({seen[i]} and {p.name}).")
        seen[i] = p.name
        frames.append(pd.read_csv(p, dtype={"student": str, "set": str, "file": str, "note": str},
                                  keep_default_na=False, na_values={c: [""] for c in ("points", "max", "total")}))
    assert total is not None  # parts is not empty
    missing = sorted(set(range(1, total + 1)) - set(seen))
    if missing:
        raise ValueError(f"shards {', '.join(f'{m}/{total}' for m in missing)} are missing; grade them before merging.")
    order: dict[str, int] = {}
    for f in frames:
        for c in f.columns:
            if re.match(r"^ex\d{2}\.", c) and c not in order:
                order[c] = len(order)
    book = pd.concat(frames, ignore_index=True)
    for c in ("student", "set", "file"):
        book[c] = book[c].replace("", None)
    dup = book.groupby(["student", "file"], dropna=False).size()
    if (dup > 1).any():
        raise ValueError(f"the parts overlap (e.g. {dup[dup > 1].index[0]}); merge the parts of one split only.")
    ex_cols = sorted(order, key=lambda c: _ex_sort_key(c, order))
    concept_cols = sorted(c for c in book.columns if c.startswith("concept:"))
    book = book[[*_FIXED, *ex_cols, *_TAIL, *concept_cols, "note"]]
    book = _typed(book, ex_cols, concept_cols)
    if out is not None:
        write_gradebook(book, out)
    return book


def write_feedback(folder: Path, items_by_student: dict) -> None:
    """One markdown file per student: each set's exercises, messages and written answers."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for student, items in sorted(items_by_student.items()):
        lines = [f"# Feedback for {student}", ""]
        for item in items:
            rel, ex_set, res, row = item["file"], item["set"], item["result"], item["row"]
            if ex_set is None:
                lines += [f"## {rel}", "", f"Not graded: {row['note']}", ""]
                continue
            lines += [f"## {ex_set.name} ({rel}): {row['points']:g} / {row['max']:g} points", ""]
            if row["note"]:
                lines += [f"Note: {row['note']}", ""]
            for ex in ex_set.exercises:
                if res.passed.get(ex.id):
                    lines.append(f"- \u2714 `{ex.id}`: correct")
                else:
                    msg = res.messages.get(ex.id, "failed")
                    lines += [f"- \u2718 `{ex.id}`:", "", "  ```text", *("  " + part for part in msg.split("\n")), "  ```"]
            if res.written:
                lines += ["", "### Written answers (for the instructor to read)", ""]
                for ex_id, text in res.written.items():
                    lines += [f"**{ex_id}**", "", *("> " + part for part in text.split("\n")), ""]
            lines.append("")
        (folder / feedback_filename(student)).write_text("\n".join(lines), encoding="utf-8")
