"""The simulated company: schema, determinism, and the story its tables tell.

Recovery tests compare estimates with the configured ground truth, using independent
estimators (lifetimes' fitters, plain group means).
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from scipy import stats

import crmlab as crm
from crmlab.data.schema import TABLES
from crmlab.synth import Segment, SimulationConfig

DIGITAL = ("web", "app", "mini_program")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=8000, seed=11)


def _dtype_ok(series, dtype):
    if dtype == "str":
        return pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series)
    return str(series.dtype) == dtype


def test_tables_follow_the_schema(data):
    for name, columns in TABLES.items():
        df = data.tables[name]
        assert list(df.columns) == list(columns), name
        for col, (dtype, _, _) in columns.items():
            assert _dtype_ok(df[col], dtype), (name, col, df[col].dtype, dtype)
    assert data.observation_end == pd.Timestamp("2024-12-31 23:59:59")


def _table_hashes(d):
    return {k: int(pd.util.hash_pandas_object(v, index=True).sum()) for k, v in d.tables.items()}


def test_same_seed_same_tables_different_seed_different():
    a = _table_hashes(crm.synth.generate(n_customers=1500, seed=5))
    b = _table_hashes(crm.synth.generate(n_customers=1500, seed=5))
    c = _table_hashes(crm.synth.generate(n_customers=1500, seed=6))
    assert a == b
    assert all(a[k] != c[k] for k in a if k != "products") and a["transactions"] != c["transactions"]


def _btyd_summary(tx, obs_end):
    """Independent summary in weeks with same-day purchases merged (lifetimes' definitions)."""
    day = tx.assign(day=tx["date"].dt.normalize()).groupby(["customer_id", "day"])["amount"].sum().reset_index()
    g = day.groupby("customer_id")["day"]
    first, last = g.min(), g.max()
    out = pd.DataFrame({
        "frequency": g.size() - 1,
        "recency": (last - first).dt.days / 7,
        "T": (obs_end.normalize() - first).dt.days / 7,
    })
    repeat = day[day["day"] > day["customer_id"].map(first)]
    out["monetary_value"] = repeat.groupby("customer_id")["amount"].mean()
    return out


def test_single_segment_recovers_bgnbd_and_gamma_gamma():
    seg = Segment("all", 1.0, r=0.8, alpha=6.0, a=0.6, b=3.0, p_spend=6.0, q_spend=4.0, gamma_spend=40.0)
    d = crm.synth.generate(
        n_customers=30000, seed=3, segments=(seg,), complaint_prob=0.0, membership_effect=0.0,
        campaign_effect=0.0, satisfaction_dropout_effect=0.0,
    )
    s = _btyd_summary(d.transactions, d.observation_end)
    bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    # tolerance: 20% per parameter at 30,000 customers (r and alpha, a and b trade off)
    for name, true in {"r": seg.r, "alpha": seg.alpha, "a": seg.a, "b": seg.b}.items():
        assert bg.params_[name] == pytest.approx(true, rel=0.2), name
    rep = s[s["frequency"] > 0]
    gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    p, q, g = gg.params_["p"], gg.params_["q"], gg.params_["v"]
    for est, true in ((p, seg.p_spend), (q, seg.q_spend), (g, seg.gamma_spend)):
        assert est == pytest.approx(true, rel=0.3)
    # the population mean spend p*gamma/(q-1) is pinned down much more tightly
    assert p * g / (q - 1) == pytest.approx(seg.p_spend * seg.gamma_spend / (seg.q_spend - 1), rel=0.1)


def test_truth_matches_configured_segments(data):
    cfg = data.config
    t = data.truth
    for seg in cfg.segments:
        rows = t[t["segment"] == seg.name]
        assert len(rows) / len(t) == pytest.approx(seg.share, abs=0.03)
        assert rows["purchase_rate"].mean() == pytest.approx(seg.r / seg.alpha, rel=0.15)
        assert rows["dropout_prob"].mean() == pytest.approx(seg.a / (seg.a + seg.b), rel=0.15)


def test_complaints_lower_satisfaction_by_the_configured_amount():
    d = crm.synth.generate(n_customers=30000, seed=2)
    cfg = d.config
    comp = d.interactions[d.interactions["type"] == "complaint"]
    by_cust = comp.groupby("customer_id")["resolved"].agg(["size", "sum"])
    t = d.truth.set_index("customer_id")
    t["n_c"] = by_cust["size"].reindex(t.index, fill_value=0)
    t["n_res"] = by_cust["sum"].reindex(t.index, fill_value=0)
    none = t[(t["n_c"] == 0) & t["is_buyer"]]
    unresolved = t[(t["n_c"] == 1) & (t["n_res"] == 0)]
    resolved = t[(t["n_c"] == 1) & (t["n_res"] == 1)]
    # compare within segment (complainers buy more, and segments differ in satisfaction)
    for seg in ("champions", "loyal_regulars"):
        base = none.loc[none["segment"] == seg, "satisfaction"].mean()
        drop_unres = unresolved.loc[unresolved["segment"] == seg, "satisfaction"].mean() - base
        drop_res = resolved.loc[resolved["segment"] == seg, "satisfaction"].mean() - base
        assert drop_unres == pytest.approx(cfg.complaint_effect, abs=0.3)
        assert drop_res == pytest.approx(cfg.complaint_effect + cfg.recovery_effect, abs=0.3)
    # the survey sees it too: CSAT after a complaint is lower
    s = d.surveys.merge(comp[["customer_id", "date"]].rename(columns={"date": "c_date"}), on="customer_id", how="left")
    had = s.groupby("survey_id").apply(lambda g: bool((g["c_date"] < g["date"]).any()), include_groups=False)
    csat = d.surveys.set_index("survey_id")["csat"]
    assert csat[had[had].index].mean() < csat[had[~had].index].mean() - 0.2


def test_lower_satisfaction_raises_dropout_only_when_configured():
    def alive_gap(effect):
        d = crm.synth.generate(n_customers=20000, seed=4, satisfaction_dropout_effect=effect, campaign_effect=0.0)
        t = d.truth[d.truth["is_buyer"]]
        q = pd.qcut(t["satisfaction"], 4, labels=False)
        alive = t.groupby(q)["alive_at_end"].mean()
        return alive.iloc[-1] - alive.iloc[0]

    assert alive_gap(0.5) > 0.1
    assert abs(alive_gap(0.0)) < 0.04


def test_campaign_is_randomised_and_difference_estimates_true_uplift():
    d = crm.synth.generate(n_customers=40000, seed=8)
    c = d.campaigns.merge(d.truth, on="customer_id")
    assert c["treated"].mean() == pytest.approx(d.config.campaign_treated_share, abs=0.02)
    # balance: randomisation ignores everything about the customer
    assert c.groupby("treated")["purchase_rate"].mean().diff().abs().iloc[-1] < 0.01
    dropped = (~c["alive_at_end"]) & c["is_buyer"]
    diff = dropped[~c["treated"]].mean() - dropped[c["treated"]].mean()
    se = np.sqrt(dropped[~c["treated"]].var() / (~c["treated"]).sum() + dropped[c["treated"]].var() / c["treated"].sum())
    assert diff > 0
    assert abs(diff - c["true_uplift"].mean()) < 3 * se
    assert (c.loc[~c["alive_at_campaign"], "true_uplift"] == 0).all()
    # the rate boost adds purchases, so a customer the offer barely protects can drop out
    # sooner (a "sleeping dog"); without it no one is harmed
    assert (d.truth["true_uplift"] < 0).mean() < 0.05
    no_boost = crm.synth.generate(n_customers=3000, seed=8, campaign_rate_effect=0.0)
    assert (no_boost.truth["true_uplift"] >= 0).all()


def test_offer_raises_the_purchase_rate_by_the_configured_factor():
    d = crm.synth.generate(n_customers=40000, seed=8)
    c = d.campaigns.merge(d.truth, on="customer_id")
    alive = c[c["alive_at_campaign"]].set_index("customer_id")
    day = pd.Timestamp(d.config.campaign_date)
    tx = d.transactions[d.transactions["date"].between(day, day + pd.Timedelta(weeks=4), inclusive="left")]
    n = tx.groupby("customer_id").size().reindex(alive.index, fill_value=0)
    ratio = n[alive["treated"]].mean() / n[~alive["treated"]].mean()
    assert ratio == pytest.approx(1 + d.config.campaign_rate_effect, rel=0.08)


def _retention_effect(data):
    """Treated - control retention of the campaign table (90-day outcome) and its standard error."""
    tab = crm.uplift.campaign_table(data)
    g = tab.groupby("treated")["retained"].agg(["size", "mean"])
    se = np.sqrt((g["mean"] * (1 - g["mean"]) / g["size"]).sum())
    return g.loc[1, "mean"] - g.loc[0, "mean"], se, g


def test_shipped_campaign_has_the_documented_power_and_shows_the_true_effect():
    """Power of the shipped design at the effect a company 30 times larger reveals (statsmodels)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    shipped = crm.load_retail()
    big = crm.synth.generate(n_customers=150000, seed=21, config=shipped.config)
    true_diff, true_se, true_groups = _retention_effect(big)
    diff, se, groups = _retention_effect(shipped)
    base = true_groups.loc[0, "mean"]
    power = NormalIndPower().power(proportion_effectsize(base + true_diff, base), nobs1=groups.loc[1, "size"],
                                   ratio=groups.loc[0, "size"] / groups.loc[1, "size"], alpha=0.05)
    assert power >= 0.8
    # the shipped estimate lies in the interval its sampling error allows around the truth
    assert abs(diff - true_diff) < 1.96 * np.hypot(se, true_se)
    # the data card states this power
    card = (ROOT / "datasets" / "README.md").read_text()
    stated = re.search(r"power of the shipped design is (\d+) %", card)
    assert stated, "the data card states the campaign's power"
    assert int(stated.group(1)) == pytest.approx(100 * power, abs=4)


def test_order_lines_sum_to_transaction_amounts(data):
    total = data.order_lines.groupby("transaction_id")["line_amount"].sum()
    amounts = data.transactions.set_index("transaction_id")["amount"]
    np.testing.assert_array_equal(np.round(total.reindex(amounts.index) * 100), np.round(amounts * 100))
    assert (data.order_lines.groupby("transaction_id").size() == data.transactions.set_index("transaction_id")["n_items"]).all()
    assert data.order_lines["product_id"].isin(data.products["product_id"]).all()


def test_every_digital_purchase_has_a_preceding_visit(data):
    tp = data.touchpoints
    digital = data.transactions[data.transactions["channel"].isin(DIGITAL)]
    buys = tp[tp["event"] == "purchase"]
    assert set(buys["transaction_id"].astype(int)) == set(digital["transaction_id"])
    visits = tp[tp["event"] == "visit"].groupby("session_id")["timestamp"].min()
    b = buys.set_index("transaction_id")
    tp_cols = b[["session_id", "timestamp", "channel", "customer_id"]].add_suffix("_tp")
    merged = digital.set_index("transaction_id").join(tp_cols)
    assert (merged["channel"] == merged["channel_tp"]).all()
    assert (merged["customer_id"] == merged["customer_id_tp"]).all()
    assert (merged["date"] == merged["timestamp_tp"]).all()
    assert (merged["session_id_tp"].map(visits) < merged["date"]).all()
    assert not data.transactions.loc[data.transactions["channel"] == "store", "transaction_id"].isin(buys["transaction_id"].astype(int)).any()


def test_nothing_before_signup_or_after_dropout_or_observation_end(data):
    signup = data.customers.set_index("customer_id")["signup_date"]
    dropout = data.truth.set_index("customer_id")["dropout_date"]
    end = data.observation_end
    events = {
        "transactions": ("date",), "interactions": ("date",), "surveys": ("date",),
        "touchpoints": ("timestamp",),
    }
    for name, (col,) in events.items():
        df = data.tables[name]
        when = df[col]
        cust = df["customer_id"]
        assert (when >= cust.map(signup)).all(), name
        assert (when <= end).all(), name
        limit = cust.map(dropout)
        ok = limit.isna() | (when <= limit)
        assert ok.all(), (name, df[~ok].head())
    members = data.customers[data.customers["is_member"]]
    assert (members["member_since"] >= members["signup_date"]).all()
    assert (members["member_since"] <= end).all()
    assert data.customers.loc[~data.customers["is_member"], "member_since"].isna().all()
    assert (data.campaigns["customer_id"].map(signup) < data.campaigns["campaign_date"]).all()


def test_prospects_never_buy(data):
    buyers = set(data.transactions["customer_id"])
    t = data.truth.set_index("customer_id")
    assert buyers == set(t.index[t["is_buyer"]])


def test_first_purchase_delay_follows_the_configured_lognormal():
    d = crm.synth.generate(n_customers=20000, seed=13)
    cfg = d.config
    signup = d.customers.set_index("customer_id")["signup_date"]
    early = signup[signup < "2024-01-01"]  # a year or more to buy: the delay is hardly censored
    first = d.transactions.groupby("customer_id")["date"].min().reindex(early.index)
    days = ((first - early).dt.total_seconds() / 86400).dropna()
    ks = stats.kstest(days, stats.lognorm(s=cfg.first_purchase_delay_sigma,
                                          scale=cfg.first_purchase_delay_median_days).cdf)
    assert ks.pvalue > 0.001
    assert days.median() == pytest.approx(cfg.first_purchase_delay_median_days, rel=0.08)
    # many buy within days, some after weeks, some never
    assert (days <= 7).mean() > 0.6 and (days > 14).mean() > 0.1
    never = first.isna().mean()
    assert never == pytest.approx(cfg.prospect_share, abs=3 * np.sqrt(cfg.prospect_share / len(early)) + 0.002)
    # so a customer who has not bought two weeks after signing up may still buy later
    late = stats.lognorm(s=cfg.first_purchase_delay_sigma, scale=cfg.first_purchase_delay_median_days).sf(14)
    waiting = (1 - cfg.prospect_share) * late
    converts = ((first - early).dt.days > 14).sum() / (((first - early).dt.days > 14) | first.isna()).sum()
    assert converts == pytest.approx(waiting / (waiting + cfg.prospect_share), abs=0.04)


def test_time_to_convert_is_the_configured_minutes_per_step(data):
    """Median minutes from visit to purchase: the sum of Gamma(2) gaps, one per step after the visit."""
    cfg = data.config
    gaps = {"visit > cart > purchase": 2, "visit > browse > cart > purchase": 3,
            "visit > browse > cart > browse > cart > purchase": 5}
    medians = {}
    for channel, events in data.touchpoints.groupby("channel"):
        paths = crm.journey.top_paths(events, collapse_repeats=False).set_index("path")
        for path, k in gaps.items():
            expected = stats.gamma(2 * k, scale=cfg.step_minutes[channel] / 2).median()
            assert paths.loc[path, "median_minutes"] == pytest.approx(expected, rel=0.12), (channel, path)
            medians[channel, path] = paths.loc[path, "median_minutes"]
    # documented order: the app converts fastest, the web slowest; reorders beat comparers
    path = "visit > browse > cart > purchase"
    assert medians["app", path] < medians["mini_program", path] < medians["web", path]
    for channel in DIGITAL:
        assert medians[channel, "visit > cart > purchase"] < medians[channel, path] < medians[
            channel, "visit > browse > cart > browse > cart > purchase"]


def test_survey_respondents_are_the_configured_random_share_of_buyers():
    d = crm.synth.generate(n_customers=20000, seed=14)
    share = d.config.survey_response_share
    buyers = d.truth.loc[d.truth["is_buyer"], "customer_id"]
    s = d.surveys
    assert s["customer_id"].is_unique
    assert s["customer_id"].isin(buyers).all()
    got = len(s) / len(buyers)
    assert got == pytest.approx(share, abs=3 * np.sqrt(share * (1 - share) / len(buyers)) + 0.005)
    # random among buyers: respondents buy as often as everyone else
    n_orders = d.transactions.groupby("customer_id").size()
    resp, rest = n_orders[n_orders.index.isin(s["customer_id"])], n_orders[~n_orders.index.isin(s["customer_id"])]
    assert stats.mannwhitneyu(resp, rest).pvalue > 0.001
    # ... and the surveyed purchase is any of theirs, not the first or the last
    tx = d.transactions.assign(rank=d.transactions.groupby("customer_id").cumcount() + 1)
    tx = tx.merge(n_orders.rename("n"), left_on="customer_id", right_index=True)
    pos = s.merge(tx[["transaction_id", "rank", "n"]], on="transaction_id")
    multi = pos[pos["n"] >= 2]
    u = (multi["rank"] - 0.5) / multi["n"]
    assert u.mean() == pytest.approx(0.5, abs=0.03)


def test_members_self_select_on_purchase_rate(data):
    t = data.truth.merge(data.customers[["customer_id", "is_member"]], on="customer_id")
    assert t.loc[t["is_member"], "purchase_rate"].mean() > 1.5 * t.loc[~t["is_member"], "purchase_rate"].mean()


def test_config_validation_and_overrides():
    with pytest.raises(ValueError, match="shares must be positive and sum to 1"):
        SimulationConfig(segments=(Segment("x", 0.5, 1, 1, 1, 1, 1, 1, 1),))
    with pytest.raises(TypeError, match="Unknown simulation parameter"):
        crm.synth.generate(n_customers=10, complaint_probability=0.1)
    with pytest.raises(ValueError, match="n_customers must be at least 1"):
        crm.synth.generate(n_customers=0)
    with pytest.raises(TypeError, match="n_customers must be an integer"):
        crm.synth.generate(n_customers=10.5)
    with pytest.raises(ValueError, match="end .* must be after start"):
        crm.synth.generate(n_customers=10, start="2024-01-01", end="2023-01-01")
    with pytest.raises(ValueError, match="first_purchase_delay_median_days must be a positive number"):
        SimulationConfig(first_purchase_delay_median_days=0)
    with pytest.raises(ValueError, match="step_minutes has no entry for the digital channel"):
        SimulationConfig(step_minutes={"web": 5.0})
    with pytest.raises(ValueError, match="step_minutes must be positive"):
        SimulationConfig(step_minutes={"web": 5.0, "app": -1.0, "mini_program": 2.0})
    with pytest.raises(ValueError, match="survey_response_share must lie in"):
        SimulationConfig(survey_response_share=1.5)
    with pytest.raises(ValueError, match="campaign_rate_effect must be a non-negative number"):
        SimulationConfig(campaign_rate_effect=-0.1)
    d = crm.synth.generate(n_customers=500, seed=1, complaint_prob=0.0)
    assert (d.interactions["type"] == "inquiry").all()
    assert d.config.complaint_prob == 0.0


def test_bgnbd_summary_recovers_its_parameters_with_lifetimes():
    s = crm.synth.bgnbd_summary(50000, r=0.8, alpha=6.0, a=0.6, b=3.0, T=104, seed=2)
    assert ((s["recency"] >= 0) & (s["recency"] <= s["T"])).all()
    assert ((s["frequency"] == 0) == (s["recency"] == 0)).all()
    bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    for name, true in {"r": 0.8, "alpha": 6.0, "a": 0.6, "b": 3.0}.items():
        assert bg.params_[name] == pytest.approx(true, rel=0.1), name
    with pytest.raises(ValueError, match="alpha must be a positive number"):
        crm.synth.bgnbd_summary(10, r=1, alpha=-1, a=1, b=1)


def test_journeys_follow_the_configured_channel_behaviour(data):
    cfg = data.config
    tp = data.touchpoints
    events = tp.groupby("session_id").agg(channel=("channel", "first"), path=("event", " > ".join))
    bought = events["path"].str.endswith("purchase")
    for channel, share in cfg.reorder_share.items():
        paths = events.loc[bought & (events["channel"] == channel), "path"]
        assert (paths == "visit > cart > purchase").mean() == pytest.approx(share, abs=0.03), channel
    assert (events.loc[bought, "path"] == "visit > browse > cart > browse > cart > purchase").mean() == pytest.approx(
        cfg.compare_share, abs=0.03)
    # abandoned carts: browsing sessions reaching the cart, in the configured order by channel
    browsing = events[~bought]
    reach = browsing.groupby("channel")["path"].apply(lambda p: p.str.contains("cart").mean())
    order = sorted(cfg.cart_reach_prob, key=cfg.cart_reach_prob.get)
    assert list(reach.sort_values().index) == order


def test_unresolved_complaints_lead_to_abandoned_carts():
    d = crm.synth.generate(n_customers=20000, seed=12, complaint_prob=0.15)
    tp = d.touchpoints
    sessions = tp.groupby("session_id").agg(customer_id=("customer_id", "first"), start=("timestamp", "min"),
                                            path=("event", " > ".join))
    browsing = sessions[~sessions["path"].str.endswith("purchase")].reset_index()
    comp = d.interactions[(d.interactions["type"] == "complaint") & ~d.interactions["resolved"]]
    merged = pd.merge_asof(browsing.sort_values("start"), comp[["customer_id", "date"]].sort_values("date"),
                           left_on="start", right_on="date", by="customer_id")
    recent = (merged["start"] - merged["date"]) <= pd.Timedelta(weeks=8)
    cart = merged["path"].str.contains("cart")
    ratio = cart[recent].mean() / cart[~recent].mean()
    assert ratio == pytest.approx(d.config.complaint_abandonment_factor, rel=0.25)
