"""The company's margin (crm.clv.margin_rate) against hand-worked examples."""

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab.clv import margin_rate


@pytest.fixture
def tx():
    # customer 1: paid 100 (no discount) and 80 (20 off): list value 200, cost 0.62 * 200 = 124,
    #             margin 180 - 124 = 56 on revenue 180 -> 56 / 180 = 0.31111
    # customer 2: paid 50, no discount -> 1 - 0.62 = 0.38
    # customer 3: paid 30 with 10 off on 2024-03-01, and 70 without discount later (after the cutoff)
    return pd.DataFrame({
        "customer_id": [1, 1, 2, 3, 3],
        "date": ["2024-01-05", "2024-02-01", "2024-01-09", "2024-03-01", "2024-06-15"],
        "amount": [100.0, 80.0, 50.0, 30.0, 70.0],
        "discount": [0.0, 20.0, 0.0, 10.0, 0.0],
    })


def test_hand_worked_rates(tx):
    rate = margin_rate(tx, cost_share=0.62)
    # customer 3 over both orders: list 110, cost 68.2, revenue 100 -> 0.318
    expected = pd.Series({1: 56 / 180, 2: 0.38, 3: (100 - 0.62 * 110) / 100}, name="margin_rate")
    pd.testing.assert_series_equal(rate, expected, check_names=False, check_index_type=False, rtol=1e-12)
    assert rate.name == "margin_rate"


def test_observation_end_keeps_only_earlier_orders(tx):
    rate = margin_rate(tx, cost_share=0.62, observation_end="2024-03-31")
    # customer 3 before the cutoff: paid 30 of a list 40 -> (30 - 0.62 * 40) / 30 = 0.17333
    assert rate.loc[3] == pytest.approx((30 - 24.8) / 30)
    assert rate.loc[1] == pytest.approx(56 / 180)


def test_no_discount_is_one_minus_cost_share(tx):
    rate = margin_rate(tx.assign(discount=0.0), cost_share=0.55)
    np.testing.assert_allclose(rate.to_numpy(), 0.45)


def test_does_not_modify_input(tx):
    before = tx.copy()
    margin_rate(tx, cost_share=0.62)
    pd.testing.assert_frame_equal(tx, before)


def test_simulated_company_reads_its_config():
    data = crm.load_retail()
    rate = margin_rate(data)
    assert data.config.b2b.cost_share == 0.62
    pd.testing.assert_series_equal(rate, margin_rate(data.transactions, cost_share=0.62))
    # recomputed order by order from the definition
    t = data.transactions
    order_margin = t["amount"] - 0.62 * (t["amount"] + t["discount"])
    by_hand = order_margin.groupby(t["customer_id"]).sum() / t.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(rate.to_numpy(), by_hand.reindex(rate.index).to_numpy(), rtol=1e-12)
    # customers who never use a discount earn exactly 1 - 0.62
    never = t.groupby("customer_id")["discount"].sum() == 0
    np.testing.assert_allclose(rate[never[never].index].to_numpy(), 0.38)


def test_rate_feeds_clv_as_margin(tx):
    # the CLV with the per-customer rate is the rate times the discounted revenue
    log = crm.load_cdnow()
    log = log[log["date"] <= "1997-09-30"].assign(discount=0.0)
    log = log[log.groupby("customer_id")["amount"].transform("sum") > 0]
    summary = crm.features.customer_summary(log, amount_col="amount", observation_end="1997-09-30", time_unit="W")
    bg = crm.clv.BetaGeoModel().fit(summary)
    gg = crm.clv.GammaGammaModel().fit(summary[summary["frequency"] > 0])
    rate = margin_rate(log, cost_share=0.7)
    revenue = crm.clv.customer_lifetime_value(bg, gg, summary)
    value = crm.clv.customer_lifetime_value(bg, gg, summary, margin=rate)
    np.testing.assert_allclose(value.to_numpy(), 0.3 * revenue.to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("change, kwargs, error, match", [
    (None, {}, ValueError, "cost_share is needed"),
    (None, {"cost_share": 1.2}, ValueError, r"cost_share must lie in \[0, 1\)"),
    (None, {"cost_share": "0.6"}, TypeError, "cost_share must be a number"),
    ("drop_discount", {"cost_share": 0.6}, ValueError, "discount"),
    ("nan_discount", {"cost_share": 0.6}, ValueError, "discount"),
    ("negative_discount", {"cost_share": 0.6}, ValueError, "discount"),
    ("zero_revenue", {"cost_share": 0.6}, ValueError, "customer 2 paid nothing"),
    ("late", {"cost_share": 0.6, "observation_end": "2023-01-01"}, ValueError, "no orders"),
])
def test_bad_input(tx, change, kwargs, error, match):
    bad = {None: tx, "drop_discount": tx.drop(columns="discount"),
           "nan_discount": tx.assign(discount=[0.0, np.nan, 0.0, 0.0, 0.0]),
           "negative_discount": tx.assign(discount=[0.0, -1.0, 0.0, 0.0, 0.0]),
           "zero_revenue": tx.assign(amount=[100.0, 80.0, 0.0, 30.0, 70.0]),
           "late": tx}[change]
    with pytest.raises(error, match=match):
        margin_rate(bad, **kwargs)


def test_rejects_other_types():
    with pytest.raises(TypeError, match="CRMData"):
        margin_rate([1, 2, 3], cost_share=0.6)
