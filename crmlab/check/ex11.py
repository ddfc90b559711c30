"""Checks for ``exercises/solutions/11_retention_and_winback.ipynb`` (客户挽留、流失客户挽回).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.uplift`. Hints name the
idea and the section of notebook 11; they never give the code. Exercise 5 judges the profit of
the student's own contact list (passed as ``contacted=``); exercises 3-5 point back to the
exercise they build on.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crmlab import clv, segmentation, uplift
from crmlab.check.compare import (
    assert_same_set,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
    passed,
    resolve_data,
)

__all__ = [
    "HORIZON_DAYS", "ACTIVE_DAYS", "FEATURES", "uplift_model",
    "average_effect", "predicted_uplift", "qini", "contact_list", "true_profit", "normalised_qini",
]

HORIZON_DAYS = 60
"""Retained = a purchase in the last 60 days of the data."""
ACTIVE_DAYS = 365
"""Campaign customers who bought in the year before the campaign."""
FEATURES = ["recency_days", "n_orders", "n_orders_last_90d", "spend_last_90d", "tenure_days",
            "mean_order_value", "visits_last_90d", "discount_share"]
"""Features of the uplift model."""
# Value at risk = a year of spend (annualised, at least 90 days of tenure) x the customer's own
# margin rate up to the day before the campaign (crm.clv.margin_rate, the course's one margin).


def uplift_model():
    """The classifier used in the exercises: standardised logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression())


# The campaign table and the reference uplift of the last dataset checked: the five checks of a
# notebook share them instead of refitting the two models each time. A hit needs the very same
# dataset object with the very same tables (identity), so a changed dataset is recomputed.
_LAST: dict[str, Any] = {}


def _same_data(data) -> bool:
    held = _LAST.get("data")
    return held is data and all(_LAST["tables"][i] is getattr(data, name, None)
                                for i, name in enumerate(("transactions", "campaigns", "customers")))


def _table(data) -> pd.DataFrame:
    if not _same_data(data):
        _LAST.clear()
        _LAST.update(data=data, tables=[getattr(data, n, None) for n in ("transactions", "campaigns", "customers")],
                     table=uplift.campaign_table(data, horizon_days=HORIZON_DAYS, active_days=ACTIVE_DAYS))
    return _LAST["table"].copy()


def _uplift(data, tab) -> pd.Series:
    if _same_data(data) and "uplift" in _LAST and _LAST["table"].index.equals(tab.index):
        return _LAST["uplift"].copy()
    m = uplift.TwoModelUplift(uplift_model()).fit(tab[FEATURES], tab["treated"], tab["retained"])
    pred = pd.Series(m.predict(tab[FEATURES]), index=tab.index)
    if _same_data(data):
        _LAST["uplift"] = pred
    return pred.copy()


def _annual_spend(tab) -> pd.Series:
    return tab["total_spend"] / np.maximum(tab["tenure_days"], 90) * 365


def _value(data, tab) -> pd.Series:
    cutoff = data.campaigns["campaign_date"].min().normalize() - pd.Timedelta(days=1)
    margin = clv.margin_rate(data, observation_end=cutoff).reindex(tab.index)
    return _annual_spend(tab) * margin


def _cost(data) -> float:
    return float(data.config.offer_cost) if data.config is not None else 20.0


def _plan(data, tab, pred: pd.Series | None = None, value: pd.Series | None = None) -> pd.DataFrame:
    value = _value(data, tab) if value is None else value
    tier = segmentation.pyramid_tiers(value).astype(str)
    frame = pd.DataFrame({"value": value, "uplift": _uplift(data, tab) if pred is None else pred, "tier": tier})
    return uplift.target_customers(frame, value="value", uplift="uplift", tier="tier", cost=_cost(data))


def average_effect(answer: Any, data: Any = None) -> None:
    """Retention rate of the treated minus that of the control group."""
    data = resolve_data(data)
    tab = _table(data)
    rates = tab.groupby("treated")["retained"].mean()
    expected = rates.loc[1] - rates.loc[0]
    judge(assert_scalar_close, answer, expected, what="your average effect",
          mistakes=[("your effect is control minus treated: the effect of the offer is treated minus control.",
                     -expected),
                    ("your effect is in percentage points: give a difference of fractions.", 100 * expected),
                    ("your effect is the ratio of the two retention rates: the exercise asks for their difference.",
                     rates.loc[1] / rates.loc[0])],
          hint="In a randomised experiment the average effect is the difference of the retention rates of the "
               "treated and the control group — notebook 11, section 1 (挽留实验：随机对照试验).")
    passed("average_effect")


def predicted_uplift(answer: Any, data: Any = None) -> None:
    """Two-model uplift of every campaign customer (fitted on all of them), indexed by customer_id."""
    data = resolve_data(data)
    tab = _table(data)
    expected = _uplift(data, tab)

    def treated_only():
        treated = tab["treated"] == 1
        model = uplift_model().fit(tab.loc[treated, FEATURES], tab.loc[treated, "retained"])
        return pd.Series(model.predict_proba(tab[FEATURES])[:, 1], index=tab.index)

    judge(assert_series_matches, answer, expected, rtol=1e-4, atol=1e-6, what="your predicted uplift",
          mistakes=[("your values are the treated model's retention probability: the uplift is its difference "
                     "with the control model's.", treated_only),
                    ("your uplift is control minus treated: it should be treated minus control.", lambda: -expected)],
          hint="Two models, one fitted on the treated and one on the control customers; the uplift of a customer "
               "is the difference of their predicted retention — notebook 11, section 3 (增益模型).")
    passed("predicted_uplift")


def qini(answer: Any, data: Any = None) -> None:
    """Qini coefficient of the two-model ranking on the campaign table."""
    data = resolve_data(data)
    tab = _table(data)
    pred = _uplift(data, tab)
    expected = uplift.qini_coefficient(tab["retained"], tab["treated"], pred)
    judge(assert_scalar_close, answer, expected, rtol=1e-4, atol=1e-7, what="your Qini coefficient",
          mistakes=[("your Qini ranks customers from the lowest uplift first: rank the highest uplift first.",
                     lambda: uplift.qini_coefficient(tab["retained"], tab["treated"], -pred))],
          builds_on="exercise 2 (predicted_uplift)",
          hint="The Qini coefficient is the area between the Qini curve of the ranking and that of a random "
               "ranking — notebook 11, section 4 (增益曲线与 Qini 曲线).")
    passed("qini")


def contact_list(answer: Any, data: Any = None) -> None:
    """Customer ids to contact: expected gain value x uplift against the tier hurdle x offer cost."""
    data = resolve_data(data)
    tab = _table(data)
    plan = _plan(data, tab)
    value, pred = plan["value"], plan["uplift"]

    def flat_margin_list() -> pd.Index:
        flat = _plan(data, tab, pred, _annual_spend(tab) * 0.5)
        return flat.index[flat["contact"]]

    if isinstance(answer, pd.Series) and answer.dtype == bool:
        answer = answer.index[answer.to_numpy()]
    judge(assert_same_set, answer, plan.index[plan["contact"]], what="your contact list",
          mistakes=[("your list contacts every customer with a positive predicted uplift: the expected gain "
                     "(value × uplift) must pay for the offer, with the tier's hurdle.", lambda: tab.index[pred > 0]),
                    ("your list ignores the tiers: a customer is contacted when the gain reaches the hurdle of "
                     "their tier times the offer cost, not the cost alone.",
                     lambda: tab.index[value * pred >= _cost(data)]),
                    ("your value at risk uses one margin for everybody: each customer's margin is her own rate "
                     "(notebook 08, section 8).", flat_margin_list)],
          builds_on="exercise 2 (predicted_uplift)",
          hint="Contact a customer when the expected gain (value at risk × predicted uplift) reaches their tier's "
               "hurdle times the offer cost — notebook 11, section 5 (按期望利润选择、分级挽留).")
    passed("contact_list")


def true_profit(answer: Any, data: Any = None, contacted: Any = None) -> None:
    """Profit the contact list ``contacted`` (yours, from exercise 4) really earns, evaluated with the
    true uplift (simulated data only). Without ``contacted`` the reference list of exercise 4 is used."""
    data = resolve_data(data)
    tab = _table(data)
    if contacted is None:
        plan = _plan(data, tab)
        contact = plan["contact"].to_numpy()
    else:
        if isinstance(contacted, pd.Series) and contacted.dtype == bool:
            contacted = contacted.index[contacted.to_numpy()]
        if isinstance(contacted, (str, bytes)) or not hasattr(contacted, "__iter__"):
            fail(f"your contact list should be a collection of customer ids, but it is a "
                 f"{type(contacted).__name__}.", "Exercise 4 (contact_list) gives it.")
        ids = set(pd.Index(list(contacted)).tolist())
        unknown = ids - set(tab.index)
        if unknown:
            fail(f"your contact list holds {len(unknown)} id(s) that are not campaign customers, e.g. "
                 f"{sorted(unknown, key=repr)[0]!r}.", "Fix exercise 4 (contact_list) first.")
        contact = tab.index.isin(list(ids))
    truth = data.truth.set_index("customer_id").loc[tab.index, "true_uplift"]
    value = _value(data, tab)
    expected = uplift.policy_profit(contact, true_uplift=truth, value=value, cost=_cost(data))
    pred = functools.cache(lambda: _uplift(data, tab))
    judge(assert_scalar_close, answer, expected, rtol=1e-4, what="the profit of your contact list",
          mistakes=[("your profit uses the predicted uplift: what the list really earns is measured with the true "
                     "uplift (data.truth).",
                     lambda: uplift.policy_profit(contact, true_uplift=pred().clip(-1, 1), value=value, cost=_cost(data))),
                    ("your profit leaves out the offer cost of each contacted customer.",
                     lambda: uplift.policy_profit(contact, true_uplift=truth, value=value, cost=0.0)),
                    ("your profit is that of contacting everyone: the exercise asks for your list of exercise 4.",
                     lambda: uplift.policy_profit(np.ones(len(tab), dtype=bool), true_uplift=truth, value=value,
                                                  cost=_cost(data)))],
          hint="Over the customers of your list: value at risk × true uplift minus the offer cost, with the true "
               "uplift aligned on customer_id — notebook 11, section 5.")
    passed("true_profit")


def _interval_parts(answer: Any) -> dict[str, float]:
    """``estimate``, ``lower``, ``upper`` from a dict, a Series or a one-row table."""
    if isinstance(answer, pd.DataFrame):
        if len(answer) != 1:
            fail(f"your answer is a table with {len(answer)} rows: give one row (or a dict) with estimate, lower "
                 "and upper.")
        answer = answer.iloc[0]
    if isinstance(answer, pd.Series):
        answer = answer.to_dict()
    if not isinstance(answer, dict):
        fail(f"your answer should be a dict (or a one-row table) with the keys estimate, lower and upper, but it "
             f"is a {type(answer).__name__}.")
    missing = [k for k in ("estimate", "lower", "upper") if k not in answer]
    if missing:
        fail(f"your answer has no {', '.join(missing)}: give estimate, lower and upper.")
    out = {}
    for k in ("estimate", "lower", "upper"):
        try:
            out[k] = float(answer[k])
        except (TypeError, ValueError):
            fail(f"your {k} is not a number ({answer[k]!r}).")
        if not np.isfinite(out[k]):
            fail(f"your {k} is not a finite number ({out[k]!r}).")
    return out


def normalised_qini(answer: Any, data: Any = None) -> None:
    """Normalised Qini of the two-model ranking with a 95 % bootstrap interval (any seed, a few hundred
    replicates): the estimate must match; the interval must hold it and lie close to the reference one."""
    data = resolve_data(data)
    tab = _table(data)
    pred = _uplift(data, tab)
    y, t = tab["retained"], tab["treated"]
    got = _interval_parts(answer)
    expected = uplift.qini_auc_score(y, t, pred)
    hint = ("Normalised, the Qini area is divided by that of the perfect ranking, so 1 is perfect and 0 is "
            "random; the interval comes from resampling customers within the treated and the control group "
            "— notebook 11, section 4 (增益曲线与 Qini 曲线).")
    judge(assert_scalar_close, got["estimate"], expected, rtol=1e-4, atol=1e-7, what="your normalised Qini",
          mistakes=[("your estimate is the Qini coefficient of exercise 3, not normalised by the perfect "
                     "ranking's area.", lambda: uplift.qini_coefficient(y, t, pred)),
                    ("your estimate ranks customers from the lowest uplift first: rank the highest uplift first.",
                     lambda: uplift.qini_auc_score(y, t, -pred)),
                    ("your estimate is the normalised area under the uplift curve (AUUC): the exercise asks for "
                     "the Qini.", lambda: uplift.uplift_auc_score(y, t, pred))],
          builds_on="exercise 2 (predicted_uplift)", hint=hint)
    if not got["lower"] <= got["estimate"] <= got["upper"]:
        fail("your interval does not contain your estimate: give the lower and the upper end of the 95 % "
             "bootstrap interval around it.", hint)
    ref = uplift.uplift_score_interval(y, t, pred, metric="qini", n_boot=200, confidence=0.95, random_state=0)
    lo, hi = float(ref["lower"].iloc[0]), float(ref["upper"].iloc[0])
    width = hi - lo
    if got["upper"] - got["lower"] < 0.5 * width:
        fail("your interval is too narrow for a 95 % bootstrap interval: resample whole customers with "
             "replacement, within each group, and take the 2.5 % and 97.5 % quantiles.", hint)
    if abs(got["lower"] - lo) > 0.4 * width or abs(got["upper"] - hi) > 0.4 * width:
        fail("your interval is not where a 95 % bootstrap interval of this ranking lies: resample the "
             "customers (with replacement, within the treated and the control group), recompute the "
             "normalised Qini each time, and take the 2.5 % and 97.5 % quantiles.", hint)
    passed("normalised_qini")
