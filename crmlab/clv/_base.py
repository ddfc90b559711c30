"""Shared machinery of the customer-base models: input checks, the optimiser, the
Hessian-based standard errors, the ``summary`` table and the ``repr``.

Every model maximises its log-likelihood over the logarithms of its (positive)
parameters with ``scipy.optimize.minimize(method="L-BFGS-B")``. The objective is the
*mean* negative log-likelihood (so its scale does not grow with the number of
customers) plus an optional L2 penalty ``penalizer * sum(params ** 2)`` on the
parameters in their natural units, as in lifetimes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from crmlab import time as crm_time
from crmlab._estimator import TextReprEstimator
from crmlab.validation import check_array, check_frame, check_positive_int, check_same_length

__all__ = ["ConvergenceWarning", "ConvergenceError"]


class ConvergenceWarning(UserWarning):
    """The optimiser stopped without a clean convergence signal; check the estimates."""


class ConvergenceError(RuntimeError):
    """The model could not be fitted: the likelihood gave no finite optimum."""


def _summary_time_unit(summary) -> str | None:
    """The time unit a summary records in ``summary.attrs["time_unit"]`` (None if it records none)."""
    unit = getattr(summary, "attrs", {}).get("time_unit")
    return None if unit is None else crm_time.check_time_unit(unit)


def _fit_time_unit(model: str, summary, time_unit: str | None) -> str:
    """The unit a model is fitted in: the summary's recorded unit or ``time_unit=`` ("D" if neither)."""
    recorded = _summary_time_unit(summary)
    if time_unit is None:
        return "D" if recorded is None else recorded
    time_unit = crm_time.check_time_unit(time_unit)
    if recorded is not None and recorded != time_unit:
        raise ValueError(
            f"{model}.fit: time_unit={time_unit!r} ({crm_time.unit_name(time_unit)}) but the summary "
            f"records time_unit={recorded!r} ({crm_time.unit_name(recorded)}) in summary.attrs. Pass "
            f"time_unit={recorded!r} (or leave it out), or rebuild the summary with "
            f"customer_summary(..., time_unit={time_unit!r})."
        )
    return time_unit


def _check_same_unit(model, summary=None, time_unit: str | None = None) -> str:
    """Raise when ``summary`` or ``time_unit`` is in another unit than the one ``model`` was fitted in."""
    name = type(model).__name__
    fitted = getattr(model, "time_unit_", None)
    if fitted is None:
        raise ValueError(f"{name} has parameters but no time_unit_; fit it, or build it with "
                         f"{name}.from_params(..., time_unit='D' or 'W').")
    crm_time.check_same_unit(fitted, time_unit, what=f"{name}.time_unit_ (the unit it was fitted in)")
    recorded = None if summary is None else _summary_time_unit(summary)
    if recorded is not None and recorded != fitted:
        raise ValueError(
            f"The summary is in time_unit={recorded!r} ({crm_time.unit_name(recorded)}, from "
            f"summary.attrs) but {name} was fitted in time_unit_={fitted!r} "
            f"({crm_time.unit_name(fitted)}). Build the summary with customer_summary(..., "
            f"time_unit={fitted!r}) or refit the model on this summary."
        )
    return fitted


def _check_count(value, *, name: str, minimum: int = 0, maximum: int, why: str) -> int:
    """An integer in [minimum, maximum]: counts that size an array or a loop are bounded."""
    n = check_positive_int(value, name=name, minimum=minimum)
    if n > maximum:
        raise ValueError(f"{name}={n:,} is more than {maximum:,}: {why}")
    return n


def _check_penalizer(penalizer) -> float:
    if isinstance(penalizer, (bool, np.bool_)) or not isinstance(penalizer, (int, float, np.floating, np.integer)):
        raise TypeError(f"penalizer must be a non-negative number, got {penalizer!r}.")
    if not np.isfinite(penalizer) or penalizer < 0:
        raise ValueError(f"penalizer must be a non-negative number (0 = no penalty), got {penalizer}.")
    return float(penalizer)


def _weights(summary: pd.DataFrame, weights, *, name: str = "summary") -> np.ndarray:
    """Weights as a float array: ``None`` (1 each), a column name, or an array."""
    if weights is None:
        return np.ones(len(summary))
    if isinstance(weights, str):
        column = check_frame(summary, numeric=[weights], not_missing=[weights], nonnegative=[weights], name=name)
        return column[weights].to_numpy(dtype=float)
    w = check_array(weights, name="weights")
    check_same_length(summary=summary, weights=w)
    if (w < 0).any():
        raise ValueError(f"weights must be non-negative counts of customers, found {w[w < 0][0]:g}.")
    return w


def _check_integer_valued(values: np.ndarray, column: str, name: str) -> None:
    bad = np.abs(values - np.round(values)) > 1e-9
    if bad.any():
        raise ValueError(
            f"{name} column {column!r} must hold whole numbers of repeat purchases, found "
            f"{values[bad][0]!r}. Count purchases (repeat purchases = purchase days - 1)."
        )


def _check_rft(summary: pd.DataFrame, frequency_col: str, recency_col: str, T_col: str, *, name: str = "summary",
               allow_empty: bool = False):
    """Validate a (frequency, recency, T) customer summary; return three float arrays."""
    cols = [frequency_col, recency_col, T_col]
    df = check_frame(summary, numeric=cols, not_missing=cols, nonnegative=cols, name=name, allow_empty=allow_empty)
    x, tx, T = (df[c].to_numpy(dtype=float) for c in cols)
    _check_integer_valued(x, frequency_col, name)
    late = tx > T * (1 + 1e-12) + 1e-12
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise ValueError(
            f"{name}: {recency_col!r} exceeds {T_col!r} for {int(late.sum())} customer(s) "
            f"(e.g. row {df.index[i]!r}: {recency_col}={tx[i]:g} > {T_col}={T[i]:g}). Recency is the age at the "
            f"last purchase and T the age at the end of the period, both counted from the first purchase."
        )
    odd = (x == 0) & (tx != 0)
    if odd.any():
        i = int(np.flatnonzero(odd)[0])
        raise ValueError(
            f"{name}: {int(odd.sum())} customer(s) have {frequency_col}=0 but {recency_col}>0 "
            f"(e.g. row {df.index[i]!r}). Customers without repeat purchases have recency 0."
        )
    return x, tx, T


def _unique_patterns(weights: np.ndarray, *columns: np.ndarray):
    """Collapse identical rows of ``columns`` into unique patterns with summed weights."""
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    frame["w"] = weights
    grouped = frame.groupby([f"c{i}" for i in range(len(columns))], sort=False, observed=True)["w"].sum()
    grouped = grouped[grouped > 0]
    idx = grouped.index
    if len(columns) == 1:
        cols = [idx.to_numpy(dtype=float)]
    else:
        cols = [idx.get_level_values(i).to_numpy(dtype=float) for i in range(len(columns))]
    return (*cols, grouped.to_numpy(dtype=float))


def _central_gradient(fun, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (fun(x + e) - fun(x - e)) / (2 * h)
    return g


def _numerical_hessian(fun, x: np.ndarray, grad=None, h: float = 1e-4) -> np.ndarray:
    """Hessian by forward differences of the exact gradient, or central differences of
    the function (second-order stencil) when there is no gradient."""
    k = x.size
    H = np.empty((k, k))
    if grad is not None:
        g0 = grad(x)
        for i in range(k):
            e = np.zeros(k)
            e[i] = 1e-5
            H[i] = (grad(x + e) - g0) / 1e-5
    else:
        f0 = fun(x)
        for i in range(k):
            for j in range(i, k):
                ei = np.zeros(k)
                ej = np.zeros(k)
                ei[i] = h
                ej[j] = h
                if i == j:
                    H[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h**2
                else:
                    H[i, j] = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)) / (4 * h * h)
                    H[j, i] = H[i, j]
    return (H + H.T) / 2


_WARM_START_PATTERNS = 20_000


class _BaseModel(TextReprEstimator):
    """Base class: subclasses define ``_param_names``, ``_label`` and ``_loglik``.

    A scikit-learn estimator: ``__init__`` only stores ``penalizer``; everything learnt
    is an attribute ending in ``_`` set by ``fit`` (or by :meth:`from_params`).
    """

    _param_names: tuple[str, ...] = ()
    _label = ""
    _has_time_unit = False  # models of time (BG/NBD, Pareto/NBD, MBG/NBD) record time_unit_

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    # -- per-model hooks -------------------------------------------------------------
    def _loglik(self, params: np.ndarray, *data) -> np.ndarray:  # per pattern
        raise NotImplementedError

    def _loglik_grad(self, params: np.ndarray, *data):  # (loglik, d loglik / d params) or None
        return None

    def _initial_params(self, *data, w) -> np.ndarray:
        return np.ones(len(self._param_names))

    # -- fitting ----------------------------------------------------------------------
    def _objective(self, data, w, n, with_grad: bool):
        pen = float(self.penalizer)

        def fun(logp):
            p = np.exp(logp)
            with np.errstate(all="ignore"):
                ll = self._loglik(p, *data)
            val = -np.dot(w, ll) / n + pen * np.sum(p**2)
            return val if np.isfinite(val) else np.inf

        def fun_grad(logp):
            p = np.exp(logp)
            with np.errstate(all="ignore"):
                ll, g = self._loglik_grad(p, *data)
            val = -np.dot(w, ll) / n + pen * np.sum(p**2)
            grad = (-np.dot(g, w) / n + 2 * pen * p) * p
            if not np.isfinite(val) or not np.all(np.isfinite(grad)):
                return np.inf, np.zeros_like(logp)
            return val, grad

        return fun, (fun_grad if with_grad else None)

    def _fit_patterns(self, data: tuple, w: np.ndarray, x0=None) -> _BaseModel:
        # A handful of parameters: multithreaded BLAS only adds thread start-up and contention
        # to every small dot product (measured 10x slower on a busy 2-core machine).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_patterns_serial(data, w, x0)

    def _fit_patterns_serial(self, data: tuple, w: np.ndarray, x0=None) -> _BaseModel:
        _check_penalizer(self.penalizer)
        n = float(w.sum())
        has_grad = self._loglik_grad(np.ones(len(self._param_names)), *(d[:1] for d in data)) is not None
        fun, fun_grad = self._objective(data, w, n, has_grad)
        start = np.log(self._initial_params(*data, w=w) if x0 is None else np.asarray(x0, float))
        if not np.isfinite(fun(start)):
            start = np.zeros(len(self._param_names))
        if x0 is None and len(w) > 2 * _WARM_START_PATTERNS:
            start = self._warm_start(data, w, start, has_grad)
        if fun_grad is not None:
            res = optimize.minimize(fun_grad, start, jac=True, method="L-BFGS-B",
                                    options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20})
            grad = lambda z: fun_grad(z)[1]  # noqa: E731
        else:
            grad = lambda z: _central_gradient(fun, z)  # noqa: E731
            res = optimize.minimize(lambda z: (fun(z), grad(z)), start, jac=True, method="L-BFGS-B",
                                    options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20})
        logp = res.x
        if not np.all(np.isfinite(logp)) or not np.isfinite(res.fun):
            raise ConvergenceError(
                f"{type(self).__name__} could not be fitted: the log-likelihood has no finite optimum on this "
                f"data. Check that the summary has enough customers with repeat purchases, or pass penalizer>0."
            )
        gnorm = float(np.max(np.abs(res.jac)))
        self.converged_ = bool(res.success or gnorm < 1e-5)
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__}: the optimiser stopped with '{res.message}' (largest gradient {gnorm:.2g}). "
                f"The estimates may be off; try penalizer>0 or check the data.", ConvergenceWarning, stacklevel=3)
        if np.any(np.abs(logp) > 15):
            big = [nm for nm, v in zip(self._param_names, logp) if abs(v) > 15]
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {big} ran to an extreme value "
                f"({dict(zip(self._param_names, np.exp(logp).round(6)))}); the data do not identify them. "
                f"Use more customers or pass penalizer>0.", ConvergenceWarning, stacklevel=3)
        p = np.exp(logp)
        self.params_ = pd.Series(p, index=list(self._param_names), name="estimate")
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(np.dot(w, self._loglik(p, *data)))
        self.n_customers_ = n
        self.n_patterns_ = int(len(w))
        self.n_iter_ = int(res.nit)
        # covariance of the log-parameters from the Hessian of the total negative log-likelihood
        H = _numerical_hessian(fun, logp, grad=grad if has_grad else None) * n
        try:
            cov_log = np.linalg.inv(H)
            if not np.all(np.isfinite(cov_log)) or np.any(np.diag(cov_log) <= 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            warnings.warn(f"{type(self).__name__}: the Hessian is singular at the estimate; standard errors "
                          f"are not available (NaN).", ConvergenceWarning, stacklevel=3)
            cov_log = np.full((len(p), len(p)), np.nan)
        names = list(self._param_names)
        self.covariance_log_ = pd.DataFrame(cov_log, index=names, columns=names)
        self.covariance_ = pd.DataFrame(cov_log * np.outer(p, p), index=names, columns=names)
        return self

    def _warm_start(self, data, w, start, has_grad):
        """Starting values from a random subset of the patterns (weights kept, so the subset's
        likelihood estimates the full one): the full fit then needs only a few iterations."""
        keep = np.random.default_rng(0).random(len(w)) < _WARM_START_PATTERNS / len(w)
        sub = tuple(d[keep] for d in data)
        fun, fun_grad = self._objective(sub, w[keep], float(w[keep].sum()), has_grad)
        if fun_grad is None:
            fun_grad = lambda z: (fun(z), _central_gradient(fun, z))  # noqa: E731
        res = optimize.minimize(fun_grad, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-6})
        return res.x if np.all(np.isfinite(res.x)) and np.isfinite(res.fun) else start

    # -- reporting --------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95% intervals.

        The standard error comes from the inverse Hessian of the negative log-likelihood
        (delta method from the log scale); the interval is the Wald interval on the log
        scale, ``exp(log(est) +/- 1.96 se_log)``, so it stays positive.
        """
        check_is_fitted(self, ["params_", "covariance_log_"])
        z = stats.norm.ppf(0.975)
        se_log = np.sqrt(np.diag(self.covariance_log_.to_numpy()))
        est = self.params_.to_numpy()
        return pd.DataFrame(
            {"estimate": est, "se": np.sqrt(np.diag(self.covariance_.to_numpy())),
             "ci_lower": est * np.exp(-z * se_log), "ci_upper": est * np.exp(z * se_log)},
            index=pd.Index(list(self._param_names), name="parameter"),
        )

    def _sample_params(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """Parameter draws from the normal approximation to the log-parameters."""
        cov = getattr(self, "covariance_log_", None)
        cov = np.full((1, 1), np.nan) if cov is None else cov.to_numpy()
        if not np.all(np.isfinite(cov)):
            raise ValueError(f"{type(self).__name__} has no standard errors (not fitted, or a singular Hessian), "
                             f"so no interval "
                             f"can be drawn; pass confidence=None.")
        return np.exp(rng.multivariate_normal(np.log(self.params_.to_numpy()), cov, size=n_draws))

    @classmethod
    def from_params(cls, *, time_unit: str = "D", **params: float) -> _BaseModel:
        """A model with given parameters (e.g. published estimates), ready to predict.

        It has no standard errors or log-likelihood, since nothing was fitted. Models of
        time (BG/NBD, Pareto/NBD, MBG/NBD) record ``time_unit`` as ``time_unit_``: the
        unit the rate parameters are in (Fader & Hardie's CDNOW estimates are in weeks).

        >>> from crmlab.clv import BetaGeoModel
        >>> BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
        <BetaGeoModel (BG/NBD): r=0.243, alpha=4.414, a=0.793, b=2.426 in weeks; parameters given, not fitted>
        """
        names = list(cls._param_names)
        if sorted(params) != sorted(names):
            raise ValueError(f"{cls.__name__}.from_params needs exactly the parameters {names}, got {sorted(params)}.")
        values = np.array([params[k] for k in names], dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"{cls.__name__} parameters must be positive numbers, got {params}.")
        model = cls()
        if cls._has_time_unit:
            model.time_unit_ = crm_time.check_time_unit(time_unit)
        model.params_ = pd.Series(values, index=names, name="estimate")
        return model

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        name = type(self).__name__
        if getattr(self, "params_", None) is None:
            return super().__repr__(N_CHAR_MAX)
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        unit = getattr(self, "time_unit_", None)
        ps += f" in {crm_time.unit_name(unit)}" if unit is not None else ""
        if getattr(self, "n_customers_", None) is None:
            return f"<{name} ({self._label}): {ps}; parameters given, not fitted>"
        return (f"<{name} ({self._label}): {ps}; fitted on {self.n_customers_:,.0f} customers "
                f"({self.n_patterns_:,} patterns), log-likelihood={self.log_likelihood_:.2f}>")

    def _params(self) -> np.ndarray:
        check_is_fitted(self, "params_")
        return self.params_.to_numpy(dtype=float)


class _RFTModel(_BaseModel):
    """Models of (frequency, recency, T) summaries: BG/NBD, Pareto/NBD, MBG/NBD."""

    _has_time_unit = True

    def fit(self, summary: pd.DataFrame, y: object = None, *, frequency_col: str = "frequency",
            recency_col: str = "recency", T_col: str = "T", weights: str | ArrayLike | None = None,
            time_unit: str | None = None) -> _RFTModel:
        """Fit the model to a customer summary by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            One row per customer (or per pattern, with ``weights``): number of repeat
            purchases, age at the last purchase and age at the end of the period, both
            counted from the first purchase in the same time unit, e.g. the output of
            :func:`crmlab.features.customer_summary`.
        y : None
            Ignored; present so that the model fits at the end of a scikit-learn Pipeline.
        frequency_col, recency_col, T_col : str
            Column names.
        weights : None, str or array-like
            Number of customers each row stands for (a column name or an array).
        time_unit : {"D", "W", "M"}, optional
            Unit of recency and T. By default the unit the summary records
            (``summary.attrs["time_unit"]``, set by ``customer_summary``), else days.
            Passing a unit that differs from the recorded one raises ``ValueError``.
            Stored as ``time_unit_``: predictions, CLV and evaluations use it.

        Returns
        -------
        self
        """
        unit = _fit_time_unit(type(self).__name__, summary, time_unit)
        x, tx, T = _check_rft(summary, frequency_col, recency_col, T_col)
        w = _weights(summary, weights)
        _check_not_degenerate(type(self).__name__, w, x, tx, T)
        x, tx, T, w = _unique_patterns(w, x, tx, T)
        self.frequency_col_, self.recency_col_, self.T_col_ = frequency_col, recency_col, T_col
        self.time_unit_ = unit
        return self._fit_patterns((x, tx, T), w)

    def _rft(self, summary, frequency_col, recency_col, T_col):
        check_is_fitted(self, "params_")
        _check_same_unit(self, summary)
        cols = (frequency_col or getattr(self, "frequency_col_", "frequency"),
                recency_col or getattr(self, "recency_col_", "recency"), T_col or getattr(self, "T_col_", "T"))
        x, tx, T = _check_rft(summary, *cols)
        return x, tx, T

    def _check_t(self, t, name="t"):
        t_arr = np.asarray(t, dtype=float)
        if t_arr.ndim > 1 or not np.all(np.isfinite(t_arr)) or np.any(t_arr < 0):
            fitted = getattr(self, "time_unit_", None)
            unit = "the model's time unit" if fitted is None else crm_time.unit_name(fitted)
            raise ValueError(f"{name} must be a non-negative number (a time span in {unit}), got {t!r}.")
        return t_arr

    def _as_series(self, values, summary, name):
        return pd.Series(np.asarray(values, dtype=float), index=summary.index, name=name)


def _check_not_degenerate(model: str, w: np.ndarray, *columns: np.ndarray) -> None:
    n = w.sum()
    if n < 2:
        raise ValueError(f"{model} needs a summary of many customers; got {n:g}. The model describes how "
                         f"customers differ, which one customer cannot show.")
    x = columns[0]
    if not np.any((x > 0) & (w > 0)):
        raise ValueError(f"{model}: no customer made a repeat purchase (frequency is 0 everywhere), so the "
                         f"purchase and dropout processes cannot be separated. Use a longer calibration "
                         f"period or check how frequency was counted.")
    keep = w > 0
    if all(np.ptp(c[keep]) == 0 for c in columns):
        raise ValueError(f"{model}: all customers have the same purchase pattern, so the heterogeneity "
                         f"parameters are not identified. Fit on a real customer base with varied histories.")
