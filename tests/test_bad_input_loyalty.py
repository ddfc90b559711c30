"""Bad input for loyalty, profile, journey, monitoring and satisfaction: one test per class.

Every class of malformed input gets a clear ``ValueError``/``TypeError`` naming the column or
value (or a documented result), never a silent NaN/inf or a changed input. Each test is
parametrized over the public functions the class reaches.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab import journey as J
from crmlab import loyalty as L
from crmlab import monitoring as M
from crmlab import profile as P
from crmlab import satisfaction as S

END = "2024-03-31"


@pytest.fixture(scope="module")
def company():
    return crm.synth.generate(n_customers=300, seed=31)


def _tx() -> pd.DataFrame:
    return pd.DataFrame({
        "transaction_id": [1, 2, 3, 4, 5, 6],
        "customer_id": [1, 1, 2, 2, 3, 3],
        "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-10", "2024-03-02", "2024-02-11", "2024-03-20"]),
        "amount": [10.0, 20.0, 5.0, 7.5, 8.0, 12.0],
        "discount": [0.0, 2.0, 0.0, 1.0, 0.0, 0.0],
        "channel": ["app", "store", "web", "web", "store", "app"],
    })


# functions that read a transaction log with amounts: name -> call(transactions)
TX_READERS = {
    "loyalty.behavioural_loyalty": lambda tx: L.behavioural_loyalty(tx, observation_end=END),
    "loyalty.loyalty_index": lambda tx: L.loyalty_index(tx, observation_end=END),
    "journey.channel_profile": lambda tx: J.channel_profile(tx),
    "journey.omnichannel_summary": lambda tx: J.omnichannel_summary(tx),
    "monitoring.kpi_table": lambda tx: M.kpi_table(tx, window=1),
}


@pytest.mark.parametrize("name", TX_READERS)
def test_negative_amounts_raise_the_shared_refund_error(name):
    tx = _tx()
    tx.loc[2, "amount"] = -5.0
    with pytest.raises(ValueError, match=r"'amount' has 1 negative value.*refunds"):
        TX_READERS[name](tx)


@pytest.mark.parametrize("name", TX_READERS)
@pytest.mark.parametrize("bad, err, match", [
    (np.nan, ValueError, r"'amount' has 1 missing value"),
    (np.inf, ValueError, r"'amount' contains infinite values"),
    ("12,50", TypeError, r"'amount' must be numeric"),
])
def test_nan_inf_and_text_amounts_raise(name, bad, err, match):
    tx = _tx().astype({"amount": object})
    tx.loc[1, "amount"] = bad
    if not isinstance(bad, str):
        tx["amount"] = tx["amount"].astype(float)
    with pytest.raises(err, match=match):
        TX_READERS[name](tx)


def test_profile_rejects_negative_amounts(company):
    bad = crm.CRMData(**company.tables, observation_end=company.observation_end)
    bad.transactions = company.transactions.assign(
        amount=np.where(company.transactions.index == 0, -1.0, company.transactions["amount"]))
    with pytest.raises(ValueError, match="negative value"):
        P.customer_profile(bad)


def _dup(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """``df`` with a second column named ``col``."""
    out = df.copy()
    extra = out[[col]]
    return pd.concat([out, extra], axis=1)


def _sv() -> pd.DataFrame:
    return pd.DataFrame({"survey_id": [1, 2, 3, 4], "customer_id": [1, 2, 3, 1], "transaction_id": [1, 3, 5, 2],
                         "date": pd.to_datetime(["2024-01-06", "2024-01-11", "2024-02-12", "2024-02-02"]),
                         "csat": [5, 2, 4, 3], "nps": [10, 3, 8, 9], "a": [5, 2, 4, 3], "b": [4, 1, 5, 3]})


def _it() -> pd.DataFrame:
    return pd.DataFrame({"interaction_id": [1, 2, 3], "customer_id": [1, 2, 3], "transaction_id": [1, 3, pd.NA],
                         "date": pd.to_datetime(["2024-01-06", "2024-01-12", "2024-02-20"]),
                         "type": ["complaint", "complaint", "inquiry"], "channel": ["phone", "chat", "email"],
                         "category": ["delivery", "billing", "other"], "resolved": [True, False, True],
                         "resolution_days": [2.0, np.nan, 0.5]})


def _tp() -> pd.DataFrame:
    return pd.DataFrame({"session_id": [1, 1, 1, 2, 2], "customer_id": [1, 1, 1, 2, 2],
                         "timestamp": pd.to_datetime(["2024-01-05 10:00", "2024-01-05 10:03", "2024-01-05 10:09",
                                                      "2024-01-09 09:00", "2024-01-09 09:02"]),
                         "event": ["visit", "cart", "purchase", "visit", "cart"], "channel": ["app"] * 3 + ["web"] * 2})


def _ab() -> pd.DataFrame:
    return pd.DataFrame({"group": ["treatment", "control"] * 10, "bought": [1, 0, 0, 0, 1, 1, 0, 1, 0, 0] * 2,
                         "spend": np.arange(20.0)})


# name -> (call(frame), the frame's factory, a column to duplicate)
DUPLICATE_COLUMN_CALLS = {
    "loyalty.behavioural_loyalty": (lambda d: L.behavioural_loyalty(d, observation_end=END), _tx, "amount"),
    "loyalty.loyalty_index": (lambda d: L.loyalty_index(d, observation_end=END), _tx, "customer_id"),
    "loyalty.repeat_purchase_rate": (L.repeat_purchase_rate, _tx, "customer_id"),
    "loyalty.attitudinal_loyalty": (lambda d: L.attitudinal_loyalty(d, items=["a", "b"]), _sv, "a"),
    "loyalty.loyalty_matrix": (lambda d: L.loyalty_matrix(d, attitudinal="a", behavioural="b"), _sv, "b"),
    "loyalty.satisfaction_loyalty_curve": (
        lambda d: L.satisfaction_loyalty_curve(d, satisfaction="csat", loyalty="a"), _sv, "csat"),
    "journey.funnel": (lambda d: J.funnel(d, steps=("visit", "cart")), _tp, "event"),
    "journey.top_paths": (J.top_paths, _tp, "timestamp"),
    "journey.channel_profile": (J.channel_profile, _tx, "channel"),
    "journey.channel_experience": (lambda d: J.channel_experience(d, _tx(), score_cols=["csat"]), _sv, "csat"),
    "journey.experience_table": (lambda d: J.experience_table(_sv(), d), _it, "type"),
    "journey.complaint_followup": (
        lambda d: J.complaint_followup(_it(), d, observation_end=END, horizon_days=30), _tx, "date"),
    "journey.moments_of_truth": (lambda d: J.moments_of_truth(d, outcome="csat", factors=["a"]), _sv, "a"),
    "monitoring.kpi_table": (M.kpi_table, _tx, "date"),
    "monitoring.control_chart": (lambda d: M.control_chart(d, "csat"), _sv, "csat"),
    "monitoring.ab_test": (lambda d: M.ab_test(d, outcome_col="bought"), _ab, "bought"),
    "satisfaction.cronbach_alpha": (lambda d: S.cronbach_alpha(d[["a", "b", "csat"]]), _sv, "a"),
    "satisfaction.score_table": (lambda d: S.score_table(d, column="nps", by="customer_id"), _sv, "nps"),
    "satisfaction.gap_analysis": (S.gap_analysis,
                                  lambda: _sv().rename(columns={"a": "exp_q", "b": "perf_q"}), "exp_q"),
    "satisfaction.perception_matrix": (
        lambda d: S.perception_matrix(d, expectation="a", perceived_value="b"), _sv, "a"),
    "satisfaction.complaint_metrics": (S.complaint_metrics, _it, "category"),
    "satisfaction.complaint_rate": (lambda d: S.complaint_rate(_it(), d), _tx, "date"),
    "satisfaction.service_recovery": (lambda d: S.service_recovery(d, _tx()), _it, "resolved"),
    "profile.reconcile": (lambda d: P.reconcile(d.assign(updated_at=d["date"]), fields=["csat"]), _sv, "csat"),
    "profile.quality_report": (lambda d: P.quality_report(d, key="customer_id"), _sv, "csat"),
}


@pytest.mark.parametrize("name", DUPLICATE_COLUMN_CALLS)
def test_duplicate_column_names_raise_naming_the_column(name):
    call, make, col = DUPLICATE_COLUMN_CALLS[name]
    with pytest.raises(ValueError, match=rf"column name '{col}' 2 times"):
        call(_dup(make(), col))


# ----------------------------------------------------------------------------- degenerate data
DEGENERATE_CALLS = {
    "cronbach_alpha: items that cancel out": (
        lambda: S.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 3, 2, 1]})), "add up to the same total"),
    "cronbach_alpha: a constant item": (
        lambda: S.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 2]})), "same answer for everyone"),
    "item_total_correlations: rest cancels out": (
        lambda: S.item_total_correlations(pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 3, 2, 1], "c": [1, 3, 2, 4]})),
        "add up to the same total"),
    "ab_test: nobody bought in either arm": (
        lambda: M.ab_test(_ab().assign(bought=0), outcome_col="bought"), "no variation to test"),
    "ab_test: everybody bought": (
        lambda: M.ab_test(_ab().assign(bought=1), outcome_col="bought"), "no variation to test"),
    "ab_test: constant amount per arm": (
        lambda: M.ab_test(_ab().assign(spend=np.where(_ab()["group"] == "treatment", 5.0, 3.0)),
                          outcome_col="spend", kind="mean"), "constant within each arm"),
    "ab_test: all-zero amounts": (
        lambda: M.ab_test(_ab().assign(spend=0.0), outcome_col="spend", kind="mean"), "no variation to test"),
    "control_chart: constant baseline": (
        lambda: M.control_chart(pd.DataFrame({"x": [5.0] * 6 + [9.0]}), "x", baseline=6), "zero width"),
    "control_chart: rate 0 in every baseline period": (
        lambda: M.control_chart(pd.DataFrame({"r": [0.0] * 6, "n": [50] * 6}), "r", n_col="n"), "zero width"),
    "loyalty_matrix: single behaviour value": (
        lambda: L.loyalty_matrix(pd.DataFrame({"att": [1, 5, 3], "orders": [2, 2, 2]}), attitudinal="att",
                                 behavioural="orders"), "single value 2"),
    "perception_matrix: single expectation value": (
        lambda: S.perception_matrix(pd.DataFrame({"e": [4, 4], "v": [1, 5]}), expectation="e",
                                    perceived_value="v"), "single value 4"),
    "importance_performance: one driver": (
        lambda: S.importance_performance(pd.DataFrame({"y": np.arange(10.0) % 4, "a": np.arange(10.0)}),
                                         target="y", drivers=["a"]), "single value"),
    "moments_of_truth: constant outcome": (
        lambda: J.moments_of_truth(pd.DataFrame({"y": [3] * 6, "f": [0, 1] * 3}), outcome="y", factors=["f"]),
        "single value 3"),
    "key_drivers: constant driver": (
        lambda: S.key_drivers(pd.DataFrame({"y": np.arange(10.0), "a": 1.0, "b": np.arange(10.0) % 3}),
                              target="y", drivers=["a", "b"]), "'a' is constant"),
    "nps: single answer keeps a defined interval": (
        lambda: _finite(S.nps([10]).ci_low), None),
    "csat: all answers in the bottom box": (
        lambda: _finite(S.csat([1, 1, 1]).ci_high), None),
}


def _finite(x: float) -> None:
    assert np.isfinite(x)


@pytest.mark.parametrize("case", DEGENERATE_CALLS)
def test_degenerate_data_raise_saying_why(case):
    call, match = DEGENERATE_CALLS[case]
    if match is None:
        call()
        return
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- ids missing elsewhere
def test_programme_effect_rejects_buyers_missing_from_customers():
    customers = pd.DataFrame({"customer_id": [1, 2], "is_member": [True, False],
                              "member_since": pd.to_datetime(["2024-02-01", None])})
    with pytest.raises(ValueError, match="customer_id 3 that is not in customers"):
        L.programme_effect(customers, _tx(), observation_end=END)


def test_profile_rejects_contacts_by_unknown_customers(company):
    for table in ("interactions", "surveys", "transactions"):
        bad = crm.CRMData(**company.tables, observation_end=company.observation_end)
        frame = getattr(company, table)
        setattr(bad, table, pd.concat([frame, frame.iloc[[0]].assign(customer_id=-1)], ignore_index=True))
        with pytest.raises(ValueError, match="missing from customers"):
            P.customer_profile(bad)


def test_omnichannel_summary_rejects_surveys_by_non_buyers():
    with pytest.raises(ValueError, match="customers with no order"):
        J.omnichannel_summary(_tx(), surveys=_sv().assign(customer_id=[1, 2, 3, 99]), score_cols=["csat"])


def test_channel_experience_rejects_unknown_orders():
    with pytest.raises(ValueError, match="transaction_id missing from transactions"):
        J.channel_experience(_sv().assign(transaction_id=[1, 2, 3, 77]), _tx(), score_cols=["csat"])


# ----------------------------------------------------------------------------- the end of the window
AFTER_END_CALLS = {
    "loyalty.behavioural_loyalty": lambda tx, end: L.behavioural_loyalty(tx, observation_end=end),
    "loyalty.loyalty_index": lambda tx, end: L.loyalty_index(tx, observation_end=end),
    "journey.channel_profile": lambda tx, end: J.channel_profile(tx, observation_end=end),
    "journey.complaint_followup": lambda tx, end: J.complaint_followup(_it(), tx, observation_end=end,
                                                                       horizon_days=30),
    "monitoring.kpi_table": lambda tx, end: M.kpi_table(SimpleNamespace(transactions=tx, surveys=None, interactions=None,
                                                                        observation_end=pd.Timestamp(end))),
}


@pytest.mark.parametrize("name", AFTER_END_CALLS)
def test_events_after_observation_end_raise_but_the_end_day_counts(name):
    call = AFTER_END_CALLS[name]
    with pytest.raises(ValueError, match="after observation_end=2024-03-19"):
        call(_tx(), "2024-03-19")
    # the last order is on 2024-03-20: at 15:30 that day it still belongs to observation_end=2024-03-20
    late = _tx()
    late.loc[5, "date"] = pd.Timestamp("2024-03-20 15:30")
    call(late, "2024-03-20")


def test_programme_effect_counts_a_purchase_late_on_the_end_day():
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "is_member": [True, False, False],
                              "member_since": pd.to_datetime(["2024-02-01", None, None])})
    tx = _tx()
    tx.loc[5, "date"] = pd.Timestamp("2024-03-31 15:30")
    with pytest.raises(ValueError, match="member"):  # too few joins for the estimates, but no date error
        L.programme_effect(customers, tx, observation_end="2024-03-31", lookback_days=7)
    with pytest.raises(ValueError, match="after observation_end"):
        L.programme_effect(customers, tx, observation_end="2024-03-30", lookback_days=7)


# ----------------------------------------------------------------------------- inputs are never modified
def test_no_function_modifies_its_input(company):
    frames = {name: getattr(company, name).copy(deep=True) for name in
              ("customers", "transactions", "surveys", "interactions", "touchpoints")}
    end = company.observation_end
    L.behavioural_loyalty(company.transactions, observation_end=end, order_lines=company.order_lines,
                          products=company.products)
    L.loyalty_index(company.transactions, observation_end=end, surveys=company.surveys,
                    interactions=company.interactions)
    L.attitudinal_loyalty(company.surveys)
    P.customer_profile(company)
    J.channel_profile(company.transactions)
    J.omnichannel_summary(company.transactions, surveys=company.surveys)
    J.experience_table(company.surveys, company.interactions, touchpoints=company.touchpoints)
    J.complaint_followup(company.interactions, company.transactions, observation_end=end)
    J.funnel(company.touchpoints)
    M.kpi_table(company)
    S.service_recovery(company.interactions, company.transactions, surveys=company.surveys)
    S.complaint_rate(company.interactions, company.transactions, freq="MS")
    for name, before in frames.items():
        pd.testing.assert_frame_equal(getattr(company, name), before, obj=name)


# ----------------------------------------------------------------------------- documented missing values
def test_documented_missing_values_are_exactly_where_documented(company):
    view = P.customer_profile(company)
    never = view["n_orders"] == 0
    assert view.loc[never, "recency_days"].isna().all() and view.loc[~never, "recency_days"].notna().all()
    b = L.behavioural_loyalty(company.transactions, observation_end=company.observation_end)
    assert (b["gap_cv"].isna() == (b["n_orders"] < 3)).all()
    assert (b["mean_gap_days"].isna() == (b["n_orders"] < 2)).all()
    k = M.kpi_table(company)
    assert (k["churn_rate"].isna() == (k["customers_start"] == 0)).all()
    r = M.ab_test(_ab().assign(bought=np.where(_ab()["group"] == "control", 0, _ab()["bought"])),
                  outcome_col="bought").iloc[0]
    assert np.isnan(r["relative_lift"]) and np.isfinite(r["p_value"])  # control rate 0: lift undefined, test fine


def test_kpi_table_bounds_its_customer_by_period_matrix():
    """Daily periods over a long log with many customers would allocate gigabytes: refuse first."""
    n = 40_000
    tx = pd.DataFrame({"customer_id": np.arange(n), "amount": 1.0,
                       "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(n) % 1500, unit="D")})
    with pytest.raises(ValueError, match="use a coarser period"):
        M.kpi_table(tx, period="D")
    assert len(M.kpi_table(tx, period="M")) == 50


# ----------------------------------------------------------------------------- user column names
RENAMED = {"customer_id": "client", "date": "ts", "amount": "value", "channel": "via", "discount": "rebate"}
COLUMN_CALLS = {
    "loyalty.behavioural_loyalty": lambda tx, **c: L.behavioural_loyalty(
        tx, observation_end=END, **{k: c[k] for k in ("customer_col", "date_col", "amount_col", "discount_col")}),
    "loyalty.loyalty_index": lambda tx, **c: L.loyalty_index(
        tx, observation_end=END, **{k: c[k] for k in ("customer_col", "date_col", "amount_col", "discount_col")}),
    "loyalty.repeat_purchase_rate": lambda tx, **c: L.repeat_purchase_rate(tx, customer_col=c["customer_col"]),
    "journey.channel_profile": lambda tx, **c: J.channel_profile(
        tx, **{k: c[k] for k in ("customer_col", "date_col", "amount_col", "channel_col")}),
    "journey.omnichannel_summary": lambda tx, **c: J.omnichannel_summary(
        tx, **{k: c[k] for k in ("customer_col", "date_col", "amount_col", "channel_col")}),
    "monitoring.kpi_table": lambda tx, **c: M.kpi_table(
        tx, window=1, **{k: c[k] for k in ("customer_col", "date_col", "amount_col")}),
}


@pytest.mark.parametrize("name", COLUMN_CALLS)
def test_user_column_names_give_the_same_answer(name):
    call = COLUMN_CALLS[name]
    default = call(_tx(), customer_col="customer_id", date_col="date", amount_col="amount", channel_col="channel",
                   discount_col="discount")
    renamed = call(_tx().rename(columns=RENAMED), customer_col="client", date_col="ts", amount_col="value",
                   channel_col="via", discount_col="rebate")
    if isinstance(default, pd.DataFrame):
        pd.testing.assert_frame_equal(renamed, default, check_names=False)
    else:
        assert renamed == default


# ----------------------------------------------------------------------------- durations
RESOLUTION_CALLS = {
    "satisfaction.complaint_metrics": lambda it: S.complaint_metrics(it, by=None),
    "satisfaction.service_recovery": lambda it: S.service_recovery(it, _tx()),
    "journey.experience_table": lambda it: J.experience_table(_sv(), it, slow_days=1.0),
    "journey.complaint_followup": lambda it: J.complaint_followup(it, _tx(), observation_end=END, horizon_days=30,
                                                                  slow_days=1.0),
}


@pytest.mark.parametrize("name", RESOLUTION_CALLS)
def test_timedelta_resolution_times_are_days_and_negative_ones_raise(name):
    call = RESOLUTION_CALLS[name]
    as_days = call(_it())
    as_timedelta = call(_it().assign(resolution_days=pd.to_timedelta(_it()["resolution_days"], unit="D")))
    pd.testing.assert_frame_equal(as_timedelta, as_days)
    with pytest.raises(ValueError, match="'resolution_days' has 1 negative or infinite"):
        call(_it().assign(resolution_days=[-2.0, np.nan, 0.5]))
