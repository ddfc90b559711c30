"""CLV calculations, and the published CDNOW results rebuilt from the raw transaction log."""

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value, simple_clv

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def raw_summary():
    tx = crm.load_cdnow()
    calibration = tx[tx["date"] <= "1997-09-30"]
    return crm.features.customer_summary(calibration, observation_end="1997-09-30", time_unit="W",
                                         amount_col="amount")


@pytest.fixture(scope="module")
def fitted(raw_summary):
    bg = BetaGeoModel().fit(raw_summary)
    gg = GammaGammaModel().fit(raw_summary[raw_summary["frequency"] > 0])
    return bg, gg


# --- published numbers from the raw log --------------------------------------------------

def test_raw_log_reproduces_published_summary(raw_summary):
    published = crm.load_cdnow("summary_monetary")
    assert len(raw_summary) == 2357
    # the shipped summary is the raw log in weeks = days / 7, rounded to 0.01
    np.testing.assert_allclose(raw_summary[["frequency", "recency", "T"]], published[["frequency", "recency", "T"]],
                               atol=0.005 + 1e-9)
    np.testing.assert_allclose(raw_summary["monetary_value"], published["monetary_value"], atol=0.005 + 1e-9)


def test_raw_log_gives_published_estimates(raw_summary, fitted):
    bg, gg = fitted
    np.testing.assert_allclose(bg.params_.round(3).to_numpy(), [0.243, 4.414, 0.793, 2.426])
    assert round(bg.log_likelihood_, 1) == -9582.4
    pnbd = ParetoNBDModel().fit(raw_summary)
    np.testing.assert_allclose(pnbd.params_.round(3).to_numpy(), [0.553, 10.578, 0.606, 11.669])
    assert round(pnbd.log_likelihood_, 1) == -9595.0
    assert (raw_summary["frequency"] > 0).sum() == 946
    np.testing.assert_allclose(gg.params_.round(2).to_numpy(), [6.25, 3.74, 15.44])


def test_days_instead_of_weeks_changes_only_alpha(raw_summary):
    # the week convention: the same fit in days has alpha x 7 and identical r, a, b
    tx = crm.load_cdnow()
    days = crm.features.customer_summary(tx[tx["date"] <= "1997-09-30"], observation_end="1997-09-30",
                                         time_unit="D")
    bd, bw = BetaGeoModel().fit(days), BetaGeoModel().fit(raw_summary)
    assert bd.params_["alpha"] == pytest.approx(7 * bw.params_["alpha"], rel=1e-5)
    np.testing.assert_allclose(bd.params_[["r", "a", "b"]], bw.params_[["r", "a", "b"]], rtol=1e-5)


# --- simple CLV --------------------------------------------------------------------------

def test_simple_clv_equals_discounted_sum():
    m, r, d = 120.0, 0.75, 0.08
    brute = sum(m * r**t / (1 + d) ** t for t in range(1, 2000))
    assert simple_clv(m, r, d) == pytest.approx(brute, rel=1e-12)
    assert simple_clv(m, r, d) == pytest.approx(m * r / (1 + d - r), rel=1e-12)
    assert simple_clv(m, r, d, horizon=5) == pytest.approx(sum(m * r**t / (1 + d) ** t for t in range(1, 6)))
    out = simple_clv(np.array([100.0, 200.0]), np.array([0.5, 0.9]), 0.1)
    np.testing.assert_allclose(out, [100 * 0.5 / 0.6, 200 * 0.9 / 0.2])
    assert simple_clv(100, 0.0, 0.1) == 0.0


def test_simple_clv_errors():
    with pytest.raises(ValueError, match=r"retention must lie in \[0, 1\)"):
        simple_clv(100, 85, 0.1)
    with pytest.raises(ValueError, match="discount_rate must be >= 0"):
        simple_clv(100, 0.8, -0.1)
    with pytest.raises(TypeError, match="margin must be a number"):
        simple_clv("100", 0.8, 0.1)
    with pytest.raises(ValueError, match="horizon must be at least 1"):
        simple_clv(100, 0.8, 0.1, horizon=0)


# --- model-based CLV ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bg", "pnbd"])
def test_clv_matches_lifetimes(raw_summary, kind):
    """lifetimes' CLV with freq="M" (a month is its time unit, so no month length of its own)
    on the summary in months, with the rate parameters converted to months: our CLV from the
    weekly summary must be the same number."""
    s = raw_summary
    assert s.attrs["time_unit"] == "W"
    rft = s["frequency"], s["recency"], s["T"]
    weeks_per_month = 365.25 / 12 / 7
    if kind == "bg":
        lf_t = lifetimes.BetaGeoFitter().fit(*rft)
        ours_t = BetaGeoModel.from_params(**lf_t.params_.to_dict(), time_unit="W")
        monthly = lf_t.params_.copy()
        monthly["alpha"] /= weeks_per_month
        lf_m = lifetimes.BetaGeoFitter()
    else:
        lf_t = lifetimes.ParetoNBDFitter().fit(*rft)
        ours_t = ParetoNBDModel.from_params(**lf_t.params_.to_dict(), time_unit="W")
        monthly = lf_t.params_.copy()
        monthly[["alpha", "beta"]] /= weeks_per_month
        lf_m = lifetimes.ParetoNBDFitter()
    lf_m.params_ = monthly
    lf_m.predict = lf_m.conditional_expected_number_of_purchases_up_to_time  # what lifetimes' fit sets
    rep = s[s["frequency"] > 0]
    lf_g = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    p, q, v = lf_g.params_
    ours_g = GammaGammaModel.from_params(p=p, q=q, gamma=v)
    in_months = s["frequency"], s["recency"] / weeks_per_month, s["T"] / weeks_per_month
    for horizon, rate in [(12, 0.01), (6, 0.0), (24, 0.02)]:
        expected = lf_g.customer_lifetime_value(lf_m, *in_months, s["monetary_value"], time=horizon,
                                                discount_rate=rate, freq="M")
        got = customer_lifetime_value(ours_t, ours_g, s, horizon_months=horizon, discount_rate=rate)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)
        assert got.index.equals(s.index)
    # lifetimes' own weekly month (4.345 weeks, not 4.348) differs by less than the month lengths do
    weekly = lf_g.customer_lifetime_value(lf_t, *rft, s["monetary_value"], time=12, discount_rate=0.01, freq="W")
    got = customer_lifetime_value(ours_t, ours_g, s, horizon_months=12, discount_rate=0.01)
    ratio = got.sum() / weekly.sum()
    assert 1 < ratio < weeks_per_month / 4.345 + 1e-9


@pytest.fixture(scope="module")
def cdnow_calibration_log():
    tx = crm.load_cdnow()
    return tx[tx["date"] <= "1997-09-30"]


def test_default_day_chain_equals_weekly_chain(cdnow_calibration_log):
    """The measured silent bug: the default chain (a summary in days) gave a mean 12-month
    CLV of 5.38 against 30.34 for the weekly chain. Each model now carries its unit."""
    tx = cdnow_calibration_log
    days = crm.features.customer_summary(tx, amount_col="amount", observation_end="1997-09-30")
    weeks = crm.features.customer_summary(tx, amount_col="amount", observation_end="1997-09-30", time_unit="W")
    assert days.attrs["time_unit"] == "D" and weeks.attrs["time_unit"] == "W"
    bg_d, bg_w = BetaGeoModel().fit(days), BetaGeoModel().fit(weeks)
    assert (bg_d.time_unit_, bg_w.time_unit_) == ("D", "W")
    gg_d = GammaGammaModel().fit(days[days["frequency"] > 0])
    gg_w = GammaGammaModel().fit(weeks[weeks["frequency"] > 0])
    clv_d = customer_lifetime_value(bg_d, gg_d, days)
    clv_w = customer_lifetime_value(bg_w, gg_w, weeks)
    # the two fits are the same maximum in two units (alpha_D = 7 alpha_W): CLV agrees to the optimiser's tolerance
    np.testing.assert_allclose(clv_d.to_numpy(), clv_w.to_numpy(), rtol=1e-4)
    assert clv_d.mean() == pytest.approx(clv_w.mean(), rel=1e-5)
    # and both equal the published-parameter CLV (Fader, Hardie & Lee 2005, weeks) at the week chain's spend model
    published = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    np.testing.assert_allclose(customer_lifetime_value(published, gg_w, weeks).mean(), clv_w.mean(), rtol=2e-3)
    # an explicit check of the horizon: 12 months = 365.25 days = 52.18 weeks of expected purchases
    undiscounted = customer_lifetime_value(bg_d, gg_d, days, discount_rate=0.0)
    direct = bg_w.predict_purchases(weeks, 365.25 / 7) * gg_w.conditional_expected_spend(weeks)
    np.testing.assert_allclose(undiscounted, direct, rtol=1e-4)


def test_mixing_time_units_raises(cdnow_calibration_log):
    tx = cdnow_calibration_log
    days = crm.features.customer_summary(tx, amount_col="amount", observation_end="1997-09-30")
    weeks = crm.features.customer_summary(tx, amount_col="amount", observation_end="1997-09-30", time_unit="W")
    bg_d = BetaGeoModel().fit(days)
    gg = GammaGammaModel().fit(days[days["frequency"] > 0])
    with pytest.raises(ValueError, match=r"summary is in time_unit='W' \(weeks.*fitted in time_unit_='D' \(days"):
        customer_lifetime_value(bg_d, gg, weeks)
    with pytest.raises(ValueError, match=r"time_unit='W' \(weeks\) does not match BetaGeoModel.time_unit_ "
                                         r"\(the unit it was fitted in\), which is in days"):
        customer_lifetime_value(bg_d, gg, days, time_unit="W")
    with pytest.raises(ValueError, match="summary is in time_unit='W'"):
        bg_d.predict_purchases(weeks, 30)
    with pytest.raises(ValueError, match="summary is in time_unit='W'"):
        bg_d.probability_alive(weeks)
    with pytest.raises(ValueError, match=r"time_unit='D' \(days\) but the summary records time_unit='W'"):
        BetaGeoModel().fit(weeks, time_unit="D")
    # the explicit unit of a summary without attrs is recorded, and then checked
    bare = days.copy()
    bare.attrs = {}
    assert BetaGeoModel().fit(bare, time_unit="D").time_unit_ == "D"
    assert BetaGeoModel().fit(bare).time_unit_ == "D"   # the documented default
    assert customer_lifetime_value(bg_d, gg, days, time_unit="D").equals(customer_lifetime_value(bg_d, gg, days))


def test_clv_discounting_and_margin(fitted, raw_summary):
    bg, gg = fitted
    undiscounted = customer_lifetime_value(bg, gg, raw_summary, horizon_months=12, discount_rate=0.0)
    # no discounting: expected purchases in 12 months (one year = 365.25 / 7 weeks) times expected spend
    direct = bg.predict_purchases(raw_summary, 365.25 / 7) * gg.conditional_expected_spend(raw_summary)
    np.testing.assert_allclose(undiscounted, direct, rtol=1e-10)
    discounted = customer_lifetime_value(bg, gg, raw_summary, horizon_months=12, discount_rate=0.02)
    assert (discounted < undiscounted).all()
    half = customer_lifetime_value(bg, gg, raw_summary, horizon_months=12, discount_rate=0.02, margin=0.5)
    np.testing.assert_allclose(half, 0.5 * discounted)


def test_clv_interval(fitted, raw_summary):
    bg, gg = fitted
    few = raw_summary.iloc[:300]
    out = customer_lifetime_value(bg, gg, few, horizon_months=12, confidence=0.9, n_draws=100, random_state=0)
    assert list(out.columns) == ["clv", "lower", "upper"]
    assert (out["lower"] <= out["upper"]).all()
    inside = (out["lower"] <= out["clv"]) & (out["clv"] <= out["upper"])
    assert inside.mean() > 0.95
    again = customer_lifetime_value(bg, gg, few, horizon_months=12, confidence=0.9, n_draws=100, random_state=0)
    pd.testing.assert_frame_equal(out, again)
    wider = customer_lifetime_value(bg, gg, few, horizon_months=12, confidence=0.99, n_draws=100, random_state=0)
    assert ((wider["upper"] - wider["lower"]) >= (out["upper"] - out["lower"]) - 1e-12).all()


def test_clv_errors(fitted, raw_summary):
    bg, gg = fitted
    with pytest.raises(TypeError, match="spend_model must be a fitted GammaGammaModel"):
        customer_lifetime_value(bg, bg, raw_summary)
    with pytest.raises(TypeError, match="transaction_model must be"):
        customer_lifetime_value(gg, gg, raw_summary)
    with pytest.raises(ValueError, match="time_unit='Y' is not allowed"):
        customer_lifetime_value(bg, gg, raw_summary, time_unit="Y")
    with pytest.raises(ValueError, match="horizon_months must be at least 1"):
        customer_lifetime_value(bg, gg, raw_summary, horizon_months=0)
    with pytest.raises(TypeError, match="horizon"):
        customer_lifetime_value(bg, gg, raw_summary, horizon=12)
    with pytest.raises(ValueError, match="discount_rate must be a monthly rate"):
        customer_lifetime_value(bg, gg, raw_summary, discount_rate=10)
    with pytest.raises(ValueError, match="no column 'monetary_value'"):
        customer_lifetime_value(bg, gg, raw_summary.drop(columns="monetary_value"))
    given = BetaGeoModel.from_params(**bg.params_.to_dict(), time_unit="W")
    with pytest.raises(ValueError, match="no standard errors"):
        customer_lifetime_value(given, gg, raw_summary, confidence=0.9)
    with pytest.raises(ValueError, match="needs exactly the parameters"):
        BetaGeoModel.from_params(r=1.0, alpha=2.0)


def test_clv_per_customer_margin(fitted, raw_summary):
    """A Series of margin rates scales each customer's revenue by her own rate (hand-worked: two
    customers at 30% and 10%, one month, no discounting: CLV = m * E[spend] * E[X(one month)])."""
    bg, gg = fitted
    two = raw_summary[raw_summary["frequency"] > 0].iloc[:2]
    rates = pd.Series([0.3, 0.1], index=two.index[::-1])      # order does not matter: aligned on the index
    out = customer_lifetime_value(bg, gg, two, horizon_months=1, discount_rate=0.0, margin=rates)
    month = 365.25 / 12 / 7                                    # one month in weeks
    by_hand = bg.predict_purchases(two, month) * gg.conditional_expected_spend(two)
    np.testing.assert_allclose(out.to_numpy(), [0.1 * by_hand.iloc[0], 0.3 * by_hand.iloc[1]], rtol=1e-10)
    # one rate for everybody as a Series equals the same number
    flat = customer_lifetime_value(bg, gg, two, margin=pd.Series(0.3, index=two.index))
    np.testing.assert_allclose(flat, customer_lifetime_value(bg, gg, two, margin=0.3))
    # the interval scales with each customer's margin too
    few = raw_summary.iloc[:50]
    rates = pd.Series(np.linspace(0.1, 0.5, len(few)), index=few.index)
    rev = customer_lifetime_value(bg, gg, few, confidence=0.9, n_draws=50, random_state=1)
    mar = customer_lifetime_value(bg, gg, few, confidence=0.9, n_draws=50, random_state=1, margin=rates)
    np.testing.assert_allclose(mar.to_numpy(), rev.to_numpy() * rates.to_numpy()[:, None], rtol=1e-10)


@pytest.mark.parametrize("margin, error, match", [
    ("missing", ValueError, "no value for 1 customer"),
    ("negative", ValueError, "finite and >= 0"),
    ("nan", ValueError, "finite and >= 0"),
    ("duplicate", ValueError, "duplicate customers"),
    ("text", TypeError, "must hold numbers"),
])
def test_clv_per_customer_margin_bad_input(fitted, raw_summary, margin, error, match):
    bg, gg = fitted
    few = raw_summary.iloc[:5]
    rates = pd.Series(0.3, index=few.index)
    bad = {"missing": rates.iloc[1:], "negative": rates.mask(rates.index == rates.index[2], -0.1),
           "nan": rates.mask(rates.index == rates.index[0], np.nan),
           "duplicate": pd.concat([rates, rates.iloc[:1]]), "text": rates.astype(str)}[margin]
    with pytest.raises(error, match=match):
        customer_lifetime_value(bg, gg, few, margin=bad)
