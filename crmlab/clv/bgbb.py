"""The BG/BB model for discrete transaction opportunities (Fader, Hardie & Shang 2010,
"Customer-base analysis in a discrete-time noncontractual setting", *Marketing Science*
29(6), 1086-1108).

At each of ``n`` opportunities (e.g. yearly donation drives) an alive customer buys with
probability :math:`p \\sim \\text{Beta}(\\alpha, \\beta)`; at the start of each later
opportunity she drops out with probability :math:`\\theta \\sim \\text{Beta}(\\gamma, \\delta)`.
For ``x`` purchases, the last at opportunity ``t_x``:

.. math::

    L = \\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha,\\beta)}\\frac{B(\\gamma, \\delta+n)}{B(\\gamma,\\delta)}
      + \\sum_{i=0}^{n-t_x-1} \\frac{B(\\alpha+x, \\beta+t_x-x+i)}{B(\\alpha,\\beta)}
        \\frac{B(\\gamma+1, \\delta+t_x+i)}{B(\\gamma,\\delta)}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln
from scipy.special import gammaln as _lg
from sklearn.utils.validation import check_is_fitted

from crmlab.clv._base import (
    _BaseModel,
    _check_count,
    _check_integer_valued,
    _check_not_degenerate,
    _unique_patterns,
    _weights,
)
from crmlab.validation import check_frame, check_positive_int

__all__ = ["BetaGeoBetaBinomModel"]


def _bgbb_loglik(params, x, tx, n):
    alpha, beta, gamma, delta = params
    lab, lgd = betaln(alpha, beta), betaln(gamma, delta)
    alive = betaln(alpha + x, beta + n - x) - lab + betaln(gamma, delta + n) - lgd
    span = (n - tx - 1).astype(int)
    i = np.arange(max(int(span.max()), 0) + 1)[:, None]
    terms = betaln(alpha + x, beta + tx - x + i) - lab + betaln(gamma + 1, delta + tx + i) - lgd
    terms = np.where(i <= span, terms, -np.inf)
    return np.logaddexp(alive, np.logaddexp.reduce(terms, axis=0))


def _check_bgbb(summary, frequency_col, recency_col, n_periods_col, name="summary"):
    cols = [frequency_col, recency_col, n_periods_col]
    df = check_frame(summary, numeric=cols, not_missing=cols, nonnegative=cols, name=name)
    x, tx, n = (df[c].to_numpy(dtype=float) for c in cols)
    for c, v in zip(cols, (x, tx, n)):
        _check_integer_valued(v, c, name)
    bad = (x > tx) | (tx > n) | ((x > 0) & (tx == 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: need {frequency_col} <= {recency_col} <= {n_periods_col} (recency = the opportunity of the "
            f"last purchase, 0 if none); row {df.index[i]!r} has {x[i]:g}, {tx[i]:g}, {n[i]:g}."
        )
    return x, tx, n


class BetaGeoBetaBinomModel(_BaseModel):
    """BG/BB model: repeat purchasing at discrete opportunities (donations, events).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters.

    Attributes
    ----------
    params_ : Series
        ``alpha``, ``beta`` (purchase probability ~ Beta) and ``gamma``, ``delta``
        (dropout probability ~ Beta).

    Examples
    --------
    >>> import crmlab as crm
    >>> from crmlab.clv import BetaGeoBetaBinomModel
    >>> bgbb = BetaGeoBetaBinomModel().fit(crm.load_donations(), weights="weights")
    >>> bgbb.params_.round(3).tolist()
    [1.204, 0.75, 0.657, 2.783]
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _label = "BG/BB"

    def _loglik(self, params, x, tx, n):
        return _bgbb_loglik(params, x, tx, n)

    def fit(self, summary: pd.DataFrame, y: object = None, *, frequency_col: str = "frequency",
            recency_col: str = "recency", n_periods_col: str = "periods", weights: str | ArrayLike | None = None) -> BetaGeoBetaBinomModel:
        """Fit to (frequency, recency, number of opportunities) per customer or pattern.

        Time is counted in opportunities (whole periods), so the model records no time unit.

        Parameters
        ----------
        y : None
            Ignored (scikit-learn Pipeline compatibility).
        summary : DataFrame
            ``frequency`` = purchases at the opportunities after the first,
            ``recency`` = the opportunity of the last purchase (0 if none),
            ``periods`` = the number of opportunities observed.
        weights : None, str or array-like
            Number of customers per row (the donations data ships one row per pattern).
        """
        x, tx, n = _check_bgbb(summary, frequency_col, recency_col, n_periods_col)
        w = _weights(summary, weights)
        _check_not_degenerate(type(self).__name__, w, x, tx, n)
        x, tx, n, w = _unique_patterns(w, x, tx, n)
        self.frequency_col_, self.recency_col_, self.n_periods_col_ = frequency_col, recency_col, n_periods_col
        return self._fit_patterns((x, tx, n), w)

    def _xtn(self, summary, frequency_col, recency_col, n_periods_col):
        check_is_fitted(self, "params_")
        return _check_bgbb(summary, frequency_col or getattr(self, "frequency_col_", "frequency"),
                           recency_col or getattr(self, "recency_col_", "recency"),
                           n_periods_col or getattr(self, "n_periods_col_", "periods"))

    def probability_alive(self, summary: pd.DataFrame, future_periods: int = 0, *, frequency_col: str | None = None,
                          recency_col: str | None = None, n_periods_col: str | None = None) -> pd.Series:
        """P(alive ``future_periods`` opportunities after the last observed one | x, t_x, n).

        ``future_periods=1`` is P(alive at the next opportunity), equation (11) of
        Fader, Hardie & Shang (2010).
        """
        m = check_positive_int(future_periods, name="future_periods", minimum=0)
        x, tx, n = self._xtn(summary, frequency_col, recency_col, n_periods_col)
        alpha, beta, gamma, delta = p = self._params()
        log_num = (betaln(alpha + x, beta + n - x) - betaln(alpha, beta)
                   + betaln(gamma, delta + n + m) - betaln(gamma, delta))
        return pd.Series(np.exp(log_num - _bgbb_loglik(p, x, tx, n)), index=summary.index, name="p_alive")

    def predict_purchases(self, summary: pd.DataFrame, periods: int, *, frequency_col: str | None = None,
                          recency_col: str | None = None,
                          n_periods_col: str | None = None) -> pd.Series:
        """Expected purchases at the next ``periods`` opportunities, per customer (eq. 13)."""
        m = check_positive_int(periods, name="periods", minimum=0)
        x, tx, n = self._xtn(summary, frequency_col, recency_col, n_periods_col)
        alpha, beta, gamma, delta = p = self._params()
        log_a = (betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta) + _lg(gamma + delta) - _lg(1 + delta)
                 - _bgbb_loglik(p, x, tx, n))
        bracket = (np.exp(_lg(1 + delta + n) - _lg(gamma + delta + n))
                   - np.exp(_lg(1 + delta + n + m) - _lg(gamma + delta + n + m)))
        return pd.Series(np.exp(log_a) * delta / (gamma - 1) * bracket, index=summary.index,
                         name="expected_purchases")

    def expected_purchases_new(self, periods: int) -> float:
        """Expected purchases of a new customer in the first ``periods`` opportunities (eq. 9)."""
        n = check_positive_int(periods, name="periods", minimum=0)
        alpha, beta, gamma, delta = self._params()
        ratio = np.exp(_lg(gamma + delta) - _lg(1 + delta) + _lg(1 + delta + n) - _lg(gamma + delta + n))
        return float(alpha / (alpha + beta) * delta / (gamma - 1) * (1 - ratio))

    def probability_of_purchases(self, periods: int, n_purchases: int) -> float:
        """P(X(n) = x): probability of ``n_purchases`` purchases in the first ``periods`` (eq. 7)."""
        n = _check_count(periods, name="periods", maximum=100_000,
                         why="the sum runs over every opportunity; ask for fewer periods.")
        x = check_positive_int(n_purchases, name="n_purchases", minimum=0)
        if x > n:
            return 0.0
        alpha, beta, gamma, delta = self._params()
        lab, lgd = betaln(alpha, beta), betaln(gamma, delta)

        def lbinom(a, k):
            return gammaln(a + 1) - gammaln(k + 1) - gammaln(a - k + 1)

        total = np.exp(lbinom(n, x) + betaln(alpha + x, beta + n - x) - lab + betaln(gamma, delta + n) - lgd)
        i = np.arange(x, n)
        if i.size:
            total += np.exp(lbinom(i, x) + betaln(alpha + x, beta + i - x) - lab
                            + betaln(gamma + 1, delta + i) - lgd).sum()
        return float(total)
