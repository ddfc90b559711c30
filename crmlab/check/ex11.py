"""Checks for ``exercises/solutions/11_retention_and_winback.ipynb`` (挽留策略, 挽回流失客户).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.uplift`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crmlab import segmentation, uplift
from crmlab.check.compare import (
    assert_same_set,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

__all__ = [
    "HORIZON_DAYS", "ACTIVE_DAYS", "FEATURES", "MARGIN", "uplift_model",
    "average_effect", "predicted_uplift", "qini", "contact_list", "true_profit",
]

HORIZON_DAYS = 60
"""Retained = a purchase in the last 60 days of the data."""
ACTIVE_DAYS = 365
"""Campaign customers who bought in the year before the campaign."""
FEATURES = ["recency_days", "n_orders", "n_orders_last_90d", "spend_last_90d", "tenure_days",
            "mean_order_value", "visits_last_90d", "discount_share"]
"""Features of the uplift model."""
MARGIN = 0.5
"""Value at risk = a year of spend (annualised, at least 90 days of tenure) x MARGIN."""


def uplift_model():
    """The classifier used in the exercises: standardised logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression())


def _table(data) -> pd.DataFrame:
    return uplift.campaign_table(data, horizon_days=HORIZON_DAYS, active_days=ACTIVE_DAYS)


def _uplift(data, tab) -> pd.Series:
    m = uplift.TwoModelUplift(uplift_model()).fit(tab[FEATURES], tab["treated"], tab["retained"])
    return pd.Series(m.predict(tab[FEATURES]), index=tab.index)


def _value(tab) -> pd.Series:
    return tab["total_spend"] / np.maximum(tab["tenure_days"], 90) * 365 * MARGIN


def _plan(data, tab) -> pd.DataFrame:
    value = _value(tab)
    tier = segmentation.pyramid_tiers(value).astype(str)
    frame = pd.DataFrame({"value": value, "uplift": _uplift(data, tab), "tier": tier})
    return uplift.target_customers(frame, value="value", uplift="uplift", tier="tier",
                                   cost=float(data.config.offer_cost) if data.config is not None else 20.0)


def average_effect(answer: Any, data: Any = None) -> None:
    """Retention rate of the treated minus that of the control group."""
    data = resolve_data(data)
    tab = _table(data)
    rates = tab.groupby("treated")["retained"].mean()
    assert_scalar_close(answer, rates.loc[1] - rates.loc[0], what="your average effect",
                        hint="Build the table with crm.uplift.campaign_table(data, horizon_days=60, active_days=365); "
                             "the effect is mean(retained | treated == 1) - mean(retained | treated == 0), a fraction.")
    passed("average_effect")


def predicted_uplift(answer: Any, data: Any = None) -> None:
    """Two-model uplift of every campaign customer (fitted on all of them), indexed by customer_id."""
    data = resolve_data(data)
    tab = _table(data)
    assert_series_matches(answer, _uplift(data, tab), rtol=1e-4, atol=1e-6, what="your predicted uplift",
                          hint="crm.uplift.TwoModelUplift(check.uplift_model()).fit(X, treated, retained) with "
                               "X = table[check.FEATURES], then .predict(X); keep customer_id as the index.")
    passed("predicted_uplift")


def qini(answer: Any, data: Any = None) -> None:
    """Qini coefficient of the two-model ranking on the campaign table."""
    data = resolve_data(data)
    tab = _table(data)
    expected = uplift.qini_coefficient(tab["retained"], tab["treated"], _uplift(data, tab))
    assert_scalar_close(answer, expected, rtol=1e-4, atol=1e-7, what="your Qini coefficient",
                        hint="crm.uplift.qini_coefficient(retained, treated, predicted_uplift), all aligned on the "
                             "same customers.")
    passed("qini")


def contact_list(answer: Any, data: Any = None) -> None:
    """Customer ids to contact: expected gain value x uplift against the tier hurdle x offer cost."""
    data = resolve_data(data)
    tab = _table(data)
    plan = _plan(data, tab)
    assert_same_set(answer, plan.index[plan["contact"]], what="your contact list",
                    hint="value = total_spend / max(tenure_days, 90) * 365 * 0.5; tier = "
                         "crm.segmentation.pyramid_tiers(value); then crm.uplift.target_customers(frame, "
                         "value='value', uplift='uplift', tier='tier', cost=data.config.offer_cost).")
    passed("contact_list")


def true_profit(answer: Any, data: Any = None) -> None:
    """Profit your contact list really earns, evaluated with the true uplift (simulated data only)."""
    data = resolve_data(data)
    tab = _table(data)
    plan = _plan(data, tab)
    truth = data.truth.set_index("customer_id").loc[tab.index, "true_uplift"]
    expected = uplift.policy_profit(plan["contact"], true_uplift=truth, value=_value(tab),
                                    cost=float(data.config.offer_cost))
    assert_scalar_close(answer, expected, rtol=1e-4, what="your true profit",
                        hint="Sum over contacted customers of value * true_uplift - offer cost "
                             "(crm.uplift.policy_profit), with true_uplift from data.truth aligned on customer_id.")
    passed("true_profit")
