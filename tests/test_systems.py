"""CRM system selection and review: hand-worked examples and brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as crm
from crmlab import systems


def _scores():
    return pd.DataFrame({"A": [4.0, 3.0, 5.0], "B": [3.0, 5.0, 3.0], "C": [5.0, 2.0, 2.0]},
                        index=["fit", "cost", "support"])


def test_stakeholder_weights_give_each_stakeholder_one_vote():
    r = pd.DataFrame({"sales": [3, 1, 0], "it": [1, 1, 2]}, index=["fit", "cost", "support"])
    w = systems.stakeholder_weights(r)
    np.testing.assert_allclose(w, [(0.75 + 0.25) / 2, (0.25 + 0.25) / 2, (0 + 0.5) / 2])
    with pytest.raises(ValueError, match="rated everything 0"):
        systems.stakeholder_weights(r.assign(it=0))


def test_decision_matrix_hand_worked():
    dm = systems.decision_matrix(_scores(), {"fit": 2, "cost": 1, "support": 1})   # normalised to .5 .25 .25
    assert dm.index.tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(dm["total"], [4.0, 3.5, 3.5])
    assert dm["rank"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="same criteria"):
        systems.decision_matrix(_scores(), {"fit": 1, "cost": 1})
    with pytest.raises(ValueError, match="numbers"):
        systems.decision_matrix(_scores().astype(object).assign(A=["x", 1, 1]), {"fit": 1, "cost": 1, "support": 1})


def test_weight_sensitivity_matches_a_fine_grid():
    scores, weights = _scores(), pd.Series({"fit": 0.5, "cost": 0.25, "support": 0.25})
    sens = systems.weight_sensitivity(scores, weights)
    winner = sens.attrs["winner"]
    assert winner == "A"
    S = scores.to_numpy()
    xs = np.linspace(0, 1, 100_001)
    for i, c in enumerate(scores.index):
        rest = (weights.drop(c) / weights.drop(c).sum()).reindex(scores.index).fillna(0).to_numpy()
        W = np.outer(1 - xs, rest)
        W[:, i] = xs
        totals = W @ S                                   # grid point x vendor
        win = scores.columns.get_loc(winner)
        others = np.delete(totals, win, axis=1).max(axis=1)
        flips = xs[others > totals[:, win] + 1e-12] - weights[c]
        if flips.size:
            closest = flips[np.argmin(np.abs(flips))]
            assert sens.loc[c, "change_needed"] == pytest.approx(closest, abs=2e-5)
            # robust <=> no flip within +-tolerance on the grid
            flips_within = np.abs(flips) <= sens.attrs["tolerance"]
            assert sens.loc[c, "robust"] == (not flips_within.any())
        else:
            assert sens.loc[c, "robust"] and np.isnan(sens.loc[c, "change_needed"])


def test_weight_sensitivity_robustness_hand_worked():
    # A scores 4 on both criteria (total 4 whatever the weights); B's total is 1 + 4 * w_a.
    # With w_a = 0.1, B overtakes only when w_a > 0.75: a change of +0.65 (and -0.65 for w_b).
    scores = pd.DataFrame({"A": [4.0, 4.0], "B": [5.0, 1.0]}, index=["a", "b"])
    sens = systems.weight_sensitivity(scores, {"a": 0.1, "b": 0.9})
    assert sens.attrs["winner"] == "A" and sens.attrs["tolerance"] == 0.10
    np.testing.assert_allclose(sens["change_needed"], [0.65, -0.65])
    assert sens["robust"].tolist() == [True, True]           # 65 points needed: robust at 10
    loose = systems.weight_sensitivity(scores, {"a": 0.1, "b": 0.9}, tolerance=0.7)
    assert loose["robust"].tolist() == [False, False]        # ... but not if weights may move 70 points
    # The two-criterion example of the docstring: 1/30 of weight flips the winner.
    close = pd.DataFrame({"A": [4.0, 3.0], "B": [3.0, 5.0]}, index=["fit", "cost"])
    sens = systems.weight_sensitivity(close, {"fit": 0.7, "cost": 0.3})
    np.testing.assert_allclose(sens["change_needed"], [2 / 3 - 0.7, 1 / 3 - 0.3])
    assert not sens["robust"].any()
    assert systems.weight_sensitivity(close, {"fit": 0.7, "cost": 0.3}, tolerance=0.03)["robust"].all()


@pytest.mark.parametrize("tolerance, error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                              ("0.1", TypeError), (True, TypeError)])
def test_weight_sensitivity_rejects_bad_tolerance(tolerance, error):
    with pytest.raises(error, match="tolerance"):
        systems.weight_sensitivity(_scores(), {"fit": 1, "cost": 1, "support": 1}, tolerance=tolerance)


def test_tco_discounting_hand_worked():
    tco = systems.total_cost_of_ownership(
        {"on_premise": {"upfront": 500.0, "annual": 60.0}, "saas": {"upfront": 80.0, "annual": [150, 150, 160]}},
        years=3, discount_rate=0.1)
    assert tco.loc["on_premise", "tco"] == pytest.approx(500 + 60 / 1.1 + 60 / 1.21 + 60 / 1.331)
    assert tco.loc["saas", "tco"] == pytest.approx(80 + 150 / 1.1 + 150 / 1.21 + 160 / 1.331)
    with pytest.raises(ValueError, match="one value per year"):
        systems.total_cost_of_ownership({"x": {"upfront": 1, "annual": [1, 2]}}, years=3)
    with pytest.raises(ValueError, match="non-negative"):
        systems.total_cost_of_ownership({"x": {"upfront": -1, "annual": 1}})
    with pytest.raises(ValueError, match="at most 100"):
        systems.total_cost_of_ownership({"x": {"upfront": 1, "annual": 1}}, years=10**9)


def test_migration_effort_from_quality_report():
    data = crm.load_retail()
    report = crm.profile.quality_report(data.customers, key="customer_id")
    effort = systems.migration_effort(report, hours_per_issue=0.1, hours_per_column=2.0)
    n_cols = data.customers.shape[1]
    missing = int(data.customers.isna().sum().sum())
    assert effort.loc["total", "hours"] == pytest.approx(2.0 * n_cols + 0.1 * missing)


def test_after_action_review_signs_gaps_by_direction():
    g = pd.DataFrame({"metric": ["retained", "cost", "nps"], "target": [0.8, 100.0, 0.0],
                      "actual": [0.75, 90.0, 5.0], "direction": ["higher", "lower", "higher"],
                      "lesson": ["offer too small", "", ""]})
    r = systems.after_action_review(g)
    np.testing.assert_allclose(r["gap"], [-0.05, 10.0, 5.0])
    assert r["met"].tolist() == [False, True, True]
    assert np.isnan(r.loc[2, "gap_share"]) and "lesson" in r.columns
    with pytest.raises(ValueError, match="'higher' or 'lower'"):
        systems.after_action_review(g.assign(direction="up"))
