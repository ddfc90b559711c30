"""Tests for crmlab.lifecycle: hand-worked stages, transitions and cohort tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab.lifecycle import STAGES, cohort_retention, lifecycle_stages, stage_transitions


@pytest.fixture
def shop():
    customers = pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6, 7],
        "signup_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01",
                                       "2024-01-01", "2024-05-01", "2024-08-01"]),
    })
    d = pd.to_datetime
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 7],
        "date": d(["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-06-01",  # 1: 5 orders
                   "2024-01-15", "2024-05-20",                                           # 2: 2 orders
                   "2024-06-20",                                                         # 3: 1 order, recent
                   "2024-02-20",                                                         # 4: 1 order, 131 days ago
                   "2023-12-20",                                                         # 5: 1 order, 193 days ago
                   "2024-08-05"]),                                                       # 7: after as_of
        "amount": [10.0, 10.0, 10.0, 10.0, 10.0, 7.0, 8.0, 30.0, 5.0, 9.0, 99.0],
    })
    return tx, customers


def test_lifecycle_stages_hand_worked(shop):
    tx, customers = shop
    st = lifecycle_stages(tx, customers, observation_end="2024-06-30")
    assert st.index.tolist() == [1, 2, 3, 4, 5, 6]  # 7 signed up after as_of
    assert st["stage"].tolist() == ["loyal", "repeat", "new", "at_risk", "lapsed", "prospect"]
    assert st["stage_zh"].tolist() == ["忠诚客户", "重复购买客户", "初次购买客户", "流失风险客户", "流失客户", "潜在客户"]
    assert st.loc[4, "recency_days"] == 131 and pd.isna(st.loc[6, "recency_days"])
    assert st.loc[1, "n_orders"] == 5 and st.loc[6, "n_orders"] == 0 and st.loc[2, "total_spend"] == 15.0
    assert str(st["recency_days"].dtype) == "Int64"
    assert list(st["stage"].cat.categories) == list(STAGES)


def test_lifecycle_rules_are_configurable(shop):
    tx, customers = shop
    st = lifecycle_stages(tx, customers, observation_end="2024-06-30", loyal_orders=6, at_risk_days=30, lapsed_days=150)
    assert st["stage"].tolist() == ["repeat", "at_risk", "new", "at_risk", "lapsed", "prospect"]
    with pytest.raises(ValueError, match="lapsed_days=50 must be larger than at_risk_days=90"):
        lifecycle_stages(tx, customers, observation_end="2024-06-30", lapsed_days=50)
    with pytest.raises(ValueError, match="loyal_orders must be at least 2"):
        lifecycle_stages(tx, customers, observation_end="2024-06-30", loyal_orders=1)


def test_order_on_the_snapshot_day_counts(shop):
    tx, customers = shop
    # customer 4 buys again at 15:30 on the snapshot day: a recent order, recency 0
    late = pd.DataFrame({"customer_id": [4], "date": pd.to_datetime(["2024-06-30 15:30"]), "amount": [1.0]})
    st = lifecycle_stages(pd.concat([tx, late], ignore_index=True), customers, observation_end="2024-06-30")
    assert st.loc[4, "recency_days"] == 0 and st.loc[4, "stage"] == "repeat"


def test_stages_use_the_feature_builder(shop):
    tx, customers = shop
    st = lifecycle_stages(tx, customers, observation_end="2024-06-30")
    ref = crm.features.customer_features(tx, observation_end="2024-06-30", exclude_after=True)
    buyers = st.index[st["n_orders"] > 0]
    assert (st.loc[buyers, "recency_days"].astype(int) == ref.loc[buyers, "recency_days"]).all()
    assert (st.loc[buyers, "n_orders"] == ref.loc[buyers, "n_orders"]).all()


def test_stages_at_a_date_before_any_order(shop):
    tx, customers = shop
    st = lifecycle_stages(tx, customers, observation_end="2024-01-05")
    assert st.loc[5, "stage"] == "new"  # bought in December
    assert (st.drop(index=5)["stage"] == "prospect").all()


def test_stage_transitions_hand_worked(shop):
    tx, customers = shop
    counts = stage_transitions(tx, customers, observation_start="2024-03-31", observation_end="2024-06-30", normalize=False)
    # at 2024-03-31: 1 repeat (3 orders), 2 new, 3 prospect, 4 new, 5 new (102 days: at risk); 6, 7 unknown
    assert counts.loc["repeat", "loyal"] == 1
    assert counts.loc["new", "repeat"] == 1      # customer 2
    assert counts.loc["new", "at_risk"] == 1     # customer 4
    assert counts.loc["prospect", "new"] == 1    # customer 3
    assert counts.loc["at_risk", "lapsed"] == 1  # customer 5
    assert counts.to_numpy().sum() == 5
    assert counts.index.tolist() == list(STAGES) and counts.columns.tolist() == list(STAGES)
    shares = stage_transitions(tx, customers, observation_start="2024-03-31", observation_end="2024-06-30")
    assert shares.loc["new"].sum() == pytest.approx(1.0)
    assert shares.loc["new", "repeat"] == pytest.approx(0.5)
    assert shares.loc["loyal"].isna().all()  # nobody was loyal on 2024-03-31
    with pytest.raises(ValueError, match="must be a day before observation_end"):
        stage_transitions(tx, customers, observation_start="2024-06-30", observation_end="2024-03-31")
    with pytest.raises(TypeError, match="unexpected argument"):
        stage_transitions(tx, customers, observation_start="2024-03-31", observation_end="2024-06-30", loyal=3)


def test_lifecycle_validation(shop):
    tx, customers = shop
    with pytest.raises(ValueError, match="1 customer id\\(s\\) missing from customers \\(e.g. 7\\)"):
        lifecycle_stages(tx, customers[customers["customer_id"] != 7], observation_end="2024-06-30")
    with pytest.raises(ValueError, match="duplicated key"):
        lifecycle_stages(tx, pd.concat([customers, customers.head(1)]), observation_end="2024-06-30")
    with pytest.raises(ValueError, match="has no column 'signup_date'"):
        lifecycle_stages(tx, customers.rename(columns={"signup_date": "joined"}), observation_end="2024-06-30")
    with pytest.raises(TypeError, match="holds numbers"):
        lifecycle_stages(tx.assign(date=1), customers, observation_end="2024-06-30")
    with pytest.raises(ValueError, match="negative"):
        lifecycle_stages(tx.assign(amount=-1.0), customers, observation_end="2024-06-30")
    with pytest.raises(ValueError, match="missing value"):
        lifecycle_stages(tx.assign(customer_id=np.nan), customers, observation_end="2024-06-30")
    with pytest.raises(ValueError, match="'signup_date' has 1 missing value"):
        lifecycle_stages(tx, customers.assign(signup_date=customers["signup_date"].where(customers["customer_id"] != 3)),
                         observation_end="2024-06-30")
    with pytest.raises(ValueError, match="observation_end is required"):
        lifecycle_stages(tx, customers, observation_end=None)


def test_lifecycle_on_simulated_company_matches_truth():
    data = crm.synth.generate(n_customers=1500, seed=3)
    st = lifecycle_stages(data.transactions, data.customers, observation_end=data.observation_end)
    truth = data.truth.set_index("customer_id").reindex(st.index)
    assert (st["stage"] == "prospect").equals(~truth["is_buyer"])
    # customers the generator kept alive are much more often in an active stage than lapsed ones
    active = st["stage"].isin(["new", "repeat", "loyal"])
    assert active[truth["alive_at_end"]].mean() > active[~truth["alive_at_end"] & truth["is_buyer"]].mean() + 0.2


# ----------------------------------------------------------------------------- cohorts
def test_cohort_retention_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 2, 3, 4, 4],
        "date": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-03-05", "2024-01-25", "2024-02-02",
                                "2024-02-14", "2024-03-01", "2024-03-30"]),
    })
    counts = cohort_retention(tx, normalize=False)
    assert [str(p) for p in counts.index] == ["2024-01", "2024-02", "2024-03"]
    np.testing.assert_array_equal(counts.to_numpy(), [[2, 1, 1], [1, 0, np.nan], [1, np.nan, np.nan]])
    shares = cohort_retention(tx)
    np.testing.assert_allclose(shares.to_numpy(), [[1, 0.5, 0.5], [1, 0, np.nan], [1, np.nan, np.nan]])
    assert shares.columns.name == "periods_since_first" and shares.index.name == "cohort"
    q = cohort_retention(tx, period="Q", normalize=False)
    assert q.shape == (1, 1) and q.iloc[0, 0] == 4


def test_cohort_retention_weeks_start_on_monday():
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "date": pd.to_datetime(["2024-01-07", "2024-01-08", "2024-01-08"])})
    counts = cohort_retention(tx, period="W", normalize=False)  # 2024-01-07 is a Sunday
    np.testing.assert_array_equal(counts.to_numpy(), [[1, 1], [1, np.nan]])


def test_cohort_retention_validation_and_dispatch(monkeypatch):
    tx = pd.DataFrame({"customer_id": [1], "date": pd.to_datetime(["2024-01-03"])})
    with pytest.raises(ValueError, match="period='D' is not allowed"):
        cohort_retention(tx, period="D")
    with pytest.raises(ValueError, match="empty"):
        cohort_retention(tx.iloc[:0])
    with pytest.raises(ValueError, match="not dates"):
        cohort_retention(tx.assign(date="yesterday"))
    # a path goes through the one front door of the engines (crmlab.features) with the same arguments
    calls = []
    monkeypatch.setattr(crm.lifecycle, "_resolve_engine", lambda source, engine: "duckdb")
    monkeypatch.setattr(crm.lifecycle, "_delegate",
                        lambda kind, source, engine, **kw: calls.append((kind, source, engine, kw)) or "ok")
    assert cohort_retention("tx.parquet", period="Q") == "ok"
    assert calls == [("cohort_retention", "tx.parquet", "duckdb",
                      {"period": "Q", "customer_col": "customer_id", "date_col": "date", "normalize": True})]
