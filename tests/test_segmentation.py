"""Tests for crmlab.segmentation: RFM scores/segments, clustering personas, value concentration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import crmlab as crm
from crmlab.segmentation import (
    EIGHT_CLASS_SEGMENTS,
    PYRAMID_ADVICE,
    RFM_GRID,
    abc_classes,
    choose_k,
    cluster_segments,
    customer_pyramid,
    gini,
    lorenz_curve,
    pareto_table,
    profile_segments,
    pyramid_tiers,
    rfm_scores,
    rfm_segments,
)


# ----------------------------------------------------------------------------- RFM scores
def test_rfm_scores_hand_worked():
    rfm = pd.DataFrame({
        "recency_days": [1, 5, 5, 30, 90, 200],
        "n_orders": [8, 1, 1, 1, 3, 2],
        "total_spend": [500.0, 20.0, 35.0, 10.0, 120.0, 60.0],
    }, index=list("abcdef"))
    s = rfm_scores(rfm, bins=3)
    # recency ranks (most recent best): a=6th, b,c tied at 4th (min rank 4), d=3, e=2, f=1 -> 1 + floor(3 (r-1) / 6)
    assert s["R"].tolist() == [3, 2, 2, 2, 1, 1]
    # frequency: b, c, d tied lowest (rank 1) -> 1; f rank 4 -> 2; e rank 5 -> 3; a rank 6 -> 3
    assert s["F"].tolist() == [3, 1, 1, 1, 3, 2]
    # monetary ranks a6 b2 c3 d1 e5 f4 -> 3 1 2 1 3 2
    assert s["M"].tolist() == [3, 1, 2, 1, 3, 2]
    assert s.loc["a", "RFM"] == "333" and s.loc["a", "score"] == 9
    assert list(s.index) == list("abcdef")


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(1, 8), st.randoms(use_true_random=False))
def test_rfm_scores_equal_qcut_for_distinct_values(bins, per_bin, rnd):
    n = bins * per_bin
    values = np.array(rnd.sample(range(10_000), n), dtype=float)
    rfm = pd.DataFrame({"recency_days": values, "n_orders": values, "total_spend": values})
    s = rfm_scores(rfm, bins=bins)
    expected = pd.qcut(values, bins, labels=False) + 1
    assert s["F"].tolist() == expected.tolist()
    assert s["R"].tolist() == (bins + 1 - expected).tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.integers(2, 7))
def test_rfm_scores_ties_and_few_customers(values, bins):
    rfm = pd.DataFrame({"recency_days": values, "n_orders": values, "total_spend": values})
    s = rfm_scores(rfm, bins=bins)
    assert s[["R", "F", "M"]].isin(range(1, bins + 1)).all().all()
    for v in set(values):  # equal values, equal scores
        assert s.loc[rfm["n_orders"] == v, "F"].nunique() == 1
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(s["F"].to_numpy()[order]) >= 0)  # monotone in the value


def test_rfm_scores_validation():
    rfm = pd.DataFrame({"recency_days": [1, 2], "n_orders": [1, 2], "total_spend": [1.0, 2.0]})
    with pytest.raises(ValueError, match="has no column 'total_spend'"):
        rfm_scores(rfm.drop(columns="total_spend"))
    with pytest.raises(ValueError, match="negative"):
        rfm_scores(rfm.assign(total_spend=[-1.0, 2.0]))
    with pytest.raises(TypeError, match="must be numeric"):
        rfm_scores(rfm.assign(n_orders=["1", "2"]))
    with pytest.raises(ValueError, match="missing value"):
        rfm_scores(rfm.assign(total_spend=[np.nan, 2.0]))
    with pytest.raises(ValueError, match="bins must be at least 2"):
        rfm_scores(rfm, bins=1)
    with pytest.raises(ValueError, match="empty"):
        rfm_scores(rfm.iloc[:0])


# ----------------------------------------------------------------------------- RFM segments
def test_eight_class_segments_cover_every_combination():
    combos = [(r, f, m) for r in (1, 5) for f in (1, 5) for m in (1, 5)]
    scores = pd.DataFrame(combos, columns=["R", "F", "M"])
    seg = rfm_segments(scores, threshold=3)
    assert seg["segment_zh"].nunique() == 8
    lookup = dict(zip(map(tuple, scores.to_numpy()), seg["segment_zh"]))
    assert lookup[(5, 5, 5)] == "重要价值客户"
    assert lookup[(5, 1, 5)] == "重要发展客户"
    assert lookup[(1, 5, 5)] == "重要保持客户"
    assert lookup[(1, 1, 5)] == "重要挽留客户"
    assert lookup[(5, 5, 1)] == "一般价值客户"
    assert lookup[(5, 1, 1)] == "一般发展客户"
    assert lookup[(1, 5, 1)] == "一般保持客户"
    assert lookup[(1, 1, 1)] == "一般挽留客户"
    assert set(seg["segment"]) == {e for e, _ in EIGHT_CLASS_SEGMENTS.values()}
    # 挽留 keeps customers before they leave; win-back (挽回) is for those who have left
    english = dict(zip(seg["segment_zh"], seg["segment"]))
    assert english["重要挽留客户"] == "important at-risk" and english["一般挽留客户"] == "general at-risk"
    assert not any("win" in e for e in english.values())


def test_grid_at_risk_is_a_churn_risk():
    # 风险客户 alone reads as credit or fraud risk; the grid's "at risk" is a churn risk
    scores = pd.DataFrame({"R": [2], "F": [3], "M": [3]})
    seg = rfm_segments(scores, scheme="grid")
    assert seg["segment"].iloc[0] == "at risk" and seg["segment_zh"].iloc[0] == "流失风险客户"


def test_eight_class_default_threshold_is_the_mean_score():
    scores = pd.DataFrame({"R": [1, 2, 3, 4], "F": [4, 4, 1, 1], "M": [2, 2, 2, 5]})  # means 2.5, 2.5, 2.75
    seg = rfm_segments(scores)
    assert seg["R_high"].tolist() == [False, False, True, True]
    assert seg["F_high"].tolist() == [True, True, False, False]
    assert seg["M_high"].tolist() == [False, False, False, True]
    assert seg["segment_zh"].tolist() == ["一般保持客户", "一般保持客户", "一般发展客户", "重要发展客户"]


def test_grid_segments():
    assert RFM_GRID.shape == (5, 5) and RFM_GRID.notna().all().all()
    scores = pd.DataFrame({"R": [5, 1, 3, 2], "F": [5, 1, 1, 5], "M": [1, 1, 1, 1]})
    seg = rfm_segments(scores, scheme="grid")
    assert seg["segment"].tolist() == ["champions", "lost", "about to sleep", "can't lose them"]
    with pytest.raises(ValueError, match=r"must lie in \[1, 5\]"):
        rfm_segments(scores.assign(R=[6, 1, 1, 1]), scheme="grid")
    with pytest.raises(ValueError, match="scheme='kmeans' is not allowed"):
        rfm_segments(scores, scheme="kmeans")
    with pytest.raises(TypeError, match="threshold must be None"):
        rfm_segments(scores, threshold="high")


# ----------------------------------------------------------------------------- clustering
def test_choose_k_finds_well_separated_blobs():
    X, _ = make_blobs(n_samples=300, centers=3, cluster_std=0.5, random_state=0)
    table = choose_k(pd.DataFrame(X, columns=["a", "b"]), range(2, 7), log=False)
    assert table["silhouette"].idxmax() == 3
    assert table["inertia"].is_monotonic_decreasing
    assert table.index.name == "k"


def test_cluster_segments_recover_blobs_and_are_ordered_by_size():
    X, y = make_blobs(n_samples=[200, 120, 60], centers=None, cluster_std=0.6, random_state=1)
    labels = cluster_segments(pd.DataFrame(X, columns=["a", "b"]), 3, log=False)
    assert adjusted_rand_score(y, labels) > 0.95
    assert labels.value_counts().sort_index().is_monotonic_decreasing


def test_clusters_recover_latent_segments_of_the_simulated_company():
    """k-means personas find the simulated company's latent segments.

    The segments overlap by design (purchase rates and spend are Gamma-distributed within
    each segment), so no method recovers them perfectly. The bar is set relative to
    supervision: a random forest trained *with* the true labels (5-fold cross-validated)
    reaches ARI ~0.6 on these features; unsupervised k-means must reach at least 40% of
    that and at least 0.2, while the same clustering scored against shuffled truth is ~0.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import cross_val_predict

    data = crm.synth.generate(n_customers=3000, seed=1)
    features = crm.features.customer_features(
        data.transactions, observation_end=data.observation_end, discount_col="discount",
        order_lines=data.order_lines, products=data.products)
    behaviour = ["recency_days", "orders_per_month", "mean_order_value", "discount_share"]
    X = features.loc[features["n_orders"] >= 3, behaviour + [c for c in features if c.startswith("share_")]]
    truth = data.truth.set_index("customer_id")["segment"].reindex(X.index)
    k = data.truth["segment"].nunique()
    labels = cluster_segments(X, k)
    ari = adjusted_rand_score(truth, labels)
    supervised = cross_val_predict(RandomForestClassifier(100, random_state=0, n_jobs=1), X, truth, cv=5)
    ceiling = adjusted_rand_score(truth, supervised)
    shuffled = adjusted_rand_score(truth.sample(frac=1, random_state=0).to_numpy(), labels)
    assert ari >= 0.2
    assert ari >= 0.4 * ceiling
    assert abs(shuffled) < 0.02


def test_profile_segments_hand_worked():
    f = pd.DataFrame({"total_spend": [10.0, 30.0, 60.0, 0.0], "n_orders": [1, 3, 6, 0], "note": list("wxyz")},
                     index=[11, 12, 13, 14])
    labels = pd.Series(["b", "a", "a", "b"], index=[14, 12, 13, 11], name="persona")  # aligned on the index
    p = profile_segments(f, labels)
    assert p.index.name == "persona" and p.index.tolist() == ["a", "b"]
    assert p.loc["a"].to_dict() == {"n_customers": 2.0, "share": 0.5, "total_spend": 45.0, "n_orders": 4.5,
                                    "value_share": 0.9}
    assert p.loc["b", "value_share"] == pytest.approx(0.1)
    assert "note" not in p.columns
    with pytest.raises(ValueError, match="same length"):
        profile_segments(f, [0, 1])
    with pytest.raises(ValueError, match="no segment for 1 customer"):
        profile_segments(f, labels.drop(11))


def test_clustering_validation():
    f = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, -1.0, 0.0]})
    with pytest.raises(ValueError, match="negative"):
        cluster_segments(f, 2)  # log1p needs non-negative features
    with pytest.raises(ValueError, match="exceeds the 3 customers"):
        cluster_segments(f, 4, log=False)
    with pytest.raises(ValueError, match="needs more customers"):
        choose_k(f, range(2, 5), log=False)
    with pytest.raises(ValueError, match="k must be at least 2"):
        choose_k(f, [1], log=False)
    with pytest.raises(ValueError, match="has no column 'c'"):
        choose_k(f, columns=["c"])


# ----------------------------------------------------------------------------- Lorenz, Gini, Pareto, ABC
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_gini_known_distributions(n):
    assert gini(np.full(n, 3.5)) == pytest.approx(0.0, abs=1e-12)
    one = np.zeros(n)
    one[-1] = 42.0
    assert gini(one) == pytest.approx((n - 1) / n)


def test_gini_matches_mean_absolute_difference_and_lorenz_area():
    rng = np.random.default_rng(0)
    x = rng.lognormal(3, 1, 500)
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(mad, rel=1e-12)
    lc = lorenz_curve(x)
    area = np.trapezoid(lc["value_share"], lc["customer_share"])
    assert gini(x) == pytest.approx(1 - 2 * area, rel=1e-9)
    # large samples: uniform -> 1/3, exponential -> 1/2
    assert gini(rng.uniform(0, 1, 200_000)) == pytest.approx(1 / 3, abs=0.005)
    assert gini(rng.exponential(1, 200_000)) == pytest.approx(1 / 2, abs=0.005)


def test_lorenz_curve_shape():
    lc = lorenz_curve(pd.Series([4.0, 1.0, 3.0, 2.0]))
    assert lc["customer_share"].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert lc["value_share"].tolist() == pytest.approx([0, 0.1, 0.3, 0.6, 1.0])


def test_pareto_table_hand_worked():
    values = [50, 20, 10, 5, 5, 4, 3, 2, 1, 0]  # total 100
    p = pareto_table(values, top=(0.1, 0.2, 0.25, 1))
    assert p["n_customers"].tolist() == [1, 2, 3, 10]  # ceil(0.25 * 10) = 3
    assert p["value_share"].tolist() == pytest.approx([0.5, 0.7, 0.8, 1.0])


def test_abc_classes_hand_worked():
    values = pd.Series([5, 40, 30, 10, 10, 5], index=list("uvwxyz"))  # total 100
    # sorted: v 40 (before 0) A, w 30 (0.40) A, x 10 (0.70) A, y 10 (0.80) B, u 5 (0.90) B, z 5 (0.95) C
    abc = abc_classes(values)
    assert abc.to_dict() == {"u": "B", "v": "A", "w": "A", "x": "A", "y": "B", "z": "C"}
    one = abc_classes([90, 5, 5])
    assert one.tolist() == ["A", "B", "C"]  # a single customer can make class A on its own
    with pytest.raises(ValueError, match="thresholds must increase"):
        abc_classes(values, thresholds=(0.9, 0.8))
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\)"):
        abc_classes(values, thresholds=(80, 95))


def test_value_functions_validation():
    for func in (gini, lorenz_curve, pareto_table, abc_classes, pyramid_tiers):
        with pytest.raises(ValueError, match="negative"):
            func([1.0, -2.0])
        with pytest.raises(ValueError, match="empty"):
            func([])
        with pytest.raises(ValueError, match="missing value"):
            func([1.0, np.nan])
        with pytest.raises(TypeError, match="numeric"):
            func(["a", "b"])
    with pytest.raises(ValueError, match="sum to 0"):
        gini([0, 0])


# ----------------------------------------------------------------------------- pyramid
def test_pyramid_tiers_hand_worked():
    values = pd.Series([3, 100, 8, 1, 20, 5, 2, 9, 4, 6], index=range(10))
    tiers = pyramid_tiers(values)
    # top 20% = 2 customers (100, 20), next 30% = 3 (9, 8, 6), rest small
    assert tiers[tiers == "key"].index.tolist() == [1, 4]
    assert tiers[tiers == "ordinary"].index.tolist() == [2, 7, 9]
    assert (tiers == "small").sum() == 5
    assert list(tiers.cat.categories) == ["key", "ordinary", "small"]
    with pytest.raises(ValueError, match="leave no small customers"):
        pyramid_tiers(values, shares=(0.5, 0.5))


def test_customer_pyramid_with_cost_to_serve():
    values = pd.Series([100.0, 60.0, 30.0, 10.0], index=["a", "b", "c", "d"])
    cost = pd.Series([5.0, 20.0, 5.0, 15.0], index=["d", "a", "b", "c"])
    pyr = customer_pyramid(values, cost_to_serve=cost, shares=(0.25, 0.25))
    assert pyr.index.tolist() == ["key", "ordinary", "small"]
    assert pyr["tier_zh"].tolist() == ["关键客户", "普通客户", "小客户"]
    assert pyr["n_customers"].tolist() == [1, 1, 2]
    assert pyr["value"].tolist() == [100.0, 60.0, 40.0]
    assert pyr["cost_to_serve"].tolist() == [20.0, 5.0, 20.0]
    assert pyr["net_value"].tolist() == [80.0, 55.0, 20.0]
    assert pyr["value_share"].sum() == pytest.approx(1.0)
    assert pyr.loc["key", "advice"] == PYRAMID_ADVICE["key"]
    with pytest.raises(ValueError, match="no cost for 1 customer"):
        customer_pyramid(values, cost_to_serve=cost.drop("a"))
    with pytest.raises(ValueError, match="same length"):
        customer_pyramid([1.0, 2.0], cost_to_serve=[1.0])
