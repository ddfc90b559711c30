"""Tests for crmlab.satisfaction: hand-worked scores, pingouin, statsmodels, scipy and the
simulated company's truth."""

import itertools
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.linear_model import LinearRegression

import crmlab as crm
from crmlab import satisfaction as S
from crmlab.data.schema import SERVQUAL_DIMENSIONS

PERF = [f"perf_{d}" for d in SERVQUAL_DIMENSIONS]


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=4000, seed=11)


# ----------------------------------------------------------------------------- CSAT / NPS
def _wilson(k, n, z):
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def test_csat_hand_worked():
    r = S.csat([5, 4, 4, 3, 1, 2, 5, 5, 3, 4])  # 6 of 10 answers are 4 or 5
    assert r.score == pytest.approx(60.0)
    assert r.n == 10 and r.n_missing == 0
    assert r.mean == pytest.approx(3.6)
    lo, hi = _wilson(6, 10, 1.959964)
    assert (r.ci_low, r.ci_high) == pytest.approx((100 * lo, 100 * hi), rel=1e-5)
    assert r.shares["bottom_box"] == pytest.approx(0.2)  # answers 1 and 2


def test_csat_other_scale_and_top_box():
    r = S.csat([7, 6, 6, 5, 1], scale=7, top_box=1)
    assert r.score == pytest.approx(20.0)
    assert S.csat([7, 6, 6, 5, 1], scale=7, top_box=2).score == pytest.approx(60.0)


def test_nps_hand_worked():
    scores = [10, 9, 9, 10, 9, 8, 7, 6, 3, 0]  # 5 promoters, 2 passives, 3 detractors
    r = S.nps(scores)
    assert r.score == pytest.approx(20.0)
    assert r.shares == pytest.approx({"promoters": 0.5, "passives": 0.2, "detractors": 0.3})
    # adjusted Wald by hand: n + 3 answers, 3/4 added to promoters and detractors
    p, d, n = 5.75 / 13, 3.75 / 13, 13
    half = 1.959964 * math.sqrt((p + d - (p - d) ** 2) / n)
    assert (r.ci_low, r.ci_high) == pytest.approx((100 * (p - d - half), 100 * (p - d + half)), rel=1e-5)
    w = S.nps(scores, method="wald")
    half = 1.959964 * math.sqrt((0.5 + 0.3 - 0.2**2) / 10)
    assert (w.ci_low, w.ci_high) == pytest.approx((100 * (0.2 - half), 100 * (0.2 + half)), rel=1e-5)


def test_nps_missing_answers_are_counted_not_hidden():
    r = S.nps(pd.Series([10, np.nan, 0, None, 8], dtype="float64"))
    assert r.n == 3 and r.n_missing == 2
    assert r.score == pytest.approx(0.0)
    assert "2 missing" in repr(r)


def test_nps_interval_clipped():
    r = S.nps([10] * 40)
    assert r.score == 100.0 and r.ci_high == 100.0 and r.ci_low < 100.0


def test_to_frame_and_score_table():
    df = pd.DataFrame({"g": ["b", "a", "a", "b", "b"], "nps": [10, 9, 0, 8, 10]})
    table = S.score_table(df, column="nps", by="g")
    assert table["g"].tolist() == ["a", "b"]
    assert table["score"].tolist() == pytest.approx([0.0, 200 / 3])
    assert table.loc[1, "promoters"] == pytest.approx(2 / 3)
    row = S.nps(df["nps"]).to_frame()
    assert {"score", "ci_low", "ci_high", "n", "promoters", "passives", "detractors"} <= set(row.columns)


@pytest.mark.parametrize("shares,n", [((0.3, 0.4, 0.3), 60), ((0.7, 0.2, 0.1), 30), ((0.15, 0.25, 0.6), 150)])
def test_nps_interval_coverage_by_simulation(shares, n):
    rng = np.random.default_rng(123)
    truth = 100 * (shares[0] - shares[2])
    reps, hits = 800, 0
    for counts in rng.multinomial(n, shares, size=reps):
        scores = np.repeat([10, 8, 3], counts)
        r = S.nps(scores)
        hits += r.ci_low <= truth <= r.ci_high
    coverage = hits / reps
    # Monte-Carlo sd of coverage at 95% with 800 replicates is about 0.008
    assert 0.925 <= coverage <= 0.975, coverage


def test_adjusted_wald_beats_wald_for_small_extreme_samples():
    rng = np.random.default_rng(7)
    shares, n, reps = (0.85, 0.1, 0.05), 20, 1000
    truth = 80.0
    cover = {"adjusted_wald": 0, "wald": 0}
    for counts in rng.multinomial(n, shares, size=reps):
        scores = np.repeat([10, 8, 3], counts)
        for method in cover:
            r = S.nps(scores, method=method)
            cover[method] += r.ci_low <= truth <= r.ci_high
    assert abs(cover["adjusted_wald"] / reps - 0.95) < abs(cover["wald"] / reps - 0.95)


def test_csat_interval_coverage_by_simulation():
    rng = np.random.default_rng(5)
    probs = np.array([0.1, 0.15, 0.25, 0.3, 0.2])  # true CSAT (4 or 5) = 50%
    reps, hits = 800, 0
    for _ in range(reps):
        r = S.csat(rng.choice([1, 2, 3, 4, 5], size=40, p=probs))
        hits += r.ci_low <= 50.0 <= r.ci_high
    assert 0.925 <= hits / reps <= 0.975


@pytest.mark.parametrize("func,bad,err,match", [
    (S.nps, [10, 11, 3], ValueError, r"0-10 scale"),
    (S.nps, [-1, 5], ValueError, r"0-10 scale"),
    (S.csat, [1, 6], ValueError, r"1-5 scale"),
    (S.csat, [0, 3], ValueError, r"1-5 scale"),
    (S.nps, ["ten", 9], TypeError, r"numeric"),
    (S.csat, [np.nan, np.nan], ValueError, r"all 2 answers are missing"),
    (S.nps, [9.5, 3], ValueError, r"whole-number"),
    (S.nps, [], ValueError, r"empty"),
])
def test_bad_scores_raise(func, bad, err, match):
    with pytest.raises(err, match=match):
        func(bad)


def test_bad_csat_settings_raise():
    with pytest.raises(ValueError, match="top_box=5 must be smaller than scale=5"):
        S.csat([1, 2], top_box=5)
    with pytest.raises(ValueError, match="confidence"):
        S.nps([1, 2], confidence=95)
    with pytest.raises(ValueError, match="method"):
        S.nps([1, 2], method="bootstrap")


# ----------------------------------------------------------------------------- reliability
def test_cronbach_alpha_equals_pingouin(data):
    items = data.surveys[["loy_repurchase_intent", "loy_prefer_over_competitors", "loy_price_tolerance"]]
    assert S.cronbach_alpha(items) == pytest.approx(pg.cronbach_alpha(data=items)[0], rel=1e-10)
    rng = np.random.default_rng(0)
    random_items = pd.DataFrame(rng.integers(1, 6, size=(50, 4)), columns=list("abcd"))
    assert S.cronbach_alpha(random_items) == pytest.approx(pg.cronbach_alpha(data=random_items)[0], rel=1e-10)


def test_item_total_correlations(data):
    items = data.surveys[PERF]
    table = S.item_total_correlations(items)
    for _, row in table.iterrows():
        rest = items.drop(columns=row["item"])
        assert row["alpha_if_dropped"] == pytest.approx(pg.cronbach_alpha(data=rest)[0], rel=1e-10)
        assert row["item_total_r"] == pytest.approx(stats.pearsonr(items[row["item"]], rest.sum(axis=1))[0])


def test_reliability_validation():
    with pytest.raises(TypeError, match="DataFrame"):
        S.cronbach_alpha([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="missing"):
        S.cronbach_alpha(pd.DataFrame({"a": [1, 2, np.nan], "b": [1, 2, 3]}))
    with pytest.raises(ValueError, match="same answer for everyone"):
        S.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 2]}))
    with pytest.raises(ValueError, match="at least 2 item"):
        S.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))


# ----------------------------------------------------------------------------- key drivers
@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(42)
    n = 400
    common = rng.normal(size=n)
    X = pd.DataFrame({f"x{i}": common * 0.6 + rng.normal(size=n) for i in range(4)})
    X["y"] = 0.8 * X["x0"] + 0.5 * X["x1"] + 0.2 * X["x2"] + rng.normal(size=n) * 1.5 + 3
    return X


def test_key_drivers_match_statsmodels(correlated):
    drivers = ["x0", "x1", "x2", "x3"]
    kd = S.key_drivers(correlated, target="y", drivers=drivers).set_index("driver")
    raw = sm.OLS(correlated["y"], sm.add_constant(correlated[drivers])).fit()
    sd = correlated.std(ddof=1)
    for d in drivers:
        assert kd.loc[d, "beta"] == pytest.approx(raw.params[d] * sd[d] / sd["y"], rel=1e-8)
        assert kd.loc[d, "p_value"] == pytest.approx(raw.pvalues[d], rel=1e-6)
        assert kd.loc[d, "r"] == pytest.approx(correlated[d].corr(correlated["y"]))
    assert kd.attrs["r2"] == pytest.approx(raw.rsquared)
    assert kd["lmg"].sum() == pytest.approx(raw.rsquared, rel=1e-10)
    assert kd["relative_weight"].sum() == pytest.approx(raw.rsquared, rel=1e-10)
    assert kd["share"].sum() == pytest.approx(1.0)
    assert list(kd.index[:3]) == ["x0", "x1", "x2"]


def test_lmg_equals_shapley_over_orderings(correlated):
    drivers = ["x0", "x1", "x2", "x3"]
    kd = S.key_drivers(correlated, target="y", drivers=drivers).set_index("driver")

    def r2(cols):
        if not cols:
            return 0.0
        return LinearRegression().fit(correlated[list(cols)], correlated["y"]).score(correlated[list(cols)], correlated["y"])

    shapley = dict.fromkeys(drivers, 0.0)
    orders = list(itertools.permutations(drivers))
    for order in orders:
        for k, d in enumerate(order):
            shapley[d] += (r2(order[: k + 1]) - r2(order[:k])) / len(orders)
    for d in drivers:
        assert kd.loc[d, "lmg"] == pytest.approx(shapley[d], rel=1e-8)


def test_importance_measures_agree_for_uncorrelated_drivers():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(100, 3)) - 0)
    X = pd.DataFrame(q - q.mean(axis=0), columns=["a", "b", "c"])
    X = pd.DataFrame(np.linalg.qr(X.to_numpy())[0], columns=["a", "b", "c"])
    X["y"] = 3 * X["a"] + 1 * X["b"] + rng.normal(size=100) * 0.05
    kd = S.key_drivers(X, target="y", drivers=["a", "b", "c"]).set_index("driver")
    r2 = X[["a", "b", "c"]].corrwith(X["y"]) ** 2
    # with (almost) orthogonal drivers both measures reduce to the squared correlations
    assert kd["lmg"].to_numpy() == pytest.approx(r2[kd.index].to_numpy(), abs=2e-3)
    assert kd["relative_weight"].to_numpy() == pytest.approx(r2[kd.index].to_numpy(), abs=2e-3)


def test_drivers_recovered_in_config_order(data):
    kd = S.key_drivers(data.surveys, target="csat", drivers=PERF)
    expected = [f"perf_{d}" for d, _ in sorted(data.config.driver_weights.items(), key=lambda kv: -kv[1])]
    assert kd["driver"].tolist() == expected


def test_key_drivers_validation(correlated):
    with pytest.raises(ValueError, match="no column 'x9'"):
        S.key_drivers(correlated, target="y", drivers=["x0", "x9"])
    with pytest.raises(ValueError, match="also listed in drivers"):
        S.key_drivers(correlated, target="y", drivers=["x0", "y"])
    bad = correlated.assign(x1=correlated["x1"].astype(object).where(correlated.index > 0, None))
    with pytest.raises(ValueError, match="missing"):
        S.key_drivers(bad, target="y", drivers=["x0", "x1"])
    with pytest.raises(ValueError, match="collinear"):
        S.key_drivers(correlated.assign(x4=correlated["x0"] * 2), target="y", drivers=["x0", "x4"])


# ----------------------------------------------------------------------------- IPA and gaps
def test_importance_performance_quadrants():
    rng = np.random.default_rng(9)
    n = 500
    df = pd.DataFrame({
        "weak_important": rng.integers(1, 4, n),      # low ratings, drives y
        "strong_important": rng.integers(5, 8, n),    # high ratings, drives y
        "weak_minor": rng.integers(1, 4, n),
        "strong_minor": rng.integers(5, 8, n),
    })
    df["y"] = 2 * df["weak_important"] + 2 * df["strong_important"] + rng.normal(size=n)
    ipa = S.importance_performance(df, target="y", drivers=list(df.columns[:4])).set_index("driver")
    assert ipa["quadrant"].to_dict() == {
        "weak_important": "concentrate here", "strong_important": "keep up the good work",
        "weak_minor": "low priority", "strong_minor": "possible overkill"}
    assert ipa.attrs["importance_cut"] == pytest.approx(ipa["importance"].mean())
    assert ipa.loc["weak_important", "performance"] == pytest.approx(df["weak_important"].mean())


def test_gap_analysis_matches_paired_t_test(data):
    gaps = S.gap_analysis(data.surveys)
    assert set(gaps["dimension"]) == set(SERVQUAL_DIMENSIONS)
    assert gaps["gap"].is_monotonic_increasing
    row = gaps.set_index("dimension").loc["reliability"]
    res = stats.ttest_rel(data.surveys["perf_reliability"], data.surveys["exp_reliability"])
    ci = res.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert row["gap"] == pytest.approx((data.surveys["perf_reliability"] - data.surveys["exp_reliability"]).mean())


def test_gap_analysis_hand_example_and_errors():
    df = pd.DataFrame({"exp_speed": [6, 7, 5], "perf_speed": [4, 6, 5], "exp_staff": [3, 3, 3], "perf_staff": [5, 4, 6]})
    g = S.gap_analysis(df).set_index("dimension")
    assert g.loc["speed", "gap"] == pytest.approx(-1.0)
    assert g.loc["staff", "gap"] == pytest.approx(2.0)
    assert g.loc["speed", "share_negative"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="No dimension has both"):
        S.gap_analysis(df, expectation="e_{}")
    with pytest.raises(ValueError, match="no column 'exp_price'"):
        S.gap_analysis(df, dimensions=["price"])


def test_perception_matrix(data):
    exp_cols = [f"exp_{d}" for d in SERVQUAL_DIMENSIONS]
    pm = S.perception_matrix(data.surveys, expectation=exp_cols, perceived_value="perceived_value")
    assert len(pm) == len(data.surveys)
    assert pm["expectation_score"].to_numpy() == pytest.approx(data.surveys[exp_cols].mean(axis=1).to_numpy())
    means = pm.groupby("cell")["csat"].mean()
    # high perceived value goes with high satisfaction whatever the expectation
    assert min(means["satisfied"], means["delighted"]) > max(means["disappointed"], means["indifferent"])


# ----------------------------------------------------------------------------- complaints
@pytest.fixture
def small_interactions():
    return pd.DataFrame({
        "interaction_id": [1, 2, 3, 4, 5, 6],
        "customer_id": [1, 1, 2, 3, 3, 4],
        "date": pd.to_datetime(["2024-01-02", "2024-02-01", "2024-01-05", "2024-01-10", "2024-03-01", "2024-03-05"]),
        "type": ["complaint", "inquiry", "complaint", "complaint", "complaint", "inquiry"],
        "channel": ["phone", "chat", "phone", "chat", "phone", "chat"],
        "category": ["delivery", "other", "billing", "delivery", "delivery", "other"],
        "transaction_id": pd.array([10, pd.NA, 20, 30, 31, pd.NA], dtype="Int64"),
        "resolved": [True, True, False, True, True, True],
        "resolution_days": [1.0, 0.1, np.nan, 3.0, 5.0, 0.2],
        "satisfaction_after": [4.0, np.nan, 1.0, 3.0, 5.0, np.nan],
    })


def test_complaint_metrics_hand_worked(small_interactions):
    m = S.complaint_metrics(small_interactions, by="channel").set_index("channel")
    assert m.loc["phone", "n_contacts"] == 3 and m.loc["phone", "n_complaints"] == 3
    assert m.loc["phone", "resolved_share"] == pytest.approx(2 / 3)
    assert m.loc["phone", "resolution_days_p50"] == pytest.approx(np.percentile([1.0, 5.0], 50))
    assert m.loc["chat", "complaint_share"] == pytest.approx(1 / 3)
    overall = S.complaint_metrics(small_interactions, by=None, percentiles=(0.9,))
    assert overall.loc[0, "resolution_days_p90"] == pytest.approx(np.percentile([1.0, 3.0, 5.0], 90))
    assert overall.loc[0, "satisfaction_after"] == pytest.approx(np.mean([4, 1, 3, 5]))


def test_complaint_rate(small_interactions):
    tx = pd.DataFrame({"transaction_id": [10, 20, 30, 31, 40, 41, 42, 43],
                       "date": pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-01"] * 2 + ["2024-03-01"] * 2)})
    assert S.complaint_rate(small_interactions, tx, per=100).iloc[0, -1] == pytest.approx(50.0)
    monthly = S.complaint_rate(small_interactions, tx, freq="MS")
    assert monthly["n_complaints"].tolist() == [3, 0, 1]
    assert monthly["complaints_per_1000_orders"].tolist() == pytest.approx([750.0, 0.0, 500.0])


def test_service_recovery_hand_worked(small_interactions):
    tx = pd.DataFrame({"transaction_id": [10, 11, 20, 30, 31, 32, 40],
                       "customer_id": [1, 1, 2, 3, 3, 3, 4],
                       "date": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-04", "2024-01-09",
                                               "2024-02-28", "2024-03-10", "2024-03-01"])})
    sv = pd.DataFrame({"customer_id": [1, 2, 4, 3], "date": pd.to_datetime(["2024-01-03", "2024-01-06", "2024-03-02", "2024-01-01"]),
                       "csat": [4, 1, 5, 3], "nps": [9, 2, 10, 7]})
    sr = S.service_recovery(small_interactions, tx, surveys=sv).set_index("group")
    # orders: 10 (resolved, bought again), 20 (unresolved, never again), 30 and 31 (resolved, again)
    assert sr.loc["resolved", "n_orders"] == 3 and sr.loc["resolved", "repurchase_share"] == 1.0
    assert sr.loc["unresolved", "n_orders"] == 1 and sr.loc["unresolved", "repurchase_share"] == 0.0
    assert sr.loc["no complaint", "n_orders"] == 3
    # surveys: customer 1 after a resolved complaint, 2 after an unresolved one, 3 and 4 none before
    assert sr["n_responses"].tolist() == [2, 1, 1]
    assert sr.loc["no complaint", "mean_csat"] == pytest.approx(4.0)
    assert sr.loc["unresolved", "nps_score"] == pytest.approx(-100.0)


def test_complaint_validation(small_interactions):
    with pytest.raises(ValueError, match="no column 'resolved'"):
        S.complaint_metrics(small_interactions.drop(columns="resolved"))
    with pytest.raises(ValueError, match="'complaint' or 'inquiry'"):
        S.complaint_metrics(small_interactions.assign(type="praise"))
    with pytest.raises(ValueError, match="percentiles"):
        S.complaint_metrics(small_interactions, percentiles=(50,))


def test_complaints_lower_satisfaction_and_retention_in_simulation():
    d = crm.synth.generate(n_customers=15000, seed=5, complaint_prob=0.2)
    sr = S.service_recovery(d.interactions, d.transactions, surveys=d.surveys).set_index("group")
    # complaint -> satisfaction: resolution recovers part of the loss (config: -0.8, +0.6)
    assert sr.loc["no complaint", "mean_csat"] > sr.loc["resolved", "mean_csat"] > sr.loc["unresolved", "mean_csat"]
    assert sr.loc["no complaint", "nps_score"] > sr.loc["unresolved", "nps_score"]
    # ... and satisfaction -> dropout: fewer customers buy again after an unresolved complaint
    assert sr.loc["unresolved", "repurchase_share"] < sr.loc["no complaint", "repurchase_share"]


# ----------------------------------------------------------------------------- plots
def test_satisfaction_plots(data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ipa = S.importance_performance(data.surveys, target="csat", drivers=PERF)
    ax = crm.plot.importance_performance_plot(ipa)
    assert len(ax.collections[0].get_offsets()) == 5
    assert {t.get_text() for t in ax.texts} >= set(S.IPA_QUADRANTS.values())
    gaps = S.gap_analysis(data.surveys)
    ax = crm.plot.gap_plot(gaps)
    assert [t.get_text() for t in ax.get_yticklabels()] == gaps["dimension"].tolist()
    sv = data.surveys.merge(data.customers[["customer_id", "region"]], on="customer_id")
    table = S.score_table(sv, column="nps", by="region")
    fig, ax = plt.subplots()
    assert crm.plot.nps_shares_plot(table, by="region", ax=ax) is ax
    assert len(ax.patches) == 3 * len(table)
    with pytest.raises(ValueError, match="no column 'promoters'"):
        crm.plot.nps_shares_plot(table.drop(columns="promoters"), by="region")
    plt.close("all")
