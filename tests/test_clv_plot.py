"""Plot helpers of crmlab.plot.clv return Axes with the expected content."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import crmlab as crm  # noqa: E402
from crmlab.clv import BetaGeoModel, HistoricalRateBaseline, holdout_predictions  # noqa: E402

CAL = dict(frequency_col="frequency_cal", recency_col="recency_cal", T_col="T_cal")


@pytest.fixture(scope="module")
def setup():
    log = crm.load_cdnow()
    ch = crm.features.calibration_holdout(log, cutoff="1997-09-30", observation_end="1998-06-30",
                                          time_unit="W")
    bg = BetaGeoModel().fit(ch, **CAL)
    return log, ch, bg


def test_tracking_plot(setup):
    log, ch, bg = setup
    table = crm.clv.tracking_table(bg, log, cutoff="1997-09-30", observation_end="1998-06-30",
                                   baseline=HistoricalRateBaseline().fit(ch, **CAL))
    ax = crm.plot.tracking_plot(table)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:3] == ["actual", "model", "baseline (historical rate)"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), table["actual_cumulative"])
    _, ax2 = plt.subplots()
    assert crm.plot.tracking_plot(table, cumulative=False, ax=ax2) is ax2
    np.testing.assert_allclose(ax2.get_lines()[1].get_ydata(), table["model_incremental"])
    with pytest.raises(ValueError, match="no column 'period_end'"):
        crm.plot.tracking_plot(table.drop(columns="period_end"))
    plt.close("all")


def test_conditional_expectation_and_calibration_plots(setup):
    _, ch, bg = setup
    table = crm.clv.conditional_expectation_table(holdout_predictions(bg, ch))
    ax = crm.plot.conditional_expectation_plot(table)
    assert len(ax.get_lines()) == 3
    assert ax.get_xticklabels()[-1].get_text() == "7+"
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200)
    cal = crm.clv.alive_calibration_table(p, rng.uniform(size=200) < p, n_bins=4)
    ax = crm.plot.alive_calibration_plot(cal)
    np.testing.assert_allclose(ax.get_lines()[1].get_xdata(), cal["mean_predicted"])
    plt.close("all")


def test_alive_matrix_plot(setup):
    _, _, bg = setup
    ax = crm.plot.alive_matrix_plot(bg, T=39, max_frequency=10, n_recency=20)
    z = ax.collections[0].get_array().reshape(20, 11)
    assert np.all(z[:, 0] == 1)            # no repeat purchase: alive for BG/NBD
    assert z[0, 10] < z[-1, 10]            # frequent buyer silent since long ago is less likely alive
    with pytest.raises(ValueError, match="T must be a positive age"):
        crm.plot.alive_matrix_plot(bg, T=0)
    plt.close("all")
