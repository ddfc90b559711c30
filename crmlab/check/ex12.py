"""Checks for ``exercises/solutions/12_personalisation.ipynb`` (个性化推荐, 定制化服务).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.recommend`. Hints name
the idea and the section of notebook 12; they never give the code.
"""

from __future__ import annotations

import pandas as pd

from crmlab import recommend, segmentation
from crmlab.check import ex02
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_set,
    assert_scalar_close,
    fail,
    judge,
    passed,
    resolve_data,
)

__all__ = [
    "CUTOFF",
    "lift_snacks_beverages",
    "strong_category_rules",
    "similar_products",
    "holdout_comparison",
    "segment_category_affinity",
]

CUTOFF = "2024-06-30"
"""Cutoff of the time-based holdout used in the exercises: training data up to and including this day."""


def _first(items):
    return items if isinstance(items, str) else next(iter(items))


def _lines(data) -> pd.DataFrame:
    return recommend.purchase_lines(data.transactions, data.order_lines, data.products)


def lift_snacks_beverages(answer, data=None) -> None:
    """Lift of the basket rule snacks → beverages (category level, baskets = orders)."""
    data = resolve_data(data)
    b = recommend.baskets(_lines(data), item_col="category")
    a, c = b["snacks"], b["beverages"]
    expected = float((a & c).mean() / a.mean() / c.mean())
    judge(assert_scalar_close, answer, expected, what="your lift",
          mistakes=[("your answer is the confidence P(beverages | snacks): lift divides it by P(beverages).",
                     float((a & c).mean() / a.mean())),
                    ("your answer is the support P(snacks and beverages): lift compares it with what independence "
                     "would give.", float((a & c).mean()))],
          hint="Lift = confidence of the rule / share of baskets with the consequent; all shares are over orders "
               "(baskets), not order lines — notebook 12, section 2 (关联规则).")
    passed("lift_snacks_beverages")


def strong_category_rules(answer, data=None) -> None:
    """Set of (antecedent, consequent) category pairs of the rules with lift >= 2
    (min_support=0.01, min_confidence=0.2)."""
    data = resolve_data(data)
    rules = recommend.association_rules(_lines(data), min_support=0.01, min_confidence=0.2, min_lift=2.0,
                                        item_col="category")
    expected = {(a[0], c[0]) for a, c in zip(rules["antecedents"], rules["consequents"])}
    got = answer
    if isinstance(answer, pd.DataFrame) and {"antecedents", "consequents"} <= set(answer.columns):
        # the rules table itself: one-item antecedents and consequents
        got = {(_first(a), _first(c)) for a, c in zip(answer["antecedents"], answer["consequents"])}
    elif isinstance(answer, (set, list, tuple, pd.Series)):
        got = {tuple(p) if isinstance(p, (list, tuple)) else p for p in answer}
    one_way = {tuple(sorted(p)) for p in expected}
    judge(assert_same_set, got, expected, what="your set of rules",
          mistakes=[("your set keeps one direction of each pair: A → B and B → A are separate rules.", one_way)],
          hint="Category-level rules over baskets with support ≥ 0.01, confidence ≥ 0.2 and lift ≥ 2, as "
               "(antecedent, consequent) pairs such as ('snacks', 'beverages') — notebook 12, section 2 "
               "(关联规则).")
    passed("strong_category_rules")


def similar_products(answer, data=None) -> None:
    """The 5 products most similar to product 1: ``product_id`` and ``similarity``."""
    data = resolve_data(data)
    model = recommend.ItemKNNRecommender(n_neighbors=20).fit(_lines(data))
    expected = model.most_similar(1, k=5)
    if isinstance(answer, pd.DataFrame) and "product_id" in answer.columns and (answer["product_id"] == 1).any():
        fail("your list contains product 1 itself: the most similar products are the others.",
             "notebook 12, section 4 (基于物品的协同过滤).")
    judge(assert_frame_matches, answer, expected, key="product_id", what="your similar products",
          hint="Item-to-item cosine similarity of purchase vectors over all purchase lines (20 neighbours); the "
               "5 products closest to product 1 — notebook 12, section 4 (基于物品的协同过滤).")
    passed("similar_products")


def holdout_comparison(answer, data=None) -> None:
    """Hit rate@10 and coverage of ``popular`` and ``item_knn`` (n_neighbors=20) on the
    holdout after :data:`CUTOFF`; one row per model, index or column ``model``."""
    data = resolve_data(data)
    train, test = recommend.split_by_time(_lines(data), CUTOFF)
    expected = recommend.evaluate_recommenders(
        {"popular": recommend.PopularityRecommender(), "item_knn": recommend.ItemKNNRecommender(n_neighbors=20)},
        train, test, k=10)[["hit_rate", "coverage"]]
    judge(assert_frame_matches, answer, expected, key="model", what="your evaluation table",
          mistakes=[("your hit rates and coverage are percentages: give fractions between 0 and 1.",
                     lambda: 100 * expected)],
          hint="Split the purchase lines in time at check.CUTOFF, fit both recommenders on the past only and score "
               "hit rate@10 and coverage on the later lines — notebook 12, section 5 (时间外验证).")
    passed("holdout_comparison")


def _persona_segments(data) -> pd.DataFrame:
    """The four behavioural personas of chapter 02 (customers with at least 3 orders), as
    ``customer_id``, ``segment``: the observable segmentation of exercise 5."""
    personas = segmentation.cluster_segments(ex02._persona_features(data), 4)
    return personas.rename("segment").rename_axis("customer_id").reset_index()


def segment_category_affinity(answer, data=None) -> None:
    """Affinity of each chapter-02 persona (k-means, k = 4, customers with at least 3 orders)
    for each category, on those customers' purchase lines."""
    data = resolve_data(data)
    lines = _lines(data)
    personas = _persona_segments(data)
    full = recommend.segment_affinity(lines[lines["customer_id"].isin(personas["customer_id"])], personas)
    expected = full[["segment", "category", "affinity"]]
    shares = full.assign(affinity=full["share"])[["segment", "category", "affinity"]]

    def latent():
        truth = recommend.segment_affinity(lines, data.truth[["customer_id", "segment"]])
        return truth[["segment", "category", "affinity"]]

    if isinstance(answer, pd.DataFrame) and "segment" not in answer.columns and answer.index.name == "segment" \
            and "affinity" not in answer.columns:
        # a wide segment x category table: turn it into one row per pair
        answer = answer.stack().rename("affinity").reset_index()
    judge(assert_frame_matches, answer, expected, key=["segment", "category"], what="your affinity table",
          mistakes=[("your segments are the simulator's latent segments (data.truth), which no company can "
                     "observe: segment customers by their behaviour, as in chapter 02.", latent),
                    ("your values are the segment's share of lines in each category: affinity divides that by the "
                     "share of all lines in the category.", shares)],
          hint="Segment the repeat buyers into the behavioural personas of chapter 02, then divide each persona's "
               "share of lines in a category by the share of all their lines in the category (1 = no "
               "preference) — notebook 12, section 3 (细分定制化).")
    passed("segment_category_affinity")
