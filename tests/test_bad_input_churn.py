"""Bad input to churn, survival, uplift and lifecycle: one test per class of bad input.

Every class gets a clear ``ValueError``/``TypeError`` naming the column or value (or a
documented result), the input is never modified in place, and no NaN/inf is returned
silently. The same classes are tested for the other modules in their own
``tests/test_bad_input_<area>.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import crmlab as crm
from crmlab import churn, lifecycle, survival, uplift

CUTOFF = "2024-06-30"


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=300, seed=5)


def _with(data, **tables):
    return crm.CRMData(**{**data.tables, **tables}, observation_end=data.observation_end, config=data.config)


def _small_log():
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3], "amount": [10.0, 20.0, 5.0, 7.0],
                       "date": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-03-01", "2024-06-20"])})
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4],
                              "signup_date": pd.to_datetime(["2024-01-01"] * 4)})
    return tx, customers


# Every public function of the area that reads a transaction log, called on a log ``tx``.
def _log_readers_on_data(data):
    return {
        "churn_features": lambda tx: churn.churn_features(_with(data, transactions=tx), cutoff=CUTOFF),
        "churn_labels": lambda tx: churn.churn_labels(_with(data, transactions=tx), cutoff=CUTOFF),
        "complaint_profile": lambda tx: churn.complaint_profile(
            _with(data, transactions=tx), pd.Series([True, False], index=[1, 2]), cutoff=CUTOFF),
        "campaign_table": lambda tx: uplift.campaign_table(_with(data, transactions=tx)),
        "lifecycle_stages": lambda tx: lifecycle.lifecycle_stages(tx, data.customers,
                                                                  observation_end=data.observation_end),
        "stage_transitions": lambda tx: lifecycle.stage_transitions(
            tx, data.customers, observation_start=CUTOFF, observation_end=data.observation_end),
    }


READERS = ["churn_features", "churn_labels", "complaint_profile", "campaign_table", "lifecycle_stages",
           "stage_transitions"]


def _features_error(tx, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        crm.features.customer_features(tx, observation_end="2024-12-31", **kwargs)
    return str(info.value)


# ----------------------------------------------------------------------------- amounts
@pytest.mark.parametrize("bad", [-5.0, np.nan, np.inf], ids=["negative", "nan", "inf"])
@pytest.mark.parametrize("name", READERS)
def test_bad_amounts_raise_the_features_error(data, name, bad):
    tx = data.transactions.copy()
    tx.loc[tx.index[3], "amount"] = bad
    before = tx.copy()
    expected = _features_error(tx)
    with pytest.raises(ValueError) as info:
        _log_readers_on_data(data)[name](tx)
    assert str(info.value) == expected
    assert "'amount'" in str(info.value)
    pd.testing.assert_frame_equal(tx, before)  # nothing modified in place


# ----------------------------------------------------------------------------- duplicate columns
@pytest.mark.parametrize("name", READERS)
def test_duplicate_transaction_columns_are_named(data, name):
    tx = data.transactions.copy()
    tx = pd.concat([tx, tx[["amount"]]], axis=1)
    with pytest.raises(ValueError, match="column name 'amount' 2 times"):
        _log_readers_on_data(data)[name](tx)


def _dup(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.concat([frame, frame[[col]]], axis=1)


@pytest.mark.parametrize("call", [
    pytest.param(lambda tx, c: survival.tenure_table(_dup(tx, "date"), observation_end="2024-06-30"), id="tenure"),
    pytest.param(lambda tx, c: lifecycle.cohort_retention(_dup(tx, "customer_id")), id="cohort_retention"),
    pytest.param(lambda tx, c: lifecycle.lifecycle_stages(tx, _dup(c, "signup_date"), observation_end="2024-06-30"),
                 id="lifecycle_customers"),
    pytest.param(lambda tx, c: churn.early_warning(_dup(pd.DataFrame(
        {"n_orders_last_90d": [1], "n_orders_prev_90d": [2], "spend_last_90d": [1.0], "spend_prev_90d": [2.0],
         "visits_last_90d": [0], "visits_prev_90d": [1], "open_complaints": [0]}), "open_complaints")),
        id="early_warning"),
    pytest.param(lambda tx, c: uplift.target_customers(_dup(pd.DataFrame({"v": [1.0], "u": [0.1]}), "u"),
                                                       value="v", uplift="u", cost=1.0), id="target_customers"),
    pytest.param(lambda tx, c: uplift.TwoModelUplift(LogisticRegression()).fit(
        _dup(pd.DataFrame({"x": [0.0, 1, 2, 3]}), "x"), [0, 1, 0, 1], [0, 1, 1, 0]), id="uplift_fit"),
    pytest.param(lambda tx, c: survival.median_survival(_dup(survival.kaplan_meier([1, 2], [1, 1]), "survival")),
                 id="median_survival"),
])
def test_duplicate_columns_in_other_frames(call):
    tx, customers = _small_log()
    with pytest.raises(ValueError, match="column name '.+' 2 times"):
        call(tx, customers)


# ----------------------------------------------------------------------------- degenerate data
@pytest.mark.parametrize("call, match", [
    (lambda: churn.lift_table([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4]), "single class"),
    (lambda: churn.lift_table([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]), "single class"),
    (lambda: churn.lift_table([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]), "constant"),
    (lambda: churn.profit_curve([1, 1, 1], [0.1, 0.2, 0.3], value=10, contact_cost=1, offer_cost=1), "single class"),
    (lambda: churn.cost_threshold(value=0.0, contact_cost=1, offer_cost=1), "positive"),
    (lambda: churn.early_warning(pd.DataFrame({"n_orders_last_90d": [1], "n_orders_prev_90d": [2],
                                               "spend_last_90d": [1.0], "spend_prev_90d": [2.0],
                                               "visits_last_90d": [0], "visits_prev_90d": [1],
                                               "open_complaints": [0]}),
                                 weights=dict.fromkeys(churn.WARNING_RULES, 0.0)), "all zero"),
    (lambda: uplift.TwoModelUplift().fit(pd.DataFrame({"x": [0.0, 1, 2, 3]}), [1, 1, 1, 1], [0, 1, 0, 1]),
     "treatment holds a single class"),
    (lambda: uplift.ClassTransformationUplift().fit(pd.DataFrame({"x": [0.0, 1, 2, 3]}), [0, 1, 0, 1],
                                                    [0, 0, 0, 0]), "single class"),
    (lambda: uplift.qini_curve([0, 0, 0, 0], [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]), "single class"),
    (lambda: survival.logrank_test([1, 2, 3], [1, 0, 1], ["a", "a", "a"]), "single value"),
    (lambda: survival.logrank_test([1, 2, 3], [0, 0, 0], ["a", "b", "a"]), "at least one event"),
    (lambda: survival.logrank_test([1, 5, 6, 7], [0, 1, 1, 0], ["a", "b", "b", "b"]), "nobody at risk"),
], ids=["lift_all_churn", "lift_no_churn", "lift_constant_score", "profit_single_class", "threshold_zero_value",
        "warning_zero_weights", "uplift_one_group", "uplift_one_outcome", "qini_one_outcome", "logrank_one_group",
        "logrank_no_event", "logrank_empty_group"])
def test_degenerate_input_is_refused_with_the_reason(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_labels_and_features_on_an_empty_history(data):
    with pytest.raises(ValueError, match="choose a later cutoff"):
        churn.churn_features(data, cutoff="2022-01-01")
    with pytest.raises(ValueError, match="choose a later cutoff"):
        churn.churn_labels(data, cutoff="2022-01-01")
    # a day without orders: nobody bought within active_days=1 of it
    days = set(data.transactions["date"].dt.normalize())
    quiet = next(d for d in pd.date_range("2023-03-01", "2024-12-31") if d not in days)
    with pytest.raises(ValueError, match="larger active_days"):
        churn.churn_features(data, cutoff=quiet, active_days=1)
    with pytest.raises(ValueError, match="larger active_days"):
        churn.churn_labels(data, cutoff=quiet, active_days=1)


# ----------------------------------------------------------------------------- allocations
@pytest.mark.parametrize("width", [1e-9, 1e-4])
def test_hazard_table_bounds_the_number_of_intervals(width):
    with pytest.raises(ValueError, match="MAX_INTERVALS"):
        survival.hazard_table([10.0, 3650.0], [1, 0], width=width)
    # the largest allowed table is still built
    ht = survival.hazard_table([10.0, 3650.0], [1, 0], width=3650.0 / (survival.MAX_INTERVALS - 1))
    assert len(ht) <= survival.MAX_INTERVALS


@pytest.mark.parametrize("width", [np.nan, np.inf, -1.0, 0])
def test_hazard_table_width_must_be_a_positive_finite_number(width):
    with pytest.raises(ValueError, match="width must be a positive"):
        survival.hazard_table([1.0, 2.0], [1, 0], width=width)


# ----------------------------------------------------------------------------- timedelta durations
def test_timedelta_durations_are_converted_to_days():
    days = np.array([0.5, 3.0, 3.0, 10.25, 40.0, 41.0])
    events = np.array([1, 1, 0, 1, 0, 1])
    groups = np.array(["a", "b", "a", "b", "a", "b"])
    as_td = pd.Series(pd.to_timedelta(days, unit="D"))
    pd.testing.assert_frame_equal(survival.kaplan_meier(as_td, events), survival.kaplan_meier(days, events))
    pd.testing.assert_frame_equal(survival.kaplan_meier(as_td.to_numpy(), events), survival.kaplan_meier(days, events))
    pd.testing.assert_frame_equal(survival.logrank_test(as_td, events, groups), survival.logrank_test(days, events, groups))
    pd.testing.assert_frame_equal(survival.hazard_table(as_td, events, width=pd.Timedelta(days=7)),
                                  survival.hazard_table(days, events, width=7.0))
    # never read as microseconds: the median is in days
    assert survival.median_survival(survival.kaplan_meier(as_td, events))["median"].iloc[0] <= 41


def test_dates_are_not_durations():
    with pytest.raises(TypeError, match="durations"):
        survival.kaplan_meier(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"])), [1, 0])


# ----------------------------------------------------------------------------- NaN / inf never silent
@pytest.mark.parametrize("call", [
    pytest.param(lambda: churn.profit_curve([1, 0], [0.9, 0.1], value=np.nan, contact_cost=1, offer_cost=1), id="value"),
    pytest.param(lambda: churn.profit_curve([1, 0], [0.9, 0.1], value=[1.0, np.inf], contact_cost=1, offer_cost=1),
                 id="value_inf"),
    pytest.param(lambda: churn.profit_curve([1, 0], [0.9, 0.1], value=1, contact_cost=np.nan, offer_cost=1),
                 id="contact_cost"),
    pytest.param(lambda: churn.cost_threshold(value=np.inf, contact_cost=1, offer_cost=1), id="threshold"),
    pytest.param(lambda: churn.lift_table([1, 0], [np.nan, 0.1]), id="score_nan"),
    pytest.param(lambda: uplift.policy_profit([1, 0], true_uplift=[0.1, 0.2], value=np.nan, cost=1.0),
                 id="policy_value"),
    pytest.param(lambda: uplift.policy_profit([1, 0], true_uplift=[0.1, 0.2], value=1.0, cost=np.inf),
                 id="policy_cost"),
    pytest.param(lambda: uplift.target_customers(pd.DataFrame({"v": [1.0], "u": [0.1]}), value="v", uplift="u",
                                                 cost=np.nan), id="target_cost"),
    pytest.param(lambda: uplift.target_customers(pd.DataFrame({"v": [1.0], "u": [np.inf]}), value="v", uplift="u",
                                                 cost=1.0), id="target_uplift"),
    pytest.param(lambda: uplift.uplift_auc([1, 0], [1, 0], [np.nan, 0.2]), id="uplift_nan"),
    pytest.param(lambda: survival.kaplan_meier([1.0, np.inf], [1, 0]), id="km_inf"),
    pytest.param(lambda: survival.kaplan_meier([1.0, 2.0], [1, np.nan]), id="km_event_nan"),
    pytest.param(lambda: survival.median_survival(pd.DataFrame(
        {"time": [1.0], "survival": [np.nan], "lower": [0.1], "upper": [0.2]})), id="median_nan"),
])
def test_nan_and_inf_inputs_raise(call):
    with pytest.raises(ValueError):
        call()


def test_outputs_are_finite_or_documented(data):
    X = churn.churn_features(data, cutoff=CUTOFF)
    numeric = X.select_dtypes("number").drop(columns=["csat_last", "nps_last"])  # missing if never surveyed
    assert np.isfinite(numeric.to_numpy(float)).all()
    y = churn.churn_labels(data, cutoff=CUTOFF)["churned"]
    prof = churn.complaint_profile(data, y, cutoff=CUTOFF)
    assert np.isfinite(prof[["churners_rate", "stayers_rate"]].to_numpy()).all()
    # the ratio is documented: inf when only churners complained, NaN only when nobody did
    undefined = prof["ratio"].isna()
    assert ((prof.loc[undefined, "churners_rate"] == 0) & (prof.loc[undefined, "stayers_rate"] == 0)).all()
    t = survival.tenure_table(data.transactions, observation_end=data.observation_end)
    ht = survival.hazard_table(t["duration"], t["churned"], width=30)
    assert np.isfinite(ht[["hazard", "survival"]].to_numpy()).all()
    km = survival.kaplan_meier(t["duration"], t["churned"])
    assert np.isfinite(km.drop(columns="time").to_numpy()).all()


# ----------------------------------------------------------------------------- ids missing from customers
def test_buyers_missing_from_the_customers_table(data):
    cust = data.customers[data.customers["customer_id"] != data.transactions["customer_id"].iloc[0]]
    with pytest.raises(ValueError, match="missing from the customers table"):
        churn.churn_features(_with(data, customers=cust), cutoff=CUTOFF)
    with pytest.raises(ValueError, match="missing from customers"):
        lifecycle.lifecycle_stages(data.transactions, cust, observation_end=data.observation_end)


# ----------------------------------------------------------------------------- window ends
def test_events_after_the_window_end_are_refused():
    tx, customers = _small_log()
    late = pd.concat([tx, pd.DataFrame({"customer_id": [2], "amount": [1.0],
                                        "date": pd.to_datetime(["2024-07-01 00:00"])})], ignore_index=True)
    with pytest.raises(ValueError, match="after observation_end"):
        survival.tenure_table(late, observation_end="2024-06-30")
    # the whole end day is inside: 23:59 on 30 June is fine
    ok = late.assign(date=late["date"].where(late["date"] < "2024-07-01", pd.Timestamp("2024-06-30 23:59")))
    assert survival.tenure_table(ok, observation_end="2024-06-30").loc[2, "churned"] == 0


# ----------------------------------------------------------------------------- nothing modified in place
def test_inputs_are_not_modified(data):
    snapshot = {name: table.copy() for name, table in data.tables.items()}
    churn.churn_features(data, cutoff=CUTOFF)
    churn.churn_labels(data, cutoff=CUTOFF)
    uplift.campaign_table(data)
    lifecycle.lifecycle_stages(data.transactions, data.customers, observation_end=CUTOFF)
    survival.tenure_table(data.transactions, observation_end=data.observation_end)
    for name, table in data.tables.items():
        pd.testing.assert_frame_equal(table, snapshot[name])
