"""Checks for ``exercises/solutions/17_key_accounts.ipynb`` (关键客户管理, 双赢谈判).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.accounts`,
:mod:`crmlab.pipeline` and :mod:`crmlab.negotiation`. Hints name the idea and the section of
notebook 17; they never give the code.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crmlab import accounts, negotiation, pipeline
from crmlab.check.compare import (
    assert_same_set,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
    passed,
    resolve_data,
)

__all__ = ["portfolio_quadrants", "big_but_not_key", "decision_makers_to_meet", "stage_conversion",
           "weighted_pipeline", "zopa_width", "smart_goal", "OBJECTIVES", "SELLER_COST_SHARE", "BUYER_CEILING_SHARE"]

#: The account-plan objectives the SMART exercise must serve.
OBJECTIVES = ("grow share of wallet", "reach the decision makers", "keep the account satisfied")
#: Negotiation exercise: our cost floor and the buyer's ceiling, as shares of list value.
SELLER_COST_SHARE = 0.62
BUYER_CEILING_SHARE = 0.95


def _as_series(answer, *, key: str, value: str, what: str) -> pd.Series:
    if isinstance(answer, Mapping):
        return pd.Series(dict(answer))
    if isinstance(answer, pd.DataFrame):
        if value in answer.columns:
            return answer.set_index(key)[value] if key in answer.columns else answer[value]
        if answer.shape[1] == 1:
            return answer.iloc[:, 0]
        fail(f"{what} is a table without a {value!r} column.", hint=f"Give a Series of {value} indexed by {key}.")
    return answer


def portfolio_quadrants(answer, data=None) -> None:
    """The portfolio quadrant of every account: a Series indexed by account_id."""
    data = resolve_data(data)
    expected = accounts.account_portfolio(data.accounts)["quadrant"]
    got = _as_series(answer, key="account_id", value="quadrant", what="your quadrants")
    if isinstance(got, pd.Series) and set(map(str, got.unique())) <= {"big", "small", "True", "False"}:
        fail("your quadrants only split accounts by current value.",
             hint="A quadrant crosses two axes: current value and attractiveness (potential × fit), "
                  "each cut at its median — notebook 17, section 2.")
    assert_series_matches(got, expected, what="your quadrants",
                          hint="Attractiveness is the potential estimate times fit (the 1–5 score divided by its "
                               "maximum); an account is attractive, or big, when it is above the median — notebook 17, "
                               "section 2.")
    passed("portfolio_quadrants")


def big_but_not_key(answer, data=None) -> None:
    """How many accounts are big today but not attractive (the 'maintain' quadrant)."""
    data = resolve_data(data)
    q = accounts.account_portfolio(data.accounts)["quadrant"]
    expected = int((q == "maintain").sum())
    if answer == int((q == "key").sum()):
        fail("you counted the accounts that are big and attractive.",
             hint="The question asks for big accounts that are NOT attractive — notebook 17, section 2.")
    assert_scalar_close(answer, expected, what="your count",
                        hint="Count accounts above the median of current value but not above the median of "
                             "attractiveness — notebook 17, section 2.")
    passed("big_but_not_key")


def decision_makers_to_meet(answer, data=None) -> None:
    """contact_id of every decision maker never met in an account of the 'key' quadrant."""
    data = resolve_data(data)
    q = accounts.account_portfolio(data.accounts)["quadrant"]
    key_ids = q.index[q == "key"]
    expected = accounts.uncovered_decision_makers(data.contacts, data.activities, accounts=key_ids)["contact_id"]
    every_account = accounts.uncovered_decision_makers(data.contacts, data.activities)["contact_id"]
    if isinstance(answer, (list, set, tuple, pd.Series, np.ndarray, pd.Index)) and set(answer) == set(every_account) \
            and set(every_account) != set(expected):
        fail("your list covers every account, not only the key ones.",
             hint="Keep the accounts of the 'key' quadrant from exercise 1 — notebook 17, section 4.")
    assert_same_set(answer, expected, what="your decision makers",
                    hint="A contact is met when it appears in data.activities; keep role 'decision_maker' and "
                         "accounts of the 'key' quadrant — notebook 17, section 4.")
    passed("decision_makers_to_meet")


def stage_conversion(answer, data=None) -> None:
    """Conversion of each open stage: a Series indexed by stage (lead, qualified, proposal, negotiation)."""
    data = resolve_data(data)
    expected = pipeline.stage_conversion(data.opportunity_stages)["conversion"]
    got = _as_series(answer, key="stage", value="conversion", what="your conversion")
    if isinstance(got, pd.Series) and set(got.index) == set(expected.index):
        # typical mistake: deals still open counted as failures
        entered = pipeline.stage_conversion(data.opportunity_stages)
        naive = entered["advanced"] / entered["entered"]
        if np.allclose(got.reindex(naive.index).astype(float), naive, rtol=1e-6) and not np.allclose(naive, expected):
            fail("you divided by every deal that entered the stage, so deals still open count as failures.",
                 hint="Divide by the deals whose fate at that stage is decided (moved on or lost) — notebook 17, "
                      "section 7.")
    assert_series_matches(got, expected, what="your conversion",
                          hint="For each stage: deals that reached the next stage (for negotiation: were won) over "
                               "deals that moved on or were lost from it — notebook 17, section 7.")
    passed("stage_conversion")


def weighted_pipeline(answer, data=None) -> None:
    """Value of the pipeline open at the end of the data, each deal weighted by its win probability."""
    data = resolve_data(data)
    wp = pipeline.win_probability_by_stage(pipeline.stage_conversion(data.opportunity_stages))
    expected = float(pipeline.weighted_forecast(data.opportunities, wp).loc["total", "weighted_value"])
    open_value = float(data.opportunities.loc[data.opportunities["stage"].isin(pipeline.STAGES), "list_value"].sum())
    if isinstance(answer, (int, float)) and np.isclose(answer, open_value):
        fail("your total is the unweighted open pipeline.",
             hint="Weight each open deal by the probability of winning from its stage — notebook 17, section 7.")
    assert_scalar_close(answer, expected, rtol=1e-6, what="your weighted pipeline",
                        hint="The win probability from a stage is the product of the conversions of that stage and "
                             "all later ones — notebook 17, section 7.")
    passed("weighted_pipeline")


def zopa_width(answer, data=None) -> None:
    """Width (CNY) of the zone of agreement for the largest open opportunity."""
    data = resolve_data(data)
    open_opp = data.opportunities[data.opportunities["stage"].isin(pipeline.STAGES)]
    if open_opp.empty:
        fail("this dataset has no open opportunity.", hint="Use a dataset with an open pipeline.")
    value = float(open_opp["list_value"].max())
    expected = float(negotiation.zopa(seller_reservation=SELLER_COST_SHARE * value,
                                      buyer_reservation=BUYER_CEILING_SHARE * value)["width"])
    judge(assert_scalar_close, answer, expected, what="your ZOPA width",
          mistakes=[("your width is a share of the list value: give it in CNY.",
                     BUYER_CEILING_SHARE - SELLER_COST_SHARE)],
                        hint="The zone runs from our reservation price to the buyer's, both as shares of the deal's "
                             "list value — notebook 17, section 8.")
    passed("zopa_width")


def smart_goal(answer, data=None) -> None:
    """A goal (dict) for the most attractive 'develop' account that passes all five SMART checks."""
    data = resolve_data(data)
    if not isinstance(answer, Mapping):
        fail("your goal is not a dict.", hint="Give a dict with account, metric, baseline, target, deadline and "
                                              "objective — notebook 17, section 3.")
    p = accounts.account_portfolio(data.accounts)
    develop = p[p["quadrant"] == "develop"].sort_values("attractiveness", ascending=False)
    if develop.empty:
        fail("this dataset has no 'develop' account.", hint="Use a dataset with a develop quadrant.")
    row = data.accounts.set_index("account_id").loc[develop.index[0]]
    if answer.get("account") != row["account_name"]:
        fail(f"the goal is for {answer.get('account')!r}, not for the most attractive develop account.",
             hint="Sort the 'develop' quadrant by attractiveness and take the first account's name.")
    try:
        res = accounts.check_smart_goal(answer, objectives=OBJECTIVES, potential=float(row["potential_estimate"]),
                                        start="2025-01-01")
    except (TypeError, ValueError) as exc:
        fail(f"your goal cannot be checked: {exc}", hint="Use the keys of notebook 17, section 3.")
    bad = res[~res["passed"]]
    if not bad.empty:
        first = bad.iloc[0]
        fail(f"the goal is not {first['criterion']}: {first['reason']}.", hint=f"SMART: {first['requirement']}.")
    if answer.get("metric") == "revenue" and isinstance(answer.get("baseline"), (int, float)) and \
            not np.isclose(answer["baseline"], row["revenue_last_year"], rtol=0.01):
        fail("the baseline is not the account's revenue of the last 12 months.",
             hint="A measurable goal starts from today's value of its metric.")
    passed("smart_goal")
