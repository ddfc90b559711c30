"""Tests for crmlab.time: the one definition of time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import time as T


def test_units_table_and_month_length():
    assert T.TIME_UNITS == {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
    assert T.convert(1, "M", "D") == 30.4375
    assert T.convert(12, "M", "D") == pytest.approx(365.25)
    assert T.convert(np.array([7.0, 14.0]), "D", "W").tolist() == [1.0, 2.0]
    assert T.unit_timedelta("W") == pd.Timedelta(days=7)
    with pytest.raises(ValueError, match="time_unit='Y' is not allowed"):
        T.unit_days("Y")
    with pytest.raises(TypeError, match="time_unit must be one of"):
        T.check_time_unit(7)
    with pytest.raises(TypeError, match="needs a number"):
        T.convert("3", "D", "W")


def test_window_end_covers_the_whole_day():
    assert T.window_end("2024-12-31 08:00") == pd.Timestamp("2025-01-01")
    dates = pd.Series(pd.to_datetime(["2024-12-31 00:00", "2024-12-31 23:59:59.999999", "2025-01-01"], format="ISO8601"))
    assert T.after(dates, "2024-12-31").tolist() == [False, False, True]
    with pytest.raises(ValueError, match="observation_end is required"):
        T.window_end(None)
    with pytest.raises(ValueError, match="cutoff=.* is not a date"):
        T.day("soon", name="cutoff")


def test_to_days_converts_timedeltas_never_reads_microseconds():
    td = pd.Series(pd.to_timedelta(["1D", "12h", "90min"]))
    np.testing.assert_allclose(T.to_days(td), [1.0, 0.5, 0.0625])
    np.testing.assert_allclose(T.to_days(td.to_numpy()), [1.0, 0.5, 0.0625])
    np.testing.assert_allclose(T.to_days([pd.Timedelta(days=2), pd.Timedelta(hours=6)]), [2.0, 0.25])
    assert T.to_days(pd.Timedelta(days=3)).tolist() == [3.0]
    assert T.to_days(np.array([1, 2])).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="got dates"):
        T.to_days(pd.Series(pd.to_datetime(["2024-01-01"])))
    with pytest.raises(TypeError, match="got booleans"):
        T.to_days([True, False])
    with pytest.raises(TypeError, match="string"):
        T.to_days("3 days")


def test_check_same_unit():
    assert T.check_same_unit("W", "W") == "W"
    with pytest.raises(ValueError, match=r"time_unit='D' \(days\) does not match the model, which is in weeks"):
        T.check_same_unit("W", "D")
