"""The one definition of time in crmlab: windows, units and the names of dates.

**An end date covers its whole day.** ``observation_end="2024-12-31"`` includes a purchase at
2024-12-31 15:30; the window's exclusive bound is the next midnight (:func:`window_end`). The
same rule holds for every date that ends a period, in every function and engine.

**One name per meaning** (every function uses these parameter names)::

    | parameter | meaning |
    |---|---|
    | ``observation_end`` | the snapshot date a table describes: the last day of the observation window |
    | ``observation_start`` | the first day of the observation window |
    | ``cutoff`` | a train/test split: the cutoff day belongs to the training (calibration, feature) side; the outcome (holdout) period starts the next day |
    | ``horizon_days`` | length of an outcome window after a cutoff, in days |
    | ``lookback_days`` | length of a feature window that ends at a cutoff or observation end, in days |
    | ``inactivity_days`` | days without a purchase after which a customer counts as lapsed |
    | ``time_unit`` | unit of BTYD durations (``recency``, ``T``): one of :data:`TIME_UNITS` |
    | ``confidence`` | level of a returned interval (0.95); hypothesis tests take ``alpha``, their significance level |
    | ``random_state`` | seed of a randomised algorithm (a simulated dataset is named by its ``seed``) |

**One table of units**: :data:`TIME_UNITS` gives the length of each unit in days; a month is
365.25 / 12 = 30.4375 days everywhere.

Examples
--------
>>> import pandas as pd
>>> window_end("2024-12-31")
Timestamp('2025-01-01 00:00:00')
>>> after(pd.Series(pd.to_datetime(["2024-12-31 15:30", "2025-01-01 00:00"])), "2024-12-31").tolist()
[False, True]
>>> convert(52, "W", "D"), round(convert(12, "M", "W"), 3)
(364.0, 52.179)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from crmlab.validation import check_choice, check_timestamp

__all__ = [
    "DateLike",
    "TIME_UNITS",
    "MONTH_DAYS",
    "check_time_unit",
    "unit_days",
    "unit_timedelta",
    "convert",
    "window_end",
    "after",
    "day",
    "to_days",
    "check_same_unit",
]

#: What a date parameter (``observation_end``, ``cutoff`` ...) accepts: a Timestamp, a date or
#: datetime, a numpy datetime64 or an ISO string such as ``"2024-12-31"``.
DateLike: TypeAlias = pd.Timestamp | datetime | date | np.datetime64 | str

#: Days in a month: the mean Gregorian month, used by every conversion.
MONTH_DAYS = 365.25 / 12

#: Length of each time unit in days.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": MONTH_DAYS}

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}


def check_time_unit(time_unit: str, *, name: str = "time_unit") -> str:
    """Return ``time_unit`` if it is one of :data:`TIME_UNITS`, else raise ``ValueError``.

    >>> check_time_unit("W")
    'W'
    """
    if not isinstance(time_unit, str):
        raise TypeError(f"{name} must be one of {list(TIME_UNITS)} (days, weeks, months), got {time_unit!r}.")
    return check_choice(time_unit, tuple(TIME_UNITS), name=name)


def unit_days(time_unit: str) -> float:
    """Length of ``time_unit`` in days.

    >>> unit_days("W")
    7.0
    """
    return TIME_UNITS[check_time_unit(time_unit)]


def unit_timedelta(time_unit: str) -> pd.Timedelta:
    """Length of ``time_unit`` as a :class:`pandas.Timedelta` (exact, not rounded).

    >>> unit_timedelta("W")
    Timedelta('7 days 00:00:00')
    """
    return pd.Timedelta(days=unit_days(time_unit))


def unit_name(time_unit: str) -> str:
    """The plural English name of a unit (``"weeks"``), for messages and labels."""
    return _UNIT_NAMES[check_time_unit(time_unit)]


def convert(value: ArrayLike, from_unit: str, to_unit: str) -> float | np.ndarray:
    """Convert a duration (number or array) from one unit to another.

    >>> convert(14, "D", "W")
    2.0
    """
    factor = unit_days(from_unit) / unit_days(to_unit)
    if np.ndim(value) == 0:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"convert needs a number of {unit_name(from_unit)}, got {value!r}.")
        return float(value) * factor
    return np.asarray(value, dtype=float) * factor


def day(date: DateLike, *, name: str = "observation_end") -> pd.Timestamp:
    """The calendar day (midnight) of a date-like value, validated.

    >>> day("2024-12-31 15:30")
    Timestamp('2024-12-31 00:00:00')
    """
    return check_timestamp(date, name=name).normalize()


def window_end(end: DateLike, *, name: str = "observation_end") -> pd.Timestamp:
    """The exclusive bound of a window that ends on the day of ``end``: the next midnight.

    An event belongs to the window exactly when ``event < window_end(end)``.
    """
    return day(end, name=name) + pd.Timedelta(days=1)


def after(dates: pd.Series, end: DateLike, *, name: str = "observation_end") -> pd.Series:
    """Boolean mask of the events that fall after the day of ``end`` (outside the window)."""
    if not isinstance(dates, pd.Series):
        dates = pd.Series(dates)
    return dates >= window_end(end, name=name)


def to_days(durations: ArrayLike | pd.Series, *, name: str = "durations") -> np.ndarray:
    """Durations as float days: timedeltas are converted, numbers are taken as days.

    Timedelta values (``pd.Timedelta``, ``numpy.timedelta64``, a timedelta Series) are
    converted exactly, never read as their internal microseconds or nanoseconds.

    >>> to_days(pd.Series(pd.to_timedelta(["36h", "7D"]))).tolist()
    [1.5, 7.0]
    >>> to_days([3, 4.5]).tolist()
    [3.0, 4.5]
    """
    if isinstance(durations, (str, bytes)):
        raise TypeError(f"{name} must be numbers of days or timedeltas, got a string {durations!r}.")
    if isinstance(durations, pd.DataFrame):
        raise TypeError(f"{name} must be one-dimensional (a Series or array), got a DataFrame; pick one column.")
    if isinstance(durations, (pd.Timedelta, np.timedelta64)):
        durations = [durations]
    if isinstance(durations, pd.Series) and pd.api.types.is_timedelta64_dtype(durations):
        return (durations / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    arr = np.asarray(durations.to_numpy() if isinstance(durations, (pd.Series, pd.Index)) else durations)
    if np.issubdtype(arr.dtype, np.timedelta64):
        return arr / np.timedelta64(1, "D")
    if arr.dtype == object and arr.size and all(isinstance(v, (pd.Timedelta, np.timedelta64)) or pd.isna(v) for v in arr.ravel()):
        return (pd.to_timedelta(pd.Series(arr.ravel())) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    if arr.dtype.kind in "biuf":
        if arr.dtype.kind == "b":
            raise TypeError(f"{name} must be numbers of days or timedeltas, got booleans.")
        return arr.astype(float)
    if np.issubdtype(arr.dtype, np.datetime64):
        raise TypeError(f"{name} must be durations, got dates ({arr.dtype}); subtract a start date first.")
    raise TypeError(f"{name} must be numbers of days or timedeltas, got dtype {arr.dtype}.")


def check_same_unit(expected: str, given: str | None, *, what: str = "the model") -> str:
    """Raise ``ValueError`` when a unit ``given`` by the caller differs from the ``expected`` one.

    >>> check_same_unit("W", None)
    'W'
    """
    check_time_unit(expected, name="time_unit")
    if given is None:
        return expected
    check_time_unit(given)
    if given != expected:
        raise ValueError(
            f"time_unit={given!r} ({unit_name(given)}) does not match {what}, which is in "
            f"{unit_name(expected)} ({expected!r}). Rebuild the summary with time_unit={expected!r} "
            f"or refit the model on a summary in {unit_name(given)}."
        )
    return expected
