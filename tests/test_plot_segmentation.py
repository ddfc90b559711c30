"""Tests for the segmentation, value and lifecycle plots (crmlab.plot.segmentation / .lifecycle)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import crmlab as crm  # noqa: E402
from crmlab.segmentation import customer_pyramid, gini, profile_segments  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _heatmap_values(ax):
    return np.asarray(ax.collections[0].get_array()).ravel()


def test_functions_are_exported_through_crm_plot():
    for name in ("rfm_heatmap", "choose_k_plot", "segment_profile_plot", "lorenz_plot", "pyramid_plot",
                 "cohort_heatmap", "stage_flow_plot"):
        assert callable(getattr(crm.plot, name))


def test_rfm_heatmap_counts_and_values():
    s = pd.DataFrame({"R": [1, 2, 2, 3, 3, 3], "F": [1, 1, 1, 3, 3, 2], "monetary": [1.0, 2, 4, 6, 8, 10]})
    fig, ax = plt.subplots()
    assert crm.plot.rfm_heatmap(s, ax=ax) is ax
    expected = pd.crosstab(s["R"], s["F"]).sort_index(ascending=False).to_numpy().ravel()
    np.testing.assert_array_equal(_heatmap_values(ax), expected)
    ax2 = crm.plot.rfm_heatmap(s, value="monetary")
    means = s.pivot_table(index="R", columns="F", values="monetary").sort_index(ascending=False).to_numpy().ravel()
    np.testing.assert_allclose(np.ma.filled(_heatmap_values(ax2), np.nan), means)
    with pytest.raises(ValueError, match="has no column 'M'"):
        crm.plot.rfm_heatmap(s, value="M")


def test_lorenz_plot_reports_gini():
    values = [1, 2, 3, 10, 40]
    ax = crm.plot.lorenz_plot(values, label="spend")
    label = ax.get_legend_handles_labels()[1][0]
    assert label == f"spend: Gini = {gini(values):.2f}"
    line = ax.lines[0]
    assert line.get_ydata()[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="Pass value="):
        crm.plot.lorenz_plot(pd.DataFrame({"v": values}))
    df_ax = crm.plot.lorenz_plot(pd.DataFrame({"v": values}), value="v")
    np.testing.assert_allclose(df_ax.lines[0].get_ydata(), line.get_ydata())


def test_pyramid_plot_draws_one_bar_per_tier():
    pyr = customer_pyramid(np.arange(1, 21, dtype=float), cost_to_serve=np.ones(20))
    ax = crm.plot.pyramid_plot(pyr)
    assert len(ax.patches) == 3
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == pytest.approx(sorted(pyr["customer_share"]))
    assert any("of net value" in t.get_text() for t in ax.texts)


def test_profile_and_choose_k_plots():
    f = pd.DataFrame({"monetary": [10.0, 30.0, 60.0, 0.0], "frequency": [1, 3, 6, 0]})
    prof = profile_segments(f, ["a", "a", "b", "b"])
    ax = crm.plot.segment_profile_plot(prof)
    overall = f.mean()
    ratios = (prof[["monetary", "frequency"]] / overall).to_numpy().ravel()
    np.testing.assert_allclose(_heatmap_values(ax), ratios)
    table = pd.DataFrame({"inertia": [10.0, 6.0, 5.0], "silhouette": [0.3, 0.5, 0.4]}, index=pd.Index([2, 3, 4], name="k"))
    ax = crm.plot.choose_k_plot(table)
    assert list(ax.lines[0].get_xdata()) == [2, 3, 4]


def test_cohort_heatmap_and_stage_flow():
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3], "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20", "2024-02-03"])})
    table = crm.lifecycle.cohort_retention(tx)
    ax = crm.plot.cohort_heatmap(table)
    vals = np.ma.filled(_heatmap_values(ax).astype(float), np.nan)
    np.testing.assert_allclose(vals, table.to_numpy().ravel())
    stages = list(crm.lifecycle.STAGES)
    counts = pd.DataFrame(0, index=pd.Index(stages, name="from"), columns=pd.Index(stages, name="to"))
    counts.loc["new", "repeat"] = 3
    counts.loc["new", "lapsed"] = 1
    counts.loc["loyal", "loyal"] = 4
    ax = crm.plot.stage_flow_plot(counts)
    bars = [p for p in ax.patches if p.get_width() > 0]
    assert sorted(round(b.get_width(), 2) for b in bars) == [0.25, 0.75, 1.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["new (n=4)", "loyal (n=4)"]


def test_segment_share_plot_bars_are_the_profile_shares():
    # by hand: value 900 / 100 / 0 of 1000, customers 1 / 3 / 1 of 5; bars sorted by value share
    f = pd.DataFrame({"monetary": [900.0, 20.0, 30.0, 50.0, 0.0]})
    labels = ["重要价值客户", "一般挽留客户", "一般挽留客户", "一般挽留客户", "cluster x"]
    ax = crm.plot.segment_share_plot(profile_segments(f, labels, value_col="monetary"))
    red, grey = matplotlib.colors.to_rgb("tab:red"), matplotlib.colors.to_rgb("tab:grey")
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    assert [b.get_width() for b in bars if b.get_facecolor()[:3] == red] == pytest.approx([0.0, 0.1, 0.9])
    assert [b.get_width() for b in bars if b.get_facecolor()[:3] == grey] == pytest.approx([0.2, 0.6, 0.2])
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "cluster x", "一般挽留客户 general at-risk", "重要价值客户 important value"]
    with pytest.raises(ValueError, match="has no column 'value_share'"):
        crm.plot.segment_share_plot(pd.DataFrame({"share": [1.0]}))
