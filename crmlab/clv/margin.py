"""The company's gross margin (毛利率): the share of revenue that CLV keeps.

CLV is discounted *margin*, not revenue. The simulated company's margin has one home: its
cost of goods is ``data.config.b2b.cost_share`` of the undiscounted (list) price — the same
62 % cost floor its sales team negotiates against (chapter 17) — and :func:`margin_rate`
turns it into each customer's margin rate from what she paid and the discounts she got.
Chapters 08, 11 and 19 pass that rate to
:func:`crmlab.clv.customer_lifetime_value` (``margin=``).
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab.time import DateLike
from crmlab.validation import check_frame, check_transactions

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = ["margin_rate"]


def _cost_share(value: Any, data: Any) -> float:
    if value is None:
        config = getattr(data, "config", None)
        b2b = getattr(config, "b2b", None)
        if b2b is None or not hasattr(b2b, "cost_share"):
            raise ValueError("cost_share is needed: this data has no simulation config with b2b.cost_share. "
                             "Pass your cost of goods as a share of the undiscounted price, e.g. cost_share=0.62.")
        value = b2b.cost_share
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"cost_share must be a number (cost of goods / undiscounted price, e.g. 0.62), got {value!r}.")
    if not 0 <= float(value) < 1:
        raise ValueError(f"cost_share must lie in [0, 1) (62% of the list price -> 0.62), got {value!r}.")
    return float(value)


def margin_rate(data: CRMData | pd.DataFrame, *, cost_share: float | None = None,
                observation_end: DateLike | None = None, customer_col: str = "customer_id", date_col: str = "date",
                amount_col: str = "amount", discount_col: str = "discount") -> pd.Series:
    """Each customer's gross margin rate: her margin over her revenue.

    An order's undiscounted price is what was paid plus the discount; the cost of goods is
    ``cost_share`` of it, so

    .. math::

        \\text{margin rate}_i = \\frac{\\sum_{j} \\big(a_{ij} - c\\,(a_{ij} + d_{ij})\\big)}{\\sum_j a_{ij}}
        = 1 - c\\,\\frac{\\sum_j (a_{ij} + d_{ij})}{\\sum_j a_{ij}}

    with :math:`a` the amount paid, :math:`d` the discount and :math:`c` the cost share. A
    customer who never uses a discount earns :math:`1 - c`; discounts lower the rate. Using the
    rate for her *future* revenue assumes she keeps using discounts as she did.

    Parameters
    ----------
    data : CRMData or DataFrame
        ``crm.load_retail()`` (its ``transactions``; the cost share defaults to the simulated
        company's ``config.b2b.cost_share``), or a transactions DataFrame with the customer,
        date, amount and discount columns (then ``cost_share`` is required).
    cost_share : float, optional
        Cost of goods as a share of the undiscounted price, in [0, 1).
    observation_end : date, optional
        Only orders up to this day count (e.g. the end of a calibration period, so that a CLV
        fitted on it does not use later discounts).
    customer_col, date_col, amount_col, discount_col : str
        Column names; ``amount`` is what was paid after the discount.

    Returns
    -------
    Series ``margin_rate`` indexed by customer. A rate below 0 (discounts deeper than the
    margin) is returned as it is: that customer loses money on every order.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "date": ["2024-01-05", "2024-02-01", "2024-01-09"],
    ...                    "amount": [100.0, 80.0, 50.0], "discount": [0.0, 20.0, 0.0]})
    >>> margin_rate(tx, cost_share=0.62).round(4).tolist()   # (180 - 0.62 * 200) / 180, 1 - 0.62
    [0.3111, 0.38]
    """
    if isinstance(data, pd.DataFrame):
        if cost_share is None:
            raise ValueError("cost_share is needed with a transactions DataFrame: pass your cost of goods as a "
                             "share of the undiscounted price, e.g. cost_share=0.62.")
        transactions = data
    elif hasattr(data, "transactions"):
        transactions = data.transactions
    else:
        raise TypeError(f"data must be a CRMData (crm.load_retail()) or a transactions DataFrame, "
                        f"got {type(data).__name__}.")
    share = _cost_share(cost_share, data)
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                            observation_end=observation_end, exclude_after=True, extra=[discount_col])
    tx = check_frame(tx, numeric=[discount_col], not_missing=[discount_col], nonnegative=[discount_col],
                     allow_empty=True, name="transactions")
    if len(tx) == 0:
        raise ValueError(f"transactions has no orders up to observation_end={observation_end!r}; "
                         f"choose a later date.")
    if not np.isfinite(tx[[amount_col, discount_col]].to_numpy(dtype=float)).all():
        raise ValueError(f"transactions columns {amount_col!r} and {discount_col!r} must be finite.")
    grouped = tx.groupby(customer_col)
    paid = grouped[amount_col].sum()
    listed = paid + grouped[discount_col].sum()
    if (paid <= 0).any():
        first = paid.index[np.flatnonzero(paid.to_numpy() <= 0)[0]]
        first = first.item() if isinstance(first, np.generic) else first
        raise ValueError(f"customer {first!r} paid nothing in total ({amount_col!r} sums to 0), so her margin rate "
                         f"is undefined; drop customers without revenue first.")
    return (1 - share * listed / paid).rename("margin_rate")
