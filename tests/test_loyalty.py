"""Tests for crmlab.loyalty: hand-worked examples, statsmodels/scipy references and the
simulated company's truth (satisfaction -> retention, programme self-selection)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import crmlab as crm
from crmlab import loyalty as L


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=4000, seed=11)


@pytest.fixture
def tx():
    return pd.DataFrame({
        "transaction_id": [1, 2, 3, 4, 5, 6],
        "customer_id": [1, 1, 1, 2, 3, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-31", "2024-01-05", "2024-01-10", "2024-01-20"]),
        "amount": [10.0, 20.0, 30.0, 5.0, 8.0, 8.0],
        "discount": [0.0, 2.0, 0.0, 1.0, 0.0, 0.0],
    })


# ----------------------------------------------------------------------------- behaviour / attitude
def test_behavioural_loyalty_hand_worked(tx):
    lines = pd.DataFrame({"transaction_id": [1, 1, 2, 3, 4, 5, 6], "product_id": [1, 2, 1, 3, 1, 2, 2]})
    products = pd.DataFrame({"product_id": [1, 2, 3], "category": ["coffee", "bakery", "coffee"]})
    b = L.behavioural_loyalty(tx, observation_end="2024-02-10", order_lines=lines, products=products)
    assert b.loc[1, "n_orders"] == 3 and bool(b.loc[1, "repeat_buyer"])
    gaps = np.array([10.0, 20.0])
    assert b.loc[1, "mean_gap_days"] == pytest.approx(15.0)
    assert b.loc[1, "gap_cv"] == pytest.approx(gaps.std(ddof=1) / gaps.mean())
    assert np.isnan(b.loc[3, "gap_cv"])  # two orders: one gap, no spread
    assert b.loc[1, "tenure_days"] == pytest.approx(40.0)
    assert b.loc[2, "recency_days"] == pytest.approx(36.0)
    assert b.loc[1, "discount_share"] == pytest.approx(1 / 3)
    assert b["n_categories"].to_dict() == {1: 2, 2: 1, 3: 1}
    assert b.loc[1, "total_spend"] == pytest.approx(60.0)
    assert L.repeat_purchase_rate(tx) == pytest.approx(2 / 3)


def test_behavioural_loyalty_validation(tx):
    with pytest.raises(ValueError, match="after observation_end"):
        L.behavioural_loyalty(tx, observation_end="2024-01-15")
    with pytest.raises(ValueError, match="both order_lines and products"):
        L.behavioural_loyalty(tx, observation_end="2024-02-10", order_lines=tx)
    with pytest.raises(ValueError, match="no column 'amount'"):
        L.behavioural_loyalty(tx.drop(columns="amount"), observation_end="2024-02-10")


def test_attitudinal_loyalty_uses_latest_answer_and_is_reliable(data):
    sv = pd.DataFrame({"customer_id": [1, 1, 2], "date": pd.to_datetime(["2024-02-01", "2024-01-01", "2024-01-01"]),
                       "a": [7, 1, 3], "b": [5, 1, 4]})
    att = L.attitudinal_loyalty(sv, items=["a", "b"])
    assert att.loc[1, "attitudinal"] == pytest.approx(6.0)
    att = L.attitudinal_loyalty(data.surveys)
    assert len(att) == data.surveys["customer_id"].nunique()
    assert crm.satisfaction.cronbach_alpha(data.surveys[list(crm.data.schema.LOYALTY_ITEMS)]) > 0.7


# ----------------------------------------------------------------------------- loyalty index
def test_loyalty_index_hand_worked(tx):
    interactions = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-01-12", "2024-01-06"]),
                                 "type": ["complaint", "complaint"]})
    surveys = pd.DataFrame({"customer_id": [1, 3], "loy_prefer_over_competitors": [6, 2]})
    li = L.loyalty_index(tx, observation_end="2024-02-10", surveys=surveys, interactions=interactions)
    # repeat purchases 3, 1, 2 -> percentile ranks 100, 33.3, 66.7
    assert li["score_repeat_purchases"].tolist() == pytest.approx([100, 100 / 3, 200 / 3])
    # discount shares 1/3, 1, 0 -> insensitivity 2/3, 0, 1
    assert li["price_insensitivity"].tolist() == pytest.approx([2 / 3, 0, 1])
    # customer 1 bought again after the complaint, 2 did not, 3 never complained
    assert li["quality_tolerance"].iloc[:2].tolist() == [1.0, 0.0] and np.isnan(li.loc[3, "quality_tolerance"])
    assert li["n_measures"].tolist() == [5, 4, 4]
    # index = plain mean of the scores the customer has
    scores = li.filter(like="score_")
    assert li["loyalty_index"].to_numpy() == pytest.approx(scores.mean(axis=1).to_numpy())
    weighted = L.loyalty_index(tx, observation_end="2024-02-10", weights={"repeat_purchases": 1, "spend": 0,
                                                                          "price_insensitivity": 0})
    assert weighted["loyalty_index"].to_numpy() == pytest.approx(weighted["score_repeat_purchases"].to_numpy())


def test_loyalty_index_validation(tx):
    with pytest.raises(ValueError, match="unknown measure"):
        L.loyalty_index(tx, observation_end="2024-02-10", weights={"love": 1})
    with pytest.raises(ValueError, match="non-negative"):
        L.loyalty_index(tx, observation_end="2024-02-10", weights={"spend": -1})


def test_loyalty_index_tracks_true_purchase_rate(data):
    li = L.loyalty_index(data.transactions, observation_end=data.observation_end, surveys=data.surveys,
                         interactions=data.interactions)
    truth = data.truth.set_index("customer_id").loc[li.index]
    rho = stats.spearmanr(li["loyalty_index"], truth["purchase_rate"]).statistic
    assert rho > 0.3


# ----------------------------------------------------------------------------- loyalty matrix
def test_loyalty_matrix_cells_and_cuts():
    df = pd.DataFrame({"att": [6, 6, 2, 2, 4], "orders": [9, 1, 9, 1, 5]})
    m = L.loyalty_matrix(df, attitudinal="att", behavioural="orders")
    assert m.attrs["attitude_cut"] == 4 and m.attrs["behaviour_cut"] == 5  # medians
    assert m["loyalty_type"].tolist() == ["true loyalty", "latent loyalty", "spurious loyalty", "no loyalty", "no loyalty"]
    assert df.columns.tolist() == ["att", "orders"]  # input untouched
    with pytest.raises(TypeError, match="cut"):
        L.loyalty_matrix(df, attitudinal="att", behavioural="orders", cut=[1, 2])
    with pytest.raises(ValueError, match="no column 'attitude'"):
        L.loyalty_matrix(df, attitudinal="attitude", behavioural="orders")


# ----------------------------------------------------------------------------- satisfaction-loyalty curve
def test_curve_intervals_match_references():
    df = pd.DataFrame({"csat": [1, 1, 2, 3, 3, 3, 4, 5, 5, 5], "stayed": [0, 1, 0, 1, 1, 0, 1, 1, 1, 1],
                       "intent": [2.0, 3, 3, 4, 5, 4, 5, 6, 7, 7]})
    c = L.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="stayed").set_index("satisfaction")
    lo, hi = proportion_confint(2, 3, method="wilson")
    assert (c.loc[3, "ci_low"], c.loc[3, "ci_high"]) == pytest.approx((lo, hi))
    assert c["zone"].tolist() == ["defection", "defection", "indifference", "indifference", "affection"]
    c2 = L.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="intent").set_index("satisfaction")
    x = df.loc[df["csat"] == 5, "intent"]
    ci = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (c2.loc[5, "ci_low"], c2.loc[5, "ci_high"]) == pytest.approx(ci)
    with pytest.raises(ValueError, match="falls in no zone"):
        L.satisfaction_loyalty_curve(df.assign(csat=df["csat"] + 2), satisfaction="csat", loyalty="stayed")


def test_satisfaction_raises_retention_in_simulation(data):
    df = data.surveys.merge(data.truth[["customer_id", "alive_at_end"]], on="customer_id")
    df["alive"] = df["alive_at_end"].astype(int)
    curve = L.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="alive")
    by_zone = curve.groupby("zone").apply(lambda g: np.average(g["loyalty"], weights=g["n"]), include_groups=False)
    assert by_zone["defection"] < by_zone["indifference"] < by_zone["affection"]
    assert curve["loyalty"].iloc[-1] > curve["loyalty"].iloc[0]


# ----------------------------------------------------------------------------- programme effect
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:Perfect separation")
def test_programme_effect_before_after_by_hand():
    # two members who join on 2024-03-01; window of 4 weeks on each side
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6, 7],
                              "is_member": [True, True, False, False, False, False, False],
                              "member_since": pd.to_datetime(["2024-03-01", "2024-03-01"] + [None] * 5)})
    dates = {1: ["2024-01-01", "2024-02-10", "2024-03-01", "2024-03-05", "2024-03-12", "2024-03-20"],
             2: ["2024-01-01", "2024-02-05", "2024-02-20", "2024-03-01", "2024-03-10"]}
    rows = [(c, d) for c, ds in dates.items() for d in ds]
    rows += [(c, d) for c in range(3, 8) for d in ("2024-01-01", "2024-02-01", "2024-02-15", "2024-03-01", "2024-03-15")]
    tx = pd.DataFrame(rows, columns=["customer_id", "date"]).assign(date=lambda d: pd.to_datetime(d["date"]))
    pe = L.programme_effect(customers, tx, observation_end="2024-06-30", window_weeks=4).set_index("method")
    # before (Feb 2 - Mar 1): member 1 has 1 order, member 2 has 2; after (Mar 1 - Mar 29): 3 and 1
    assert pe.loc["before_after", "rate_ratio"] == pytest.approx(4 / 3)
    lo, hi = proportion_confint(4, 7, method="beta")
    assert (pe.loc["before_after", "ci_low"], pe.loc["before_after", "ci_high"]) == pytest.approx((lo / (1 - lo), hi / (1 - hi)))
    assert pe.loc["before_after", "n"] == 2
    # naive: orders per week since the first order, members / non-members (same first order date)
    assert pe.loc["naive", "rate_ratio"] == pytest.approx((11 / 2) / (25 / 5))
    # regression rows: both members plus the non-members whose random purchase has full windows
    assert 2 < pe.loc["regression", "n"] <= 7


def test_programme_effect_errors(data):
    cust = data.customers.copy()
    with pytest.raises(ValueError, match="no member_since"):
        L.programme_effect(cust.assign(member_since=pd.NaT), data.transactions, observation_end=data.observation_end)
    with pytest.raises(ValueError, match="both members and non-members"):
        L.programme_effect(cust.assign(is_member=False), data.transactions, observation_end=data.observation_end)
    with pytest.raises(ValueError, match="window_weeks"):
        L.programme_effect(cust, data.transactions, observation_end=data.observation_end, window_weeks=0)


@pytest.fixture(scope="module")
def big():
    return crm.synth.generate(n_customers=15000, seed=3)


def test_adjusted_programme_effect_nearer_the_truth_than_naive(big):
    pe = L.programme_effect(big.customers, big.transactions, observation_end=big.observation_end).set_index("method")
    truth = big.config.membership_effect
    naive_err = abs(pe.loc["naive", "effect"] - truth)
    assert abs(pe.loc["regression", "effect"] - truth) < naive_err
    assert abs(pe.loc["before_after", "effect"] - truth) < abs(pe.loc["regression", "effect"] - truth)
    assert abs(pe.loc["before_after", "effect"] - truth) < 0.15
    assert pe.loc["naive", "effect"] > 1.0  # self-selection: members looked 2x+ better


def test_naive_comparison_shows_an_effect_when_there_is_none():
    d = crm.synth.generate(n_customers=8000, seed=4, membership_effect=0.0)
    pe = L.programme_effect(d.customers, d.transactions, observation_end=d.observation_end).set_index("method")
    assert pe.loc["naive", "rate_ratio"] > 2.0
    # the before/after estimate leans up a little (see the docstring) but is far from the naive one
    assert abs(pe.loc["before_after", "effect"]) < 0.35


def test_loyalty_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.DataFrame({"csat": [1, 2, 3, 4, 5, 5], "stayed": [0, 0, 1, 0, 1, 1]})
    curve = L.satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="stayed")
    ax = crm.plot.satisfaction_loyalty_plot(curve)
    assert len(ax.lines) == 1 and list(ax.lines[0].get_ydata()) == curve["loyalty"].tolist()
    assert {t.get_text() for t in ax.texts} == {"defection", "indifference", "affection"}
    m = L.loyalty_matrix(pd.DataFrame({"att": [6, 6, 2, 2], "orders": [9, 1, 9, 1]}), attitudinal="att",
                         behavioural="orders", cut=(4, 5))
    ax = crm.plot.loyalty_matrix_plot(m, attitudinal="att", behavioural="orders")
    assert sum(len(c.get_offsets()) for c in ax.collections) == 4
    plt.close("all")
