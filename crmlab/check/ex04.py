"""Checks for ``exercises/solutions/04_lifecycle.ipynb`` (客户生命周期, cohorts, stage transitions).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.lifecycle` and the
default stage rules (loyal from 5 orders, at risk after 90 days, lapsed after 180).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab import lifecycle
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = ["stages_end", "stage_counts", "transition_matrix", "cohort_table", "month3_retention"]

MID_YEAR = "2024-06-30"


def _stages(data) -> pd.Series:
    return lifecycle.lifecycle_stages(data.transactions, data.customers, observation_end=data.observation_end)["stage"]


def _cohorts(data) -> pd.DataFrame:
    return lifecycle.cohort_retention(data.transactions, period="M")


def stages_end(answer: Any, data: Any = None) -> None:
    """Lifecycle stage of every customer at the observation end."""
    data = resolve_data(data)
    expected = _stages(data).astype(str)
    if isinstance(answer, pd.Series):
        answer = answer.astype(str)
    assert_series_matches(answer, expected, what="your stages",
                          hint="Rules in order: no order yet = prospect; last order > 180 days ago = lapsed; "
                               "> 90 days = at_risk; 5+ orders = loyal; 2+ = repeat; else new. "
                               "crm.lifecycle.lifecycle_stages(data.transactions, data.customers, "
                               "observation_end=data.observation_end).")
    passed("stages_end")


def stage_counts(answer: Any, data: Any = None) -> None:
    """Number of customers in each stage at the observation end (indexed by stage)."""
    data = resolve_data(data)
    expected = _stages(data).value_counts().reindex(list(lifecycle.STAGES), fill_value=0)
    expected.index = pd.Index([str(s) for s in expected.index], name="stage")
    if isinstance(answer, pd.Series):
        answer = answer.set_axis(pd.Index([str(s) for s in answer.index], name="stage"))
    assert_series_matches(answer, expected, what="your stage counts",
                          hint="value_counts() of the stage column, one entry per stage.")
    passed("stage_counts")


def transition_matrix(answer: Any, data: Any = None) -> None:
    """Row-share transition matrix from 2024-06-30 to the observation end."""
    data = resolve_data(data)
    expected = lifecycle.stage_transitions(data.transactions, data.customers, observation_start=MID_YEAR,
                                           observation_end=data.observation_end)
    if isinstance(answer, pd.DataFrame):
        answer = answer.rename(index=str, columns=str)
    assert_frame_matches(answer, expected, what="your transition matrix", atol=1e-9,
                         hint="Rows = stage on 2024-06-30, columns = stage at the end, each row divided by its "
                              "total: crm.lifecycle.stage_transitions(..., observation_start='2024-06-30', "
                              "observation_end=data.observation_end).")
    passed("transition_matrix")


def cohort_table(answer: Any, data: Any = None) -> None:
    """Monthly cohort retention table (shares)."""
    data = resolve_data(data)
    expected = _cohorts(data)
    expected.index = expected.index.astype(str)
    if isinstance(answer, pd.DataFrame):
        answer = answer.set_axis([str(i) for i in answer.index], axis=0)
        answer.index.name = "cohort"
    assert_frame_matches(answer, expected, what="your cohort table",
                         hint="Cohort = month of the first purchase; a cell is the share of the cohort that "
                              "bought in that many months later. crm.lifecycle.cohort_retention(data.transactions).")
    passed("cohort_table")


def month3_retention(answer: Any, data: Any = None) -> None:
    """Mean share still buying 3 months after the first purchase, over the 2023 cohorts."""
    data = resolve_data(data)
    table = _cohorts(data)
    expected = table.loc[[p.year == 2023 for p in table.index], 3].mean()
    assert_scalar_close(answer, expected, what="your month-3 retention",
                        hint="Take column 3 of the monthly cohort table for the cohorts of 2023 "
                             "(twelve rows) and average it (unweighted).")
    passed("month3_retention")
