"""Input checks shared by every public crmlab function.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the
offending column or value and says how to fix it. None of them modifies its input:
functions that need to convert (parse dates, cast numbers) return a new object.

Examples
--------
>>> import pandas as pd
>>> from crmlab.validation import check_frame
>>> tx = pd.DataFrame({"customer_id": [1, 2], "date": ["2024-01-03", "2024-02-01"],
...                    "amount": [10.0, 5.5]})
>>> clean = check_frame(tx, required=["customer_id", "date", "amount"],
...                     dates=["date"], numeric=["amount"], name="transactions")
>>> str(clean["date"].dtype)
'datetime64[us]'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import DTypeLike
from sklearn.exceptions import NotFittedError  # re-exported: the one error for unfitted models

__all__ = [
    "check_frame",
    "require_columns",
    "check_dates",
    "check_numeric",
    "check_no_missing",
    "check_nonnegative",
    "check_unique",
    "check_not_after",
    "check_timestamp",
    "check_array",
    "check_same_length",
    "check_positive_int",
    "check_fraction",
    "check_in_range",
    "check_choice",
    "check_is_fitted",
    "check_transactions",
    "check_unique_columns",
    "NotFittedError",
    "suggest_names",
]

_T = TypeVar("_T")




def _py(value):
    """A numpy scalar as the plain Python value, so messages read 12.5 rather than np.float64(12.5)."""
    return value.item() if isinstance(value, np.generic) else value


def suggest_names(name: object, options: Iterable[object]) -> str:
    """The sentence " Did you mean 'x'?" naming options close to ``name`` ("" if none).

    >>> suggest_names("amout", ["amount", "date"])
    " Did you mean 'amount'?"
    """
    matches = difflib.get_close_matches(str(name), [str(o) for o in options], n=3, cutoff=0.5)
    lowered = [str(o) for o in options if str(o).lower() == str(name).lower()]
    matches = list(dict.fromkeys(lowered + matches))
    return f" Did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""


# ----------------------------------------------------------------------------- messages
# One wording per problem, shared by the pandas checks below and the DuckDB/Spark audit
# (crmlab.engines.audit), so every engine reports bad input in the same words.
def empty_message(name: str) -> str:
    """The message for a table with columns but no rows."""
    return f"{name} is empty: it has columns but no rows. Pass at least one row."


def missing_values_message(name: str, column, n: int, where: str = "") -> str:
    """The message for ``n`` missing values in ``column`` (``where``: e.g. " (first at index 3)")."""
    return (f"{name} column {column!r} has {n} missing value(s){where}. Drop those rows or fill them before "
            f"calling this function; crmlab does not drop rows silently.")


def numbers_not_dates_message(name: str, column, dtype) -> str:
    """The message for a date column that holds numbers."""
    return (f"{name} column {column!r} holds numbers ({dtype}), not dates. "
            f"Convert it first, e.g. pd.to_datetime({name}[{column!r}], unit='D', origin=...).")


def not_dates_message(name: str, column, n: int, example) -> str:
    """The message for ``n`` values of a date column that do not parse."""
    return (f"{name} column {column!r} has {n} value(s) that are not dates, e.g. {_py(example)!r}. "
            f"Fix or drop those rows, or pass format=... to pd.to_datetime yourself.")


def not_numeric_message(name: str, column, dtype, example) -> str:
    """The message for a column that must be numeric but is not."""
    return (f"{name} column {column!r} must be numeric, got dtype {dtype} (e.g. {_py(example)!r}). "
            f"Convert it with pd.to_numeric({name}[{column!r}]) after removing currency signs "
            f"or thousands separators.")


def infinite_message(name: str, column) -> str:
    """The message for infinite values in a numeric column."""
    return f"{name} column {column!r} contains infinite values; remove or fix them."


def negative_message(name: str, column, n: int, example) -> str:
    """The message for ``n`` negative amounts (refunds)."""
    return (f"{name} column {column!r} has {n} negative value(s) (e.g. {_py(example)!r}). Negative amounts are "
            f"usually refunds: net them against the original purchase, or drop them explicitly, before "
            f"computing customer summaries.")


def late_events_message(name: str, column, n: int, end: pd.Timestamp, latest) -> str:
    """The message for ``n`` events after the day of ``observation_end``."""
    return (f"{name} has {n} event(s) in {column!r} after observation_end={pd.Timestamp(end).date()} "
            f"(its whole day counts; latest {pd.Timestamp(latest)}). Filter them out first, "
            f"move observation_end later, or pass exclude_after=True for a point-in-time view.")


def _require_frame(df, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}. "
            f"Build one with pd.DataFrame(...) or read it with pd.read_csv(...)."
        )
    check_unique_columns(df.columns, name=name)


def check_unique_columns(columns: Iterable, *, name: str = "data") -> None:
    """Raise ``ValueError`` when a column name occurs more than once.

    >>> check_unique_columns(["customer_id", "amount", "amount"], name="transactions")
    Traceback (most recent call last):
    ...
    ValueError: transactions has the column name 'amount' 2 times; column names must be unique. Rename or drop the duplicates (e.g. df.loc[:, ~df.columns.duplicated()]).
    """
    seen: dict = {}
    for col in columns:
        seen[col] = seen.get(col, 0) + 1
    dupes = [c for c, n in seen.items() if n > 1]
    if dupes:
        raise ValueError(
            f"{name} has the column name {_py(dupes[0])!r} {seen[dupes[0]]} times; column names must be unique. "
            f"Rename or drop the duplicates (e.g. df.loc[:, ~df.columns.duplicated()])."
        )


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, name: str = "data") -> None:
    """Raise ``ValueError`` when any of ``columns`` is missing from ``df``.

    The message lists the columns that exist and suggests close names.

    >>> require_columns(pd.DataFrame({"customer_id": [1]}), ["customer_id"])
    """
    _require_frame(df, name)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        col = missing[0]
        raise ValueError(
            f"{name} has no column {col!r}.{suggest_names(col, df.columns)} "
            f"Columns present: {list(map(str, df.columns))}. "
            f"Rename your column or pass its name with the matching *_col argument."
        )


def check_dates(df: pd.DataFrame, columns: Iterable[str], *, name: str = "data") -> pd.DataFrame:
    """Return a copy of ``df`` with ``columns`` parsed as datetimes.

    Strings and datetimes are accepted; values that cannot be parsed raise a
    ``ValueError`` naming the column and the first bad value.
    """
    out = df.copy(deep=False)  # copy-on-write: never alters the caller's frame
    for col in columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            if getattr(s.dt, "tz", None) is not None:
                out[col] = s.dt.tz_localize(None)
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise TypeError(numbers_not_dates_message(name, col, s.dtype))
        parsed = pd.to_datetime(s, errors="coerce")
        bad = s.notna() & parsed.isna()
        if bad.any():
            example = _py(s[bad].iloc[0])
            raise ValueError(not_dates_message(name, col, int(bad.sum()), example))
        out[col] = parsed
    return out


def check_numeric(df: pd.DataFrame, columns: Iterable[str], *, name: str = "data") -> None:
    """Raise ``TypeError`` when a column is not numeric (strings such as ``"12,50"``)."""
    for col in columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            example = _py(s.dropna().iloc[0]) if s.notna().any() else None
            raise TypeError(not_numeric_message(name, col, s.dtype, example))
        values = s.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(values).any():
            raise ValueError(infinite_message(name, col))


def check_no_missing(df: pd.DataFrame, columns: Iterable[str], *, name: str = "data") -> None:
    """Raise ``ValueError`` when ``columns`` contain missing values."""
    for col in columns:
        n = int(df[col].isna().sum())
        if n:
            first = df.index[df[col].isna()][0]
            raise ValueError(missing_values_message(name, col, n, f" (first at index {first!r})"))


def check_nonnegative(df: pd.DataFrame, columns: Iterable[str], *, name: str = "data") -> None:
    """Raise ``ValueError`` for negative values (refunds, returns)."""
    for col in columns:
        neg = df[col] < 0
        if neg.any():
            raise ValueError(negative_message(name, col, int(neg.sum()), df.loc[neg, col].iloc[0]))


def check_unique(df: pd.DataFrame, columns: str | Sequence[str], *, name: str = "data") -> None:
    """Raise ``ValueError`` when the key ``columns`` is duplicated."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    dup = df.duplicated(subset=cols, keep=False)
    if dup.any():
        example = [_py(v) for v in df.loc[dup, cols].iloc[0].tolist()]
        raise ValueError(
            f"{name} has {int(dup.sum())} rows with a duplicated key {cols} (e.g. {example}). "
            f"Each key must appear once: deduplicate with drop_duplicates({cols!r}) or "
            f"aggregate the duplicates first."
        )


def check_timestamp(value: Any, *, name: str = "observation_end") -> pd.Timestamp:
    """Parse ``value`` as a single timestamp or raise an error naming ``name``."""
    if value is None:
        raise ValueError(f"{name} is required: pass a date such as {name}='2024-12-31'.")
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, Real) and not isinstance(value, np.datetime64)
    ):
        raise TypeError(f"{name} must be a date (string, datetime or Timestamp), got {value!r}.")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}={value!r} is not a date; use ISO format like '2024-12-31'.") from exc
    if pd.isna(ts):
        raise ValueError(f"{name} is missing (NaT); pass a date such as '2024-12-31'.")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def check_not_after(
    df: pd.DataFrame, column: str, limit: pd.Timestamp, *, name: str = "data", limit_name: str = "observation_end"
) -> None:
    """Raise ``ValueError`` when events in ``column`` fall after ``limit``."""
    late = df[column] > limit
    if late.any():
        raise ValueError(
            f"{name} has {int(late.sum())} event(s) in {column!r} after {limit_name}={limit.date()} "
            f"(latest {df.loc[late, column].max()}). Filter them out first "
            f"({name}[{name}[{column!r}] <= {limit_name}]) or move {limit_name} later."
        )


def check_frame(
    df: pd.DataFrame,
    *,
    required: Iterable[str] = (),
    dates: Iterable[str] = (),
    numeric: Iterable[str] = (),
    not_missing: Iterable[str] = (),
    nonnegative: Iterable[str] = (),
    unique: str | Sequence[str] | None = None,
    not_after: tuple[str, pd.Timestamp] | None = None,
    allow_empty: bool = False,
    name: str = "data",
) -> pd.DataFrame:
    """Validate a DataFrame input and return a checked copy with dates parsed.

    Parameters
    ----------
    required : columns that must exist.
    dates : columns parsed to ``datetime64``.
    numeric : columns that must be numeric.
    not_missing : columns that must have no missing values (ids, dates, amounts).
    nonnegative : numeric columns that must be ``>= 0``.
    unique : column(s) forming a key that must not repeat.
    not_after : ``(column, timestamp)``; no event may fall after the timestamp.
    allow_empty : accept a frame with no rows.
    name : what to call the frame in error messages (e.g. ``"transactions"``).
    """
    _require_frame(df, name)
    dates, numeric, not_missing, nonnegative = map(list, (dates, numeric, not_missing, nonnegative))
    required = list(dict.fromkeys([*required, *dates, *numeric, *not_missing, *nonnegative]))
    require_columns(df, required, name=name)
    if not allow_empty and len(df) == 0:
        raise ValueError(empty_message(name))
    check_no_missing(df, not_missing, name=name)
    out = check_dates(df, dates, name=name) if dates else df.copy(deep=False)
    check_numeric(out, numeric, name=name)
    check_nonnegative(out, nonnegative, name=name)
    if unique is not None:
        check_unique(out, unique, name=name)
    if not_after is not None:
        check_not_after(out, not_after[0], check_timestamp(not_after[1]), name=name)
    return out


def check_array(
    values: Any,
    *,
    name: str = "values",
    allow_nan: bool = False,
    min_size: int = 1,
    dtype: DTypeLike = float,
) -> np.ndarray:
    """Return ``values`` as a 1-D float array, rejecting strings, NaN and empty input.

    >>> check_array([1, 2, 3]).tolist()
    [1.0, 2.0, 3.0]
    """
    if isinstance(values, (pd.DataFrame,)):
        raise TypeError(f"{name} must be one-dimensional (a list, array or Series), got a DataFrame; pick one column.")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of numbers, got a string {values!r}.")
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values, dtype=object)
    if arr.ndim != 1:
        if arr.ndim == 0:
            raise TypeError(f"{name} must be a sequence of numbers, got a single value {values!r}.")
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}; flatten it or pick one column.")
    try:
        out = pd.to_numeric(pd.Series(arr), errors="raise").to_numpy(dtype=dtype, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        bad = _py(next((v for v in arr if not _is_number(v)), None))
        raise TypeError(f"{name} must be numeric; found {bad!r}. Convert with pd.to_numeric first.") from exc
    if any(isinstance(v, (bool, np.bool_)) for v in arr[:1000]) and dtype is float:
        out = out.astype(float)
    if out.size < min_size:
        raise ValueError(f"{name} is empty: pass at least {min_size} value(s).")
    if not allow_nan and np.isnan(out).any():
        raise ValueError(
            f"{name} has {int(np.isnan(out).sum())} missing value(s); drop them first "
            f"(crmlab does not drop values silently)."
        )
    if np.isinf(out).any():
        raise ValueError(f"{name} contains infinite values; remove them first.")
    return out


def _is_number(v) -> bool:
    """True for what pd.to_numeric accepts: numbers, numeric strings and missing values."""
    if v is None:
        return True
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def check_same_length(**arrays: Any) -> int:
    """Raise ``ValueError`` unless all keyword arrays have the same length; return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"Inputs must have the same length: {desc}. Align them on the customer id first.")
    return next(iter(lengths.values()), 0)


def check_positive_int(value: Any, *, name: str, minimum: int = 1) -> int:
    """Return ``value`` as ``int`` if it is an integer ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def check_fraction(value: Any, *, name: str, inclusive: bool = False) -> float:
    """Return ``value`` as float if it lies in (0, 1) (or [0, 1] with ``inclusive``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {value!r}.")
    v = float(value)
    ok = 0 <= v <= 1 if inclusive else 0 < v < 1
    if not ok:
        bounds = "[0, 1]" if inclusive else "(0, 1)"
        raise ValueError(f"{name} must lie in {bounds}, got {value}. Give rates as fractions (5% -> 0.05).")
    return float(value)


def check_in_range(values: np.ndarray, *, low: float, high: float, name: str = "values") -> None:
    """Raise ``ValueError`` when any value lies outside ``[low, high]``."""
    arr = np.asarray(values, dtype=float)
    bad = (arr < low) | (arr > high)
    if bad.any():
        raise ValueError(
            f"{name} must lie in [{low:g}, {high:g}]; {int(bad.sum())} value(s) do not "
            f"(e.g. {arr[bad][0]:g}). Check the scale you passed."
        )


def check_choice(value: _T, choices: Iterable, *, name: str) -> _T:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError``."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of {choices}.{suggest_names(value, map(str, choices))}")
    return value


def check_is_fitted(estimator: object, attributes: str | Sequence[str] = "params_") -> None:
    """Raise scikit-learn's ``NotFittedError`` unless ``estimator`` has the fitted ``attributes``.

    The same contract as :func:`sklearn.utils.validation.check_is_fitted` with named
    attributes, usable on objects that are not estimators, and a message that says what to do.
    """
    attrs = [attributes] if isinstance(attributes, str) else list(attributes)
    if not all(getattr(estimator, a, None) is not None for a in attrs):
        raise NotFittedError(f"This {type(estimator).__name__} is not fitted yet. Call .fit(...) with your data first.")


def check_transactions(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    observation_end: Any = None,
    exclude_after: bool = False,
    extra: Iterable[str] = (),
    name: str = "transactions",
) -> pd.DataFrame:
    """Validate a transaction log the one way every crmlab function does; return a checked copy.

    - ``customer_col``, ``date_col`` (and ``amount_col``) must exist and have no missing values;
    - dates are parsed; amounts must be numeric, finite and **not negative**: refunds and
      returns must be netted against their orders (or filtered) before analysis, because a
      negative "purchase" would silently lower counts and spend;
    - with ``observation_end``: events after its day raise an error, or are left out with
      ``exclude_after=True`` (a point-in-time view of a longer log).

    Returns only the needed columns (``customer_col``, ``date_col``, ``amount_col``, ``extra``).

    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [-5.0]})
    >>> check_transactions(tx)
    Traceback (most recent call last):
    ...
    ValueError: transactions column 'amount' has 1 negative value(s) (e.g. -5.0). Negative amounts are usually refunds: net them against the original purchase, or drop them explicitly, before computing customer summaries.
    """
    if not isinstance(exclude_after, (bool, np.bool_)):
        raise TypeError(f"exclude_after must be True or False, got {exclude_after!r}.")
    extra = [c for c in extra if c not in (customer_col, date_col, amount_col)]
    required = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    _require_frame(transactions, name)
    require_columns(transactions, [*required, *extra], name=name)
    tx = check_frame(
        transactions[list(dict.fromkeys([*required, *extra]))],
        required=required,
        dates=[date_col],
        numeric=[amount_col] if amount_col is not None else [],
        not_missing=required,
        nonnegative=[amount_col] if amount_col is not None else [],
        name=name,
    )
    if observation_end is not None:
        end = check_timestamp(observation_end, name="observation_end")
        bound = end.normalize() + pd.Timedelta(days=1)
        late = tx[date_col] >= bound
        if late.any():
            if not exclude_after:
                raise ValueError(late_events_message(name, date_col, int(late.sum()), end, tx.loc[late, date_col].max()))
            tx = tx[~late]
    return tx
