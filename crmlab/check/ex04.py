"""Checks for ``exercises/solutions/04_lifecycle.ipynb`` (客户生命周期, cohorts, stage transitions).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.lifecycle` and the
default stage rules (loyal from 5 orders, at risk after 90 days, lapsed after 180). Hints name
the idea and the section of notebook 04; they never give the code.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from crmlab import lifecycle
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
    passed,
    resolve_data,
)

__all__ = ["stages_end", "stage_counts", "transition_matrix", "cohort_table", "month3_retention",
           "first_purchase_delay"]

MID_YEAR = "2024-06-30"


def _stages(data) -> pd.Series:
    return lifecycle.lifecycle_stages(data.transactions, data.customers, observation_end=data.observation_end)["stage"]


def _cohorts(data) -> pd.DataFrame:
    return lifecycle.cohort_retention(data.transactions, period="M")


def stages_end(answer: Any, data: Any = None) -> None:
    """Lifecycle stage of every customer at the observation end."""
    data = resolve_data(data)
    expected = _stages(data).astype(str)
    if isinstance(answer, pd.DataFrame) and "stage" in answer.columns:
        answer = answer.set_index("customer_id")["stage"] if "customer_id" in answer.columns else answer["stage"]
    if isinstance(answer, pd.Series):
        answer = answer.astype(str)
        prospects = expected.index[expected == "prospect"]
        if len(prospects) and not answer.index.isin(prospects).any() and len(answer) < len(expected):
            fail("your stages leave out the prospects: customers who never bought are in the lifecycle too.",
                 "Every customer of the customer table gets a stage — notebook 04, section 1 (客户生命周期阶段).")
    judge(assert_series_matches, answer, expected, what="your stages",
          hint="Apply the rules in order: no order yet; the warning stages (at risk after 90 days without an "
               "order, lapsed after 180 days); then the number of orders — notebook 04, section 1 (客户生命周期阶段).")
    passed("stages_end")


def stage_counts(answer: Any, data: Any = None) -> None:
    """Number of customers in each stage at the observation end (indexed by stage)."""
    data = resolve_data(data)
    expected = _stages(data).value_counts().reindex(list(lifecycle.STAGES), fill_value=0)
    expected.index = pd.Index([str(s) for s in expected.index], name="stage")
    if isinstance(answer, pd.Series):
        answer = answer.set_axis(pd.Index([str(s) for s in answer.index], name="stage"))
    if isinstance(answer, pd.Series):
        missing = [s for s in expected.index if s not in answer.index and expected[s] == 0]
        if missing:  # value_counts leaves out a stage no one is in: that count is 0
            answer = pd.concat([answer, pd.Series(0, index=pd.Index(missing, name="stage"))])
    judge(assert_series_matches, answer, expected, what="your stage counts",
          mistakes=[("your counts are shares: give the number of customers in each stage.",
                     lambda: expected / expected.sum())],
          builds_on="exercise 1 (stages_end)",
          hint="Count the customers of each stage of exercise 1 — notebook 04, section 1 (客户生命周期阶段).")
    passed("stage_counts")


def transition_matrix(answer: Any, data: Any = None) -> None:
    """Row-share transition matrix from 2024-06-30 to the observation end."""
    data = resolve_data(data)
    expected = lifecycle.stage_transitions(data.transactions, data.customers, observation_start=MID_YEAR,
                                           observation_end=data.observation_end)
    if isinstance(answer, pd.DataFrame):
        answer = _complete(answer.rename(index=str, columns=str), expected)
    @functools.cache
    def counts():
        return lifecycle.stage_transitions(data.transactions, data.customers, observation_start=MID_YEAR,
                                           observation_end=data.observation_end, normalize=False)

    judge(assert_frame_matches, answer, expected, what="your transition matrix", atol=1e-9,
          mistakes=[("your matrix holds counts: divide each row by its total (row shares).", counts),
                    ("your matrix divides by column totals: each row (the stage on 2024-06-30) must sum to 1.",
                     lambda: counts() / counts().sum(axis=0).where(counts().sum(axis=0) > 0)),
                    ("your matrix is transposed: rows are the stage on 2024-06-30, columns the stage at the end.",
                     lambda: expected.T.rename_axis(index="from", columns="to"))],
          hint="Rows = stage on 2024-06-30, columns = stage at the end, each row divided by its total — "
               "notebook 04, section 4 (阶段迁移).")
    passed("transition_matrix")


def _complete(answer: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """Add what a cross-tabulation leaves out: columns no one moved to (all 0) and rows of stages no
    one was in on the start date (undefined shares); read an all-zero row of such a stage as undefined."""
    answer = answer.copy()
    for col in expected.columns:
        if col not in answer.columns and expected[col].fillna(0).eq(0).all():
            answer[col] = expected[col].reindex(answer.index).fillna(0.0)
    empty = [r for r in expected.index if expected.loc[r].isna().all()]
    for row in empty:
        if row not in answer.index or answer.loc[row].fillna(0).eq(0).all():
            answer.loc[row] = float("nan")
    return answer


def cohort_table(answer: Any, data: Any = None) -> None:
    """Monthly cohort retention table (shares)."""
    data = resolve_data(data)
    expected = _cohorts(data)
    expected.index = expected.index.astype(str)
    if isinstance(answer, pd.DataFrame):
        answer = answer.set_axis([str(i) for i in answer.index], axis=0)
        answer.index.name = "cohort"
    def counts():
        c = lifecycle.cohort_retention(data.transactions, period="M", normalize=False)
        return c.set_axis(c.index.astype(str), axis=0)

    judge(assert_frame_matches, answer, expected, what="your cohort table",
          mistakes=[("your table holds customer counts: divide each row by the size of its cohort (column 0).",
                     counts)],
          hint="Cohort = month of the first purchase; a cell is the share of the cohort that bought that many "
               "months later — notebook 04, section 5 (同期群分析).")
    passed("cohort_table")


def month3_retention(answer: Any, data: Any = None) -> None:
    """Mean share still buying 3 months after the first purchase, over the 2023 cohorts."""
    data = resolve_data(data)
    table = _cohorts(data)
    expected = table.loc[[p.year == 2023 for p in table.index], 3].mean()
    def weighted():
        counts = lifecycle.cohort_retention(data.transactions, period="M", normalize=False)
        rows = [p.year == 2023 for p in counts.index]
        return float(counts.loc[rows, 3].sum() / counts.loc[rows, 0].sum())

    judge(assert_scalar_close, answer, expected, what="your month-3 retention",
          mistakes=[("your average is weighted by cohort size: the exercise asks for the plain mean of the "
                     "twelve 2023 cohorts.", weighted),
                    ("your retention is a percentage: give a fraction between 0 and 1.", 100 * expected)],
          builds_on="exercise 4 (cohort_table)",
          hint="Average, unweighted, the month-3 share of the cohorts that started in 2023 — notebook 04, "
               "section 5 (同期群分析).")
    passed("month3_retention")


def first_purchase_delay(answer: Any, data: Any = None) -> None:
    """Median days (with fractions) from sign-up to the first purchase, over the customers who bought."""
    data = resolve_data(data)
    first = data.transactions.groupby("customer_id")["date"].min()
    signup = data.customers.set_index("customer_id")["signup_date"].reindex(first.index)
    delay = (first - signup).dt.total_seconds() / 86_400
    expected = float(delay.median())
    judge(assert_scalar_close, answer, expected, rtol=1e-3, what="your median delay",
          mistakes=[("your delay is the mean: a few customers wait months, which pulls the mean far above the "
                     "typical wait; give the median.", lambda: float(delay.mean())),
                    ("your delay is in hours: give days (with fractions).", 24 * expected),
                    ("your delay counts whole days only: a purchase a few hours after sign-up waited a fraction "
                     "of a day.", lambda: float((first.dt.normalize() - signup.dt.normalize()).dt.days.median())),
                    ("your delay runs to the last purchase: the wait ends at the first one.",
                     lambda: float(((data.transactions.groupby("customer_id")["date"].max() - signup)
                                    .dt.total_seconds() / 86_400).median()))],
          hint="Per buyer, the time from signing up to the first order, in days; prospects have no first order "
               "yet and stay out. A skewed wait is summarised by its median — notebook 04, section 4 (阶段迁移).")
    passed("first_purchase_delay")
