"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys as a Poisson process with rate
:math:`\\lambda \\sim \\text{Gamma}(r, \\alpha)`; her lifetime is exponential with rate
:math:`\\mu \\sim \\text{Gamma}(s, \\beta)`. The likelihood follows Fader & Hardie (2005),
"A note on deriving the Pareto/NBD model and related expressions" (equations 18-20):

.. math::

    L = \\frac{\\Gamma(r+x)\\alpha^r\\beta^s}{\\Gamma(r)}
        \\left[\\frac{1}{(\\alpha+T)^{r+x}(\\beta+T)^s} + \\frac{s}{r+s+x} A_0\\right]

where :math:`A_0` is a difference of two Gauss hypergeometric terms. The argument of
:math:`{}_2F_1` is kept inside [0, 1) by branching on whether alpha >= beta, and the
difference is taken in log space.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln, hyp2f1, logsumexp

from crmlab.clv._base import _check_count, _RFTModel

__all__ = ["ParetoNBDModel"]


def _log_A0(params, x, tx, T):
    r, alpha, s, beta = params
    if alpha >= beta:
        big, second = alpha, s + 1.0
    else:
        big, second = beta, r + x
    diff = abs(alpha - beta)
    rsx = r + s + x
    with np.errstate(all="ignore"):
        log_1 = np.log(hyp2f1(rsx, second, rsx + 1.0, diff / (big + tx))) - rsx * np.log(big + tx)
        log_2 = np.log(hyp2f1(rsx, second, rsx + 1.0, diff / (big + T))) - rsx * np.log(big + T)
        # A0 = exp(log_1) - exp(log_2) >= 0; log(-expm1(d)) keeps precision when the two are close
        return log_1 + np.log(-np.expm1(log_2 - log_1))


def _pnbd_loglik(params, x, tx, T):
    r, alpha, s, beta = params
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + _log_A0(params, x, tx, T)
    return A1 + np.logaddexp(alive, dead)


class _FactorizedLoglik:
    """Total log-likelihood of Pareto/NBD over weighted patterns, fast.

    The same likelihood as :func:`_pnbd_loglik`: the two hypergeometric terms depend on
    (x, t_x) and on (x, T) only, and a customer base has far fewer distinct pairs than
    (x, t_x, T) patterns, so each ``hyp2f1`` is evaluated once per pair and gathered.
    """

    def __init__(self, x, tx, T, w):
        self.x, self.tx, self.T, self.w = x, tx, T, w
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.p1, self.i1 = np.unique(np.column_stack([x, tx]), axis=0, return_inverse=True)
        self.p2, self.i2 = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
        self.i1, self.i2 = self.i1.ravel(), self.i2.ravel()

    def _log_term(self, params, pairs):
        r, alpha, s, beta = params
        xx, tt = pairs[:, 0], pairs[:, 1]
        big, second = (alpha, s + 1.0) if alpha >= beta else (beta, r + xx)
        rsx = r + s + xx
        return np.log(hyp2f1(rsx, second, rsx + 1.0, abs(alpha - beta) / (big + tt))) - rsx * np.log(big + tt)

    def __call__(self, params):
        r, alpha, s, beta = params
        ux = self.ux
        A1 = (gammaln(r + ux) - gammaln(r))[self.ix] + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + self.x) * np.log(alpha + self.T) - s * np.log(beta + self.T)
        with np.errstate(divide="ignore", invalid="ignore"):  # A0 = 0 when t_x = T: log 0 = -inf is fine
            log_1 = self._log_term(params, self.p1)[self.i1]
            log_2 = self._log_term(params, self.p2)[self.i2]
            dead = np.log(s) - np.log(r + s + self.x) + log_1 + np.log(-np.expm1(log_2 - log_1))
        return np.dot(self.w, A1 + np.logaddexp(alive, dead))


class ParetoNBDModel(_RFTModel):
    """Pareto/NBD model of repeat purchasing in continuous time.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters (see :class:`BetaGeoModel`).

    Attributes
    ----------
    params_ : Series
        ``r``, ``alpha`` (purchase rate ~ Gamma(r, alpha)) and ``s``, ``beta``
        (dropout rate ~ Gamma(s, beta)).

    Examples
    --------
    >>> import crmlab as crm
    >>> from crmlab.clv import ParetoNBDModel
    >>> pnbd = ParetoNBDModel().fit(crm.load_cdnow("summary"))
    >>> pnbd.params_.round(2).tolist()
    [0.55, 10.58, 0.61, 11.67]
    """

    _param_names = ("r", "alpha", "s", "beta")
    _label = "Pareto/NBD"

    def _loglik(self, params, x, tx, T):
        return _pnbd_loglik(params, x, tx, T)

    def _objective(self, data, w, n, with_grad):
        total = _FactorizedLoglik(*data, w)
        pen = self.penalizer

        def fun(logp):
            p = np.exp(logp)
            with np.errstate(all="ignore"):
                val = -total(p) / n + pen * np.sum(p**2)
            return val if np.isfinite(val) else np.inf

        return fun, None

    def _initial_params(self, x, tx, T, *, w):
        rate = max(np.dot(w, x) / max(np.dot(w, T), 1e-12), 1e-6)
        scale = max(np.dot(w, T) / w.sum(), 1e-6)
        return np.array([1.0, 1.0 / rate, 1.0, scale])

    def probability_alive(self, summary: pd.DataFrame, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          T_col: str | None = None) -> pd.Series:
        """P(alive at T | x, t_x, T) (Fader & Hardie 2005, equation 36)."""
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        p = self._params()
        r, alpha, s, beta = p
        log_ratio = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                     + _log_A0(p, x, tx, T))
        return self._as_series(1.0 / (1.0 + np.exp(log_ratio)), summary, "p_alive")

    def predict_purchases(self, summary: pd.DataFrame, t: ArrayLike, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          T_col: str | None = None) -> pd.Series:
        """Expected purchases in the next ``t`` per customer (Fader & Hardie 2005, eq. 41)."""
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        t = self._check_t(t)
        p = self._params()
        return self._as_series(_pnbd_conditional_expected(p, t, x, tx, T), summary, "expected_purchases")

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """Expected repeat purchases in ``(0, t]`` of a new customer (equation 27)."""
        r, alpha, s, beta = self._params()
        t = self._check_t(t)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def probability_of_purchases(self, t: ArrayLike, n: ArrayLike, summary: pd.DataFrame, *,
                                 frequency_col: str | None = None, recency_col: str | None = None,
                                 T_col: str | None = None) -> pd.Series:
        """P(n purchases in the next ``t`` | x, t_x, T) per customer.

        Fader, Hardie & Shang's conditional PMF (note 028, equation 16).
        """
        x, tx, T = self._rft(summary, frequency_col, recency_col, T_col)
        t = float(self._check_t(t))
        n = _check_count(n, name="n", maximum=100_000, why="probabilities of that many purchases are 0 to machine precision; ask for fewer.")
        p = self._params()
        return self._as_series(_pnbd_conditional_pmf(p, t, n, x, tx, T), summary, "probability")


def _pnbd_conditional_expected(p, t, x, tx, T):
    r, alpha, s, beta = p
    ll = _pnbd_loglik(p, x, tx, T)
    first = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
             - (r + x) * np.log(alpha + T) - s * np.log(beta + T))
    second = np.log(r + x) + np.log(beta + T) - np.log(alpha + T)
    with np.errstate(all="ignore"):
        third = np.log((1 - ((beta + T) / (beta + T + t)) ** (s - 1)) / (s - 1))
    return np.exp(first + second + third - ll)


def _pnbd_conditional_pmf(p, t, n, x, tx, T):
    r, alpha, s, beta = p
    if t <= 0:
        return np.where(n == 0, 1.0, 0.0) * np.ones_like(x)
    if alpha < beta:
        big, second = beta, r + x + n
    else:
        big, second = alpha, s + 1.0
    diff = abs(alpha - beta)
    log_l = _pnbd_loglik(p, x, tx, T)
    common = r * np.log(alpha) + s * np.log(beta) - gammaln(r)
    log_p0 = gammaln(r + x) + common - (r + x) * np.log(alpha + T) - s * np.log(beta + T) - log_l
    log_B1 = gammaln(r + x + n) + common - (r + x + n) * np.log(alpha + T + t) - s * np.log(beta + T + t)
    rsx = r + s + x
    log_B2 = (common - gammaln(s) + gammaln(rsx) + betaln(r + x + n, s + 1)
              + np.log(hyp2f1(rsx, second, rsx + n + 1, diff / (big + T))) - rsx * np.log(big + T))
    log_B3 = [common - gammaln(s) + gammaln(rsx + i) + betaln(r + x + n, s + 1)
              + np.log(hyp2f1(rsx + i, second, rsx + n + 1, diff / (big + T + t)))
              - (rsx + i) * np.log(big + T + t) + i * np.log(t) - gammaln(i + 1) for i in range(n + 1)]
    first = n * np.log(t) - gammaln(n + 1) + log_B1 - log_l
    second_term = log_B2 - log_l
    third = logsumexp(np.vstack(log_B3), axis=0) - log_l
    out = np.exp(first) + np.exp(second_term) - np.exp(third)
    if n == 0:
        out = out + (1 - np.exp(log_p0))
    return out
