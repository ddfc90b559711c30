"""The BG/NBD model (beta-geometric / negative binomial distribution).

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to
the Pareto/NBD model", *Marketing Science* 24(2), 275-284.

While alive, a customer buys as a Poisson process with rate
:math:`\\lambda \\sim \\text{Gamma}(r, \\alpha)`; after every purchase she drops out with
probability :math:`p \\sim \\text{Beta}(a, b)`. For a customer with ``x`` repeat purchases,
the last at ``t_x``, observed for ``T``:

.. math::

    L = \\frac{B(a, b+x)}{B(a, b)} \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)(\\alpha+T)^{r+x}}
        + \\delta_{x>0} \\frac{B(a+1, b+x-1)}{B(a, b)} \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)(\\alpha+t_x)^{r+x}}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from crmlab.clv._base import _check_count, _RFTModel

__all__ = ["BetaGeoModel"]


def _bgnbd_terms(params, x, tx, T):
    r, alpha, a, b = params
    pos = x > 0
    bx1 = np.where(pos, b + x - 1, 1.0)
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    A3 = -(r + x) * np.log(alpha + T)
    A4 = np.where(pos, np.log(a) - np.log(bx1) - (r + x) * np.log(alpha + tx), -np.inf)
    return A1, A2, A3, A4, bx1, pos


def _bgnbd_loglik(params, x, tx, T):
    A1, A2, A3, A4, _, _ = _bgnbd_terms(params, x, tx, T)
    return A1 + A2 + np.logaddexp(A3, A4)


def _bgnbd_loglik_grad(params, x, tx, T):
    """Log-likelihood per pattern and its exact gradient (4 x n) in r, alpha, a, b."""
    r, alpha, a, b = params
    A1, A2, A3, A4, bx1, pos = _bgnbd_terms(params, x, tx, T)
    lse = np.logaddexp(A3, A4)
    w3 = np.exp(A3 - lse)  # posterior weight of "still alive at T"
    w4 = np.exp(A4 - lse)  # ... of "dropped out after the last purchase"
    lT, ltx = np.log(alpha + T), np.log(alpha + tx)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * lT - w4 * ltx
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
    dab = digamma(a + b) - digamma(a + b + x)
    d_a = dab + w4 / a
    d_b = dab + digamma(b + x) - digamma(b) - w4 / bx1
    return A1 + A2 + lse, np.vstack([d_r, d_alpha, d_a, d_b])


class _FactorizedObjective:
    """Mean negative log-likelihood of BG/NBD and its gradient in log-parameters, fast.

    The same likelihood as :func:`_bgnbd_loglik_grad`, rearranged for speed on large
    summaries: the special functions depend on x alone, and the logarithms on T or t_x
    alone, so they are evaluated once per distinct value and gathered; and since only
    weighted sums enter the objective, per-pattern gradients are never stored.
    Writing D = A4 - A3, the log-likelihood is A1 + A2 + A3 + log(1 + e^D) and the
    posterior probability of "dropped out after the last purchase" is sigmoid(D).
    """

    def __init__(self, x, tx, T, w, penalizer):
        self.ux, ix = np.unique(x, return_inverse=True)
        self.uT, iT = np.unique(T, return_inverse=True)
        self.utx, itx = np.unique(tx, return_inverse=True)
        self.n, self.pen = w.sum(), penalizer
        # sums over customers of terms that depend on x alone or on T alone
        self.W_x = np.bincount(ix, weights=w, minlength=self.ux.size)
        self.W_T = np.bincount(iT, weights=w, minlength=self.uT.size)
        self.WX_T = np.bincount(iT, weights=w * x, minlength=self.uT.size)
        # only customers with repeat purchases can have dropped out (D = -inf otherwise)
        rep = x > 0
        self.x, self.w, self.ix, self.iT, self.itx = x[rep], w[rep], ix[rep], iT[rep], itx[rep]

    def __call__(self, logp):
        r, alpha, a, b = p = np.exp(logp)
        ux, x, w = self.ux, self.x, self.w
        with np.errstate(all="ignore"):
            lT_u, ltx_u = np.log(alpha + self.uT), np.log(alpha + self.utx)
            A12_u = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + ux)
                     - gammaln(b) - gammaln(a + b + ux))
            bx1_u = np.where(ux > 0, b + ux - 1, 1.0)
            lab_u = np.log(a) - np.log(bx1_u)
            rx = r + x
            dlog = lT_u[self.iT] - ltx_u[self.itx]
            D = lab_u[self.ix] + rx * dlog
            alive = expit(-D)                                   # P(alive | history) = 1 - q
            softplus = np.where(alive > 0, -np.log(alive), D)   # log(1 + e^D)
        wq = w * (1.0 - alive)
        wq_rx = wq * rx
        ll = np.dot(self.W_x, A12_u) - r * np.dot(self.W_T, lT_u) - np.dot(self.WX_T, lT_u) + np.dot(w, softplus)
        # weighted sums of the per-pattern derivatives of _bgnbd_loglik_grad (w3 = 1 - q, w4 = q)
        inv_T_u, inv_tx_u = 1 / (alpha + self.uT), 1 / (alpha + self.utx)
        d_r = np.dot(self.W_x, digamma(r + ux) - digamma(r) + np.log(alpha)) - np.dot(self.W_T, lT_u) + np.dot(wq, dlog)
        d_alpha = (self.n * r / alpha - r * np.dot(self.W_T, inv_T_u) - np.dot(self.WX_T, inv_T_u)
                   + np.dot(wq_rx, inv_T_u[self.iT] - inv_tx_u[self.itx]))
        dab_u = digamma(a + b) - digamma(a + b + ux)
        d_a = np.dot(self.W_x, dab_u) + wq.sum() / a
        d_b = np.dot(self.W_x, dab_u + digamma(b + ux) - digamma(b)) - np.dot(np.bincount(
            self.ix, weights=wq, minlength=ux.size), 1 / bx1_u)
        grad = np.array([d_r, d_alpha, d_a, d_b])
        value = -ll / self.n + self.pen * np.sum(p**2)
        g = (-grad / self.n + 2 * self.pen * p) * p
        if not np.isfinite(value) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros(4)
        return value, g


def _log_hyp2f1(a, b, c, z):
    """log 2F1(a, b; c; z) for 0 <= z < 1, with Euler's transformation where 2F1 overflows."""
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
    return np.where(np.isfinite(direct), direct, euler)


def _bgnbd_conditional_expected(params, t, x, tx, T):
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    log_h = _log_hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * -np.expm1(log_h + (r + x) * np.log((alpha + T) / (alpha + T + t)))
    return numerator / (1 + (x > 0) * np.exp(_bgnbd_log_odds_dead(params, x, tx, T)))


def _bgnbd_log_odds_dead(params, x, tx, T):
    r, alpha, a, b = params
    return np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))


class BetaGeoModel(_RFTModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty ``penalizer * (r**2 + alpha**2 + a**2 + b**2)`` added to the mean
        negative log-likelihood (shrinks parameters on small or degenerate data).

    Attributes
    ----------
    params_ : Series
        ``r``, ``alpha`` (purchase rate ~ Gamma(r, alpha), alpha in the summary's time
        unit), ``a``, ``b`` (dropout probability ~ Beta(a, b)).
    log_likelihood_ : float
        Maximised log-likelihood (without the penalty).
    covariance_ : DataFrame
        Covariance of the estimates (inverse Hessian, delta method).
    n_customers_, n_patterns_ : number of customers and of distinct (x, t_x, T) patterns.

    Examples
    --------
    >>> import crmlab as crm
    >>> from crmlab.clv import BetaGeoModel
    >>> cdnow = crm.load_cdnow("summary")
    >>> bg = BetaGeoModel().fit(cdnow)
    >>> bg.params_.round(3).tolist()
    [0.243, 4.414, 0.793, 2.426]
    >>> round(bg.log_likelihood_, 1)
    -9582.4
    """

    _param_names = ("r", "alpha", "a", "b")
    _label = "BG/NBD"

    def _loglik(self, params, x, tx, T):
        return _bgnbd_loglik(params, x, tx, T)

    def _loglik_grad(self, params, x, tx, T):
        return _bgnbd_loglik_grad(params, x, tx, T)

    def _objective(self, data, w, n, with_grad):
        fun, _ = super()._objective(data, w, n, False)
        return fun, _FactorizedObjective(*data, w, self.penalizer)

    def _initial_params(self, x, tx, T, *, w):
        rate = max(np.dot(w, x) / max(np.dot(w, T), 1e-12), 1e-6)
        return np.array([1.0, 1.0 / rate, 1.0, 3.0])

    def predict_purchases(self, summary: pd.DataFrame, t: ArrayLike, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          T_col: str | None = None) -> pd.Series:
        """Expected number of purchases in the next ``t`` time units, per customer.

        Equation (10) of Fader, Hardie & Lee (2005): E[X(T, T+t) | x, t_x, T].

        >>> import crmlab as crm
        >>> from crmlab.clv import BetaGeoModel
        >>> cdnow = crm.load_cdnow("summary")
        >>> bg = BetaGeoModel().fit(cdnow)
        >>> round(float(bg.predict_purchases(cdnow, 39).iloc[0]), 3)
        1.226
        """
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        t = self._check_t(t)
        return self._as_series(_bgnbd_conditional_expected(self._params(), t, x, tx, T), summary, "expected_purchases")

    def probability_alive(self, summary: pd.DataFrame, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          T_col: str | None = None) -> pd.Series:
        """P(customer still alive at T | x, t_x, T); 1 for customers without repeat purchases."""
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        p = np.where(x == 0, 1.0, expit(-_bgnbd_log_odds_dead(self._params(), x, tx, T)))
        return self._as_series(p, summary, "p_alive")

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """Expected repeat purchases in ``(0, t]`` of a new customer (equation 9).

        >>> from crmlab.clv import BetaGeoModel
        >>> m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.expected_purchases_new([39, 78]).round(3).tolist()
        [1.197, 1.861]
        """
        r, alpha, a, b = self._params()
        t = self._check_t(t)
        hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)

    def probability_of_purchases(self, t: float, n: int) -> float:
        """P(X(t) = n): probability that a new customer makes ``n`` repeat purchases in ``t`` (eq. 8)."""
        r, alpha, a, b = self._params()
        t = float(self._check_t(t))
        n = _check_count(n, name="n", maximum=100_000, why="probabilities of that many purchases are 0 to machine precision; ask for fewer.")
        lbab = betaln(a, b)
        log_first = (betaln(a, b + n) - lbab + gammaln(r + n) - gammaln(r) - gammaln(n + 1)
                     + r * np.log(alpha / (alpha + t)) + (n * np.log(t / (alpha + t)) if n else 0.0))
        out = np.exp(log_first)
        if n > 0:
            j = np.arange(n)
            terms = gammaln(r + j) - gammaln(r) - gammaln(j + 1) + j * np.log(t / (alpha + t)) if t > 0 else \
                np.where(j == 0, 0.0, -np.inf)
            finite = np.exp(r * np.log(alpha / (alpha + t)) + np.logaddexp.reduce(terms))
            out += np.exp(betaln(a + 1, b + n - 1) - lbab) * (1 - finite)
        return float(out)
