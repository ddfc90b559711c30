r"""Implementation and monitoring (实施与监控): KPIs, control charts and experiments.

- :func:`kpi_table` — one row per period with the customer-base KPIs (new, active,
  lost, retention, churn, revenue per customer, NPS, complaint rate).
- :func:`control_chart` — Shewhart limits (p-chart or individuals chart) and alerts
  for one KPI; :func:`kpi_alerts` runs it on every KPI of a :func:`kpi_table`.
- :func:`ab_test` — a campaign experiment (A/B test) on a rate or a mean: difference,
  confidence interval, p-value, power and required sample size; :func:`power` and
  :func:`sample_size` plan the next one (反馈与改进).
- :func:`srm_check` — is the split into arms the one the design intended (sample-ratio
  mismatch, 样本比例失衡)? Check it before reading any result.
- :func:`cuped` — the same experiment with less noise: adjust the outcome by a
  pre-period covariate (CUPED, Deng et al. 2013) and test the adjusted difference.

Examples
--------
>>> import pandas as pd
>>> from crmlab.monitoring import ab_test
>>> df = pd.DataFrame({"group": ["treatment"] * 200 + ["control"] * 200,
...                    "bought": [1] * 60 + [0] * 140 + [1] * 40 + [0] * 160})
>>> r = ab_test(df, outcome_col="bought")
>>> round(float(r["difference"].iloc[0]), 2)
0.1
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlab.data.columns import AMOUNT, CUSTOMER, DATE
from crmlab.validation import (
    check_choice,
    check_fraction,
    check_frame,
    check_positive_int,
    check_transactions,
)

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = [
    "PERIODS",
    "kpi_table",
    "control_chart",
    "kpi_alerts",
    "ab_test",
    "power",
    "sample_size",
    "srm_check",
    "cuped",
]

PERIODS = ("D", "W", "M", "Q", "Y")
"""Accepted ``period`` codes (pandas period aliases): day, week, month, quarter, year."""

_MAX_CELLS = 50_000_000  # customers x periods tracked by kpi_table (about 450 MB of working arrays)
_D2 = 1.128  # E[|X1 - X2|] / sigma for two normal observations (control-chart constant d2, n = 2)


# --------------------------------------------------------------------------- KPI table
def _tables(data: Any, surveys: pd.DataFrame | None, interactions: pd.DataFrame | None
            ) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None, pd.Timestamp | None]:
    if isinstance(data, pd.DataFrame):
        return data, surveys, interactions, None
    if all(hasattr(data, a) for a in ("transactions", "surveys", "interactions")):
        return (data.transactions, data.surveys if surveys is None else surveys,
                data.interactions if interactions is None else interactions, getattr(data, "observation_end", None))
    raise TypeError(
        f"data must be a CRMData (crm.load_retail()) or a transactions DataFrame, got {type(data).__name__}."
    )


def kpi_table(data: CRMData | pd.DataFrame, *, period: str = "M", window: int = 3,
              surveys: pd.DataFrame | None = None, interactions: pd.DataFrame | None = None,
              customer_col: str = CUSTOMER, date_col: str = DATE, amount_col: str = AMOUNT) -> pd.DataFrame:
    r"""Customer-base KPIs per period (关键绩效指标).

    A customer is in the **active base** at the end of period :math:`t` when they bought
    in one of the last ``window`` periods (:math:`t-w+1, \dots, t`). With
    :math:`S_t` the base at the start of :math:`t` (= the base at the end of :math:`t-1`):

    - ``customers_start`` :math:`S_t`; ``customers_end`` :math:`E_t`.
    - ``new_customers`` :math:`N_t`: first purchase ever falls in :math:`t`.
    - ``reactivated`` :math:`R_t`: bought in :math:`t`, not new, not in :math:`S_t`.
    - ``lost_customers`` :math:`L_t`: in :math:`S_t` but not in :math:`E_t`, i.e. their
      last purchase is now exactly ``window`` periods old. So
      :math:`E_t = S_t + N_t + R_t - L_t`.
    - ``retention_rate`` :math:`= (S_t - L_t)/S_t` (equivalently
      :math:`(E_t - N_t - R_t)/S_t`); ``churn_rate`` :math:`= L_t / S_t = 1 -` retention
      (NaN by design when :math:`S_t = 0`: no base, no rate).
    - ``active_customers``: distinct customers who bought in :math:`t`; ``orders``;
      ``revenue`` (sum of ``amount_col``); ``revenue_per_customer`` = revenue / active customers
      (NaN in a period without buyers).
    - ``n_responses`` and ``nps``: surveys answered in :math:`t` and their Net Promoter
      Score (-100..100) from :func:`crmlab.satisfaction.nps` (NaN without answers).
    - ``complaints`` and ``complaint_rate`` = complaints / orders in :math:`t` (as in
      :func:`crmlab.satisfaction.complaint_rate`, which reports it per 1,000 orders).

    The first ``window`` periods are a ramp-up: nobody can be lost yet, and in a log that
    starts mid-history every existing customer counts as new in its first period. Leave
    them out of control charts (see :func:`kpi_alerts`' ``start``).

    Parameters
    ----------
    data : CRMData, or a transactions DataFrame (``customer_col``, ``date_col``, ``amount_col``).
        Amounts must be finite and not negative (net refunds against their orders first);
        with a CRMData, orders after its ``observation_end`` (whole day) raise.
    period : one of :data:`PERIODS` (``"M"`` = calendar month).
    window : the inactivity threshold in periods: a customer without a purchase for this many
        periods counts as lost.
    customer_col, date_col, amount_col : column names of the transactions.
    surveys, interactions : override (or, for a DataFrame ``data``, supply) the survey
        (``date``, ``nps``) and service (``date``, ``type``) tables; without them the NPS
        and complaint columns are left out.

    Returns
    -------
    DataFrame with one row per period from the first purchase to the end of the data
    (``data.observation_end`` or the last purchase), including periods without sales.
    Memory grows with customers × periods (a boolean matrix and its running count): fine
    for monthly data on a million customers; above 50 million customer-periods it raises
    ``ValueError`` asking for a coarser ``period`` instead of exhausting memory.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 2], "amount": [10.0, 20.0, 5.0, 5.0],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-02-01", "2024-04-01"])})
    >>> kpi_table(tx, window=1)[["period", "new_customers", "lost_customers", "churn_rate"]]
        period  new_customers  lost_customers  churn_rate
    0  2024-01              2               0         NaN
    1  2024-02              0               1         0.5
    2  2024-03              0               1         1.0
    3  2024-04              0               0         NaN
    """
    check_choice(period, PERIODS, name="period")
    window = check_positive_int(window, name="window")
    transactions, surveys, interactions, end = _tables(data, surveys, interactions)
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                            observation_end=end)
    tx_period = tx[date_col].dt.to_period(period)
    first = tx_period.min()
    last = tx_period.max() if end is None else max(tx_period.max(), pd.Timestamp(end).to_period(period))
    periods = pd.period_range(first, last, freq=period)
    idx = (tx_period.array.asi8 - first.ordinal).astype(np.int64)  # period number from the first

    codes, _ = pd.factorize(tx[customer_col])
    n_c, n_p = int(codes.max()) + 1, len(periods)
    if n_c * n_p > _MAX_CELLS:
        raise ValueError(f"kpi_table would track {n_c:,} customers over {n_p:,} periods ({n_c * n_p:,} cells, "
                         f"about {9 * n_c * n_p / 1e9:.1f} GB); use a coarser period (e.g. period='M' or 'Q') "
                         f"or a shorter log.")
    active = np.zeros((n_c, n_p), dtype=bool)
    active[codes, idx] = True
    # base[:, t]: bought in periods t-window+1 .. t
    csum = np.concatenate([np.zeros((n_c, 1), dtype=np.int64), np.cumsum(active, axis=1)], axis=1)
    lo = np.maximum(np.arange(n_p) + 1 - window, 0)
    base = (csum[:, 1:] - csum[:, lo]) > 0
    base_prev = np.concatenate([np.zeros((n_c, 1), dtype=bool), base[:, :-1]], axis=1)
    first_idx = np.argmax(active, axis=1)
    is_new = np.zeros_like(active)
    is_new[np.arange(n_c), first_idx] = True

    start = base_prev.sum(axis=0)
    lost = (base_prev & ~base).sum(axis=0)
    out = pd.DataFrame({
        "period": periods,
        "customers_start": start,
        "new_customers": is_new.sum(axis=0),
        "reactivated": (active & ~is_new & ~base_prev).sum(axis=0),
        "lost_customers": lost,
        "customers_end": base.sum(axis=0),
        "active_customers": active.sum(axis=0),
        "orders": np.bincount(idx, minlength=n_p),
        "revenue": np.bincount(idx, weights=tx[amount_col].to_numpy(dtype=float), minlength=n_p),
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        out["retention_rate"] = np.where(start > 0, (start - lost) / np.where(start > 0, start, 1), np.nan)
        out["churn_rate"] = np.where(start > 0, lost / np.where(start > 0, start, 1), np.nan)
        act = out["active_customers"].to_numpy()
        out["revenue_per_customer"] = np.where(act > 0, out["revenue"] / np.where(act > 0, act, 1), np.nan)

    if surveys is not None:
        from crmlab.satisfaction import nps

        sv = check_frame(surveys, required=[DATE, "nps"], dates=[DATE], not_missing=[DATE],
                         allow_empty=True, name="surveys")
        sv_period = sv[DATE].dt.to_period(period)
        n_resp, scores = [], []
        for p in periods:
            answers = sv.loc[(sv_period == p).to_numpy(), "nps"].dropna()
            n_resp.append(len(answers))
            scores.append(nps(answers).score if len(answers) else np.nan)
        out["n_responses"] = np.asarray(n_resp, dtype=np.int64)
        out["nps"] = np.asarray(scores, dtype=float)
    if interactions is not None:
        it = check_frame(interactions, required=[DATE, "type"], dates=[DATE], not_missing=[DATE, "type"],
                         allow_empty=True, name="interactions")
        comp = it.loc[(it["type"] == "complaint").to_numpy(), DATE].dt.to_period(period)
        counts = comp.value_counts().reindex(periods, fill_value=0).to_numpy()
        out["complaints"] = counts.astype(np.int64)
        orders = out["orders"].to_numpy()
        out["complaint_rate"] = np.where(orders > 0, counts / np.where(orders > 0, orders, 1), np.nan)
    return out


# --------------------------------------------------------------------------- control charts
def control_chart(data: pd.DataFrame, column: str, *, n_col: str | None = None, kind: str | None = None,
                  baseline: int | None = None, sigma: float = 3.0, run_length: int = 8) -> pd.DataFrame:
    r"""Shewhart control limits and alerts for one KPI (监控).

    Limits are estimated on the first ``baseline`` non-missing periods (phase I, the
    stable reference) and applied to every period.

    - ``kind="p"`` (a rate with a denominator ``n_col``, e.g. churn rate with
      ``customers_start``): :math:`\bar p = \sum x_i / \sum n_i` over the baseline and
      limits :math:`\bar p \pm \text{sigma}\sqrt{\bar p(1-\bar p)/n_i}`, clipped to [0, 1].
    - ``kind="individuals"`` (XmR chart, any number): centre :math:`\bar x`, limits
      :math:`\bar x \pm \text{sigma}\,\overline{MR}/1.128`, where :math:`\overline{MR}` is the
      mean absolute change between consecutive baseline periods.

    An alert is raised for a point beyond the limits (``rule="beyond limits"``) or for
    ``run_length`` consecutive points on the same side of the centre line
    (``rule="run of 8"``): a shift too persistent to be noise (Western Electric rules).

    Parameters
    ----------
    data : a table with one row per period, e.g. :func:`kpi_table`.
    column : the KPI.
    n_col : denominator column (required for ``kind="p"``).
    kind : ``"p"`` or ``"individuals"``; default ``"p"`` when ``n_col`` is given.
    baseline : number of leading non-missing periods used for the limits (default all).

    Returns
    -------
    DataFrame with ``period`` (if ``data`` has one), ``value``, ``n`` (p-chart), ``center``,
    ``lcl``, ``ucl``, ``alert`` and ``rule`` (empty string when no alert).

    Examples
    --------
    >>> kpis = pd.DataFrame({"x": [10, 12, 11, 9, 10, 11, 30]})
    >>> control_chart(kpis, "x", baseline=6)["alert"].tolist()
    [False, False, False, False, False, False, True]
    """
    kind = ("p" if n_col is not None else "individuals") if kind is None else check_choice(
        kind, ("p", "individuals"), name="kind")
    if kind == "p" and n_col is None:
        raise ValueError("kind='p' needs n_col, the column with each period's denominator (e.g. 'customers_start').")
    cols = [column] + ([n_col] if n_col is not None else [])
    df = check_frame(data, required=cols, numeric=cols, name="data")
    if sigma is None or isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number of standard deviations, got {sigma!r}.")
    run_length = check_positive_int(run_length, name="run_length", minimum=2)
    x = df[column].to_numpy(dtype=float)
    ok = ~np.isnan(x)
    if kind == "p":
        n = df[n_col].to_numpy(dtype=float)
        ok &= n > 0
        if ((x[ok] < 0) | (x[ok] > 1)).any():
            raise ValueError(f"{column!r} must be a proportion in [0, 1] for a p-chart; use kind='individuals' "
                             f"for counts or amounts.")
    positions = np.flatnonzero(ok)
    if baseline is None:
        base = positions
    else:
        baseline = check_positive_int(baseline, name="baseline", minimum=2)
        if baseline > len(positions):
            raise ValueError(f"baseline={baseline} but {column!r} has only {len(positions)} usable period(s).")
        base = positions[:baseline]
    if len(base) < 2:
        raise ValueError(f"{column!r} needs at least 2 non-missing periods to estimate control limits.")

    out = pd.DataFrame(index=df.index)
    if "period" in df.columns:
        out["period"] = df["period"]
    out["value"] = x
    if kind == "p":
        pbar = float((x[base] * n[base]).sum() / n[base].sum())
        if pbar in (0.0, 1.0):
            raise ValueError(f"{column!r} is {pbar:g} in every baseline period, so the p-chart limits have zero "
                             f"width and every other value would alert. Use a longer baseline, or a coarser period.")
        with np.errstate(divide="ignore", invalid="ignore"):
            half = sigma * np.sqrt(pbar * (1 - pbar) / np.where(n > 0, n, np.nan))
        out["n"] = n
        center = np.full(len(x), pbar)
        lcl, ucl = np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)
    else:
        xb = x[base]
        center = np.full(len(x), float(xb.mean()))
        mr = float(np.abs(np.diff(xb)).mean())
        if mr == 0:
            raise ValueError(f"{column!r} is constant ({xb[0]:g}) over the {len(xb)} baseline periods, so the "
                             f"control limits have zero width and any change would alert. Use a longer or "
                             f"different baseline.")
        lcl, ucl = center - sigma * mr / _D2, center + sigma * mr / _D2
    out["center"], out["lcl"], out["ucl"] = center, lcl, ucl

    beyond = ok & ((x > ucl) | (x < lcl))
    side = np.where(~ok, 0, np.sign(x - center))
    run = np.zeros(len(x), dtype=bool)
    count, last = 0, 0
    for i, s in enumerate(side):
        if not ok[i]:
            continue  # a missing period neither breaks nor extends a run
        count = count + 1 if (s == last and s != 0) else (1 if s != 0 else 0)
        last = s
        run[i] = count >= run_length
    out["alert"] = beyond | run
    out["rule"] = np.where(beyond, "beyond limits", np.where(run, f"run of {run_length}", ""))
    out["rule"] = out["rule"].astype("str")
    return out.reset_index(drop=True)


_KPI_CHARTS = {
    "new_customers": (None, "individuals"),
    "churn_rate": ("customers_start", "p"),
    "revenue_per_customer": (None, "individuals"),
    "nps": (None, "individuals"),
    "complaint_rate": ("orders", "p"),
}


def kpi_alerts(kpis: pd.DataFrame, *, baseline: int | None = None, start: str | pd.Period | None = None,
               **kwargs: Any) -> pd.DataFrame:
    """Alerts from a control chart on each KPI of :func:`kpi_table`.

    Rates with a denominator (``churn_rate`` over ``customers_start``, ``complaint_rate``
    over ``orders``) get a p-chart; new customers, revenue per customer and NPS an
    individuals chart. Counts that grow with the customer base (active customers,
    revenue) trend by design and are left out: chart their rates instead. KPI columns
    that are absent are skipped.

    Parameters
    ----------
    kpis : output of :func:`kpi_table`.
    baseline : periods (from ``start``) used to set the limits.
    start : first period to chart (e.g. ``"2023-07"``), to leave out the ramp-up months
        when the customer base is still being built.
    **kwargs : passed to :func:`control_chart` (``sigma``, ``run_length``).

    Returns
    -------
    One row per alert: ``period``, ``kpi``, ``value``, ``center``, ``lcl``, ``ucl``, ``rule``.
    """
    df = check_frame(kpis, required=["period"], name="kpis")
    if start is not None:
        try:
            first = pd.Period(start, freq=df["period"].dt.freq)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"start={start!r} is not a period like '2023-07' matching the kpis' periods.") from exc
        df = df[(df["period"] >= first).to_numpy()].reset_index(drop=True)
        if df.empty:
            raise ValueError(f"start={start!r} is after the last period in kpis ({kpis['period'].iloc[-1]}).")
    found = [c for c in _KPI_CHARTS if c in df.columns]
    if not found:
        raise ValueError(f"kpis has none of the KPI columns {list(_KPI_CHARTS)}; pass the output of kpi_table.")
    frames = []
    for col in found:
        n_col, kind = _KPI_CHARTS[col]
        chart = control_chart(df, col, n_col=n_col, kind=kind, baseline=baseline, **kwargs)
        hits = chart[chart["alert"]].assign(kpi=col)
        frames.append(hits[["period", "kpi", "value", "center", "lcl", "ucl", "rule"]])
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["period", "kpi"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- experiments
def _effect_size(kind: str, baseline, mde, sd) -> float:
    if kind == "proportion":
        p0 = check_fraction(baseline, name="baseline")
        p1 = p0 + mde
        if not 0 < p1 < 1:
            raise ValueError(f"baseline + mde = {p1:g} is not a rate in (0, 1); choose a smaller mde.")
        return abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0)))  # Cohen's h
    if sd is None or isinstance(sd, bool) or not isinstance(sd, (int, float)) or not 0 < sd < math.inf:
        raise ValueError(f"kind='mean' needs sd, the outcome's standard deviation (a finite number > 0), got {sd!r}.")
    return abs(mde) / sd  # Cohen's d


def _check_mde(mde) -> float:
    if mde is None or isinstance(mde, bool) or not isinstance(mde, (int, float)) or mde == 0 or not np.isfinite(mde):
        raise ValueError(f"mde (minimum detectable effect, treatment minus control) must be a non-zero number, got {mde!r}.")
    return float(mde)


def _power_from_effect(kind: str, es: float, n1: float, n2: float, alpha: float) -> float:
    n_eff = n1 * n2 / (n1 + n2)
    if kind == "proportion":
        z = stats.norm.isf(alpha / 2)
        shift = es * math.sqrt(n_eff)
        return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))
    df = n1 + n2 - 2
    t = stats.t.isf(alpha / 2, df)
    nc = es * math.sqrt(n_eff)
    lower = stats.nct.cdf(-t, df, nc)
    if np.isnan(lower):  # scipy's nct underflows far in the tail; the term is negligible there
        lower = stats.norm.cdf(-t - nc)
    return float(stats.nct.sf(t, df, nc) + lower)


def power(kind: str = "proportion", *, n_treatment: int, n_control: int | None = None, mde: float,
          baseline: float | None = None, sd: float | None = None, alpha: float = 0.05) -> float:
    r"""Power of a two-sided two-sample test to detect a true difference ``mde``.

    - ``kind="proportion"``: effect size Cohen's :math:`h = |2\arcsin\sqrt{p_0 + \text{mde}} - 2\arcsin\sqrt{p_0}|`
      with ``baseline`` :math:`p_0`, normal approximation:
      :math:`1-\beta = \Phi(h\sqrt{n_e} - z_{1-\alpha/2}) + \Phi(-h\sqrt{n_e} - z_{1-\alpha/2})`,
      :math:`n_e = n_T n_C/(n_T+n_C)`.
    - ``kind="mean"``: Cohen's :math:`d = |\text{mde}|/\text{sd}`, non-central t with
      :math:`n_T + n_C - 2` degrees of freedom.

    ``n_control`` defaults to ``n_treatment``.

    Examples
    --------
    >>> round(power("proportion", n_treatment=1000, baseline=0.20, mde=0.05), 3)
    0.765
    """
    kind = check_choice(kind, ("proportion", "mean"), name="kind")
    alpha = check_fraction(alpha, name="alpha")
    n1 = check_positive_int(n_treatment, name="n_treatment", minimum=2)
    n2 = n1 if n_control is None else check_positive_int(n_control, name="n_control", minimum=2)
    es = _effect_size(kind, baseline, _check_mde(mde), sd)
    return _power_from_effect(kind, es, n1, n2, alpha)


def sample_size(kind: str = "proportion", *, mde: float, baseline: float | None = None, sd: float | None = None,
                alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> int:
    """Customers needed in the treatment group so the test has the requested ``power``.

    Solves :func:`power` for ``n_treatment`` (with ``n_control = ratio * n_treatment``)
    and rounds up. Effect sizes and tests as in :func:`power`.

    Examples
    --------
    >>> sample_size("proportion", baseline=0.20, mde=0.05)
    1092
    """
    kind = check_choice(kind, ("proportion", "mean"), name="kind")
    alpha = check_fraction(alpha, name="alpha")
    target = check_fraction(power, name="power")
    if target <= alpha:
        raise ValueError(f"power={target} must exceed alpha={alpha}.")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio > 0:
        raise ValueError(f"ratio (control size / treatment size) must be a positive number, got {ratio!r}.")
    es = _effect_size(kind, baseline, _check_mde(mde), sd)

    def gap(n1):
        return _power_from_effect(kind, es, n1, ratio * n1, alpha) - target

    lo = 2.0 / min(ratio, 1.0) + 1e-9
    hi = 10.0
    while gap(hi) < 0:
        hi *= 10
        if hi > 1e12:
            raise ValueError("the effect is too small to detect with any realistic sample; raise mde.")
    if gap(lo) >= 0:
        return int(math.ceil(lo))
    return int(math.ceil(optimize.brentq(gap, lo, hi, xtol=1e-10)))


def ab_test(data: pd.DataFrame, *, outcome_col: str, group_col: str = "group", treatment: Any = "treatment",
            control: Any = "control", kind: str = "proportion", alpha: float = 0.05, confidence: float = 0.95,
            mde: float | None = None, power: float = 0.8) -> pd.DataFrame:
    r"""Evaluate a randomised campaign experiment (A/B test) on a rate or a mean.

    Difference :math:`\hat\Delta = \bar y_T - \bar y_C` (treatment minus control) with a
    two-sided confidence interval (level ``confidence``) and the p-value of a test at
    significance level ``alpha``:

    - ``kind="proportion"`` (0/1 outcome): z-test with the pooled rate
      :math:`\hat p`, :math:`z = \hat\Delta / \sqrt{\hat p(1-\hat p)(1/n_T + 1/n_C)}`;
      Wald interval :math:`\hat\Delta \pm z_{(1+c)/2}\sqrt{\hat p_T(1-\hat p_T)/n_T + \hat p_C(1-\hat p_C)/n_C}`
      with :math:`c` = ``confidence``.
    - ``kind="mean"``: Welch's t-test (unequal variances) and its interval,
      :math:`\hat\Delta \pm t_{(1+c)/2,\nu}\sqrt{s_T^2/n_T + s_C^2/n_C}`.

    A test needs variation: when the outcome takes one value in both arms (no buyer at
    all, everyone bought, a constant amount) there is no statistic and no p-value, and
    ``ab_test`` raises ``ValueError`` instead of reporting "not significant".

    With ``mde`` (the smallest difference worth detecting, in the outcome's unit) it also
    reports the design's ``power`` to detect it (baseline = observed control rate, or the
    pooled standard deviation for means) and ``n_required``: treatment-group size for the
    requested ``power`` at the observed control/treatment ratio. Power computed at the
    *observed* difference ("post-hoc power") adds nothing to the p-value, so it is not
    offered.

    Parameters
    ----------
    data : one row per customer with ``group_col`` and ``outcome_col``.
    outcome_col : 0/1 (or bool) for proportions, a number for means. No missing values.
    group_col, treatment, control : the arm column and its two labels; other labels raise.
    kind : ``"proportion"`` or ``"mean"``.
    alpha : significance level of the test (``significant`` is ``p_value < alpha``) and of
        the power calculation; not an interval level.
    confidence : level of the interval ``ci_low``-``ci_high`` (``1 - alpha`` makes the
        interval match the test's decision for means).
    mde, power : minimum detectable effect and target power of the design check.

    Returns
    -------
    One-row DataFrame: ``kind``, ``test``, ``n_treatment``, ``n_control``, ``treatment``,
    ``control`` (rates or means), ``difference``, ``ci_low``, ``ci_high``, ``relative_lift``
    (difference / control; NaN when the control rate or mean is 0, where a relative lift
    is undefined), ``statistic``, ``p_value``, ``significant``, ``mde``, ``power``,
    ``n_required`` (last three NaN without ``mde``).

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["treatment", "control"] * 50, "spend": range(100)})
    >>> ab_test(df, outcome_col="spend", kind="mean")["difference"].iloc[0]
    np.float64(-1.0)
    """
    kind = check_choice(kind, ("proportion", "mean"), name="kind")
    alpha = check_fraction(alpha, name="alpha")
    level = check_fraction(confidence, name="confidence")
    df = check_frame(data, required=[group_col, outcome_col], not_missing=[group_col, outcome_col], name="data")
    labels = set(df[group_col].unique())
    for lab, what in ((treatment, "treatment"), (control, "control")):
        if lab not in labels:
            raise ValueError(f"{group_col!r} has no {what} label {lab!r}; found {sorted(map(str, labels))}. "
                             f"Pass {what}=... with the right label.")
    extra = labels - {treatment, control}
    if extra:
        raise ValueError(f"{group_col!r} has labels other than {treatment!r} and {control!r}: "
                         f"{sorted(map(str, extra))}. Filter the two arms you want to compare first.")
    col = df[outcome_col]
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(float)
    if not pd.api.types.is_numeric_dtype(col):
        raise TypeError(f"data column {outcome_col!r} must be numeric (0/1 for kind='proportion'), got {col.dtype}.")
    y = col.to_numpy(dtype=float)
    if kind == "proportion" and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"{outcome_col!r} must be 0/1 (or True/False) for kind='proportion'; "
                         f"found {y[~np.isin(y, (0.0, 1.0))][0]:g}. Use kind='mean' for amounts.")
    is_t = (df[group_col] == treatment).to_numpy()
    yt, yc = y[is_t], y[~is_t]
    n1, n2 = len(yt), len(yc)
    if min(n1, n2) < 2:
        raise ValueError(f"each arm needs at least 2 customers; got {n1} treated and {n2} control.")
    if not np.isfinite(y).all():
        raise ValueError(f"data column {outcome_col!r} contains infinite values; remove or fix them.")
    if np.ptp(y) == 0:
        raise ValueError(f"{outcome_col!r} is {y[0]:g} for every customer in both arms, so there is no variation "
                         f"to test (no statistic, no p-value). Check the outcome column, or wait for more data.")
    m1, m2 = yt.mean(), yc.mean()
    diff = m1 - m2
    if kind == "proportion":
        pooled = (yt.sum() + yc.sum()) / (n1 + n2)
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        stat = diff / se0
        p_value = float(2 * stats.norm.sf(abs(stat)))
        se = math.sqrt(m1 * (1 - m1) / n1 + m2 * (1 - m2) / n2)
        crit = stats.norm.isf((1 - level) / 2)
        test = "two-proportion z-test"
    else:
        v1, v2 = yt.var(ddof=1) / n1, yc.var(ddof=1) / n2
        if v1 + v2 == 0:
            raise ValueError(f"{outcome_col!r} is constant within each arm ({m1:g} treated, {m2:g} control), so "
                             f"Welch's t-test has no standard error; compare the two values directly.")
        se = math.sqrt(v1 + v2)
        dof = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        stat = diff / se
        p_value = float(2 * stats.t.sf(abs(stat), dof))
        crit = stats.t.isf((1 - level) / 2, dof)
        test = "Welch t-test"
    row = {
        "kind": kind, "test": test, "n_treatment": n1, "n_control": n2, "treatment": m1, "control": m2,
        "difference": diff, "ci_low": diff - crit * se, "ci_high": diff + crit * se,
        "relative_lift": diff / m2 if m2 != 0 else np.nan, "statistic": stat, "p_value": p_value,
        "significant": bool(p_value < alpha),
        "mde": np.nan, "power": np.nan, "n_required": np.nan,
    }
    if mde is not None:
        mde = _check_mde(mde)
        sd = None
        if kind == "mean":
            sd = math.sqrt(((n1 - 1) * yt.var(ddof=1) + (n2 - 1) * yc.var(ddof=1)) / (n1 + n2 - 2))
        es = _effect_size(kind, m2, mde, sd)
        row["mde"] = mde
        row["power"] = _power_from_effect(kind, es, n1, n2, alpha)
        row["n_required"] = sample_size(kind, mde=mde, baseline=m2 if kind == "proportion" else None, sd=sd,
                                        alpha=alpha, power=power, ratio=n2 / n1)
    return pd.DataFrame([row])


# --------------------------------------------------------------------------- experiment checks
def srm_check(data: pd.DataFrame, *, group_col: str = "group", expected: Mapping[Any, float] | None = None,
              alpha: float = 0.001) -> pd.DataFrame:
    r"""Sample-ratio mismatch check (样本比例失衡): are the arms the size the design intended?

    A randomised experiment that meant to put half the customers in each arm should see
    about half in each. When the counts are further from the design than chance allows,
    something other than the coin decided who was in which arm (a bug in the assignment,
    customers dropped from one arm's log, a filter applied after randomising), and the
    difference in outcomes can no longer be read as the treatment's effect. Pearson's
    chi-square goodness-of-fit test compares the observed counts :math:`O_g` with the
    design's :math:`E_g = n\,\pi_g`:

    .. math:: \chi^2 = \sum_g \frac{(O_g - E_g)^2}{E_g}, \qquad \text{df} = G - 1 .

    A strict ``alpha`` (default 0.001, the usual choice for this check) keeps false alarms
    rare, because the check is run on every experiment (Kohavi, Tang & Xu 2020, ch. 21).

    Parameters
    ----------
    data : one row per unit (customer) with ``group_col``; no missing labels.
    group_col : the arm column.
    expected : dict label -> intended share of units (shares must be positive and sum to
        1; every observed label must be listed). Default: equal shares.
    alpha : significance level; ``mismatch`` is ``p_value < alpha``.

    Returns
    -------
    DataFrame with one row per arm: ``group``, ``observed``, ``expected`` (count under the
    design), ``observed_share``, ``expected_share``, and the test's ``chi2``, ``dof``,
    ``p_value`` and ``mismatch`` (the same on every row: one test of the whole split).

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["treatment"] * 520 + ["control"] * 480})
    >>> r = srm_check(df)
    >>> r[["group", "observed", "expected"]]
           group  observed  expected
    0    control       480     500.0
    1  treatment       520     500.0
    >>> round(float(r["chi2"].iloc[0]), 2), bool(r["mismatch"].iloc[0])
    (1.6, False)
    """
    alpha = check_fraction(alpha, name="alpha")
    df = check_frame(data, required=[group_col], not_missing=[group_col], name="data")
    counts = df[group_col].value_counts().sort_index()
    labels = list(counts.index)
    if expected is None:
        if len(labels) < 2:
            raise ValueError(f"{group_col!r} has only one arm ({labels[0]!r}); a ratio check needs at least two. "
                             f"Pass expected={{...}} with every arm of the design.")
        shares = pd.Series(1.0 / len(labels), index=counts.index)
    else:
        if not isinstance(expected, Mapping):
            raise TypeError(f"expected must be a dict label -> share, e.g. {{'treatment': 0.5, 'control': 0.5}}; "
                            f"got {type(expected).__name__}.")
        unknown = [lab for lab in labels if lab not in expected]
        if unknown:
            raise ValueError(f"{group_col!r} has label {unknown[0]!r} that expected does not list; "
                             f"give a share for every arm ({sorted(map(str, labels))}).")
        values = {lab: expected[lab] for lab in expected}
        for lab, v in values.items():
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not np.isfinite(v) or v <= 0:
                raise ValueError(f"expected[{lab!r}] = {v!r}: every intended share must be a positive number.")
        total = float(sum(values.values()))
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the expected shares sum to {total:g}, not 1; give them as fractions of all units "
                             f"(a 50/50 split is {{'treatment': 0.5, 'control': 0.5}}).")
        if len(values) < 2:
            raise ValueError("expected lists only one arm; a ratio check needs at least two.")
        counts = counts.reindex(list(values), fill_value=0)
        shares = pd.Series(values, dtype=float).reindex(counts.index)
    n = int(counts.sum())
    exp_counts = shares * n
    chi2 = float(((counts - exp_counts) ** 2 / exp_counts).sum())
    dof = len(counts) - 1
    p_value = float(stats.chi2.sf(chi2, dof))
    return pd.DataFrame({
        "group": list(counts.index), "observed": counts.to_numpy(dtype="int64"),
        "expected": exp_counts.to_numpy(dtype=float), "observed_share": (counts / n).to_numpy(dtype=float),
        "expected_share": shares.to_numpy(dtype=float), "chi2": chi2, "dof": dof, "p_value": p_value,
        "mismatch": bool(p_value < alpha),
    })


def cuped(data: pd.DataFrame, *, outcome_col: str, covariate_col: str, group_col: str = "group",
          treatment: Any = "treatment", control: Any = "control", alpha: float = 0.05,
          confidence: float = 0.95) -> pd.DataFrame:
    r"""CUPED: the experiment's difference with less noise, from a pre-period covariate.

    Much of the variation in an outcome (retained or not, spend) is there before the
    experiment starts: customers who bought often last quarter keep buying often. CUPED
    (Controlled-experiment Using Pre-Experiment Data; Deng, Xu, Kohavi & Walker 2013)
    removes the part of the outcome :math:`Y` that a covariate :math:`X` measured *before*
    randomisation predicts:

    .. math:: Y^{\mathrm{cv}}_i = Y_i - \theta\,(X_i - \bar X), \qquad
              \theta = \frac{\operatorname{cov}(X, Y)}{\operatorname{var}(X)},

    with :math:`\theta` and :math:`\bar X` from both arms pooled. Because randomisation
    makes :math:`X` independent of the arm, the adjusted difference
    :math:`\bar Y^{\mathrm{cv}}_T - \bar Y^{\mathrm{cv}}_C` estimates the same effect, and
    its variance is smaller by the factor :math:`1 - \rho^2` (:math:`\rho` the correlation
    of :math:`X` and :math:`Y`). It is, up to how :math:`\theta` is estimated, the
    treatment coefficient of the regression :math:`Y \sim T + X`. The covariate must not be
    affected by the treatment: use only data from before the assignment.

    Both differences are tested with :func:`ab_test` (``kind="mean"``: Welch's t-test), so
    the unadjusted row equals ``ab_test(..., kind="mean")``.

    Parameters
    ----------
    data : one row per unit with ``group_col``, ``outcome_col`` and ``covariate_col``
        (numeric, no missing values; a 0/1 outcome is fine).
    outcome_col : the outcome measured after the assignment.
    covariate_col : a pre-period measurement (e.g. orders in the 90 days before).
    group_col, treatment, control, alpha, confidence : as in :func:`ab_test`.

    Returns
    -------
    Two-row DataFrame, ``method`` = ``"difference in means"`` and ``"CUPED"``: ``difference``,
    ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``significant``; and, the same on both rows,
    ``theta``, ``correlation`` and ``variance_reduction`` (:math:`\rho^2`, the share of the
    outcome's variance removed).

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["treatment", "control"] * 4,
    ...                    "before": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0],
    ...                    "after": [2.0, 1.0, 3.5, 2.0, 4.0, 3.5, 5.5, 4.0]})
    >>> r = cuped(df, outcome_col="after", covariate_col="before")
    >>> r[["method", "difference", "se"]].round(3)
                    method  difference     se
    0  difference in means       1.125  0.997
    1                CUPED       1.125  0.178
    >>> float(r["theta"].iloc[0])
    1.075
    """
    df = check_frame(data, required=[group_col, outcome_col, covariate_col],
                     not_missing=[group_col, outcome_col, covariate_col], numeric=[covariate_col], name="data")
    if outcome_col == covariate_col:
        raise ValueError(f"outcome_col and covariate_col are both {outcome_col!r}; the covariate must be "
                         f"measured before the assignment (e.g. the same KPI in the pre-period).")
    x = df[covariate_col].to_numpy(dtype=float)
    if not np.isfinite(x).all():
        raise ValueError(f"data column {covariate_col!r} contains infinite values; remove or fix them.")
    if np.ptp(x) == 0:
        raise ValueError(f"covariate {covariate_col!r} is {x[0]:g} for every unit, so it explains nothing; "
                         f"choose a pre-period measurement that varies between customers.")
    raw = ab_test(df, outcome_col=outcome_col, group_col=group_col, treatment=treatment, control=control,
                  kind="mean", alpha=alpha, confidence=confidence)
    y = df[outcome_col].to_numpy(dtype=float)
    xc = x - x.mean()
    theta = float((xc * (y - y.mean())).sum() / (xc**2).sum())
    rho = float(np.corrcoef(x, y)[0, 1]) if np.ptp(y) > 0 else 0.0
    y_adj = y - theta * xc
    is_t = (df[group_col] == treatment).to_numpy()
    adj = ab_test(df[[group_col]].assign(_y_cuped=y_adj), outcome_col="_y_cuped", group_col=group_col,
                  treatment=treatment, control=control, kind="mean", alpha=alpha, confidence=confidence)
    rows = []
    for method, r, values in (("difference in means", raw.iloc[0], y), ("CUPED", adj.iloc[0], y_adj)):
        se = math.sqrt(values[is_t].var(ddof=1) / is_t.sum() + values[~is_t].var(ddof=1) / (~is_t).sum())
        rows.append({"method": method, "difference": float(r["difference"]), "se": se,
                     "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                     "p_value": float(r["p_value"]), "significant": bool(r["significant"]),
                     "theta": theta, "correlation": rho, "variance_reduction": rho**2})
    return pd.DataFrame(rows)
