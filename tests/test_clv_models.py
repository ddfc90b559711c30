"""crmlab.clv models against published estimates and against lifetimes' fitters."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import crmlab as crm
from crmlab.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    ConvergenceWarning,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
)

lifetimes = pytest.importorskip("lifetimes")

RTOL = 1e-6


@pytest.fixture(scope="module")
def cdnow():
    return crm.load_cdnow("summary")


@pytest.fixture(scope="module")
def cdnow_monetary():
    return crm.load_cdnow("summary_monetary")


@pytest.fixture(scope="module")
def donations():
    return crm.load_donations()


@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return ParetoNBDModel().fit(cdnow)


def _rft(df):
    return df["frequency"], df["recency"], df["T"]


# --- published estimates -----------------------------------------------------------------

def test_bgnbd_published_cdnow(bg):
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), Table/Section 5
    np.testing.assert_allclose(bg.params_.round(3).to_numpy(), [0.243, 4.414, 0.793, 2.426])
    assert list(bg.params_.index) == ["r", "alpha", "a", "b"]
    assert round(bg.log_likelihood_, 1) == -9582.4
    assert bg.n_customers_ == 2357


def test_pareto_nbd_published_cdnow(pnbd):
    # beta is poorly identified (se ~6): the shipped summary, rounded to 0.01 week, puts its
    # maximum at 11.6679; the raw log gives 11.669 exactly (test_clv_value.py)
    np.testing.assert_allclose(pnbd.params_.round(3).to_numpy()[:3], [0.553, 10.578, 0.606])
    assert pnbd.params_["beta"] == pytest.approx(11.669, abs=1.5e-3)
    assert list(pnbd.params_.index) == ["r", "alpha", "s", "beta"]
    assert round(pnbd.log_likelihood_, 1) == -9595.0


def test_gamma_gamma_published_cdnow(cdnow_monetary):
    repeat = cdnow_monetary[cdnow_monetary["frequency"] > 0]
    assert len(repeat) == 946
    gg = GammaGammaModel().fit(repeat)
    # Fader, Hardie & Lee (2005) "RFM and CLV": p=6.25, q=3.74, gamma=15.44. The shipped summary
    # rounds mean spend to cents, which moves gamma in the second decimal (15.448); the raw log
    # gives 15.44 exactly (test_clv_value.py).
    np.testing.assert_allclose(gg.params_.to_numpy(), [6.25, 3.74, 15.44], atol=0.01)
    assert list(gg.params_.index) == ["p", "q", "gamma"]


def test_bgbb_published_donations(donations):
    m = BetaGeoBetaBinomModel().fit(donations, weights="weights")
    # Fader, Hardie & Shang (2010), Marketing Science 29(6)
    np.testing.assert_allclose(m.params_.round(3).to_numpy(), [1.204, 0.750, 0.657, 2.783])
    assert round(m.log_likelihood_, 1) == -33225.6
    assert m.n_customers_ == 11104


def test_sbg_published_regular_cohort():
    m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    # Fader & Hardie (2007), "How to project customer retention", regular segment
    np.testing.assert_allclose(m.params_.round(3).to_numpy(), [0.704, 1.182])
    # ... and the high-end segment of the same paper
    high = ShiftedBetaGeometricModel().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    np.testing.assert_allclose(high.params_.round(3).to_numpy(), [0.668, 3.806])


def test_sbg_predictions_follow_definitions():
    m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    alpha, beta = m.params_
    t = np.arange(1, 13)
    # survival by the recursion S(t) = S(t-1) * (beta + t - 1) / (alpha + beta + t - 1)
    surv = np.cumprod((beta + t - 1) / (alpha + beta + t - 1))
    np.testing.assert_allclose(m.survival(t), surv, rtol=1e-12)
    np.testing.assert_allclose(m.churn_probability(t), np.r_[1, surv[:-1]] - surv, rtol=1e-10)
    np.testing.assert_allclose(m.retention_rate(t), surv / np.r_[1, surv[:-1]], rtol=1e-12)
    # DEL against a brute-force discounted sum
    big_t = np.arange(0, 5000)
    brute = np.sum(np.r_[1, np.cumprod((beta + big_t[1:] - 1) / (alpha + beta + big_t[1:] - 1))] / 1.1 ** big_t)
    assert m.discounted_expected_lifetime(0.1) == pytest.approx(brute, rel=1e-8)


# --- identical to lifetimes --------------------------------------------------------------

def test_bgnbd_matches_lifetimes(cdnow, bg):
    lf = lifetimes.BetaGeoFitter().fit(*_rft(cdnow))
    np.testing.assert_allclose(bg.params_.to_numpy(), lf.params_.to_numpy(), rtol=1e-5)
    # predictions at the same parameters
    bg2 = BetaGeoModel.from_params(**lf.params_.to_dict(), time_unit="W")
    for t in (1.0, 10.0, 39.0, 200.0):
        np.testing.assert_allclose(bg2.predict_purchases(cdnow, t),
                                   lf.conditional_expected_number_of_purchases_up_to_time(t, *_rft(cdnow)), rtol=RTOL)
    np.testing.assert_allclose(bg2.probability_alive(cdnow), lf.conditional_probability_alive(*_rft(cdnow)),
                               rtol=RTOL)
    t = np.array([1.0, 5.0, 39.0, 78.0])
    np.testing.assert_allclose(bg2.expected_purchases_new(t), lf.expected_number_of_purchases_up_to_time(t), rtol=RTOL)
    for n in range(0, 6):
        assert bg2.probability_of_purchases(39, n) == pytest.approx(
            float(lf.probability_of_n_purchases_up_to_time(39, n)), rel=RTOL)
    # standard errors from the Hessian (lifetimes: autograd Hessian)
    np.testing.assert_allclose(bg.summary["se"].to_numpy(), lf.standard_errors_.to_numpy(), rtol=1e-3)
    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    lf_ll = -lf._negative_log_likelihood(np.log(bg.params_.to_numpy()), x, tx, T, np.ones(len(x)), 0.0) * len(x)
    assert bg.log_likelihood_ == pytest.approx(lf_ll, rel=1e-10)


def test_probability_of_purchases_sums_to_one(bg):
    total = sum(bg.probability_of_purchases(52, n) for n in range(300))
    assert total == pytest.approx(1.0, abs=1e-6)


def test_pareto_nbd_matches_lifetimes(cdnow, pnbd):
    lf = lifetimes.ParetoNBDFitter().fit(*_rft(cdnow))
    np.testing.assert_allclose(pnbd.params_.to_numpy(), lf.params_.to_numpy(), rtol=1e-3)  # Nelder-Mead in lifetimes
    m = ParetoNBDModel.from_params(**lf.params_.to_dict(), time_unit="W")
    np.testing.assert_allclose(m.probability_alive(cdnow), lf.conditional_probability_alive(*_rft(cdnow)), rtol=RTOL)
    for t in (1.0, 39.0, 100.0):
        np.testing.assert_allclose(m.predict_purchases(cdnow, t),
                                   lf.conditional_expected_number_of_purchases_up_to_time(t, *_rft(cdnow)), rtol=RTOL)
    t = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(m.expected_purchases_new(t), lf.expected_number_of_purchases_up_to_time(t), rtol=RTOL)
    few = cdnow.iloc[:40]
    for n in (0, 1, 3):
        np.testing.assert_allclose(
            m.probability_of_purchases(39, n, few),
            lf.conditional_probability_of_n_purchases_up_to_time(n, 39, *_rft(few)), rtol=RTOL)
    # our maximum is at least as good as lifetimes'
    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    ll_at = lambda p: -lf._negative_log_likelihood(p, x, tx, T, np.ones(len(x)), 0.0)  # noqa: E731
    assert pnbd.log_likelihood_ == pytest.approx(ll_at(pnbd.params_.to_numpy()), rel=1e-10)
    assert pnbd.log_likelihood_ >= ll_at(lf.params_.to_numpy()) - 1e-6


def test_pareto_nbd_hypergeometric_branches(cdnow):
    from crmlab.clv.pareto_nbd import _pnbd_loglik

    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    for params in ([0.6, 5.0, 0.7, 12.0], [0.6, 12.0, 0.7, 5.0]):  # alpha < beta and alpha > beta
        ref = lifetimes.ParetoNBDFitter._conditional_log_likelihood(params, x, tx, T)
        np.testing.assert_allclose(_pnbd_loglik(np.array(params), x, tx, T), ref, rtol=1e-9)
    # continuous across alpha = beta, where the two branches meet
    below = _pnbd_loglik(np.array([0.6, 8.0 * (1 - 1e-7), 0.7, 8.0]), x, tx, T)
    above = _pnbd_loglik(np.array([0.6, 8.0 * (1 + 1e-7), 0.7, 8.0]), x, tx, T)
    np.testing.assert_allclose(below, above, rtol=1e-6)


def test_modified_bgnbd_matches_lifetimes(cdnow):
    lf = lifetimes.ModifiedBetaGeoFitter().fit(*_rft(cdnow))
    m = ModifiedBetaGeoModel().fit(cdnow)
    np.testing.assert_allclose(m.params_.to_numpy(), lf.params_.to_numpy(), rtol=1e-4)
    m.params_ = lf.params_.copy()
    np.testing.assert_allclose(m.probability_alive(cdnow), lf.conditional_probability_alive(*_rft(cdnow)), rtol=RTOL)
    np.testing.assert_allclose(m.predict_purchases(cdnow, 39),
                               lf.conditional_expected_number_of_purchases_up_to_time(39, *_rft(cdnow)), rtol=RTOL)
    np.testing.assert_allclose(m.expected_purchases_new(np.array([5.0, 39.0])),
                               lf.expected_number_of_purchases_up_to_time(np.array([5.0, 39.0])), rtol=RTOL)
    for n in range(4):
        assert m.probability_of_purchases(39, n) == pytest.approx(
            float(lf.probability_of_n_purchases_up_to_time(39, n)), rel=RTOL)
    # MBG/NBD: customers without repeat purchases are not certainly alive
    assert m.probability_alive(cdnow[cdnow["frequency"] == 0]).max() < 1


def test_gamma_gamma_matches_lifetimes(cdnow_monetary):
    repeat = cdnow_monetary[cdnow_monetary["frequency"] > 0]
    lf = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    gg = GammaGammaModel().fit(repeat)
    np.testing.assert_allclose(gg.params_.to_numpy(), lf.params_.to_numpy(), rtol=1e-4)
    gg.params_ = pd.Series(lf.params_.to_numpy(), index=["p", "q", "gamma"])
    np.testing.assert_allclose(
        gg.conditional_expected_spend(cdnow_monetary),
        lf.conditional_expected_average_profit(cdnow_monetary["frequency"], cdnow_monetary["monetary_value"]),
        rtol=RTOL)
    p, q, v = lf.params_
    assert gg.expected_spend_new() == pytest.approx(p * v / (q - 1), rel=1e-12)


def test_bgbb_matches_lifetimes(donations):
    lf = lifetimes.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"], donations["periods"],
                                                weights=donations["weights"])
    m = BetaGeoBetaBinomModel().fit(donations, weights="weights")
    np.testing.assert_allclose(m.params_.to_numpy(), lf.params_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(m.summary["se"].to_numpy(), lf.standard_errors_.to_numpy(), rtol=1e-3)
    m.params_ = lf.params_.copy()
    args = donations["frequency"], donations["recency"], donations["periods"]
    for k in (1, 5, 10):
        np.testing.assert_allclose(m.predict_purchases(donations, k),
                                   lf.conditional_expected_number_of_purchases_up_to_time(k, *args), rtol=RTOL)
    for k in (0, 1, 3):
        np.testing.assert_allclose(m.probability_alive(donations, k), lf.conditional_probability_alive(k, *args),
                                   rtol=RTOL)
    table = lf.expected_number_of_transactions_in_first_n_periods(6)["model"] / 11104
    for x, expected in table.items():
        assert m.probability_of_purchases(6, int(x)) == pytest.approx(expected, rel=RTOL)
    # E[X(n)] of a new customer = sum_x x P(X(n) = x)
    assert m.expected_purchases_new(6) == pytest.approx(sum(x * m.probability_of_purchases(6, x) for x in range(7)),
                                                        rel=1e-10)


# --- numerics ----------------------------------------------------------------------------

@pytest.mark.parametrize("module,name", [("beta_geo", "_bgnbd"), ("modified_beta_geo", "_mbg")])
def test_exact_gradient_matches_finite_differences(cdnow, module, name):
    import importlib

    mod = importlib.import_module(f"crmlab.clv.{module}")
    loglik, grad = getattr(mod, f"{name}_loglik"), getattr(mod, f"{name}_loglik_grad")
    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    params = np.array([0.4, 6.0, 1.3, 2.2])
    _, g = grad(params, x, tx, T)
    for i in range(4):
        h = 1e-6 * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        fd = (loglik(up, x, tx, T).sum() - loglik(down, x, tx, T).sum()) / (2 * h)
        assert g[i].sum() == pytest.approx(fd, rel=1e-6)


def test_gamma_gamma_gradient(cdnow_monetary):
    from crmlab.clv.gamma_gamma import _gg_loglik, _gg_loglik_grad

    rep = cdnow_monetary[cdnow_monetary["frequency"] > 0]
    x, m = rep["frequency"].to_numpy(), rep["monetary_value"].to_numpy()
    params = np.array([5.0, 3.0, 12.0])
    _, g = _gg_loglik_grad(params, x, m)
    for i in range(3):
        h = 1e-6 * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        assert g[i].sum() == pytest.approx((_gg_loglik(up, x, m).sum() - _gg_loglik(down, x, m).sum()) / (2 * h),
                                           rel=1e-6)


def test_loglik_stable_for_heavy_buyers():
    # large frequencies overflow a naive product of gamma functions
    s = pd.DataFrame({"frequency": [0, 400, 1000, 5], "recency": [0, 99.0, 100.0, 3.0], "T": [100.0] * 4})
    for cls in (BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel):
        model = cls.from_params(**dict(zip(cls._param_names, [0.5, 5.0, 0.8, 3.0])))
        ll = model._loglik(model.params_.to_numpy(), *(s[c].to_numpy(dtype=float) for c in s))
        assert np.all(np.isfinite(ll))
        assert np.all(np.isfinite(model.predict_purchases(s, 52)))
        assert np.all(np.isfinite(model.probability_alive(s)))


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel])
def test_weights_equal_expanded_rows(cdnow, model_cls):
    patterns = cdnow.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    weighted = model_cls().fit(patterns, weights="n")
    plain = model_cls().fit(cdnow)
    np.testing.assert_allclose(weighted.params_, plain.params_, rtol=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
    assert weighted.n_patterns_ == len(patterns)


def test_penalizer_shrinks_parameters(cdnow):
    plain = BetaGeoModel().fit(cdnow)
    pen = BetaGeoModel(penalizer=0.01).fit(cdnow)
    assert np.sum(pen.params_**2) < np.sum(plain.params_**2)
    assert pen.log_likelihood_ < plain.log_likelihood_
    with pytest.raises(ValueError, match="penalizer must be a non-negative"):
        BetaGeoModel(penalizer=-1).fit(cdnow)


def test_summary_and_repr(bg):
    s = bg.summary
    assert list(s.columns) == ["estimate", "se", "ci_lower", "ci_upper"]
    assert (s["ci_lower"] < s["estimate"]).all() and (s["estimate"] < s["ci_upper"]).all()
    assert "BG/NBD" in repr(bg) and "r=0.2426" in repr(bg) and "-9582.43" in repr(bg)
    assert repr(BetaGeoModel(penalizer=0.1)) == "BetaGeoModel(penalizer=0.1)"


# --- input validation and degenerate data ------------------------------------------------

def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        BetaGeoModel().probability_alive(pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}))
    with pytest.raises(NotFittedError):
        _ = BetaGeoModel().summary


def test_bad_inputs(cdnow):
    with pytest.raises(ValueError, match="no column 'freq'"):
        BetaGeoModel().fit(cdnow, frequency_col="freq")
    bad = cdnow.copy()
    bad.loc[bad.index[0], "recency"] = 100.0
    with pytest.raises(ValueError, match="'recency' exceeds 'T'"):
        BetaGeoModel().fit(bad)
    bad = cdnow.copy()
    bad.loc[bad.index[0], "frequency"] = 1.5
    with pytest.raises(ValueError, match="whole numbers"):
        BetaGeoModel().fit(bad)
    bad = cdnow.copy()
    bad.loc[bad.index[2], "recency"] = 3.0
    with pytest.raises(ValueError, match="frequency=0 but recency>0"):
        BetaGeoModel().fit(bad)
    bad = cdnow.copy()
    bad.loc[bad.index[0], "T"] = -1.0
    with pytest.raises(ValueError, match="negative"):
        BetaGeoModel().fit(bad)
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        BetaGeoModel().fit(cdnow.to_numpy())
    with pytest.raises(ValueError, match="same length"):
        BetaGeoModel().fit(cdnow, weights=[1, 2])


def test_inputs_not_modified(cdnow):
    before = cdnow.copy()
    BetaGeoModel().fit(cdnow)
    pd.testing.assert_frame_equal(cdnow, before)


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel])
def test_degenerate_data_raises(model_cls):
    none_repeat = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0, 0], "T": [10.0, 20, 30]})
    with pytest.raises(ValueError, match="no customer made a repeat purchase"):
        model_cls().fit(none_repeat)
    one = pd.DataFrame({"frequency": [2], "recency": [5.0], "T": [10.0]})
    with pytest.raises(ValueError, match="many customers"):
        model_cls().fit(one)
    same = pd.DataFrame({"frequency": [2] * 50, "recency": [5.0] * 50, "T": [10.0] * 50})
    with pytest.raises(ValueError, match="same purchase pattern"):
        model_cls().fit(same)


def test_tiny_data_never_returns_nan_silently():
    tiny = pd.DataFrame({"frequency": [1, 0, 3], "recency": [2.0, 0, 9], "T": [10.0, 10, 10]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = BetaGeoModel().fit(tiny)
    assert np.all(np.isfinite(m.params_))
    if not np.all(np.isfinite(m.summary["se"])) or np.any(np.abs(np.log(m.params_)) > 15):
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_gamma_gamma_rejects_non_repeat_buyers(cdnow_monetary):
    with pytest.raises(ValueError, match="repeat buyers only"):
        GammaGammaModel().fit(cdnow_monetary)
    bad = cdnow_monetary[cdnow_monetary["frequency"] > 0].copy()
    bad.loc[bad.index[0], "monetary_value"] = 0.0
    with pytest.raises(ValueError, match="must be positive"):
        GammaGammaModel().fit(bad)


def test_bgbb_and_sbg_bad_inputs(donations):
    bad = donations.copy()
    bad.loc[1, "recency"] = 9
    with pytest.raises(ValueError, match="frequency <= recency <= periods"):
        BetaGeoBetaBinomModel().fit(bad, weights="weights")
    with pytest.raises(ValueError, match="never increase"):
        ShiftedBetaGeometricModel().fit([100, 80, 90])
    with pytest.raises(ValueError, match="at least two later counts"):
        ShiftedBetaGeometricModel().fit([100, 80])
    with pytest.raises(ValueError, match="no customer churned"):
        ShiftedBetaGeometricModel().fit([100, 100, 100])
    with pytest.raises(ValueError, match="whole periods"):
        ShiftedBetaGeometricModel().fit([100, 60, 40]).survival(1.5)


# --- parameter recovery on the simulated company -------------------------------------------

@pytest.fixture(scope="module")
def single_segment_company():
    from crmlab.synth import Segment

    seg = Segment("only", 1.0, r=0.8, alpha=10.0, a=0.8, b=2.5, p_spend=5.0, q_spend=4.0, gamma_spend=30.0)
    data = crm.synth.generate(n_customers=4000, seed=3, segments=(seg,), membership_effect=0.0,
                              satisfaction_dropout_effect=0.0, campaign_effect=0.0, prospect_share=0.0)
    summary = crm.features.customer_summary(data.transactions, observation_end=data.observation_end,
                                            time_unit="W", amount_col="amount")
    return data, summary


def test_bgnbd_recovers_simulated_truth(single_segment_company):
    data, summary = single_segment_company
    seg = data.config.segments[0]
    m = BetaGeoModel().fit(summary)
    truth = np.array([seg.r, seg.alpha, seg.a, seg.b])
    z = (m.params_.to_numpy() - truth) / m.summary["se"].to_numpy()
    assert np.all(np.abs(z) < 3), z
    # the 95% intervals cover the truth
    s = m.summary
    assert ((s["ci_lower"] <= truth) & (truth <= s["ci_upper"])).sum() >= 3


def test_gamma_gamma_recovers_simulated_truth(single_segment_company):
    data, summary = single_segment_company
    seg = data.config.segments[0]
    gg = GammaGammaModel().fit(summary[summary["frequency"] > 0])
    truth = np.array([seg.p_spend, seg.q_spend, seg.gamma_spend])
    z = (gg.params_.to_numpy() - truth) / gg.summary["se"].to_numpy()
    assert np.all(np.abs(z) < 3), z
    # the mean spend p * gamma / (q - 1) is well identified even when p, q, gamma trade off
    assert gg.expected_spend_new() == pytest.approx(seg.p_spend * seg.gamma_spend / (seg.q_spend - 1), rel=0.1)


def test_fast_bgnbd_objective_equals_reference(cdnow):
    from crmlab.clv.beta_geo import _bgnbd_loglik_grad, _FactorizedObjective

    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    w = np.random.default_rng(0).integers(1, 5, size=len(x)).astype(float)
    for params, pen in [([0.4, 6.0, 1.3, 2.2], 0.0), ([0.24, 4.4, 0.79, 2.4], 0.1)]:
        p = np.array(params)
        value, grad = _FactorizedObjective(x, tx, T, w, pen)(np.log(p))
        ll, g = _bgnbd_loglik_grad(p, x, tx, T)
        assert value == pytest.approx(-np.dot(w, ll) / w.sum() + pen * np.sum(p**2), rel=1e-12)
        np.testing.assert_allclose(grad, (-(g @ w) / w.sum() + 2 * pen * p) * p, rtol=1e-9, atol=1e-14)


def _simulate_bgnbd(n, r, alpha, a, b, seed):
    rng = np.random.default_rng(seed)
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.integers(1, 546, n) / 7
    x, tx, t, active = np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n)
    while active.size:
        t[active] += rng.exponential(1.0, active.size) / lam[active]
        active = active[t[active] <= T[active]]
        x[active] += 1
        tx[active] = t[active]
        active = active[rng.random(active.size) >= p[active]]
    return pd.DataFrame({"frequency": x, "recency": np.floor(tx * 7) / 7, "T": T})


def test_large_summary_warm_start_matches_lifetimes():
    # more patterns than the warm-start subset: the result is still the full-data optimum
    s = _simulate_bgnbd(120_000, 0.243, 4.414, 0.793, 2.426, seed=1)
    m = BetaGeoModel().fit(s)
    assert m.n_patterns_ > 40_000
    lf = lifetimes.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    np.testing.assert_allclose(m.params_.to_numpy(), lf.params_.to_numpy(), rtol=1e-4)


def test_fast_pareto_objective_equals_reference(cdnow):
    from crmlab.clv.pareto_nbd import _FactorizedLoglik, _pnbd_loglik

    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    w = np.random.default_rng(0).integers(1, 5, size=len(x)).astype(float)
    total = _FactorizedLoglik(x, tx, T, w)
    for params in ([0.55, 10.6, 0.6, 11.7], [0.6, 12.0, 0.7, 5.0], [0.6, 5.0, 0.7, 12.0]):
        p = np.array(params)
        assert total(p) == pytest.approx(np.dot(w, _pnbd_loglik(p, x, tx, T)), rel=1e-12)


def test_prediction_argument_errors(bg, cdnow):
    with pytest.raises(ValueError, match="t must be a non-negative number"):
        bg.predict_purchases(cdnow, -1)
    with pytest.raises(ValueError, match="n must be at least 0"):
        bg.probability_of_purchases(10, -1)
    with pytest.raises(TypeError, match="n must be an integer"):
        bg.probability_of_purchases(10, 1.5)
    with pytest.raises(ValueError, match="no column 'T'"):
        bg.probability_alive(cdnow.drop(columns="T"))
    with pytest.raises(ValueError, match="parameters must be positive"):
        BetaGeoModel.from_params(r=-1.0, alpha=1.0, a=1.0, b=1.0)
