"""Customer lifetime value (客户生命周期价值): the course formula and the model-based,
discounted CLV with an uncertainty interval."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from crmlab import time as crm_time
from crmlab.clv._base import _check_count, _check_same_unit, _RFTModel
from crmlab.clv.gamma_gamma import GammaGammaModel, _check_spend, _gg_expected_spend
from crmlab.validation import check_array, check_fraction, check_positive_int

__all__ = ["simple_clv", "customer_lifetime_value"]


def _number_or_array(value, name: str) -> float | np.ndarray:
    if np.ndim(value) == 0:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}.")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}; fill or drop missing values first.")
        return float(value)
    return check_array(value, name=name)


def simple_clv(margin: ArrayLike, retention: ArrayLike, discount_rate: ArrayLike, *,
               horizon: int | None = None) -> float | np.ndarray:
    """The course's retention-based CLV: the discounted margins of a customer who stays
    each period with probability ``retention``.

    Convention: the customer is acquired today and pays ``margin`` at the **end** of
    every period she is still a customer, so the first margin is already at risk:

    .. math::

        CLV = \\sum_{t=1}^{H} m \\left(\\frac{r}{1+d}\\right)^t
            \\;\\xrightarrow{H\\to\\infty}\\; \\frac{m\\,r}{1+d-r}.

    If the first margin is collected today (before any churn), add ``margin``.

    Parameters
    ----------
    margin : float or array-like
        Profit per period while a customer.
    retention : float or array-like
        Probability of staying another period, in [0, 1).
    discount_rate : float
        Discount rate per period (0.1 = 10%).
    horizon : int, optional
        Number of periods; ``None`` (default) sums to infinity.

    Examples
    --------
    >>> simple_clv(100, 0.8, 0.1)
    266.66666666666663
    >>> round(simple_clv(100, 0.8, 0.1, horizon=3), 2)   # 100 * (q + q**2 + q**3), q = 0.8 / 1.1
    164.09
    """
    m = _number_or_array(margin, "margin")
    r = _number_or_array(retention, "retention")
    d = _number_or_array(discount_rate, "discount_rate")
    if np.any(np.asarray(r) < 0) or np.any(np.asarray(r) >= 1):
        raise ValueError(f"retention must lie in [0, 1) (a probability of staying; 85% -> 0.85), got {retention!r}.")
    if np.any(np.asarray(d) < 0):
        raise ValueError(f"discount_rate must be >= 0 (10% per period -> 0.1), got {discount_rate!r}.")
    q = np.asarray(r) / (1 + np.asarray(d))
    with np.errstate(over="ignore", invalid="ignore"):
        if horizon is None:
            out = np.asarray(m) * np.asarray(r) / (1 + np.asarray(d) - np.asarray(r))
        else:
            h = check_positive_int(horizon, name="horizon")
            out = np.asarray(m) * q * (1 - q**h) / (1 - q)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"simple_clv overflowed (margin {margin!r} is too large to sum in float64); "
                         f"express the margin in larger units (e.g. thousands).")
    return float(out) if np.ndim(out) == 0 else out


def _transaction_predict(model, params, t, data):
    """Conditional expected purchases in the next ``t`` at the given parameters."""
    from crmlab.clv.beta_geo import BetaGeoModel, _bgnbd_conditional_expected
    from crmlab.clv.modified_beta_geo import ModifiedBetaGeoModel
    from crmlab.clv.pareto_nbd import ParetoNBDModel, _pnbd_conditional_expected

    x, tx, T = data
    if isinstance(model, BetaGeoModel):
        return _bgnbd_conditional_expected(params, t, x, tx, T)
    if isinstance(model, ParetoNBDModel):
        return _pnbd_conditional_expected(params, t, x, tx, T)
    if isinstance(model, ModifiedBetaGeoModel):
        frame = pd.DataFrame({"x": x, "tx": tx, "T": T})
        clone = ModifiedBetaGeoModel.from_params(**dict(zip(model._param_names, params)), time_unit=model.time_unit_)
        return clone.predict_purchases(frame, t, frequency_col="x", recency_col="tx", T_col="T").to_numpy()
    raise TypeError(f"transaction_model must be a fitted BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel, "
                    f"got {type(model).__name__}.")


def _clv_values(model, t_params, spend, data, months, factor, discount_rate, margin):
    total = np.zeros(len(data[0]))
    previous = np.zeros_like(total)
    for k in range(1, months + 1):
        cumulative = _transaction_predict(model, t_params, k * factor, data)
        total += spend * (cumulative - previous) / (1 + discount_rate) ** k
        previous = cumulative
    return margin * total


def _check_margin(margin, summary: pd.DataFrame) -> float | np.ndarray:
    """A margin rate >= 0: one number, or one per customer of ``summary`` (a Series on its index)."""
    if isinstance(margin, pd.Series):
        if margin.index.has_duplicates:
            raise ValueError("margin has duplicate customers in its index; give one margin rate per customer.")
        missing = summary.index.difference(margin.index)
        if len(missing):
            raise ValueError(f"margin has no value for {len(missing)} customer(s) of the summary (e.g. "
                             f"{missing[0]!r}); give a margin rate for every row of the summary, indexed by "
                             f"its customer ids.")
        if not pd.api.types.is_numeric_dtype(margin) or pd.api.types.is_bool_dtype(margin):
            raise TypeError(f"margin must hold numbers (profit per unit of revenue, e.g. 0.3), got dtype "
                            f"{margin.dtype}.")
        values = margin.reindex(summary.index).to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise ValueError(f"margin must be finite and >= 0 for every customer; {int(bad.sum())} are not "
                             f"(e.g. customer {summary.index[np.flatnonzero(bad)[0]]!r}: "
                             f"{values[np.flatnonzero(bad)[0]]!r}).")
        return values
    if isinstance(margin, (bool, np.bool_)) or not isinstance(margin, (int, float, np.integer, np.floating)):
        raise TypeError(f"margin must be a number or a Series of per-customer rates (profit per unit of "
                        f"revenue, e.g. 0.3), got {margin!r}.")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0 (profit per unit of revenue, 1 = revenue), "
                         f"got {margin!r}.")
    return float(margin)


def customer_lifetime_value(transaction_model: _RFTModel, spend_model: GammaGammaModel, summary: pd.DataFrame, *,
                            horizon_months: int = 12, discount_rate: float = 0.01, time_unit: str | None = None,
                            margin: float | pd.Series = 1.0, confidence: float | None = None, n_draws: int = 200,
                            random_state: int | np.random.Generator | None = None,
                            frequency_col: str | None = None, recency_col: str | None = None,
                            T_col: str | None = None, monetary_col: str | None = None) -> pd.Series | pd.DataFrame:
    """Discounted CLV over the next ``horizon_months`` months, per customer.

    For month k = 1..horizon the expected purchases in that month (from the transaction
    model, conditional on each customer's history) times the expected spend per purchase
    (Gamma-Gamma, conditional on her mean spend) is discounted by ``(1 + d) ** k``:

    .. math::

        CLV_i = m \\sum_{k=1}^{H} \\frac{E[\\text{spend}_i]\\,\\big(E[X_i(k\\tau)] - E[X_i((k-1)\\tau)]\\big)}{(1+d)^k}

    with :math:`\\tau` the length of a month in the unit the transaction model was fitted
    in (``transaction_model.time_unit_``): one month is 365.25 / 12 = 30.4375 days
    (:data:`crmlab.time.TIME_UNITS`), so a summary in days and the same summary in weeks
    give the same CLV. This is the computation of lifetimes'
    ``GammaGammaFitter.customer_lifetime_value`` (monthly discounting), which instead
    takes a month as 30 days or 4.345 weeks.

    Parameters
    ----------
    transaction_model : fitted BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
    spend_model : fitted GammaGammaModel
    summary : DataFrame
        Customers' frequency, recency, T and mean repeat spend (0 when no repeat purchase),
        in the time unit the transaction model was fitted in.
    horizon_months : int, default 12
        Months ahead.
    discount_rate : float, default 0.01
        Monthly discount rate (an annual rate of 12.7% is about 0.01 per month).
    time_unit : {"D", "W", "M"}, optional
        A check, not a setting: the unit of recency and T is the model's ``time_unit_``.
        Passing a different unit, or a summary whose ``attrs["time_unit"]`` differs,
        raises ``ValueError`` naming both.
    margin : float or Series, default 1
        Profit margin applied to revenue (1 = revenue, not CLV; e.g. 0.3 for a 30% gross
        margin); a finite number >= 0, or a Series of per-customer margin rates indexed like
        ``summary`` (customers whose discounts differ earn different margins).
    confidence : float, optional
        Level of an interval, e.g. 0.9 for a 90% interval (``None``, the default: no
        interval): parameters of both models are drawn from the normal
        approximation to their log-estimates (inverse Hessian), and the per-customer
        quantiles of the CLV over ``n_draws`` draws are returned.
    n_draws, random_state : bootstrap size and seed.
    frequency_col, recency_col, T_col, monetary_col : str, optional
        Column names; default to those the models were fitted with.

    Returns
    -------
    Series ``clv``, or with ``confidence`` a DataFrame with columns ``clv``, ``lower``, ``upper``.

    Examples
    --------
    >>> import crmlab as crm
    >>> from crmlab.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
    >>> log = crm.load_cdnow()
    >>> summary = crm.features.customer_summary(log[log["date"] <= "1997-09-30"], amount_col="amount",
    ...                                         observation_end="1997-09-30")
    >>> bg = BetaGeoModel().fit(summary)
    >>> bg.time_unit_
    'D'
    >>> gg = GammaGammaModel().fit(summary[summary["frequency"] > 0])
    >>> clv = customer_lifetime_value(bg, gg, summary, horizon_months=12, discount_rate=0.01)
    >>> bool((clv >= 0).all())
    True
    """
    if not isinstance(transaction_model, _RFTModel):
        raise TypeError(f"transaction_model must be a fitted BetaGeoModel, ParetoNBDModel or "
                        f"ModifiedBetaGeoModel, got {type(transaction_model).__name__}.")
    if not isinstance(spend_model, GammaGammaModel):
        raise TypeError(f"spend_model must be a fitted GammaGammaModel, got {type(spend_model).__name__}.")
    check_is_fitted(transaction_model, "params_")
    check_is_fitted(spend_model, "params_")
    months = _check_count(horizon_months, name="horizon_months", minimum=1, maximum=1200,
                          why="a CLV horizon of more than 100 years is computed month by month for nothing; "
                              "use simple_clv or a shorter horizon.")
    if isinstance(discount_rate, (bool, np.bool_)) or not isinstance(discount_rate, (int, float, np.floating)) \
            or not 0 <= discount_rate < 1:
        raise ValueError(f"discount_rate must be a monthly rate in [0, 1) (1% per month -> 0.01), "
                         f"got {discount_rate!r}.")
    rate = _check_margin(margin, summary)
    unit = _check_same_unit(transaction_model, summary, time_unit)
    factor = float(crm_time.convert(1.0, "M", unit))  # one month in the model's unit
    data = transaction_model._rft(summary, frequency_col, recency_col, T_col)
    x_spend, m_spend = _check_spend(summary, frequency_col or getattr(spend_model, "frequency_col_", "frequency"),
                                    monetary_col or getattr(spend_model, "monetary_col_", "monetary_value"),
                                    allow_zero_frequency=True)
    spend = _gg_expected_spend(spend_model._params(), x_spend, m_spend)
    clv = _clv_values(transaction_model, transaction_model._params(), spend, data, months, factor,
                      float(discount_rate), rate)
    if not np.all(np.isfinite(clv)):
        bad = int(np.flatnonzero(~np.isfinite(clv))[0])
        raise ValueError(f"CLV is not finite for {int((~np.isfinite(clv)).sum())} customer(s) (e.g. row "
                         f"{summary.index[bad]!r}): the spend model's q <= 1 has no finite mean spend, or values "
                         f"overflow. Check the fitted parameters and the scale of monetary_value.")
    if confidence is None:
        return pd.Series(clv, index=summary.index, name="clv")
    level = check_fraction(confidence, name="confidence")
    draws = _check_count(n_draws, name="n_draws", minimum=20, maximum=100_000,
                         why="each draw recomputes every customer's CLV; 200-2,000 draws give stable quantiles.")
    rng = np.random.default_rng(random_state)
    t_draws = transaction_model._sample_params(draws * 2, rng)
    s_draws = spend_model._sample_params(draws * 2, rng)
    # mean spend p * gamma / (q - 1) exists only for q > 1: drop draws beyond it
    ok = s_draws[:, 1] > 1
    if ok.mean() < 0.95:
        warnings.warn(f"{100 * (1 - ok.mean()):.0f}% of parameter draws fell where the expected values are "
                      f"undefined and were redrawn; the interval is uncertain.", UserWarning, stacklevel=2)
    t_draws, s_draws = t_draws[ok][:draws], s_draws[ok][:draws]
    # the same history gives the same value: compute once per distinct pattern
    patterns, inverse = np.unique(np.column_stack([*data, x_spend, m_spend]), axis=0, return_inverse=True)
    p_data = (patterns[:, 0], patterns[:, 1], patterns[:, 2])
    values = np.vstack([
        _clv_values(transaction_model, tp, _gg_expected_spend(sp, patterns[:, 3], patterns[:, 4]), p_data,
                    months, factor, float(discount_rate), 1.0)
        for tp, sp in zip(t_draws, s_draws)
    ])
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
    # margins are >= 0, so the quantiles of margin * revenue are margin * the revenue quantiles
    lo, hi = rate * lo[inverse.ravel()], rate * hi[inverse.ravel()]
    return pd.DataFrame({"clv": clv, "lower": lo, "upper": hi}, index=summary.index)
