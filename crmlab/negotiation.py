"""Win-win negotiation (双赢谈判) from the account's economics.

- **Reservation price** (底价/保留价格): the worst deal a side accepts — for the seller its
  cost floor or the value of its best alternative, for the buyer the most it will pay.
- **BATNA** (best alternative to a negotiated agreement): what a side gets without this deal;
  it sets the reservation price.
- **ZOPA** (zone of possible agreement): the prices both accept, between the seller's and
  the buyer's reservation prices; empty when the seller's floor is above the buyer's ceiling.
- **Distributive** bargaining splits a fixed pie (price only: what one gains the other loses);
  **integrative** (win-win) bargaining adds issues the two sides value differently — volume,
  payment terms, service level — and trades them, so both can end better off.

>>> zopa(seller_reservation=62.0, buyer_reservation=95.0)["width"]
33.0
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["zopa", "deal_surplus", "evaluate_packages", "best_packages"]


def _finite(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return float(value)


def zopa(*, seller_reservation: float, buyer_reservation: float) -> pd.Series:
    """The zone of possible agreement on price.

    Returns ``low`` (the seller's floor), ``high`` (the buyer's ceiling), ``width``
    (``high − low``; negative when there is no zone), ``exists`` and ``midpoint`` (the even
    split, NaN-free only when the zone exists; otherwise the gap to close is ``−width``).

    Examples
    --------
    >>> z = zopa(seller_reservation=100.0, buyer_reservation=90.0)
    >>> bool(z["exists"]), z["width"]
    (False, -10.0)
    """
    low = _finite(seller_reservation, "seller_reservation")
    high = _finite(buyer_reservation, "buyer_reservation")
    exists = high >= low
    return pd.Series({"low": low, "high": high, "width": high - low, "exists": exists,
                      "midpoint": (low + high) / 2 if exists else None}, dtype=object).infer_objects()


def deal_surplus(price: ArrayLike, *, seller_reservation: float, buyer_reservation: float) -> pd.DataFrame:
    """Each side's gain from a deal at ``price`` over its reservation price (distributive view).

    ``seller_surplus = price − seller_reservation``, ``buyer_surplus = buyer_reservation −
    price``; their sum is the ZOPA width whatever the price: on price alone, one side's gain
    is the other's loss. ``acceptable`` is True when both surpluses are ≥ 0.

    Examples
    --------
    >>> deal_surplus([70.0, 90.0], seller_reservation=62.0, buyer_reservation=95.0)["joint"].tolist()
    [33.0, 33.0]
    """
    low = _finite(seller_reservation, "seller_reservation")
    high = _finite(buyer_reservation, "buyer_reservation")
    prices = np.atleast_1d(np.asarray(price, dtype=float))
    if prices.ndim != 1 or prices.size == 0 or not np.all(np.isfinite(prices)):
        raise ValueError("price must be a finite number or a 1-D list of finite numbers.")
    out = pd.DataFrame({"price": prices, "seller_surplus": prices - low, "buyer_surplus": high - prices})
    out["joint"] = out["seller_surplus"] + out["buyer_surplus"]
    out["acceptable"] = (out["seller_surplus"] >= 0) & (out["buyer_surplus"] >= 0)
    return out


def _check_issues(issues: Mapping) -> dict:
    if not isinstance(issues, Mapping) or not issues:
        raise TypeError("issues must be a non-empty dict: issue -> {option: (seller_value, buyer_value)}.")
    out = {}
    for issue, options in issues.items():
        if not isinstance(options, Mapping) or not options:
            raise TypeError(f"issue {issue!r} must map each option to (seller_value, buyer_value).")
        clean = {}
        for option, values in options.items():
            if not (isinstance(values, (tuple, list)) and len(values) == 2):
                raise TypeError(f"issue {issue!r}, option {option!r}: give (seller_value, buyer_value), got {values!r}.")
            clean[option] = (_finite(values[0], f"{issue}/{option} seller value"),
                             _finite(values[1], f"{issue}/{option} buyer value"))
        out[issue] = clean
    n = int(np.prod([len(o) for o in out.values()]))
    if n > 200_000:
        raise ValueError(f"{n:,} packages is too many to enumerate; use at most 200,000 (fewer options per issue).")
    return out


def evaluate_packages(issues: Mapping, *, seller_batna: float = 0.0, buyer_batna: float = 0.0) -> pd.DataFrame:
    """Value every package (one option per issue) for both sides.

    ``issues`` maps each issue to its options and each option to ``(seller_value,
    buyer_value)``: the value of that option to each side, on a common money scale (e.g. the
    price issue: ``{"list": (40, -40), "-5%": (35, -35)}``; a faster-payment issue may be
    worth more to the seller than it costs the buyer). A package's value to a side is the
    sum over issues; it is ``acceptable`` when each side gets at least its BATNA.
    ``pareto`` marks packages no other package beats for both sides at once (efficient).

    Examples
    --------
    >>> issues = {"price": {"high": (10, -10), "low": (4, -4)},
    ...           "payment": {"90 days": (0, 0), "30 days": (5, -1)}}
    >>> ev = evaluate_packages(issues, seller_batna=3, buyer_batna=-12)
    >>> ev.sort_values("joint", ascending=False, kind="stable").iloc[0][["price", "payment"]].tolist()
    ['high', '30 days']
    """
    issues = _check_issues(issues)
    s_batna = _finite(seller_batna, "seller_batna")
    b_batna = _finite(buyer_batna, "buyer_batna")
    names = list(issues)
    rows = []
    for combo in itertools.product(*(list(issues[i]) for i in names)):
        seller = sum(issues[i][o][0] for i, o in zip(names, combo))
        buyer = sum(issues[i][o][1] for i, o in zip(names, combo))
        rows.append((*combo, seller, buyer))
    out = pd.DataFrame(rows, columns=[*names, "seller_value", "buyer_value"])
    out["joint"] = out["seller_value"] + out["buyer_value"]
    out["acceptable"] = (out["seller_value"] >= s_batna) & (out["buyer_value"] >= b_batna)
    s, b = out["seller_value"].to_numpy(), out["buyer_value"].to_numpy()
    dominated = np.zeros(len(out), dtype=bool)
    for k in range(len(out)):
        better = (s >= s[k]) & (b >= b[k]) & ((s > s[k]) | (b > b[k]))
        dominated[k] = better.any()
    out["pareto"] = ~dominated
    return out


def best_packages(issues: Mapping, *, seller_batna: float = 0.0, buyer_batna: float = 0.0,
                  distributive_issue: str | None = None) -> pd.DataFrame:
    """Compare the integrative (win-win) deal with a distributive one, in numbers.

    The integrative deal is the acceptable package of largest joint value (ties: the most
    even split). The distributive deal fixes every issue but ``distributive_issue`` (default:
    the first issue) at its first option — bargaining over price alone — and takes the
    acceptable package of largest joint value among those. Returns both rows with
    ``seller_value``, ``buyer_value`` and ``joint``; the difference in ``joint`` is the value
    that trading issues creates.

    Examples
    --------
    >>> issues = {"price": {"high": (10, -10), "mid": (7, -7), "low": (4, -4)},
    ...           "volume": {"small": (0, 0), "large": (6, 3)}}
    >>> best_packages(issues, seller_batna=2, buyer_batna=-9)["joint"].tolist()
    [9.0, 0.0]
    """
    ev = evaluate_packages(issues, seller_batna=seller_batna, buyer_batna=buyer_batna)
    names = list(_check_issues(issues))
    issue = names[0] if distributive_issue is None else distributive_issue
    if issue not in names:
        raise ValueError(f"distributive_issue={issue!r} is not an issue; choose one of {names}.")
    ok = ev[ev["acceptable"]]
    if ok.empty:
        raise ValueError("no package gives both sides at least their BATNA: there is no zone of agreement.")

    def pick(frame: pd.DataFrame) -> pd.Series:
        frame = frame.assign(_gap=(frame["seller_value"] - frame["buyer_value"]).abs())
        return frame.sort_values(["joint", "_gap"], ascending=[False, True], kind="stable").iloc[0].drop("_gap")

    integrative = pick(ok)
    fixed = ok
    for other in names:
        if other != issue:
            fixed = fixed[fixed[other] == next(iter(issues[other]))]
    if fixed.empty:
        raise ValueError("no acceptable package bargains over price alone; the distributive deal does not exist.")
    distributive = pick(fixed)
    out = pd.DataFrame([integrative, distributive], index=pd.Index(["integrative", "distributive"], name="deal"))
    return out[[*names, "seller_value", "buyer_value", "joint"]].astype(
        {"seller_value": float, "buyer_value": float, "joint": float})
