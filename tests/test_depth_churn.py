"""Depth functions of chapters 09-11 against independent implementations.

Cox model and numbers at risk against statsmodels and simulated truth; normalised Qini/AUUC
against scikit-uplift; Brier score and reliability table against scikit-learn.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from crmlab import churn, survival, uplift


# ----------------------------------------------------------------------------- survival
def _exponential(n, hr, seed, censor_at=None):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    z = rng.normal(size=n)
    t = rng.exponential(1.0 / (0.1 * np.exp(np.log(hr) * x + 0.3 * z)))
    e = np.ones(n, dtype=int)
    if censor_at is not None:
        e = (t <= censor_at).astype(int)
        t = np.minimum(t, censor_at)
    return pd.DataFrame({"t": t, "e": e, "x": x, "z": z})


def test_at_risk_counts_by_hand_and_statsmodels():
    d = [2, 4, 4, 7, 9, 9]
    e = [1, 1, 0, 1, 0, 1]
    tab = survival.at_risk_table(d, e, [0, 4, 5, 9, 10])
    assert tab["at_risk"].tolist() == [6, 5, 3, 2, 0]   # duration >= t, counted by hand
    assert tab["events"].tolist() == [0, 1, 2, 3, 4]    # churned strictly before t
    assert (tab["at_risk"] + tab["events"] + tab["censored"] == 6).all()
    df = _exponential(400, 2.0, 3, censor_at=15)
    sf = SurvfuncRight(df["t"], df["e"])
    tab = survival.at_risk_table(df["t"], df["e"], sf.surv_times)
    np.testing.assert_array_equal(tab["at_risk"], sf.n_risk)


def test_at_risk_by_group_sums_to_total():
    df = _exponential(300, 2.0, 4, censor_at=10)
    times = [0, 2, 5, 9]
    by = survival.at_risk_table(df["t"], df["e"], times, groups=df["x"])
    total = survival.at_risk_table(df["t"], df["e"], times)
    np.testing.assert_array_equal(by.groupby("time")["at_risk"].sum().to_numpy(), total["at_risk"])
    with pytest.raises(ValueError, match="times must be >= 0"):
        survival.at_risk_table(df["t"], df["e"], [-1])


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_equals_statsmodels(ties):
    df = _exponential(500, 1.8, 5, censor_at=12)
    df["t"] = np.ceil(df["t"])  # ties
    res = survival.cox_model(df, duration="t", event="e", covariates=["x", "z"], confidence=0.9, ties=ties)
    ref = PHReg(df["t"], df[["x", "z"]].to_numpy(), status=df["e"], ties=ties).fit()
    np.testing.assert_allclose(res["coef"], ref.params)
    np.testing.assert_allclose(res["se"], ref.bse)
    np.testing.assert_allclose(res["p_value"], ref.pvalues)
    np.testing.assert_allclose(np.log(res[["hr_lower", "hr_upper"]].to_numpy()), ref.conf_int(alpha=0.1))
    assert res.attrs["n_events"] == int(df["e"].sum())


def test_cox_recovers_known_hazard_ratio():
    df = _exponential(4000, 2.5, 6, censor_at=20)
    res = survival.cox_model(df, duration="t", event="e", covariates=["x", "z"])
    assert res.loc["x", "hr_lower"] < 2.5 < res.loc["x", "hr_upper"]
    assert res.loc["z", "hr_lower"] < np.exp(0.3) < res.loc["z", "hr_upper"]
    assert abs(res.loc["x", "hazard_ratio"] - 2.5) < 0.25


def test_cox_bad_input():
    df = _exponential(50, 2.0, 7)
    with pytest.raises(TypeError, match="get_dummies"):
        survival.cox_model(df.assign(c="a"), duration="t", event="e", covariates=["c"])
    with pytest.raises(ValueError, match="constant"):
        survival.cox_model(df.assign(k=1.0), duration="t", event="e", covariates=["k"])
    with pytest.raises(ValueError, match="no events"):
        survival.cox_model(df.assign(e=0), duration="t", event="e", covariates=["x"])
    with pytest.raises(ValueError, match="missing"):
        survival.cox_model(df.assign(x=np.where(df.index == 0, np.nan, df["x"])), duration="t", event="e",
                           covariates=["x"])


def test_ph_test_accepts_proportional_and_rejects_crossing_hazards():
    ok = _exponential(2000, 2.0, 8, censor_at=20)
    res = survival.proportional_hazards_test(ok, duration="t", event="e", covariates=["x"])
    assert res.loc["x", "p_value"] > 0.01
    # crossing hazards: group 1 leaves fast early (exponential) but group 0 has a rising hazard
    rng = np.random.default_rng(9)
    n = 2000
    x = rng.integers(0, 2, n)
    t = np.where(x == 1, rng.exponential(10, n), rng.weibull(3, n) * 12)
    bad = pd.DataFrame({"t": t, "e": 1, "x": x})
    res = survival.proportional_hazards_test(bad, duration="t", event="e", covariates=["x"])
    assert res.loc["x", "p_value"] < 1e-6
    # independent check of the residuals: those statsmodels gives, correlated with the time rank by hand
    fit = PHReg(bad["t"], bad[["x"]].to_numpy(), status=bad["e"]).fit()
    r = fit.schoenfeld_residuals[:, 0]
    rho = np.corrcoef(pd.Series(bad["t"]).rank(), r)[0, 1]
    assert res.loc["x", "rho"] == pytest.approx(rho)


# ----------------------------------------------------------------------------- uplift
sklift = pytest.importorskip("sklift.metrics")


def _campaign(n, seed, ties=False):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    s = rng.random(n)
    if ties:
        s = np.round(s, 1)
    y = (rng.random(n) < 0.3 + 0.25 * t * s - 0.05 * t).astype(int)
    return y, t, s


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("seed,ties", [(0, False), (1, True), (2, False)])
def test_normalised_scores_equal_sklift(seed, ties):
    y, t, s = _campaign(800, seed, ties)
    assert uplift.qini_auc_score(y, t, s) == pytest.approx(sklift.qini_auc_score(y, s, t))
    assert uplift.uplift_auc_score(y, t, s) == pytest.approx(sklift.uplift_auc_score(y, s, t))


def test_normalised_qini_perfect_and_reversed():
    y, t, s = _campaign(500, 3)
    perfect = y * t - y * (1 - t)
    assert uplift.qini_auc_score(y, t, perfect) == pytest.approx(1.0)
    assert uplift.qini_auc_score(y, t, -s) == pytest.approx(-uplift.qini_auc_score(y, t, s), abs=0.05)


def test_bootstrap_interval_covers_and_shrinks():
    y, t, s = _campaign(600, 4)
    small = uplift.uplift_score_interval(y, t, s, n_boot=200, random_state=0)
    assert small["lower"].iloc[0] < small["estimate"].iloc[0] < small["upper"].iloc[0]
    y, t, s = _campaign(4000, 4)
    big = uplift.uplift_score_interval(y, t, s, n_boot=200, random_state=0)
    assert (big["upper"] - big["lower"]).iloc[0] < (small["upper"] - small["lower"]).iloc[0] / 2
    # a score unrelated to the outcome: the interval contains 0
    rng = np.random.default_rng(5)
    noise = uplift.uplift_score_interval(y, t, rng.random(y.size), n_boot=200, random_state=0, metric="auuc")
    assert noise["lower"].iloc[0] < 0 < noise["upper"].iloc[0]
    same = uplift.uplift_score_interval(y, t, s, n_boot=50, random_state=1)
    assert same.equals(uplift.uplift_score_interval(y, t, s, n_boot=50, random_state=1))


def test_uplift_interval_bad_input():
    y, t, s = _campaign(100, 6)
    with pytest.raises(ValueError, match="metric"):
        uplift.uplift_score_interval(y, t, s, metric="gini")
    with pytest.raises(ValueError, match="100,000"):
        uplift.uplift_score_interval(y, t, s, n_boot=10**6)
    with pytest.raises(ValueError, match="confidence"):
        uplift.uplift_score_interval(y, t, s, confidence=1.5)
    with pytest.raises(ValueError, match="single class"):
        uplift.qini_auc_score([0, 0, 0, 0], [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4])


# ----------------------------------------------------------------------------- churn calibration
def _scores(n, seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, n)
    y = (rng.random(n) < np.clip(p * 1.3, 0, 1)).astype(int)
    return y, p


def test_brier_equals_sklearn():
    y, p = _scores(1000, 0)
    res = churn.brier_score(y, p)
    assert res["brier"].iloc[0] == pytest.approx(brier_score_loss(y, p))
    assert res["reference"].iloc[0] == pytest.approx(brier_score_loss(y, np.full(y.size, y.mean())))
    assert churn.brier_score(y, y.astype(float))["skill"].iloc[0] == pytest.approx(1.0)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("n_bins", [5, 10])
def test_calibration_table_equals_sklearn(strategy, n_bins):
    y, p = _scores(1000, 1)
    tab = churn.calibration_table(y, p, n_bins=n_bins, strategy=strategy)
    frac, mean = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    np.testing.assert_allclose(tab["observed"], frac)
    np.testing.assert_allclose(tab["predicted"], mean)
    assert tab["n"].sum() == y.size
    # the scores are too low by design (churn rate 1.3 x the score): every bin shows it
    assert (tab["gap"] > 0).mean() >= 0.8


def test_calibration_bad_input():
    with pytest.raises(ValueError, match="single class"):
        churn.brier_score([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError):
        churn.calibration_table([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="strategy"):
        churn.calibration_table([0, 1], [0.1, 0.2], strategy="kmeans")
