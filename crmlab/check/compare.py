"""Comparison helpers shared by the exercise checks.

Each ``assert_*`` function compares a student's answer with the expected answer that a
check recomputed with crmlab's reference implementation. On a mismatch it raises an
``AssertionError`` whose message says, in plain words, what differs (for a table keyed
by customer: the first three customers that differ, with what the student gave; missing or extra
rows; missing columns) followed by the hint. Messages never state an expected value: a
differing number is "too high" or "too low", a date "too early" or "too late", anything else
"not the expected value". On success the helpers return ``None``
silently; the check then calls :func:`passed` once.

Numbers are compared with ``numpy.isclose(got, expected, rtol, atol)``; missing values
compare equal to missing values. Dates, text and categories are compared exactly.

Examples
--------
>>> import pandas as pd
>>> from crmlab.check.compare import assert_frame_matches, passed
>>> expected = pd.DataFrame({"customer_id": [1, 2], "recency": [3.0, 10.0]})
>>> got = pd.DataFrame({"customer_id": [2, 1], "recency": [10.0, 3.0]})
>>> assert_frame_matches(got, expected, key="customer_id", what="your RFM table")
>>> passed("rfm_scores")
✔ rfm_scores: correct
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Number
from typing import Any, SupportsFloat, cast

import numpy as np
import pandas as pd

__all__ = [
    "assert_frame_matches",
    "assert_series_matches",
    "assert_scalar_close",
    "assert_same_set",
    "assert_same_partition",
    "assert_axes",
    "resolve_data",
    "passed",
    "fail",
    "matches",
    "judge",
]

_N_EXAMPLES = 3
_RETAIL_CACHE: dict[str, Any] = {}


# ----------------------------------------------------------------------------- helpers
def fail(message: str, hint: str = "") -> None:
    """Fail a check: raise ``AssertionError`` with ``message`` and, if given, the hint."""
    if hint:
        message = f"{message}\nHint: {hint}"
    raise AssertionError(message)


def _check_tolerances(rtol, atol) -> None:
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Number):
            raise TypeError(f"{name} must be a number such as 1e-6, got {value!r}.")
        if not float(cast(SupportsFloat, value)) >= 0:
            raise ValueError(f"{name} must be non-negative, got {value!r}.")


def _fmt(value) -> str:
    """Format one value the way a student would write it."""
    if value is None or (not isinstance(value, (str, bytes)) and _isna_scalar(value)):
        return "missing (NaN)"
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:.1f}"
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _isna_scalar(value) -> bool:
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if np.ndim(result) == 0 else False


def _fmt_items(items: Sequence, n: int = _N_EXAMPLES) -> str:
    shown = ", ".join(_fmt(v) for v in list(items)[:n])
    return shown + (", ..." if len(items) > n else "")


def _sorted(values: Iterable) -> list:
    values = list(values)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def _entity(index: pd.Index) -> tuple[str, str]:
    """Words for one row and many rows, from the index name ('customer_id' -> customer)."""
    names = [n for n in index.names if n is not None]
    if len(names) == 1:
        name = str(names[0])
        for suffix in ("_id", "_key", "_no"):
            if name.endswith(suffix) and len(name) > len(suffix):
                word = name[: -len(suffix)].replace("_", " ")
                return word, word + "s"
        return f"{name}", f"{name} values"
    return "row", "rows"


def _label(key, index: pd.Index) -> str:
    word, _ = _entity(index)
    if isinstance(key, tuple):
        return "row " + ", ".join(f"{n}={_fmt(k)}" for n, k in zip(index.names, key))
    return f"{word} {_fmt(key)}" if word != "row" else f"row {_fmt(key)}"


def _type_name(obj) -> str:
    if isinstance(obj, pd.DataFrame):
        return f"a DataFrame with {obj.shape[0]} rows and {obj.shape[1]} columns"
    if isinstance(obj, pd.Series):
        return f"a Series with {len(obj)} value{'s' if len(obj) != 1 else ''}"
    if isinstance(obj, np.ndarray):
        return f"a numpy array of shape {obj.shape}"
    if obj is None:
        return "None (did the cell assign the variable, or did a function print instead of return?)"
    return f"a {type(obj).__name__}"


def _kind(s: pd.Series) -> str:
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if pd.api.types.is_numeric_dtype(cats.dtype) and not pd.api.types.is_bool_dtype(cats.dtype):
            return "number"
        return "text"
    # str / object: decide by content
    values = s.dropna()
    if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values.iloc[:100]):
        return "bool"
    if len(values) and all(
        isinstance(v, Number) and not isinstance(v, (bool, np.bool_)) for v in values.iloc[:100]
    ):
        return "number"
    return "text"


_KIND_WORDS = {"number": "numbers", "bool": "True/False values", "date": "dates",
               "duration": "durations", "text": "text"}


def _differing(got: pd.Series, expected: pd.Series, rtol: float, atol: float) -> np.ndarray | str:
    """Boolean mask of rows that differ, or a sentence when the types cannot be compared."""
    gk, ek = _kind(got), _kind(expected)
    if ek == "number" and gk in ("number", "bool"):
        g = pd.to_numeric(got.astype(object) if gk == "bool" else got).to_numpy(dtype=float, na_value=np.nan)
        e = pd.to_numeric(expected).to_numpy(dtype=float, na_value=np.nan) if not isinstance(
            expected.dtype, pd.CategoricalDtype) else expected.astype(float).to_numpy(na_value=np.nan)
        if isinstance(got.dtype, pd.CategoricalDtype):
            g = got.astype(float).to_numpy(na_value=np.nan)
        same = np.isclose(g, e, rtol=rtol, atol=atol) | (np.isnan(g) & np.isnan(e))
        return ~same
    if ek == "date" and gk in ("date", "text"):
        try:
            g = pd.to_datetime(got)
        except (ValueError, TypeError):
            return f"should hold {_KIND_WORDS[ek]} but holds {_KIND_WORDS[gk]}"
        g_na, e_na = g.isna().to_numpy(), expected.isna().to_numpy()
        eq = (g.to_numpy(dtype="datetime64[us]") == expected.to_numpy(dtype="datetime64[us]"))
        return ~((g_na & e_na) | (eq & ~g_na & ~e_na))
    if ek != gk and not (ek == "bool" and gk == "number") and not (ek == "duration" and gk == "duration"):
        return f"should hold {_KIND_WORDS[ek]} but holds {_KIND_WORDS[gk]} (dtype {got.dtype})"
    g_obj = got.astype(object).to_numpy()
    e_obj = expected.astype(object).to_numpy()
    g_na = pd.isna(g_obj)
    e_na = pd.isna(e_obj)
    eq = np.array([a == b if not (x or y) else False
                   for a, b, x, y in zip(g_obj, e_obj, g_na, e_na)], dtype=bool)
    return ~((g_na & e_na) | eq)


def _direction(got, expected) -> str:
    """How a value differs from the expected one, without saying the expected value."""
    g_na, e_na = _isna_scalar(got), _isna_scalar(expected)
    if g_na and not e_na:
        return "but a value is expected"
    if e_na and not g_na:
        return "but it should be missing (NaN)"
    try:
        if isinstance(expected, (pd.Timestamp, np.datetime64)):
            return "too late" if pd.Timestamp(got) > pd.Timestamp(expected) else "too early"
        if isinstance(expected, Number) and not isinstance(expected, (bool, np.bool_)) and \
                isinstance(got, Number) and not isinstance(got, (bool, np.bool_)):
            g, e = float(cast(SupportsFloat, got)), float(cast(SupportsFloat, expected))
            if e != 0 and math.isclose(g, -e, rel_tol=1e-9):
                return "the wrong sign"
            return "too high" if g > e else "too low"
    except (TypeError, ValueError):
        pass
    return "not the expected value"


def _set_key(frame: pd.DataFrame, key: list[str], who: str) -> pd.DataFrame | str:
    """Index ``frame`` by ``key`` (columns or already the index); return a message if impossible."""
    if list(frame.index.names) == key:
        return frame
    if all(k in frame.columns for k in key):
        return frame.set_index(key)
    flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
    if all(k in flat.columns for k in key):
        return flat.set_index(key)
    missing = [k for k in key if k not in flat.columns]
    return (f"{who} has no column {missing[0]!r} to identify the rows "
            f"(columns: {list(map(str, frame.columns))}, index: {list(frame.index.names)})")


def _as_frame(obj, what: str, hint: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        fail(f"{what} should be a DataFrame (a table), but it is a Series. "
              f"Use .to_frame() or .reset_index() to turn it into a table.", hint)
    fail(f"{what} should be a pandas DataFrame, but it is {_type_name(obj)}.", hint)
    raise AssertionError  # pragma: no cover - _fail always raises


# ----------------------------------------------------------------------------- frames
def assert_frame_matches(
    got,
    expected: pd.DataFrame,
    *,
    key: str | Sequence[str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    check_dtype: bool = False,
    check_column_order: bool = False,
    what: str = "your table",
    hint: str = "",
) -> None:
    """Assert that a student's DataFrame equals the expected one.

    Rows are matched by ``key`` (column name(s) or index level name(s); the student may
    have the key as a column or as the index) or, when ``key`` is None, by index label.
    Row order never matters. Every expected column must be present; extra columns are
    allowed. Numeric columns are compared with tolerances, others exactly.

    Parameters
    ----------
    got : the student's answer.
    expected : the answer recomputed by the reference implementation.
    key : column(s) identifying a row, e.g. ``"customer_id"``.
    rtol, atol : relative and absolute tolerance for numbers.
    check_dtype : also require identical dtypes.
    check_column_order : also require the expected columns in the expected order.
    what : how to call the answer in the message.
    hint : appended to the failure message.

    Examples
    --------
    >>> import pandas as pd
    >>> exp = pd.DataFrame({"customer_id": [1, 2], "frequency": [4, 1]})
    >>> got = pd.DataFrame({"customer_id": [1, 2], "frequency": [4, 2]})
    >>> assert_frame_matches(got, exp, key="customer_id")
    Traceback (most recent call last):
    ...
    AssertionError: your table does not match the expected answer:
    - column 'frequency' differs for 1 of 2 customers, e.g.
        customer 2: got 2, too high
    """
    _check_tolerances(rtol, atol)
    if not isinstance(expected, pd.DataFrame):
        raise TypeError(f"expected must be a DataFrame, got {type(expected).__name__}.")
    got = _as_frame(got, what, hint)
    if key is not None:
        keys = [key] if isinstance(key, str) else list(key)
        exp = _set_key(expected, keys, "expected")
        if isinstance(exp, str):
            raise ValueError(f"key={key!r} is not a column or index level of the expected table.")
        g = _set_key(got, keys, what)
        if isinstance(g, str):
            fail(g + ".", hint)
    else:
        exp, g = expected, got
        name = expected.index.name
        if name is not None and got.index.name != name and name in got.columns:
            g = got.set_index(name)
    _compare_aligned(g, exp, rtol=rtol, atol=atol, check_dtype=check_dtype,
                     check_column_order=check_column_order, what=what, hint=hint)


def _compare_aligned(got: pd.DataFrame, exp: pd.DataFrame, *, rtol, atol, check_dtype,
                     check_column_order, what, hint, series_name: str | None = None) -> None:
    problems: list[str] = []
    _, many = _entity(exp.index)
    if got.index.has_duplicates:
        dup = _sorted(got.index[got.index.duplicated()].unique())
        fail(f"{what} has {len(dup)} {many} that appear more than once, e.g. {_fmt_items(dup)}. "
              f"Each should appear once: aggregate per key (groupby) or drop duplicates.", hint)

    if series_name is None:
        missing_cols = [c for c in exp.columns if c not in got.columns]
        if missing_cols:
            fail(f"{what} is missing column(s) {[str(c) for c in missing_cols]}. "
                  f"Your columns: {[str(c) for c in got.columns]}.", hint)
        if check_column_order:
            order = [c for c in got.columns if c in exp.columns]
            if order != list(exp.columns):
                problems.append(f"the columns should be in the order {[str(c) for c in exp.columns]}, "
                                f"got {[str(c) for c in order]}")

    # align the index: the keys may be stored with a different but compatible dtype
    got_index = got.index
    if len(got_index) and len(exp.index) and not got_index.isin(exp.index).any():
        try:
            converted = got_index.astype(exp.index.dtype)
            if converted.isin(exp.index).any():
                got = got.set_axis(converted)
        except (TypeError, ValueError):
            pass
    missing = exp.index.difference(got.index, sort=False)
    extra = got.index.difference(exp.index, sort=False)
    if len(missing):
        problems.append(f"{len(missing)} of {len(exp)} expected {many} "
                        f"{'is' if len(missing) == 1 else 'are'} missing: {_fmt_items(_sorted(missing))}")
    if len(extra):
        one, _ = _entity(exp.index)
        problems.append(f"{len(extra)} {one if len(extra) == 1 else many} should not be there: "
                        f"{_fmt_items(_sorted(extra))}")

    common = exp.index.intersection(got.index, sort=False)
    # reindex, not .loc: with True/False keys .loc would read the index as a boolean mask
    g_al = got.reindex(common)
    e_al = exp.reindex(common)
    for col in exp.columns:
        gcol, ecol = g_al[col], e_al[col]
        label = "the values" if series_name is not None else f"column {str(col)!r}"
        verb = "differ" if series_name is not None else "differs"
        if isinstance(gcol, pd.DataFrame):
            problems.append(f"{label} appears more than once in {what}")
            continue
        if check_dtype and got[col].dtype != exp[col].dtype:
            problems.append(f"{label} has dtype {got[col].dtype}, expected {exp[col].dtype}")
        diff = _differing(gcol, ecol, rtol, atol)
        if isinstance(diff, str):
            problems.append(f"{label} {diff}")
            continue
        n_diff = int(diff.sum())
        if n_diff:
            idx = np.flatnonzero(diff)[:_N_EXAMPLES]
            lines = [f"    {_label(common[i], exp.index)}: got {_fmt(gcol.iloc[i])}, "
                     f"{_direction(gcol.iloc[i], ecol.iloc[i])}" for i in idx]
            problems.append(f"{label} {verb} for {n_diff} of {len(common)} {many}, e.g.\n"
                            + "\n".join(lines))
    if problems:
        fail(f"{what} does not match the expected answer:\n" + "\n".join(f"- {p}" for p in problems),
              hint)


def _series_from_frame(got, expected: pd.Series):
    """A table that holds the answer as one column (the key as a column or as the index) is a Series."""
    if not isinstance(got, pd.DataFrame):
        return got
    keys = [n for n in expected.index.names if n is not None]
    frame = got
    if keys and all(k in frame.columns for k in keys):
        frame = frame.set_index(keys)
    if frame.shape[1] == 1:
        return frame.iloc[:, 0]
    if expected.name is not None and expected.name in frame.columns:
        return frame[expected.name]
    return got


def assert_series_matches(
    got,
    expected: pd.Series,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    what: str = "your result",
    hint: str = "",
) -> None:
    """Assert that a student's Series equals the expected one, matched by index label.

    A list or array of the right length is compared by position. A one-column DataFrame
    is accepted as a Series, and so is a table with the key as a column (or the index) and the
    answer as its one other column (or a column named like the expected Series), and a dict keyed
    like the expected index.

    Examples
    --------
    >>> import pandas as pd
    >>> exp = pd.Series([0.5, 0.25], index=pd.Index([1, 2], name="customer_id"))
    >>> assert_series_matches(exp.iloc[::-1], exp)
    >>> assert_series_matches(exp * 2, exp, what="your churn probability")
    Traceback (most recent call last):
    ...
    AssertionError: your churn probability does not match the expected answer:
    - the values differ for 2 of 2 customers, e.g.
        customer 1: got 1.0, too high
        customer 2: got 0.5, too high
    """
    _check_tolerances(rtol, atol)
    if not isinstance(expected, pd.Series):
        raise TypeError(f"expected must be a Series, got {type(expected).__name__}.")
    got = _series_from_frame(got, expected)
    if isinstance(got, Mapping):  # a dict keyed like the expected index is the same answer
        got = pd.Series(dict(got), dtype=object if not len(got) else None).infer_objects()
    if isinstance(got, (list, tuple, np.ndarray)) and not isinstance(got, pd.Series):
        arr = np.asarray(got, dtype=object)
        if arr.ndim != 1 or len(arr) != len(expected):
            fail(f"{what} should have {len(expected)} values, but it is {_type_name(got)}"
                  + (f" with {len(arr)} values." if arr.ndim == 1 else "."), hint)
        got = pd.Series(list(arr), index=expected.index).infer_objects()
    if not isinstance(got, pd.Series):
        fail(f"{what} should be a pandas Series, but it is {_type_name(got)}.", hint)
    name = "__value__"
    exp_frame = expected.to_frame(name)
    got_frame = got.to_frame(name)
    if got_frame.index.names != exp_frame.index.names and got_frame.index.nlevels == exp_frame.index.nlevels:
        got_frame.index = got_frame.index.set_names(exp_frame.index.names)
    _compare_aligned(got_frame, exp_frame, rtol=rtol, atol=atol, check_dtype=False,
                     check_column_order=False, what=what, hint=hint, series_name=name)


# ----------------------------------------------------------------------------- scalars, sets
def _scalar(value, what: str, hint: str):
    if isinstance(value, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
        size = value.size if hasattr(value, "size") else len(value)
        if size == 1:
            extra = " Take it out with .item() (or .iloc[0])."
        else:
            extra = ""
        fail(f"{what} should be a single value, but it is {_type_name(value)}.{extra}", hint)
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_scalar_close(
    got,
    expected,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    what: str = "your answer",
    hint: str = "",
) -> None:
    """Assert that a single number (or text, date, True/False) equals the expected one.

    Examples
    --------
    >>> assert_scalar_close(0.2500001, 0.25)
    >>> assert_scalar_close(0.3, 0.25, what="your repeat-purchase rate", hint="Divide by all customers.")
    Traceback (most recent call last):
    ...
    AssertionError: your repeat-purchase rate is 0.3, which is too high.
    Hint: Divide by all customers.

    The message never states the expected value: it says whether the answer is too high or
    too low (or, for text and dates, only that it is not the expected one).
    """
    _check_tolerances(rtol, atol)
    got = _scalar(got, what, hint)
    expected = expected.item() if isinstance(expected, np.generic) else expected
    if isinstance(expected, Number) and not isinstance(expected, bool):
        if isinstance(got, bool) or not isinstance(got, Number):
            fail(f"{what} should be a number, but it is {_type_name(got)} ({_fmt(got)}).", hint)
        g, e = float(cast(SupportsFloat, got)), float(cast(SupportsFloat, expected))
        if math.isnan(g) and math.isnan(e):
            return
        if math.isnan(g):
            fail(f"{what} is missing (NaN); a number is expected.", hint)
        if math.isnan(e):
            fail(f"{what} is {_fmt(got)}, but on this dataset the answer is undefined (NaN).", hint)
        if not math.isclose(g, e, rel_tol=rtol, abs_tol=atol):
            if e != 0 and math.isclose(g, -e, rel_tol=rtol, abs_tol=atol):
                fail(f"{what} is {_fmt(got)}: it has the wrong sign.", hint)
            fail(f"{what} is {_fmt(got)}, which is too {'high' if g > e else 'low'}.", hint)
        return
    if isinstance(expected, pd.Timestamp):
        try:
            ok = pd.Timestamp(got) == expected
        except (TypeError, ValueError):
            ok = False
        if not ok:
            fail(f"{what} is {_fmt(got)}, which is not the expected date.", hint)
        return
    if got != expected:
        fail(f"{what} is {_fmt(got)}, which is not the expected answer.", hint)


def _as_set(value, what: str, hint: str) -> set:
    if isinstance(value, pd.DataFrame):
        fail(f"{what} should be a collection of values (list, set or Series), but it is "
              f"{_type_name(value)}. Pick the column you mean, e.g. table['customer_id'].", hint)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Iterable, pd.Index)):
        fail(f"{what} should be a collection of values (list, set or Series), but it is "
              f"{_type_name(value)}.", hint)
    values = value.tolist() if hasattr(value, "tolist") else list(value)
    return {v.item() if isinstance(v, np.generic) else v for v in values}


def assert_same_set(got, expected, *, what: str = "your answer", hint: str = "") -> None:
    """Assert that ``got`` holds the same distinct values as ``expected`` (order ignored).

    Examples
    --------
    >>> assert_same_set([3, 1, 2], {1, 2, 3})
    >>> assert_same_set([1, 2], [1, 2, 3], what="your key accounts")
    Traceback (most recent call last):
    ...
    AssertionError: your key accounts does not contain the expected values:
    - 1 expected value(s) are missing (2 of your 2 are right)
    """
    exp = _as_set(expected, "expected", "")
    g = _as_set(got, what, hint)
    missing, extra = _sorted(exp - g), _sorted(g - exp)
    if missing or extra:
        parts = []
        if missing:
            # the missing values are not named: with a short answer that would give it away
            parts.append(f"{len(missing)} expected value(s) are missing ({len(exp) - len(missing)} of your "
                         f"{len(g)} are right)")
        if extra:
            parts.append(f"{len(extra)} value(s) should not be there, e.g. {_fmt_items(extra)}")
        fail(f"{what} does not contain the expected values:\n" + "\n".join(f"- {p}" for p in parts), hint)


def assert_same_partition(got_labels, expected_labels, *, what: str = "your labels", hint: str = "") -> None:
    """Assert that two labellings split the items into the same groups (names may differ).

    Cluster numbers are arbitrary: ``[0, 0, 1]`` and ``[5, 5, 2]`` are the same partition.
    Two Series are matched by index; otherwise the labels are compared by position.

    Examples
    --------
    >>> assert_same_partition([1, 1, 0, 2], ["a", "a", "b", "c"])
    >>> assert_same_partition([0, 0, 0, 1], [0, 0, 1, 1], what="your clusters")
    Traceback (most recent call last):
    ...
    AssertionError: your clusters do not form the expected groups:
    - your group 0 mixes items from different expected groups: item 0 and item 2 are together in your group 0 but belong to different groups
    """
    if isinstance(expected_labels, pd.Series):
        exp = expected_labels
    else:
        exp = pd.Series(np.asarray(expected_labels, dtype=object).tolist())
    if isinstance(got_labels, pd.DataFrame) and got_labels.shape[1] == 1:
        got_labels = got_labels.iloc[:, 0]
    if isinstance(got_labels, pd.Series) and isinstance(expected_labels, pd.Series):
        g = got_labels
        if not g.index.equals(exp.index):
            missing = exp.index.difference(g.index)
            extra = g.index.difference(exp.index)
            if len(missing) or len(extra):
                fail(f"{what} should label exactly the expected items: "
                      f"{len(missing)} missing (e.g. {_fmt_items(_sorted(missing))}), "
                      f"{len(extra)} unexpected (e.g. {_fmt_items(_sorted(extra))}).", hint)
            g = g.loc[exp.index]
    else:
        if isinstance(got_labels, (pd.DataFrame, str, bytes)) or not isinstance(got_labels, Iterable):
            fail(f"{what} should be a list, array or Series of labels, but it is {_type_name(got_labels)}.", hint)
        arr = np.asarray(got_labels.to_numpy() if isinstance(got_labels, pd.Series) else list(got_labels),
                         dtype=object)
        if arr.ndim != 1 or len(arr) != len(exp):
            fail(f"{what} should have one label per item ({len(exp)}), but it has {len(arr)}.", hint)
        g = pd.Series(arr.tolist(), index=exp.index)
    if g.isna().any():
        fail(f"{what} has {int(g.isna().sum())} missing label(s); every item needs a group.", hint)
    word, _ = _entity(exp.index)
    if word == "row":
        word = "item"
    pairs = pd.DataFrame({"g": g.to_numpy(), "e": exp.to_numpy()}, index=exp.index)
    n_g, n_e = pairs["g"].nunique(), pairs["e"].nunique()
    problems = []
    if n_g != n_e:
        problems.append(f"you found {n_g} groups, expected {n_e}")
    n_count = len(problems)
    for label, group in pairs.groupby("g", sort=True):
        if group["e"].nunique() > 1:
            a = group.index[0]
            b = group.index[(group["e"] != group["e"].iloc[0]).to_numpy()][0]
            problems.append(f"your group {_fmt(label)} mixes items from different expected groups: "
                            f"{word} {_fmt(a)} and {word} {_fmt(b)} are together in your group "
                            f"{_fmt(label)} but belong to different groups")
            break
    if len(problems) == n_count:
        for _, group in pairs.groupby("e", sort=True):
            if group["g"].nunique() > 1:
                a = group.index[0]
                b = group.index[(group["g"] != group["g"].iloc[0]).to_numpy()][0]
                problems.append(f"{word} {_fmt(a)} and {word} {_fmt(b)} belong together, "
                                f"but you put them in groups {_fmt(group['g'].iloc[0])} and "
                                f"{_fmt(pairs.loc[b, 'g'])}")
                break
    if problems:
        fail(f"{what} do not form the expected groups:\n" + "\n".join(f"- {p}" for p in problems), hint)


# ----------------------------------------------------------------------------- plots
def _data_lines(ax) -> list:
    """Lines that show data: excludes 2-point vertical/horizontal segments (error bars, reference lines)."""
    out = []
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(orig=False), dtype=object)
        y = np.asarray(line.get_ydata(orig=False), dtype=object)
        if len(x) <= 2 and (len(set(map(str, x))) <= 1 or len(set(map(str, y))) <= 1):
            continue
        out.append(line)
    return out


def assert_axes(
    ax,
    *,
    n_bars: int | None = None,
    n_lines: int | None = None,
    n_points: int | None = None,
    what: str = "your plot",
    hint: str = "",
) -> None:
    """Assert that a plot is a matplotlib Axes with the expected number of marks.

    ``n_bars`` counts bar rectangles (bar charts, histograms), ``n_lines`` counts data
    lines (error bars and horizontal/vertical reference lines are not counted) and
    ``n_points`` counts scatter points.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.bar(["A", "B", "C"], [3, 2, 1])
    >>> assert_axes(ax, n_bars=3)
    >>> plt.close(fig)
    """
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

    for name, value in (("n_bars", n_bars), ("n_lines", n_lines), ("n_points", n_points)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer or None, got {value!r}.")
    if isinstance(ax, Figure) and len(ax.axes) == 1:
        ax = ax.axes[0]
    if not isinstance(ax, Axes):
        fail(f"{what} should be a matplotlib Axes (the object plotting functions return), "
              f"but it is {_type_name(ax)}. Return or assign the Axes, e.g. ax = crm.plot....(...).", hint)
    problems = []
    if n_bars is not None:
        containers = [c for c in ax.containers if isinstance(c, BarContainer)]
        got = sum(len(c) for c in containers) if containers else sum(
            1 for p in ax.patches if type(p).__name__ == "Rectangle")
        if got != n_bars:
            problems.append(f"it has {got} bars, expected {n_bars}")
    if n_lines is not None:
        got = len(_data_lines(ax))
        if got != n_lines:
            problems.append(f"it has {got} lines, expected {n_lines}")
    if n_points is not None:
        got = sum(len(np.asarray(c.get_offsets())) for c in ax.collections if isinstance(c, PathCollection))
        if got != n_points:
            problems.append(f"it has {got} points, expected {n_points}")
    if problems:
        fail(f"{what} is not the expected chart: " + "; ".join(problems) + ".", hint)


# ----------------------------------------------------------------------------- judging
def matches(compare, got, expected, **kwargs) -> bool:
    """True when ``compare(got, expected, **kwargs)`` (an ``assert_*`` helper) passes.

    >>> matches(assert_scalar_close, 0.25, 0.25)
    True
    >>> matches(assert_scalar_close, 25.0, 0.25)
    False
    """
    try:
        compare(got, expected, **kwargs)
    except AssertionError:
        return False
    return True


def judge(compare, got, expected, *, what: str, hint: str = "", mistakes=(), builds_on: str | None = None,
          **kwargs) -> None:
    """Compare ``got`` with ``expected``; on a mismatch, name the typical mistake it matches.

    ``compare`` is one of the ``assert_*`` helpers. ``mistakes`` is a sequence of
    ``(message, wrong)`` pairs, where ``wrong`` is the answer that mistake produces (or a
    function of no arguments returning it, computed only when the answer is wrong). The first
    mistake the answer matches fails with its message; otherwise the helper's own message is
    raised, followed, when ``builds_on`` names an earlier exercise, by a pointer to fix that
    one first.

    Examples
    --------
    >>> judge(assert_scalar_close, 0.25, 0.25, what="your share")
    >>> judge(assert_scalar_close, 25.0, 0.25, what="your share",
    ...       mistakes=[("your share is a percentage; give a fraction between 0 and 1.", 25.0)])
    Traceback (most recent call last):
    ...
    AssertionError: your share is a percentage; give a fraction between 0 and 1.
    """
    try:
        compare(got, expected, what=what, hint=hint, **kwargs)
        return
    except AssertionError as exc:
        error = exc
    for message, wrong in mistakes:
        try:
            wrong = wrong() if callable(wrong) else wrong
        except Exception:  # a mistake that cannot be formed on this dataset is not the one made
            continue
        if wrong is not None and matches(compare, got, wrong, **kwargs):
            fail(message, hint)
    if builds_on:
        raise AssertionError(f"{error}\nThis exercise builds on {builds_on}: if that check fails, fix it "
                             f"first.") from None
    raise error


# ----------------------------------------------------------------------------- data, success
def resolve_data(data=None):
    """Return ``data``, or the shipped retail dataset when ``data`` is None (loaded once).

    Checks call ``resolve_data(data)`` so that ``check.x(answer)`` uses the shipped
    dataset and ``check.x(answer, data)`` uses the student's own dataset.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> mine = SimpleNamespace(transactions=None)
    >>> resolve_data(mine) is mine
    True
    """
    if data is None:
        if "retail" not in _RETAIL_CACHE:
            import crmlab

            _RETAIL_CACHE["retail"] = crmlab.load_retail()
        return _RETAIL_CACHE["retail"]
    if isinstance(data, (pd.DataFrame, pd.Series, np.ndarray, Mapping, list, tuple, str, Number)):
        raise TypeError(
            f"data must be the whole dataset (the `data` object from the setup cell, a CRMData), "
            f"got {type(data).__name__}. Call the check as check.<exercise>(answer, data)."
        )
    return data


def passed(exercise: str) -> None:
    """Print the one-line success message for ``exercise``.

    >>> passed("rfm_scores")
    ✔ rfm_scores: correct
    """
    print(f"\u2714 {exercise}: correct")
