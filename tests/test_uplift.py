"""Uplift estimators, curves and targeting, checked by hand and against the simulation's truth."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import crmlab as crm
from crmlab.uplift import (
    WINBACK_HURDLES,
    ClassTransformationUplift,
    TwoModelUplift,
    campaign_table,
    policy_profit,
    qini_coefficient,
    qini_curve,
    target_customers,
    uplift_auc,
    uplift_curve,
)

FEATURES = ["recency_days", "n_orders", "n_orders_last_90d", "spend_last_90d", "tenure_days",
            "mean_order_value", "visits_last_90d", "discount_share"]


def _simple_model():
    return make_pipeline(StandardScaler(), LogisticRegression())


def _known_uplift(n=6000, seed=0):
    """Randomised experiment with a known uplift tau(x) = 0.3 * (x > 0)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    t = (rng.random(n) < 0.3).astype(int)  # unequal groups on purpose
    base = 1 / (1 + np.exp(-(X["x"] - 0.5)))
    tau = 0.3 * (X["x"] > 0)
    y = (rng.random(n) < np.clip(base + t * tau, 0, 1)).astype(int)
    return X, t, y, tau.to_numpy()


@pytest.mark.parametrize("cls", [TwoModelUplift, ClassTransformationUplift])
def test_estimators_recover_known_uplift(cls):
    X, t, y, tau = _known_uplift()
    model = cls(make_pipeline(StandardScaler(), LogisticRegression())).fit(X, t, y)
    u = model.predict(X)
    assert u[tau > 0].mean() - u[tau == 0].mean() > 0.1
    assert spearmanr(u, tau).statistic > 0.5
    assert "fitted" in repr(model)


def test_class_transformation_weights_unequal_groups():
    # with no effect at all, the reweighted transformation gives uplift about 0 everywhere
    rng = np.random.default_rng(2)
    n = 20000
    X = pd.DataFrame({"x": rng.normal(size=n)})
    t = (rng.random(n) < 0.2).astype(int)
    y = (rng.random(n) < 1 / (1 + np.exp(-X["x"]))).astype(int)
    u = ClassTransformationUplift(LogisticRegression()).fit(X, t, y).predict(X)
    assert abs(u.mean()) < 0.03


def test_two_model_outcomes_match_group_models():
    X, t, y, _ = _known_uplift(n=800, seed=3)
    m = TwoModelUplift(LogisticRegression()).fit(X, t, y)
    ref = LogisticRegression().fit(X[t == 1], y[t == 1]).predict_proba(X)[:, 1]
    np.testing.assert_allclose(m.predict_outcomes(X)["p_treatment"], ref)


def test_curves_hand_worked():
    y, t, s = [1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1]
    # top 2: treated 1/1 respond, control 0/1 -> (1 - 0) * 2 = 2 ; top 3: (1 - 1/2) * 3 = 1.5
    assert uplift_curve(y, t, s)["uplift"].tolist() == pytest.approx([0, 0, 2, 1.5, 0])
    # Qini top 3: 1 - 1 * 1/2 = 0.5
    assert qini_curve(y, t, s)["qini"].tolist() == pytest.approx([0, 1, 1, 0.5, 0])
    # areas by the trapezoid rule over shares 0, .25, .5, .75, 1 (random line is flat at 0)
    assert uplift_auc(y, t, s) == pytest.approx(0.25 * (0 + 1 + 1.75 + 0.75) / 4)
    assert qini_coefficient(y, t, s) == pytest.approx(0.25 * (0.5 + 1 + 0.75 + 0.25) / 4)
    # tied scores are one cut
    assert len(uplift_curve(y, t, [0.5, 0.5, 0.2, 0.1])) == 4


def test_area_is_positive_for_true_ranking_and_about_zero_for_random():
    X, t, y, tau = _known_uplift(n=20000, seed=4)
    rng = np.random.default_rng(0)
    # perfect ranking: half the customers gain 0.3. The uplift curve peaks at 0.3 * n / 2 at
    # share 0.5, so the area above the random line is 1/2 * 0.15 = 0.0375 per customer;
    # the Qini curve counts treated customers only (30 %): 0.0375 * 0.3 = 0.01125.
    ranking = tau + rng.normal(0, 1e-6, tau.size)
    assert uplift_auc(y, t, ranking) == pytest.approx(0.0375, abs=0.008)
    assert qini_coefficient(y, t, ranking) == pytest.approx(0.01125, abs=0.003)
    assert abs(qini_coefficient(y, t, rng.random(tau.size))) < 0.004


def test_target_customers_policy_by_tier():
    df = pd.DataFrame({
        "clv": [400.0, 400.0, 400.0, 400.0, 100.0],
        "p": [0.5, 0.5, 0.5, 0.5, 0.5],
        "save": [0.1, 0.1, 0.1, 0.1, 0.1],
        "tier": ["key", "ordinary", "small", "unprofitable", "key"],
    })
    # expected gain = 0.5 * 400 * 0.1 = 20 (first four), 5 (last); cost 25
    out = target_customers(df, value="clv", p_churn="p", uplift="save", cost=25.0, tier="tier")
    assert out["expected_gain"].tolist() == pytest.approx([20, 20, 20, 20, 5])
    assert out["expected_profit"].tolist() == pytest.approx([-5, -5, -5, -5, -20])
    # key: 20 >= 0.5 * 25 -> contact ; ordinary: 20 < 25 ; small: 20 < 50 ; unprofitable never ; key 5 < 12.5
    assert out["contact"].tolist() == [True, False, False, False, False]
    cheap = target_customers(df, value="clv", p_churn="p", uplift="save", cost=8.0, tier="tier")
    assert cheap["contact"].tolist() == [True, True, True, False, True]
    assert "contact" not in df.columns  # input not modified
    no_tier = target_customers(df, value="clv", uplift="save", cost=30.0)
    assert no_tier["contact"].tolist() == [True, True, True, True, False]
    assert WINBACK_HURDLES["unprofitable"] == np.inf


@pytest.fixture(scope="module")
def campaign():
    data = crm.synth.generate(n_customers=5000, seed=0)
    return data, campaign_table(data, horizon_days=60, active_days=365)


def test_campaign_table(campaign):
    data, tab = campaign
    c = data.campaigns.set_index("customer_id")
    assert tab.index.isin(c.index).all()
    assert (tab["treated"] == c.loc[tab.index, "treated"].astype(int)).all()
    tx = data.transactions
    last = tx.groupby("customer_id")["date"].max()
    # retained: a purchase in the last 60 days, 2024-11-02 to the end of 2024-12-31
    assert (tab["retained"] == (last.loc[tab.index] >= pd.Timestamp("2024-11-02")).astype(int)).all()
    # the features are those of churn_features on the day before the campaign (2024-06-30)
    ref = crm.features.customer_features(data.transactions, observation_end="2024-06-30", exclude_after=True)
    assert (tab["n_orders"] == ref.loc[tab.index, "n_orders"]).all()
    assert (tab["recency_days"] < 365).all()
    # customers who truly left before the campaign are never retained
    truth = data.truth.set_index("customer_id").loc[tab.index]
    assert tab.loc[truth["dropout_date"] < pd.Timestamp("2024-07-01"), "retained"].eq(0).all()


@pytest.fixture(scope="module")
def strong_campaign():
    # The default offer lowers the dropout of the treated by a few points only: on 5,000
    # customers that is within the noise of any outcome an analyst can observe. A stronger
    # offer on a larger sample gives the models something to find (checked on several seeds).
    data = crm.synth.generate(n_customers=20000, seed=1, campaign_effect=2.0)
    return data, campaign_table(data, horizon_days=60, active_days=365)


def _fit_predict(cls, tab):
    train, test = train_test_split(tab.index, test_size=0.5, random_state=0)
    model = cls(_simple_model()).fit(tab.loc[train, FEATURES], tab.loc[train, "treated"], tab.loc[train, "retained"])
    return test, model.predict(tab.loc[test, FEATURES])


def _value_at_risk(tab):
    # a year of past spend (annualised) at a 50 % margin
    return (tab["total_spend"] / np.maximum(tab["tenure_days"], 90) * 365 * 0.5).to_numpy()


@pytest.mark.parametrize("cls", [TwoModelUplift, ClassTransformationUplift])
def test_uplift_ranking_correlates_with_truth(strong_campaign, cls):
    data, tab = strong_campaign
    truth = data.truth.set_index("customer_id").loc[tab.index, "true_uplift"]
    test, u = _fit_predict(cls, tab)
    res = spearmanr(u, truth.loc[test])
    assert res.statistic > 0.1 and res.pvalue < 1e-6
    # the true uplift is higher among the customers the model ranks in its top half
    top = u >= np.median(u)
    assert truth.loc[test][top].mean() > truth.loc[test][~top].mean()


@pytest.mark.parametrize("which", ["default", "strong"])
@pytest.mark.parametrize("cls", [TwoModelUplift, ClassTransformationUplift])
def test_policy_beats_everyone_no_one_and_random_half(campaign, strong_campaign, cls, which):
    data, tab = campaign if which == "default" else strong_campaign
    truth = data.truth.set_index("customer_id").loc[tab.index, "true_uplift"]
    test, u = _fit_predict(cls, tab)
    value = _value_at_risk(tab.loc[test])
    cost = float(data.config.offer_cost)
    plan = target_customers(pd.DataFrame({"value": value, "uplift": u}), value="value", uplift="uplift", cost=cost)
    true_u = truth.loc[test].to_numpy()
    rng = np.random.default_rng(0)
    model_profit = policy_profit(plan["contact"], true_uplift=true_u, value=value, cost=cost)
    everyone = policy_profit(np.ones(len(u), bool), true_uplift=true_u, value=value, cost=cost)
    half = np.mean([policy_profit(rng.random(len(u)) < 0.5, true_uplift=true_u, value=value, cost=cost)
                    for _ in range(20)])
    assert model_profit > max(everyone, 0.0, half)


def test_validation_errors():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="same length"):
        TwoModelUplift().fit(X, [0, 1, 0], [0, 1, 1, 0])
    with pytest.raises(ValueError, match="treatment holds a single class"):
        TwoModelUplift().fit(X, [1, 1, 1, 1], [0, 1, 1, 0])
    with pytest.raises(ValueError, match="In the control group every y is 0"):
        ClassTransformationUplift().fit(X, [1, 1, 0, 0], [0, 1, 0, 0])
    with pytest.raises(NotFittedError, match="not fitted"):
        TwoModelUplift().predict(X)
    with pytest.raises(NotFittedError):
        ClassTransformationUplift().predict(X)
    with pytest.raises(ValueError, match="y must be 0/1"):
        uplift_curve([0, 3], [0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="same length"):
        qini_curve([0, 1], [0, 1], [0.1, 0.2, 0.3])
    df = pd.DataFrame({"v": [1.0], "u": [0.1], "p": [1.5], "tier": ["vip"]})
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        target_customers(df, value="v", uplift="u", p_churn="p", cost=1.0)
    with pytest.raises(ValueError, match="have no hurdle"):
        target_customers(df, value="v", uplift="u", tier="tier", cost=1.0)
    with pytest.raises(ValueError, match="no column 'clv'"):
        target_customers(df, value="clv", uplift="u", cost=1.0)
    with pytest.raises(ValueError, match="same length"):
        policy_profit([1, 0], true_uplift=[0.1], value=1.0, cost=1.0)


def test_uplift_chart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab.plot import uplift_chart

    curve = qini_curve([1, 0, 1, 0], [1, 0, 0, 1], [0.4, 0.3, 0.2, 0.1])
    ax = uplift_chart(curve)
    assert ax.get_lines()[0].get_ydata().tolist() == pytest.approx(curve["qini"].tolist())
    assert ax.get_title() == "Qini curve"
    plt.close("all")


def test_exercise_checks_ex11(capsys):
    from crmlab.check import ex11

    data = crm.synth.generate(n_customers=1500, seed=22)
    tab = campaign_table(data, horizon_days=ex11.HORIZON_DAYS, active_days=ex11.ACTIVE_DAYS)
    rates = tab.groupby("treated")["retained"].mean()
    ex11.average_effect(rates.loc[1] - rates.loc[0], data)
    m = TwoModelUplift(ex11.uplift_model()).fit(tab[ex11.FEATURES], tab["treated"], tab["retained"])
    pred = pd.Series(m.predict(tab[ex11.FEATURES]), index=tab.index)
    ex11.predicted_uplift(pred, data)
    ex11.qini(qini_coefficient(tab["retained"], tab["treated"], pred), data)
    assert "qini: correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="average effect"):
        ex11.average_effect(rates.loc[0] - rates.loc[1] + 0.5, data)
    with pytest.raises(AssertionError, match="contact list"):
        ex11.contact_list(list(tab.index), data)


@pytest.mark.parametrize("cls", [TwoModelUplift, ClassTransformationUplift])
def test_estimators_follow_the_sklearn_contract(cls):
    base = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    model = cls(base)
    assert model.get_params()["estimator"] is base
    assert model.get_params()["estimator__logisticregression__C"] == 0.5
    copy = clone(model)
    assert copy is not model and copy.estimator is not base
    assert copy.get_params()["estimator__logisticregression__C"] == 0.5
    copy.set_params(estimator__logisticregression__C=2.0)
    assert model.get_params()["estimator__logisticregression__C"] == 0.5
    X, t, y, _ = _known_uplift(n=600, seed=5)
    fitted = copy.fit(X, t, y)
    assert fitted is copy
    # a clone of a fitted model is unfitted, and the original is not refitted by it
    with pytest.raises(NotFittedError):
        clone(fitted).predict(X)
    u = fitted.predict(X)
    assert u.shape == (len(X),) and np.isfinite(u).all()
    # fitting does not change the estimator passed in (it is cloned)
    with pytest.raises(NotFittedError):
        from sklearn.utils.validation import check_is_fitted
        check_is_fitted(base)


def test_uplift_curve_matches_scikit_uplift_once_both_groups_have_a_customer():
    sk_metrics = pytest.importorskip("sklift.metrics")
    rng = np.random.default_rng(7)
    y, t, s = rng.integers(0, 2, 400), rng.integers(0, 2, 400), rng.random(400)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-uplift calls a deprecated sklearn helper
        x, values = sk_metrics.uplift_curve(y, s, t)
    ours = uplift_curve(y, t, s).set_index("n")["uplift"]
    order = np.argsort(-s, kind="stable")
    both = np.minimum(np.cumsum(t[order]), np.cumsum(1 - t[order])) > 0
    first = int(np.argmax(both)) + 1  # customers targeted when both groups are non-empty
    keep = x >= first
    assert keep.sum() > 300
    np.testing.assert_allclose(ours.loc[x[keep]].to_numpy(), values[keep], rtol=1e-12)
    assert (ours.loc[: first - 1] == 0).all()
