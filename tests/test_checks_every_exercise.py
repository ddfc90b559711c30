"""Every exercise of every set, judged the same way.

For each exercise of ``exercises/solutions/NN_*.ipynb`` the instructor's solution cells are run
on a student's own (small, generated) dataset, then:

- the reference answer passes its check;
- each recorded typical mistake (:data:`MISTAKES`, built from the solution's own variables)
  fails with a message that names the mistake;
- no hint or message of the check module contains a line of a solution cell.

The expected answers are recomputed by the checks; nothing here is a pasted number.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmlab as crm

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "exercises" / "solutions"
SETS = sorted(p.name[:2] for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
_DATA_LINE = re.compile(r"^data = crm\.load_retail\(\)\s*$", re.M)


def _notebook(set_no: str) -> dict:
    return json.loads(next(SOLUTIONS.glob(f"{set_no}_*.ipynb")).read_text(encoding="utf-8"))


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def solution_lines(set_no: str) -> set[str]:
    """Normalised code lines of the solution cells (whitespace collapsed, markers left out)."""
    lines = set()
    for cell in _notebook(set_no)["cells"]:
        if any(t.startswith("solution:") for t in _tags(cell)):
            for line in _source(cell).splitlines():
                norm = _normalise(line)
                # a bare name or attribute (a display line) is not code to copy
                if len(norm) > 12 and not norm.startswith("#") and not re.fullmatch(r"[\w.]+", norm):
                    lines.add(norm)
    return lines


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text.replace('"', "'"))


@pytest.fixture(scope="module")
def student_data():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return crm.synth.generate(n_customers=1000, seed=11)


_RUNS: dict[str, tuple[dict, dict[str, tuple[str, dict[str, str]]]]] = {}


def _parse_check(src: str) -> tuple[str, str, dict[str, str]]:
    """``check.name(answer, data, kw=expr)`` -> (name, answer variable, {kw: expr})."""
    call = ast.parse(src.strip()).body[0].value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute), src
    assert [ast.unparse(a) for a in call.args[1:]] == ["data"], src
    return call.func.attr, ast.unparse(call.args[0]), {k.arg: ast.unparse(k.value) for k in call.keywords}


def run_solutions(set_no: str, data):
    """Run the setup and solution cells of a set on ``data``; return the namespace and, per
    exercise, the answer variable and the extra keyword arguments its check cell passes."""
    if set_no in _RUNS:
        return _RUNS[set_no]
    ns: dict = {}
    answers: dict[str, str] = {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        import matplotlib

        matplotlib.use("Agg")
        for cell in _notebook(set_no)["cells"]:
            if cell["cell_type"] != "code":
                continue
            tags = _tags(cell)
            src = _source(cell)
            if "setup" in tags:
                ns["__injected_data__"] = data
                exec(_DATA_LINE.sub("data = __injected_data__", src), ns)
            elif any(t.startswith("exercise:") for t in tags):
                name, var, extra = _parse_check(src)
                answers[name] = (var, extra)
            else:
                exec(src, ns)
    import matplotlib.pyplot as plt

    plt.close("all")
    _RUNS[set_no] = (ns, answers)
    return ns, answers


def _exercises():
    out = []
    for set_no in SETS:
        for cell in _notebook(set_no)["cells"]:
            for t in _tags(cell):
                if t.startswith("exercise:"):
                    out.append((set_no, t.split(":", 1)[1]))
    return out


EXERCISES = _exercises()


def _check(set_no: str, exercise: str):
    return getattr(importlib.import_module(f"crmlab.check.ex{set_no}"), exercise)


# ----------------------------------------------------------------------------- typical mistakes
# One or more typical mistakes per exercise: (a function of the solution's namespace that
# returns the wrong answer, a regular expression the failure message must match).
def _col(frame, **kw):
    return frame.assign(**kw)


def _days_to_today(ns):
    last = ns["data"].transactions.groupby("customer_id")["date"].max().dt.normalize()
    return ns["rfm"].assign(recency_days=(pd.Timestamp.today().normalize() - last).dt.days)


def _unreversed_r(ns):
    rfm = ns["rfm"]
    return ns["scores"].assign(R=pd.qcut(rfm["recency_days"].rank(method="first"), 5, labels=False) + 1)


def _classes_by_median(ns):
    high = ns["scores"][["R", "F", "M"]] > ns["scores"][["R", "F", "M"]].median()
    return crm.segmentation.rfm_segments(ns["scores"].assign(**{c: high[c] * 2 + 1 for c in "RFM"}))["segment_zh"]


def _crosstab_counts(ns):
    return ns["moves"].mul(0).add(crm.lifecycle.stage_transitions(
        ns["data"].transactions, ns["data"].customers, observation_start="2024-06-30",
        observation_end=ns["data"].observation_end, normalize=False))


def _unkeyed(ns):
    import hashlib

    tx = ns["data"].transactions
    return tx.assign(customer_id=[hashlib.sha256(str(v).encode()).hexdigest()[:16] for v in tx["customer_id"]])


def _with_signup(ns):
    c = ns["data"].customers.set_index("customer_id")
    ids = crm.privacy.pseudonymize(c.index.to_series(), crm.check.ex14.KEY)
    dates = pd.Series(c["signup_date"].to_numpy(), index=ids.to_numpy())
    return ns["extract"].assign(signup_date=ns["extract"]["customer_id"].map(dates))


def _profit_of_everyone(ns):
    return crm.uplift.policy_profit(np.ones(len(ns["table"]), dtype=bool), true_uplift=ns["true_u"],
                                    value=ns["value"], cost=ns["data"].config.offer_cost)


def _flat_margin_list(ns):
    """Exercise 11.4 with one 50 % margin for every customer instead of each one's own rate."""
    table, pred = ns["table"], ns["pred"]
    value = table["total_spend"] / np.maximum(table["tenure_days"], 90) * 365 * 0.5
    tier = crm.segmentation.pyramid_tiers(value).astype(str)
    plan = crm.uplift.target_customers(pd.DataFrame({"value": value, "uplift": pred, "tier": tier}),
                                       value="value", uplift="uplift", tier="tier", cost=ns["data"].config.offer_cost)
    return plan.index[plan["contact"]]

MISTAKES: dict[tuple[str, str], list[tuple]] = {
    ("01", "orders_per_customer"): [(lambda ns: ns["data"].transactions.groupby("customer_id").size(),
                                     "leave out the customers with none")],
    ("01", "complaints_per_customer"): [
        (lambda ns: ns["data"].interactions.groupby("customer_id").size()
         .reindex(ns["data"].customers["customer_id"], fill_value=0), "include inquiries")],
    ("01", "duplicate_store_records"): [(lambda ns: set(ns["store"]["customer_id"]), "every customer")],
    ("01", "clean_emails"): [(lambda ns: ns["online"].set_index("customer_id")["email"].str.lower(), "spaces"),
                             (lambda ns: ns["online"].set_index("customer_id")["email"].str.strip(),
                              "not lower-cased")],
    ("01", "golden_record"): [(lambda ns: crm.profile.reconcile(pd.concat([ns["store"], ns["online"]]),
                                                                fields=["email", "phone"])[["email", "phone"]],
                               "before cleaning")],
    ("01", "days_since_last_purchase"): [
        (lambda ns: (check_end := ns["check"].OBSERVATION_END, tx := ns["data"].transactions,
                     (check_end - tx[tx["date"] < check_end].groupby("customer_id")["date"].max().dt.normalize())
                     .dt.days)[-1], "whole day")],
    ("02", "rfm"): [(_days_to_today, "counts to today")],
    ("02", "rfm_scores"): [(_unreversed_r, "not reversed")],
    ("02", "segment_zh"): [(_classes_by_median, "median")],
    ("02", "important_value_share"): [(lambda ns: 100 * ns["share_important_value"], "percentage"),
                                      (lambda ns: float((ns["classes"] == "重要价值客户").mean()), "counts customers")],
    ("02", "persona_clusters"): [
        (lambda ns: crm.segmentation.cluster_segments(
            ns["features"][ns["check"].PERSONA_COLUMNS + ns["shares"]], 4), "at least 3 orders")],
    ("03", "spend_2024"): [(lambda ns: ns["data"].transactions.groupby("customer_id")["amount"].sum(), "every year")],
    ("03", "gini_2024"): [(lambda ns: crm.segmentation.gini(ns["data"].transactions.groupby("customer_id")["amount"]
                                                            .sum()), "every year")],
    ("03", "top20_share"): [(lambda ns: 100 * ns["top20"], "percentage"),
                            (lambda ns: ns["spend"].sort_values().iloc[:ns["k"]].sum() / ns["spend"].sum(),
                             "bottom 20%")],
    ("03", "abc"): [(lambda ns: pd.Series(np.select([ns["spend"].rank(ascending=False, pct=True) <= 0.2,
                                                     ns["spend"].rank(ascending=False, pct=True) <= 0.5],
                                                    ["A", "B"], "C"), index=ns["spend"].index), "share of customers")],
    ("03", "pyramid"): [(lambda ns: crm.segmentation.customer_pyramid(ns["spend"], cost_to_serve=ns["cost"] + ns["data"]
                                                                      .transactions.loc[lambda t: t["date"].dt.year
                                                                                        == 2024]
                                                                      .groupby("customer_id")["discount"].sum()
                                                                      .reindex(ns["spend"].index, fill_value=0.0),
                                                                      shares=(0.2, 0.3)), "counts the discounts"),
                        (lambda ns: crm.segmentation.customer_pyramid(ns["spend"], cost_to_serve=0 * ns["cost"],
                                                                      shares=(0.2, 0.3)), "service contacts")],
    ("04", "stages_end"): [(lambda ns: ns["stages"][ns["stages"] != "prospect"], "prospects")],
    ("04", "stage_counts"): [(lambda ns: ns["counts"] / ns["counts"].sum(), "shares")],
    ("04", "transition_matrix"): [(_crosstab_counts, "counts"), (lambda ns: ns["moves"].T, "transposed")],
    ("04", "cohort_table"): [(lambda ns: crm.lifecycle.cohort_retention(ns["data"].transactions, period="M",
                                                                        normalize=False), "counts")],
    ("04", "month3_retention"): [(lambda ns: 100 * ns["month3"], "percentage")],
    ("04", "first_purchase_delay"): [(lambda ns: float(ns["delay"].mean()), "is the mean"),
                                     (lambda ns: 24 * ns["delay_days"], "in hours")],
    ("05", "nps_score"): [(lambda ns: ns["nps"] / 100, "fraction"),
                          (lambda ns: 100 * ((ns["answers"] >= 7).mean() - (ns["answers"] <= 6).mean()),
                           "7-8 as promoters")],
    ("05", "csat_top2"): [(lambda ns: float(ns["data"].surveys["csat"].mean()), "mean score"),
                          (lambda ns: 100 * float((ns["data"].surveys["csat"] == 5).mean()), "only answers of 5")],
    ("05", "loyalty_alpha"): [(lambda ns: ns["alpha"] * (ns["k"] - 1) / ns["k"], "k/\\(k-1\\)")],
    ("05", "nps_by_region"): [(lambda ns: ns["by_region"].assign(score=ns["by_region"]["score"] / 100,
                                                                  ci_low=ns["by_region"]["ci_low"] / 100,
                                                                  ci_high=ns["by_region"]["ci_high"] / 100),
                               "fractions")],
    ("05", "driver_ranking"): [(lambda ns: ns["ranking"][::-1], "least to most")],
    ("05", "servqual_gaps"): [(lambda ns: -ns["gaps"], "wrong sign")],
    ("06", "complaints_per_1000"): [(lambda ns: 1000 * len(ns["data"].interactions) / len(ns["data"].transactions),
                                     "every interaction"), (lambda ns: ns["rate"] / 1000, "per order")],
    ("06", "resolved_share_by_category"): [(lambda ns: ns["data"].interactions.groupby("category")["resolved"].mean(),
                                            "include inquiries")],
    ("06", "median_resolution_days"): [
        (lambda ns: ns["complaints"].loc[ns["complaints"]["resolved"], "resolution_days"].mean(), "is a mean")],
    ("06", "slowest_channel"): [(lambda ns: next(c for c in ns["metrics"]["channel"] if c != ns["slowest"]),
                                 "not the channel with the highest 90th percentile|slowest median")],
    ("06", "recovery_table"): [(lambda ns: ns["recovery"].assign(repurchase_share=100 * ns["recovery"]
                                                                 ["repurchase_share"]), "percentage")],
    ("07", "repeat_rate"): [(lambda ns: 100 * ns["repeat"], "percentage"),
                            (lambda ns: float((ns["orders"] >= 2).sum() / len(ns["data"].customers)), "prospects")],
    ("07", "surveyed_loyalty"): [(lambda ns: ns["attitude"][["attitudinal"]].join(
        ns["behaviour"][["orders_per_month"]], how="outer").reset_index(), "appear in both")],
    ("07", "loyalty_types"): [(lambda ns: ns["counts"] / ns["counts"].sum(), "shares")],
    ("07", "curve"): [(lambda ns: crm.loyalty.satisfaction_loyalty_curve(
        ns["data"].surveys.assign(bought_again=ns["data"].surveys["customer_id"].isin(ns["last_order"].index)
                                  .astype(int)), satisfaction="csat", loyalty="bought_again"), "any order")],
    ("07", "naive_vs_adjusted"): [(lambda ns: {k: v + 1 for k, v in ns["estimates"].items()}, "rate ratio"),
                                  (lambda ns: list(ns["estimates"].values()), "should map")],
    ("08", "simple_formula"): [(lambda ns: ns["value"] + 50, "paid today")],
    ("08", "weekly_summary"): [(lambda ns: ns["summary"].assign(recency=ns["summary"]["recency"] * 7,
                                                                T=ns["summary"]["T"] * 7), "in days")],
    ("08", "bgnbd_params"): [(lambda ns: crm.clv.BetaGeoModel().fit(ns["summary"].assign(
        recency=ns["summary"]["recency"] * 7, T=ns["summary"]["T"] * 7)).params_, "7 times|builds on exercise 2")],
    ("08", "p_alive"): [(lambda ns: 1 - ns["alive"], "churned")],
    ("08", "holdout_errors"): [(lambda ns: crm.clv.holdout_errors(crm.clv.holdout_predictions({"BG/NBD": ns["bg"]},
                                                                                            ns["ch"])),
                                "whole history")],
    ("08", "clv_12m"): [(lambda ns: crm.clv.customer_lifetime_value(ns["bg"], ns["gg"], ns["summary"],
                                                                    horizon_months=12, discount_rate=0.01),
                         "revenue, not margin"),
                        (lambda ns: crm.clv.customer_lifetime_value(ns["bg"], ns["gg"], ns["summary"],
                                                                    horizon_months=12, discount_rate=0.0,
                                                                    margin=ns["margin"]),
                         "not discounted")],
    ("08", "segment_params"): [(lambda ns: pd.DataFrame([ns["bg"].params_] * len(ns["by_segment"]),
                                                        index=ns["by_segment"].index), "one model for everybody")],
    ("09", "churn_label"): [(lambda ns: ~ns["churned"], "reversed")],
    ("09", "recency_at_cutoff"): [
        (lambda ns: (pd.Timestamp(ns["check"].CUTOFF) - ns["tx"].groupby("customer_id")["date"].max()
                     .dt.normalize()).dt.days.loc[ns["churned"].index], "leakage")],
    ("09", "lift_by_quintile"): [(lambda ns: crm.churn.lift_table(ns["churned"].astype(int), 1 - ns["score"], bins=5),
                                  "lowest score")],
    ("09", "best_number_to_contact"): [(lambda ns: len(ns["churned"]), "contact everyone")],
    ("09", "complaint_rates"): [(lambda ns: ns["rates"] / 100, "per order"),
                                (lambda ns: ns["rates"].set_axis(["stayers", "churners"]), "swapped")],
    ("09", "brier_of_recency_model"): [
        (lambda ns: float(np.mean((ns["score"].to_numpy() - ns["y"]) ** 2)), "not a probability"),
        (lambda ns: float(ns["y"].mean() * (1 - ns["y"].mean())), "reference score")],
    ("10", "tenure"): [(lambda ns: ns["tenure"].assign(duration=(ns["last"] - ns["first"]).dt.days.astype(float)),
                        "stops at the last purchase")],
    ("10", "survival_at_one_year"): [(lambda ns: float((ns["tenure"]["duration"] > 365).mean()), "plain share")],
    ("10", "median_tenure"): [(lambda ns: float(ns["tenure"]["duration"].median()), "observed durations")],
    ("10", "logrank_income"): [(lambda ns: float(crm.survival.logrank_test(
        ns["tenure"]["duration"], ns["tenure"]["churned"], ns["income"])["p_value"].iloc[0]), "p-value")],
    ("10", "hazard_by_month"): [(lambda ns: (lambda h: (h["events"] / h["at_risk"]).set_axis(h["start"]))(
        crm.survival.hazard_table(ns["tenure"]["duration"], ns["tenure"]["churned"], width=30)), "half at risk")],
    ("10", "member_hazard_ratio"): [(lambda ns: float(np.log(ns["hr_member"])), "coefficient"),
                                    (lambda ns: 1 / ns["hr_member"], "non-members")],
    ("11", "average_effect"): [(lambda ns: -ns["effect"], "control minus treated"),
                               (lambda ns: 100 * ns["effect"], "percentage points")],
    ("11", "predicted_uplift"): [(lambda ns: -ns["pred"], "control minus treated")],
    ("11", "qini"): [(lambda ns: crm.uplift.qini_coefficient(ns["table"]["retained"], ns["table"]["treated"],
                                                             -ns["pred"]), "lowest uplift first")],
    ("11", "contact_list"): [(lambda ns: ns["table"].index[ns["pred"] > 0], "positive predicted uplift"),
                             (_flat_margin_list, "one margin for everybody")],
    ("11", "true_profit"): [(_profit_of_everyone, "contacting everyone"),
                            (lambda ns: crm.uplift.policy_profit(ns["table"].index.isin(ns["contacted"]),
                                                                 true_uplift=ns["true_u"], value=ns["value"], cost=0.0),
                             "offer cost")],
    ("11", "normalised_qini"): [
        (lambda ns: {**ns["qini_ci"].iloc[0].to_dict(), "estimate": ns["qini"]}, "not normalised"),
        (lambda ns: {**ns["qini_ci"].iloc[0].to_dict(), "estimate": crm.uplift.qini_auc_score(
            ns["table"]["retained"], ns["table"]["treated"], -ns["pred"])}, "lowest uplift first"),
        (lambda ns: {**ns["qini_ci"].iloc[0].to_dict(),
                     "lower": ns["qini_ci"]["estimate"].iloc[0] - 1e-3,
                     "upper": ns["qini_ci"]["estimate"].iloc[0] + 1e-3}, "too narrow")],
    ("12", "lift_snacks_beverages"): [(lambda ns: ns["both"] / ns["b"]["snacks"].mean(), "confidence")],
    ("12", "strong_category_rules"): [(lambda ns: {tuple(sorted(p)) for p in ns["strong"]}, "one direction")],
    ("12", "similar_products"): [(lambda ns: ns["knn"].most_similar(1, k=6).pipe(
        lambda t: pd.concat([pd.DataFrame({"product_id": [1], "similarity": [1.0]}), t.iloc[:4]])), "product 1 itself")],
    ("12", "holdout_comparison"): [(lambda ns: 100 * ns["comparison"][["hit_rate", "coverage"]], "percentages")],
    ("12", "segment_category_affinity"): [(lambda ns: ns["affinity"].assign(affinity=ns["affinity"]["share"]),
                                           "share of lines"),
                                          (lambda ns: crm.recommend.segment_affinity(
                                              ns["lines"], ns["data"].truth[["customer_id", "segment"]]),
                                           "latent segments")],
    ("13", "channel_funnel"): [(lambda ns: crm.journey.funnel(ns["data"].touchpoints, by="channel", strict=False),
                                "strict funnel")],
    ("13", "cart_abandonment_rate"): [(lambda ns: 100 * ns["abandonment"], "percentage"),
                                      (lambda ns: 1 - ns["abandonment"], "did buy")],
    ("13", "abandonment_by_channel"): [(lambda ns: 100 * ns["abandonment_by_channel"], "percentages")],
    ("13", "reorder_share"): [(lambda ns: (~ns["per_session"]["browsed"]).groupby(ns["per_session"]["channel"]).mean(),
                               "every session")],
    ("13", "converting_paths"): [(lambda ns: ns["paths"].assign(share=100 * ns["paths"]["share"]), "percentages")],
    ("13", "multichannel_comparison"): [
        (lambda ns: ns["omni"].assign(n_orders=ns["omni"]["n_orders"] * ns["omni"]["customers"],
                                      total_spend=ns["omni"]["total_spend"] * ns["omni"]["customers"]),
         "group totals")],
    ("13", "unresolved_complaint_effect"): [
        (lambda ns: crm.journey.moments_of_truth(ns["table"], outcome="csat", factors=["complaint_unresolved"])
         .loc["complaint_unresolved", "effect"], "alone")],
    ("13", "repurchase_effect"): [(lambda ns: 100 * ns["repurchase_effect"], "percentage points")],
    ("14", "pseudonymized_transactions"): [(_unkeyed, "plain SHA-256"),
                                           (lambda ns: ns["data"].transactions, "raw ids")],
    ("14", "masked_contacts"): [(lambda ns: ns["screen"].assign(name=ns["c"]["name"]), "extra column"),
                                (lambda ns: ns["c"][["customer_id", "email", "phone"]], "raw email")],
    ("14", "unique_share"): [(lambda ns: float((ns["sizes"] == 1).sum()), "count")],
    ("14", "k_with_age_bands"): [(lambda ns: int(crm.privacy.class_sizes(ns["banded"], ns["check"].QUASI_IDENTIFIERS)
                                                 .max()), "largest class")],
    ("14", "analysis_extract"): [(_with_signup, "exact dates"),
                                 (lambda ns: ns["extract"].assign(customer_id=ns["data"].customers["customer_id"]
                                                                  .iloc[:len(ns["extract"])].to_numpy()), "raw ids")],
    ("14", "member_mailing_list"): [
        (lambda ns: crm.privacy.marketing_list(ns["data"].customers, columns=["customer_id", "email"]),
         "every consenting customer"),
        (lambda ns: ns["members"][["customer_id", "email"]], "did not give marketing consent"),
        (lambda ns: ns["mailing"].assign(name="x"), "extra column")],
    ("15", "monthly_active"): [(lambda ns: ns["tx"].groupby(ns["tx"]["date"].dt.to_period("M")).size(), "orders")],
    ("15", "churn_rate_last_month"): [(lambda ns: 100 * ns["churn_last"], "percentage"),
                                      (lambda ns: float(ns["kpis"]["churn_rate"].mean()), "mean over all months")],
    ("15", "churn_chart"): [(lambda ns: crm.monitoring.control_chart(ns["steady"], "churn_rate", n_col="customers_start",
                                                                     baseline=len(ns["steady"])), "every month")],
    ("15", "campaign_test"): [(lambda ns: ns["test"].assign(difference=-ns["test"]["difference"]),
                               "control minus treated")],
    ("15", "customers_needed"): [(lambda ns: 2 * ns["n_next"], "both groups")],
    ("17", "portfolio_quadrants"): [(lambda ns: (lambda v: (v > v.median()).map({True: "big", False: "small"}))(
        ns["data"].accounts.set_index("account_id")["revenue_last_year"]), "only split accounts by current value")],
    ("17", "big_but_not_key"): [(lambda ns: int((ns["quadrants"] == "key").sum()), "big and attractive")],
    ("17", "decision_makers_to_meet"): [(lambda ns: crm.accounts.uncovered_decision_makers(
        ns["data"].contacts, ns["data"].activities)["contact_id"].tolist(), "every account")],
    ("17", "stage_conversion"): [(lambda ns: (lambda c: c["advanced"] / c["entered"])(
        crm.pipeline.stage_conversion(ns["data"].opportunity_stages)), "still open count as failures")],
    ("17", "weighted_pipeline"): [(lambda ns: float(ns["open_deals"]["list_value"].sum()), "unweighted")],
    ("17", "zopa_width"): [(lambda ns: ns["check"].BUYER_CEILING_SHARE - ns["check"].SELLER_COST_SHARE,
                            "share of the list value")],
    ("17", "smart_goal"): [(lambda ns: {**ns["goal"], "deadline": "2031-01-01"}, "not time_bound"),
                           (lambda ns: "grow revenue", "not a dict")],
    ("18", "requirement_weights"): [(lambda ns: ns["ratings"].sum(axis=1) / ns["ratings"].to_numpy().sum(),
                                     "one vote|pooled")],
    ("18", "winning_vendor"): [(lambda ns: ns["scores"].mean().idxmax(), "unweighted average")],
    ("18", "smallest_weight_change"): [(lambda ns: float(crm.systems.weight_sensitivity(
        ns["scores"], ns["weights"])["change_needed"].min()), "most negative")],
    ("18", "saas_tco"): [(lambda ns: float(crm.systems.total_cost_of_ownership(ns["options"], years=5, discount_rate=0.0)
                                           .loc["SaaS", "tco"]), "without discounting")],
    ("18", "cheaper_at_12_percent"): [(lambda ns: crm.systems.total_cost_of_ownership(
        ns["options"], years=5, discount_rate=0.08)["tco"].idxmin(), "cheaper one at 8 %|not the expected answer")],
    ("18", "migration_hours"): [(lambda ns: float(crm.systems.migration_effort(
        ns["report"], hours_per_issue=0.0, hours_per_column=2.0).loc["total", "hours"]), "columns only")],
    ("18", "campaign_gap"): [(lambda ns: ns["gap"] + ns["check"].GOAL_POINTS - ns["check"].GOAL_POINTS / 100,
                              "mixed units")],
}
_MESSAGES: dict[str, list[str]] = {}


# ----------------------------------------------------------------------------- other correct forms
# Correct answers a student would reasonably write in another form than the solution's.
def _crosstab_moves(ns):
    data = ns["data"]
    kw = dict(transactions=data.transactions, customers=data.customers)
    before = crm.lifecycle.lifecycle_stages(observation_end="2024-06-30", **kw)["stage"]
    after = crm.lifecycle.lifecycle_stages(observation_end=data.observation_end, **kw)["stage"].reindex(before.index)
    return pd.crosstab(before.astype(str), after.astype(str), normalize="index")   # no all-zero column, no empty row


def _hmac_full(ns):
    import hashlib
    import hmac

    key = crm.check.ex14.KEY.encode()
    tx = ns["data"].transactions
    return tx.assign(customer_id=[hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest() for v in tx["customer_id"]])


def _extract_with_signup_year(ns):
    c = ns["data"].customers.set_index("customer_id")
    ids = crm.privacy.pseudonymize(c.index.to_series(), crm.check.ex14.KEY)
    years = pd.Series(c["signup_date"].dt.year.to_numpy(), index=ids.to_numpy())
    return ns["extract"].assign(signup_year=ns["extract"]["customer_id"].map(years))


def _own_list_profit(ns):
    """A different contact list (the first half of the reference one) and its own true profit."""
    own = list(ns["contacted"][: len(ns["contacted"]) // 2])
    profit = crm.uplift.policy_profit(ns["table"].index.isin(own), true_uplift=ns["true_u"], value=ns["value"],
                                      cost=ns["data"].config.offer_cost)
    return profit, {"contacted": own}


ALTERNATIVES: dict[tuple[str, str], list] = {
    ("01", "orders_per_customer"): [lambda ns: ns["orders"].rename("n_orders").reset_index()],
    ("01", "duplicate_store_records"): [lambda ns: sorted(ns["dupes"])],
    ("03", "spend_2024"): [lambda ns: ns["spend"].rename("spend").reset_index()],
    ("10", "hazard_by_month"): [lambda ns: ns["hazard"].reset_index()],
    ("02", "rfm"): [lambda ns: ns["rfm"].reset_index()[["total_spend", "customer_id", "n_orders", "recency_days"]]],
    ("04", "stage_counts"): [lambda ns: ns["counts"][ns["counts"] > 0].to_dict()],
    ("04", "transition_matrix"): [_crosstab_moves, lambda ns: ns["moves"][ns["moves"].columns[::-1]]],
    ("05", "servqual_gaps"): [lambda ns: ns["gaps"].to_dict()],
    ("05", "driver_ranking"): [lambda ns: crm.satisfaction.key_drivers(
        ns["data"].surveys, target="csat", drivers=ns["perf"]).set_index("driver")["lmg"]],
    ("06", "resolved_share_by_category"): [lambda ns: ns["resolved_share"].to_dict()],
    ("07", "loyalty_types"): [lambda ns: ns["counts"].to_dict()],
    ("07", "naive_vs_adjusted"): [lambda ns: pd.Series(ns["estimates"]),
                                  lambda ns: ns["effect"][["method", "effect"]]],
    ("08", "bgnbd_params"): [lambda ns: dict(ns["params"]), lambda ns: ns["params"].iloc[::-1]],
    ("08", "weekly_summary"): [lambda ns: ns["summary"].reset_index()],
    ("09", "churn_label"): [lambda ns: ns["churned"].astype(int)],
    ("09", "complaint_rates"): [lambda ns: ns["rates"].to_dict()],
    ("11", "contact_list"): [lambda ns: set(ns["contacted"]), lambda ns: ns["plan"]["contact"]],
    ("11", "true_profit"): [_own_list_profit],
    ("11", "normalised_qini"): [lambda ns: ns["qini_ci"].iloc[0].to_dict(),
                                lambda ns: crm.uplift.uplift_score_interval(
                                    ns["table"]["retained"], ns["table"]["treated"], ns["pred"], n_boot=300,
                                    random_state=7)],
    ("14", "pseudonymized_transactions"): [_hmac_full],
    ("14", "analysis_extract"): [_extract_with_signup_year],
    ("15", "campaign_test"): [lambda ns: ns["test"].iloc[0]],
}


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("set_no, exercise", EXERCISES, ids=[f"{s}.{e}" for s, e in EXERCISES])
def test_reference_answer_passes(set_no, exercise, student_data, capsys):
    ns, answers = run_solutions(set_no, student_data)
    var, extra = answers[exercise]
    _check(set_no, exercise)(eval(var, ns), ns["data"], **{k: eval(v, ns) for k, v in extra.items()})
    assert f"{exercise}: correct" in capsys.readouterr().out


_ALT_CASES = [(s, e, i) for (s, e), alts in ALTERNATIVES.items() for i in range(len(alts))]


@pytest.mark.parametrize("set_no, exercise, i", _ALT_CASES, ids=[f"{s}.{e}.{i}" for s, e, i in _ALT_CASES])
def test_another_correct_form_passes(set_no, exercise, i, student_data, capsys):
    ns, answers = run_solutions(set_no, student_data)
    extra = {k: eval(v, ns) for k, v in answers[exercise][1].items()}
    answer = ALTERNATIVES[(set_no, exercise)][i](ns)
    if isinstance(answer, tuple):       # (answer, keyword arguments of the check cell)
        answer, own = answer
        extra.update(own)
    _check(set_no, exercise)(answer, ns["data"], **extra)
    assert f"{exercise}: correct" in capsys.readouterr().out


_MISTAKE_CASES = [(s, e, i) for (s, e), ms in MISTAKES.items() for i in range(len(ms))]


@pytest.mark.parametrize("set_no, exercise, i", _MISTAKE_CASES,
                         ids=[f"{s}.{e}.{i}" for s, e, i in _MISTAKE_CASES])
def test_typical_mistake_fails_with_its_name(set_no, exercise, i, student_data):
    ns, answers = run_solutions(set_no, student_data)
    make, pattern = MISTAKES[(set_no, exercise)][i][:2]
    wrong = make(ns)
    extra = {k: eval(v, ns) for k, v in answers[exercise][1].items()}
    with pytest.raises(AssertionError, match=pattern) as info:
        _check(set_no, exercise)(wrong, ns["data"], **extra)
    _MESSAGES.setdefault(set_no, []).append(str(info.value))


def test_every_exercise_has_a_recorded_mistake():
    exempt: set[tuple[str, str]] = set()
    missing = [f"{s}.{e}" for s, e in EXERCISES
               if (s, e) not in MISTAKES and (s, e) not in exempt]
    assert not missing


def _texts(module) -> list[str]:
    """Every string a check can show: its literals (hints, messages), docstrings left out."""
    tree = ast.parse(inspect.getsource(module))
    # docstrings, and the string statements that document a module constant, are never shown
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append("".join(v.value for v in node.values if isinstance(v, ast.Constant)))
    return [t for t in texts if len(t) > 3]


@pytest.mark.parametrize("set_no", SETS)
def test_no_hint_or_message_contains_solution_code(set_no):
    module = importlib.import_module(f"crmlab.check.ex{set_no}")
    shown = [_normalise(t) for t in _texts(module)] + [_normalise(m) for m in _MESSAGES.get(set_no, [])]
    leaked = sorted(line for line in solution_lines(set_no) if any(line in t for t in shown))
    assert not leaked, f"check module ex{set_no} shows solution lines: {leaked[:3]}"


@pytest.mark.parametrize("set_no", SETS)
def test_hints_quote_no_reference_call(set_no):
    """Hints name the idea and the chapter section, never a crm.* call to copy."""
    module = importlib.import_module(f"crmlab.check.ex{set_no}")
    quoted = [t for t in _texts(module) if re.search(r"crm\.\w+\.\w+\(|\.\w+\(\w*=", t)]
    assert not quoted, f"ex{set_no} hints quote reference calls: {quoted[:3]}"


def test_a_wrong_earlier_answer_points_back_to_its_exercise(student_data):
    """A later answer built on a wrong earlier one says which exercise to fix first."""
    ns, _ = run_solutions("02", student_data)
    mean_amount = ns["data"].transactions.groupby("customer_id")["amount"].mean()
    wrong_rfm = ns["rfm"].assign(total_spend=mean_amount)       # exercise 1 wrong: mean instead of total
    scores = crm.segmentation.rfm_scores(wrong_rfm, bins=5)
    with pytest.raises(AssertionError, match=r"builds on exercise 1 \(rfm\)"):
        crm.check.ex02.rfm_scores(scores, ns["data"])
    ns, _ = run_solutions("10", student_data)
    t = ns["tenure"].assign(duration=(ns["last"] - ns["first"]).dt.days.astype(float))
    km = crm.survival.kaplan_meier(t["duration"], t["churned"])
    with pytest.raises(AssertionError, match=r"builds on exercise 1 \(tenure\)"):
        crm.check.ex10.survival_at_one_year(float(km.loc[km["time"] <= 365, "survival"].iloc[-1]), ns["data"])


def test_messages_never_print_the_expected_scalar(student_data):
    """A wrong number is told too high or too low, never the expected value."""
    ns, _ = run_solutions("06", student_data)
    with pytest.raises(AssertionError) as info:
        crm.check.ex06.complaints_per_1000(ns["rate"] * 1.37, ns["data"])
    assert f"{ns['rate']:.6g}" not in str(info.value) and "too high" in str(info.value)


def _headings(chapter: str) -> dict[str, str]:
    path = next((ROOT / "notebooks").glob(f"{chapter}_*.ipynb"))
    out = {}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in _source(cell).splitlines():
                m = re.match(r"^##\s+(\d+)\.\s+(.*)$", line)
                if m:
                    out[m.group(1)] = m.group(2)
    return out


@pytest.mark.parametrize("set_no", SETS)
def test_hints_point_to_sections_that_exist(set_no):
    """'notebook NN, section K (术语)' names a real section of that chapter, with its Chinese term."""
    module = importlib.import_module(f"crmlab.check.ex{set_no}")
    text = " ".join(_texts(module))
    wrong = []
    for chapter, number, term in re.findall(r"notebook (\d\d),\s+section (\d+)(?: \(([^)]*)\))?", text):
        heading = _headings(chapter).get(number)
        if heading is None or (term and term.split(",")[0].split(":")[0].strip() not in heading):
            wrong.append((chapter, number, term, heading))
    assert not wrong, f"ex{set_no} hints point to sections that do not match: {wrong[:3]}"
