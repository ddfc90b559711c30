"""Key accounts, pipeline and negotiation: hand-worked examples, brute force and the B2B truth."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import crmlab as crm
from crmlab import accounts, negotiation, pipeline


@pytest.fixture(scope="module")
def data():
    return crm.load_retail()


# ----------------------------------------------------------------------------- synthetic B2B story
def test_b2b_tables_follow_the_story(data):
    acc = data.accounts.merge(data.account_truth, on="account_id")
    assert len(acc) == 240 and acc["key_account"].mean() == pytest.approx(0.2, abs=0.01)
    # the estimates read the truth with noise
    assert acc["potential_estimate"].corr(acc["potential"], method="spearman") > 0.8
    assert acc["fit_score"].corr(acc["fit"], method="spearman") > 0.6
    # big is not the same as key: many of the biggest accounts are not key accounts
    big = acc["revenue_last_year"] >= acc["revenue_last_year"].quantile(0.8)
    assert 0.2 < (big & ~acc["key_account"]).sum() / big.sum() < 0.8
    # every account has a decision maker; every activity names a contact of its own account
    assert set(data.contacts.loc[data.contacts["role"] == "decision_maker", "account_id"]) == set(acc["account_id"])
    merged = data.activities.merge(data.contacts, on="contact_id", suffixes=("", "_c"))
    assert (merged["account_id"] == merged["account_id_c"]).all()
    # closed opportunities have a close date, open ones do not; won value = list value less the discount
    closed = data.opportunities["stage"].isin(["won", "lost"])
    assert data.opportunities.loc[closed, "close_date"].notna().all()
    assert data.opportunities.loc[~closed, "close_date"].isna().all()
    won = data.opportunities[data.opportunities["stage"] == "won"]
    np.testing.assert_allclose(won["won_value"], won["list_value"] * (1 - won["discount"]), atol=0.01)
    assert (data.opportunities["created_date"] <= data.observation_end).all()


def test_b2b_stream_does_not_move_the_consumer_tables():
    base = crm.synth.generate(n_customers=150, seed=5)
    other = crm.synth.generate(n_customers=150, seed=5, b2b=crm.synth.B2BConfig(n_accounts=30, effect_fit=0.0))
    for name in ("customers", "transactions", "surveys", "truth"):
        pd.testing.assert_frame_equal(base.tables[name], other.tables[name])
    assert len(other.accounts) == 30
    none = crm.synth.generate(n_customers=50, seed=1, b2b=crm.synth.B2BConfig(n_accounts=0))
    assert len(none.accounts) == 0 and len(none.opportunities) == 0


def test_met_decision_maker_effect_is_recovered():
    """The simulated effect of having met a decision maker shows in a logistic regression."""
    data = crm.synth.generate(n_customers=50, seed=11, b2b=crm.synth.B2BConfig(n_accounts=800))
    st = data.opportunity_stages
    opp = data.opportunities.merge(data.accounts[["account_id", "fit_score"]], on="account_id")
    dm = data.contacts.loc[data.contacts["role"] == "decision_maker", "contact_id"]
    dm_acts = data.activities[data.activities["contact_id"].isin(dm)]
    first_dm = dm_acts.groupby("account_id")["date"].min()
    reached = st[st["stage"] == "proposal"].set_index("opportunity_id")["entered_date"]
    prop = opp[opp["opportunity_id"].isin(reached.index) & opp["stage"].isin(["won", "lost"])].copy()
    prop["proposal_date"] = prop["opportunity_id"].map(reached)
    prop["met_dm"] = (prop["account_id"].map(first_dm) <= prop["proposal_date"]).astype(float)
    prop["won"] = (prop["stage"] == "won").astype(int)
    res = accounts.influence_factors(prop, outcome="won", factors=["met_dm", "fit_score"])
    assert res.loc["met_dm", "odds_ratio"] > 1.5 and res.loc["fit_score", "coef"] > 0
    # same numbers as statsmodels directly
    ref = sm.Logit(prop["won"], sm.add_constant(prop[["met_dm", "fit_score"]].astype(float))).fit(disp=0)
    np.testing.assert_allclose(res["coef"], ref.params[["met_dm", "fit_score"]], rtol=1e-6)


# ----------------------------------------------------------------------------- portfolio, SMART, coverage
def test_portfolio_quadrants_hand_worked():
    acc = pd.DataFrame({"account_id": [1, 2, 3, 4], "revenue_last_year": [90.0, 80.0, 10.0, 5.0],
                        "potential_estimate": [500.0, 100.0, 600.0, 50.0], "fit_score": [5, 1, 4, 2]})
    p = accounts.account_portfolio(acc)
    # fit rescaled by its maximum: 5 -> 1, 1 -> .2, 4 -> .8, 2 -> .4; attractiveness 500, 20, 480, 20
    np.testing.assert_allclose(p["attractiveness"], [500.0, 20.0, 480.0, 20.0])
    assert p["quadrant"].tolist() == ["key", "maintain", "develop", "opportunistic"]
    assert p.loc[2, "big"] and p.loc[2, "quadrant_zh"] == "维持客户"
    with pytest.raises(ValueError, match="negative"):
        accounts.account_portfolio(acc.assign(revenue_last_year=[-1.0, 1, 1, 1]))
    with pytest.raises(ValueError, match="duplicate"):
        accounts.account_portfolio(acc.assign(account_id=[1, 1, 2, 3]))


def test_portfolio_on_the_company_finds_key_accounts_better_than_size(data):
    p = accounts.account_portfolio(data.accounts)
    truth = data.account_truth.set_index("account_id")["key_account"]
    by_matrix = truth[p.index[p["quadrant"].isin(["key", "develop"])]].mean()
    by_size = truth[p.index[p["big"]]].mean()
    assert by_matrix > by_size


@pytest.mark.parametrize("change, failing", [
    ({}, set()),
    ({"account": ""}, {"specific"}),
    ({"target": "more"}, {"measurable", "achievable"}),
    ({"target": 950_000}, {"achievable"}),          # above potential
    ({"objective": "be nice"}, {"relevant"}),
    ({"deadline": "2024-06-01"}, {"time_bound"}),   # before the start
    ({"deadline": "2030-01-01"}, {"time_bound"}),   # beyond the horizon
    ({"target": 400_000}, {"measurable"}),          # target equals the baseline
])
def test_smart_goal_checks_each_criterion(change, failing):
    goal = {"account": "Ruikang Hospital", "metric": "revenue", "baseline": 400_000, "target": 500_000,
            "deadline": "2025-12-31", "objective": "grow share of wallet", **change}
    res = accounts.check_smart_goal(goal, objectives=["grow share of wallet"], potential=900_000,
                                    start="2025-01-01").set_index("criterion")
    assert set(res.index[~res["passed"]]) == failing
    assert (res.loc[list(failing), "reason"] != "").all()


def test_smart_goal_bad_input():
    with pytest.raises(TypeError, match="mapping"):
        accounts.check_smart_goal(["revenue"])
    with pytest.raises(ValueError, match="unknown keys"):
        accounts.check_smart_goal({"metrc": "revenue"})


def test_buying_centre_coverage_hand_worked():
    contacts = pd.DataFrame({"contact_id": [1, 2, 3, 4, 5], "account_id": [7, 7, 7, 8, 8],
                             "role": ["decision_maker", "buyer", "user", "decision_maker", "decision_maker"],
                             "influence": [5, 3, 2, 5, 4]})
    acts = pd.DataFrame({"contact_id": [2, 2, 3, 4]})
    cov = accounts.buying_centre_coverage(contacts, acts)
    assert cov.loc[7, ["n_contacts", "n_met", "n_key", "n_key_met"]].tolist() == [3, 2, 1, 0]
    assert cov.loc[8, "key_coverage"] == 0.5 and cov.loc[8, "influence_coverage"] == pytest.approx(5 / 9)
    assert cov.loc[7, "activities_with_key"] == 0.0 and cov.loc[8, "activities_with_key"] == 1.0
    missing = accounts.uncovered_decision_makers(contacts, acts)
    assert missing["contact_id"].tolist() == [1, 5]
    assert accounts.uncovered_decision_makers(contacts, acts, accounts=[8])["contact_id"].tolist() == [5]
    with pytest.raises(ValueError, match="not in contacts"):
        accounts.buying_centre_coverage(contacts, pd.DataFrame({"contact_id": [99]}))


def test_coverage_on_the_company_shows_the_gap(data):
    cov = accounts.buying_centre_coverage(data.contacts, data.activities)
    assert (cov["key_coverage"] < 1).any()          # some decision makers were never met
    never = accounts.uncovered_decision_makers(data.contacts, data.activities)
    assert len(never) == (cov["n_key"] - cov["n_key_met"]).sum()


def test_plan_visits_is_optimal_against_brute_force():
    rng = np.random.default_rng(3)
    gains = rng.uniform(1, 100, 4)
    acc = pd.DataFrame({"account_id": range(4), "gain": gains})
    decay, budget = 0.6, 6

    def value(v):
        return sum(g * (1 - decay ** k) / (1 - decay) for g, k in zip(gains, v))

    best = max((v for v in itertools.product(range(budget + 1), repeat=4) if sum(v) == budget), key=value)
    plan = accounts.plan_visits(acc, budget=budget, gain_col="gain", decay=decay).sort_index()
    assert plan["visits"].sum() == budget
    assert value(plan["visits"].tolist()) == pytest.approx(value(best))
    np.testing.assert_allclose(plan["expected_gain"].sum(), value(best))
    with pytest.raises(ValueError, match="decay"):
        accounts.plan_visits(acc, budget=3, gain_col="gain", decay=1.5)
    with pytest.raises(ValueError, match="max_visits"):
        accounts.plan_visits(acc, budget=3, gain_col="gain", max_visits=10**7)


# ----------------------------------------------------------------------------- pipeline
def _stages():
    return pd.DataFrame({
        "opportunity_id": [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4],
        "stage": ["lead", "qualified", "proposal", "negotiation", "won", "lead", "qualified", "lost",
                  "lead", "qualified", "lead"],
        "entered_date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-15", "2024-01-20", "2024-02-01",
                                        "2024-01-02", "2024-01-12", "2024-01-20", "2024-03-01", "2024-03-11",
                                        "2024-03-05"]),
    })


def test_stage_conversion_and_win_probability_hand_worked():
    conv = pipeline.stage_conversion(_stages())
    assert conv["entered"].tolist() == [4, 3, 1, 1]
    assert conv.loc["lead", ["advanced", "lost", "open"]].tolist() == [3, 0, 1]
    assert conv.loc["qualified", ["advanced", "lost", "open"]].tolist() == [1, 1, 1]
    assert conv.loc["qualified", "conversion"] == 0.5 and conv.loc["negotiation", "conversion"] == 1.0
    wp = pipeline.win_probability_by_stage(conv)
    assert wp.tolist() == [0.5, 0.5, 1.0, 1.0]
    d = pipeline.stage_durations(_stages())
    assert d.loc["lead", "median_days"] == 10.0 and d.loc["lead", "n"] == 3   # 4, 10 and 10 days
    with pytest.raises(ValueError, match="unknown stage"):
        pipeline.stage_conversion(_stages().replace({"stage": {"won": "signed"}}))


def test_weighted_forecast_and_backtest_against_the_company(data):
    bt = pipeline.forecast_backtest(data.opportunities, data.opportunity_stages, cutoff="2024-06-30")
    total = bt.loc["total"]
    assert total["n_open"] > 20
    # a calibrated stage-probability forecast is within 35% of what closed (most deals decide in the data)
    assert total["actual_won"] == pytest.approx(total["forecast"], rel=0.35)
    # nothing after the cutoff reaches the probabilities
    early = data.opportunity_stages[data.opportunity_stages["entered_date"] <= "2024-06-30"]
    wp = pipeline.win_probability_by_stage(pipeline.stage_conversion(early))
    opp_open = bt.loc[list(pipeline.STAGES), "n_open"]
    assert opp_open.sum() == total["n_open"]
    assert (wp.diff().dropna() >= 0).all()          # closer to the close, likelier to win
    v = pipeline.pipeline_velocity(data.opportunities)
    assert v["velocity_per_day"] == pytest.approx(v["n_open"] * v["win_rate"] * v["mean_won_value"]
                                                  / v["mean_cycle_days"])


# ----------------------------------------------------------------------------- negotiation
def test_zopa_and_distributive_surplus():
    z = negotiation.zopa(seller_reservation=62.0, buyer_reservation=95.0)
    assert (z["low"], z["high"], z["width"], bool(z["exists"]), z["midpoint"]) == (62.0, 95.0, 33.0, True, 78.5)
    s = negotiation.deal_surplus([60.0, 80.0, 100.0], seller_reservation=62.0, buyer_reservation=95.0)
    assert s["joint"].tolist() == [33.0] * 3 and s["acceptable"].tolist() == [False, True, False]
    with pytest.raises(ValueError, match="finite"):
        negotiation.zopa(seller_reservation=np.inf, buyer_reservation=1.0)


def test_integrative_deal_creates_value():
    issues = {
        "price": {"list": (40.0, -40.0), "-5%": (35.0, -35.0), "-10%": (30.0, -30.0)},
        "volume": {"1 year": (0.0, 0.0), "3 years": (12.0, 6.0)},      # both gain from a longer contract
        "payment": {"60 days": (0.0, 0.0), "30 days": (4.0, -1.0)},   # cheap for the buyer, dear to the seller
    }
    ev = negotiation.evaluate_packages(issues, seller_batna=28.0, buyer_batna=-38.0)
    assert len(ev) == 12
    # a package is Pareto-efficient iff nothing beats it on both sides (brute force)
    for _, row in ev.iterrows():
        beaten = ((ev["seller_value"] >= row["seller_value"]) & (ev["buyer_value"] >= row["buyer_value"])
                  & ((ev["seller_value"] > row["seller_value"]) | (ev["buyer_value"] > row["buyer_value"]))).any()
        assert row["pareto"] == (not beaten)
    best = negotiation.best_packages(issues, seller_batna=28.0, buyer_batna=-38.0)
    assert best.loc["integrative", "joint"] == 21.0 and best.loc["distributive", "joint"] == 0.0
    assert best.loc["integrative", "volume"] == "3 years" and best.loc["integrative", "payment"] == "30 days"
    with pytest.raises(ValueError, match="no package gives both sides"):
        negotiation.best_packages(issues, seller_batna=100.0, buyer_batna=0.0)
    with pytest.raises(ValueError, match="too many"):
        negotiation.evaluate_packages({f"i{k}": {str(j): (0, 0) for j in range(10)} for k in range(6)})
