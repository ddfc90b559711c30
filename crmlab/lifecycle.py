"""The customer lifecycle (客户生命周期): stages, stage transitions and cohort retention.

Lifecycle stages follow the course's sequence 潜在客户 → 初次购买客户 → 重复购买客户 →
忠诚客户, plus two warning stages for customers who stop buying. The stage at the date
``observation_end`` is given by the first rule that applies:

stage         中文          rule at the date ``observation_end`` (first rule that applies wins)
============  ============  =================================================================
prospect      潜在客户      signed up on or before ``observation_end`` but no order yet
lapsed        流失客户      last order more than ``lapsed_days`` days ago
at_risk       流失风险客户  last order more than ``at_risk_days`` days ago
loyal         忠诚客户      at least ``loyal_orders`` orders
repeat        重复购买客户  2 or more orders
new           初次购买客户  exactly 1 order
============  ============  =================================================================
=======
- ``prospect`` (潜在客户): signed up on or before ``observation_end`` but no order yet;
- ``lapsed`` (流失客户): last order more than ``lapsed_days`` days ago;
- ``at_risk`` (流失风险客户): last order more than ``at_risk_days`` days ago;
- ``loyal`` (忠诚客户): at least ``loyal_orders`` orders;
- ``repeat`` (重复购买客户): 2 or more orders;
- ``new`` (初次购买客户): exactly 1 order.

``at_risk_days`` and ``lapsed_days`` are both inactivity thresholds (days without an order,
compared with ``recency_days`` of :func:`crmlab.features.customer_features`): the first
marks a warning, the second a customer counted as lost. Set them from your own purchase
cycle (e.g. lapsed after twice the usual gap between purchases).

Examples
--------
>>> import pandas as pd
>>> customers = pd.DataFrame({"customer_id": [1, 2, 3],
...                           "signup_date": pd.to_datetime(["2024-01-01"] * 3)})
>>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 20.0, 5.0],
...                    "date": pd.to_datetime(["2024-02-01", "2024-06-01", "2024-02-01"])})
>>> lifecycle_stages(tx, customers, observation_end="2024-06-30")["stage"].tolist()
['repeat', 'at_risk', 'prospect']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.data.columns import AMOUNT, CUSTOMER, DATE, SIGNUP
from crmlab.features import _delegate, _resolve_engine, customer_features
from crmlab.time import window_end
from crmlab.validation import (
    check_choice,
    check_frame,
    check_positive_int,
    check_timestamp,
    check_transactions,
)

__all__ = ["STAGES", "STAGE_NAMES_ZH", "lifecycle_stages", "stage_transitions", "cohort_retention"]

#: Lifecycle stages in display order.
STAGES = ("prospect", "new", "repeat", "loyal", "at_risk", "lapsed")
#: Chinese names of the stages.
STAGE_NAMES_ZH = {"prospect": "潜在客户", "new": "初次购买客户", "repeat": "重复购买客户",
                  "loyal": "忠诚客户", "at_risk": "流失风险客户", "lapsed": "流失客户"}
_STAGE_DTYPE = pd.CategoricalDtype(list(STAGES), ordered=True)


def _check_rules(loyal_orders, at_risk_days, lapsed_days) -> tuple[int, int, int]:
    loyal_orders = check_positive_int(loyal_orders, name="loyal_orders", minimum=2)
    at_risk_days = check_positive_int(at_risk_days, name="at_risk_days")
    lapsed_days = check_positive_int(lapsed_days, name="lapsed_days")
    if lapsed_days <= at_risk_days:
        raise ValueError(
            f"lapsed_days={lapsed_days} must be larger than at_risk_days={at_risk_days}: "
            f"customers are at risk before they lapse."
        )
    return loyal_orders, at_risk_days, lapsed_days


def lifecycle_stages(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    observation_end: Any,
    customer_col: str = CUSTOMER,
    date_col: str = DATE,
    amount_col: str = AMOUNT,
    signup_col: str = SIGNUP,
    loyal_orders: int = 5,
    at_risk_days: int = 90,
    lapsed_days: int = 180,
) -> pd.DataFrame:
    """Lifecycle stage of every customer known at the date ``observation_end``.

    A point-in-time view: orders and sign-ups after the day of ``observation_end`` are
    ignored, so the same log gives the stages at any past date (see
    :func:`stage_transitions`). Recency and orders are those of
    :func:`crmlab.features.customer_features`; the rules are listed in the module
    documentation.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order.
    customers : pandas.DataFrame
        One row per customer with the sign-up date; every customer in ``transactions``
        must be in it.
    observation_end : date-like
        Date of the snapshot (its whole day counts).
    customer_col, date_col, amount_col, signup_col : str
        Column names.
    loyal_orders : int
        Orders needed to count as loyal (default 5).
    at_risk_days, lapsed_days : int
        Inactivity thresholds: days without an order after which a buyer is at risk
        (default 90) or lapsed (180).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted): ``stage`` (ordered categorical, see
        :data:`STAGES`), ``stage_zh``, ``recency_days`` (nullable ``Int64``: ``<NA>`` for
        prospects, who have no order to count from), ``n_orders`` and ``total_spend``
        (0 for prospects).
    """
    loyal_orders, at_risk_days, lapsed_days = _check_rules(loyal_orders, at_risk_days, lapsed_days)
    end = check_timestamp(observation_end, name="observation_end")
    customers = check_frame(customers, required=[customer_col, signup_col], dates=[signup_col],
                            not_missing=[customer_col, signup_col], unique=customer_col, name="customers")
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    unknown = pd.Index(tx[customer_col].unique()).difference(customers[customer_col])
    if len(unknown):
        raise ValueError(
            f"transactions has {len(unknown)} customer id(s) missing from customers (e.g. {unknown.tolist()[0]!r}). "
            f"Every buyer needs a customer record: fix the ids or add the missing customers."
        )
    bound = window_end(end)
    if (tx[date_col] < bound).any():
        feats = customer_features(tx, observation_end=end, exclude_after=True, customer_col=customer_col,
                                  date_col=date_col, amount_col=amount_col)
    else:  # nobody had bought yet: everyone known is a prospect
        feats = pd.DataFrame({"recency_days": pd.Series(dtype="int64"), "n_orders": pd.Series(dtype="int64"),
                              "total_spend": pd.Series(dtype="float64")})
    signed_up = customers.loc[customers[signup_col] < bound, customer_col]
    ids = pd.Index(signed_up).union(feats.index).sort_values()
    out = feats.reindex(ids)
    out.index.name = customer_col
    recency = out["recency_days"].astype("float64")
    n_orders = out["n_orders"].fillna(0).astype("int64")
    stage = np.select(
        [n_orders == 0, recency > lapsed_days, recency > at_risk_days, n_orders >= loyal_orders, n_orders >= 2],
        ["prospect", "lapsed", "at_risk", "loyal", "repeat"],
        default="new",
    )
    result = pd.DataFrame({
        "stage": pd.Categorical(stage, dtype=_STAGE_DTYPE),
        "recency_days": out["recency_days"].astype("Int64"),
        "n_orders": n_orders,
        "total_spend": out["total_spend"].fillna(0.0).astype("float64"),
    }, index=out.index)
    result.insert(1, "stage_zh", result["stage"].map(STAGE_NAMES_ZH).astype("str"))
    return result


def stage_transitions(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    observation_start: Any,
    observation_end: Any,
    normalize: bool = True,
    **rules: Any,
) -> pd.DataFrame:
    """Transition matrix between lifecycle stages at two dates.

    Rows are the stages at the end of the day ``observation_start``, columns the stages at
    the end of ``observation_end``, for the customers known at ``observation_start``
    (customers acquired later are not in the matrix: count them with
    :func:`lifecycle_stages` at ``observation_end``).

    Parameters
    ----------
    transactions, customers : pandas.DataFrame
        As in :func:`lifecycle_stages`.
    observation_start, observation_end : date-like
        The two snapshot dates, ``observation_start`` on a day before ``observation_end``.
    normalize : bool
        ``True``: each row gives the share of that stage's customers moving to each stage
        (rows sum to 1; a stage nobody was in is a row of ``NaN``, documented: there is no
        share of nobody). ``False``: counts.
    **rules
        ``customer_col``, ``date_col``, ``amount_col``, ``signup_col``, ``loyal_orders``,
        ``at_risk_days``, ``lapsed_days`` as in :func:`lifecycle_stages`.

    Returns
    -------
    pandas.DataFrame
        Stages × stages (all six, in :data:`STAGES` order); index named ``from``,
        columns named ``to``.
    """
    start = check_timestamp(observation_start, name="observation_start")
    stop = check_timestamp(observation_end, name="observation_end")
    if start.normalize() >= stop.normalize():
        raise ValueError(f"observation_start={start.date()} must be a day before observation_end={stop.date()}.")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}.")
    allowed = {"customer_col", "date_col", "amount_col", "signup_col", "loyal_orders", "at_risk_days", "lapsed_days"}
    unknown = set(rules) - allowed
    if unknown:
        raise TypeError(f"stage_transitions got unexpected argument(s) {sorted(unknown)}; allowed: {sorted(allowed)}.")
    before = lifecycle_stages(transactions, customers, observation_end=start, **rules)["stage"]
    after = lifecycle_stages(transactions, customers, observation_end=stop, **rules)["stage"].reindex(before.index)
    counts = pd.crosstab(before, after, dropna=False).reindex(index=list(STAGES), columns=list(STAGES), fill_value=0)
    counts.index.name, counts.columns.name = "from", "to"
    if not normalize:
        return counts.astype("int64")
    totals = counts.sum(axis=1)
    return counts.div(totals.where(totals > 0), axis=0)


_PERIODS = ("W", "M", "Q")


def cohort_retention(
    transactions: Any,
    *,
    period: str = "M",
    customer_col: str = CUSTOMER,
    date_col: str = DATE,
    normalize: bool = True,
    engine: Any = None,
) -> pd.DataFrame:
    """Cohort retention table: who is still buying, by acquisition cohort.

    A customer's cohort is the period (week, month or quarter) of their first purchase.
    Cell (cohort ``c``, offset ``k``) counts the cohort's customers who bought at least
    once in period ``c + k``; offset 0 is the cohort itself (everyone). Cells after the last
    period of the log are NaN (not yet observed), not 0.

    Parameters
    ----------
    transactions : pandas.DataFrame, path or Spark DataFrame
        One row per order.
    period : {"M", "W", "Q"}
        Calendar month, week (Monday to Sunday) or quarter.
    customer_col, date_col : str
        Column names.
    normalize : bool
        ``True``: share of the cohort (offset 0 = 1.0). ``False``: number of customers.
    engine : {None, "pandas", "duckdb", "spark"}
        Where to compute; ``None`` chooses from the type of ``transactions``.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (a ``PeriodIndex``), columns ``0, 1, 2, …`` named ``periods_since_first``;
        float64 values.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20", "2024-02-03"])})
    >>> cohort_retention(tx).values.tolist()
    [[1.0, 0.5], [1.0, nan]]
    """
    check_choice(period, _PERIODS, name="period")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}.")
    engine = _resolve_engine(transactions, engine)
    if engine != "pandas":
        return _delegate("cohort_retention", transactions, engine, period=period, customer_col=customer_col,
                         date_col=date_col, normalize=normalize)
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=None)
    if tx.empty:
        raise ValueError("transactions is empty: it has columns but no rows. Pass at least one order.")
    freq = "W-SUN" if period == "W" else period
    active = pd.DataFrame({
        customer_col: tx[customer_col],
        "period": tx[date_col].dt.to_period(freq),
    }).drop_duplicates()
    active["cohort"] = active.groupby(customer_col)["period"].transform("min")
    active["offset"] = (active["period"] - active["cohort"]).map(lambda d: d.n).astype("int64")
    counts = active.pivot_table(index="cohort", columns="offset", values=customer_col, aggfunc="count", fill_value=0)
    last = active["period"].max()
    n_offsets = int((last - active["cohort"].min()).n) + 1
    counts = counts.reindex(columns=range(n_offsets), fill_value=0).astype("float64")
    observed = np.add.outer((counts.index - counts.index.min()).map(lambda d: d.n).to_numpy(), np.arange(n_offsets))
    counts = counts.where(observed <= n_offsets - 1)
    counts.index.name, counts.columns.name = "cohort", "periods_since_first"
    if normalize:
        counts = counts.div(counts[0], axis=0)
    return counts
