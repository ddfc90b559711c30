"""Tests for crmlab.recommend: rules against mlxtend, similarities against the cosine
formula, recommenders against the simulated company's known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import crmlab as crm
from crmlab import recommend as R
from crmlab.synth.config import COMPLEMENTS, SimulationConfig

mlxtend_fp = pytest.importorskip("mlxtend.frequent_patterns")


@pytest.fixture(scope="module")
def company():
    return crm.synth.generate(n_customers=3000, seed=3)


@pytest.fixture(scope="module")
def lines(company):
    return R.purchase_lines(company.transactions, company.order_lines, company.products)


@pytest.fixture
def toy_lines():
    # 5 baskets: {tea, cup}, {tea, cup, pen}, {tea}, {cup, pen}, {tea, cup}
    return pd.DataFrame({
        "transaction_id": [1, 1, 2, 2, 2, 3, 4, 4, 5, 5],
        "product_id": ["tea", "cup", "tea", "cup", "pen", "tea", "cup", "pen", "tea", "cup"],
    })


def _mlxtend_rules(onehot, min_support, min_confidence, max_len):
    fi = mlxtend_fp.apriori(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
    rules = mlxtend_fp.association_rules(fi, num_itemsets=len(onehot), metric="confidence",
                                        min_threshold=min_confidence)
    rules = rules.assign(antecedents=rules["antecedents"].map(lambda s: tuple(sorted(s))),
                         consequents=rules["consequents"].map(lambda s: tuple(sorted(s))))
    return rules.set_index(["antecedents", "consequents"]).sort_index()


def _compare_with_mlxtend(ours, onehot, min_support, min_confidence, max_len):
    ref = _mlxtend_rules(onehot, min_support, min_confidence, max_len)
    got = ours.set_index(["antecedents", "consequents"]).sort_index()
    # a confidence equal to the threshold can fall either side of it in floating point
    ref = ref[(ref["confidence"] - min_confidence).abs() > 1e-9]
    got = got[(got["confidence"] - min_confidence).abs() > 1e-9]
    if ref.empty:
        assert got.empty
        return
    assert got.index.tolist() == ref.index.tolist()
    mapping = {"antecedent_support": "antecedent support", "consequent_support": "consequent support",
               "support": "support", "confidence": "confidence", "lift": "lift",
               "leverage": "leverage", "conviction": "conviction"}
    for ours_col, ref_col in mapping.items():
        np.testing.assert_allclose(got[ours_col].to_numpy(), ref[ref_col].to_numpy(), rtol=1e-9,
                                   err_msg=ours_col)


# ----------------------------------------------------------------------------- rules
def test_rules_hand_worked(toy_lines):
    rules = R.association_rules(toy_lines, min_support=0.3, min_confidence=0.5, min_lift=0.0)
    r = {(a, c): row for a, c, (_, row) in zip(rules["antecedents"], rules["consequents"], rules.iterrows())}
    # tea in 4/5, cup in 4/5, tea & cup in 3/5
    row = r[("tea",), ("cup",)]
    assert row["support"] == pytest.approx(3 / 5)
    assert row["confidence"] == pytest.approx(3 / 4)
    assert row["lift"] == pytest.approx((3 / 4) / (4 / 5))
    assert row["leverage"] == pytest.approx(3 / 5 - 16 / 25)
    assert row["conviction"] == pytest.approx((1 - 4 / 5) / (1 - 3 / 4))
    assert row["n_baskets"] == 3
    # pen -> cup: pen in 2/5, always with cup: confidence 1, conviction infinite
    assert r[("pen",), ("cup",)]["confidence"] == 1.0
    assert np.isinf(r[("pen",), ("cup",)]["conviction"])
    # min_lift=1 removes tea <-> cup (lift 0.9375 < 1)
    lifted = R.association_rules(toy_lines, min_support=0.3, min_confidence=0.5)
    assert (("tea",), ("cup",)) not in set(zip(lifted["antecedents"], lifted["consequents"]))
    assert (lifted["lift"] >= 1).all()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_rules_equal_mlxtend_toy(toy_lines):
    onehot = R.baskets(toy_lines)
    for max_len in (2, 3):
        ours = R.association_rules(toy_lines, min_support=0.2, min_confidence=0.3, min_lift=0.0,
                                   max_len=max_len)
        _compare_with_mlxtend(ours, onehot, 0.2, 0.3, max_len)


@pytest.mark.parametrize("item_col,min_support,max_len", [
    ("product_id", 0.004, 2), ("category", 0.01, 3)])
def test_rules_equal_mlxtend_on_company(lines, item_col, min_support, max_len):
    ours = R.association_rules(lines, min_support=min_support, min_confidence=0.05, min_lift=0.0,
                               item_col=item_col, max_len=max_len)
    assert len(ours) > 5
    _compare_with_mlxtend(ours, R.baskets(lines, item_col=item_col), min_support, 0.05, max_len)


def test_top_category_rules_are_the_complements(lines):
    rules = R.association_rules(lines, min_support=0.01, min_confidence=0.1, item_col="category")
    top = rules.head(8)
    pairs = {(a[0], c[0]) for a, c in zip(top["antecedents"], top["consequents"])}
    assert pairs == {(a, c) for a, c in COMPLEMENTS.items()}


def test_baskets_one_hot(toy_lines):
    b = R.baskets(toy_lines)
    assert b.shape == (5, 3)
    assert b.loc[2].tolist() == [True, True, True]  # cup, pen, tea
    assert b.sum().to_dict() == {"cup": 4, "pen": 2, "tea": 4}


def test_rules_validation(toy_lines):
    with pytest.raises(ValueError, match="min_support must lie in"):
        R.association_rules(toy_lines, min_support=1.5, min_confidence=0.5)
    with pytest.raises(TypeError, match="min_confidence must be a number"):
        R.association_rules(toy_lines, min_support=0.1, min_confidence="high")
    with pytest.raises(ValueError, match="min_lift must be a non-negative"):
        R.association_rules(toy_lines, min_support=0.1, min_confidence=0.5, min_lift=-1)
    with pytest.raises(ValueError, match="max_len must be at least 2"):
        R.association_rules(toy_lines, min_support=0.1, min_confidence=0.5, max_len=1)
    with pytest.raises(ValueError, match="has no column 'category'"):
        R.association_rules(toy_lines, min_support=0.1, min_confidence=0.5, item_col="category")
    bad = toy_lines.copy()
    bad.loc[0, "product_id"] = None
    with pytest.raises(ValueError, match="missing value"):
        R.association_rules(bad, min_support=0.1, min_confidence=0.5)


# ----------------------------------------------------------------------------- data helpers
def test_purchase_lines_join(company):
    pl = R.purchase_lines(company.transactions, company.order_lines, company.products)
    assert len(pl) == len(company.order_lines)
    # line amounts of each customer add up to the customer's transactions
    by_cust = pl.groupby("customer_id")["line_amount"].sum()
    expected = company.transactions.groupby("customer_id")["amount"].sum()
    pd.testing.assert_series_equal(by_cust.sort_index(), expected.sort_index(), check_names=False, atol=1e-6)
    assert pl["category"].notna().all()
    orphan = company.order_lines.assign(transaction_id=company.order_lines["transaction_id"] + 10**9)
    with pytest.raises(ValueError, match="not in transactions"):
        R.purchase_lines(company.transactions, orphan)


def test_split_by_time(lines):
    train, test = R.split_by_time(lines, "2024-06-30")
    assert len(train) + len(test) == len(lines)
    assert train["date"].max() < pd.Timestamp("2024-07-01") <= test["date"].min()
    # the cutoff day is training data, all of it (as every cutoff in crmlab)
    day = pd.DataFrame({"date": pd.to_datetime(["2024-06-29 10:00", "2024-06-30 00:00", "2024-06-30 15:30",
                                                "2024-06-30 23:59:59", "2024-07-01 00:00"], format="ISO8601"), "product_id": range(5)})
    train, test = R.split_by_time(day, "2024-06-30")
    assert train["product_id"].tolist() == [0, 1, 2, 3] and test["product_id"].tolist() == [4]
    train, test = R.split_by_time(day, pd.Timestamp("2024-06-30 12:00"))  # a time of day does not cut the day
    assert len(train) == 4
    with pytest.raises(ValueError, match="leaves one side empty"):
        R.split_by_time(lines, "2030-01-01")
    with pytest.raises(ValueError, match="cutoff is required"):
        R.split_by_time(lines, None)


# ----------------------------------------------------------------------------- recommenders
@pytest.fixture
def small():
    # customers 1..4; items a, b, c, d
    return pd.DataFrame({"customer_id": [1, 1, 2, 2, 2, 3, 3, 4],
                         "product_id": ["a", "b", "a", "b", "c", "a", "c", "d"]})


def test_item_similarity_is_cosine_of_buyers(small):
    m = R.ItemKNNRecommender(n_neighbors=None).fit(small)
    sim = pd.DataFrame(m.similarity_.toarray(), index=m.items_, columns=m.items_)
    # buyers: a {1,2,3}, b {1,2}, c {2,3}, d {4}
    assert sim.loc["a", "b"] == pytest.approx(2 / np.sqrt(3 * 2))
    assert sim.loc["b", "c"] == pytest.approx(1 / np.sqrt(2 * 2))
    assert sim.loc["a", "d"] == 0
    assert np.allclose(np.diag(sim), 0)


def test_item_similarity_matches_formula_on_company(lines):
    m = R.ItemKNNRecommender(n_neighbors=None).fit(lines)
    R_ = m.user_items_.toarray()
    co = R_.T @ R_
    norms = np.sqrt(np.diag(co))
    expected = co / np.outer(norms, norms)
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(m.similarity_.toarray(), expected, atol=1e-12)


def test_neighbours_pruned(lines):
    m = R.ItemKNNRecommender(n_neighbors=5).fit(lines)
    assert (np.diff(m.similarity_.indptr) <= 5).all()
    full = R.ItemKNNRecommender(n_neighbors=None).fit(lines).similarity_.toarray()
    kept = m.similarity_.toarray()
    for i in range(0, full.shape[0], 7):  # kept neighbours are the most similar ones
        assert kept[i][kept[i] > 0].min() >= np.sort(full[i])[-5] - 1e-12


def test_recommend_scores_and_exclusion(small):
    m = R.ItemKNNRecommender(n_neighbors=None).fit(small)
    recs = m.recommend([3], k=3)
    # customer 3 bought a, c -> b scores sim(a,b)+sim(c,b); d scores 0 and comes from popularity
    assert recs["product_id"].tolist() == ["b", "d"]
    assert recs["score"].iloc[0] == pytest.approx(2 / np.sqrt(6) + 1 / 2)
    assert recs["source"].tolist() == ["item_knn", "popular"]
    assert recs["rank"].tolist() == [1, 2]
    keep = m.recommend([3], k=2, exclude_purchased=False)
    assert set(keep["product_id"]) <= {"a", "b", "c", "d"} and len(keep) == 2
    # unseen customers get the best sellers
    cold = m.recommend([99], k=2)
    assert cold["product_id"].tolist() == ["a", "b"] and (cold["source"] == "popular").all()


def test_recommendations_never_repeat_purchases(lines):
    m = R.ItemKNNRecommender().fit(lines)
    cust = lines["customer_id"].drop_duplicates().head(200)
    recs = m.recommend(cust, k=10)
    bought = lines[["customer_id", "product_id"]].drop_duplicates()
    overlap = recs.merge(bought, on=["customer_id", "product_id"])
    assert overlap.empty
    assert recs.groupby("customer_id").size().eq(10).all()


def test_popularity_recommender(small):
    m = R.PopularityRecommender().fit(small)
    assert m.popularity_.to_dict() == {"a": 3, "b": 2, "c": 2, "d": 1}
    assert m.recommend([4], k=2)["product_id"].tolist() == ["a", "b"]


def test_segment_recommender(small):
    seg = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["x", "x", "y", "y"]})
    m = R.SegmentPopularityRecommender().fit(small, segments=seg)
    assert m.segment_popularity_["y"].to_dict() == {"a": 1, "b": 0, "c": 1, "d": 1}
    # customer 4 (segment y) bought d: next are a and c (1 buyer each in y), a before c by overall popularity
    assert m.recommend([4], k=2)["product_id"].tolist() == ["a", "c"]
    with pytest.raises(ValueError, match="duplicated key"):
        R.SegmentPopularityRecommender().fit(small, segments=pd.concat([seg, seg]))


def test_estimator_contract(small):
    m = R.ItemKNNRecommender(n_neighbors=3)
    with pytest.raises(NotFittedError, match="not fitted"):
        m.recommend([1])
    assert "n_neighbors=3" in repr(m)
    assert m.fit(small) is m
    assert "fitted on 4 customers x 4 items" in repr(m)
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "similarity_")
    with pytest.raises(TypeError, match="n_neighbors must be an integer"):
        R.ItemKNNRecommender(n_neighbors=2.5).fit(small)
    with pytest.raises(ValueError, match="k must be at least 1"):
        m.recommend([1], k=0)
    with pytest.raises(ValueError, match="not seen in fit"):
        m.most_similar("zzz")
    with pytest.raises(ValueError, match="has no column 'customer_id'"):
        R.ItemKNNRecommender().fit(small.rename(columns={"customer_id": "cust"}))


# ----------------------------------------------------------------------------- evaluation
def test_hit_rate_and_coverage_hand_worked():
    recs = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 2], "rank": [1, 2, 3, 1, 2, 3],
                         "product_id": [10, 11, 12, 10, 13, 14]})
    test = pd.DataFrame({"customer_id": [1, 2, 3], "product_id": [12, 99, 10]})
    assert R.hit_rate_at_k(recs, test, k=3) == pytest.approx(1 / 3)  # customer 3 has no list: miss
    assert R.hit_rate_at_k(recs, test, k=2) == 0.0
    assert R.catalogue_coverage(recs, range(10, 20)) == pytest.approx(5 / 10)
    assert R.catalogue_coverage(recs, pd.DataFrame({"product_id": range(10, 15)})) == 1.0
    with pytest.raises(ValueError, match="not in the catalogue"):
        R.catalogue_coverage(recs, [10, 11])
    with pytest.raises(ValueError, match="has no column 'rank'"):
        R.hit_rate_at_k(recs.drop(columns="rank"), test)


def test_item_knn_beats_popularity_on_holdout(lines):
    train, test = R.split_by_time(lines, "2024-06-30")
    models = {"popular": R.PopularityRecommender(), "item_knn": R.ItemKNNRecommender()}
    for k in (5, 10):
        table = R.evaluate_recommenders(models, train, test, k=k)
        assert table.loc["item_knn", "hit_rate"] > table.loc["popular", "hit_rate"] + 0.05
        assert table.loc["item_knn", "coverage"] > table.loc["popular", "coverage"]
    # without exclusion everyone gets the same k best sellers
    pop = R.PopularityRecommender().fit(train).recommend(test["customer_id"].unique(), k=5,
                                                          exclude_purchased=False)
    assert R.catalogue_coverage(pop, train["product_id"].unique()) == pytest.approx(5 / train["product_id"].nunique())


def test_evaluation_customers_are_those_with_new_items(lines):
    train, test = R.split_by_time(lines, "2024-06-30")
    table = R.evaluate_recommenders({"popular": R.PopularityRecommender()}, train, test, k=5)
    seen = set(zip(train["customer_id"], train["product_id"]))
    known = set(train["customer_id"])
    new = {c for c, p in zip(test["customer_id"], test["product_id"]) if (c, p) not in seen and c in known}
    assert table.loc["popular", "customers"] == len(new)


def test_segment_affinity_finds_preferred_categories(company, lines):
    aff = R.segment_affinity(lines, company.truth[["customer_id", "segment"]])
    cfg = SimulationConfig()
    for seg in cfg.segments:
        if len(seg.preferred_categories) == len(crm.synth.config.CATEGORIES):
            continue
        part = aff[aff["segment"] == seg.name].set_index("category")["affinity"]
        others = part.drop(list(seg.preferred_categories))
        # every preferred category is bought more than average and more than any other category
        assert part[list(seg.preferred_categories)].min() > 1
        assert part[list(seg.preferred_categories)].min() > others.max()
    shares = aff.groupby("segment")["share"].sum()
    np.testing.assert_allclose(shares, 1.0)


def test_segment_affinity_hand_worked():
    lines = pd.DataFrame({"customer_id": [1, 1, 2, 2], "category": ["tea", "tea", "tea", "pens"]})
    seg = pd.DataFrame({"customer_id": [1, 2], "segment": ["A", "B"]})
    aff = R.segment_affinity(lines, seg).set_index(["segment", "category"])
    assert aff.loc[("B", "pens"), "affinity"] == pytest.approx(0.5 / 0.25)
    assert aff.loc[("A", "pens"), "lines"] == 0
    with pytest.raises(ValueError, match="without a segment"):
        R.segment_affinity(lines, seg.iloc[:1])


def test_plots(toy_lines):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rules = R.association_rules(toy_lines, min_support=0.2, min_confidence=0.3, min_lift=0.0)
    ax = crm.plot.rules_scatter(rules)
    assert len(ax.collections[0].get_offsets()) == len(rules)
    table = pd.DataFrame({"hit_rate": [0.4, 0.6], "coverage": [0.2, 0.9], "k": [5, 5]},
                         index=pd.Index(["popular", "item_knn"], name="model"))
    ax = crm.plot.recommender_comparison_plot(table)
    assert len(ax.patches) >= 4 and "k = 5" in ax.get_title()
    lines = pd.DataFrame({"customer_id": [1, 1, 2], "category": ["tea", "cup", "cup"]})
    seg = pd.DataFrame({"customer_id": [1, 2], "segment": ["A", "B"]})
    ax = crm.plot.affinity_heatmap(R.segment_affinity(lines, seg))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cup", "tea"]
    with pytest.raises(ValueError, match="has no column 'lift'"):
        crm.plot.rules_scatter(rules.drop(columns="lift"))
    plt.close("all")


def test_exercise_checks_accept_reference_and_reject_wrong(company, lines, capsys):
    from crmlab.check import ex12

    b = R.baskets(lines, item_col="category")
    lift = (b["snacks"] & b["beverages"]).mean() / (b["snacks"].mean() * b["beverages"].mean())
    ex12.lift_snacks_beverages(lift, company)
    with pytest.raises(AssertionError, match="your lift is"):
        ex12.lift_snacks_beverages(lift * 1.1, company)
    rules = R.association_rules(lines, min_support=0.01, min_confidence=0.2, min_lift=2.0, item_col="category")
    ex12.strong_category_rules(rules, company)
    pairs = {(a[0], c[0]) for a, c in zip(rules["antecedents"], rules["consequents"])}
    ex12.strong_category_rules(pairs, company)
    with pytest.raises(AssertionError, match="missing"):
        ex12.strong_category_rules(set(list(pairs)[:2]), company)
    train, test = R.split_by_time(lines, ex12.CUTOFF)
    models = {"popular": R.PopularityRecommender(), "item_knn": R.ItemKNNRecommender(n_neighbors=20)}
    ex12.holdout_comparison(R.evaluate_recommenders(models, train, test, k=10), company)
    with pytest.raises(AssertionError, match="hit_rate"):
        ex12.holdout_comparison(R.evaluate_recommenders(models, train, test, k=5), company)
    # the observable segmentation: chapter 02's four k-means personas of the repeat buyers
    f = crm.features.customer_features(company.transactions, observation_end=company.observation_end,
                                       discount_col="discount", order_lines=company.order_lines,
                                       products=company.products)
    active = f[f["n_orders"] >= 3]
    X = active[["recency_days", "orders_per_month", "mean_order_value", "discount_share"]
               + [c for c in active.columns if c.startswith("share_")]]
    personas = crm.segmentation.cluster_segments(X, 4).rename("segment")
    aff = R.segment_affinity(lines[lines["customer_id"].isin(personas.index)], personas.reset_index())
    ex12.segment_category_affinity(aff.pivot(index="segment", columns="category", values="affinity"), company)
    with pytest.raises(AssertionError, match="affinity divides"):
        ex12.segment_category_affinity(aff.assign(affinity=aff["share"]), company)
    with pytest.raises(AssertionError, match="latent segments"):
        ex12.segment_category_affinity(R.segment_affinity(lines, company.truth[["customer_id", "segment"]]), company)
    # every persona's two favourite categories are one complementary pair of the simulator
    grid = aff.pivot(index="segment", columns="category", values="affinity")
    top_two = {frozenset(row.nlargest(2).index) for _, row in grid.iterrows()}
    assert top_two == {frozenset(p) for p in crm.synth.config.COMPLEMENTS.items()}
    assert capsys.readouterr().out.count("correct") == 5


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inside mlxtend
@settings(max_examples=30, deadline=None)
@given(st.lists(st.sets(st.sampled_from("abcdef"), min_size=1, max_size=4), min_size=3, max_size=25),
       st.sampled_from([0.1, 0.2, 0.3]), st.sampled_from([0.0, 0.4, 0.8]), st.sampled_from([2, 3]))
def test_rules_equal_mlxtend_property(basket_sets, min_support, min_confidence, max_len):
    lines = pd.DataFrame([(i, item) for i, b in enumerate(basket_sets) for item in sorted(b)],
                         columns=["transaction_id", "product_id"])
    ours = R.association_rules(lines, min_support=min_support, min_confidence=max(min_confidence, 0.0),
                               min_lift=0.0, max_len=max_len)
    onehot = R.baskets(lines)
    fi = mlxtend_fp.apriori(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
    if not (fi["itemsets"].map(len) >= 2).any():
        assert ours.empty
        return
    _compare_with_mlxtend(ours, onehot, min_support, min_confidence, max_len)
