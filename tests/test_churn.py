"""Churn labels, point-in-time features, scorecard, models and evaluation."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import crmlab as crm
from crmlab.churn import (
    WARNING_RULES,
    churn_drivers,
    churn_features,
    churn_labels,
    complaint_profile,
    cost_threshold,
    early_warning,
    lift_table,
    make_churn_model,
    profit_curve,
)

CUTOFF = "2024-06-30"


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=1500, seed=11)


def _truncate(data, cutoff):
    """The data as it looked at the end of the cutoff day: every later event removed."""
    cut = pd.Timestamp(cutoff) + pd.Timedelta(days=1)
    cust = data.customers[data.customers["signup_date"] < cut].copy()
    late = cust["member_since"] >= cut
    cust["member_since"] = cust["member_since"].mask(late)
    cust["is_member"] = cust["is_member"] & ~late
    cust["member_tier"] = cust["member_tier"].mask(late, "none")
    return crm.CRMData(
        customers=cust,
        transactions=data.transactions[data.transactions["date"] < cut],
        order_lines=data.order_lines,
        products=data.products,
        interactions=data.interactions[data.interactions["date"] < cut],
        surveys=data.surveys[data.surveys["date"] < cut],
        campaigns=data.campaigns[data.campaigns["campaign_date"] < cut],
        touchpoints=data.touchpoints[data.touchpoints["timestamp"] < cut],
        truth=data.truth,
        observation_end=cut - pd.Timedelta(seconds=1),
        config=data.config,
    )


@pytest.mark.parametrize("cutoff", ["2024-03-31", CUTOFF, "2024-09-15"])
def test_features_do_not_leak_the_future(data, cutoff):
    full = churn_features(data, cutoff=cutoff)
    past = churn_features(_truncate(data, cutoff), cutoff=cutoff)
    pd.testing.assert_frame_equal(full, past)
    # the campaign (2024-07-01) counts only once it has happened
    treated = set(data.campaigns.loc[data.campaigns["treated"], "customer_id"])
    expected = full.index.isin(list(treated)) if pd.Timestamp(cutoff) >= pd.Timestamp("2024-07-01") else False
    assert (full["offer_received"].astype(bool) == expected).all()


def test_complaints_resolved_after_cutoff_count_as_open(data):
    cut = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)
    inter = data.interactions.copy()
    comp = (inter["type"] == "complaint") & (inter["date"] < cut) & (inter["date"] > cut - pd.Timedelta(days=60))
    # resolve every recent complaint, but only after the cutoff: nothing known changes
    inter.loc[comp, "resolved"] = True
    inter.loc[comp, "resolution_days"] = ((cut - inter.loc[comp, "date"]) / pd.Timedelta(days=1)) + 5
    later = crm.CRMData(**{**data.tables, "interactions": inter}, observation_end=data.observation_end)
    f = churn_features(later, cutoff=CUTOFF)
    ids = inter.loc[comp, "customer_id"].unique()
    ids = [i for i in ids if i in f.index]
    assert len(ids) > 0
    assert (f.loc[ids, "open_complaints"] >= 1).all()


def test_features_hand_built_customer(data):
    f = churn_features(data, cutoff=CUTOFF)
    custs = f.index[f["n_orders"] >= 3][:5]
    cut = pd.Timestamp("2024-07-01")
    for cust in custs:
        tx = data.transactions[(data.transactions["customer_id"] == cust) & (data.transactions["date"] < cut)]
        assert f.loc[cust, "n_orders"] == len(tx)
        # whole days from the day of the last purchase to the cutoff day (features vocabulary)
        assert f.loc[cust, "recency_days"] == (pd.Timestamp(CUTOFF) - tx["date"].max().normalize()).days
        assert f.loc[cust, "tenure_days"] == (pd.Timestamp(CUTOFF) - tx["date"].min().normalize()).days
        assert f.loc[cust, "total_spend"] == pytest.approx(tx["amount"].sum())
        last = tx[tx["date"] >= cut - pd.Timedelta(days=90)]
        prev = tx[(tx["date"] >= cut - pd.Timedelta(days=180)) & (tx["date"] < cut - pd.Timedelta(days=90))]
        assert f.loc[cust, "n_orders_last_90d"] == len(last)
        assert f.loc[cust, "spend_last_90d"] == pytest.approx(last["amount"].sum())
        assert f.loc[cust, "n_orders_prev_90d"] == len(prev)
        assert f.loc[cust, "spend_prev_90d"] == pytest.approx(prev["amount"].sum())
        assert f.loc[cust, "n_orders_trend"] == len(last) - len(prev)
    # the purchase columns are exactly those of the one feature builder
    ref = crm.features.customer_features(data.transactions, observation_end=CUTOFF, exclude_after=True,
                                         lookback_days=90, discount_col="discount", channel_col="channel")
    shared = [c for c in ref.columns if c not in ("first_purchase", "last_purchase")]
    pd.testing.assert_frame_equal(f[shared], ref.loc[f.index, shared])


def test_lookback_days_names_the_windows(data):
    f = churn_features(data, cutoff=CUTOFF, lookback_days=30)
    assert {"n_orders_last_30d", "n_orders_prev_30d", "spend_last_30d", "visits_last_30d",
            "complaints_last_30d"} <= set(f.columns)
    ew = early_warning(f)
    assert (ew["falling_frequency"] == (f["n_orders_last_30d"] < f["n_orders_prev_30d"])).all()
    with pytest.raises(ValueError, match="lookback_days"):
        early_warning(f.drop(columns="n_orders_prev_30d"))


def test_order_on_the_cutoff_day_is_known_and_not_in_the_label_window(data):
    # an order at 15:30 on the cutoff day belongs to the history, not to the outcome window
    cust = data.customers["customer_id"].iloc[0]
    extra = pd.DataFrame({"transaction_id": [10**9], "customer_id": [cust],
                          "date": [pd.Timestamp(CUTOFF) + pd.Timedelta(hours=15, minutes=30)],
                          "amount": [10.0], "discount": [0.0], "channel": ["store"], "n_items": [1]})
    tx = pd.concat([data.transactions, extra], ignore_index=True).astype(data.transactions.dtypes.to_dict())
    d2 = crm.CRMData(**{**data.tables, "transactions": tx}, observation_end=data.observation_end)
    f = churn_features(d2, cutoff=CUTOFF)
    assert f.loc[cust, "recency_days"] == 0
    y = churn_labels(d2, cutoff=CUTOFF)
    after = tx[(tx["customer_id"] == cust) & (tx["date"] >= "2024-07-01") & (tx["date"] < "2024-09-29")]
    assert bool(y.loc[cust, "churned"]) == after.empty


def test_labels_observed_and_true(data):
    y = churn_labels(data, cutoff=CUTOFF, horizon_days=90)
    f = churn_features(data, cutoff=CUTOFF)
    assert y.index.equals(f.index)
    cut, end = pd.Timestamp("2024-07-01"), pd.Timestamp("2024-09-29")
    tx = data.transactions
    buyers = set(tx.loc[(tx["date"] >= cut) & (tx["date"] < end), "customer_id"])
    assert (y["churned"] == ~y.index.isin(list(buyers))).all()
    # a customer who really dropped out before the cutoff cannot buy in the window
    truth = data.truth.set_index("customer_id").loc[y.index]
    dead = truth["dropout_date"] < cut
    assert y.loc[dead, "churned"].all()
    assert y.loc[dead, "dropped_out"].all()
    assert (y["dropped_out"] == (truth["dropout_date"] < end)).all()
    active = churn_labels(data, cutoff=CUTOFF, active_days=180)
    assert set(active.index) < set(y.index)


def test_labels_window_must_end_before_observation_end(data):
    with pytest.raises(ValueError, match="runs past the observation end"):
        churn_labels(data, cutoff="2024-12-01", horizon_days=90)
    with pytest.raises(TypeError, match="horizon_days must be an integer"):
        churn_labels(data, cutoff=CUTOFF, horizon_days=1.5)
    # the last possible window ends on the observation end day (2024-12-31)
    assert len(churn_labels(data, cutoff="2024-10-02", horizon_days=90)) > 0
    with pytest.raises(TypeError, match="cutoff must be a date"):
        churn_features(data, cutoff=20240630)


def test_early_warning_rules_and_model_comparison(data):
    f = churn_features(data, cutoff=CUTOFF, active_days=180)
    ew = early_warning(f)
    assert list(WARNING_RULES) == [c for c in ew.columns if c in WARNING_RULES]
    assert (ew["falling_frequency"] == (f["n_orders_last_90d"] < f["n_orders_prev_90d"])).all()
    assert (ew["fewer_interactions"] == (f["visits_last_90d"] < f["visits_prev_90d"])).all()
    assert (ew["unresolved_complaint"] == (f["open_complaints"] > 0)).all()
    assert ew["warning_score"].between(0, 1).all()
    assert ((ew["warning_level"] == "high") == (ew["n_flags"] >= 2)).all()
    weighted = early_warning(f, weights={"unresolved_complaint": 3.0})
    assert (weighted.loc[ew["unresolved_complaint"], "warning_level"] == "high").all()
    with pytest.raises(ValueError, match="weights key"):
        early_warning(f, weights={"falling_freq": 1.0})
    with pytest.raises(ValueError, match="no column 'open_complaints'"):
        early_warning(f.drop(columns="open_complaints"))


def test_models_beat_chance_and_calibration_fixes_balanced_weights(data):
    X = churn_features(data, cutoff=CUTOFF, active_days=365)
    y = churn_labels(data, cutoff=CUTOFF, active_days=365)["churned"].astype(int)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    for kind in ("logistic", "boosting"):
        p = make_churn_model(kind).fit(Xtr, ytr).predict_proba(Xte)[:, 1]
        assert roc_auc_score(yte, p) > 0.65
    # balanced weights push the mean probability towards 0.5; calibration brings it back
    raw = make_churn_model("logistic", class_weight="balanced").fit(Xtr, ytr).predict_proba(Xte)[:, 1]
    cal_model = make_churn_model("logistic", class_weight="balanced", calibrate="sigmoid").fit(Xtr, ytr)
    assert isinstance(cal_model, CalibratedClassifierCV)
    cal = cal_model.predict_proba(Xte)[:, 1]
    assert abs(cal.mean() - yte.mean()) < abs(raw.mean() - yte.mean()) + 1e-9
    assert abs(cal.mean() - yte.mean()) < 0.05
    drivers = churn_drivers(make_churn_model().fit(Xtr, ytr), Xte, yte, n_repeats=3)
    assert set(drivers["feature"]) == set(X.columns)
    # the strongest reason is how much and how recently the customer buys
    assert drivers["feature"].iloc[0] in {"recency_days", "n_orders", "n_purchase_days", "n_orders_last_90d",
                                          "visits_last_90d", "tenure_days"}


def test_lift_table_hand_worked():
    y = [1, 1, 0, 1, 0, 0, 0, 0, 1, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    t = lift_table(y, s, bins=5)
    # groups of 2: churners 2,1,0,0,1 ; overall rate 0.4
    assert t["customers"].tolist() == [2] * 5
    assert t["churners"].tolist() == [2, 1, 0, 0, 1]
    assert t["rate"].tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0, 0.5])
    assert t["lift"].tolist() == pytest.approx([2.5, 1.25, 0.0, 0.0, 1.25])
    assert t["cumulative_gain"].tolist() == pytest.approx([0.5, 0.75, 0.75, 0.75, 1.0])
    assert t["cumulative_lift"].tolist() == pytest.approx([2.5, 1.875, 1.25, 0.9375, 1.0])
    # order of the input does not matter
    perm = np.random.default_rng(0).permutation(10)
    t2 = lift_table(np.array(y)[perm], np.array(s)[perm], bins=5)
    pd.testing.assert_frame_equal(t, t2)
    # uneven sizes: 7 customers in 3 groups
    t3 = lift_table([1, 0, 0, 1, 0, 1, 0], [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], bins=3)
    assert t3["customers"].tolist() == [3, 2, 2]
    assert t3["churners"].sum() == 3


def test_profit_curve_hand_worked_and_cost_threshold():
    pc = profit_curve([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1], value=100, contact_cost=5, offer_cost=10)
    # contacted churner: 100 - 10 - 5 = 85 ; contacted stayer: -10 - 5 = -15
    assert pc["profit"].tolist() == pytest.approx([0, 85, 70, 155, 140])
    ties = profit_curve([1, 0, 1], [0.5, 0.5, 0.2], value=100, contact_cost=0, offer_cost=10)
    assert ties["contacted"].tolist() == [0, 2, 3]
    # calibrated scores: the best threshold of a large sample is near the analytic one
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.random(p.size) < p).astype(int)
    kw = dict(value=120.0, contact_cost=4.0, offer_cost=20.0, accept_rate=0.6)
    pc = profit_curve(y, p, **kw)
    best = pc.loc[pc["profit"].idxmax(), "threshold"]
    p_star = cost_threshold(**kw)
    assert p_star == pytest.approx(24 / (0.6 * 120 + 0.4 * 20))
    assert abs(best - p_star) < 0.03


def test_complaint_profile_rates(data):
    y = churn_labels(data, cutoff=CUTOFF, active_days=365)["churned"]
    prof = complaint_profile(data, y, cutoff=CUTOFF)
    assert {"all", "unresolved"} <= set(prof["category"])
    cut = pd.Timestamp("2024-07-01")
    tx, inter = data.transactions, data.interactions
    comp = inter[(inter["type"] == "complaint") & (inter["date"] < cut) & inter["customer_id"].isin(y.index)]
    churners = y.index[y]
    orders = tx[(tx["date"] < cut) & tx["customer_id"].isin(churners)]
    expected = 100 * comp["customer_id"].isin(churners).sum() / len(orders)
    assert prof.set_index("category").loc["all", "churners_rate"] == pytest.approx(expected)


def test_validation_errors():
    with pytest.raises(ValueError, match="same length"):
        lift_table([0, 1, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match="single class"):
        lift_table([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match=r"y_score must lie in \[0, 1\]"):
        lift_table([0, 1, 1], [0.2, 1.5, 0.9])
    with pytest.raises(ValueError, match="0/1"):
        lift_table([0, 2, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="bins=5 is more than"):
        lift_table([0, 1, 1], [0.2, 0.5, 0.9], bins=5)
    with pytest.raises(ValueError, match="same length"):
        profit_curve([0, 1], [0.1, 0.2], value=[1.0, 2.0, 3.0], contact_cost=1, offer_cost=1)
    with pytest.raises(ValueError, match="contact_cost must be a finite, non-negative"):
        profit_curve([0, 1], [0.1, 0.2], value=10, contact_cost=-1, offer_cost=1)
    with pytest.raises(ValueError, match="kind='svm' is not allowed"):
        make_churn_model("svm")
    with pytest.raises(TypeError, match="CRMData"):
        churn_labels(pd.DataFrame(), cutoff=CUTOFF)


def test_charts_draw_what_they_show():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab.plot import calibration_chart, gain_chart, lift_chart, profit_chart

    y = [1, 0, 1, 0, 0, 1, 0, 0, 1, 0]
    s = [0.9, 0.2, 0.7, 0.4, 0.1, 0.6, 0.3, 0.5, 0.8, 0.05]
    t = lift_table(y, s, bins=5)
    ax = lift_chart(t)
    assert [p.get_height() for p in ax.patches] == pytest.approx(t["lift"].tolist())
    ax = gain_chart(t)
    assert ax.get_lines()[0].get_ydata().tolist() == pytest.approx([0, *t["cumulative_gain"]])
    ax = calibration_chart(y, {"a": s, "b": np.full(10, 0.4)}, n_bins=2)
    assert len(ax.get_lines()) == 3
    pc = profit_curve(y, s, value=100, contact_cost=5, offer_cost=10)
    ax = profit_chart(pc)
    assert ax.get_lines()[1].get_ydata()[0] == pytest.approx(pc["profit"].max())
    plt.close("all")


def test_exercise_checks_ex09(data, capsys):
    from crmlab.check import ex09

    y = churn_labels(data, cutoff=ex09.CUTOFF, active_days=ex09.ACTIVE_DAYS)["churned"]
    ex09.churn_label(y, data)
    f = churn_features(data, cutoff=ex09.CUTOFF, active_days=ex09.ACTIVE_DAYS)
    ex09.recency_at_cutoff(f["recency_days"], data)
    assert "recency_at_cutoff: correct" in capsys.readouterr().out
    # counting to the midnight after the cutoff day (one day too many) is a typical mistake
    with pytest.raises(AssertionError, match="to the cutoff day itself"):
        ex09.recency_at_cutoff(f["recency_days"] + 1, data)
    # so is counting fractional days from the time of the purchase
    cut = pd.Timestamp(ex09.CUTOFF) + pd.Timedelta(days=1)
    last = data.transactions[data.transactions["date"] < cut].groupby("customer_id")["date"].max()
    with pytest.raises(AssertionError, match="your recency"):
        ex09.recency_at_cutoff(((cut - last) / pd.Timedelta(days=1)).loc[f.index], data)
    with pytest.raises(AssertionError, match="Population"):
        ex09.churn_label(y.iloc[:-5], data)
    score = f["recency_days"] / f["recency_days"].max()
    ex09.lift_by_quintile(lift_table(y.astype(int), score, bins=5), data)
    with pytest.raises(AssertionError):
        ex09.lift_by_quintile(lift_table(y.astype(int), score, bins=5).assign(lift=1.0), data)
    with pytest.raises(AssertionError, match="number of customers to contact"):
        ex09.best_number_to_contact(-3, data)
