"""Tests for crmlab.journey: hand-worked funnels and paths, the simulated company's
known facts, and regressions checked against known simulated effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmlab as crm
from crmlab import journey as J
from crmlab.synth.config import SimulationConfig


@pytest.fixture(scope="module")
def company():
    return crm.synth.generate(n_customers=4000, seed=5)


@pytest.fixture
def tp():
    # session 1: full path; 2: visit, browse, cart (abandoned); 3: visit only;
    # 4: visit, cart, purchase (skips browse); all on the web except session 4 (app)
    return pd.DataFrame({
        "session_id": [1, 1, 1, 1, 2, 2, 2, 3, 4, 4, 4],
        "customer_id": [1, 1, 1, 1, 2, 2, 2, 3, 1, 1, 1],
        "timestamp": pd.to_datetime([
            "2024-01-01 10:00", "2024-01-01 10:02", "2024-01-01 10:05", "2024-01-01 10:12",
            "2024-01-02 09:00", "2024-01-02 09:01", "2024-01-02 09:03",
            "2024-01-03 08:00",
            "2024-01-05 20:00", "2024-01-05 20:04", "2024-01-05 20:06"]),
        "channel": ["web"] * 8 + ["app"] * 3,
        "event": ["visit", "browse", "cart", "purchase", "visit", "browse", "cart", "visit",
                  "visit", "cart", "purchase"],
    })


# ----------------------------------------------------------------------------- funnel
def test_funnel_hand_worked_strict(tp):
    f = J.funnel(tp)
    # strict: session 4 skipped browse, so it stops at visit
    assert f["sessions"].tolist() == [4, 2, 2, 1]
    np.testing.assert_allclose(f["step_conversion"], [1, 2 / 4, 2 / 2, 1 / 2])
    np.testing.assert_allclose(f["overall_conversion"], [1, 0.5, 0.5, 0.25])
    np.testing.assert_allclose(f["drop_off"], [0, 0.5, 0, 0.5])
    assert f["step"].tolist() == ["visit", "browse", "cart", "purchase"]


def test_funnel_hand_worked_loose_and_by(tp):
    loose = J.funnel(tp, strict=False)
    assert loose["sessions"].tolist() == [4, 2, 3, 2]
    f = J.funnel(tp, by="channel").set_index(["channel", "step"])
    assert f.loc[("app", "purchase"), "sessions"] == 0
    assert f.loc[("web", "purchase"), "sessions"] == 1
    assert f.loc[("web", "browse"), "step_conversion"] == pytest.approx(2 / 3)
    assert f.loc[("web", "purchase"), "overall_conversion"] == pytest.approx(1 / 3)


def test_funnel_validation(tp):
    with pytest.raises(ValueError, match="step 'purchse' never occurs.*'purchase'"):
        J.funnel(tp, steps=("visit", "purchse"))
    with pytest.raises(ValueError, match="steps must be a sequence"):
        J.funnel(tp, steps="visit")
    varying = tp.assign(channel=["web", "app"] + ["web"] * 9)
    with pytest.raises(ValueError, match="'channel' varies within session 1"):
        J.funnel(varying, by="channel")
    with pytest.raises(ValueError, match="has no column 'segment'"):
        J.funnel(tp, by="segment")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        J.funnel(tp.to_dict())


def test_funnel_on_company_counts_online_orders(company):
    # every online order ends a session; reorders skip browsing, so count without order
    loose = J.funnel(company.touchpoints, by="channel", strict=False).set_index(["channel", "step"])
    online = company.transactions[company.transactions["channel"] != "store"]
    expected = online.groupby("channel").size()
    for channel, n in expected.items():
        assert loose.loc[(channel, "purchase"), "sessions"] == n
    # the strict funnel never widens, and loses exactly the sessions that skipped a step
    f = J.funnel(company.touchpoints, by="channel").set_index(["channel", "step"])
    for _, part in f.groupby(level="channel"):
        assert part["sessions"].is_monotonic_decreasing
    assert (f["sessions"] <= loose["sessions"]).all()


# ----------------------------------------------------------------------------- paths
def test_top_paths_hand_worked(tp):
    paths = J.top_paths(tp)
    assert paths["path"].tolist() == ["visit > browse > cart > purchase", "visit > cart > purchase"]
    assert paths["sessions"].tolist() == [1, 1]
    assert paths["median_minutes"].tolist() == [12.0, 6.0]
    np.testing.assert_allclose(paths["share"], [0.5, 0.5])
    everything = J.top_paths(tp, outcome=None)
    assert everything["sessions"].sum() == 4
    assert "visit > browse > cart" in set(everything["path"])


def test_top_paths_cuts_at_outcome_and_collapses_repeats():
    tp = pd.DataFrame({
        "session_id": [1] * 6,
        "timestamp": pd.date_range("2024-01-01 10:00", periods=6, freq="min"),
        "event": ["visit", "browse", "browse", "cart", "purchase", "browse"],
    })
    p = J.top_paths(tp)
    assert p["path"].tolist() == ["visit > browse > cart > purchase"]
    assert p["median_minutes"].iloc[0] == 4.0
    raw = J.top_paths(tp, collapse_repeats=False)
    assert raw["path"].iloc[0] == "visit > browse > browse > cart > purchase"
    with pytest.raises(ValueError, match="outcome 'buy' never occurs"):
        J.top_paths(tp, outcome="buy")


def test_top_paths_time_order_not_row_order(tp):
    shuffled = tp.sample(frac=1, random_state=0)
    pd.testing.assert_frame_equal(J.top_paths(shuffled), J.top_paths(tp))


# ----------------------------------------------------------------------------- channels
def test_channel_profile_hand_worked():
    tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 3, 3],
                       "channel": ["app", "store", "app", "web", "web", "store"],
                       "amount": [10.0, 20.0, 30.0, 5.0, 1.0, 3.0],
                       "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                                               "2024-01-06 15:30"], format="ISO8601")})
    p = J.channel_profile(tx)
    assert p.loc[1, "n_orders"] == 3 and p.loc[1, "total_spend"] == 60.0
    assert p.loc[1, "mean_order_value"] == pytest.approx(20.0)
    assert p.loc[1, "main_channel"] == "app" and p.loc[1, "main_channel_share"] == pytest.approx(2 / 3)
    assert p.loc[3, "main_channel"] == "store"  # tie -> alphabetical
    assert p["channels"].tolist() == ["app+store", "web", "store+web"]
    assert p["multichannel"].tolist() == [True, False, True]
    with pytest.raises(TypeError, match="'amount' must be numeric"):
        J.channel_profile(tx.assign(amount=tx["amount"].astype(str)))
    # the same features as crm.features.customer_features, on the last order's day by default
    f = crm.features.customer_features(tx, observation_end="2024-01-06", channel_col="channel")
    pd.testing.assert_series_equal(p["n_channels"], f["n_channels"])
    with pytest.raises(ValueError, match="after observation_end"):
        J.channel_profile(tx, observation_end="2024-01-05")


def test_omnichannel_summary_on_company(company):
    tx = company.transactions
    s = J.omnichannel_summary(tx, surveys=company.surveys)
    assert s["customers"].sum() == tx["customer_id"].nunique()
    assert s["share"].sum() == pytest.approx(1.0)
    total = (s["total_spend"] * s["customers"]).sum()
    assert total == pytest.approx(tx["amount"].sum())
    assert s["respondents"].sum() == company.surveys["customer_id"].nunique()
    # independent check of one group's mean CSAT
    prof = tx.groupby("customer_id")["channel"].nunique()
    csat = company.surveys.groupby("customer_id")["csat"].mean()
    expected = csat[prof.reindex(csat.index) == 1].mean()
    assert s.loc[1, "mean_csat"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="by='spend' is not allowed"):
        J.omnichannel_summary(tx, by="spend")


def test_channel_experience_matches_t_interval(company):
    ce = J.channel_experience(company.surveys, company.transactions)
    merged = company.surveys.merge(company.transactions[["transaction_id", "channel"]], on="transaction_id")
    for ch, part in merged.groupby("channel"):
        lo, hi = stats.t.interval(0.95, len(part) - 1, loc=part["csat"].mean(), scale=stats.sem(part["csat"]))
        assert ce.loc[ch, "ci_low_csat"] == pytest.approx(lo)
        assert ce.loc[ch, "ci_high_csat"] == pytest.approx(hi)
        assert ce.loc[ch, "responses"] == len(part)
    assert ce["responses"].sum() == len(company.surveys)
    with pytest.raises(ValueError, match="missing from transactions"):
        J.channel_experience(company.surveys, company.transactions.iloc[:10])


# ----------------------------------------------------------------------------- moments of truth
def test_experience_table_hand_worked(tp):
    sv = pd.DataFrame({"survey_id": [1, 2, 3, 4], "customer_id": [1, 1, 2, 3],
                       "date": pd.to_datetime(["2024-01-10", "2024-06-01", "2024-01-10", "2024-01-10"]),
                       "csat": [2, 4, 3, 5]})
    it = pd.DataFrame({
        "customer_id": [1, 1, 2, 3],
        "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-08", "2024-02-01"]),
        "type": ["complaint", "inquiry", "complaint", "complaint"],
        "resolved": [False, True, True, True],
        "resolution_days": [np.nan, 0.5, 9.0, 1.0],
    })
    et = J.experience_table(sv, it, touchpoints=tp).set_index("survey_id")
    assert et["complaint"].tolist() == [1, 1, 1, 0]  # customer 3's complaint came after the survey
    assert et["complaint_unresolved"].tolist() == [1, 1, 0, 0]
    assert et["complaint_resolved"].tolist() == [0, 0, 1, 0]
    assert et["slow_resolution"].tolist() == [0, 0, 1, 0]
    assert et["inquiry"].tolist() == [0, 1, 0, 0]
    assert et["abandoned_cart"].tolist() == [0, 0, 1, 0]  # customer 2's session 2
    windowed = J.experience_table(sv, it, lookback_days=30).set_index("survey_id")
    assert windowed["complaint"].tolist() == [1, 0, 1, 0]  # survey 2 is > 30 days after
    assert len(et) == len(sv) and (et["csat"] == sv["csat"].to_numpy()).all()
    with pytest.raises(ValueError, match="unknown value"):
        J.experience_table(sv, it.assign(type="praise"))
    with pytest.raises(ValueError, match="lookback_days must be a positive"):
        J.experience_table(sv, it, lookback_days=0)


def test_moments_of_truth_recovers_known_ols_effects():
    rng = np.random.default_rng(1)
    n = 4000
    t = pd.DataFrame({"complaint": rng.random(n) < 0.2, "inquiry": rng.random(n) < 0.3,
                      "slow": rng.random(n) < 0.1, "tenure": rng.normal(0, 1, n)})
    t["csat"] = 4 - 1.0 * t["complaint"] - 0.4 * t["slow"] + 0.0 * t["inquiry"] + 0.3 * t["tenure"] \
        + rng.normal(0, 0.8, n)
    mot = J.moments_of_truth(t, outcome="csat", factors=["inquiry", "slow", "complaint"], controls=["tenure"])
    assert mot.index.tolist() == ["complaint", "slow", "inquiry"]
    for f, true in {"complaint": -1.0, "slow": -0.4, "inquiry": 0.0}.items():
        assert mot.loc[f, "ci_low"] < true < mot.loc[f, "ci_high"]
    # coefficients equal least squares solved directly
    X = np.column_stack([np.ones(n), t[["inquiry", "slow", "complaint", "tenure"]].astype(float)])
    beta = np.linalg.lstsq(X, t["csat"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(mot.loc[["inquiry", "slow", "complaint"], "effect"], beta[1:4], rtol=1e-8)
    assert mot.loc["complaint", "share_exposed"] == pytest.approx(t["complaint"].mean())
    assert mot.loc["complaint", "impact"] == pytest.approx(mot.loc["complaint", "effect"] * t["complaint"].mean())
    assert "tenure" not in mot.index


def test_moments_of_truth_logit_marginal_effect():
    rng = np.random.default_rng(2)
    n = 20000
    x = rng.random(n) < 0.3
    p = 1 / (1 + np.exp(-(0.5 - 1.0 * x)))
    t = pd.DataFrame({"abandoned": x.astype(int), "converted": (rng.random(n) < p).astype(int)})
    mot = J.moments_of_truth(t, outcome="converted", factors=["abandoned"], kind="logit")
    # with a single binary factor the average marginal effect is close to the difference in rates
    true_diff = 1 / (1 + np.exp(0.5)) - 1 / (1 + np.exp(-0.5))
    assert mot.loc["abandoned", "ci_low"] < true_diff < mot.loc["abandoned", "ci_high"]
    with pytest.raises(ValueError, match="needs a 0/1 outcome"):
        J.moments_of_truth(t.assign(converted=t["converted"] * 2), outcome="converted",
                           factors=["abandoned"], kind="logit")


def test_moments_of_truth_validation():
    t = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [0, 1, 0], "b": [1, 1, 1]})
    with pytest.raises(ValueError, match="'b' has a single value"):
        J.moments_of_truth(t, outcome="y", factors=["a", "b"])
    with pytest.raises(ValueError, match="kind='probit' is not allowed"):
        J.moments_of_truth(t, outcome="y", factors=["a"], kind="probit")
    with pytest.raises(ValueError, match="has no column 'c'"):
        J.moments_of_truth(t, outcome="y", factors=["c"])
    with pytest.raises(ValueError, match="at least one column"):
        J.moments_of_truth(t, outcome="y", factors=[])
    with pytest.raises(ValueError, match="appear twice"):
        J.moments_of_truth(t, outcome="y", factors=["a"], controls=["a"])


def test_unresolved_complaints_are_the_strongest_moment_on_company(company):
    cfg = SimulationConfig()
    # truth: a complaint moves latent satisfaction by complaint_effect, recovery gives back part of it
    assert cfg.complaint_effect < cfg.complaint_effect + cfg.recovery_effect < 0
    et = J.experience_table(company.surveys, company.interactions)
    mot = J.moments_of_truth(et, outcome="csat", factors=["complaint_resolved", "complaint_unresolved", "inquiry"])
    assert mot.index[0] == "complaint_unresolved"
    assert mot.loc["complaint_unresolved", "ci_high"] < 0
    assert mot.loc["complaint_unresolved", "effect"] < mot.loc["complaint_resolved", "effect"]
    # inquiries do not lower satisfaction in the simulation (customers who ask are
    # long-standing ones, so the raw association is, if anything, positive)
    assert mot.loc["inquiry", "ci_high"] > 0


def test_plots(tp):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = crm.plot.funnel_plot(J.funnel(tp))
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, [1, 0.5, 0.5, 0.25])
    ax = crm.plot.funnel_plot(J.funnel(tp, by="channel"), by="channel")
    assert len(ax.patches) >= 8
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"a": rng.integers(0, 2, 100), "b": rng.integers(0, 2, 100)})
    t["y"] = t["a"] + rng.normal(0, 1, 100)
    mot = J.moments_of_truth(t, outcome="y", factors=["a", "b"])
    ax = crm.plot.moments_of_truth_plot(mot)
    assert [p.get_width() for p in ax.patches] == pytest.approx(mot["effect"].tolist())
    with pytest.raises(ValueError, match="has no column 'ci_low'"):
        crm.plot.moments_of_truth_plot(mot.drop(columns="ci_low"))
    plt.close("all")


def test_complaint_followup_hand_worked():
    it = pd.DataFrame({
        "interaction_id": [1, 2, 3, 4, 5], "customer_id": [1, 2, 3, 3, 4],
        "type": ["complaint", "complaint", "complaint", "inquiry", "complaint"],
        "date": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-03-01", "2024-03-02", "2024-12-01"]),
        "resolved": [True, False, True, True, True], "resolution_days": [2.0, np.nan, 9.0, 0.1, 1.0]})
    tx = pd.DataFrame({"customer_id": [1, 2, 3, 4],
                       "date": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-12-01", "2024-12-05"])})
    f = J.complaint_followup(it, tx, observation_end="2024-12-31", horizon_days=180).set_index("interaction_id")
    # complaint 5 is too recent for a 180-day follow-up; 4 is an inquiry
    assert f.index.tolist() == [1, 2, 3]
    assert f["unresolved"].tolist() == [0, 1, 0]
    assert f["slow_resolution"].tolist() == [0, 0, 1]
    # customer 1 bought 51 days later; 2 only before; 3 after 275 days (outside the window)
    assert f["repurchased"].tolist() == [1, 0, 0]
    longer = J.complaint_followup(it, tx, observation_end="2024-12-31", horizon_days=280)
    assert longer["repurchased"].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="horizon_days must be a positive"):
        J.complaint_followup(it, tx, observation_end="2024-12-31", horizon_days=-1)
    with pytest.raises(ValueError, match="after observation_end"):
        J.complaint_followup(it, tx, observation_end="2024-01-05")
    with pytest.raises(ValueError, match="No complaint has its 180-day follow-up window"):
        J.complaint_followup(it[it["date"] > "2024-07-04"], tx, observation_end="2024-12-31")
    # the end day counts whole: a complaint on 4 July at 10:00 has its 180 days by 31 December 23:59
    edge = it.iloc[[0]].assign(interaction_id=9, date=pd.Timestamp("2024-07-04 10:00"))
    assert 9 in J.complaint_followup(pd.concat([it, edge]), tx, observation_end="2024-12-31")["interaction_id"].tolist()
    with pytest.raises(ValueError, match="observation_end is required"):
        J.complaint_followup(it, tx, observation_end=None)


def test_unresolved_complaints_lower_repurchase_on_company(company):
    # truth: an unresolved complaint lowers satisfaction, which raises the dropout probability
    cfg = SimulationConfig()
    assert cfg.satisfaction_dropout_effect > 0 and cfg.recovery_effect > 0
    f = J.complaint_followup(company.interactions, company.transactions,
                             observation_end=company.observation_end)
    rates = f.groupby("unresolved")["repurchased"].mean()
    assert rates[1] < rates[0]
    mot = J.moments_of_truth(f, outcome="repurchased", factors=["unresolved", "slow_resolution"], kind="logit")
    assert mot.loc["unresolved", "effect"] < 0


def test_moments_of_truth_logit_separation():
    t = pd.DataFrame({"slow": [1, 1, 1, 0, 0, 0, 0, 0], "bought": [1, 1, 1, 0, 1, 0, 1, 1]})
    with pytest.raises(ValueError, match="every row with slow=1 has bought=1 .*perfect separation"):
        J.moments_of_truth(t, outcome="bought", factors=["slow"], kind="logit")
    ols = J.moments_of_truth(t, outcome="bought", factors=["slow"])
    assert ols.loc["slow", "effect"] == pytest.approx(1 - 3 / 5)


def test_exercise_checks_accept_reference_and_reject_wrong(company, capsys):
    from crmlab.check import ex13

    f = J.funnel(company.touchpoints).set_index("step")
    ex13.cart_abandonment_rate(f.loc["purchase", "drop_off"], company)
    with pytest.raises(AssertionError, match="is a percentage: give a fraction"):
        ex13.cart_abandonment_rate(100 * f.loc["purchase", "drop_off"], company)
    ex13.multichannel_comparison(J.omnichannel_summary(company.transactions, by="multichannel"), company)
    with pytest.raises(AssertionError, match="no column 'multichannel'"):
        ex13.multichannel_comparison(J.omnichannel_summary(company.transactions), company)
    et = J.experience_table(company.surveys, company.interactions)
    full = J.moments_of_truth(et, outcome="csat", factors=["complaint_resolved", "complaint_unresolved", "inquiry"])
    ex13.unresolved_complaint_effect(full.loc["complaint_unresolved", "effect"], company)
    alone = J.moments_of_truth(et, outcome="csat", factors=["complaint_unresolved"])
    with pytest.raises(AssertionError, match="unresolved complaint"):
        ex13.unresolved_complaint_effect(alone.loc["complaint_unresolved", "effect"] + 0.05, company)
    assert capsys.readouterr().out.count("correct") == 3
