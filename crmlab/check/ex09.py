"""Checks for ``exercises/solutions/09_churn_early_warning.ipynb`` (客户流失预警, 流失原因).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.churn`. Hints name the
idea and the section of notebook 09; they never give the code. Exercises 3-5 build on the labels
of exercise 1 and the recency of exercise 2.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab import churn
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    judge,
    passed,
    resolve_data,
)

__all__ = [
    "CUTOFF", "HORIZON_DAYS", "ACTIVE_DAYS", "VALUE", "CONTACT_COST", "OFFER_COST", "ACCEPT_RATE",
    "churn_label", "recency_at_cutoff", "lift_by_quintile", "best_number_to_contact", "complaint_rates",
    "brier_of_recency_model",
]

CUTOFF = "2024-06-30"
"""Last day of the known history."""
HORIZON_DAYS = 90
"""Churned = no purchase in this many days after the cutoff."""
ACTIVE_DAYS = 180
"""Population: customers with a purchase in this many days up to the cutoff."""
VALUE, CONTACT_COST, OFFER_COST, ACCEPT_RATE = 100.0, 5.0, 20.0, 0.3
"""Economics of the retention offer in the profit exercise."""


def _labels(data) -> pd.Series:
    return churn.churn_labels(data, cutoff=CUTOFF, horizon_days=HORIZON_DAYS, active_days=ACTIVE_DAYS)["churned"]


def _recency_score(data) -> pd.Series:
    r = churn.churn_features(data, cutoff=CUTOFF, active_days=ACTIVE_DAYS)["recency_days"]
    return r / r.max()


def churn_label(answer: Any, data: Any = None) -> None:
    """True/False per active customer (indexed by customer_id): no purchase in the window."""
    data = resolve_data(data)
    expected = _labels(data)
    if isinstance(answer, pd.Series) and answer.dtype != bool:
        answer = answer.astype(bool) if set(pd.unique(answer)) <= {0, 1} else answer
    judge(assert_series_matches, answer, expected, what="your churn labels",
          mistakes=[("your labels are reversed: True means churned (no purchase in the window).", lambda: ~expected)],
          hint="Population: customers who bought in the 180 days up to the end of the cutoff day; churned: no "
               "purchase in the 90 days after it. A purchase later on the cutoff day is still before the cutoff — "
               "notebook 09, section 1 (流失的定义).")
    passed("churn_label")


def recency_at_cutoff(answer: Any, data: Any = None) -> None:
    """Whole days from the day of each active customer's last purchase to the cutoff day."""
    data = resolve_data(data)
    expected = churn.churn_features(data, cutoff=CUTOFF, active_days=ACTIVE_DAYS)["recency_days"]
    def with_future():
        last = data.transactions.groupby("customer_id")["date"].max().dt.normalize()
        return (pd.Timestamp(CUTOFF) - last).dt.days.reindex(expected.index)

    judge(assert_series_matches, answer, expected, rtol=1e-6, what="your recency",
          mistakes=[("your recency uses purchases after the cutoff: that is leakage — only the history up to the "
                     "cutoff day is known.", with_future),
                    ("your recency is one day too long: it counts to the midnight after the cutoff; count whole "
                     "days to the cutoff day itself.", lambda: expected + 1)],
          builds_on="exercise 1 (churn_label)",
          hint="Whole days from the day of the last purchase up to the cutoff day (0 = bought on the cutoff day), "
               "using only what was known then — notebook 09, section 2 (时点特征).")
    passed("recency_at_cutoff")


def lift_by_quintile(answer: Any, data: Any = None) -> None:
    """Lift table with 5 groups for the score ``recency_days / max recency``."""
    data = resolve_data(data)
    y = _labels(data)
    expected = churn.lift_table(y.astype(int), _recency_score(data).loc[y.index], bins=5)
    cols = ["decile", "customers", "churners", "rate", "lift", "cumulative_gain"]
    if isinstance(answer, pd.DataFrame):
        missing = [c for c in cols if c not in answer.columns]
        if not missing:
            answer = answer[cols]
    judge(assert_frame_matches, answer, expected[cols], key="decile", what="your lift table",
          mistakes=[("your groups run from the lowest score: group 1 holds the highest scores.",
                     lambda: churn.lift_table(y.astype(int), 1 - _recency_score(data).loc[y.index], bins=5)[cols])],
          builds_on="exercises 1 and 2 (churn_label, recency_at_cutoff)",
          hint="Rank customers by score, highest first, in 5 equal groups; lift = group churn rate / overall churn "
               "rate; cumulative gain = churners so far / all churners — notebook 09, section 5 (提升度与累计增益).")
    passed("lift_by_quintile")


def best_number_to_contact(answer: Any, data: Any = None) -> None:
    """Number of customers (highest recency score first) that maximises the campaign profit."""
    data = resolve_data(data)
    y = _labels(data)
    curve = churn.profit_curve(y.astype(int), _recency_score(data).loc[y.index], value=VALUE,
                               contact_cost=CONTACT_COST, offer_cost=OFFER_COST, accept_rate=ACCEPT_RATE)
    expected = int(curve.loc[curve["profit"].idxmax(), "contacted"])
    every = len(y)
    judge(assert_scalar_close, answer, expected, rtol=0, atol=0.5, what="your number of customers to contact",
          mistakes=[("you contact everyone: the profit peaks before that, where the next customer costs more than "
                     "they bring.", every),
                    ("your number is a share of the customers: give a number of customers.", expected / every)],
          builds_on="exercises 1 and 2 (churn_label, recency_at_cutoff)",
          hint="Rank by score and add the expected profit of each contact (a churner who accepts the offer brings "
               "value minus costs; everyone contacted costs the contact) until the running total peaks — "
               "notebook 09, section 7 (成本收益阈值).")
    passed("best_number_to_contact")


def complaint_rates(answer: Any, data: Any = None) -> None:
    """Complaints per 100 orders (before the cutoff) of churners and of stayers: Series churners/stayers."""
    data = resolve_data(data)
    prof = churn.complaint_profile(data, _labels(data), cutoff=CUTOFF).set_index("category")
    expected = pd.Series({"churners": prof.loc["all", "churners_rate"], "stayers": prof.loc["all", "stayers_rate"]})
    if isinstance(answer, dict):
        answer = pd.Series(answer)
    judge(assert_series_matches, answer, expected, what="your complaint rates",
          mistakes=[("your rates are per order, not per 100 orders.", lambda: expected / 100),
                    ("your rates are swapped: the churners' rate goes under 'churners'.",
                     lambda: pd.Series({"churners": expected["stayers"], "stayers": expected["churners"]}))],
          builds_on="exercise 1 (churn_label)",
          hint="Per group: its customers' complaints filed before the cutoff over their orders before the cutoff, "
               "per 100 orders — notebook 09, section 8 (流失原因).")
    passed("complaint_rates")




def _recency_probability(data) -> tuple[pd.Series, pd.Series]:
    """Labels and in-sample churn probabilities of a logistic regression on recency alone."""
    from sklearn.linear_model import LogisticRegression

    y = _labels(data).astype(int)
    r = churn.churn_features(data, cutoff=CUTOFF, active_days=ACTIVE_DAYS)["recency_days"].reindex(y.index)
    model = LogisticRegression().fit(r.to_frame().to_numpy(dtype=float), y.to_numpy())
    return y, pd.Series(model.predict_proba(r.to_frame().to_numpy(dtype=float))[:, 1], index=y.index)


def brier_of_recency_model(answer: Any, data: Any = None) -> None:
    """Brier score of the churn probabilities of a logistic regression on recency (fitted on all customers)."""
    data = resolve_data(data)
    y, p = _recency_probability(data)
    table = churn.brier_score(y, p)
    expected = float(table["brier"].iloc[0])
    judge(assert_scalar_close, answer, expected, rtol=1e-3, what="your Brier score",
          mistakes=[("your Brier score is that of the raw score recency / max: it ranks customers but is not a "
                     "probability; score the model's predicted probabilities.",
                     lambda: float(churn.brier_score(y, _recency_score(data).reindex(y.index))["brier"].iloc[0])),
                    ("your number is the reference score of predicting the churn rate for everyone: the exercise "
                     "asks for the model's own score.", lambda: float(table["reference"].iloc[0])),
                    ("your number is the skill score (1 - Brier / reference): the exercise asks for the Brier "
                     "score itself.", lambda: float(table["skill"].iloc[0])),
                    ("your number is the root of the Brier score: the score is the mean squared difference, "
                     "without a square root.", expected ** 0.5)],
          builds_on="exercise 2 (recency_at_cutoff)",
          hint="The Brier score is the mean squared difference between each predicted probability and the 0/1 "
               "label; lower is better, and it punishes probabilities that are too high or too low even when the "
               "ranking is right — notebook 09, section 6 (概率校准).")
    passed("brier_of_recency_model")
