"""Survival analysis: checked against statsmodels and published Kaplan–Meier tables."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from crmlab.survival import (
    hazard_table,
    kaplan_meier,
    logrank_test,
    median_survival,
    survival_by_group,
)

# Freireich et al. (1963), 6-MP arm: weeks in remission, 1 = relapse, 0 = censored.
MP6_T = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP6_E = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def _random_durations(seed, n=300):
    rng = np.random.default_rng(seed)
    life = rng.exponential(20, n).round()  # ties on purpose
    censor = rng.uniform(0, 40, n).round()
    return np.minimum(life, censor), (life <= censor).astype(int)


def test_km_matches_published_6mp_table():
    # Klein & Moeschberger / R survfit(conf.type = "log-log") on the 6-MP data.
    km = kaplan_meier(MP6_T, MP6_E)
    ev = km[km["events"] > 0]
    np.testing.assert_allclose(ev["survival"], [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448], atol=6e-4)
    np.testing.assert_allclose(ev["se"], [0.0764, 0.0869, 0.0963, 0.1068, 0.1141, 0.1282, 0.1346], atol=6e-5)
    np.testing.assert_allclose(ev["lower"], [0.620, 0.563, 0.503, 0.432, 0.368, 0.268, 0.188], atol=6e-4)
    np.testing.assert_allclose(ev["upper"], [0.952, 0.923, 0.889, 0.849, 0.805, 0.747, 0.680], atol=6e-4)
    assert ev["at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    assert median_survival(km)["median"].iloc[0] == 23


@pytest.mark.parametrize(("seed", "confidence"), [(0, 0.95), (1, 0.95), (2, 0.9)])
def test_km_equals_statsmodels(seed, confidence):
    t, e = _random_durations(seed)
    km = kaplan_meier(t, e, confidence=confidence)
    sf = SurvfuncRight(t, e)
    ev = km[km["events"] > 0]
    np.testing.assert_allclose(ev["time"], sf.surv_times)
    np.testing.assert_allclose(ev["survival"], sf.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(ev["se"], sf.surv_prob_se, rtol=1e-10)
    np.testing.assert_array_equal(ev["at_risk"], sf.n_risk)
    # the log(-log) band built from statsmodels' survival and standard error
    s, se = sf.surv_prob, sf.surv_prob_se
    ok = (s > 0) & (s < 1)
    sigma = se[ok] / (s[ok] * np.abs(np.log(s[ok])))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    np.testing.assert_allclose(ev["lower"].to_numpy()[ok], s[ok] ** np.exp(z * sigma), rtol=1e-10)
    np.testing.assert_allclose(ev["upper"].to_numpy()[ok], s[ok] ** np.exp(-z * sigma), rtol=1e-10)
    assert (km["lower"] <= km["survival"]).all() and (km["survival"] <= km["upper"]).all()
    # median equals statsmodels' quantile
    assert median_survival(km)["median"].iloc[0] == pytest.approx(sf.quantile(0.5))


def test_km_without_censoring_is_empirical_survival():
    t = np.array([1, 2, 2, 3, 5, 8, 8, 8])
    km = kaplan_meier(t, np.ones_like(t))
    for time, s in zip(km["time"], km["survival"]):
        assert s == pytest.approx((t > time).mean())


@pytest.mark.parametrize("seed", [0, 3])
def test_logrank_equals_statsmodels_survdiff(seed):
    rng = np.random.default_rng(seed)
    t, e = _random_durations(seed, n=240)
    groups = rng.choice(["a", "b", "c"], size=t.size)
    t = np.where(groups == "c", t * 1.5, t).round()
    for g in (groups, np.where(groups == "a", "a", "b")):
        res = logrank_test(t, e, g)
        chisq, p = survdiff(t, e, g)
        assert res["chi2"].iloc[0] == pytest.approx(chisq, rel=1e-9)
        assert res["p_value"].iloc[0] == pytest.approx(p, rel=1e-7, abs=1e-12)
        assert res["dof"].iloc[0] == len(set(g)) - 1
        assert sum(res["observed"].iloc[0]) == pytest.approx(sum(res["expected"].iloc[0]))


def test_survival_by_group_stacks_km_per_group():
    t, e = _random_durations(5, n=100)
    g = np.where(np.arange(100) % 2 == 0, "even", "odd")
    out = survival_by_group(t, e, pd.Series(g))
    assert set(out["group"]) == {"even", "odd"}
    odd = out[out["group"] == "odd"].drop(columns="group").reset_index(drop=True)
    pd.testing.assert_frame_equal(odd, kaplan_meier(t[g == "odd"], e[g == "odd"]))


def test_hazard_table_hand_worked_and_matches_km_without_censoring():
    ht = hazard_table([0.5, 1.5, 1.5, 2.5], [1, 1, 0, 0])
    # interval [1, 2): 3 at risk, 1 churn, 1 censored -> 1 / (3 - 0.5) = 0.4
    assert ht["hazard"].tolist() == pytest.approx([0.25, 0.4, 0.0])
    assert ht["survival"].tolist() == pytest.approx([0.75, 0.45, 0.45])
    t = np.array([0.2, 1.1, 1.7, 2.4, 3.9, 3.95])
    ht = hazard_table(t, np.ones(6), width=1)
    np.testing.assert_allclose(ht["survival"], [(t >= end).mean() for end in ht["end"]])


def test_validation_errors():
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1, 2, 3], [1, 0])
    with pytest.raises(ValueError, match="events must be 0"):
        kaplan_meier([1, 2], [1, 2])
    with pytest.raises(ValueError, match="durations must be >= 0"):
        kaplan_meier([-1, 2], [1, 1])
    with pytest.raises(ValueError, match="missing"):
        kaplan_meier([1, np.nan], [1, 1])
    with pytest.raises(ValueError, match="single value"):
        logrank_test([1, 2], [1, 1], ["a", "a"])
    with pytest.raises(ValueError, match="at least one event"):
        logrank_test([1, 2], [0, 0], ["a", "b"])
    with pytest.raises(ValueError, match="width must be a positive"):
        hazard_table([1, 2], [1, 1], width=0)
    with pytest.raises(ValueError, match="confidence must lie"):
        kaplan_meier([1, 2], [1, 1], confidence=95)
    with pytest.raises(ValueError, match="no column 'survival'"):
        median_survival(pd.DataFrame({"time": [1], "lower": [1], "upper": [1]}))


def test_charts():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab.plot import hazard_chart, survival_chart

    t, e = _random_durations(1, n=60)
    ax = survival_chart(survival_by_group(t, e, np.arange(60) % 2), group="group")
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2
    ht = hazard_table(t, e, width=5)
    ax = hazard_chart(ht)
    assert [p.get_height() for p in ax.patches] == pytest.approx(ht["hazard"].fillna(0).tolist())
    plt.close("all")


def test_tenure_table_hand_worked():
    from crmlab.survival import tenure_table

    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
                       "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-06-01", "2024-02-01", "2024-05-15"])})
    t = tenure_table(tx, observation_end="2024-06-30", inactivity_days=60)
    # 1: last purchase 1 March, silent > 60 days -> churned after 60 days
    # 2: bought 1 June -> censored at 29 days; 3: last 15 May (46 days before) -> censored at 150 days
    assert t.loc[1].tolist() == [60.0, 1]
    assert t.loc[2].tolist() == [29.0, 0]
    assert t.loc[3].tolist() == [150.0, 0]
    with pytest.raises(ValueError, match="after observation_end"):
        tenure_table(tx, observation_end="2024-05-01")


def test_tenure_table_end_day_is_inside_the_window():
    from crmlab.survival import tenure_table

    # a purchase at 15:30 on the day of observation_end belongs to the window
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "date": pd.to_datetime(
        ["2024-01-01 09:00", "2024-06-30 15:30", "2024-06-30 23:59"])})
    t = tenure_table(tx, observation_end="2024-06-30", inactivity_days=30)
    assert t.loc[1].tolist() == [181.0, 0]  # 1 January to 30 June: 181 days, still active
    assert t.loc[2].tolist() == [0.0, 0]
    with pytest.raises(ValueError, match="after observation_end"):
        tenure_table(pd.concat([tx, pd.DataFrame({"customer_id": [3], "date": pd.to_datetime(["2024-07-01"])})]),
                     observation_end="2024-06-30")
    # whole days: the durations agree with the features vocabulary (tenure_days - recency_days)
    tx = pd.DataFrame({"customer_id": [5, 5], "date": pd.to_datetime(["2024-01-01 23:00", "2024-02-01 01:00"])})
    t = tenure_table(tx, observation_end="2024-12-31", inactivity_days=90)
    assert t.loc[5].tolist() == [31.0, 1]


def test_exercise_checks_ex10(capsys):
    import crmlab as crm
    from crmlab.check import ex10
    from crmlab.survival import tenure_table

    data = crm.synth.generate(n_customers=800, seed=21)
    t = tenure_table(data.transactions, observation_end=data.observation_end)
    ex10.tenure(t, data)
    km = kaplan_meier(t["duration"], t["churned"])
    ex10.median_tenure(median_survival(km)["median"].iloc[0], data)
    assert "median_tenure: correct" in capsys.readouterr().out
    # the naive median ignores censoring
    with pytest.raises(AssertionError, match="your median is that of the observed durations"):
        ex10.median_tenure(t["duration"].median(), data)
    with pytest.raises(AssertionError, match="tenure table"):
        ex10.tenure(t.assign(churned=1), data)
