"""Exercise checks 17 and 18: the reference answer passes, typical mistakes fail with a pointer."""

from __future__ import annotations

import pytest

import crmlab as crm
from crmlab.check import ex17, ex18


@pytest.fixture(scope="module")
def data():
    return crm.synth.generate(n_customers=300, seed=7)    # a student's own dataset, not the shipped one


def _quadrants(data):
    return crm.accounts.account_portfolio(data.accounts)["quadrant"]


def test_ex17_reference_answers_pass(data, capsys):
    q = _quadrants(data)
    ex17.portfolio_quadrants(q, data)
    ex17.portfolio_quadrants(q.to_dict(), data)                    # a dict is a correct form too
    ex17.big_but_not_key(int((q == "maintain").sum()), data)
    to_meet = crm.accounts.uncovered_decision_makers(data.contacts, data.activities, accounts=q.index[q == "key"])
    ex17.decision_makers_to_meet(set(to_meet["contact_id"]), data)
    conv = crm.pipeline.stage_conversion(data.opportunity_stages)
    ex17.stage_conversion(conv["conversion"], data)
    ex17.stage_conversion(conv[["conversion"]], data)                # a one-column table is accepted
    assert capsys.readouterr().out.count("correct") == 6


def test_ex17_typical_mistakes_fail_with_the_idea(data):
    q = _quadrants(data)
    with pytest.raises(AssertionError, match="big and attractive"):
        ex17.big_but_not_key(int((q == "key").sum()), data)
    every = crm.accounts.uncovered_decision_makers(data.contacts, data.activities)["contact_id"].tolist()
    with pytest.raises(AssertionError, match="every account"):
        ex17.decision_makers_to_meet(every, data)
    conv = crm.pipeline.stage_conversion(data.opportunity_stages)
    with pytest.raises(AssertionError, match="still open count as failures"):
        ex17.stage_conversion(conv["advanced"] / conv["entered"], data)
    open_value = data.opportunities.loc[data.opportunities["stage"].isin(crm.pipeline.STAGES), "list_value"].sum()
    with pytest.raises(AssertionError, match="unweighted"):
        ex17.weighted_pipeline(float(open_value), data)
    with pytest.raises(AssertionError, match="not a dict"):
        ex17.smart_goal("grow revenue", data)


def test_ex17_smart_goal_reports_the_failing_criterion(data):
    p = crm.accounts.account_portfolio(data.accounts)
    best = p[p["quadrant"] == "develop"].sort_values("attractiveness", ascending=False).index[0]
    row = data.accounts.set_index("account_id").loc[best]
    goal = {"account": row["account_name"], "metric": "revenue", "baseline": float(row["revenue_last_year"]),
            "target": float(1.2 * row["revenue_last_year"]), "deadline": "2025-12-31",
            "objective": "grow share of wallet"}
    ex17.smart_goal(goal, data)
    with pytest.raises(AssertionError, match="not time_bound"):
        ex17.smart_goal({**goal, "deadline": "2031-01-01"}, data)
    with pytest.raises(AssertionError, match="not relevant"):
        ex17.smart_goal({**goal, "objective": "be great"}, data)


def test_ex18_reference_answers_pass_and_inputs_cannot_be_edited(data, capsys):
    ratings, scores, options = ex18.inputs()
    ratings.iloc[:, :] = 1                 # editing the notebook's copy changes nothing
    ratings, scores, options = ex18.inputs()
    w = crm.systems.stakeholder_weights(ratings)
    ex18.requirement_weights(w, data)
    ex18.winning_vendor(crm.systems.decision_matrix(scores, w).index[0], data)
    ex18.smallest_weight_change(crm.systems.weight_sensitivity(scores, w)["change_needed"].abs().min(), data)
    ex18.saas_tco(crm.systems.total_cost_of_ownership(options, discount_rate=0.08).loc["SaaS", "tco"], data)
    assert capsys.readouterr().out.count("correct") == 4


def test_ex18_typical_mistakes(data):
    ratings, scores, options = ex18.inputs()
    pooled = ratings.sum(axis=1) / ratings.to_numpy().sum()
    with pytest.raises(AssertionError, match="one vote"):
        ex18.requirement_weights(pooled, data)
    undiscounted = crm.systems.total_cost_of_ownership(options, discount_rate=0.0).loc["SaaS", "tco"]
    with pytest.raises(AssertionError, match="without discounting"):
        ex18.saas_tco(float(undiscounted), data)


@pytest.mark.parametrize("module, notebook", [(ex17, "17_key_accounts"), (ex18, "18_crm_systems")])
def test_hints_never_contain_solution_code(module, notebook):
    import inspect
    import pathlib

    import nbformat

    root = pathlib.Path(__file__).resolve().parents[1]
    nb = nbformat.read(root / "exercises" / "solutions" / f"{notebook}.ipynb", 4)
    lines = {line.strip() for c in nb.cells if any(t.startswith("solution:") for t in c.metadata.get("tags", []))
             for line in c.source.splitlines() if len(line.strip()) > 12 and not line.startswith("###")}
    source = inspect.getsource(module)
    assert not [line for line in lines if line in source]
