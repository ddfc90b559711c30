"""Checks for ``exercises/solutions/02_segmentation.ipynb`` (客户细分, 客户画像, RFM).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.features` and
:mod:`crmlab.segmentation`.
"""

from __future__ import annotations

import pandas as pd

from crmlab import features, segmentation
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_partition,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = ["PERSONA_COLUMNS", "rfm", "rfm_scores", "segment_zh", "important_value_share", "persona_clusters"]


#: Behavioural features the persona exercise clusters on (plus every ``share_<category>`` column).
PERSONA_COLUMNS = ["recency_days", "orders_per_month", "mean_order_value", "discount_share"]


def _rfm(data) -> pd.DataFrame:
    return features.rfm_table(data.transactions, observation_end=data.observation_end)


def _persona_features(data) -> pd.DataFrame:
    f = features.customer_features(data.transactions, observation_end=data.observation_end, discount_col="discount",
                                   order_lines=data.order_lines, products=data.products)
    shares = [c for c in f.columns if c.startswith("share_")]
    return f.loc[f["n_orders"] >= 3, PERSONA_COLUMNS + shares]


def rfm(answer, data=None) -> None:
    """RFM table at the observation end: ``recency_days``, ``n_orders``, ``total_spend`` per customer."""
    data = resolve_data(data)
    assert_frame_matches(answer, _rfm(data), key="customer_id", what="your RFM table",
                         hint="Recency counts whole days from the day of the last order to the day of "
                              "data.observation_end (not to today); n_orders counts orders; total_spend sums "
                              "the amounts. crm.features.rfm_table(data.transactions, "
                              "observation_end=data.observation_end).")
    passed("rfm")


def rfm_scores(answer, data=None) -> None:
    """5-level R, F and M scores of the RFM table."""
    data = resolve_data(data)
    expected = segmentation.rfm_scores(_rfm(data), bins=5)[["R", "F", "M"]]
    assert_frame_matches(answer, expected, key="customer_id", what="your RFM scores",
                         hint="Recency is reversed: the most recent buyers get R = 5. Score the RFM table "
                              "with crm.segmentation.rfm_scores(rfm, bins=5).")
    passed("rfm_scores")


def segment_zh(answer, data=None) -> None:
    """Eight-class segment name (重要价值客户 …) of every customer, high = above the mean score."""
    data = resolve_data(data)
    scores = segmentation.rfm_scores(_rfm(data), bins=5)
    expected = segmentation.rfm_segments(scores)["segment_zh"]
    assert_series_matches(answer, expected, what="your segment names",
                          hint="A score is high when it is above the mean of that score over all customers; "
                               "R high and F high and M high = 重要价值客户. Use the 'segment_zh' column of "
                               "crm.segmentation.rfm_segments(scores).")
    passed("segment_zh")


def important_value_share(answer, data=None) -> None:
    """Share (0-1) of all spend that comes from 重要价值客户 customers."""
    data = resolve_data(data)
    rfm_ = _rfm(data)
    seg = segmentation.rfm_segments(segmentation.rfm_scores(rfm_, bins=5))["segment_zh"]
    expected = rfm_.loc[seg == "重要价值客户", "total_spend"].sum() / rfm_["total_spend"].sum()
    assert_scalar_close(answer, expected, what="your share of spend",
                        hint="Sum the total_spend of the 重要价值客户 customers and divide by the total "
                             "spend of all customers; give a fraction, not a percentage.")
    passed("important_value_share")


def persona_clusters(answer, data=None) -> None:
    """k-means personas (k = 4) of customers with at least 3 orders."""
    data = resolve_data(data)
    expected = segmentation.cluster_segments(_persona_features(data), 4)
    assert_same_partition(answer, expected, what="your clusters",
                          hint="Keep customers with n_orders >= 3 and the columns check.PERSONA_COLUMNS plus "
                               "the share_<category> columns of crm.features.customer_features(...), then "
                               "crm.segmentation.cluster_segments(features, 4).")
    passed("persona_clusters")
