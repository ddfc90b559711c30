"""Tests for crmlab.features: equality with lifetimes, hand-worked RFM, properties, validation."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlab as crm
from crmlab.features import calibration_holdout, customer_summary, rfm_table

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data


@pytest.fixture(scope="module")
def cdnow():
    return crm.load_cdnow()


def _lifetimes_summary(tx, end, *, weeks=False, amount=None, customer_col="customer_id", date_col="date"):
    return summary_data_from_transaction_data(
        tx, customer_col, date_col, monetary_value_col=amount, observation_period_end=end,
        freq="D", freq_multiplier=7 if weeks else 1,
    )


# ----------------------------------------------------------------------------- lifetimes equality
@pytest.mark.parametrize("end", ["1997-09-30", "1998-06-30"])
@pytest.mark.parametrize("unit", ["D", "W"])
@pytest.mark.parametrize("amount", [None, "amount"])
def test_summary_equals_lifetimes_on_cdnow(cdnow, end, unit, amount):
    tx = cdnow[cdnow["date"] <= end]
    ours = customer_summary(tx, observation_end=end, time_unit=unit, amount_col=amount)
    ref = _lifetimes_summary(cdnow, end, weeks=unit == "W", amount=amount).sort_index()
    _assert_same_summary(ours, ref)


def _assert_same_summary(ours, ref):
    """Counts and times equal to the last bit; the monetary mean within summation-order rounding."""
    exact = ["frequency", "recency", "T"]
    pd.testing.assert_frame_equal(ours[exact], ref[exact], check_exact=True)
    if "monetary_value" in ref:
        pd.testing.assert_frame_equal(ours, ref, check_exact=False, rtol=1e-14, atol=0)


def test_summary_reproduces_published_cdnow_table(cdnow):
    published = crm.load_cdnow("summary")
    tx = cdnow[cdnow["date"] <= "1997-09-30"]
    ours = customer_summary(tx, observation_end="1997-09-30", time_unit="W")
    assert ours.loc[1].round(2).tolist() == [2.0, 30.43, 38.86]
    pd.testing.assert_frame_equal(ours.round(2), published, check_exact=False, atol=1e-9)


def test_summary_equals_lifetimes_on_retail():
    data = crm.load_retail()
    tx = data.transactions
    end = data.observation_end
    for unit in ("D", "W"):
        ours = customer_summary(tx, observation_end=end, amount_col="amount", time_unit=unit)
        ref = _lifetimes_summary(tx, end, weeks=unit == "W", amount="amount")
        _assert_same_summary(ours, ref.sort_index())


def test_summary_merges_same_day_purchases_hand_worked():
    tx = pd.DataFrame({
        "cid": ["a", "a", "a", "a", "b"],
        "when": pd.to_datetime(format="ISO8601", arg=["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-08 10:00",
                                "2024-01-08 11:00", "2024-01-05"]),
        "spend": [10.0, 5.0, 20.0, 4.0, 7.0],
    })
    s = customer_summary(tx, customer_col="cid", date_col="when", amount_col="spend",
                         observation_end="2024-01-15", time_unit="W")
    assert s.index.name == "cid"
    assert s.loc["a"].tolist() == [1.0, 1.0, 2.0, 24.0]  # one repeat day (24 = 20 + 4), 7 and 14 days
    assert s.loc["b"].tolist() == [0.0, 0.0, 10 / 7, 0.0]
    assert (s.dtypes == "float64").all()


def test_observation_end_covers_its_whole_day():
    tx = pd.DataFrame({"customer_id": [1, 1], "date": pd.to_datetime(["2024-01-01", "2024-01-31 15:00"], format="ISO8601")})
    s = customer_summary(tx, observation_end="2024-01-31")
    assert s.loc[1].tolist() == [1.0, 30.0, 30.0]


# ----------------------------------------------------------------------------- calibration / holdout
@pytest.mark.parametrize("unit", ["D", "W"])
def test_calibration_holdout_equals_lifetimes(cdnow, unit):
    ours = calibration_holdout(cdnow, calibration_end="1997-09-30", observation_end="1998-06-30",
                               amount_col="amount", time_unit=unit)
    # lifetimes averages holdout amounts per order, we per purchase day: merge days first
    daily = cdnow.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    ref = calibration_and_holdout_data(daily, "customer_id", "date", calibration_period_end="1997-09-30",
                                       observation_period_end="1998-06-30", monetary_value_col="amount",
                                       freq="D", freq_multiplier=7 if unit == "W" else 1)
    pd.testing.assert_frame_equal(ours, ref[ours.columns].sort_index(), check_exact=False, rtol=1e-12)
    # (lifetimes needs a value column to count holdout days on pandas 3; only the counts are compared)
    ref_raw = calibration_and_holdout_data(cdnow, "customer_id", "date", calibration_period_end="1997-09-30",
                                           observation_period_end="1998-06-30", monetary_value_col="quantity",
                                           freq="D", freq_multiplier=7 if unit == "W" else 1)
    no_amount = calibration_holdout(cdnow, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit=unit)
    pd.testing.assert_frame_equal(no_amount, ref_raw[no_amount.columns].sort_index(), check_exact=False, rtol=1e-12)


def test_calibration_holdout_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 2, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-05", "2024-02-05", "2024-01-20", "2024-02-10"]),
        "amount": [10.0, 20.0, 3.0, 5.0, 9.0, 100.0],
    })
    ch = calibration_holdout(tx, calibration_end="2024-01-31", observation_end="2024-02-29", amount_col="amount")
    assert ch.index.tolist() == [1, 2]  # customer 3 first bought in the holdout period
    assert ch.loc[1].to_dict() == {"frequency_cal": 1.0, "recency_cal": 10.0, "T_cal": 30.0,
                                   "monetary_value_cal": 20.0, "frequency_holdout": 1.0,
                                   "monetary_value_holdout": 8.0, "duration_holdout": 29.0}
    assert ch.loc[2, "frequency_holdout"] == 0.0 and ch.loc[2, "monetary_value_holdout"] == 0.0


def test_calibration_end_must_precede_observation_end(cdnow):
    with pytest.raises(ValueError, match="must fall on a day before observation_end"):
        calibration_holdout(cdnow, calibration_end="1998-06-30", observation_end="1998-06-30")


# ----------------------------------------------------------------------------- RFM
def test_rfm_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-02-01 10:00", "2024-02-01 16:00", "2024-03-30", "2024-03-31 20:00"], format="ISO8601"),
        "amount": [10.0, 15.0, 5.0, 100.0, 1.0],
    })
    rfm = rfm_table(tx, as_of="2024-03-31")
    expected = pd.DataFrame(
        {"recency_days": [59, 1, 0], "frequency": [3, 1, 1], "monetary": [30.0, 100.0, 1.0]},
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    pd.testing.assert_frame_equal(rfm, expected)


def test_rfm_orders_after_as_of_raise_or_are_excluded():
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0],
                       "date": pd.to_datetime(["2024-01-01", "2024-05-01", "2024-06-01"])})
    with pytest.raises(ValueError, match=r"2 event\(s\) in 'date' after as_of=2024-03-31"):
        rfm_table(tx, as_of="2024-03-31")
    rfm = rfm_table(tx, as_of="2024-03-31", exclude_after=True)
    assert rfm.index.tolist() == [1]
    assert rfm.loc[1].tolist() == [90, 1, 10.0]
    assert len(tx) == 3  # input untouched
    with pytest.raises(ValueError, match="no orders on or before as_of"):
        rfm_table(tx, as_of="2023-12-31", exclude_after=True)
    with pytest.raises(TypeError, match="exclude_after must be True or False"):
        rfm_table(tx, as_of="2024-12-31", exclude_after="yes")


def test_rfm_matches_summary_counts(cdnow):
    """Orders in RFM versus purchase days in the summary: equal when no same-day repeats."""
    rfm = rfm_table(cdnow, as_of="1998-06-30")
    s = customer_summary(cdnow, observation_end="1998-06-30")
    n_days = cdnow.groupby("customer_id")["date"].nunique()
    assert (s["frequency"] + 1 == n_days.sort_index()).all()
    assert (rfm["frequency"] == cdnow.groupby("customer_id").size()).all()
    last = cdnow.groupby("customer_id")["date"].max()
    assert (rfm["recency_days"] == (pd.Timestamp("1998-06-30") - last).dt.days).all()


# ----------------------------------------------------------------------------- properties
@st.composite
def _logs(draw):
    n = draw(st.integers(1, 40))
    ids = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    offsets = draw(st.lists(st.integers(0, 60 * 24 * 90), min_size=n, max_size=n))  # minutes over 90 days
    amounts = draw(st.lists(st.floats(0.01, 1000, allow_nan=False), min_size=n, max_size=n))
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(offsets, unit="min")
    return pd.DataFrame({"customer_id": ids, "date": dates.astype("datetime64[us]"), "amount": amounts})


@settings(max_examples=60, deadline=None)
@given(_logs(), st.sampled_from(["D", "W"]))
def test_summary_properties(tx, unit):
    s = customer_summary(tx, amount_col="amount", observation_end="2024-04-01", time_unit=unit)
    assert ((s["recency"] >= 0) & (s["recency"] <= s["T"])).all()
    distinct_days = tx.assign(d=tx["date"].dt.normalize()).groupby("customer_id")["d"].nunique()
    assert (s["frequency"] == distinct_days.sort_index() - 1).all()
    assert ((s["monetary_value"] > 0) == (s["frequency"] > 0)).all()
    assert sorted(s.index) == sorted(tx["customer_id"].unique())


# ----------------------------------------------------------------------------- validation
_TX = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-01-01", "2024-01-02"]), "amount": [1.0, 2.0]})


@pytest.mark.parametrize("func, kwargs", [
    (customer_summary, {"observation_end": "2024-12-31", "amount_col": "amount"}),
    (rfm_table, {"as_of": "2024-12-31"}),
    (calibration_holdout, {"calibration_end": "2024-06-30", "observation_end": "2024-12-31", "amount_col": "amount"}),
])
def test_validation_errors(func, kwargs):
    with pytest.raises(ValueError, match="has no column 'customer_id'.*Did you mean 'Customer_ID'"):
        func(_TX.rename(columns={"customer_id": "Customer_ID"}), **kwargs)
    with pytest.raises(TypeError, match="column 'date' holds numbers"):
        func(_TX.assign(date=[1, 2]), **kwargs)
    with pytest.raises(ValueError, match="not dates"):
        func(_TX.assign(date=["2024-01-01", "soon"]), **kwargs)
    with pytest.raises(ValueError, match="negative value"):
        func(_TX.assign(amount=[1.0, -2.0]), **kwargs)
    with pytest.raises(TypeError, match="must be numeric"):
        func(_TX.assign(amount=["1,0", "2"]), **kwargs)
    with pytest.raises(ValueError, match="empty"):
        func(_TX.iloc[:0], **kwargs)
    with pytest.raises(ValueError, match="missing value"):
        func(_TX.assign(customer_id=[1, None]), **kwargs)
    with pytest.raises(ValueError, match="after"):
        func(_TX.assign(date=pd.to_datetime(["2024-01-01", "2025-03-01"])), **kwargs)
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        func(_TX.to_dict(), **kwargs)
    with pytest.raises(ValueError, match="engine='polars' is not allowed"):
        func(_TX, engine="polars", **kwargs)


def test_bad_dates_and_units():
    with pytest.raises(ValueError, match="observation_end is required"):
        customer_summary(_TX, observation_end=None)
    with pytest.raises(ValueError, match="not a date"):
        customer_summary(_TX, observation_end="end of year")
    with pytest.raises(ValueError, match="time_unit='M' is not allowed"):
        customer_summary(_TX, observation_end="2024-12-31", time_unit="M")
    with pytest.raises(TypeError, match="as_of must be a date"):
        rfm_table(_TX, as_of=2024)


# ----------------------------------------------------------------------------- engine dispatch
@pytest.fixture
def fake_engines(monkeypatch):
    calls = []
    mod = types.ModuleType("crmlab.engines")

    def record(name):
        def f(transactions, **kwargs):
            calls.append((name, transactions, kwargs))
            return name
        return f

    for name in ("customer_summary", "rfm_table", "calibration_holdout", "cohort_retention"):
        setattr(mod, name, record(name))
    monkeypatch.setitem(sys.modules, "crmlab.engines", mod)
    monkeypatch.setattr(crm, "engines", mod, raising=False)
    return calls


def test_paths_go_to_duckdb_and_keywords_are_passed(fake_engines):
    assert customer_summary("logs/*.parquet", observation_end="2024-12-31", amount_col="amount", time_unit="W") \
        == "customer_summary"
    name, source, kwargs = fake_engines[-1]
    assert source == "logs/*.parquet"
    assert kwargs == {"engine": "duckdb", "customer_col": "customer_id", "date_col": "date", "amount_col": "amount",
                      "observation_end": pd.Timestamp("2024-12-31"), "time_unit": "W"}
    rfm_table(_TX, as_of="2024-12-31", engine="spark")
    assert fake_engines[-1][2]["engine"] == "spark" and fake_engines[-1][2]["exclude_after"] is False
    calibration_holdout(["a.csv", "b.csv"], calibration_end="2024-06-30", observation_end="2024-12-31")
    assert fake_engines[-1][0] == "calibration_holdout" and fake_engines[-1][2]["engine"] == "duckdb"
    import ibis

    con = ibis.duckdb.connect()
    customer_summary(_TX, observation_end="2024-12-31", engine=con)
    assert fake_engines[-1][2]["engine"] is con
    with pytest.raises(TypeError, match="engine='pandas' needs a pandas DataFrame"):
        customer_summary("logs.csv", observation_end="2024-12-31", engine="pandas")


def test_inputs_are_not_modified(cdnow):
    before = cdnow.copy()
    customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    rfm_table(cdnow, as_of="1998-06-30")
    calibration_holdout(cdnow, calibration_end="1997-09-30", observation_end="1998-06-30", amount_col="amount")
    pd.testing.assert_frame_equal(cdnow, before)
    assert np.issubdtype(cdnow["date"].dtype, np.datetime64)
