"""Tests for crmlab.monitoring: KPI table, control charts, A/B tests, power."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower, zt_ind_solve_power
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

import crmlab as crm
from crmlab import monitoring as mon


# ----------------------------------------------------------------------------- KPI table
def _tiny():
    """Three customers over January-May 2024 (worked by hand in test_kpi_table_hand_worked)."""
    tx = pd.DataFrame({
        "customer_id": [1, 2, 1, 3, 3, 1],
        "date": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-11", "2024-03-02", "2024-03-30", "2024-05-05"]),
        "amount": [10.0, 30.0, 20.0, 5.0, 15.0, 40.0],
    })
    surveys = pd.DataFrame({"date": pd.to_datetime(["2024-01-04", "2024-01-21", "2024-01-22", "2024-03-03", "2024-03-31"]),
                            "nps": [10, 9, 3, 7, 8]})
    interactions = pd.DataFrame({"date": pd.to_datetime(["2024-03-05", "2024-03-06", "2024-05-06"]),
                                 "type": ["complaint", "inquiry", "complaint"]})
    return tx, surveys, interactions


def test_kpi_table_hand_worked():
    tx, sv, it = _tiny()
    k = mon.kpi_table(tx, window=2, surveys=sv, interactions=it)
    # Active base (bought this month or last): Jan {1,2}, Feb {1,2}, Mar {1,3}, Apr {3}, May {1}
    assert k["period"].astype(str).tolist() == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert k["customers_start"].tolist() == [0, 2, 2, 2, 1]
    assert k["customers_end"].tolist() == [2, 2, 2, 1, 1]
    assert k["new_customers"].tolist() == [2, 0, 1, 0, 0]
    assert k["lost_customers"].tolist() == [0, 0, 1, 1, 1]       # 2 in Mar, 1 in Apr, 3 in May
    assert k["reactivated"].tolist() == [0, 0, 0, 0, 1]          # customer 1 comes back in May
    np.testing.assert_allclose(k["churn_rate"], [np.nan, 0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(k["retention_rate"], [np.nan, 1, 0.5, 0.5, 0.0])
    assert k["active_customers"].tolist() == [2, 1, 1, 0, 1]
    assert k["orders"].tolist() == [2, 1, 2, 0, 1]
    np.testing.assert_allclose(k["revenue"], [40, 20, 20, 0, 40])
    np.testing.assert_allclose(k["revenue_per_customer"], [20, 20, 20, np.nan, 40])
    # Jan: 2 promoters, 1 detractor of 3 -> NPS 33.3; Mar: two passives -> 0
    np.testing.assert_allclose(k["nps"], [100 / 3, np.nan, 0.0, np.nan, np.nan])
    assert k["n_responses"].tolist() == [3, 0, 2, 0, 0]
    assert k["complaints"].tolist() == [0, 0, 1, 0, 1]
    np.testing.assert_allclose(k["complaint_rate"], [0, 0, 0.5, np.nan, 1.0])
    assert tx["amount"].tolist() == [10.0, 30.0, 20.0, 5.0, 15.0, 40.0]  # input untouched


@pytest.fixture(scope="module")
def retail():
    return crm.load_retail()


@pytest.fixture(scope="module")
def retail_kpis(retail):
    return mon.kpi_table(retail)


def test_kpi_table_on_retail_agrees_with_pandas(retail, retail_kpis):
    k = retail_kpis
    tx = retail.transactions
    per = tx["date"].dt.to_period("M")
    by = tx.groupby(per)
    pd.testing.assert_series_equal(k.set_index("period")["active_customers"], by["customer_id"].nunique(),
                                   check_names=False, check_dtype=False, check_freq=False)
    np.testing.assert_allclose(k["revenue"], by["amount"].sum().to_numpy())
    assert k["new_customers"].sum() == tx["customer_id"].nunique()
    # stock-flow identity E = S + N + R - L
    assert (k["customers_end"] == k["customers_start"] + k["new_customers"] + k["reactivated"]
            - k["lost_customers"]).all()
    assert (k["customers_end"].iloc[:-1].to_numpy() == k["customers_start"].iloc[1:].to_numpy()).all()
    # the last period's base = customers whose last purchase is in the last 3 months
    last = tx.groupby("customer_id")["date"].max().dt.to_period("M")
    assert k["customers_end"].iloc[-1] == int((last >= pd.Period("2024-10", "M")).sum())
    assert k["period"].iloc[-1] == retail.observation_end.to_period("M")


def test_kpi_table_complaint_rate_agrees_with_satisfaction(retail, retail_kpis):
    ref = crm.satisfaction.complaint_rate(retail.interactions, retail.transactions, freq="MS")
    np.testing.assert_allclose(retail_kpis["complaint_rate"] * 1000, ref["complaints_per_1000_orders"])


def test_kpi_table_nps_agrees_with_satisfaction(retail, retail_kpis):
    sv = retail.surveys
    june = sv[sv["date"].dt.to_period("M") == pd.Period("2024-06", "M")]
    row = retail_kpis[retail_kpis["period"] == pd.Period("2024-06", "M")].iloc[0]
    promoters, detractors = (june["nps"] >= 9).mean(), (june["nps"] <= 6).mean()
    assert row["nps"] == pytest.approx(100 * (promoters - detractors))
    assert row["n_responses"] == len(june)


def test_kpi_table_errors():
    tx, _, _ = _tiny()
    with pytest.raises(ValueError, match="period='MS' is not allowed"):
        mon.kpi_table(tx, period="MS")
    with pytest.raises(ValueError, match="no column 'amount'"):
        mon.kpi_table(tx.drop(columns="amount"))
    with pytest.raises(TypeError, match="CRMData"):
        mon.kpi_table([1, 2])
    with pytest.raises(ValueError, match="window must be at least 1"):
        mon.kpi_table(tx, window=0)
    with pytest.raises(ValueError, match="missing"):
        mon.kpi_table(tx.assign(amount=[1.0, None, 1, 1, 1, 1]))


def test_kpi_table_weekly_and_quarterly_periods():
    tx, _, _ = _tiny()
    q = mon.kpi_table(tx, period="Q", window=1)
    assert q["active_customers"].tolist() == [3, 1]  # Q1: customers 1, 2, 3; Q2: customer 1
    w = mon.kpi_table(tx, period="W")
    assert w["orders"].sum() == len(tx)


# ----------------------------------------------------------------------------- control charts
def test_p_chart_limits_hand_worked():
    df = pd.DataFrame({"rate": [0.1, 0.2, 0.1, 0.2], "n": [100, 100, 100, 400]})
    ch = mon.control_chart(df, "rate", n_col="n")
    pbar = (10 + 20 + 10 + 80) / 700
    np.testing.assert_allclose(ch["center"], pbar)
    np.testing.assert_allclose(ch["ucl"], pbar + 3 * np.sqrt(pbar * (1 - pbar) / df["n"]))
    np.testing.assert_allclose(ch["lcl"], np.maximum(pbar - 3 * np.sqrt(pbar * (1 - pbar) / df["n"]), 0))


def test_individuals_chart_limits_hand_worked():
    df = pd.DataFrame({"x": [10.0, 12.0, 11.0, 9.0]})
    ch = mon.control_chart(df, "x")
    mr_bar = (2 + 1 + 2) / 3
    np.testing.assert_allclose(ch["center"], 10.5)
    np.testing.assert_allclose(ch["ucl"], 10.5 + 3 * mr_bar / 1.128)
    np.testing.assert_allclose(ch["lcl"], 10.5 - 3 * mr_bar / 1.128)
    assert not ch["alert"].any()


def test_alert_fires_on_injected_shift():
    rng = np.random.default_rng(7)
    n = np.full(30, 2000)
    churned = rng.binomial(n, 0.15)
    churned[20:] = rng.binomial(n[20:], 0.20)  # a service failure from period 20 on
    df = pd.DataFrame({"period": pd.period_range("2022-01", periods=30, freq="M"), "churn_rate": churned / n, "n": n})
    ch = mon.control_chart(df, "churn_rate", n_col="n", baseline=15)
    assert not ch["alert"].iloc[:20].any()
    assert ch["alert"].iloc[20:].all()
    assert set(ch["rule"].iloc[20:]) == {"beyond limits"}


def test_run_rule_fires_on_small_sustained_shift():
    x = [101.0, 99.0] * 6 + [102.0] * 8  # centre 100, limits 100 +/- 5.3: 102 is inside
    ch = mon.control_chart(pd.DataFrame({"x": x}), "x", baseline=12)
    assert not (ch["rule"] == "beyond limits").any()
    assert ch["alert"].tolist() == [False] * 19 + [True]
    assert ch["rule"].iloc[-1] == "run of 8"


def test_kpi_alerts_flags_an_injected_complaint_spike(retail_kpis):
    k = retail_kpis.copy()
    spike = k["period"] == pd.Period("2024-10", "M")
    k.loc[spike, "complaints"] = (k.loc[spike, "orders"] * 0.15).round().astype("int64")
    k.loc[spike, "complaint_rate"] = 0.15
    alerts = mon.kpi_alerts(k, start="2023-07", baseline=12)
    hit = alerts[(alerts["kpi"] == "complaint_rate")]
    assert hit["period"].tolist() == [pd.Period("2024-10", "M")]
    clean = mon.kpi_alerts(retail_kpis, start="2023-07", baseline=12)
    assert "complaint_rate" not in set(clean["kpi"])


def test_control_chart_errors():
    df = pd.DataFrame({"x": [0.1, 0.2, 1.5], "n": [10, 10, 10]})
    with pytest.raises(ValueError, match="needs n_col"):
        mon.control_chart(df, "x", kind="p")
    with pytest.raises(ValueError, match="proportion in \\[0, 1\\]"):
        mon.control_chart(df, "x", n_col="n")
    with pytest.raises(ValueError, match="baseline=5 but 'x' has only 3"):
        mon.control_chart(df, "x", baseline=5)
    with pytest.raises(ValueError, match="no column 'y'"):
        mon.control_chart(df, "y")
    with pytest.raises(ValueError, match="kind='c' is not allowed"):
        mon.control_chart(df, "x", kind="c")
    with pytest.raises(ValueError, match="none of the KPI columns"):
        mon.kpi_alerts(pd.DataFrame({"period": pd.period_range("2024-01", periods=3, freq="M")}))


# ----------------------------------------------------------------------------- A/B tests
def _experiment(seed=3, n_t=900, n_c=1100):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "group": ["treatment"] * n_t + ["control"] * n_c,
        "bought": np.r_[rng.random(n_t) < 0.27, rng.random(n_c) < 0.22],
        "spend": np.r_[rng.gamma(2.0, 60.0, n_t), rng.gamma(2.0, 55.0, n_c)],
    })


def test_ab_test_proportions_agree_with_statsmodels():
    df = _experiment()
    r = mon.ab_test(df, outcome_col="bought").iloc[0]
    t = df.loc[df["group"] == "treatment", "bought"]
    c = df.loc[df["group"] == "control", "bought"]
    z, p = proportions_ztest([t.sum(), c.sum()], [len(t), len(c)])
    assert r["statistic"] == pytest.approx(z, rel=1e-10)
    assert r["p_value"] == pytest.approx(p, rel=1e-10)
    lo, hi = confint_proportions_2indep(t.sum(), len(t), c.sum(), len(c), method="wald", compare="diff")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert r["difference"] == pytest.approx(t.mean() - c.mean())
    assert r["relative_lift"] == pytest.approx(t.mean() / c.mean() - 1)
    assert r["significant"] == (p < 0.05)


def test_ab_test_means_agree_with_statsmodels_welch():
    df = _experiment()
    t = df.loc[df["group"] == "treatment", "spend"].to_numpy()
    c = df.loc[df["group"] == "control", "spend"].to_numpy()
    r = mon.ab_test(df, outcome_col="spend", kind="mean", alpha=0.1, confidence=0.9).iloc[0]
    stat, p, _ = ttest_ind(t, c, usevar="unequal")
    assert (r["statistic"], r["p_value"]) == pytest.approx((stat, p), rel=1e-8)
    lo, hi = CompareMeans(DescrStatsW(t), DescrStatsW(c)).tconfint_diff(alpha=0.1, usevar="unequal")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), rel=1e-8)
    assert r["p_value"] == pytest.approx(stats.ttest_ind(t, c, equal_var=False).pvalue, rel=1e-8)


def test_ab_test_power_and_n_required_agree_with_statsmodels():
    df = _experiment()
    r = mon.ab_test(df, outcome_col="bought", mde=0.04, power=0.9).iloc[0]
    p0 = r["control"]
    h = proportion_effectsize(p0 + 0.04, p0)
    ratio = 1100 / 900
    assert r["power"] == pytest.approx(NormalIndPower().power(h, 900, 0.05, ratio=ratio), rel=1e-8)
    assert r["n_required"] == math.ceil(zt_ind_solve_power(effect_size=h, alpha=0.05, power=0.9, ratio=ratio))
    m = mon.ab_test(df, outcome_col="spend", kind="mean", mde=10.0).iloc[0]
    t = df.loc[df["group"] == "treatment", "spend"]
    c = df.loc[df["group"] == "control", "spend"]
    sd = math.sqrt((899 * t.var() + 1099 * c.var()) / 1998)
    assert m["power"] == pytest.approx(TTestIndPower().power(10.0 / sd, 900, 0.05, ratio=ratio), rel=1e-6)
    assert m["n_required"] == math.ceil(TTestIndPower().solve_power(10.0 / sd, power=0.8, alpha=0.05, ratio=ratio))


@pytest.mark.parametrize("p0, mde, alpha, target, ratio", [
    (0.20, 0.05, 0.05, 0.8, 1.0), (0.05, 0.01, 0.01, 0.9, 2.0), (0.5, -0.1, 0.1, 0.8, 0.5)])
def test_power_and_sample_size_proportions(p0, mde, alpha, target, ratio):
    h = proportion_effectsize(p0 + mde, p0)
    n_sm = NormalIndPower().solve_power(h, alpha=alpha, power=target, ratio=ratio)
    assert mon.sample_size("proportion", baseline=p0, mde=mde, alpha=alpha, power=target, ratio=ratio) == math.ceil(n_sm)
    got = mon.power("proportion", n_treatment=500, n_control=int(500 * ratio), baseline=p0, mde=mde, alpha=alpha)
    assert got == pytest.approx(NormalIndPower().power(h, 500, alpha, ratio=int(500 * ratio) / 500), rel=1e-10)


@pytest.mark.parametrize("d, alpha, target", [(0.2, 0.05, 0.8), (0.5, 0.01, 0.95), (1.0, 0.05, 0.5)])
def test_power_and_sample_size_means(d, alpha, target):
    n_sm = TTestIndPower().solve_power(d, alpha=alpha, power=target)
    assert mon.sample_size("mean", mde=d * 40, sd=40.0, alpha=alpha, power=target) == math.ceil(n_sm)
    assert mon.power("mean", n_treatment=60, mde=d * 40, sd=40.0, alpha=alpha) == pytest.approx(
        TTestIndPower().power(d, 60, alpha), rel=1e-8)


def test_ab_test_on_the_campaign_recovers_the_true_effect(retail):
    camp = retail.campaigns.merge(retail.truth, on="customer_id")
    camp = camp[camp["alive_at_campaign"]].assign(dropped=lambda d: ~d["alive_at_end"])
    r = mon.ab_test(camp, outcome_col="dropped").iloc[0]
    true_effect = -camp.loc[camp["treated"], "true_uplift"].mean()  # uplift = reduction in dropout
    assert r["ci_low"] <= true_effect <= r["ci_high"]


def test_ab_test_errors():
    df = _experiment(n_t=20, n_c=20)
    with pytest.raises(ValueError, match="no treatment label 'treated'"):
        mon.ab_test(df, outcome_col="bought", treatment="treated")
    with pytest.raises(ValueError, match="labels other than"):
        mon.ab_test(pd.concat([df, df.iloc[:2].assign(group="holdout")]), outcome_col="bought")
    with pytest.raises(ValueError, match="must be 0/1"):
        mon.ab_test(df, outcome_col="spend")
    with pytest.raises(TypeError, match="must be numeric"):
        mon.ab_test(df.assign(bought="yes"), outcome_col="bought")
    with pytest.raises(ValueError, match="missing"):
        mon.ab_test(df.assign(spend=np.where(df.index == 3, np.nan, df["spend"])), outcome_col="spend", kind="mean")
    with pytest.raises(ValueError, match="alpha must lie in"):
        mon.ab_test(df, outcome_col="bought", alpha=5)
    with pytest.raises(ValueError, match="mde"):
        mon.ab_test(df, outcome_col="bought", mde=0)
    with pytest.raises(ValueError, match="needs sd"):
        mon.sample_size("mean", mde=5)
    with pytest.raises(ValueError, match="not a rate"):
        mon.sample_size("proportion", baseline=0.95, mde=0.1)
    with pytest.raises(ValueError, match="power=0.01 must exceed alpha"):
        mon.sample_size("proportion", baseline=0.2, mde=0.05, power=0.01)


# ----------------------------------------------------------------------------- plots
def test_plots_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chart = mon.control_chart(pd.DataFrame({"x": [10.0, 12, 11, 9, 10, 30]}), "x", baseline=5)
    ax = crm.plot.control_chart_plot(chart)
    assert sum(len(c.get_offsets()) for c in ax.collections) == 1  # one alert marker
    tx, _, _ = _tiny()
    axes = crm.plot.kpi_trends_plot(mon.kpi_table(tx), columns=["orders", "revenue"])
    assert len(axes) == 2 and len(axes[0].get_lines()) == 1
    df = _experiment()
    res = pd.concat([mon.ab_test(df, outcome_col="bought"), mon.ab_test(df, outcome_col="spend", kind="mean")])
    ax = crm.plot.ab_test_plot(res, label="kind")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["proportion", "mean"]
    ax = crm.plot.power_curve_plot(baseline=0.3, mde=[0.02, 0.05])
    ys = [line.get_ydata() for line in ax.get_lines()[:2]]
    assert all(np.all(np.diff(y) >= -1e-12) for y in ys)  # power grows with n
    assert (ys[1] >= ys[0]).all()  # and with the effect
    with pytest.raises(ValueError, match="no column 'value'"):
        crm.plot.control_chart_plot(pd.DataFrame({"x": [1]}))
    plt.close("all")


# ----------------------------------------------------------------------------- SRM and CUPED
def test_srm_check_matches_scipy_chisquare():
    df = pd.DataFrame({"group": ["treatment"] * 1522 + ["control"] * 1573})
    r = mon.srm_check(df)
    ref = stats.chisquare([1573, 1522])                      # sorted labels: control, treatment
    assert r["chi2"].iloc[0] == pytest.approx(ref.statistic)
    assert r["p_value"].iloc[0] == pytest.approx(ref.pvalue)
    assert r["dof"].iloc[0] == 1 and not r["mismatch"].iloc[0]
    # an unequal design and three arms, against scipy with explicit expected counts
    df3 = pd.DataFrame({"group": ["a"] * 300 + ["b"] * 500 + ["c"] * 200})
    design = {"a": 0.25, "b": 0.5, "c": 0.25}
    r3 = mon.srm_check(df3, expected=design)
    ref3 = stats.chisquare([300, 500, 200], f_exp=[250, 500, 250])
    assert r3["chi2"].iloc[0] == pytest.approx(ref3.statistic)            # (50^2 + 0 + 50^2) / 250 = 20
    assert r3["chi2"].iloc[0] == pytest.approx(20.0)
    assert r3["p_value"].iloc[0] == pytest.approx(ref3.pvalue)
    assert r3["dof"].iloc[0] == 2 and r3["mismatch"].iloc[0]
    assert r3["expected"].tolist() == pytest.approx([250, 500, 250])


def test_srm_check_flags_a_broken_split_and_counts_a_missing_arm():
    rng = np.random.default_rng(3)
    fair = pd.DataFrame({"group": rng.choice(["treatment", "control"], 5000)})
    assert not mon.srm_check(fair)["mismatch"].iloc[0]
    # a logging bug loses 10 % of the control arm
    lost = fair[~((fair["group"] == "control") & (rng.uniform(size=5000) < 0.10))]
    assert mon.srm_check(lost)["mismatch"].iloc[0]
    # an arm of the design with no units at all is a mismatch, not an error
    only_t = pd.DataFrame({"group": ["treatment"] * 50})
    r = mon.srm_check(only_t, expected={"treatment": 0.5, "control": 0.5})
    assert r.set_index("group").loc["control", "observed"] == 0 and r["mismatch"].iloc[0]


def test_srm_check_errors():
    df = pd.DataFrame({"group": ["t", "c", "c"]})
    with pytest.raises(ValueError, match="only one arm"):
        mon.srm_check(df[df["group"] == "c"])
    with pytest.raises(ValueError, match="'t'"):
        mon.srm_check(df, expected={"c": 1.0})
    with pytest.raises(ValueError, match="sum to 1.2"):
        mon.srm_check(df, expected={"c": 0.6, "t": 0.6})
    with pytest.raises(ValueError, match="positive"):
        mon.srm_check(df, expected={"c": 1.0, "t": 0.0})
    with pytest.raises(TypeError, match="dict"):
        mon.srm_check(df, expected=[0.5, 0.5])
    with pytest.raises(ValueError, match="'arm'"):
        mon.srm_check(df, group_col="arm")
    with pytest.raises(ValueError, match="alpha"):
        mon.srm_check(df, alpha=1.5)


def _cuped_experiment(n=4000, effect=0.4, seed=7):
    rng = np.random.default_rng(seed)
    before = rng.gamma(2.0, 2.0, n)
    treated = rng.uniform(size=n) < 0.5
    after = 1.0 + 0.8 * before + effect * treated + rng.normal(0, 1.5, n)
    return pd.DataFrame({"group": np.where(treated, "treatment", "control"), "before": before, "after": after})


def test_cuped_against_statsmodels_ols():
    import statsmodels.api as sm

    df = _cuped_experiment()
    r = mon.cuped(df, outcome_col="after", covariate_col="before").set_index("method")
    t = (df["group"] == "treatment").astype(float)
    # theta is the slope of the outcome on the covariate (both arms pooled)
    slope = sm.OLS(df["after"], sm.add_constant(df["before"])).fit().params["before"]
    assert r.loc["CUPED", "theta"] == pytest.approx(slope)
    # the unadjusted row is the difference in means (OLS of the outcome on the arm alone)
    raw = sm.OLS(df["after"], sm.add_constant(t)).fit()
    assert r.loc["difference in means", "difference"] == pytest.approx(raw.params["group"])
    # the CUPED estimate and its standard error agree with the regression Y ~ T + X
    adj = sm.OLS(df["after"], sm.add_constant(pd.DataFrame({"t": t, "x": df["before"]}))).fit(cov_type="HC2")
    assert r.loc["CUPED", "difference"] == pytest.approx(adj.params["t"], abs=0.01)
    assert r.loc["CUPED", "se"] == pytest.approx(adj.bse["t"], rel=0.02)
    # and the variance falls by rho^2
    rho = np.corrcoef(df["before"], df["after"])[0, 1]
    assert r.loc["CUPED", "variance_reduction"] == pytest.approx(rho**2)
    assert r.loc["CUPED", "se"] < 0.6 * r.loc["difference in means", "se"]
    assert r.loc["CUPED", "ci_low"] < 0.4 < r.loc["CUPED", "ci_high"]


def test_cuped_unadjusted_row_is_ab_test_and_hand_worked():
    df = pd.DataFrame({"group": ["treatment", "control"] * 4,
                       "before": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0],
                       "after": [2.0, 1.0, 3.5, 2.0, 4.0, 3.5, 5.5, 4.0]})
    r = mon.cuped(df, outcome_col="after", covariate_col="before").set_index("method")
    ab = mon.ab_test(df, outcome_col="after", kind="mean").iloc[0]
    for col in ("difference", "ci_low", "ci_high", "p_value"):
        assert r.loc["difference in means", col] == pytest.approx(ab[col])
    # by hand: mean x = 2.5, cov(x, y) = 10.75 / 7, var(x) = 10 / 7, so theta = 1.075
    assert r.loc["CUPED", "theta"] == pytest.approx(1.075)
    # x is balanced across the arms, so the adjustment leaves the difference (1.125) unchanged
    assert r.loc["CUPED", "difference"] == pytest.approx(1.125)
    y_adj = df["after"] - 1.075 * (df["before"] - 2.5)
    t, c = y_adj[df["group"] == "treatment"], y_adj[df["group"] == "control"]
    assert r.loc["CUPED", "se"] == pytest.approx(math.sqrt(t.var() / 4 + c.var() / 4))
    before = df.copy()
    mon.cuped(df, outcome_col="after", covariate_col="before")
    pd.testing.assert_frame_equal(df, before)


def test_cuped_errors():
    df = _cuped_experiment(n=50)
    with pytest.raises(ValueError, match="both 'after'"):
        mon.cuped(df, outcome_col="after", covariate_col="after")
    with pytest.raises(ValueError, match="explains nothing"):
        mon.cuped(df.assign(before=1.0), outcome_col="after", covariate_col="before")
    with pytest.raises(ValueError, match="missing"):
        mon.cuped(df.assign(before=np.where(np.arange(50) == 3, np.nan, df["before"])),
                  outcome_col="after", covariate_col="before")
    with pytest.raises(ValueError, match="infinite"):
        mon.cuped(df.assign(before=np.where(np.arange(50) == 3, np.inf, df["before"])),
                  outcome_col="after", covariate_col="before")
    with pytest.raises(TypeError):
        mon.cuped(df.assign(before="x"), outcome_col="after", covariate_col="before")
    with pytest.raises(ValueError, match="'pre'"):
        mon.cuped(df, outcome_col="after", covariate_col="pre")
