"""Precision@k, recall@k and NDCG@k of recommendation lists.

Checked against scikit-learn (``ndcg_score``; ``precision_score``/``recall_score`` with
``average="samples"`` on multilabel indicator matrices, which are per-customer precision and
recall averaged over customers) and against hand-worked examples.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score, precision_score, recall_score

from crmlab import recommend as R


def _random_lists(seed, n_customers=40, n_items=15, list_len=8, p_relevant=0.2):
    """Random full-length lists and random relevant sets (every customer has >= 1 relevant item)."""
    rng = np.random.default_rng(seed)
    rec_rows, rel_rows = [], []
    for c in range(n_customers):
        order = rng.permutation(n_items)[:list_len]
        rec_rows += [(c, r + 1, int(i)) for r, i in enumerate(order)]
        rel = np.flatnonzero(rng.random(n_items) < p_relevant)
        if len(rel) == 0:
            rel = rng.choice(n_items, size=1)
        rel_rows += [(c, int(i)) for i in rel]
    recs = pd.DataFrame(rec_rows, columns=["customer_id", "rank", "product_id"])
    relevant = pd.DataFrame(rel_rows, columns=["customer_id", "product_id"])
    return recs, relevant, n_customers, n_items, list_len


def _matrices(recs, relevant, n_customers, n_items, list_len, k):
    y_true = np.zeros((n_customers, n_items), dtype=int)
    y_true[relevant["customer_id"], relevant["product_id"]] = 1
    # listed items score above every unlisted one, in list order
    y_score = np.zeros((n_customers, n_items))
    y_score[recs["customer_id"], recs["product_id"]] = list_len + 1 - recs["rank"]
    y_pred = np.zeros_like(y_true)
    top = recs[recs["rank"] <= k]
    y_pred[top["customer_id"], top["product_id"]] = 1
    return y_true, y_score, y_pred


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_metrics_match_scikit_learn(seed, k):
    recs, relevant, n_c, n_i, L = _random_lists(seed)
    y_true, y_score, y_pred = _matrices(recs, relevant, n_c, n_i, L, k)
    assert R.ndcg_at_k(recs, relevant, k=k) == pytest.approx(ndcg_score(y_true, y_score, k=k))
    assert R.precision_at_k(recs, relevant, k=k) == pytest.approx(
        precision_score(y_true, y_pred, average="samples", zero_division=0))
    assert R.recall_at_k(recs, relevant, k=k) == pytest.approx(recall_score(y_true, y_pred, average="samples"))
    assert R.hit_rate_at_k(recs, relevant, k=k) == pytest.approx(((y_true & y_pred).sum(axis=1) > 0).mean())


def test_hand_worked_example():
    # customer 1: list a, b, c; bought b and z  -> hits b (rank 2)
    # customer 2: list c, a;    bought c        -> hit c (rank 1)
    # customer 3: no list;      bought a        -> nothing
    recs = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "rank": [1, 2, 3, 1, 2],
                         "product_id": ["a", "b", "c", "c", "a"]})
    relevant = pd.DataFrame({"customer_id": [1, 1, 2, 3], "product_id": ["b", "z", "c", "a"]})
    k = 3
    assert R.hit_rate_at_k(recs, relevant, k=k) == pytest.approx(2 / 3)
    assert R.precision_at_k(recs, relevant, k=k) == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    assert R.recall_at_k(recs, relevant, k=k) == pytest.approx((1 / 2 + 1 + 0) / 3)
    # customer 1: DCG = 1/log2(3); ideal (2 relevant) = 1 + 1/log2(3)
    ndcg_1 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert R.ndcg_at_k(recs, relevant, k=k) == pytest.approx((ndcg_1 + 1 + 0) / 3)
    # at k = 1 only the first positions count: customer 2's hit
    assert R.precision_at_k(recs, relevant, k=1) == pytest.approx(1 / 3)
    assert R.ndcg_at_k(recs, relevant, k=1) == pytest.approx(1 / 3)


def test_perfect_and_useless_lists():
    relevant = pd.DataFrame({"customer_id": [1, 1, 2], "product_id": [5, 6, 7]})
    perfect = pd.DataFrame({"customer_id": [1, 1, 2], "rank": [1, 2, 1], "product_id": [5, 6, 7]})
    assert R.ndcg_at_k(perfect, relevant, k=2) == 1.0
    assert R.recall_at_k(perfect, relevant, k=2) == 1.0
    # customer 2's list has one item: the empty second slot counts against precision
    assert R.precision_at_k(perfect, relevant, k=2) == pytest.approx((1 + 0.5) / 2)
    useless = perfect.assign(product_id=[8, 9, 10])
    for metric in (R.ndcg_at_k, R.recall_at_k, R.precision_at_k, R.hit_rate_at_k):
        assert metric(useless, relevant, k=2) == 0.0


def test_order_matters_only_for_ndcg():
    relevant = pd.DataFrame({"customer_id": [1], "product_id": ["x"]})
    first = pd.DataFrame({"customer_id": [1, 1], "rank": [1, 2], "product_id": ["x", "y"]})
    second = first.assign(rank=[2, 1])
    assert R.precision_at_k(first, relevant, k=2) == R.precision_at_k(second, relevant, k=2)
    assert R.ndcg_at_k(first, relevant, k=2) == 1.0
    assert R.ndcg_at_k(second, relevant, k=2) == pytest.approx(1 / np.log2(3))


def test_evaluate_recommenders_reports_the_same_metrics():
    lines = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3, 1, 2, 3],
                          "product_id": [10, 11, 10, 12, 11, 12, 12, 11, 10],
                          "date": pd.to_datetime(["2024-01-01"] * 6 + ["2024-03-01"] * 3)})
    train, test = R.split_by_time(lines, "2024-02-01")
    table = R.evaluate_recommenders({"popular": R.PopularityRecommender()}, train, test, k=2)
    recs = R.PopularityRecommender().fit(train).recommend([1, 2, 3], k=2)
    relevant = test[["customer_id", "product_id"]]  # every test purchase is new here
    for col, metric in [("hit_rate", R.hit_rate_at_k), ("precision", R.precision_at_k),
                        ("recall", R.recall_at_k), ("ndcg", R.ndcg_at_k)]:
        assert table.loc["popular", col] == pytest.approx(metric(recs, relevant, k=2))


def test_bad_lists_are_refused():
    relevant = pd.DataFrame({"customer_id": [1], "product_id": [5]})
    recs = pd.DataFrame({"customer_id": [1, 1], "rank": [1, 2], "product_id": [5, 6]})
    with pytest.raises(ValueError, match="same rank"):
        R.ndcg_at_k(recs.assign(rank=[1, 1]), relevant)
    with pytest.raises(ValueError, match="same item twice"):
        R.precision_at_k(recs.assign(product_id=[5, 5]), relevant)
    with pytest.raises(ValueError, match="whole numbers >= 1"):
        R.recall_at_k(recs.assign(rank=[0, 1]), relevant)
    with pytest.raises(ValueError, match="whole numbers >= 1"):
        R.recall_at_k(recs.assign(rank=[1.5, 2]), relevant)
    with pytest.raises(ValueError, match="k must be at least 1"):
        R.ndcg_at_k(recs, relevant, k=0)
    with pytest.raises(TypeError, match="k must be an integer"):
        R.precision_at_k(recs, relevant, k=2.0)
    with pytest.raises(ValueError, match="has no column 'rank'"):
        R.ndcg_at_k(recs.drop(columns="rank"), relevant)
    with pytest.raises(ValueError, match="missing"):
        R.ndcg_at_k(recs.assign(product_id=[5, None]), relevant)
    with pytest.raises(ValueError):
        R.recall_at_k(recs, relevant.iloc[:0])  # no customer to evaluate
    frozen = recs.copy()
    R.ndcg_at_k(recs, relevant)
    pd.testing.assert_frame_equal(recs, frozen)  # inputs are not modified
