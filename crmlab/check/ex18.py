"""Checks for ``exercises/solutions/18_crm_systems.ipynb`` (CRM系统, 选型与实施, 复盘).

The selection inputs (stakeholder ratings, vendor scores, cost options) are defined here, once:
the setup cell reads them with :func:`inputs`, and every check recomputes from this copy, so
editing them in the notebook cannot change a verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import profile, systems
from crmlab.check.compare import assert_scalar_close, assert_series_matches, fail, judge, passed, resolve_data

__all__ = ["inputs", "requirement_weights", "winning_vendor", "smallest_weight_change", "saas_tco",
           "cheaper_at_12_percent", "migration_hours", "campaign_gap", "GOAL_POINTS"]

#: The campaign's planned repurchase uplift, in percentage points.
GOAL_POINTS = 5.0
_REQUIREMENTS = ["pipeline & accounts", "service desk", "campaigns & consent", "analytics & data access",
                 "security & integration", "total cost"]


def inputs() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The exercise's stakeholder ratings, vendor scores and cost options (fresh copies)."""
    ratings = pd.DataFrame({"sales": [5, 3, 3, 2, 1, 2], "service": [2, 5, 2, 3, 2, 2],
                            "marketing": [2, 2, 5, 4, 2, 1], "it": [1, 2, 2, 4, 5, 3],
                            "finance": [1, 1, 2, 2, 3, 5]}, index=_REQUIREMENTS)
    scores = pd.DataFrame({"suite": [5, 4, 4, 3, 4, 2], "cloud": [4, 3, 4, 4, 3, 4], "budget": [3, 3, 2, 2, 3, 5]},
                          index=_REQUIREMENTS)
    options = {"on-premise": {"upfront": 2_000_000, "annual": 300_000},
               "SaaS": {"upfront": 300_000, "annual": [700_000, 720_000, 740_000, 760_000, 780_000]}}
    return ratings, scores, options


def _weights() -> pd.Series:
    ratings, _, _ = inputs()
    return systems.stakeholder_weights(ratings)


def requirement_weights(answer, data=None) -> None:
    """Stakeholder weights of the requirements: a Series indexed by requirement, summing to 1."""
    ratings, _, _ = inputs()
    expected = systems.stakeholder_weights(ratings)
    if isinstance(answer, pd.Series) and np.allclose(answer.reindex(expected.index).astype(float),
                                                     ratings.sum(axis=1) / ratings.to_numpy().sum()):
        fail("you pooled all ratings, so a stakeholder who gives high numbers everywhere gets more say.",
             hint="Normalise each stakeholder's ratings to sum to 1 first (one vote each) — notebook 18, section 3.")
    assert_series_matches(answer, expected, what="your weights",
                          hint="Each stakeholder's column sums to 1, then average across stakeholders — notebook 18, "
                               "section 3.")
    passed("requirement_weights")


def winning_vendor(answer, data=None) -> None:
    """The vendor with the highest weighted score (a string)."""
    _, scores, _ = inputs()
    expected = systems.decision_matrix(scores, _weights()).index[0]
    unweighted = scores.mean().idxmax()
    if answer == unweighted and unweighted != expected:
        fail("that vendor wins on the unweighted average.",
             hint="Weight each requirement by the stakeholder weights — notebook 18, section 3.")
    assert_scalar_close(answer, expected, what="your winner",
                        hint="Sum weight × score over the requirements for each vendor — notebook 18, section 3.")
    passed("winning_vendor")


def smallest_weight_change(answer, data=None) -> None:
    """The smallest absolute change of a single weight that changes the winner."""
    _, scores, _ = inputs()
    sens = systems.weight_sensitivity(scores, _weights())
    expected = float(sens["change_needed"].abs().min())
    judge(assert_scalar_close, answer, expected, rtol=1e-4, what="your smallest change",
          mistakes=[("your change is the most negative one: the smallest change is the smallest in absolute value.",
                     lambda: float(sens["change_needed"].min()))],
                        hint="Move one weight while the others keep their proportions; each vendor's total is then "
                             "a straight line in that weight — notebook 18, section 3.")
    passed("smallest_weight_change")


def saas_tco(answer, data=None) -> None:
    """Five-year total cost of ownership of the SaaS option at an 8 % discount rate (present value)."""
    _, _, options = inputs()
    expected = float(systems.total_cost_of_ownership(options, years=5, discount_rate=0.08).loc["SaaS", "tco"])
    undiscounted = float(systems.total_cost_of_ownership(options, years=5, discount_rate=0.0).loc["SaaS", "tco"])
    if isinstance(answer, (int, float)) and np.isclose(answer, undiscounted):
        fail("you added the costs without discounting them.",
             hint="A cost paid in year t is worth cost / (1 + r)^t today — notebook 18, section 3.")
    assert_scalar_close(answer, expected, rtol=1e-6, what="your TCO",
                        hint="Upfront cost now, each yearly cost at the end of its year, discounted — notebook 18, "
                             "section 3.")
    passed("saas_tco")


def cheaper_at_12_percent(answer, data=None) -> None:
    """Which option ('on-premise' or 'SaaS') has the lower five-year TCO at a 12 % discount rate."""
    _, _, options = inputs()
    expected = systems.total_cost_of_ownership(options, years=5, discount_rate=0.12)["tco"].idxmin()
    if isinstance(answer, str) and answer != expected and answer in options and \
            answer == systems.total_cost_of_ownership(options, years=5, discount_rate=0.08)["tco"].idxmin():
        fail("that option is the cheaper one at 8 %: at 12 % later costs weigh less, and the ranking changes.",
             hint="Compute both TCOs at 12 % and compare — notebook 18, section 3.")
    assert_scalar_close(answer, expected, what="your cheaper option",
                        hint="Compute both TCOs at 12 % and compare — notebook 18, section 3.")
    passed("cheaper_at_12_percent")


def migration_hours(answer, data=None) -> None:
    """Hours to migrate the online shop's extract: 2 h per column plus 0.05 h per problem value."""
    data = resolve_data(data)
    _, online = profile.source_extracts(data)
    report = profile.quality_report(online, key="customer_id")
    expected = float(systems.migration_effort(report, hours_per_issue=0.05, hours_per_column=2.0).loc["total", "hours"])
    judge(assert_scalar_close, answer, expected, rtol=1e-6, what="your migration hours",
          mistakes=[("your hours count the columns only: add 0.05 h per problem value of the quality report.",
                     lambda: float(systems.migration_effort(report, hours_per_issue=0.0, hours_per_column=2.0)
                                   .loc["total", "hours"]))],
                        hint="Start from the data-quality report of the online shop's extract (notebook 01); count "
                             "missing values and duplicate keys as problems — notebook 18, section 3.")
    passed("migration_hours")


def campaign_gap(answer, data=None) -> None:
    """The 复盘 gap of the July campaign: observed repurchase uplift (points) minus the 5-point goal."""
    data = resolve_data(data)
    camp, tx = data.campaigns, data.transactions
    after = tx[tx["date"] >= pd.Timestamp(camp["campaign_date"].min())].groupby("customer_id").size()
    bought = camp["customer_id"].map(after).fillna(0) > 0
    rates = bought.groupby(camp["treated"]).mean()
    observed = 100 * (rates[True] - rates[False])
    expected = observed - GOAL_POINTS
    if isinstance(answer, (int, float)) and np.isclose(answer, observed - GOAL_POINTS / 100):
        fail("you mixed units: the uplift is in points (percentage points), like the goal.",
             hint="Multiply the difference of shares by 100 before subtracting the 5-point goal.")
    assert_scalar_close(answer, expected, rtol=1e-6, atol=1e-9, what="your gap",
                        hint="Share of treated customers who bought again after the campaign date minus the share of "
                             "control customers, in points, minus the goal — notebook 18, section 5.")
    passed("campaign_gap")
