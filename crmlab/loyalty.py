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
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.data.columns import AMOUNT, CATEGORY, CUSTOMER, DATE, DISCOUNT, PRODUCT, TRANSACTION
from crmlab.data.schema import LOYALTY_ITEMS
from crmlab.features import customer_features
from crmlab.satisfaction import _cut
from crmlab.time import window_end
from crmlab.validation import (
    check_fraction,
    check_frame,
    check_positive_int,
    check_timestamp,
    check_transactions,
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
    "repeat_purchases": "number of orders, n_orders (客户重复购买的次数)",
    "price_insensitivity": "1 - discount_share, the share of orders that used a discount (客户对价格的敏感程度, reversed)",
    "competitor_attitude": "survey item loy_prefer_over_competitors (客户对竞争品牌的态度)",
    "quality_tolerance": "bought again after a complaint, 1/0 (客户对产品质量问题的承受能力); "
                         "missing for customers who never complained",
    "spend": "total amount spent, total_spend (客户购买费用的多少)",
}
"""The measures combined by :func:`loyalty_index`, with the course's term for each."""


def _gap_stats(transactions: pd.DataFrame, *, customer_col: str, date_col: str) -> pd.DataFrame:
    """Mean and coefficient of variation of the days between a customer's orders."""
    tx = transactions[[customer_col, date_col]].sort_values([customer_col, date_col], kind="stable")
    gaps = tx.groupby(customer_col)[date_col].diff().dt.total_seconds() / 86400
    g = gaps.groupby(tx[customer_col])
    mean, sd, n = g.mean(), g.std(ddof=1), g.count()
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = (sd / mean).where((n >= 2) & (mean > 0))
    return pd.DataFrame({"mean_gap_days": mean, "gap_cv": cv})


def behavioural_loyalty(transactions: pd.DataFrame, *, observation_end: str | pd.Timestamp,
                        order_lines: pd.DataFrame | None = None, products: pd.DataFrame | None = None,
                        customer_col: str = CUSTOMER, date_col: str = DATE, amount_col: str = AMOUNT,
                        discount_col: str | None = DISCOUNT, transaction_col: str = TRANSACTION,
                        product_col: str = PRODUCT, category_col: str = CATEGORY) -> pd.DataFrame:
    """Behavioural loyalty per customer from the transaction log.

    The per-customer features come from :func:`crmlab.features.customer_features` (same
    names, same definitions): ``n_orders``, ``tenure_days``, ``recency_days`` (whole days to
    the day of ``observation_end``, whose whole day counts), ``orders_per_month``,
    ``total_spend`` and, when ``transactions`` has ``discount_col``, ``discount_share``
    (share of orders with a discount). Loyalty adds:

    - ``repeat_buyer``: two orders or more;
    - ``mean_gap_days`` and ``gap_cv``: mean and coefficient of variation of the days between
      orders (a low CV is a regular buyer). ``mean_gap_days`` is missing for a single order
      and ``gap_cv`` needs three orders: both are NaN by design for customers with fewer
      (``gap_cv`` also when all of a customer's orders share one instant, a zero mean gap);
    - ``n_categories`` (with ``order_lines`` and ``products``): distinct categories bought
      (category breadth).

    Parameters
    ----------
    transactions : one row per order; refunds (negative amounts) must be netted first.
    observation_end : the snapshot date; its whole day counts, later orders raise.
    order_lines, products : optional, both or neither, for ``n_categories``.
    customer_col, date_col, amount_col, discount_col, transaction_col, product_col, category_col :
        column names (``discount_col`` is used when present; ``None`` leaves it out).

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "amount": [5.0, 5, 5, 9],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-05"])})
    >>> b = behavioural_loyalty(tx, observation_end="2024-01-31")
    >>> b.loc[1, ["n_orders", "mean_gap_days", "gap_cv"]].tolist()
    [3.0, 10.0, 0.0]
    """
    if (order_lines is None) != (products is None):
        raise ValueError("Category breadth needs both order_lines and products; pass both or neither.")
    check_frame(transactions, required=[customer_col, date_col], name="transactions")
    use_discount = discount_col if discount_col is not None and discount_col in transactions.columns else None
    feats = customer_features(transactions, observation_end=observation_end, customer_col=customer_col,
                              date_col=date_col, amount_col=amount_col, discount_col=use_discount,
                              order_lines=order_lines, products=products, transaction_col=transaction_col,
                              product_col=product_col, category_col=category_col)
    tx = check_frame(transactions, required=[customer_col, date_col], dates=[date_col], name="transactions")
    out = feats[["n_orders", "tenure_days", "recency_days", "orders_per_month", "total_spend"]].copy()
    out.insert(1, "repeat_buyer", out["n_orders"] >= 2)
    out = out.join(_gap_stats(tx, customer_col=customer_col, date_col=date_col))
    cols = ["n_orders", "repeat_buyer", "tenure_days", "recency_days", "orders_per_month", "mean_gap_days",
            "gap_cv", "total_spend"]
    if use_discount is not None:
        out["discount_share"] = feats["discount_share"]
        cols.append("discount_share")
    if order_lines is not None and products is not None:
        categories = set(products[category_col].astype(str))
        shares = feats[[c for c in feats.columns if c.startswith("share_") and c[len("share_"):] in categories]]
        out["n_categories"] = (shares > 0).sum(axis=1).astype("int64")
        cols.append("n_categories")
    return out[cols].rename_axis(customer_col)


def repeat_purchase_rate(transactions: pd.DataFrame, *, customer_col: str = CUSTOMER) -> float:
    """Share of buying customers with at least two orders.

    >>> repeat_purchase_rate(pd.DataFrame({"customer_id": [1, 1, 2, 3]}))
    0.3333333333333333
    """
    tx = check_frame(transactions, required=[customer_col], not_missing=[customer_col], name="transactions")
    counts = tx.groupby(customer_col).size()
    return float((counts >= 2).mean())


def attitudinal_loyalty(surveys: pd.DataFrame, *, items: str | Sequence[str] = LOYALTY_ITEMS,
                        customer_col: str = CUSTOMER, date_col: str | None = DATE) -> pd.DataFrame:
    """Attitudinal loyalty per customer: the mean of the loyalty survey items.

    Uses each customer's latest response (by ``date_col`` when present). Check the items form
    one scale first with :func:`crmlab.satisfaction.cronbach_alpha`.

    >>> sv = pd.DataFrame({"customer_id": [1, 2], "a": [7, 2], "b": [5, 2]})
    >>> attitudinal_loyalty(sv, items=["a", "b"])["attitudinal"].tolist()
    [6.0, 2.0]
    """
    items = [items] if isinstance(items, str) else list(items)
    if not items:
        raise ValueError("items is empty; name the survey item columns, e.g. items=['loy_repurchase_intent', ...].")
    sv = check_frame(surveys, required=[customer_col], numeric=items, not_missing=[customer_col, *items],
                     name="surveys")
    if date_col is not None and date_col in sv.columns:
        sv = check_frame(sv, dates=[date_col], not_missing=[date_col], name="surveys").sort_values(date_col,
                                                                                                 kind="stable")
    latest = sv.groupby(customer_col)[items].last()
    return latest.assign(attitudinal=latest.mean(axis=1))


def _repurchase_after_complaint(interactions: pd.DataFrame, last_purchase: pd.Series, *, customer_col: str,
                                date_col: str) -> pd.Series:
    ia = check_frame(interactions, required=[customer_col, date_col, "type"], dates=[date_col],
                     not_missing=[customer_col, date_col, "type"], name="interactions")
    first = ia[ia["type"] == "complaint"].groupby(customer_col)[date_col].min()
    return (last_purchase.reindex(first.index) > first).astype(float)


def loyalty_index(transactions: pd.DataFrame, *, observation_end: str | pd.Timestamp, surveys: pd.DataFrame | None = None,
                  interactions: pd.DataFrame | None = None, weights: Mapping[str, float] | None = None,
                  customer_col: str = CUSTOMER, date_col: str = DATE, amount_col: str = AMOUNT,
                  discount_col: str | None = DISCOUNT) -> pd.DataFrame:
    """The course's loyalty measures, scored 0-100 and combined into one index.

    Measures (see :data:`LOYALTY_COMPONENTS`): repeat purchases (``n_orders``), price
    insensitivity (needs ``discount_col`` in ``transactions``), attitude to competitors (needs
    ``surveys``), tolerance of quality problems (needs ``interactions``) and spend
    (``total_spend``). The purchase measures come from :func:`crmlab.features.customer_features`.

    Each measure is turned into a percentile score, ``100 * rank / n`` among the customers
    who have it (ties share the average rank), so every score reads "more loyal than x% of
    customers" and no measure dominates through its unit. The index is the weighted mean of
    the scores a customer has (``weights`` default to equal; a missing measure, e.g. no
    survey answer, is left out and the weights of the others renormalised);
    ``n_measures`` says how many went in. A customer none of whose measures carries weight
    has no index: ``loyalty_index`` is NaN exactly where ``n_measures`` is 0. The rows are the
    customers with at least one order up to ``observation_end``; survey answers and complaints
    of people without an order have no purchase measures to join and are not scored.

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
    check_frame(transactions, required=[customer_col, date_col], name="transactions")
    use_discount = discount_col if discount_col is not None and discount_col in transactions.columns else None
    feats = customer_features(transactions, observation_end=observation_end, customer_col=customer_col,
                              date_col=date_col, amount_col=amount_col, discount_col=use_discount)
    raw = pd.DataFrame({"repeat_purchases": feats["n_orders"].astype(float)})
    if use_discount is not None:
        raw["price_insensitivity"] = 1 - feats["discount_share"]
    if surveys is not None:
        att = attitudinal_loyalty(surveys, items=["loy_prefer_over_competitors"], customer_col=customer_col)
        raw["competitor_attitude"] = att["loy_prefer_over_competitors"].reindex(raw.index).astype(float)
    if interactions is not None:
        raw["quality_tolerance"] = _repurchase_after_complaint(
            interactions, feats["last_purchase"], customer_col=customer_col, date_col=DATE).reindex(raw.index)
    raw["spend"] = feats["total_spend"].astype(float)
    measures = list(raw.columns)
    weights = {m: 1.0 for m in measures} if weights is None else dict(weights)
    unknown = set(weights) - set(measures)
    if unknown:
        raise ValueError(f"weights name unknown measure(s) {sorted(unknown)}; available: {measures}.")
    if (any(isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < math.inf
            for w in weights.values()) or sum(weights.values()) <= 0):
        raise ValueError(f"weights must be finite non-negative numbers with a positive sum, got {weights}.")
    scores = pd.DataFrame({f"score_{m}": 100 * raw[m].rank(pct=True, method="average") for m in measures})
    w = pd.Series({f"score_{m}": float(weights.get(m, 0.0)) for m in measures})
    present = scores.notna()
    wsum = present.mul(w, axis=1).sum(axis=1)
    out = pd.concat([raw, scores], axis=1)
    out["loyalty_index"] = scores.fillna(0).mul(w, axis=1).sum(axis=1) / wsum.where(wsum > 0)
    out["n_measures"] = present.loc[:, w[w > 0].index].sum(axis=1).astype("int64")
    return out.rename_axis(customer_col)


def loyalty_matrix(data: pd.DataFrame, *, attitudinal: str, behavioural: str,
                   cut: str | float | tuple[str | float, str | float] = "median") -> pd.DataFrame:
    """Dick & Basu's (1994) loyalty matrix: relative attitude × repeat patronage.

    A customer is *high* on a dimension when strictly above the cut (``"median"``,
    ``"mean"``, a number, or a pair ``(attitude_cut, behaviour_cut)``). Cells: **true
    loyalty** (high, high), **latent loyalty** (high attitude, low patronage: won over but
    held back, e.g. by price or access), **spurious loyalty** (low attitude, high patronage:
    inertia or convenience, the first to leave when a competitor comes close) and **no loyalty**.
    A ``"median"``/``"mean"`` cut of a column with a single value cannot split it and
    raises ``ValueError`` (pass a number instead).

    Returns
    -------
    A copy of ``data`` with ``high_attitude``, ``high_behaviour`` and ``loyalty_type``.

    >>> df = pd.DataFrame({"att": [6, 6, 2, 2], "orders": [9, 1, 9, 1]})
    >>> loyalty_matrix(df, attitudinal="att", behavioural="orders", cut=(4, 5))["loyalty_type"].tolist()
    ['true loyalty', 'latent loyalty', 'spurious loyalty', 'no loyalty']
    """
    df = check_frame(data, numeric=[attitudinal, behavioural], not_missing=[attitudinal, behavioural], name="data")
    a_cut, b_cut = cut if isinstance(cut, tuple) else (cut, cut)
    ac = _cut(df[attitudinal].astype(float), a_cut, name="cut", what=f"data column {attitudinal!r}")
    bc = _cut(df[behavioural].astype(float), b_cut, name="cut", what=f"data column {behavioural!r}")
    out = df.copy()
    out["high_attitude"] = df[attitudinal] > ac
    out["high_behaviour"] = df[behavioural] > bc
    out["loyalty_type"] = [LOYALTY_TYPES[(bool(a), bool(b))] for a, b in zip(out["high_attitude"], out["high_behaviour"])]
    out.attrs.update({"attitude_cut": ac, "behaviour_cut": bc})
    return out


def satisfaction_loyalty_curve(data: pd.DataFrame, *, satisfaction: str, loyalty: str,
                               zones: Mapping[str, tuple[float, float]] | None = None,
                               confidence: float = 0.95) -> pd.DataFrame:
    """Loyalty at each satisfaction level, with Jones & Sasser's (1995) zones.

    For every observed satisfaction level: the number of customers, the mean of ``loyalty``
    and its confidence interval (Wilson for a 0/1 loyalty such as "bought again", a
    t-interval otherwise), and the zone: *defection*, *indifference* or *affection*. A
    non-binary loyalty measure observed only once at a level has no t-interval: its
    ``ci_low``/``ci_high`` are NaN there by design (``n`` is 1).

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


def programme_effect(customers: pd.DataFrame, transactions: pd.DataFrame, *, observation_end: str | pd.Timestamp,
                     lookback_days: int = 91, confidence: float = 0.95,
                     random_state: int | np.random.Generator | np.random.RandomState | None = 0,
                     customer_col: str = CUSTOMER, date_col: str = DATE) -> pd.DataFrame:
    r"""Did the loyalty programme make members buy more? Three answers, from naive to honest.

    Customers choose to join, and the ones who join are the ones who already buy more, so a
    plain members-vs-non-members comparison mixes the programme's effect with who joined.
    All estimates are *rate ratios* (purchase rate with the programme / without);
    ``effect = rate_ratio - 1`` is the relative increase.

    - ``naive``: purchases per week since the first order, members / non-members.
    - ``regression``: purchases in the ``lookback_days`` after joining, members vs non-members,
      in a Poisson regression (statsmodels GLM, robust errors) adjusting for pre-join behaviour:
      purchases in the ``lookback_days`` before, the purchase rate since the first order and
      tenure. A non-member's "join date" is one of their purchases drawn at random
      (``random_state``), since members join at a purchase.
    - ``before_after``: each member is their own control. With equal windows before and after
      joining, the fixed-effects Poisson estimate is :math:`\hat\theta = \sum_i n_{i,\text{after}} /
      \sum_i n_{i,\text{before}}`; the interval is exact (Clopper-Pearson on
      :math:`\sum n_\text{after} / \sum (n_\text{after} + n_\text{before})`). Anything constant
      about a member (their purchase rate) cancels, which is why this is the adjusted estimate
      to report. It still leans upwards a little: a member's purchases before joining are
      purchases at which they did *not* join, so frequent joiners have slightly thinned
      "before" counts (by about the per-purchase joining probability).

    Only joins with a full window on both sides (first order at least ``lookback_days`` before
    joining and ``lookback_days`` of data after, up to the end of the day ``observation_end``)
    are used; ``n`` says how many.

    Parameters
    ----------
    customers : needs ``customer_col``, ``is_member``, ``member_since``.
    transactions : needs ``customer_col``, ``date_col``.
    observation_end : last day of the data (its whole day counts).
    lookback_days : length of the before window, in days; the after window has the same
        length, as the before/after estimate needs equal exposure (default 91 = 13 weeks).
    confidence : level of the intervals.
    random_state : int, None, Generator or RandomState; draws the non-members' placebo join dates.
    customer_col, date_col : column names.

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
    days = check_positive_int(lookback_days, name="lookback_days")
    rng = np.random.default_rng(random_state)  # int, None, Generator or RandomState
    cust = check_frame(customers, required=[customer_col, "is_member", "member_since"], dates=["member_since"],
                       not_missing=[customer_col, "is_member"], unique=customer_col, name="customers")
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=None,
                            observation_end=end)
    stop = window_end(end)
    member = cust.set_index(customer_col)["is_member"].astype(bool)
    since = cust.set_index(customer_col)["member_since"]
    if since[member].isna().any():
        bad = since[member & since.isna()].index[0]
        raise ValueError(f"customers: member {bad!r} has no member_since date; every member needs a join date.")
    tx = (tx[[customer_col, date_col]].rename(columns={customer_col: "customer_id", date_col: "date"})
          .sort_values(["customer_id", "date"], kind="stable"))
    unknown = ~tx["customer_id"].isin(member.index)
    if unknown.any():
        raise ValueError(f"transactions has {customer_col} {tx.loc[unknown, 'customer_id'].iloc[0].item()!r} that is not in "
                         f"customers; pass the customers table that covers every buyer.")
    is_mem = tx["customer_id"].map(member)
    if not is_mem.any() or is_mem.all():
        raise ValueError("programme_effect needs both members and non-members who bought.")

    # naive: purchases per week since the first order
    g = tx.groupby("customer_id")["date"].agg(["size", "min"])
    g["weeks"] = (stop - g["min"]).dt.total_seconds() / 604800
    g["member"] = member.reindex(g.index)
    rate = lambda part: part["size"].sum() / part["weeks"].sum()  # noqa: E731
    naive = rate(g[g["member"]]) / rate(g[~g["member"]])
    log_se = math.sqrt(1 / g.loc[g["member"], "size"].sum() + 1 / g.loc[~g["member"], "size"].sum())
    z = stats.norm.ppf(0.5 + level / 2)

    # index dates: join date for members, a random purchase for non-members
    non = tx[~is_mem]
    counts = non.groupby("customer_id").size()
    pick = (rng.random(len(counts)) * counts.to_numpy()).astype(int)
    starts = np.r_[0, np.cumsum(counts.to_numpy())[:-1]]
    placebo = pd.Series(non["date"].to_numpy()[starts + pick], index=counts.index)
    index = pd.concat([since[member].dropna(), placebo]).rename("index_date")
    w = pd.Timedelta(days=days)
    first = g["min"]
    df = pd.DataFrame({"index_date": index, "first": first.reindex(index.index)}).dropna()
    df = df[(df["first"] <= df["index_date"] - w) & (df["index_date"] + w < stop)]
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
        raise ValueError(f"Only {n_mem} member(s) joined with {days} days of data on both sides; "
                         f"use a shorter lookback_days or a longer observation period.")

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
    out.attrs.update({"lookback_days": days})
    return out
