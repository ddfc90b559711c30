"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

Like BG/NBD, but a customer may also drop out at time zero, right after the first
purchase; so customers without repeat purchases are not certainly alive:

.. math::

    L = \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)(\\alpha+T)^{r+x}} \\frac{B(a, b+x+1)}{B(a, b)}
        \\left[1 + \\frac{a}{b+x}\\left(\\frac{\\alpha+T}{\\alpha+t_x}\\right)^{r+x}\\right]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from crmlab.clv._base import _check_count, _RFTModel

__all__ = ["ModifiedBetaGeoModel"]


def _mbg_parts(params, x, tx, T):
    r, alpha, a, b = params
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A2 = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
    A3 = -(r + x) * np.log(alpha + T)
    A4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return A1, A2, A3, A4


def _mbg_loglik(params, x, tx, T):
    A1, A2, A3, A4 = _mbg_parts(params, x, tx, T)
    return A1 + A2 + A3 + np.logaddexp(A4, 0.0)


def _mbg_loglik_grad(params, x, tx, T):
    r, alpha, a, b = params
    A1, A2, A3, A4 = _mbg_parts(params, x, tx, T)
    w = expit(A4)
    lT, ltx = np.log(alpha + T), np.log(alpha + tx)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - lT + w * (lT - ltx)
    d_alpha = r / alpha - (r + x) / (alpha + T) + w * (r + x) * (1 / (alpha + T) - 1 / (alpha + tx))
    dab = digamma(a + b) - digamma(a + b + x + 1)
    d_a = dab + w / a
    d_b = dab + digamma(b + x + 1) - digamma(b) - w / (b + x)
    return A1 + A2 + A3 + np.logaddexp(A4, 0.0), np.vstack([d_r, d_alpha, d_a, d_b])


class ModifiedBetaGeoModel(_RFTModel):
    """MBG/NBD model: BG/NBD with possible dropout right after the first purchase.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters (see :class:`BetaGeoModel`).

    Examples
    --------
    >>> import crmlab as crm
    >>> from crmlab.clv import ModifiedBetaGeoModel
    >>> mbg = ModifiedBetaGeoModel().fit(crm.load_cdnow("summary"))
    >>> list(mbg.params_.index)
    ['r', 'alpha', 'a', 'b']
    """

    _param_names = ("r", "alpha", "a", "b")
    _label = "MBG/NBD"

    def _loglik(self, params, x, tx, T):
        return _mbg_loglik(params, x, tx, T)

    def _loglik_grad(self, params, x, tx, T):
        return _mbg_loglik_grad(params, x, tx, T)

    def _initial_params(self, x, tx, T, *, w):
        rate = max(np.dot(w, x) / max(np.dot(w, T), 1e-12), 1e-6)
        return np.array([1.0, 1.0 / rate, 1.0, 3.0])

    def probability_alive(self, summary: pd.DataFrame, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          T_col: str | None = None) -> pd.Series:
        """P(alive at T | x, t_x, T); below 1 even without repeat purchases."""
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        r, alpha, a, b = self._params()
        log_odds_dead = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return self._as_series(expit(-log_odds_dead), summary, "p_alive")

    def predict_purchases(self, summary: pd.DataFrame, t: ArrayLike, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          T_col: str | None = None) -> pd.Series:
        """Expected purchases in the next ``t`` per customer (Batislam et al. 2007)."""
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        t = self._check_t(t)
        r, alpha, a, b = self._params()
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t))
        num = (a + b + x) / (a - 1) * (1 - hyp * ((alpha + T) / (alpha + t + T)) ** (r + x))
        den = 1 + (a / (b + x)) * ((alpha + T) / (alpha + tx)) ** (r + x)
        return self._as_series(num / den, summary, "expected_purchases")

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """Expected repeat purchases in ``(0, t]`` of a new customer."""
        r, alpha, a, b = self._params()
        t = self._check_t(t)
        hyp = hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)

    def probability_of_purchases(self, t: float, n: int) -> float:
        """P(X(t) = n) for a new customer."""
        r, alpha, a, b = self._params()
        t = float(self._check_t(t))
        n = _check_count(n, name="n", maximum=100_000, why="probabilities of that many purchases are 0 to machine precision; ask for fewer.")
        lbab = betaln(a, b)
        log_first = (betaln(a, b + n + 1) - lbab + gammaln(r + n) - gammaln(r) - gammaln(n + 1)
                     + r * np.log(alpha / (alpha + t)) + (n * np.log(t / (alpha + t)) if n else 0.0))
        j = np.arange(n)
        if n:
            terms = gammaln(r + j) - gammaln(r) - gammaln(j + 1) + j * np.log(t / (alpha + t))
            finite = np.exp(r * np.log(alpha / (alpha + t)) + np.logaddexp.reduce(terms))
        else:
            finite = 0.0
        return float(np.exp(log_first) + np.exp(betaln(a + 1, b + n) - lbab) * (1 - finite))
