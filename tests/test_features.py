"""Tests for crmlab.features: equality with lifetimes, hand-worked RFM, properties, validation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlab as crm
from crmlab.features import calibration_holdout, customer_features, customer_summary, rfm_table

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
    ours = calibration_holdout(cdnow, cutoff="1997-09-30", observation_end="1998-06-30",
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
    no_amount = calibration_holdout(cdnow, cutoff="1997-09-30", observation_end="1998-06-30", time_unit=unit)
    pd.testing.assert_frame_equal(no_amount, ref_raw[no_amount.columns].sort_index(), check_exact=False, rtol=1e-12)


def test_calibration_holdout_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 2, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-05", "2024-02-05", "2024-01-20", "2024-02-10"]),
        "amount": [10.0, 20.0, 3.0, 5.0, 9.0, 100.0],
    })
    ch = calibration_holdout(tx, cutoff="2024-01-31", observation_end="2024-02-29", amount_col="amount")
    assert ch.index.tolist() == [1, 2]  # customer 3 first bought in the holdout period
    assert ch.loc[1].to_dict() == {"frequency_cal": 1.0, "recency_cal": 10.0, "T_cal": 30.0,
                                   "monetary_value_cal": 20.0, "frequency_holdout": 1.0,
                                   "monetary_value_holdout": 8.0, "duration_holdout": 29.0}
    assert ch.loc[2, "frequency_holdout"] == 0.0 and ch.loc[2, "monetary_value_holdout"] == 0.0


def test_calibration_end_must_precede_observation_end(cdnow):
    with pytest.raises(ValueError, match="must fall on a day before observation_end"):
        calibration_holdout(cdnow, cutoff="1998-06-30", observation_end="1998-06-30")


# ----------------------------------------------------------------------------- RFM
def test_rfm_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-02-01 10:00", "2024-02-01 16:00", "2024-03-30", "2024-03-31 20:00"], format="ISO8601"),
        "amount": [10.0, 15.0, 5.0, 100.0, 1.0],
    })
    rfm = rfm_table(tx, observation_end="2024-03-31")
    expected = pd.DataFrame(
        {"recency_days": [59, 1, 0], "n_orders": [3, 1, 1], "total_spend": [30.0, 100.0, 1.0]},
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    pd.testing.assert_frame_equal(rfm, expected)


def test_rfm_orders_after_as_of_raise_or_are_excluded():
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 30.0, 5.0],
                       "date": pd.to_datetime(["2024-01-01", "2024-05-01", "2024-06-01"])})
    with pytest.raises(ValueError, match=r"2 event\(s\) in 'date' after observation_end=2024-03-31"):
        rfm_table(tx, observation_end="2024-03-31")
    rfm = rfm_table(tx, observation_end="2024-03-31", exclude_after=True)
    assert rfm.index.tolist() == [1]
    assert rfm.loc[1].tolist() == [90, 1, 10.0]
    assert len(tx) == 3  # input untouched
    with pytest.raises(ValueError, match="no orders on or before observation_end"):
        rfm_table(tx, observation_end="2023-12-31", exclude_after=True)
    with pytest.raises(TypeError, match="exclude_after must be True or False"):
        rfm_table(tx, observation_end="2024-12-31", exclude_after="yes")


def test_rfm_matches_summary_counts(cdnow):
    """Orders in RFM versus purchase days in the summary: equal when no same-day repeats."""
    rfm = rfm_table(cdnow, observation_end="1998-06-30")
    s = customer_summary(cdnow, observation_end="1998-06-30")
    n_days = cdnow.groupby("customer_id")["date"].nunique()
    assert (s["frequency"] + 1 == n_days.sort_index()).all()
    assert (rfm["n_orders"] == cdnow.groupby("customer_id").size()).all()
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
    (rfm_table, {"observation_end": "2024-12-31"}),
    (customer_features, {"observation_end": "2024-12-31"}),
    (calibration_holdout, {"cutoff": "2024-06-30", "observation_end": "2024-12-31", "amount_col": "amount"}),
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
    if func is not customer_features:
        with pytest.raises(ValueError, match="engine='polars' is not allowed"):
            func(_TX, engine="polars", **kwargs)
    with pytest.raises(ValueError, match="column name 'amount' 2 times"):
        func(pd.concat([_TX, _TX[["amount"]]], axis=1), **kwargs)
    with pytest.raises(ValueError, match="infinite"):
        func(_TX.assign(amount=[1.0, np.inf]), **kwargs)


def test_bad_dates_and_units():
    with pytest.raises(ValueError, match="observation_end is required"):
        customer_summary(_TX, observation_end=None)
    with pytest.raises(ValueError, match="not a date"):
        customer_summary(_TX, observation_end="end of year")
    with pytest.raises(ValueError, match="time_unit='Y' is not allowed"):
        customer_summary(_TX, observation_end="2024-12-31", time_unit="Y")
    with pytest.raises(TypeError, match="observation_end must be a date"):
        rfm_table(_TX, observation_end=2024)


# ----------------------------------------------------------------------------- engine dispatch
@pytest.fixture
def fake_backend(monkeypatch):
    """Record what the front door hands to the engines' backend."""
    calls = []
    from crmlab.engines import backend

    def run(kind, transactions, **kwargs):
        calls.append((kind, transactions, kwargs))
        return pd.DataFrame()

    monkeypatch.setattr(backend, "run", run)
    return calls


def test_paths_go_to_duckdb_and_keywords_are_passed(fake_backend):
    out = customer_summary("logs/*.parquet", observation_end="2024-12-31", amount_col="amount", time_unit="W")
    assert out.attrs["time_unit"] == "W"
    kind, source, kwargs = fake_backend[-1]
    assert (kind, source) == ("customer_summary", "logs/*.parquet")
    assert kwargs == {"engine": "duckdb", "customer_col": "customer_id", "date_col": "date", "amount_col": "amount",
                      "observation_end": pd.Timestamp("2024-12-31"), "time_unit": "W"}
    rfm_table(_TX, observation_end="2024-12-31", engine="spark")
    assert fake_backend[-1][2]["engine"] == "spark" and fake_backend[-1][2]["exclude_after"] is False
    calibration_holdout(["a.csv", "b.csv"], cutoff="2024-06-30", observation_end="2024-12-31")
    assert fake_backend[-1][0] == "calibration_holdout" and fake_backend[-1][2]["engine"] == "duckdb"
    assert fake_backend[-1][2]["cutoff"] == pd.Timestamp("2024-06-30")
    with pytest.raises(TypeError, match="engine='pandas' needs a pandas DataFrame"):
        customer_summary("logs.csv", observation_end="2024-12-31", engine="pandas")


def test_inputs_are_not_modified(cdnow):
    before = cdnow.copy()
    customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    rfm_table(cdnow, observation_end="1998-06-30")
    calibration_holdout(cdnow, cutoff="1997-09-30", observation_end="1998-06-30", amount_col="amount")
    pd.testing.assert_frame_equal(cdnow, before)
    assert np.issubdtype(cdnow["date"].dtype, np.datetime64)


# ----------------------------------------------------------------------------- customer_features
def test_customer_features_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 2],
        "date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-03-25", "2024-03-31 23:59"], format="ISO8601"),
        "amount": [10.0, 20.0, 30.0, 5.0],
        "discount": [0.0, 1.0, 0.0, 0.0],
        "channel": ["web", "store", "web", "app"],
    })
    f = customer_features(tx, observation_end="2024-03-31", lookback_days=7, discount_col="discount",
                          channel_col="channel")
    one = f.loc[1]
    # 2024-03-25 to 2024-03-31 is 6 days; 2024-01-01 to 2024-03-31 is 90 days
    assert (one["recency_days"], one["tenure_days"], one["n_orders"], one["n_purchase_days"]) == (6, 90, 3, 2)
    assert one["total_spend"] == 60.0 and one["mean_order_value"] == 20.0
    assert one["orders_per_month"] == pytest.approx(3 / (91 / 30.4375))
    # the last 7 days up to the 31st are 25th..31st: one order of customer 1, one of customer 2
    assert (one["n_orders_last_7d"], one["spend_last_7d"]) == (1, 30.0)
    assert f.loc[2, "n_orders_last_7d"] == 1 and f.loc[2, "recency_days"] == 0
    assert one["discount_share"] == pytest.approx(1 / 3)
    assert (one["n_channels"], one["main_channel"]) == (2, "web")
    assert one["share_web"] == pytest.approx(2 / 3) and f.loc[2, "share_app"] == 1.0
    # a new customer's first month counts fully
    assert f.loc[2, "orders_per_month"] == 1.0
    assert f["recency_days"].dtype == np.int64 and f["n_orders"].dtype == np.int64


def test_customer_features_category_shares_and_customers_table():
    tx = pd.DataFrame({"transaction_id": [10, 11], "customer_id": [1, 2], "amount": [30.0, 5.0],
                       "date": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    lines = pd.DataFrame({"transaction_id": [10, 10, 11], "product_id": ["a", "b", "a"],
                          "line_amount": [10.0, 20.0, 5.0]})
    products = pd.DataFrame({"product_id": ["a", "b"], "category": ["food", "toys"]})
    customers = pd.DataFrame({"customer_id": [1, 2, 3]})
    f = customer_features(tx, observation_end="2024-01-31", order_lines=lines, products=products,
                          customers=customers)
    assert f.loc[1, "share_toys"] == pytest.approx(2 / 3) and f.loc[2, "share_food"] == 1.0
    # a prospect: no orders, no spend, unknown recency (never a silent 0)
    assert f.loc[3, "n_orders"] == 0 and f.loc[3, "total_spend"] == 0.0
    assert pd.isna(f.loc[3, "recency_days"]) and pd.isna(f.loc[3, "first_purchase"])
    with pytest.raises(ValueError, match="missing from customers"):
        customer_features(tx, observation_end="2024-01-31", customers=[1])
    with pytest.raises(ValueError, match="both order_lines and products"):
        customer_features(tx, observation_end="2024-01-31", order_lines=lines)
    with pytest.raises(ValueError, match="missing from products"):
        customer_features(tx, observation_end="2024-01-31", order_lines=lines, products=products.iloc[:1])


def test_end_date_covers_its_whole_day():
    """A purchase at 23:59 on observation_end is inside the window for every builder."""
    tx = pd.DataFrame({"customer_id": [1, 1], "amount": [1.0, 2.0],
                       "date": pd.to_datetime(["2024-01-01", "2024-01-31 23:59:59"], format="ISO8601")})
    assert customer_features(tx, observation_end="2024-01-31").loc[1, "n_orders"] == 2
    assert rfm_table(tx, observation_end="2024-01-31").loc[1, "recency_days"] == 0
    assert customer_summary(tx, observation_end="2024-01-31").loc[1, "frequency"] == 1
    ch = calibration_holdout(tx, cutoff="2024-01-01", observation_end="2024-01-31")
    assert ch.loc[1, "frequency_holdout"] == 1
    with pytest.raises(ValueError, match="after observation_end"):
        customer_features(tx.assign(date=tx["date"] + pd.Timedelta(seconds=1)), observation_end="2024-01-31")


_CUSTOMERS = st.integers(1, 4)
_DAYS = st.integers(0, 60)
_AMOUNTS = st.floats(0, 500, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(before=st.lists(st.tuples(_CUSTOMERS, _DAYS, st.integers(0, 86399), _AMOUNTS), min_size=1, max_size=25),
       later=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 30), st.integers(0, 86399), _AMOUNTS),
                      min_size=1, max_size=10))
def test_point_in_time_safety(before, later):
    """Appending any events after observation_end never changes a feature (exclude_after=True)."""
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-01")

    def frame(rows, origin):
        return pd.DataFrame({
            "customer_id": [r[0] for r in rows],
            "date": [origin + pd.Timedelta(days=r[1], seconds=r[2]) for r in rows],
            "amount": [r[3] for r in rows],
            "discount": [float(r[3] > 250) for r in rows],
            "channel": ["web" if r[2] % 2 else "store" for r in rows],
        })

    known = frame(before, start)
    known = known[known["date"] < end + pd.Timedelta(days=1)]
    if known.empty:
        return
    longer = pd.concat([known, frame(later, end)], ignore_index=True)   # later events start after the end day
    kwargs = dict(observation_end=end, lookback_days=[7, 30], discount_col="discount", channel_col="channel")
    expected = customer_features(known, **kwargs)
    got = customer_features(longer, exclude_after=True, **kwargs)
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(rfm_table(longer, observation_end=end, exclude_after=True),
                                  rfm_table(known, observation_end=end))


def test_summary_records_its_time_unit(cdnow):
    weeks = customer_summary(cdnow, observation_end="1998-06-30", time_unit="W")
    days = customer_summary(cdnow, observation_end="1998-06-30")
    months = customer_summary(cdnow, observation_end="1998-06-30", time_unit="M")
    assert (weeks.attrs["time_unit"], days.attrs["time_unit"], months.attrs["time_unit"]) == ("W", "D", "M")
    np.testing.assert_allclose(weeks["T"] * 7, days["T"])
    np.testing.assert_allclose(months["T"] * 30.4375, days["T"])
    ch = calibration_holdout(cdnow, cutoff="1997-09-30", observation_end="1998-06-30", time_unit="W")
    assert ch.attrs["time_unit"] == "W"


def test_summaries_save_to_parquet_with_their_attrs(cdnow, tmp_path):
    s = customer_summary(cdnow, observation_end="1998-06-30", time_unit="W")
    s.to_parquet(tmp_path / "s.parquet")
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert back.attrs["time_unit"] == "W" and back.attrs["observation_end"] == "1998-06-30"
    ch = calibration_holdout(cdnow, cutoff="1997-09-30", observation_end="1998-06-30")
    ch.to_parquet(tmp_path / "ch.parquet")
    assert pd.read_parquet(tmp_path / "ch.parquet").attrs["holdout_end"] == "1998-06-30"
