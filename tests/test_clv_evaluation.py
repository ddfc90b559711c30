"""Holdout evaluation of the CLV models."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, mean_absolute_error, root_mean_squared_error

import crmlab as crm
from crmlab.clv import (
    BetaGeoModel,
    HistoricalRateBaseline,
    ParetoNBDModel,
    alive_brier_score,
    alive_calibration_table,
    conditional_expectation_table,
    holdout_errors,
    holdout_predictions,
    tracking_table,
)

lifetimes = pytest.importorskip("lifetimes")
CAL = dict(frequency_col="frequency_cal", recency_col="recency_cal", T_col="T_cal")


@pytest.fixture(scope="module")
def log():
    return crm.load_cdnow()


@pytest.fixture(scope="module")
def ch(log):
    return crm.features.calibration_holdout(log, cutoff="1997-09-30", observation_end="1998-06-30",
                                            time_unit="W")


@pytest.fixture(scope="module")
def bg(ch):
    return BetaGeoModel().fit(ch, **CAL)


def test_baseline_hand_worked():
    s = pd.DataFrame({"frequency": [2.0, 0.0, 3.0], "recency": [10.0, 0.0, 4.0], "T": [20.0, 10.0, 0.0]})
    s.loc[2, "T"] = 5.0
    base = HistoricalRateBaseline().fit(s)
    assert base.rate_ == pytest.approx(5 / 35)
    np.testing.assert_allclose(base.predict_purchases(s, 10), [1.0, 0.0, 6.0])
    np.testing.assert_allclose(base.expected_purchases_new([7.0, 14.0]), [1.0, 2.0])
    zero_t = pd.DataFrame({"frequency": [0.0, 1.0], "recency": [0.0, 0.0], "T": [0.0, 4.0]})
    assert HistoricalRateBaseline().fit(zero_t).predict_purchases(zero_t, 2).tolist() == [0.5, 0.5]


def test_holdout_predictions_and_errors(ch, bg):
    pn = ParetoNBDModel().fit(ch, **CAL)
    pred = holdout_predictions({"BG/NBD": bg, "Pareto/NBD": pn}, ch)
    assert list(pred.columns) == ["frequency_cal", "actual", "BG/NBD", "Pareto/NBD", "baseline"]
    pd.testing.assert_series_equal(pred["actual"], ch["frequency_holdout"], check_names=False)
    np.testing.assert_allclose(pred["BG/NBD"], bg.predict_purchases(ch, 39.0, **CAL))
    # an independent reference for the predictions: lifetimes at the same parameters
    lf = lifetimes.BetaGeoFitter()
    lf.params_ = bg.params_.copy()
    np.testing.assert_allclose(pred["BG/NBD"], lf.conditional_expected_number_of_purchases_up_to_time(
        ch["duration_holdout"], ch["frequency_cal"], ch["recency_cal"], ch["T_cal"]), rtol=1e-6)
    err = holdout_errors(pred).set_index("model")
    for m in ("BG/NBD", "Pareto/NBD", "baseline"):
        assert err.loc[m, "mae"] == pytest.approx(mean_absolute_error(pred["actual"], pred[m]))
        assert err.loc[m, "rmse"] == pytest.approx(root_mean_squared_error(pred["actual"], pred[m]))
    # the probabilistic models beat the naive rate on CDNOW (Fader, Hardie & Lee 2005)
    assert err.loc["BG/NBD", "mae"] < err.loc["baseline", "mae"]
    assert err.loc["Pareto/NBD", "rmse"] < err.loc["baseline", "rmse"]
    assert err.loc["BG/NBD", "total_actual"] == ch["frequency_holdout"].sum()


def test_conditional_expectation_table(ch, bg):
    pred = holdout_predictions(bg, ch)
    table = conditional_expectation_table(pred, max_frequency=7)
    assert list(table.index) == list(range(8))
    assert table["n_customers"].sum() == len(ch)
    heavy = ch["frequency_cal"] >= 7
    assert table.loc[7, "n_customers"] == heavy.sum()
    assert table.loc[7, "actual"] == pytest.approx(ch.loc[heavy, "frequency_holdout"].mean())
    assert table.loc[0, "BG/NBD"] == pytest.approx(pred.loc[ch["frequency_cal"] == 0, "BG/NBD"].mean())


def test_tracking_table_hand_worked():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 2, 2, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-09",
                                "2024-01-03", "2024-01-20", "2024-01-15"]),
    })
    model = BetaGeoModel.from_params(r=1.0, alpha=5.0, a=1.5, b=3.0, time_unit="W")
    table = tracking_table(model, tx, cutoff="2024-01-10", observation_end="2024-01-21", time_unit="W")
    # cohort = customers 1 and 2 (customer 3 starts after the cutoff; its purchase is ignored)
    assert table["period"].tolist() == [1, 2, 3]
    assert table["period_end"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-07", "2024-01-14", "2024-01-21"]
    assert table["actual_incremental"].tolist() == [1.0, 1.0, 1.0]   # same-day repeat merged
    assert table["holdout"].tolist() == [False, True, True]
    # model: E[X(t)] for customer 1 (first day 0) and 2 (first day 2), lifetimes as reference
    lf = lifetimes.BetaGeoFitter()
    lf.params_ = model.params_.copy()
    for j, tau in enumerate([7, 14, 21]):
        expected = (lf.expected_number_of_purchases_up_to_time((tau - 1) / 7)
                    + lf.expected_number_of_purchases_up_to_time((tau - 1 - 2) / 7))
        assert table["model_cumulative"].iloc[j] == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="after observation_end"):
        tracking_table(model, tx, cutoff="2024-01-10", observation_end="2024-01-14")


def test_tracking_table_cdnow(log, ch, bg):
    base = HistoricalRateBaseline().fit(ch, **CAL)
    table = tracking_table(bg, log, cutoff="1997-09-30", observation_end="1998-06-30", baseline=base)
    at_cal_end = table.loc[table["period_end"] == pd.Timestamp("1997-09-30")].iloc[0]
    # cumulative repeat purchases at the end of calibration = the summary's total frequency
    assert at_cal_end["actual_cumulative"] == ch["frequency_cal"].sum()
    assert at_cal_end["baseline_cumulative"] == pytest.approx(ch["frequency_cal"].sum())
    assert not at_cal_end["holdout"]
    np.testing.assert_allclose(table["actual_cumulative"], table["actual_incremental"].cumsum())
    # BG/NBD tracks the holdout total within 10% (FHL 2005 Figure 2), the naive rate does not
    last = table.iloc[-1]
    assert abs(last["model_cumulative"] / last["actual_cumulative"] - 1) < 0.1
    assert abs(last["baseline_cumulative"] / last["actual_cumulative"] - 1) > 0.1


def test_alive_metrics_against_sklearn():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=500)
    y = rng.uniform(size=500) < p
    assert alive_brier_score(p, y) == pytest.approx(brier_score_loss(y, p))
    table = alive_calibration_table(p, y, n_bins=5, strategy="uniform")
    prob_true, prob_pred = calibration_curve(y, p, n_bins=5, strategy="uniform")
    np.testing.assert_allclose(table["observed"], prob_true)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred)
    assert table["n_customers"].sum() == 500
    q = alive_calibration_table(p, y, n_bins=4)
    assert q["n_customers"].tolist() == [125] * 4
    with pytest.raises(ValueError, match="same length"):
        alive_brier_score(p, y[:10])
    with pytest.raises(ValueError, match="True/False"):
        alive_brier_score([0.5], [2])
    with pytest.raises(ValueError, match="strategy='bins' is not allowed"):
        alive_calibration_table(p, y, strategy="bins")


def test_p_alive_against_simulated_truth():
    data = crm.synth.generate(n_customers=3000, seed=11)
    s = crm.features.customer_summary(data.transactions, observation_end=data.observation_end, time_unit="W")
    truth = data.truth.set_index("customer_id").loc[s.index, "alive_at_end"]
    p_alive = BetaGeoModel().fit(s).probability_alive(s)
    score = alive_brier_score(p_alive, truth)
    # better than predicting the base rate for everyone
    assert score < brier_score_loss(truth, np.full(len(truth), truth.mean()))
    table = alive_calibration_table(p_alive, truth, n_bins=5)
    # and roughly calibrated: each bin's observed share within 0.15 of its mean prediction
    assert (np.abs(table["observed"] - table["mean_predicted"]) < 0.15).all()


def test_tracking_table_end_day_and_units():
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2],
                       "date": pd.to_datetime(["2024-01-01", "2024-01-21 15:30", "2024-01-03", "2024-01-10 23:59"], format="ISO8601")})
    weekly = BetaGeoModel.from_params(r=1.0, alpha=5.0, a=1.5, b=3.0, time_unit="W")
    table = tracking_table(weekly, tx, cutoff="2024-01-10", observation_end="2024-01-21")
    # the 23:59 purchase on the cutoff day (day 9, week 2) and the 15:30 one on observation_end's day
    # (day 20, week 3) both count
    assert table["actual_incremental"].tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"time_unit='D' \(days\) does not match BetaGeoModel.time_unit_"):
        tracking_table(weekly, tx, cutoff="2024-01-10", observation_end="2024-01-21", time_unit="D")
    daily_base = HistoricalRateBaseline().fit(pd.DataFrame({"frequency": [1.0], "recency": [3.0], "T": [9.0]}),
                                              time_unit="D")
    with pytest.raises(ValueError, match=r"time_unit='W' \(weeks\) does not match HistoricalRateBaseline.time_unit_"):
        tracking_table(weekly, tx, cutoff="2024-01-10", observation_end="2024-01-21", baseline=daily_base)
    monthly = BetaGeoModel.from_params(r=1.0, alpha=5.0, a=1.5, b=3.0, time_unit="M")
    with pytest.raises(ValueError, match="whole days or weeks"):
        tracking_table(monthly, tx, cutoff="2024-01-10", observation_end="2024-01-21")


def test_holdout_predictions_refuse_a_model_in_another_unit(log, ch):
    in_days = crm.features.calibration_holdout(log, cutoff="1997-09-30", observation_end="1998-06-30")
    assert in_days.attrs["time_unit"] == "D" and ch.attrs["time_unit"] == "W"
    bg_days = BetaGeoModel().fit(in_days, **CAL)
    with pytest.raises(ValueError, match="summary is in time_unit='W'"):
        holdout_predictions({"BG/NBD": bg_days}, ch)
    # in its own unit the daily model predicts the same holdout purchases as the weekly one
    weekly = holdout_predictions(BetaGeoModel().fit(ch, **CAL), ch)
    daily = holdout_predictions(bg_days, in_days)
    np.testing.assert_allclose(daily["BG/NBD"], weekly["BG/NBD"], rtol=1e-4)
    np.testing.assert_allclose(daily["baseline"], weekly["baseline"], rtol=1e-12)
