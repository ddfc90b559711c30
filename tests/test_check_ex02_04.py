"""The exercise checks of sets 02-04 accept correct answers computed independently with pandas
and reject typical mistakes with a message that names the difference."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab.check import ex02, ex03, ex04


@pytest.fixture(scope="module")
def data():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return crm.synth.generate(n_customers=800, seed=2)


def _rfm_by_hand(data):
    tx = data.transactions
    g = tx.groupby("customer_id")
    return pd.DataFrame({
        "recency_days": (data.observation_end.normalize() - g["date"].max().dt.normalize()).dt.days,
        "n_orders": g.size(),
        "total_spend": g["amount"].sum(),
    })


def test_ex02_accepts_hand_computed_answers_and_rejects_mistakes(data, capsys):
    rfm = _rfm_by_hand(data)
    ex02.rfm(rfm.reset_index(), data)
    assert "✔ rfm: correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="counts to today"):
        ex02.rfm(rfm.assign(recency_days=(pd.Timestamp.today().normalize() - data.transactions.groupby(
            "customer_id")["date"].max().dt.normalize()).dt.days), data)
    # quintile scores by hand: 1 + floor(5 (rank - 1) / n), ties share the lowest rank
    n = len(rfm)
    score = lambda s: (1 + np.floor(5 * (s.rank(method="min") - 1) / n)).astype(int)  # noqa: E731
    scores = pd.DataFrame({"R": score(-rfm["recency_days"]), "F": score(rfm["n_orders"]), "M": score(rfm["total_spend"])})
    ex02.rfm_scores(scores, data)
    with pytest.raises(AssertionError, match="R score is not reversed"):
        ex02.rfm_scores(scores.assign(R=score(rfm["recency_days"])), data)
    high = scores > scores.mean()
    names = {(True, True, True): "重要价值客户", (True, False, True): "重要发展客户", (False, True, True): "重要保持客户",
             (False, False, True): "重要挽留客户", (True, True, False): "一般价值客户", (True, False, False): "一般发展客户",
             (False, True, False): "一般保持客户", (False, False, False): "一般挽留客户"}
    classes = pd.Series([names[k] for k in zip(high["R"], high["F"], high["M"])], index=scores.index)
    ex02.segment_zh(classes, data)
    share = rfm.loc[classes == "重要价值客户", "total_spend"].sum() / rfm["total_spend"].sum()
    ex02.important_value_share(share, data)
    with pytest.raises(AssertionError, match="is a percentage: give a fraction"):
        ex02.important_value_share(100 * share, data)


def test_ex02_clusters_compared_up_to_relabelling(data, capsys):
    f = crm.features.customer_features(data.transactions, observation_end=data.observation_end,
                                       discount_col="discount", order_lines=data.order_lines, products=data.products)
    X = f.loc[f["n_orders"] >= 3, ex02.PERSONA_COLUMNS + [c for c in f.columns if c.startswith("share_")]]
    labels = crm.segmentation.cluster_segments(X, 4)
    ex02.persona_clusters(labels.map({0: "d", 1: "c", 2: "b", 3: "a"}), data)
    assert "persona_clusters: correct" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        ex02.persona_clusters(crm.segmentation.cluster_segments(X, 4, log=False), data)


def test_ex03_accepts_hand_computed_answers_and_rejects_mistakes(data):
    tx = data.transactions
    tx24 = tx[tx["date"].dt.year == 2024]
    spend = tx24.groupby("customer_id")["amount"].sum()
    ex03.spend_2024(spend, data)
    with pytest.raises(AssertionError, match="2024"):
        ex03.spend_2024(tx.groupby("customer_id")["amount"].sum(), data)
    x = np.sort(spend.to_numpy())
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())  # Gini as mean abs. difference
    ex03.gini_2024(mad, data)
    ranked = spend.sort_values(ascending=False)
    ex03.top20_share(ranked.iloc[:math.ceil(0.2 * len(ranked))].sum() / ranked.sum(), data)
    cum_before = (ranked.cumsum() - ranked) / ranked.sum()
    abc = pd.Series(np.where(cum_before < 0.8, "A", np.where(cum_before < 0.95, "B", "C")), index=ranked.index)
    ex03.abc(abc, data)
    with pytest.raises(AssertionError, match="ABC"):
        ex03.abc(pd.Series(np.where(ranked.cumsum() / ranked.sum() <= 0.8, "A", "C"), index=ranked.index), data)


def test_ex03_pyramid_needs_the_cost_to_serve(data):
    tx24 = data.transactions[data.transactions["date"].dt.year == 2024]
    spend = tx24.groupby("customer_id")["amount"].sum()
    contacts = data.interactions[data.interactions["date"].dt.year == 2024].groupby("customer_id").size()
    cost = 25 * contacts.reindex(spend.index, fill_value=0)
    ex03.pyramid(crm.segmentation.customer_pyramid(spend, cost_to_serve=cost), data)
    discounts = tx24.groupby("customer_id")["discount"].sum().reindex(spend.index, fill_value=0)
    with pytest.raises(AssertionError, match="cost_to_serve|Cost to serve"):   # discounts counted twice
        ex03.pyramid(crm.segmentation.customer_pyramid(spend, cost_to_serve=cost + discounts), data)
    with pytest.raises(AssertionError, match="cost_to_serve|Cost to serve"):
        ex03.pyramid(crm.segmentation.customer_pyramid(spend, cost_to_serve=cost * 0), data)


def test_ex04_accepts_reference_answers_and_rejects_mistakes(data, capsys):
    stages = crm.lifecycle.lifecycle_stages(data.transactions, data.customers,
                                           observation_end=data.observation_end)["stage"]
    ex04.stages_end(stages.astype(str), data)
    ex04.stage_counts(stages.value_counts(), data)
    with pytest.raises(AssertionError, match="180 days"):
        ex04.stages_end(stages.astype(str).replace({"at_risk": "lapsed"}), data)
    moves = crm.lifecycle.stage_transitions(data.transactions, data.customers, observation_start="2024-06-30",
                                            observation_end=data.observation_end)
    ex04.transition_matrix(moves, data)
    with pytest.raises(AssertionError):
        ex04.transition_matrix(moves.T, data)
    # cohort table by hand: month of first purchase, share buying k months later
    tx = data.transactions.assign(month=data.transactions["date"].dt.to_period("M"))
    first = tx.groupby("customer_id")["month"].transform("min")
    tx = tx.assign(cohort=first, k=(tx["month"] - first).map(lambda d: d.n))
    active = tx.drop_duplicates(["customer_id", "month"]).groupby(["cohort", "k"]).size().unstack(fill_value=0)
    shares = active.div(active[0], axis=0)
    month3 = shares.loc[[p.year == 2023 for p in shares.index], 3].mean()
    ex04.month3_retention(month3, data)
    assert "month3_retention: correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="month-3"):
        ex04.month3_retention(shares[3].mean(), data)
