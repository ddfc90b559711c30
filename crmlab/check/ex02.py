"""Checks for ``exercises/solutions/02_segmentation.ipynb`` (客户细分, 客户画像, RFM).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.features` and
:mod:`crmlab.segmentation`. Hints name the idea and the section of notebook 02; they never give
the code. Exercises 2-4 build on the RFM table of exercise 1: when that one fails, the message
says to fix it first.
"""

from __future__ import annotations

import pandas as pd

from crmlab import features, segmentation
from crmlab.check.compare import (
    assert_frame_matches,
    assert_same_partition,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
    matches,
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
    expected = _rfm(data)

    def with_timestamps():
        last = data.transactions.groupby("customer_id")["date"].max()
        return expected.assign(recency_days=(data.observation_end - last).dt.days.reindex(expected.index))

    def to_today():
        last = data.transactions.groupby("customer_id")["date"].max().dt.normalize()
        return expected.assign(recency_days=(pd.Timestamp.today().normalize() - last).dt.days.reindex(expected.index))

    judge(assert_frame_matches, answer, expected, key="customer_id", what="your RFM table",
          mistakes=[("your recency_days counts to today, not to data.observation_end.", to_today),
                    ("your recency_days subtracts timestamps, so a purchase late on a day counts one day less: "
                     "count whole calendar days.", with_timestamps)],
          hint="Recency counts whole days from the day of the last order to the day of the observation end; "
               "frequency counts orders and monetary value sums the amounts — notebook 02, section 2 (客户特征).")
    passed("rfm")


def rfm_scores(answer, data=None) -> None:
    """5-level R, F and M scores of the RFM table."""
    data = resolve_data(data)
    rfm_ = _rfm(data)
    expected = segmentation.rfm_scores(rfm_, bins=5)[["R", "F", "M"]]
    if isinstance(answer, pd.DataFrame) and "R" in answer.columns and not matches(
            assert_frame_matches, answer, expected, key="customer_id"):
        got = answer.set_index("customer_id")["R"] if "customer_id" in answer.columns else answer["R"]
        both = pd.concat([pd.to_numeric(got, errors="coerce"), rfm_["recency_days"]], axis=1, join="inner").dropna()
        if len(both) > 2 and both.corr(method="spearman").iloc[0, 1] > 0.5:
            fail("your R score is not reversed: the most recent buyers (smallest recency) must get R = 5.",
                 "notebook 02, section 3 (RFM 评分).")
    judge(assert_frame_matches, answer, expected, key="customer_id", what="your RFM scores",
          builds_on="exercise 1 (rfm)",
          hint="Each score cuts its column into 5 quantile groups; recency is reversed, so the most recent "
               "buyers get R = 5 — notebook 02, section 3 (RFM 评分).")
    passed("rfm_scores")


def segment_zh(answer, data=None) -> None:
    """Eight-class segment name (重要价值客户 …) of every customer, high = above the mean score."""
    data = resolve_data(data)
    scores = segmentation.rfm_scores(_rfm(data), bins=5)
    expected = segmentation.rfm_segments(scores)["segment_zh"]

    def by_median():
        med = scores[["R", "F", "M"]] > scores[["R", "F", "M"]].median()
        return segmentation.rfm_segments(scores.assign(**{c: med[c].astype(int) * 2 + 1 for c in "RFM"}))[
            "segment_zh"]

    judge(assert_series_matches, answer, expected, what="your segment names",
          mistakes=[("your classes cut each score at its median: the eight classes cut at the mean score.",
                     by_median)],
          builds_on="exercise 2 (rfm_scores)",
          hint="A score is high when it is above the mean of that score over all customers; the three "
               "high/low marks name the class — notebook 02, section 4 (RFM 八类客户).")
    passed("segment_zh")


def important_value_share(answer, data=None) -> None:
    """Share (0-1) of all spend that comes from 重要价值客户 customers."""
    data = resolve_data(data)
    rfm_ = _rfm(data)
    seg = segmentation.rfm_segments(segmentation.rfm_scores(rfm_, bins=5))["segment_zh"]
    expected = rfm_.loc[seg == "重要价值客户", "total_spend"].sum() / rfm_["total_spend"].sum()
    count_share = float((seg == "重要价值客户").mean())
    judge(assert_scalar_close, answer, expected, what="your share of spend",
          mistakes=[("your share is a percentage: give a fraction between 0 and 1.", 100 * expected),
                    ("your share counts customers, not spend: weigh each customer by total_spend.", count_share)],
          builds_on="exercise 3 (segment_zh)",
          hint="The share of spend of a class is the spend of its customers over the spend of all customers — "
               "notebook 02, section 4 (RFM 八类客户).")
    passed("important_value_share")


def persona_clusters(answer, data=None) -> None:
    """k-means personas (k = 4) of customers with at least 3 orders."""
    data = resolve_data(data)
    expected = segmentation.cluster_segments(_persona_features(data), 4)
    every_buyer = None
    if hasattr(answer, "__len__") and len(answer) != len(expected):
        every_buyer = len(answer) > len(expected)
    if every_buyer:
        fail(f"your clusters label {len(answer)} customers, more than the {len(expected)} with at least 3 orders.",
             "Personas describe repeat buyers: keep customers with at least 3 orders — notebook 02, section 5.")
    assert_same_partition(answer, expected, what="your clusters",
                          hint="Cluster the standardised behavioural features (check.PERSONA_COLUMNS and the "
                               "category shares) of customers with at least 3 orders into 4 groups — notebook 02, "
                               "section 5 (客户画像与聚类).")
    passed("persona_clusters")
