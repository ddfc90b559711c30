"""Key-account management (关键客户管理, KAM) for business customers.

The steps of the course texts, each computed:

1. choose key accounts by current value × potential × fit (:func:`account_portfolio`):
   a big account (大客户) is not necessarily a key account (关键客户);
2. set SMART goals for each account plan (:func:`check_smart_goal`);
3. map the buying centre and find the key people never met (:func:`buying_centre_coverage`,
   :func:`uncovered_decision_makers`) — 锁定关键人物;
4. analyse what drives the decision (:func:`influence_factors`) — 分析影响因素;
5. plan visits under a call budget (:func:`plan_visits`) — 定期拜访.

Pipeline analytics live in :mod:`crmlab.pipeline` and negotiation in
:mod:`crmlab.negotiation`.

>>> import crmlab as crm
>>> data = crm.load_retail()
>>> portfolio = account_portfolio(data.accounts)
>>> sorted(portfolio["quadrant"].unique())
['develop', 'key', 'maintain', 'opportunistic']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.time import DateLike
from crmlab.validation import check_frame, check_positive_int, require_columns

__all__ = [
    "QUADRANTS",
    "account_portfolio",
    "check_smart_goal",
    "SMART_CRITERIA",
    "buying_centre_coverage",
    "uncovered_decision_makers",
    "influence_factors",
    "plan_visits",
]

#: Quadrants of the account portfolio matrix: (attractiveness high?, current value high?) -> name.
QUADRANTS = {
    (True, True): "key",            # 关键客户: attractive and already important — manage as key accounts
    (True, False): "develop",       # 发展客户: attractive, small today — invest to grow
    (False, True): "maintain",      # 维持客户: big today, little potential or fit — serve efficiently
    (False, False): "opportunistic",  # 普通客户: serve through low-cost channels
}
QUADRANT_ZH = {"key": "关键客户", "develop": "发展客户", "maintain": "维持客户", "opportunistic": "普通客户"}


def _cut_value(values: pd.Series, cut, name: str) -> float:
    if cut == "median":
        return float(values.median())
    if isinstance(cut, (bool, np.bool_)) or not isinstance(cut, (int, float, np.integer, np.floating)) or not np.isfinite(cut):
        raise TypeError(f"{name} must be 'median' or a finite number, got {cut!r}.")
    return float(cut)


def account_portfolio(
    accounts: pd.DataFrame,
    *,
    account_col: str = "account_id",
    value_col: str = "revenue_last_year",
    potential_col: str = "potential_estimate",
    fit_col: str | None = "fit_score",
    value_cut: str | float = "median",
    attractiveness_cut: str | float = "median",
) -> pd.DataFrame:
    """Place accounts in the KAM portfolio matrix: attractiveness × current value.

    ``attractiveness = potential × fit`` with ``fit`` rescaled to (0, 1] by its largest value
    (a 1–5 score becomes 0.2–1; ``fit_col=None`` uses potential alone). Accounts above ``attractiveness_cut`` are
    attractive; accounts above ``value_cut`` of ``value_col`` are important today. The four
    quadrants are :data:`QUADRANTS`: ``key`` (both), ``develop`` (attractive, small today),
    ``maintain`` (big today, unattractive: a big account that is not a key account) and
    ``opportunistic``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``account_col``: ``value``, ``potential``, ``fit`` (0–1), ``attractiveness``,
        ``quadrant``, ``quadrant_zh`` and ``big`` (above the value cut).

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": [1, 2, 3, 4], "revenue_last_year": [90, 80, 10, 5],
    ...                     "potential_estimate": [500, 100, 600, 50], "fit_score": [5, 1, 4, 2]})
    >>> account_portfolio(acc)["quadrant"].tolist()
    ['key', 'maintain', 'develop', 'opportunistic']
    """
    cols = [account_col, value_col, potential_col] + ([fit_col] if fit_col else [])
    acc = check_frame(accounts, required=cols, numeric=cols[1:], not_missing=cols, nonnegative=cols[1:],
                      unique=account_col, name="accounts")
    value = acc[value_col].astype(float)
    potential = acc[potential_col].astype(float)
    if fit_col:
        raw = acc[fit_col].astype(float)
        fit = raw / raw.max() if raw.max() > 0 else pd.Series(1.0, index=raw.index)
    else:
        fit = pd.Series(1.0, index=acc.index)
    attractiveness = potential * fit
    v_cut = _cut_value(value, value_cut, "value_cut")
    a_cut = _cut_value(attractiveness, attractiveness_cut, "attractiveness_cut")
    big = value > v_cut
    attractive = attractiveness > a_cut
    quadrant = [QUADRANTS[(bool(a), bool(b))] for a, b in zip(attractive, big)]
    out = pd.DataFrame({
        "value": value.to_numpy(), "potential": potential.to_numpy(), "fit": fit.to_numpy(),
        "attractiveness": attractiveness.to_numpy(), "quadrant": quadrant,
        "quadrant_zh": [QUADRANT_ZH[q] for q in quadrant], "big": big.to_numpy(),
    }, index=pd.Index(acc[account_col].to_numpy(), name=account_col))
    return out


#: The five SMART criteria (SMART 原则) and what each check requires.
SMART_CRITERIA = {
    "specific": "names the account and the metric it changes (具体)",
    "measurable": "has a numeric baseline and target in the metric's unit (可衡量)",
    "achievable": "the target is within the account's potential and the allowed growth (可实现)",
    "relevant": "serves one of the account plan's objectives (相关)",
    "time_bound": "has a deadline after the start and within the plan horizon (时限性)",
}


def check_smart_goal(
    goal: Mapping,
    *,
    objectives: Iterable[str] = (),
    potential: float | None = None,
    max_growth: float = 1.0,
    start: DateLike | None = None,
    horizon_days: int = 730,
) -> pd.DataFrame:
    """Check an account-plan goal against the five SMART criteria, one row per criterion.

    ``goal`` is a mapping with ``account`` (who), ``metric`` (what changes, e.g.
    ``"revenue"``), ``baseline`` and ``target`` (numbers), ``deadline`` (a date) and
    ``objective`` (which plan objective it serves). A criterion fails, with the reason, when
    its part is missing or wrong: a target above ``potential`` or more than ``max_growth``
    (1.0 = +100 %) above the baseline is not achievable; an objective not in ``objectives``
    is not relevant; a deadline before ``start`` or more than ``horizon_days`` after it is
    not time-bound.

    Examples
    --------
    >>> goal = {"account": "Ruikang Hospital", "metric": "revenue", "baseline": 400_000,
    ...         "target": 500_000, "deadline": "2025-12-31", "objective": "grow share of wallet"}
    >>> res = check_smart_goal(goal, objectives=["grow share of wallet"], potential=900_000, start="2025-01-01")
    >>> bool(res["passed"].all())
    True
    >>> check_smart_goal({**goal, "deadline": None}, objectives=["grow share of wallet"],
    ...                  start="2025-01-01").set_index("criterion").loc["time_bound", "passed"].item()
    False
    """
    if not isinstance(goal, Mapping):
        raise TypeError(f"goal must be a mapping (dict) with account, metric, baseline, target, deadline and "
                        f"objective, got {type(goal).__name__}.")
    unknown = set(goal) - {"account", "metric", "baseline", "target", "deadline", "objective", "action"}
    if unknown:
        raise ValueError(f"goal has unknown keys {sorted(unknown)}; use account, metric, baseline, target, "
                         f"deadline, objective (and optionally action).")
    if isinstance(max_growth, bool) or not isinstance(max_growth, (int, float)) or not max_growth > 0:
        raise ValueError(f"max_growth must be a positive number (1.0 = +100%), got {max_growth!r}.")
    horizon_days = check_positive_int(horizon_days, name="horizon_days")

    def number(key):
        v = goal.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            return None
        return float(v)

    rows = []
    account, metric = goal.get("account"), goal.get("metric")
    ok = isinstance(account, str) and account.strip() != "" and isinstance(metric, str) and metric.strip() != ""
    rows.append(("specific", ok, "" if ok else "say which account and which metric the goal changes"))
    baseline, target = number("baseline"), number("target")
    if baseline is None or target is None:
        rows.append(("measurable", False, "give a numeric baseline and target"))
        rows.append(("achievable", False, "cannot judge without a numeric baseline and target"))
    else:
        rows.append(("measurable", target != baseline, "" if target != baseline else "the target equals the baseline"))
        reasons = []
        if potential is not None and target > potential:
            reasons.append(f"target {target:,.0f} exceeds the account's potential {potential:,.0f}")
        if baseline > 0 and (target - baseline) / baseline > max_growth:
            reasons.append(f"growth {(target - baseline) / baseline:.0%} exceeds the allowed {max_growth:.0%}")
        if target < 0:
            reasons.append("a negative target")
        rows.append(("achievable", not reasons, "; ".join(reasons)))
    objective = goal.get("objective")
    objectives = list(objectives)
    relevant = isinstance(objective, str) and (objective in objectives if objectives else objective.strip() != "")
    rows.append(("relevant", relevant, "" if relevant else
                 f"link the goal to one of the plan's objectives {objectives}" if objectives else
                 "say which objective the goal serves"))
    deadline = goal.get("deadline")
    try:
        deadline = None if deadline is None else pd.Timestamp(deadline)
    except (TypeError, ValueError):
        deadline = None
    if deadline is None or pd.isna(deadline):
        rows.append(("time_bound", False, "give a deadline date"))
    else:
        begin = pd.Timestamp(start) if start is not None else None
        if begin is not None and deadline <= begin:
            rows.append(("time_bound", False, f"the deadline {deadline.date()} is not after the start {begin.date()}"))
        elif begin is not None and (deadline - begin).days > horizon_days:
            rows.append(("time_bound", False, f"the deadline is more than {horizon_days} days after the start"))
        else:
            rows.append(("time_bound", True, ""))
    out = pd.DataFrame(rows, columns=["criterion", "passed", "reason"])
    out["requirement"] = out["criterion"].map(SMART_CRITERIA)
    return out


def _contacts_and_activities(contacts, activities, account_col, contact_col, role_col):
    contacts = check_frame(contacts, required=[contact_col, account_col, role_col],
                           not_missing=[contact_col, account_col, role_col], unique=contact_col, name="contacts")
    activities = check_frame(activities, required=[contact_col], not_missing=[contact_col], name="activities")
    unknown = ~activities[contact_col].isin(contacts[contact_col])
    if unknown.any():
        raise ValueError(f"activities has {int(unknown.sum())} row(s) whose {contact_col} is not in contacts "
                         f"(e.g. {activities.loc[unknown, contact_col].iloc[0]!r}); fix the ids.")
    return contacts, activities


def buying_centre_coverage(
    contacts: pd.DataFrame,
    activities: pd.DataFrame,
    *,
    account_col: str = "account_id",
    contact_col: str = "contact_id",
    role_col: str = "role",
    influence_col: str | None = "influence",
    key_roles: Sequence[str] = ("decision_maker",),
) -> pd.DataFrame:
    """Coverage of each account's buying centre (采购中心) by the sales team's activities.

    Returns one row per account: ``n_contacts``, ``n_met`` (contacts with at least one
    activity), ``n_key`` and ``n_key_met`` (contacts in ``key_roles``), ``key_coverage``
    (share of key people met; 1 when an account has none), ``influence_coverage`` (share
    of total influence met, with ``influence_col``) and ``activities_with_key`` (share of
    activities that reached a key person).

    Examples
    --------
    >>> contacts = pd.DataFrame({"contact_id": [1, 2, 3], "account_id": [7, 7, 7],
    ...                          "role": ["decision_maker", "buyer", "user"], "influence": [5, 3, 2]})
    >>> acts = pd.DataFrame({"contact_id": [2, 2, 3]})
    >>> buying_centre_coverage(contacts, acts).loc[7, ["n_met", "key_coverage", "influence_coverage"]].tolist()
    [2.0, 0.0, 0.5]
    """
    contacts, activities = _contacts_and_activities(contacts, activities, account_col, contact_col, role_col)
    met_counts = activities.groupby(contact_col).size()
    c = contacts.assign(_met=contacts[contact_col].map(met_counts).fillna(0).astype(int))
    c["_is_key"] = c[role_col].isin(list(key_roles))
    by = c.groupby(account_col)
    out = pd.DataFrame({
        "n_contacts": by.size(),
        "n_met": by["_met"].apply(lambda s: int((s > 0).sum())),
        "n_key": by["_is_key"].sum().astype(int),
        "n_key_met": c[c["_is_key"] & (c["_met"] > 0)].groupby(account_col).size(),
    }).fillna({"n_key_met": 0}).astype({"n_key_met": int})
    out["key_coverage"] = np.where(out["n_key"] > 0, out["n_key_met"] / out["n_key"].where(out["n_key"] > 0, 1), 1.0)
    if influence_col is not None:
        require_columns(contacts, [influence_col], name="contacts")
        total = by[influence_col].sum()
        met = c[c["_met"] > 0].groupby(account_col)[influence_col].sum().reindex(total.index, fill_value=0)
        out["influence_coverage"] = (met / total.where(total > 0)).fillna(0.0)
    acts_total = by["_met"].sum()
    acts_key = c[c["_is_key"]].groupby(account_col)["_met"].sum().reindex(acts_total.index, fill_value=0)
    out["activities_with_key"] = (acts_key / acts_total.where(acts_total > 0)).fillna(0.0)
    return out


def uncovered_decision_makers(
    contacts: pd.DataFrame,
    activities: pd.DataFrame,
    *,
    account_col: str = "account_id",
    contact_col: str = "contact_id",
    role_col: str = "role",
    key_roles: Sequence[str] = ("decision_maker",),
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The key people the sales team has never met (锁定关键人物: whom should we meet next?).

    Returns the rows of ``contacts`` in ``key_roles`` with no activity, optionally restricted
    to the ids in ``accounts`` (e.g. the key accounts of :func:`account_portfolio`).

    Examples
    --------
    >>> contacts = pd.DataFrame({"contact_id": [1, 2], "account_id": [7, 7], "role": ["decision_maker", "buyer"]})
    >>> uncovered_decision_makers(contacts, pd.DataFrame({"contact_id": [2]}))["contact_id"].tolist()
    [1]
    """
    contacts, activities = _contacts_and_activities(contacts, activities, account_col, contact_col, role_col)
    out = contacts[contacts[role_col].isin(list(key_roles)) & ~contacts[contact_col].isin(activities[contact_col])]
    if accounts is not None:
        ids = accounts.index if isinstance(accounts, pd.DataFrame) else pd.Index(np.asarray(accounts))
        out = out[out[account_col].isin(ids)]
    return out.reset_index(drop=True)


def influence_factors(
    data: pd.DataFrame,
    *,
    outcome: str,
    factors: Sequence[str],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """What moves a buying decision (分析影响因素): a logistic regression of a 0/1 outcome.

    Fits ``logit P(outcome) = b0 + sum b_k x_k`` with statsmodels and returns one row per
    factor: ``coef``, ``odds_ratio``, its interval at ``confidence``, and ``p_value``.
    Observational data: an odds ratio is an association, not an effect, unless the factor
    was assigned at random.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> df = pd.DataFrame({"won": rng.random(2000) < 1 / (1 + np.exp(-(0.5 + 1.0 * x))), "x": x})
    >>> round(float(influence_factors(df, outcome="won", factors=["x"]).loc["x", "coef"]), 1)
    1.0
    """
    import statsmodels.api as sm
    from scipy.stats import norm

    factors = [factors] if isinstance(factors, str) else list(factors)
    if not factors:
        raise ValueError("factors is empty; name at least one column.")
    if not (isinstance(confidence, float) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1), e.g. 0.95; got {confidence!r}.")
    df = check_frame(data, required=[outcome, *factors], not_missing=[outcome, *factors], name="data")
    y = df[outcome]
    if pd.api.types.is_bool_dtype(y):
        y = y.astype(int)
    if not set(pd.unique(y)) <= {0, 1}:
        raise ValueError(f"data column {outcome!r} must be 0/1 or True/False; got values {sorted(pd.unique(y))[:5]}.")
    if y.nunique() < 2:
        raise ValueError(f"data column {outcome!r} has only one value; a logistic regression needs both outcomes.")
    X = df[factors].astype(float)
    constant = [c for c in factors if X[c].nunique() < 2]
    if constant:
        raise ValueError(f"factor {constant[0]!r} is constant; it cannot explain anything. Drop it.")
    model = sm.Logit(y.astype(float), sm.add_constant(X, has_constant="add"))
    try:
        fit = model.fit(disp=0)
    except np.linalg.LinAlgError as exc:
        raise ValueError("the factors are collinear (one is a combination of others); drop one.") from exc
    z = norm.ppf(0.5 + confidence / 2)
    coef, se = fit.params[factors], fit.bse[factors]
    if not np.all(np.isfinite(se)):
        raise ValueError("the outcome is perfectly separated by the factors; the odds ratios are infinite.")
    return pd.DataFrame({
        "coef": coef, "std_err": se, "odds_ratio": np.exp(coef),
        "odds_ratio_low": np.exp(coef - z * se), "odds_ratio_high": np.exp(coef + z * se),
        "p_value": fit.pvalues[factors],
    }, index=pd.Index(factors, name="factor"))


def plan_visits(
    accounts: pd.DataFrame,
    *,
    budget: int,
    gain_col: str,
    account_col: str = "account_id",
    decay: float = 0.5,
    max_visits: int = 12,
) -> pd.DataFrame:
    """Share a visit budget (定期拜访 under a call budget) across accounts by marginal gain.

    The ``k``-th visit to an account is worth ``gain × decay ** (k − 1)`` (diminishing
    returns); visits go one at a time to the account whose next visit is worth most, which
    is optimal for such concave gains. ``gain_col`` is the expected value of a first visit
    (e.g. attractiveness × probability that a visit moves the account).

    Returns one row per account: ``visits`` (allocated), ``expected_gain``; sorted by
    visits. The total of ``visits`` equals ``budget`` unless every account has
    ``max_visits``.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": [1, 2], "gain": [100.0, 30.0]})
    >>> plan_visits(acc, budget=3, gain_col="gain")["visits"].tolist()   # 100, 50 and 30 beat 25
    [2, 1]
    """
    budget = check_positive_int(budget, name="budget", minimum=0)
    max_visits = check_positive_int(max_visits, name="max_visits")
    if max_visits > 1000:
        raise ValueError(f"max_visits={max_visits} is more visits than a plan can use; use at most 1000.")
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay <= 1:
        raise ValueError(f"decay must lie in (0, 1] (the value of each extra visit relative to the last), got {decay!r}.")
    acc = check_frame(accounts, required=[account_col, gain_col], numeric=[gain_col],
                      not_missing=[account_col, gain_col], nonnegative=[gain_col], unique=account_col,
                      name="accounts")
    gain = acc[gain_col].to_numpy(dtype=float)
    if budget > 10_000_000:
        raise ValueError(f"budget={budget:,} visits is too large to plan one by one; use at most 10,000,000.")
    # the marginal values of every possible visit, largest first: the greedy plan takes the top `budget`
    k = np.arange(max_visits)
    values = gain[:, None] * decay ** k[None, :]
    flat = values.ravel()
    take = min(budget, flat.size)
    chosen = np.argsort(-flat, kind="stable")[:take]
    visits = np.bincount(chosen // max_visits, minlength=gain.size)
    expected = gain * visits if decay == 1 else gain * (1 - decay ** visits) / (1 - decay)
    out = pd.DataFrame({"visits": visits.astype("int64"), "expected_gain": expected},
                       index=pd.Index(acc[account_col].to_numpy(), name=account_col))
    return out.sort_values(["visits", "expected_gain"], ascending=False, kind="stable")
