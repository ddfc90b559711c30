"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and
CLV: using iso-value curves for customer base analysis"; Fader & Hardie 2013, note 025).

Each transaction's value is Gamma(p, nu); nu varies across customers as Gamma(q, gamma).
The density of a customer's mean spend :math:`\\bar z` over ``x`` transactions is

.. math::

    f(\\bar z \\mid x) = \\frac{\\Gamma(px+q)}{\\Gamma(px)\\Gamma(q)}
        \\frac{\\gamma^q \\bar z^{px-1} x^{px}}{(\\gamma + x\\bar z)^{px+q}}

and the conditional expected spend is a weighted average of the population mean
:math:`p\\gamma/(q-1)` and the customer's own mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln
from sklearn.utils.validation import check_is_fitted

from crmlab.clv._base import _BaseModel, _check_integer_valued, _check_not_degenerate, _unique_patterns, _weights
from crmlab.validation import check_frame

__all__ = ["GammaGammaModel"]


def _gg_loglik(params, x, m):
    p, q, g = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(m)
            + px * np.log(x) - (px + q) * np.log(x * m + g))


def _gg_loglik_grad(params, x, m):
    p, q, g = params
    px = p * x
    xm_g = x * m + g
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - np.log(xm_g))
    d_q = digamma(px + q) - digamma(q) + np.log(g) - np.log(xm_g)
    d_g = q / g - (px + q) / xm_g
    return _gg_loglik(params, x, m), np.vstack([d_p, d_q, d_g])


def _check_spend(summary, frequency_col, monetary_col, *, name="summary", allow_zero_frequency=False):
    cols = [frequency_col, monetary_col]
    df = check_frame(summary, numeric=cols, not_missing=cols, nonnegative=cols, name=name)
    x = df[frequency_col].to_numpy(dtype=float)
    m = df[monetary_col].to_numpy(dtype=float)
    _check_integer_valued(x, frequency_col, name)
    if not allow_zero_frequency and (x == 0).any():
        raise ValueError(
            f"{name} has {int((x == 0).sum())} customer(s) with {frequency_col}=0. The Gamma-Gamma model is "
            f"fitted on repeat buyers only: pass {name}[{name}[{frequency_col!r}] > 0]."
        )
    bad = (x > 0) & (m <= 0)
    if bad.any():
        raise ValueError(
            f"{name} column {monetary_col!r} must be positive for repeat buyers; {int(bad.sum())} are 0 "
            f"(e.g. row {df.index[np.flatnonzero(bad)[0]]!r}). Drop free orders or net returns first."
        )
    return x, m


class GammaGammaModel(_BaseModel):
    """Gamma-Gamma model of average spend per transaction.

    Assumes spend is independent of the purchase process (check the correlation of
    frequency and monetary value first).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters.

    Attributes
    ----------
    params_ : Series
        ``p`` (shape of transaction values), ``q``, ``gamma`` (shape and rate of the
        customers' scale parameter nu).

    Examples
    --------
    >>> import crmlab as crm
    >>> from crmlab.clv import GammaGammaModel
    >>> cdnow = crm.load_cdnow("summary_monetary")
    >>> repeat = cdnow[cdnow["frequency"] > 0]
    >>> gg = GammaGammaModel().fit(repeat)
    >>> gg.params_.round(1).tolist()
    [6.2, 3.7, 15.4]
    """

    _param_names = ("p", "q", "gamma")
    _label = "Gamma-Gamma"

    def _loglik(self, params, x, m):
        return _gg_loglik(params, x, m)

    def _loglik_grad(self, params, x, m):
        return _gg_loglik_grad(params, x, m)

    def _initial_params(self, x, m, *, w):
        return np.array([1.0, 2.0, max(float(np.dot(w, m) / w.sum()), 1e-6)])

    def fit(self, summary: pd.DataFrame, y: object = None, *, frequency_col: str = "frequency",
            monetary_col: str = "monetary_value", weights: str | ArrayLike | None = None) -> GammaGammaModel:
        """Fit to repeat buyers' number of repeat purchases and mean repeat spend.

        Spend per purchase does not depend on a time unit, so the model records none.

        Parameters
        ----------
        summary : DataFrame
            One row per repeat buyer (``frequency > 0``).
        y : None
            Ignored (scikit-learn Pipeline compatibility).
        frequency_col, monetary_col : str
            Column names: repeat purchases and their mean value.
        weights : None, str or array-like
            Number of customers each row stands for.
        """
        x, m = _check_spend(summary, frequency_col, monetary_col)
        w = _weights(summary, weights)
        _check_not_degenerate(type(self).__name__, w, x, m)
        x, m, w = _unique_patterns(w, x, m)
        self.frequency_col_, self.monetary_col_ = frequency_col, monetary_col
        return self._fit_patterns((x, m), w)

    def conditional_expected_spend(self, summary: pd.DataFrame, *, frequency_col: str | None = None,
                                   monetary_col: str | None = None) -> pd.Series:
        """E[mean spend | x, z-bar] per customer; the population mean for ``frequency = 0``.

        >>> import crmlab as crm
        >>> from crmlab.clv import GammaGammaModel
        >>> cdnow = crm.load_cdnow("summary_monetary")
        >>> gg = GammaGammaModel().fit(cdnow[cdnow["frequency"] > 0])
        >>> round(float(gg.conditional_expected_spend(cdnow).iloc[0]), 2)
        24.66
        """
        check_is_fitted(self, "params_")
        fcol = frequency_col or getattr(self, "frequency_col_", "frequency")
        mcol = monetary_col or getattr(self, "monetary_col_", "monetary_value")
        x, m = _check_spend(summary, fcol, mcol, allow_zero_frequency=True)
        return pd.Series(_gg_expected_spend(self._params(), x, m), index=summary.index, name="expected_spend")

    def expected_spend_new(self) -> float:
        """Population mean spend per transaction, ``p * gamma / (q - 1)`` (needs q > 1)."""
        p, q, g = self._params()
        return float(p * g / (q - 1)) if q > 1 else float("inf")


def _gg_expected_spend(params, x, m):
    p, q, g = params
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * (p * g / (q - 1)) + weight * m
