"""Customer journeys (客户旅程), channels (全渠道) and moments of truth (关键时刻, MOT).

- :func:`funnel`: how many sessions reach each journey step (visit → browse → cart →
  purchase), the conversion of each step and overall, by channel or segment.
- :func:`top_paths`: the most common event paths of converting sessions and how long
  they take.
- :func:`channel_profile` and :func:`omnichannel_summary`: how many channels each
  customer uses and how single- and multi-channel customers differ;
  :func:`channel_experience`: is satisfaction consistent across channels?
- :func:`experience_table`, :func:`complaint_followup` and :func:`moments_of_truth`:
  which experiences (complaints, their resolution, service contacts, abandoned carts)
  move satisfaction, conversion or repurchase most, estimated by regression (statsmodels).

Examples
--------
>>> import pandas as pd
>>> import crmlab as crm
>>> tp = pd.DataFrame({"session_id": [1, 1, 1, 2, 2],
...                    "event": ["visit", "browse", "purchase", "visit", "browse"]})
>>> crm.journey.funnel(tp, steps=("visit", "browse", "purchase"))[["step", "sessions"]]
       step  sessions
0     visit         2
1    browse         2
2  purchase         1
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab.data.columns import AMOUNT, CHANNEL, CUSTOMER, DATE, EVENT, SESSION, TIMESTAMP, TRANSACTION
from crmlab.features import customer_features
from crmlab.satisfaction import _resolution_days
from crmlab.time import window_end
from crmlab.validation import (
    check_choice,
    check_fraction,
    check_frame,
    check_numeric,
    check_positive_int,
    check_timestamp,
    check_transactions,
    suggest_names,
)

__all__ = [
    "funnel",
    "top_paths",
    "channel_profile",
    "omnichannel_summary",
    "channel_experience",
    "experience_table",
    "complaint_followup",
    "moments_of_truth",
]

DEFAULT_STEPS = ("visit", "browse", "cart", "purchase")


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _check_session_constant(df: pd.DataFrame, session_col: str, cols: list[str]) -> None:
    for col in cols:
        varies = df.groupby(session_col, sort=False)[col].nunique(dropna=False) > 1
        if varies.any():
            raise ValueError(
                f"column {col!r} varies within session {_scalar(varies[varies].index[0])!r}; a funnel splits "
                f"whole sessions, so {col!r} needs one value per session (e.g. the session's channel, "
                f"or the customer's segment)."
            )


# --------------------------------------------------------------------------- funnel
def funnel(touchpoints: pd.DataFrame, steps: Sequence[str] = DEFAULT_STEPS, *, by: str | Sequence[str] | None = None,
           strict: bool = True, session_col: str = SESSION, event_col: str = EVENT) -> pd.DataFrame:
    r"""Conversion funnel (转化漏斗): sessions reaching each journey step.

    A session *reaches* step :math:`s` when it contains that event and (with
    ``strict=True``) every earlier step too, so the counts can only fall along the
    funnel. With :math:`n_s` sessions reaching step :math:`s`,

    .. math:: \text{step conversion}_s = \frac{n_s}{n_{s-1}}, \qquad
              \text{overall conversion}_s = \frac{n_s}{n_1}.

    Parameters
    ----------
    touchpoints : one row per event, with ``session_col`` and ``event_col``.
    steps : the journey steps in order.
    by : column(s) constant within a session (``"channel"``, or a customer attribute
        such as a segment merged in first) to get one funnel per group.
    strict : require the earlier steps (True) or only the event itself (False).

    Returns
    -------
    Tidy DataFrame: ``by`` columns, ``step``, ``step_no`` (1 = first), ``sessions``,
    ``step_conversion``, ``overall_conversion``, ``drop_off`` (= 1 - step conversion).

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"session_id": [1, 1, 1, 2, 2, 3],
    ...                    "event": ["visit", "cart", "purchase", "visit", "cart", "visit"]})
    >>> funnel(tp, steps=("visit", "cart", "purchase"))[["step", "sessions", "step_conversion"]]
           step  sessions  step_conversion
    0     visit         3         1.000000
    1      cart         2         0.666667
    2  purchase         1         0.500000
    """
    by = _as_list(by)
    step_list: list[str] = list(steps) if not isinstance(steps, str) else []
    if not step_list or len(set(step_list)) != len(step_list):
        raise ValueError("steps must be a sequence of at least one distinct event name, "
                         "e.g. ('visit', 'browse', 'cart', 'purchase').")
    df = check_frame(touchpoints, required=[session_col, event_col, *by],
                     not_missing=[session_col, event_col, *by], name="touchpoints")
    present = set(df[event_col].unique())
    for s in step_list:
        if s not in present:
            raise ValueError(f"step {s!r} never occurs in touchpoints[{event_col!r}].{suggest_names(s, present)} "
                             f"Events present: {sorted(map(str, present))}.")
    _check_session_constant(df, session_col, by)
    has = (df.groupby([session_col, event_col]).size().unstack(fill_value=0)
           .reindex(columns=step_list, fill_value=0) > 0)
    reached = has.cumprod(axis=1).astype(bool) if strict else has
    if by:
        keys = df.drop_duplicates(session_col).set_index(session_col)[by]
        counts = reached.join(keys).groupby(by, sort=True)[step_list].sum().reset_index()
        long = counts.melt(id_vars=by, value_vars=step_list, var_name="step", value_name="sessions")
    else:
        long = pd.DataFrame({"step": step_list, "sessions": reached[step_list].sum().to_numpy()})
    long["step_no"] = long["step"].map({s: i + 1 for i, s in enumerate(step_list)})
    long = long.sort_values([*by, "step_no"], kind="stable").reset_index(drop=True)
    if by:
        grp = long.groupby(by, sort=False)["sessions"]
        first, prev = grp.transform("first"), grp.shift(1)
    else:
        first, prev = long["sessions"].iloc[0], long["sessions"].shift(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        long["step_conversion"] = np.where(long["step_no"] == 1, 1.0, long["sessions"] / prev)
        long["overall_conversion"] = long["sessions"] / first
    long["drop_off"] = 1 - long["step_conversion"]
    long["sessions"] = long["sessions"].astype("int64")
    cols = [*by, "step", "step_no", "sessions", "step_conversion", "overall_conversion", "drop_off"]
    return long[cols].sort_values([*by, "step_no"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- paths
def top_paths(touchpoints: pd.DataFrame, *, n: int = 10, outcome: str | None = "purchase",
              collapse_repeats: bool = True, session_col: str = SESSION, event_col: str = EVENT,
              date_col: str = TIMESTAMP, sep: str = " > ") -> pd.DataFrame:
    """Most common event paths per session, and how long converting paths take.

    Each session's events are put in time order and joined into a path such as
    ``"visit > browse > cart > purchase"``. With ``outcome="purchase"`` only sessions
    that reach the outcome are kept, each cut at its first outcome event, and the time
    from the first event to the outcome is the time to convert.

    Parameters
    ----------
    n : number of paths to return (most common first).
    outcome : event that ends a converting path; ``None`` keeps all sessions whole
        and adds each path's conversion rate instead of timings.
    collapse_repeats : write repeated consecutive events once (browse > browse → browse).
    session_col, event_col, date_col : column names (``date_col`` is the event time).

    Returns
    -------
    DataFrame: ``path``, ``steps`` (events in the path), ``sessions``, ``share`` (of
    the sessions in scope); with an outcome also ``median_minutes`` and
    ``mean_minutes`` from the first event to the outcome.

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({
    ...     "session_id": [1, 1, 1, 2, 2, 3, 3, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:20",
    ...                                  "2024-01-02 09:00", "2024-01-02 09:10",
    ...                                  "2024-01-03 12:00", "2024-01-03 12:01", "2024-01-03 12:30"]),
    ...     "event": ["visit", "cart", "purchase", "visit", "purchase", "visit", "cart", "purchase"]})
    >>> top_paths(tp)[["path", "sessions", "median_minutes"]]
                          path  sessions  median_minutes
    0  visit > cart > purchase         2            25.0
    1         visit > purchase         1            10.0
    """
    n = check_positive_int(n, name="n")
    df = check_frame(touchpoints, required=[session_col, event_col], dates=[date_col],
                     not_missing=[session_col, event_col, date_col], name="touchpoints")
    if outcome is not None and outcome not in set(df[event_col]):
        raise ValueError(f"outcome {outcome!r} never occurs in touchpoints[{event_col!r}]."
                         f"{suggest_names(outcome, set(df[event_col]))} Pass outcome=None to see all paths.")
    df = df.assign(_order=np.arange(len(df))).sort_values([session_col, date_col, "_order"], kind="stable")
    if outcome is not None:
        is_out = df[event_col].eq(outcome)
        # events after the first outcome are not part of the path to it
        after = (is_out.astype(int).groupby(df[session_col]).cumsum() - is_out.astype(int)) > 0
        converted = is_out.groupby(df[session_col]).transform("any")
        df = df[converted & ~after]
    if df.empty:
        raise ValueError(f"No session reaches {outcome!r}; pass outcome=None to see all paths.")
    if collapse_repeats:
        same = df[event_col].eq(df.groupby(session_col)[event_col].shift())
        df = df[~same]
    df = df.assign(**{event_col: df[event_col].astype(str)})
    g = df.groupby(session_col, sort=True)
    steps = g[event_col].size()
    # df is sorted by session, so each session is one contiguous run of rows: join by slicing
    # (a per-group lambda builds one Series per session and dominates the run time)
    events = df[event_col].to_numpy(dtype=object)
    ids = df[session_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    paths = pd.Series([sep.join(events[a:b]) for a, b in zip(starts, ends)], index=steps.index)
    per = pd.DataFrame({"path": paths, "steps": steps})
    if outcome is not None:
        per["minutes"] = (g[date_col].max() - g[date_col].min()).dt.total_seconds() / 60
        out = per.groupby("path").agg(steps=("steps", "first"), sessions=("steps", "size"),
                                      median_minutes=("minutes", "median"), mean_minutes=("minutes", "mean"))
    else:
        out = per.groupby("path").agg(steps=("steps", "first"), sessions=("steps", "size"))
    out["share"] = out["sessions"] / len(per)
    out = out.reset_index().sort_values(["sessions", "path"], ascending=[False, True], kind="stable")
    cols = ["path", "steps", "sessions", "share"] + (["median_minutes", "mean_minutes"] if outcome else [])
    return out[cols].head(n).reset_index(drop=True)


# --------------------------------------------------------------------------- channels
def channel_profile(transactions: pd.DataFrame, *, observation_end: str | pd.Timestamp | None = None,
                    customer_col: str = CUSTOMER, date_col: str = DATE, channel_col: str = CHANNEL,
                    amount_col: str = AMOUNT) -> pd.DataFrame:
    """Per customer: orders, spend and how they spread across channels (全渠道).

    The per-customer columns are :func:`crmlab.features.customer_features` with
    ``channel_col`` (same names and definitions); the journey adds how the orders spread.

    Parameters
    ----------
    transactions : one row per order with ``customer_col``, ``date_col``, ``channel_col``
        and ``amount_col`` (refunds, i.e. negative amounts, must be netted first).
    observation_end : the snapshot date (its whole day counts); default the day of the last
        order, since nothing here depends on it.

    Returns
    -------
    DataFrame indexed by customer: ``n_orders``, ``total_spend``, ``mean_order_value``,
    ``n_channels``, ``main_channel`` (most orders; ties → alphabetical),
    ``main_channel_share`` (its share of the orders), ``channels`` (e.g. ``"app+store"``),
    ``multichannel``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "channel": ["app", "store", "app", "web"],
    ...                    "amount": [10.0, 20.0, 30.0, 5.0],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-02-01", "2024-01-09"])})
    >>> channel_profile(tx)[["n_orders", "n_channels", "main_channel", "channels"]].reset_index()
       customer_id  n_orders  n_channels main_channel   channels
    0            1         3           2          app  app+store
    1            2         1           1          web        web
    """
    df = check_frame(transactions, required=[customer_col, date_col, channel_col], dates=[date_col],
                     not_missing=[date_col], name="transactions")
    if observation_end is None:
        observation_end = df[date_col].max()
    feats = customer_features(transactions, observation_end=observation_end, customer_col=customer_col,
                              date_col=date_col, amount_col=amount_col, channel_col=channel_col)
    share_cols = [f"share_{c}" for c in sorted(df[channel_col].astype(str).unique())]
    shares = feats[share_cols]
    used = shares > 0
    names = [c[len("share_"):] for c in share_cols]
    out = feats[["n_orders", "total_spend", "mean_order_value", "n_channels", "main_channel"]].copy()
    out["main_channel"] = out["main_channel"].astype("str")
    out["main_channel_share"] = shares.max(axis=1)
    out["channels"] = used.apply(lambda r: "+".join(n for n, u in zip(names, r) if u), axis=1).astype("str")
    out["multichannel"] = out["n_channels"] > 1
    out.index.name = customer_col
    out.columns.name = None
    return out


def omnichannel_summary(transactions: pd.DataFrame, *, surveys: pd.DataFrame | None = None,
                        by: str = "n_channels", observation_end: str | pd.Timestamp | None = None,
                        customer_col: str = CUSTOMER, date_col: str = DATE, channel_col: str = CHANNEL,
                        amount_col: str = AMOUNT, score_cols: Sequence[str] = ("csat", "nps")) -> pd.DataFrame:
    """Compare customers by the channels they use: value and satisfaction per group.

    Parameters
    ----------
    by : a column of :func:`channel_profile` to group on (``"n_channels"``,
        ``"multichannel"``, ``"main_channel"``, ``"channels"``).
    surveys : optional survey answers (``customer_col`` plus ``score_cols``); each
        customer's mean score is added before averaging per group.
    observation_end, customer_col, date_col, channel_col, amount_col : as in :func:`channel_profile`.

    Returns
    -------
    DataFrame indexed by ``by``: ``customers``, ``share``, ``n_orders`` and ``total_spend``
    (means per customer), ``mean_order_value`` (total spend / total orders of the group),
    and ``mean_<score>`` / ``respondents`` when surveys are given (a group without
    respondents has NaN mean scores and 0 respondents).

    Notes
    -----
    Customers who buy more often have more chances to try another channel, so a raw
    "multi-channel customers spend more" partly reflects frequency. Compare
    ``mean_order_value``, or regress spend on ``n_channels`` and ``n_orders``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "channel": ["app", "store", "web"],
    ...                    "amount": [10.0, 20.0, 5.0],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-09"])})
    >>> omnichannel_summary(tx)[["customers", "n_orders", "total_spend"]].reset_index()
       n_channels  customers  n_orders  total_spend
    0           1          1       1.0          5.0
    1           2          1       2.0         30.0
    """
    prof = channel_profile(transactions, observation_end=observation_end, customer_col=customer_col,
                           date_col=date_col, channel_col=channel_col, amount_col=amount_col)
    check_choice(by, [c for c in prof.columns if c not in ("n_orders", "total_spend", "mean_order_value",
                                                             "main_channel_share")], name="by")
    aggs = {"customers": ("n_orders", "size"), "n_orders": ("n_orders", "mean"),
            "total_spend": ("total_spend", "mean")}
    if surveys is not None:
        score_cols = list(score_cols)
        sv = check_frame(surveys, required=[customer_col], numeric=score_cols, name="surveys")
        unknown = ~sv[customer_col].isin(prof.index)
        if unknown.any():
            raise ValueError(f"surveys has {int(unknown.sum())} answer(s) by customers with no order in transactions "
                             f"(e.g. {sv.loc[unknown, customer_col].iloc[0]!r}); pass the matching transactions.")
        means = sv.groupby(customer_col)[score_cols].mean()
        prof = prof.join(means.add_prefix("mean_"))
        for c in score_cols:
            aggs[f"mean_{c}"] = (f"mean_{c}", "mean")
        aggs["respondents"] = (f"mean_{score_cols[0]}", "count")
    out = prof.groupby(by, sort=True).agg(**aggs)
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    out.insert(4, "mean_order_value", out["total_spend"] / out["n_orders"])
    out["n_orders"] = out["n_orders"].astype(float)
    return out


def channel_experience(surveys: pd.DataFrame, transactions: pd.DataFrame, *,
                       score_cols: Sequence[str] = ("csat", "nps"), channel_col: str = CHANNEL,
                       transaction_col: str = TRANSACTION, confidence: float = 0.95) -> pd.DataFrame:
    """Satisfaction by the channel of the purchase that was surveyed (渠道一致性).

    A consistent omnichannel experience shows similar scores in every channel; a
    channel whose interval lies clearly below the others is where to look.

    Returns
    -------
    DataFrame indexed by channel: ``responses`` and, per score, ``mean_<score>``,
    ``ci_low_<score>``, ``ci_high_<score>`` (t interval), and ``gap_<score>`` (mean
    minus the mean over all responses). A channel with a single response has no
    t-interval: its ``ci_low_<score>``/``ci_high_<score>`` are NaN by design.

    Examples
    --------
    >>> import pandas as pd
    >>> sv = pd.DataFrame({"transaction_id": [1, 2, 3, 4], "csat": [5, 4, 2, 3]})
    >>> tx = pd.DataFrame({"transaction_id": [1, 2, 3, 4], "channel": ["app", "app", "web", "web"]})
    >>> channel_experience(sv, tx, score_cols=["csat"])[["responses", "mean_csat", "gap_csat"]].reset_index()
      channel  responses  mean_csat  gap_csat
    0     app          2        4.5       1.0
    1     web          2        2.5      -1.0
    """
    from scipy import stats

    score_cols = list(score_cols)
    level = check_fraction(confidence, name="confidence")
    sv = check_frame(surveys, required=[transaction_col], numeric=score_cols,
                     not_missing=[transaction_col, *score_cols], name="surveys")
    tx = check_frame(transactions, required=[transaction_col, channel_col],
                     not_missing=[transaction_col, channel_col], unique=transaction_col, name="transactions")
    merged = sv[[transaction_col, *score_cols]].merge(tx[[transaction_col, channel_col]], on=transaction_col,
                                                      how="left")
    lost = merged[channel_col].isna()
    if lost.any():
        raise ValueError(f"{int(lost.sum())} survey(s) refer to a {transaction_col} missing from transactions "
                         f"(e.g. {merged.loc[lost, transaction_col].tolist()[0]!r}); pass the matching transactions.")
    g = merged.groupby(channel_col, sort=True)
    out = pd.DataFrame({"responses": g.size()})
    for c in score_cols:
        m, s, k = g[c].mean(), g[c].std(ddof=1), g[c].count()
        half = stats.t.ppf(0.5 + level / 2, np.maximum(k - 1, 1)) * s / np.sqrt(k)
        out[f"mean_{c}"] = m
        out[f"ci_low_{c}"] = m - half
        out[f"ci_high_{c}"] = m + half
        out[f"gap_{c}"] = m - merged[c].mean()
    return out


# --------------------------------------------------------------------------- moments of truth
def experience_table(surveys: pd.DataFrame, interactions: pd.DataFrame, *,
                     touchpoints: pd.DataFrame | None = None, lookback_days: float | None = None,
                     slow_days: float = 5.0, customer_col: str = CUSTOMER, date_col: str = DATE,
                     session_col: str = SESSION, event_col: str = EVENT,
                     touchpoint_date_col: str = TIMESTAMP) -> pd.DataFrame:
    """Per survey answer: what the customer experienced before answering.

    Each survey row gets 0/1 indicators of the experiences in the ``lookback_days``
    before its date (all earlier history when ``None``):

    - ``inquiry``: contacted the service desk with a question;
    - ``complaint``: filed a complaint;
    - ``complaint_resolved``: filed complaints, all of them resolved;
    - ``complaint_unresolved``: at least one complaint was not resolved;
    - ``slow_resolution``: a resolved complaint took more than ``slow_days`` days;
    - ``abandoned_cart`` (with ``touchpoints``): a session with a cart and no purchase.

    ``customer_col`` and ``date_col`` name the customer and the date in ``surveys`` and
    ``interactions``; ``session_col``, ``event_col`` and ``touchpoint_date_col`` the
    session, the journey step and the event time in ``touchpoints``.

    Returns
    -------
    The survey columns plus the indicator columns (int 0/1), one row per survey.

    Examples
    --------
    >>> import pandas as pd
    >>> sv = pd.DataFrame({"survey_id": [1, 2], "customer_id": [1, 2],
    ...                    "date": pd.to_datetime(["2024-03-01", "2024-03-01"]), "csat": [2, 5]})
    >>> it = pd.DataFrame({"customer_id": [1], "date": pd.to_datetime(["2024-02-01"]),
    ...                    "type": ["complaint"], "resolved": [False], "resolution_days": [float("nan")]})
    >>> experience_table(sv, it)[["survey_id", "complaint", "complaint_unresolved"]]
       survey_id  complaint  complaint_unresolved
    0          1          1                     1
    1          2          0                     0
    """
    sv = check_frame(surveys, required=[customer_col], dates=[date_col], not_missing=[customer_col, date_col],
                     name="surveys")
    it = check_frame(interactions, required=[customer_col, "type", "resolved", "resolution_days"],
                     dates=[date_col], not_missing=[customer_col, date_col, "type"], allow_empty=True,
                     name="interactions")
    it["resolution_days"] = _resolution_days(it["resolution_days"])
    for name, value in (("lookback_days", lookback_days), ("slow_days", slow_days)):
        if value is None and name == "lookback_days":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < np.inf:
            raise ValueError(f"{name} must be a positive number of days{' or None' if name == 'lookback_days' else ''}, "
                             f"got {value!r}.")
    unknown = set(it["type"]) - {"inquiry", "complaint"}
    if unknown:
        raise ValueError(f"interactions['type'] has unknown value(s) {sorted(map(str, unknown))}; "
                         f"expected 'inquiry' or 'complaint'.")
    sv = sv.assign(_row=np.arange(len(sv)))
    it = it.rename(columns={customer_col: "_cust", date_col: "_date"})
    events = it.assign(
        inquiry=it["type"].eq("inquiry"),
        complaint=it["type"].eq("complaint"),
        unresolved=it["type"].eq("complaint") & ~it["resolved"].astype(bool),
        slow=it["type"].eq("complaint") & it["resolved"].astype(bool) & (it["resolution_days"] > slow_days),
    )[["_cust", "_date", "inquiry", "complaint", "unresolved", "slow"]]
    if touchpoints is not None:
        tp = check_frame(touchpoints, required=[session_col, customer_col, event_col], dates=[touchpoint_date_col],
                         not_missing=[session_col, customer_col, event_col, touchpoint_date_col], name="touchpoints")
        per = tp.assign(cart=tp[event_col].eq("cart"), bought=tp[event_col].eq("purchase")).groupby(session_col).agg(
            _cust=(customer_col, "first"), _date=(touchpoint_date_col, "max"), cart=("cart", "any"),
            bought=("bought", "any"))
        ab = per[per["cart"] & ~per["bought"]][["_cust", "_date"]].assign(abandoned=True)
        events = pd.concat([events.assign(abandoned=False), ab], ignore_index=True).fillna(
            {"inquiry": False, "complaint": False, "unresolved": False, "slow": False})
    flags = [c for c in ["inquiry", "complaint", "unresolved", "slow", "abandoned"] if c in events.columns]
    pairs = sv[["_row", customer_col, date_col]].merge(events, left_on=customer_col, right_on="_cust", how="inner")
    before = pairs["_date"] < pairs[date_col]
    if lookback_days is not None:
        before &= pairs["_date"] >= pairs[date_col] - pd.Timedelta(days=lookback_days)
    agg = pairs[before].groupby("_row")[flags].any().reindex(sv["_row"], fill_value=False)
    out = sv.drop(columns="_row").reset_index(drop=True)
    out["inquiry"] = agg["inquiry"].to_numpy().astype("int64")
    out["complaint"] = agg["complaint"].to_numpy().astype("int64")
    out["complaint_unresolved"] = agg["unresolved"].to_numpy().astype("int64")
    out["complaint_resolved"] = (out["complaint"] == 1) & (out["complaint_unresolved"] == 0)
    out["complaint_resolved"] = out["complaint_resolved"].astype("int64")
    out["slow_resolution"] = agg["slow"].to_numpy().astype("int64")
    if "abandoned" in flags:
        out["abandoned_cart"] = agg["abandoned"].to_numpy().astype("int64")
    return out


def complaint_followup(interactions: pd.DataFrame, transactions: pd.DataFrame, *,
                       observation_end: str | pd.Timestamp, horizon_days: float = 180, slow_days: float = 5.0,
                       customer_col: str = CUSTOMER, date_col: str = DATE) -> pd.DataFrame:
    """Per complaint: how it was handled and whether the customer bought again.

    The complaint is the classic moment of truth of service: handled well, it can
    restore the relationship (service recovery); handled badly, the customer leaves.
    Only complaints whose whole follow-up window (``horizon_days`` after the complaint) ends
    by the end of the day ``observation_end`` are kept, so every complaint has the same
    follow-up window. Events after ``observation_end`` raise an error (filter them first).

    Parameters
    ----------
    interactions : service contacts with ``interaction_id``, ``customer_id``, ``date``,
        ``type``, ``resolved``, ``resolution_days`` (other columns are carried along).
    transactions : purchases with ``customer_col`` and ``date_col``.
    observation_end : last day of the data (its whole day counts).
    horizon_days : follow-up window after the complaint.
    slow_days : resolutions taking longer than this count as slow.

    Returns
    -------
    DataFrame, one row per complaint: the complaint's columns plus ``unresolved``,
    ``slow_resolution`` (resolved, but after more than ``slow_days``) and
    ``repurchased`` (a purchase within ``horizon_days`` after the complaint), all 0/1.

    Examples
    --------
    >>> import pandas as pd
    >>> it = pd.DataFrame({"interaction_id": [1, 2], "customer_id": [1, 2], "type": ["complaint"] * 2,
    ...                    "date": pd.to_datetime(["2024-01-10", "2024-02-01"]),
    ...                    "resolved": [True, False], "resolution_days": [2.0, float("nan")]})
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-03-01", "2024-01-01"])})
    >>> complaint_followup(it, tx, observation_end="2024-12-31")[["interaction_id", "unresolved", "repurchased"]]
       interaction_id  unresolved  repurchased
    0               1           0            1
    1               2           1            0
    """
    end = check_timestamp(observation_end, name="observation_end")
    for name, value in (("horizon_days", horizon_days), ("slow_days", slow_days)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number of days, got {value!r}.")
    it = check_frame(interactions, required=["interaction_id", customer_col, "type", "resolved", "resolution_days"],
                     dates=[date_col], not_missing=["interaction_id", customer_col, date_col, "type", "resolved"],
                     unique="interaction_id", name="interactions")
    it["resolution_days"] = _resolution_days(it["resolution_days"])
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=None,
                            observation_end=end)
    stop = window_end(end)
    late = it[date_col] >= stop
    if late.any():
        raise ValueError(f"interactions has {int(late.sum())} event(s) in {date_col!r} after observation_end="
                         f"{end.date()} (latest {it.loc[late, date_col].max()}). Filter them out first or "
                         f"move observation_end later.")
    horizon = pd.Timedelta(days=horizon_days)
    comp = it[(it["type"] == "complaint") & (it[date_col] + horizon < stop)].reset_index(drop=True)
    if comp.empty:
        raise ValueError(f"No complaint has its {horizon_days}-day follow-up window inside the data (up to "
                         f"observation_end={end.date()}); shorten horizon_days or pass more data.")
    pairs = comp[["interaction_id", customer_col, date_col]].merge(
        tx[[customer_col, date_col]].rename(columns={date_col: "_tx"}), on=customer_col, how="inner")
    within = (pairs["_tx"] > pairs[date_col]) & (pairs["_tx"] <= pairs[date_col] + horizon)
    again = set(pairs.loc[within, "interaction_id"])
    resolved = comp["resolved"].astype(bool)
    out = comp.copy()
    out["unresolved"] = (~resolved).astype("int64")
    out["slow_resolution"] = (resolved & (comp["resolution_days"] > slow_days)).astype("int64")
    out["repurchased"] = comp["interaction_id"].isin(again).astype("int64")
    return out


def moments_of_truth(table: pd.DataFrame, *, outcome: str, factors: Sequence[str],
                     controls: Sequence[str] = (), kind: str = "ols", confidence: float = 0.95) -> pd.DataFrame:
    r"""Rank experiences by how much they move an outcome (关键时刻分析).

    Fits one regression of the outcome on all factors together (plus controls),

    .. math:: y_i = \beta_0 + \sum_f \beta_f x_{fi} + \gamma^\top z_i + \varepsilon_i,

    with ``kind="ols"`` (e.g. CSAT; heteroskedasticity-robust HC3 standard errors) or
    ``kind="logit"`` (a 0/1 outcome such as conversion or repurchase; effects are
    average marginal effects, in probability points). A factor's *effect* is the change
    of the outcome when the experience happens; its *impact* is effect × share of
    customers exposed — what the average outcome would gain if the moment were fixed for
    everyone. Managers rank moments of truth by impact and fixability.

    Parameters
    ----------
    table : one row per unit (survey answer, session, customer).
    outcome : outcome column (numeric; 0/1 for logit).
    factors : experience columns (0/1 or numeric) to rank.
    controls : other numeric or 0/1 columns to hold constant (not ranked).
    kind : ``"ols"`` or ``"logit"``.

    Returns
    -------
    DataFrame indexed by factor: ``effect``, ``std_err``, ``ci_low``, ``ci_high``,
    ``p_value``, ``n_exposed`` (rows where the factor is non-zero), ``share_exposed``,
    ``impact``; sorted by the absolute effect.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame({"complaint": rng.integers(0, 2, 500), "inquiry": rng.integers(0, 2, 500)})
    >>> t["csat"] = 4 - 1.0 * t["complaint"] + rng.normal(0, 0.5, 500)
    >>> mot = moments_of_truth(t, outcome="csat", factors=["complaint", "inquiry"])
    >>> mot.index.tolist(), bool(abs(mot.loc["complaint", "effect"] + 1) < 0.2)
    (['complaint', 'inquiry'], True)
    """
    import statsmodels.api as sm  # imported here: statsmodels takes seconds to import

    check_choice(kind, ["ols", "logit"], name="kind")
    factors, controls = list(factors), list(controls)
    if not factors:
        raise ValueError("factors must name at least one column, e.g. factors=['complaint'].")
    overlap = set(factors) & set(controls)
    if overlap or outcome in factors + controls:
        raise ValueError(f"outcome, factors and controls must be different columns; "
                         f"{sorted(overlap | ({outcome} & set(factors + controls)))} appear twice.")
    cols = [outcome, *factors, *controls]
    df = check_frame(table, required=cols, not_missing=cols, name="table")
    for c in cols:
        if df[c].dtype == bool:
            df[c] = df[c].astype("int64")
    check_numeric(df, cols, name="table")
    constant = [c for c in factors + controls if df[c].nunique() < 2]
    if constant:
        raise ValueError(f"column {constant[0]!r} has a single value in this table, so its effect cannot be "
                         f"estimated; drop it from factors/controls or use more data.")
    if df[outcome].nunique() < 2:
        raise ValueError(f"outcome {outcome!r} has the single value {_scalar(df[outcome].iloc[0])!r} in this table, so no "
                         f"experience can move it; use another outcome or more data.")
    y = df[outcome].astype(float)
    X = sm.add_constant(df[factors + controls].astype(float), has_constant="add")
    alpha = 1 - check_fraction(confidence, name="confidence")
    if kind == "ols":
        res = sm.OLS(y, X).fit(cov_type="HC3")
        effect, se, p = res.params[factors], res.bse[factors], res.pvalues[factors]
        ci = res.conf_int(alpha=alpha).loc[factors]
        low, high = ci[0], ci[1]
    else:
        if not set(np.unique(y)) <= {0.0, 1.0}:
            raise ValueError(f"kind='logit' needs a 0/1 outcome; {outcome!r} has other values. "
                             f"Use kind='ols' for scores.")
        for f in factors + controls:
            if set(np.unique(df[f])) <= {0, 1}:
                for level in (0, 1):
                    part = y[df[f] == level]
                    if part.nunique() == 1:
                        raise ValueError(
                            f"every row with {f}={level} has {outcome}={int(part.iloc[0])} ({len(part)} rows), so a "
                            f"logit effect of {f!r} is infinite (perfect separation). Drop {f!r}, use kind='ols' "
                            f"(a linear probability model), or use more data.")
        res = sm.Logit(y, X).fit(disp=0, maxiter=100)
        me = res.get_margeff(at="overall").summary_frame(alpha=alpha)
        me = me.loc[factors]
        effect, se, p = me["dy/dx"], me["Std. Err."], me["Pr(>|z|)"]
        low, high = me.iloc[:, 4], me.iloc[:, 5]
    exposed = (df[factors] != 0).sum()
    out = pd.DataFrame({"effect": effect, "std_err": se, "ci_low": low, "ci_high": high, "p_value": p,
                        "n_exposed": exposed.astype("int64"), "share_exposed": exposed / len(df)})
    out["impact"] = out["effect"] * out["share_exposed"]
    out.index.name = "factor"
    out = out.loc[out["effect"].abs().sort_values(ascending=False, kind="stable").index]
    return out
