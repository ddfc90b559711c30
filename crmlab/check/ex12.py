"""Checks for ``exercises/solutions/12_personalisation.ipynb`` (个性化推荐, 定制化服务).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.recommend`.
"""

from __future__ import annotations

import pandas as pd

from crmlab import recommend
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_set,
    assert_scalar_close,
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
    assert_scalar_close(answer, expected, what="your lift",
                        hint="lift = confidence / P(beverages), with confidence = P(snacks and beverages) / "
                             "P(snacks); the shares are over orders (baskets), not order lines.")
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
    assert_same_set(got, expected, what="your set of rules",
                    hint="Use crm.recommend.association_rules(lines, min_support=0.01, min_confidence=0.2, "
                         "min_lift=2.0, item_col='category') and collect (antecedent, consequent) pairs, "
                         "e.g. ('snacks', 'beverages'). Both directions of a pair are separate rules.")
    passed("strong_category_rules")


def similar_products(answer, data=None) -> None:
    """The 5 products most similar to product 1: ``product_id`` and ``similarity``."""
    data = resolve_data(data)
    model = recommend.ItemKNNRecommender(n_neighbors=20).fit(_lines(data))
    expected = model.most_similar(1, k=5)
    assert_frame_matches(answer, expected, key="product_id", what="your similar products",
                         hint="Fit crm.recommend.ItemKNNRecommender(n_neighbors=20) on all purchase lines and "
                              "call .most_similar(1, k=5).")
    passed("similar_products")


def holdout_comparison(answer, data=None) -> None:
    """Hit rate@10 and coverage of ``popular`` and ``item_knn`` (n_neighbors=20) on the
    holdout after :data:`CUTOFF`; one row per model, index or column ``model``."""
    data = resolve_data(data)
    train, test = recommend.split_by_time(_lines(data), CUTOFF)
    expected = recommend.evaluate_recommenders(
        {"popular": recommend.PopularityRecommender(), "item_knn": recommend.ItemKNNRecommender(n_neighbors=20)},
        train, test, k=10)[["hit_rate", "coverage"]]
    assert_frame_matches(answer, expected, key="model", what="your evaluation table",
                         hint="Split with crm.recommend.split_by_time(lines, check.CUTOFF), then "
                              "crm.recommend.evaluate_recommenders({'popular': ..., 'item_knn': ...}, train, "
                              "test, k=10). Fit on train only.")
    passed("holdout_comparison")


def segment_category_affinity(answer, data=None) -> None:
    """Affinity of each latent segment (``data.truth``) for each category."""
    data = resolve_data(data)
    expected = recommend.segment_affinity(_lines(data), data.truth[["customer_id", "segment"]])
    expected = expected[["segment", "category", "affinity"]]
    if isinstance(answer, pd.DataFrame) and "segment" not in answer.columns and answer.index.name == "segment" \
            and "affinity" not in answer.columns:
        # a wide segment x category table: turn it into one row per pair
        answer = answer.stack().rename("affinity").reset_index()
    assert_frame_matches(answer, expected, key=["segment", "category"], what="your affinity table",
                         hint="affinity = (share of the segment's lines in the category) / (share of all lines "
                              "in the category); crm.recommend.segment_affinity does it.")
    passed("segment_category_affinity")
