"""Customer loyalty (客户忠诚度): behavioural and attitudinal loyalty, the course's loyalty
index, Dick & Basu's loyalty matrix, the satisfaction-loyalty curve and an honest
evaluation of loyalty programmes (忠诚度计划).

>>> import crmlab as crm
>>> d = crm.load_retail()
>>> b = crm.loyalty.behavioural_loyalty(d.transactions, observation_end=d.observation_end)
>>> 0 < crm.loyalty.repeat_purchase_rate(d.transactions) < 1
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.satisfaction import _cut
from crmlab.synth.schema import LOYALTY_ITEMS
from crmlab.validation import (
    check_fraction,
    check_frame,
    check_positive_int,
    check_timestamp,
    require_columns,
)

__all__ = [
    "behavioural_loyalty",
    "repeat_purchase_rate",
    "attitudinal_loyalty",
    "loyalty_index",
    "LOYALTY_COMPONENTS",
    "loyalty_matrix",
    "LOYALTY_TYPES",
    "LOYALTY_TYPES_ZH",
    "satisfaction_loyalty_curve",
    "JONES_SASSER_ZONES",
    "programme_effect",
]

LOYALTY_TYPES = {
    (True, True): "true loyalty",
    (True, False): "latent loyalty",
    (False, True): "spurious loyalty",
    (False, False): "no loyalty",
}
"""Dick & Basu (1994) cells keyed by (high relative attitude, high repeat patronage)."""

LOYALTY_TYPES_ZH = {"true loyalty": "真正忠诚", "latent loyalty": "潜在忠诚", "spurious loyalty": "虚假忠诚",
                    "no loyalty": "不忠诚"}
"""The Chinese names of the :data:`LOYALTY_TYPES` cells (used in the figures)."""

JONES_SASSER_ZONES = {"defection": (1, 2), "indifference": (3, 4), "affection": (5, 5)}
"""Zones of Jones & Sasser (1995) on a 1-5 satisfaction scale (inclusive bounds)."""

LOYALTY_COMPONENTS = {
    "repeat_purchases": "number of orders (客户重复购买的次数)",
    "price_insensitivity": "1 - share of orders that used a discount (客户对价格的敏感程度, reversed)",
    "competitor_attitude": "survey item loy_prefer_over_competitors (客户对竞争品牌的态度)",
    "quality_tolerance": "bought again after a complaint, 1/0 (客户对产品质量问题的承受能力); "
                         "missing for customers who never complained",
    "spend": "total amount spent (客户购买费用的多少)",
}
"""The measures combined by :func:`loyalty_index`, with the course's term for each."""


def _transactions(transactions, observation_end):
    end = check_timestamp(observation_end, name="observation_end")
    tx = check_frame(transactions, required=["customer_id", "date", "amount"], dates=["date"], numeric=["amount"],
                     not_missing=["customer_id", "date", "amount"], not_after=("date", end), name="transactions")
    if "discount" in tx.columns:
        check_frame(tx, numeric=["discount"], not_missing=["discount"], name="transactions")
    return tx, end


def behavioural_loyalty(transactions: pd.DataFrame, *, observation_end, order_lines: pd.DataFrame | None = None,
                        products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Behavioural loyalty per customer from the transaction log.

    Columns: ``n_orders``, ``repeat_buyer`` (two orders or more), ``tenure_days`` (first
    order to ``observation_end``), ``recency_days`` (last order to ``observation_end``),
    ``orders_per_month`` (orders per 30.44 days of tenure, tenure at least one month),
    ``mean_gap_days`` and ``gap_cv`` (mean and coefficient of variation of the days between
    orders: a low CV is a regular buyer; needs three orders), ``total_spend``, and, when
    ``transactions`` has ``discount``, ``discount_share`` (share of orders with a discount).
    With ``order_lines`` and ``products``, ``n_categories`` counts the distinct categories bought
    (category breadth).

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "amount": [5.0, 5, 5, 9],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-05"])})
    >>> b = behavioural_loyalty(tx, observation_end="2024-01-31")
    >>> b.loc[1, ["n_orders", "mean_gap_days", "gap_cv"]].tolist()
    [3.0, 10.0, 0.0]
    """
    tx, end = _transactions(transactions, observation_end)
    tx = tx.sort_values(["customer_id", "date"], kind="stable")
    gaps = tx.groupby("customer_id")["date"].diff().dt.total_seconds() / 86400
    tx = tx.assign(_gap=gaps)
    g = tx.groupby("customer_id")
    out = pd.DataFrame({
        "n_orders": g.size().astype("int64"),
        "first_order": g["date"].min(),
        "last_order": g["date"].max(),
        "total_spend": g["amount"].sum(),
        "mean_gap_days": g["_gap"].mean(),
        "_gap_sd": g["_gap"].std(ddof=1),
    })
    out["repeat_buyer"] = out["n_orders"] >= 2
    out["tenure_days"] = (end - out["first_order"]).dt.total_seconds() / 86400
    out["recency_days"] = (end - out["last_order"]).dt.total_seconds() / 86400
    out["orders_per_month"] = out["n_orders"] / np.maximum(out["tenure_days"] / 30.44, 1.0)
    out["gap_cv"] = (out["_gap_sd"] / out["mean_gap_days"]).where(out["n_orders"] >= 3)
    if "discount" in tx.columns:
        out["discount_share"] = g["discount"].apply(lambda s: float((s > 0).mean()))
    if (order_lines is None) != (products is None):
        raise ValueError("Category breadth needs both order_lines and products; pass both or neither.")
    if order_lines is not None:
        ol = check_frame(order_lines, required=["transaction_id", "product_id"], name="order_lines")
        pr = check_frame(products, required=["product_id", "category"], unique="product_id", name="products")
        require_columns(tx, ["transaction_id"], name="transactions")
        lines = ol.merge(pr[["product_id", "category"]], on="product_id", how="left", validate="many_to_one")
        if lines["category"].isna().any():
            missing = lines.loc[lines["category"].isna(), "product_id"].iloc[0]
            raise ValueError(f"order_lines has product_id {missing!r} that is not in products; fix the catalogue first.")
        lines = lines.merge(tx[["transaction_id", "customer_id"]], on="transaction_id", how="inner")
        out["n_categories"] = lines.groupby("customer_id")["category"].nunique().reindex(out.index).fillna(0).astype("int64")
    cols = ["n_orders", "repeat_buyer", "tenure_days", "recency_days", "orders_per_month", "mean_gap_days", "gap_cv",
            "total_spend", *[c for c in ("discount_share", "n_categories") if c in out.columns]]
    return out[cols].rename_axis("customer_id")


def repeat_purchase_rate(transactions: pd.DataFrame) -> float:
    """Share of buying customers with at least two orders.

    >>> repeat_purchase_rate(pd.DataFrame({"customer_id": [1, 1, 2, 3]}))
    0.3333333333333333
    """
    tx = check_frame(transactions, required=["customer_id"], not_missing=["customer_id"], name="transactions")
    counts = tx.groupby("customer_id").size()
    return float((counts >= 2).mean())


def attitudinal_loyalty(surveys: pd.DataFrame, *, items=LOYALTY_ITEMS) -> pd.DataFrame:
    """Attitudinal loyalty per customer: the mean of the loyalty survey items.

    Uses each customer's latest response (by ``date`` when present). Check the items form
    one scale first with :func:`crmlab.satisfaction.cronbach_alpha`.

    >>> sv = pd.DataFrame({"customer_id": [1, 2], "a": [7, 2], "b": [5, 2]})
    >>> attitudinal_loyalty(sv, items=["a", "b"])["attitudinal"].tolist()
    [6.0, 2.0]
    """
    items = [items] if isinstance(items, str) else list(items)
    sv = check_frame(surveys, required=["customer_id"], numeric=items, not_missing=["customer_id", *items], name="surveys")
    if "date" in sv.columns:
        sv = sv.sort_values("date", kind="stable")
    latest = sv.groupby("customer_id")[items].last()
    return latest.assign(attitudinal=latest.mean(axis=1))


def _repurchase_after_complaint(interactions: pd.DataFrame, tx: pd.DataFrame) -> pd.Series:
    ia = check_frame(interactions, required=["customer_id", "date", "type"], dates=["date"],
                     not_missing=["customer_id", "date", "type"], name="interactions")
    first = ia[ia["type"] == "complaint"].groupby("customer_id")["date"].min()
    last_tx = tx.groupby("customer_id")["date"].max()
    return (last_tx.reindex(first.index) > first).astype(float)


def loyalty_index(transactions: pd.DataFrame, *, observation_end, surveys: pd.DataFrame | None = None,
                  interactions: pd.DataFrame | None = None, weights: dict | None = None) -> pd.DataFrame:
    """The course's loyalty measures, scored 0-100 and combined into one index.

    Measures (see :data:`LOYALTY_COMPONENTS`): repeat purchases, price insensitivity
    (needs ``discount`` in ``transactions``), attitude to competitors (needs ``surveys``),
    tolerance of quality problems (needs ``interactions``) and spend.

    Each measure is turned into a percentile score, ``100 * rank / n`` among the customers
    who have it (ties share the average rank), so every score reads "more loyal than x% of
    customers" and no measure dominates through its unit. The index is the weighted mean of
    the scores a customer has (``weights`` default to equal; a missing measure, e.g. no
    survey answer, is left out and the weights of the others renormalised);
    ``n_measures`` says how many went in.

    Returns
    -------
    DataFrame indexed by customer: the raw measures, ``score_<measure>`` for each, ``loyalty_index``, ``n_measures``.

    >>> import crmlab as crm
    >>> d = crm.load_retail()
    >>> li = loyalty_index(d.transactions, observation_end=d.observation_end, surveys=d.surveys,
    ...                    interactions=d.interactions)
    >>> bool(li["loyalty_index"].between(0, 100).all())
    True
    """
    tx, end = _transactions(transactions, observation_end)
    g = tx.groupby("customer_id")
    raw = pd.DataFrame({"repeat_purchases": g.size().astype(float)})
    if "discount" in tx.columns:
        raw["price_insensitivity"] = 1 - g["discount"].apply(lambda s: float((s > 0).mean()))
    if surveys is not None:
        att = attitudinal_loyalty(surveys, items=["loy_prefer_over_competitors"])
        raw["competitor_attitude"] = att["loy_prefer_over_competitors"].reindex(raw.index).astype(float)
    if interactions is not None:
        raw["quality_tolerance"] = _repurchase_after_complaint(interactions, tx).reindex(raw.index)
    raw["spend"] = g["amount"].sum()
    measures = list(raw.columns)
    weights = {m: 1.0 for m in measures} if weights is None else dict(weights)
    unknown = set(weights) - set(measures)
    if unknown:
        raise ValueError(f"weights name unknown measure(s) {sorted(unknown)}; available: {measures}.")
    if any((not isinstance(w, (int, float))) or w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"weights must be non-negative numbers with a positive sum, got {weights}.")
    scores = pd.DataFrame({f"score_{m}": 100 * raw[m].rank(pct=True, method="average") for m in measures})
    w = pd.Series({f"score_{m}": float(weights.get(m, 0.0)) for m in measures})
    present = scores.notna()
    wsum = present.mul(w, axis=1).sum(axis=1)
    out = pd.concat([raw, scores], axis=1)
    out["loyalty_index"] = scores.fillna(0).mul(w, axis=1).sum(axis=1) / wsum.where(wsum > 0)
    out["n_measures"] = present.loc[:, w[w > 0].index].sum(axis=1).astype("int64")
    return out.rename_axis("customer_id")


def loyalty_matrix(data: pd.DataFrame, *, attitudinal: str, behavioural: str, cut="median") -> pd.DataFrame:
    """Dick & Basu's (1994) loyalty matrix: relative attitude × repeat patronage.

    A customer is *high* on a dimension when strictly above the cut (``"median"``,
    ``"mean"``, a number, or a pair ``(attitude_cut, behaviour_cut)``). Cells: **true
    loyalty** (high, high), **latent loyalty** (high attitude, low patronage: won over but
    held back, e.g. by price or access), **spurious loyalty** (low attitude, high patronage:
    inertia or convenience, the first to leave when a competitor comes close) and **no loyalty**.

    Returns
    -------
    A copy of ``data`` with ``high_attitude``, ``high_behaviour`` and ``loyalty_type``.

    >>> df = pd.DataFrame({"att": [6, 6, 2, 2], "orders": [9, 1, 9, 1]})
    >>> loyalty_matrix(df, attitudinal="att", behavioural="orders", cut=(4, 5))["loyalty_type"].tolist()
    ['true loyalty', 'latent loyalty', 'spurious loyalty', 'no loyalty']
    """
    df = check_frame(data, numeric=[attitudinal, behavioural], not_missing=[attitudinal, behavioural], name="data")
    a_cut, b_cut = cut if isinstance(cut, tuple) else (cut, cut)
    ac = _cut(df[attitudinal].astype(float), a_cut, name="cut")
    bc = _cut(df[behavioural].astype(float), b_cut, name="cut")
    out = df.copy()
    out["high_attitude"] = df[attitudinal] > ac
    out["high_behaviour"] = df[behavioural] > bc
    out["loyalty_type"] = [LOYALTY_TYPES[(bool(a), bool(b))] for a, b in zip(out["high_attitude"], out["high_behaviour"])]
    out.attrs.update({"attitude_cut": ac, "behaviour_cut": bc})
    return out


def satisfaction_loyalty_curve(data: pd.DataFrame, *, satisfaction: str, loyalty: str, zones: dict | None = None,
                               confidence: float = 0.95) -> pd.DataFrame:
    """Loyalty at each satisfaction level, with Jones & Sasser's (1995) zones.

    For every observed satisfaction level: the number of customers, the mean of ``loyalty``
    and its confidence interval (Wilson for a 0/1 loyalty such as "bought again", a
    t-interval otherwise), and the zone: *defection*, *indifference* or *affection*.

    Parameters
    ----------
    satisfaction : whole-number satisfaction column (e.g. ``csat``, 1-5).
    loyalty : loyalty measure (0/1 retention, repurchase intent, ...).
    zones : ``{zone: (low, high)}`` inclusive satisfaction bounds; default
        :data:`JONES_SASSER_ZONES` for a 1-5 scale.

    >>> df = pd.DataFrame({"csat": [1, 2, 3, 4, 5, 5], "stayed": [0, 0, 1, 0, 1, 1]})
    >>> satisfaction_loyalty_curve(df, satisfaction="csat", loyalty="stayed")["zone"].tolist()
    ['defection', 'defection', 'indifference', 'indifference', 'affection']
    """
    from statsmodels.stats.proportion import proportion_confint

    df = check_frame(data, numeric=[satisfaction, loyalty], not_missing=[satisfaction, loyalty], name="data")
    level = check_fraction(confidence, name="confidence")
    zones = dict(JONES_SASSER_ZONES if zones is None else zones)
    levels = np.sort(df[satisfaction].unique())

    def zone_of(v):
        hits = [z for z, (lo, hi) in zones.items() if lo <= v <= hi]
        if not hits:
            raise ValueError(f"Satisfaction level {v!r} falls in no zone of {zones}; pass zones={{name: (low, high)}} "
                             f"covering your scale (the default is for a 1-5 scale).")
        return hits[0]

    y = df[loyalty].astype(float)
    binary = bool(y.isin([0.0, 1.0]).all())
    rows = []
    for v in levels:
        part = y[df[satisfaction] == v]
        n, mean = len(part), float(part.mean())
        if binary:
            lo, hi = proportion_confint(int(part.sum()), n, alpha=1 - level, method="wilson")
        elif n > 1:
            half = stats.t.ppf(0.5 + level / 2, n - 1) * part.std(ddof=1) / math.sqrt(n)
            lo, hi = mean - half, mean + half
        else:
            lo = hi = np.nan
        rows.append({"satisfaction": v, "n": n, "loyalty": mean, "ci_low": lo, "ci_high": hi, "zone": zone_of(v)})
    out = pd.DataFrame(rows)
    out.attrs.update({"zones": zones, "satisfaction_col": satisfaction, "loyalty_col": loyalty})
    return out


# --------------------------------------------------------------------------- programme evaluation
def _ratio_ci(n_post: float, n_pre: float, level: float) -> tuple[float, float]:
    """Exact interval for a ratio of Poisson counts with equal exposure (Clopper-Pearson on n_post / total)."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(n_post), int(n_post + n_pre), alpha=1 - level, method="beta")
    return lo / (1 - lo), (hi / (1 - hi) if hi < 1 else np.inf)


def programme_effect(customers: pd.DataFrame, transactions: pd.DataFrame, *, observation_end,
                     window_weeks: int = 13, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    r"""Did the loyalty programme make members buy more? Three answers, from naive to honest.

    Customers choose to join, and the ones who join are the ones who already buy more, so a
    plain members-vs-non-members comparison mixes the programme's effect with who joined.
    All estimates are *rate ratios* (purchase rate with the programme / without);
    ``effect = rate_ratio - 1`` is the relative increase.

    - ``naive``: purchases per week since the first order, members / non-members.
    - ``regression``: purchases in the ``window_weeks`` after joining, members vs non-members,
      in a Poisson regression (statsmodels GLM, robust errors) adjusting for pre-join behaviour:
      purchases in the ``window_weeks`` before, the purchase rate since the first order and
      tenure. A non-member's "join date" is one of their purchases drawn at random
      (``seed``), since members join at a purchase.
    - ``before_after``: each member is their own control. With equal windows before and after
      joining, the fixed-effects Poisson estimate is :math:`\hat\theta = \sum_i n_{i,\text{after}} /
      \sum_i n_{i,\text{before}}`; the interval is exact (Clopper-Pearson on
      :math:`\sum n_\text{after} / \sum (n_\text{after} + n_\text{before})`). Anything constant
      about a member (their purchase rate) cancels, which is why this is the adjusted estimate
      to report. It still leans upwards a little: a member's purchases before joining are
      purchases at which they did *not* join, so frequent joiners have slightly thinned
      "before" counts (by about the per-purchase joining probability).

    Only joins with a full window on both sides (first order at least ``window_weeks`` before
    joining and ``window_weeks`` of data after) are used; ``n`` says how many.

    Parameters
    ----------
    customers : needs ``customer_id``, ``is_member``, ``member_since``.
    transactions : needs ``customer_id``, ``date``.
    observation_end : end of the data.
    window_weeks : length of the before and after windows.

    Returns
    -------
    DataFrame with rows ``naive``, ``regression``, ``before_after`` and columns
    ``method, rate_ratio, effect, ci_low, ci_high, n``.

    >>> import crmlab as crm
    >>> d = crm.load_retail()
    >>> pe = programme_effect(d.customers, d.transactions, observation_end=d.observation_end)
    >>> pe["method"].tolist()
    ['naive', 'regression', 'before_after']
    """
    import statsmodels.api as sm

    end = check_timestamp(observation_end, name="observation_end")
    level = check_fraction(confidence, name="confidence")
    weeks = check_positive_int(window_weeks, name="window_weeks")
    cust = check_frame(customers, required=["customer_id", "is_member", "member_since"], dates=["member_since"],
                       not_missing=["customer_id", "is_member"], unique="customer_id", name="customers")
    tx = check_frame(transactions, required=["customer_id", "date"], dates=["date"], not_missing=["customer_id", "date"],
                     not_after=("date", end), name="transactions")
    member = cust.set_index("customer_id")["is_member"].astype(bool)
    since = cust.set_index("customer_id")["member_since"]
    if since[member].isna().any():
        bad = since[member & since.isna()].index[0]
        raise ValueError(f"customers: member {bad!r} has no member_since date; every member needs a join date.")
    tx = tx[["customer_id", "date"]].sort_values(["customer_id", "date"], kind="stable")
    unknown = ~tx["customer_id"].isin(member.index)
    if unknown.any():
        raise ValueError(f"transactions has customer_id {tx.loc[unknown, 'customer_id'].iloc[0]!r} that is not in customers.")
    is_mem = tx["customer_id"].map(member)
    if not is_mem.any() or is_mem.all():
        raise ValueError("programme_effect needs both members and non-members who bought.")

    # naive: purchases per week since the first order
    g = tx.groupby("customer_id")["date"].agg(["size", "min"])
    g["weeks"] = (end - g["min"]).dt.total_seconds() / 604800
    g["member"] = member.reindex(g.index)
    rate = lambda part: part["size"].sum() / part["weeks"].sum()  # noqa: E731
    naive = rate(g[g["member"]]) / rate(g[~g["member"]])
    log_se = math.sqrt(1 / g.loc[g["member"], "size"].sum() + 1 / g.loc[~g["member"], "size"].sum())
    z = stats.norm.ppf(0.5 + level / 2)

    # index dates: join date for members, a random purchase for non-members
    rng = np.random.default_rng(seed)
    non = tx[~is_mem]
    counts = non.groupby("customer_id").size()
    pick = (rng.random(len(counts)) * counts.to_numpy()).astype(int)
    starts = np.r_[0, np.cumsum(counts.to_numpy())[:-1]]
    placebo = pd.Series(non["date"].to_numpy()[starts + pick], index=counts.index)
    index = pd.concat([since[member].dropna(), placebo]).rename("index_date")
    w = pd.Timedelta(weeks=weeks)
    first = g["min"]
    df = pd.DataFrame({"index_date": index, "first": first.reindex(index.index)}).dropna()
    df = df[(df["first"] <= df["index_date"] - w) & (df["index_date"] + w <= end)]
    df["member"] = member.reindex(df.index).astype(int)
    t = tx.merge(df[["index_date"]], left_on="customer_id", right_index=True)
    before = t[(t["date"] < t["index_date"]) & (t["date"] >= t["index_date"] - w)].groupby("customer_id").size()
    after = t[(t["date"] > t["index_date"]) & (t["date"] <= t["index_date"] + w)].groupby("customer_id").size()
    earlier = t[t["date"] < t["index_date"]].groupby("customer_id").size()
    df["n_before"] = before.reindex(df.index).fillna(0)
    df["n_after"] = after.reindex(df.index).fillna(0)
    df["tenure_weeks"] = (df["index_date"] - df["first"]).dt.total_seconds() / 604800
    df["past_rate"] = earlier.reindex(df.index).fillna(0) / df["tenure_weeks"]
    n_mem = int(df["member"].sum())
    if n_mem < 2 or (df["member"] == 0).sum() < 2:
        raise ValueError(f"Only {n_mem} member(s) joined with {weeks} weeks of data on both sides; "
                         f"use a shorter window_weeks or a longer observation period.")

    X = pd.DataFrame({"const": 1.0, "member": df["member"].astype(float),
                      "log_before": np.log(df["n_before"] + 0.5),
                      "log_past_rate": np.log(df["past_rate"] + 0.5 / df["tenure_weeks"]),
                      "log_tenure": np.log(df["tenure_weeks"])})
    fit = sm.GLM(df["n_after"], X, family=sm.families.Poisson()).fit(cov_type="HC1")
    reg_ci = np.exp(fit.conf_int(alpha=1 - level).loc["member"].to_numpy())

    mem = df[df["member"] == 1]
    ba = mem["n_after"].sum() / mem["n_before"].sum()
    ba_lo, ba_hi = _ratio_ci(mem["n_after"].sum(), mem["n_before"].sum(), level)

    out = pd.DataFrame({
        "method": ["naive", "regression", "before_after"],
        "rate_ratio": [naive, float(np.exp(fit.params["member"])), ba],
        "ci_low": [naive * math.exp(-z * log_se), reg_ci[0], ba_lo],
        "ci_high": [naive * math.exp(z * log_se), reg_ci[1], ba_hi],
        "n": [len(g), len(df), n_mem],
    })
    out.insert(2, "effect", out["rate_ratio"] - 1)
    out.attrs.update({"window_weeks": weeks})
    return out
