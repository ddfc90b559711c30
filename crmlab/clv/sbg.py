"""The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007,
"How to project customer retention", *Journal of Interactive Marketing* 21(1), 76-90).

Each customer renews at the end of every period with her own probability; her churn
probability :math:`\\theta \\sim \\text{Beta}(\\alpha, \\beta)`. Then

.. math::

    P(T = t) = \\frac{B(\\alpha+1, \\beta+t-1)}{B(\\alpha, \\beta)}, \\qquad
    S(t) = \\frac{B(\\alpha, \\beta+t)}{B(\\alpha, \\beta)}, \\qquad
    r_t = \\frac{\\beta + t - 1}{\\alpha + \\beta + t - 1}

so the aggregate retention rate rises over time although no customer's own rate
changes (the "increasing retention" that comes from heterogeneity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, hyp2f1

from crmlab.clv._base import _BaseModel, _check_integer_valued
from crmlab.validation import check_array

__all__ = ["ShiftedBetaGeometricModel"]


def _sbg_loglik(params, t, censored):
    alpha, beta = params
    lab = betaln(alpha, beta)
    return np.where(censored > 0, betaln(alpha, beta + t) - lab, betaln(alpha + 1, beta + t - 1) - lab)


class ShiftedBetaGeometricModel(_BaseModel):
    """sBG model of a contractual cohort's survival (customers still active per period).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters.

    Attributes
    ----------
    params_ : Series
        ``alpha``, ``beta`` of the Beta distribution of churn probabilities.

    Examples
    --------
    >>> from crmlab.clv import ShiftedBetaGeometricModel
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]   # Fader & Hardie (2007)
    >>> sbg = ShiftedBetaGeometricModel().fit(regular)
    >>> sbg.params_.round(3).tolist()
    [0.704, 1.182]
    """

    _param_names = ("alpha", "beta")
    _label = "sBG"

    def _loglik(self, params, t, censored):
        return _sbg_loglik(params, t, censored)

    def fit(self, active: ArrayLike, y: object = None) -> ShiftedBetaGeometricModel:
        """Fit to the number of customers still active at the start (period 0) and after
        each period 1, 2, ..., T of one cohort.

        Parameters
        ----------
        active : array-like of int
            ``active[0]`` is the cohort size, ``active[t]`` the customers who renewed
            ``t`` times; must not increase.
        y : None
            Ignored (scikit-learn Pipeline compatibility).
        """
        n = check_array(active, name="active")
        _check_integer_valued(n, "active", "active")
        if n.size < 3:
            raise ValueError(f"active needs the cohort size and at least two later counts (got {n.size} values); "
                             f"one retention rate cannot separate alpha from beta.")
        if n[0] <= 0 or (np.diff(n) > 0).any() or (n < 0).any():
            raise ValueError(f"active must start positive and never increase (customers cannot come back), got "
                             f"{n.astype(int).tolist()}.")
        lost = -np.diff(n)
        if lost.sum() == 0:
            raise ValueError("active never decreases: no customer churned, so churn probabilities cannot be "
                             "estimated.")
        if n[-1] == 0 and lost[0] == n[0]:
            raise ValueError("every customer churned in the first period; the model needs survivors to learn "
                             "how churn probabilities vary.")
        periods = np.arange(1, n.size)
        t = np.concatenate([periods, [periods[-1]]]).astype(float)
        censored = np.concatenate([np.zeros(periods.size), [1.0]])
        w = np.concatenate([lost, [n[-1]]]).astype(float)
        keep = w > 0
        self.active_ = pd.Series(n, index=pd.RangeIndex(n.size, name="period"), name="active")
        return self._fit_patterns((t[keep], censored[keep]), w[keep])

    def _periods(self, t, name="t", minimum=0):
        arr = check_array(np.atleast_1d(t), name=name)
        if (arr < minimum).any() or (np.abs(arr - np.round(arr)) > 1e-9).any():
            raise ValueError(f"{name} must be whole periods >= {minimum}, got {t!r}.")
        return arr

    def survival(self, t: ArrayLike) -> np.ndarray:
        """S(t): share of the cohort still active after ``t`` periods."""
        alpha, beta = self._params()
        t = self._periods(t)
        return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))

    def churn_probability(self, t: ArrayLike) -> np.ndarray:
        """P(T = t): probability of churning exactly at the end of period ``t`` (t >= 1)."""
        alpha, beta = self._params()
        t = self._periods(t, minimum=1)
        return np.exp(betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta))

    def retention_rate(self, t: ArrayLike) -> np.ndarray:
        """Aggregate retention rate r_t = S(t) / S(t-1) (t >= 1); rises with t."""
        alpha, beta = self._params()
        t = self._periods(t, minimum=1)
        return (beta + t - 1) / (alpha + beta + t - 1)

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL = sum_t S(t) / (1+d)^t = 2F1(1, beta; alpha+beta; 1/(1+d)) (Fader & Hardie 2010).

        Multiply by the margin per period to get the expected value of a new customer
        whose first payment is made today.
        """
        if isinstance(discount_rate, (bool, np.bool_)) or not isinstance(discount_rate, (int, float, np.floating)) \
                or not np.isfinite(discount_rate) or not discount_rate > 0:
            raise ValueError(f"discount_rate must be a positive number per period (e.g. 0.1), got {discount_rate!r}.")
        alpha, beta = self._params()
        return float(hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + discount_rate)))
