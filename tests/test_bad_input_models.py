"""Bad input to the model modules (segmentation, clv, recommend): one test per class of bad
input, parametrized over the public functions it reaches. Every call either raises a
ValueError/TypeError that names the column or value, or returns a documented, finite result;
nothing is modified in place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab import clv, recommend, segmentation

# --- small valid inputs -------------------------------------------------------------------

RFM = pd.DataFrame({"recency_days": [5, 40, 200, 10, 3, 90], "n_orders": [12, 3, 1, 6, 2, 1],
                    "total_spend": [900.0, 120.0, 30.0, 400.0, 80.0, 15.0]}, index=range(1, 7))
SUMMARY = crm.load_cdnow("summary_monetary").iloc[:400]
REPEAT = SUMMARY[SUMMARY["frequency"] > 0]
LINES = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3, 4, 4],
                      "transaction_id": [1, 1, 2, 2, 3, 3, 4, 4],
                      "product_id": [10, 11, 10, 11, 10, 12, 11, 12],
                      "date": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2 + ["2024-03-01"] * 2
                                             + ["2024-04-01"] * 2)})
SEGMENTS = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["a", "a", "b", "b"]})


def _bg():
    return clv.BetaGeoModel().fit(SUMMARY)


def _gg():
    return clv.GammaGammaModel().fit(REPEAT)


# --- frames: every function that reads a table, with the column it reads ------------------
# name: (call(frame), valid frame, a numeric column it reads)
FRAME_FUNCTIONS = {
    "rfm_scores": (lambda f: segmentation.rfm_scores(f, bins=3), RFM, "total_spend"),
    "cluster_segments": (lambda f: segmentation.cluster_segments(f, 2), RFM, "total_spend"),
    "choose_k": (lambda f: segmentation.choose_k(f, range(2, 4)), RFM, "total_spend"),
    "profile_segments": (lambda f: segmentation.profile_segments(f, [0, 0, 1, 1, 0, 1]), RFM, "total_spend"),
    "BetaGeoModel.fit": (lambda f: clv.BetaGeoModel().fit(f), SUMMARY, "recency"),
    "ParetoNBDModel.fit": (lambda f: clv.ParetoNBDModel().fit(f), SUMMARY, "T"),
    "ModifiedBetaGeoModel.fit": (lambda f: clv.ModifiedBetaGeoModel().fit(f), SUMMARY, "frequency"),
    "GammaGammaModel.fit": (lambda f: clv.GammaGammaModel().fit(f), REPEAT, "monetary_value"),
    "HistoricalRateBaseline.fit": (lambda f: clv.HistoricalRateBaseline().fit(f), SUMMARY, "T"),
    "BetaGeoModel.predict_purchases": (lambda f: _bg().predict_purchases(f, 10), SUMMARY, "recency"),
    "BetaGeoModel.probability_alive": (lambda f: _bg().probability_alive(f), SUMMARY, "T"),
    "GammaGammaModel.conditional_expected_spend": (lambda f: _gg().conditional_expected_spend(f), SUMMARY,
                                                   "monetary_value"),
    "customer_lifetime_value": (lambda f: clv.customer_lifetime_value(_bg(), _gg(), f), SUMMARY, "monetary_value"),
    "BetaGeoBetaBinomModel.fit": (lambda f: clv.BetaGeoBetaBinomModel().fit(f, weights="weights"),
                                  crm.load_donations().astype(float), "weights"),
}
# functions that read ids and dates but no amount
ID_FUNCTIONS = {
    "split_by_time": (lambda f: recommend.split_by_time(f, "2024-02-15"), LINES),
    "association_rules": (lambda f: recommend.association_rules(f, min_support=0.2, min_confidence=0.1), LINES),
    "baskets": (lambda f: recommend.baskets(f), LINES),
    "PopularityRecommender.fit": (lambda f: recommend.PopularityRecommender().fit(f), LINES),
    "ItemKNNRecommender.fit": (lambda f: recommend.ItemKNNRecommender().fit(f), LINES),
    "SegmentPopularityRecommender.fit": (lambda f: recommend.SegmentPopularityRecommender().fit(f, segments=SEGMENTS),
                                         LINES),
    "segment_affinity": (lambda f: recommend.segment_affinity(f, SEGMENTS, item_col="product_id"), LINES),
    "purchase_lines": (lambda f: recommend.purchase_lines(f, LINES[["transaction_id", "product_id"]]),
                       LINES.drop(columns="product_id").drop_duplicates("transaction_id")),
}

VALUE_FUNCTIONS = {
    "gini": segmentation.gini,
    "lorenz_curve": segmentation.lorenz_curve,
    "pareto_table": segmentation.pareto_table,
    "abc_classes": segmentation.abc_classes,
    "pyramid_tiers": segmentation.pyramid_tiers,
    "customer_pyramid": segmentation.customer_pyramid,
}


def _with_duplicate(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    dup = pd.concat([frame, frame[[column]]], axis=1)
    assert list(dup.columns).count(column) == 2
    return dup


# --- duplicate column names ----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FRAME_FUNCTIONS))
def test_duplicate_column_names(name):
    call, frame, column = FRAME_FUNCTIONS[name]
    with pytest.raises(ValueError, match=f"column name '{column}' 2 times"):
        call(_with_duplicate(frame, column))


@pytest.mark.parametrize("name", sorted(ID_FUNCTIONS))
def test_duplicate_column_names_in_lines(name):
    call, frame = ID_FUNCTIONS[name]
    column = "customer_id" if "customer_id" in frame.columns else "transaction_id"
    with pytest.raises(ValueError, match=f"column name '{column}' 2 times"):
        call(_with_duplicate(frame, column))


# --- negative values -------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FRAME_FUNCTIONS))
def test_negative_values(name):
    call, frame, column = FRAME_FUNCTIONS[name]
    bad = frame.copy()
    bad.iloc[0, bad.columns.get_loc(column)] = -1.0
    with pytest.raises(ValueError, match=f"'{column}' has 1 negative value"):
        call(bad)


@pytest.mark.parametrize("name", sorted(VALUE_FUNCTIONS))
def test_negative_customer_values(name):
    with pytest.raises(ValueError, match="negative value"):
        VALUE_FUNCTIONS[name]([5.0, -1.0, 3.0])


# --- NaN and inf ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("name", sorted(FRAME_FUNCTIONS))
def test_nan_and_inf_in_frames(name, bad):
    call, frame, column = FRAME_FUNCTIONS[name]
    broken = frame.copy()
    broken.iloc[1, broken.columns.get_loc(column)] = bad
    with pytest.raises(ValueError, match=f"'{column}' (has 1 missing|contains infinite)"):
        call(broken)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("name", sorted(VALUE_FUNCTIONS))
def test_nan_and_inf_in_values(name, bad):
    with pytest.raises(ValueError, match="missing value|infinite"):
        VALUE_FUNCTIONS[name]([5.0, bad, 3.0])


@pytest.mark.parametrize("argument", ["margin", "retention", "discount_rate"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_simple_clv_rejects_nan_and_inf(argument, bad):
    args = {"margin": 100.0, "retention": 0.8, "discount_rate": 0.1} | {argument: bad}
    with pytest.raises(ValueError, match=argument):
        clv.simple_clv(**args)


@pytest.mark.parametrize("margin", [np.nan, np.inf, -0.5])
def test_customer_lifetime_value_rejects_bad_margin(margin):
    with pytest.raises(ValueError, match="margin must be a finite number >= 0"):
        clv.customer_lifetime_value(_bg(), _gg(), SUMMARY, margin=margin)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0])
def test_prediction_horizons_reject_nan_inf_negative(bad):
    with pytest.raises(ValueError, match="non-negative"):
        _bg().predict_purchases(SUMMARY, bad)
    with pytest.raises(ValueError, match="non-negative"):
        clv.HistoricalRateBaseline().fit(SUMMARY).predict_purchases(SUMMARY, bad)


# --- overflow: values near the float64 limit ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(VALUE_FUNCTIONS))
def test_huge_values_give_the_same_answer_as_small_ones(name):
    func = VALUE_FUNCTIONS[name]
    small = np.array([1.0, 3.5, 0.0, 10.0, 6.0])  # no cumulative share exactly at a class threshold
    huge = small * 1e307            # sums overflow float64 (max 1.8e308) unless scaled
    got, expected = func(huge), func(small)
    if isinstance(expected, float):
        assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-12)
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(got, expected)
    else:
        shares = [c for c in expected.columns if "share" in c]
        assert shares
        pd.testing.assert_frame_equal(got[shares], expected[shares], rtol=1e-12)


def test_gini_of_huge_values_against_the_definition():
    # mean absolute difference / (2 mean), computed on values / 1e307 by hand
    x = np.array([1.0, 3.0, 0.0, 10.0, 6.0])
    mad = np.abs(x[:, None] - x[None, :]).mean()
    assert segmentation.gini(x * 1e307) == pytest.approx(mad / (2 * x.mean()), rel=1e-12)


def test_simple_clv_overflow_raises():
    with pytest.raises(ValueError, match="overflowed"):
        clv.simple_clv(1e308, 0.99, 0.0)


# --- degenerate data -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(VALUE_FUNCTIONS))
def test_all_zero_values(name):
    with pytest.raises(ValueError, match="sum to 0"):
        VALUE_FUNCTIONS[name]([0.0, 0.0, 0.0])


@pytest.mark.parametrize("call", [lambda f: segmentation.cluster_segments(f, 2),
                                  lambda f: segmentation.choose_k(f, range(2, 4))],
                         ids=["cluster_segments", "choose_k"])
def test_constant_features_cannot_be_clustered(call):
    constant = pd.DataFrame({"a": [1.0] * 6, "b": [2.0] * 6})
    with pytest.raises(ValueError, match="every feature is constant"):
        call(constant)
    few_distinct = pd.DataFrame({"a": [1.0, 1.0, 1.0, 5.0, 5.0, 5.0]})
    with pytest.raises(ValueError, match="only 2 distinct rows"):
        segmentation.cluster_segments(few_distinct, 3, log=False)


def test_profile_segments_zero_value():
    with pytest.raises(ValueError, match="'total_spend' sums to 0"):
        segmentation.profile_segments(RFM.assign(total_spend=0.0), [0, 0, 1, 1, 0, 1])


def test_pyramid_with_an_empty_tier():
    with pytest.raises(ValueError, match="tier has no customer"):
        segmentation.customer_pyramid([5.0, 1.0])


@pytest.mark.parametrize("model", [clv.BetaGeoModel, clv.ParetoNBDModel, clv.ModifiedBetaGeoModel])
def test_identical_customers_cannot_be_fitted(model):
    same = pd.DataFrame({"frequency": [2.0] * 5, "recency": [10.0] * 5, "T": [20.0] * 5})
    with pytest.raises(ValueError, match="same purchase pattern"):
        model().fit(same)


def test_no_repeat_buyer_cannot_be_fitted():
    none = pd.DataFrame({"frequency": [0.0] * 5, "recency": [0.0] * 5, "T": [20.0, 10.0, 5.0, 3.0, 1.0]})
    with pytest.raises(ValueError, match="no customer made a repeat purchase"):
        clv.BetaGeoModel().fit(none)


def test_recommend_for_no_new_purchases():
    train, test = recommend.split_by_time(LINES, "2024-02-15")
    with pytest.raises(ValueError, match="No customer bought a new item"):
        recommend.evaluate_recommenders({"p": recommend.PopularityRecommender()}, train, train)


# --- allocations sized by a user's number -------------------------------------------------------------

def test_association_rules_bounds_the_candidate_itemsets():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame({"transaction_id": np.repeat(np.arange(300), 40),
                         "product_id": rng.integers(0, 400, 300 * 40)})
    with pytest.raises(ValueError, match="candidate itemsets .* raise min_support"):
        recommend.association_rules(wide, min_support=1e-9, min_confidence=0.0, max_len=3)


def test_recommend_with_a_huge_k_returns_the_catalogue():
    model = recommend.PopularityRecommender().fit(LINES)
    recs = model.recommend([1], k=10**12, exclude_purchased=False)
    assert len(recs) == LINES["product_id"].nunique()


# --- timedelta durations -------------------------------------------------------------------------------

def test_timedelta_durations_are_rejected_not_read_as_microseconds():
    as_timedelta = SUMMARY.assign(recency=pd.to_timedelta(SUMMARY["recency"] * 7, unit="D"))
    with pytest.raises(TypeError, match="'recency' must be numeric"):
        clv.BetaGeoModel().fit(as_timedelta)


# --- inputs are never modified ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FRAME_FUNCTIONS))
def test_inputs_not_modified(name):
    call, frame, _ = FRAME_FUNCTIONS[name]
    before = frame.copy(deep=True)
    call(frame)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("call, message", [
    (lambda: clv.customer_lifetime_value(_bg(), _gg(), SUMMARY, horizon_months=10**9), "horizon_months=1,000,000,000"),
    (lambda: clv.customer_lifetime_value(_bg(), _gg(), SUMMARY, confidence=0.9, n_draws=10**9), "n_draws="),
    (lambda: _bg().probability_of_purchases(39, 10**9), "n=1,000,000,000"),
    (lambda: clv.ParetoNBDModel.from_params(r=0.55, alpha=10.6, s=0.6, beta=11.7, time_unit="W")
     .probability_of_purchases(39, 10**9, SUMMARY), "n=1,000,000,000"),
    (lambda: clv.BetaGeoBetaBinomModel().fit(crm.load_donations(), weights="weights")
     .probability_of_purchases(10**9, 1), "periods="),
    (lambda: clv.alive_calibration_table([0.2, 0.8, 0.5], [0, 1, 1], n_bins=10**9), "n_bins="),
    (lambda: crm.plot.alive_matrix_plot(_bg(), T=52, max_frequency=10**6), "at most 1,000"),
], ids=["clv_horizon", "clv_draws", "bg_pmf", "pnbd_pmf", "bgbb_pmf", "alive_bins", "alive_grid"])
def test_sizes_from_a_users_number_are_bounded(call, message):
    with pytest.raises(ValueError, match=message):
        call()
