"""The checks of exercise set 08 accept the reference answer and reject wrong ones."""

import pandas as pd
import pytest

import crmlab as crm
from crmlab.check import ex08


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=1500, seed=5)


@pytest.fixture(scope="module")
def summary(data):
    return crm.features.customer_summary(data.transactions, observation_end=data.observation_end, time_unit="W",
                                         amount_col="amount")


def test_simple_formula():
    ex08.simple_formula(50 * 0.85 / (1 + 0.10 - 0.85))
    with pytest.raises(AssertionError, match="margin paid today"):
        ex08.simple_formula(50 + 50 * 0.85 / (1 + 0.10 - 0.85))


def test_summary_and_model_checks(data, summary):
    ex08.weekly_summary(summary, data)
    days = crm.features.customer_summary(data.transactions, observation_end=data.observation_end, time_unit="D",
                                         amount_col="amount")
    with pytest.raises(AssertionError):
        ex08.weekly_summary(days, data)
    bg = crm.clv.BetaGeoModel().fit(summary)
    ex08.bgnbd_params(bg.params_, data)
    with pytest.raises(AssertionError, match="7 times"):
        ex08.bgnbd_params(crm.clv.BetaGeoModel().fit(days).params_, data)
    alive = bg.probability_alive(summary)
    ex08.p_alive(alive, data)
    with pytest.raises(AssertionError):
        ex08.p_alive(1 - alive, data)


def test_value_checks(data, summary):
    bg = crm.clv.BetaGeoModel().fit(summary)
    gg = crm.clv.GammaGammaModel().fit(summary[summary["frequency"] > 0])
    # each customer's margin rate, by hand: cost of goods = cost_share of the undiscounted price
    tx, share = data.transactions, data.config.b2b.cost_share
    order_margin = tx["amount"] - share * (tx["amount"] + tx["discount"])
    rate = (order_margin.groupby(tx["customer_id"]).sum() / tx.groupby("customer_id")["amount"].sum()
            ).reindex(summary.index)

    def value(**kwargs):
        return crm.clv.customer_lifetime_value(bg, gg, summary, horizon_months=12, **kwargs)
    ex08.clv_12m(value(discount_rate=0.01, margin=rate), data)
    with pytest.raises(AssertionError, match="revenue, not margin"):
        ex08.clv_12m(value(discount_rate=0.01), data)
    with pytest.raises(AssertionError, match="one margin to everybody"):
        ex08.clv_12m(value(discount_rate=0.01, margin=float(order_margin.sum() / tx["amount"].sum())), data)
    with pytest.raises(AssertionError, match="not discounted"):
        ex08.clv_12m(value(discount_rate=0.0, margin=rate), data)
    with pytest.raises(AssertionError):  # a flat 30 % assumed margin is not the company's
        ex08.clv_12m(value(discount_rate=0.01, margin=0.3), data)
    with pytest.raises(AssertionError):  # six months instead of twelve
        ex08.clv_12m(crm.clv.customer_lifetime_value(bg, gg, summary, horizon_months=6, discount_rate=0.01,
                                                     margin=rate), data)


def test_holdout_and_segment_checks(data, summary):
    ch = crm.features.calibration_holdout(data.transactions, cutoff=ex08.CUTOFF,
                                          observation_end=data.observation_end, time_unit="W")
    cal = dict(frequency_col="frequency_cal", recency_col="recency_cal", T_col="T_cal")
    model = crm.clv.BetaGeoModel().fit(ch, **cal)
    errors = crm.clv.holdout_errors(crm.clv.holdout_predictions({"BG/NBD": model}, ch))
    ex08.holdout_errors(errors, data)
    with pytest.raises(AssertionError):
        # a model fitted on the whole period (calibration and holdout) is not a holdout test
        full = crm.clv.BetaGeoModel().fit(summary)
        ex08.holdout_errors(crm.clv.holdout_errors(crm.clv.holdout_predictions({"BG/NBD": full}, ch)), data)
    # exercise 7 segments on an observable trait (acquisition channel), written out by hand
    channel = data.customers.set_index("customer_id")["acquisition_channel"]
    by_segment = pd.DataFrame({k: crm.clv.BetaGeoModel().fit(summary.loc[summary.index.isin(ids)]).params_
                               for k, ids in channel.groupby(channel).groups.items()}).T
    ex08.segment_params(by_segment, data)
    with pytest.raises(AssertionError):
        ex08.segment_params(by_segment * 1.1, data)
    # the latent segments of the truth are not observable: an answer fitted on them fails
    latent = data.truth.set_index("customer_id")["segment"].reindex(summary.index)
    with pytest.raises(AssertionError):
        ex08.segment_params(pd.DataFrame({k: crm.clv.BetaGeoModel().fit(v).params_
                                          for k, v in summary.groupby(latent)}).T, data)
