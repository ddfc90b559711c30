"""The single customer profile, quality report and reconciliation of disagreeing sources."""

import pandas as pd
import pytest

import crmlab as crm


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=600, seed=21)


def test_profile_aggregates_match_plain_pandas(data):
    view = crm.profile.customer_profile(data)
    tx = data.transactions
    assert len(view) == len(data.customers)
    spend = tx.groupby("customer_id")["amount"].sum().reindex(view.index, fill_value=0.0)
    pd.testing.assert_series_equal(view["total_spend"], spend, check_names=False)
    comp = data.interactions[data.interactions["type"] == "complaint"].groupby("customer_id").size()
    assert (view["complaints"] == comp.reindex(view.index, fill_value=0)).all()
    prospects = data.truth.loc[~data.truth["is_buyer"], "customer_id"]
    assert (view.loc[prospects, "n_orders"] == 0).all()
    assert view.loc[prospects, "last_purchase"].isna().all()


def test_profile_as_of_uses_only_what_was_known(data):
    as_of = pd.Timestamp("2024-01-01")
    stop = as_of + pd.Timedelta(days=1)  # the whole day of observation_end counts
    past = crm.profile.customer_profile(data, observation_end=as_of)
    assert (past["signup_date"] < stop).all()
    assert (past["last_purchase"].dropna() < stop).all()
    assert (data.customers["signup_date"] < stop).sum() == len(past)
    # cutting the data at the end of that day first gives the same profile (no leakage from the future)
    cut = crm.CRMData(**{k: v for k, v in data.tables.items()}, observation_end=data.observation_end)
    cut.transactions = data.transactions[data.transactions["date"] < stop]
    pd.testing.assert_frame_equal(crm.profile.customer_profile(cut, observation_end=as_of), past)
    # recency is the features' recency: whole days from the last purchase day
    tx = data.transactions[data.transactions["date"] < stop]
    last = tx.groupby("customer_id")["date"].max().dt.normalize()
    expected = (as_of - last).dt.days
    assert (past["recency_days"].dropna().astype(int) == expected.reindex(past["recency_days"].dropna().index)).all()


def test_profile_rejects_orders_by_unknown_customers(data):
    bad = crm.CRMData(**{k: v for k, v in data.tables.items()}, observation_end=data.observation_end)
    bad.transactions = pd.concat([data.transactions, data.transactions.iloc[[0]].assign(customer_id=-7)])
    with pytest.raises(ValueError, match="missing from customers"):
        crm.profile.customer_profile(bad)


def test_quality_report_counts():
    df = pd.DataFrame({"id": [1, 1, 2, 3], "email": ["a", None, "b", None]})
    rep = crm.profile.quality_report(df, key="id")
    assert rep.loc["email", "missing"] == 2
    assert rep.loc["email", "missing_share"] == 0.5
    assert rep.loc["id (duplicates)", "missing"] == 2
    with pytest.raises(ValueError, match="has no column 'customer_id'"):
        crm.profile.quality_report(df, key="customer_id")


def test_reconcile_latest_non_missing_value_wins():
    recs = pd.DataFrame({
        "customer_id": [1, 1, 1, 2],
        "email": ["a@x", "b@x", None, "c@x"],
        "phone": ["1", None, None, "2"],
        "updated_at": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-05-01", "2024-01-01"]),
    })
    out = crm.profile.reconcile(recs)
    assert out.loc[1, "email"] == "b@x" and out.loc[1, "phone"] == "1"
    assert out.loc[1, "n_sources"] == 3 and out.loc[1, "conflicts"] == "email"
    assert out.loc[2, "conflicts"] == ""
    with pytest.raises(ValueError, match="has no column 'updated_at'"):
        crm.profile.reconcile(recs.drop(columns="updated_at"))


def test_source_extracts_disagree_but_reconcile_to_known_customers(data):
    store, online = crm.profile.source_extracts(data, random_state=1)
    assert store["customer_id"].duplicated().any()
    assert (online["email"] != online["email"].str.strip().str.lower()).any()
    assert set(store["customer_id"]) | set(online["customer_id"]) <= set(data.customers["customer_id"])
