"""Generate the simulated company: one latent story behind every table.

The story, per customer:

1. A latent segment sets the BG/NBD purchase rate ``lambda`` and dropout probability
   ``p``, the Gamma-Gamma spend scale ``nu`` and a baseline satisfaction.
2. Buyers make their first purchase after a lognormal delay from signing up (median
   ``first_purchase_delay_median_days``); prospects never buy. While alive they buy
   at Poisson rate ``lambda`` (per week). Each purchase may trigger a complaint, which
   lowers satisfaction; resolving it recovers part of the loss. A purchase may make
   the customer join the loyalty programme (frequent buyers join more often; members buy
   ``1 + membership_effect`` times as often). After each purchase the customer drops out
   with probability ``p * exp(-satisfaction_dropout_effect * satisfaction)`` (repeat
   purchases only, as in BG/NBD), reduced by
   the retention offer for treated customers after the campaign date.
3. A random ``survey_response_share`` of the buyers answer one survey, after one of their
   purchases drawn at random (answers driven by the satisfaction at that purchase and the
   SERVQUAL drivers).
4. Inquiries, browsing sessions and the journey events before digital purchases are laid
   over the customer's active period; the steps of a session take ``step_minutes`` of the
   channel on average.

Times run in weeks from ``start`` inside the simulation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from crmlab.data.container import CRMData
from crmlab.data.schema import SERVQUAL_DIMENSIONS, TABLES
from crmlab.synth.b2b import generate_b2b
from crmlab.synth.config import CATEGORIES, COMPLEMENTS, SimulationConfig

__all__ = ["generate"]

_WEEK_US = 7 * 86_400 * 1_000_000
_MINUTE = 1 / (7 * 24 * 60)  # one minute in weeks
_SURNAMES = np.array(["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
                      "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo"])
_GIVEN = np.array(["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jie", "Tao", "Ming",
                   "Chao", "Xiu", "Hui", "Ping", "Gang", "Yun", "Hong", "Jun", "Lan", "Bo", "Ying"])
_REGIONS = ("East", "North", "South", "Central", "West")
_COMPLAINT_CATEGORIES = ("delivery", "product_quality", "billing", "staff", "returns")
_COMPLAINT_PROBS = (0.30, 0.30, 0.15, 0.15, 0.10)
_INQUIRY_CATEGORIES = ("delivery", "billing", "returns", "other")
_SERVICE_CHANNELS = ("phone", "chat", "email", "store")


def _labels(codes: np.ndarray, values) -> pd.Series:
    """Strings from integer codes without building Python objects (fast for 10M rows)."""
    arr = pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(values)))
    return pd.Series(arr.cast(pa.large_string()).cast(pa.string()), dtype="str")


def _times(start: pd.Timestamp, weeks: np.ndarray) -> np.ndarray:
    """Weeks since ``start`` -> datetime64[us], truncated to whole seconds."""
    us = np.floor(np.asarray(weeks) * (_WEEK_US / 1_000_000)) * 1_000_000
    return np.datetime64(start, "us") + us.astype("int64").astype("timedelta64[us]")


class _Events:
    """Column-wise accumulator of per-iteration numpy arrays."""

    def __init__(self):
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols):
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(np.asarray(v))

    def get(self, key, dtype=float):
        parts = self.parts.get(key)
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)


def generate(
    n_customers: int = 5000,
    seed: int = 0,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    config: SimulationConfig | None = None,
    progress=False,
    **overrides: Any,
) -> CRMData:
    """Simulate the company and return a :class:`crmlab.CRMData`.

    Parameters
    ----------
    n_customers : number of customers who sign up between ``start`` and ``end``.
    seed : random seed; the same seed gives byte-identical tables.
    start, end : first and last day of the observation window (``end`` inclusive).
    config : a :class:`SimulationConfig`; defaults to the documented company.
    progress : bool or callable
        True shows a progress bar (total and time left) over every stage; a callable is
        called as ``progress(fraction_done, stage_name)`` instead (``crmlab generate`` does).
    **overrides : any :class:`SimulationConfig` field, e.g. ``complaint_prob=0``.

    >>> import crmlab as crm
    >>> data = crm.synth.generate(n_customers=200, seed=1)
    >>> len(data.customers)
    200
    """

    if isinstance(n_customers, (bool, np.bool_)) or not isinstance(n_customers, (int, np.integer)):
        raise TypeError(f"n_customers must be an integer, got {n_customers!r}.")
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}.")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    config = config or SimulationConfig()
    if overrides:
        known = {f.name for f in dataclasses.fields(SimulationConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"Unknown simulation parameter(s) {unknown}; valid ones: {sorted(known)}.")
        config = dataclasses.replace(config, **overrides)
    try:
        start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start and end must be dates like '2023-01-01', got {start!r}, {end!r}.") from exc
    if end_ts <= start_ts:
        raise ValueError(f"end ({end_ts.date()}) must be after start ({start_ts.date()}).")
    obs_end = end_ts.normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    horizon = (end_ts.normalize() + pd.Timedelta(days=1) - start_ts.normalize()) / pd.Timedelta(weeks=1)
    campaign_t = (pd.Timestamp(config.campaign_date) - start_ts.normalize()) / pd.Timedelta(weeks=1)
    rng = np.random.default_rng(seed)
    bar = None
    if progress is True:
        from crmlab._progress import ProgressBar

        progress = bar = ProgressBar("generating")
    elif progress is not False and progress is not None and not callable(progress):
        raise TypeError(f"progress must be True, False or a callable(fraction, stage), got {progress!r}.")
    sim = _Simulation(config, int(n_customers), rng, horizon, campaign_t, progress or None)
    sim.journey_rng = np.random.default_rng([int(seed), 1])
    try:
        tables = sim.run(start_ts.normalize())
    finally:
        if bar is not None:
            bar.close()
    # the B2B side draws from its own stream: changing it never changes the consumer tables
    tables.update(sim._stage("business side", generate_b2b, config.b2b, np.random.default_rng([int(seed), 2]),
                             start_ts, end_ts))
    for name, df in tables.items():
        assert list(df.columns) == list(TABLES[name]), (name, list(df.columns))
    return CRMData(**tables, observation_end=obs_end, config=config, start=start_ts.normalize())


# share of the run time of each stage (measured at 100,000 customers), for the progress report
_STAGE_SHARE = {"drawing customers": 0.03, "simulating purchases": 0.11, "transactions": 0.25, "customers": 0.15,
                "interactions": 0.02, "surveys": 0.02, "campaigns": 0.01, "touchpoints": 0.38, "truth": 0.01,
                "business side": 0.02}


class _Simulation:
    journey_rng: np.random.Generator  # set by generate(): its own stream, so journeys do not shift the rest

    def __init__(self, cfg: SimulationConfig, n: int, rng: np.random.Generator, horizon: float,
                 campaign_t: float, progress=None):
        self.cfg, self.n, self.rng, self.horizon, self.campaign_t = cfg, n, rng, horizon, campaign_t
        self.progress = progress
        self._done = 0.0

    def _report(self, stage: str, fraction: float = 1.0, final: bool = True):
        """Tell ``progress`` the overall fraction done, ``fraction`` of the way through ``stage``."""
        if self.progress is not None:
            self.progress(min(self._done + _STAGE_SHARE[stage] * fraction, 1.0), stage)
            if final:
                self._done += _STAGE_SHARE[stage]

    def _stage(self, stage: str, build, *args):
        self._report(stage, 0.0, final=False)
        out = build(*args)
        self._report(stage)
        return out

    # -- customers -------------------------------------------------------------------------
    def _draw_customers(self):
        cfg, n, rng = self.cfg, self.n, self.rng
        segs = cfg.segments
        self.segment = rng.choice(len(segs), size=n, p=[s.share for s in segs])
        par = lambda attr: np.array([getattr(s, attr) for s in segs])[self.segment]  # noqa: E731
        self.lam = rng.gamma(par("r"), 1.0 / par("alpha"))
        self.p = rng.beta(par("a"), par("b"))
        self.nu = rng.gamma(par("q_spend"), 1.0 / par("gamma_spend"))
        self.p_spend = par("p_spend")
        self.sat = par("satisfaction_mean") + rng.normal(0.0, 1.0, n)
        self.discount_prop = par("discount_propensity")
        self.campaign_resp = par("campaign_response")
        self.exp_shift = par("expectation_shift")
        # signup uniformly over the window (up to an hour before its end)
        self.signup = np.sort(rng.uniform(0.0, self.horizon - 60 * _MINUTE, n))
        self.buyer = rng.random(n) >= cfg.prospect_share
        median_weeks = cfg.first_purchase_delay_median_days / 7
        self.first_delay = rng.lognormal(np.log(median_weeks), cfg.first_purchase_delay_sigma, n)
        # buyers whose first purchase falls inside the window (the others have not bought yet)
        self.bought = self.buyer & (self.signup + self.first_delay <= self.horizon)
        chans = list(cfg.channel_mix)
        self.channels = chans
        self.pref_channel = rng.choice(len(chans), size=n, p=list(cfg.channel_mix.values()))
        online = [i for i, c in enumerate(chans) if c != "store"]
        online_p = np.array([cfg.channel_mix[chans[i]] for i in online])
        self.pref_online = np.array(online)[rng.choice(len(online), size=n, p=online_p / online_p.sum())]
        self.pref_online = np.where(np.isin(self.pref_channel, online), self.pref_channel, self.pref_online)
        # category preferences per customer: favourite category from the segment's list
        cat_index = {c: i for i, c in enumerate(CATEGORIES)}
        fav = np.empty(n, dtype=np.int64)
        for k, s in enumerate(segs):
            idx = np.flatnonzero(self.segment == k)
            choices = np.array([cat_index[c] for c in s.preferred_categories])
            fav[idx] = choices[rng.integers(0, len(choices), idx.size)]
        self.fav_category = fav
        lam_ref = float(np.mean(self.lam)) if n else 1.0
        self.join_prob = np.clip(cfg.membership_join_prob * (self.lam / lam_ref) ** cfg.membership_selection, 0, 0.9)
        self.treated = rng.random(n) < cfg.campaign_treated_share
        self.eligible = self.signup < self.campaign_t

    # -- purchase process -------------------------------------------------------------------
    def _simulate_purchases(self):
        cfg, rng, n = self.cfg, self.rng, self.n
        ev = _Events()
        comp = _Events()
        lam = self.lam.copy()
        sat = self.sat.copy()
        member_since = np.full(n, np.nan)
        alive = np.zeros(n, dtype=bool)
        last_activity = self.signup.copy()
        dropout_time = np.full(n, np.nan)
        n_complaints = np.zeros(n, dtype=np.int64)
        sat_at_campaign = np.full(n, np.nan)
        lam_at_campaign = np.full(n, np.nan)
        alive_at_campaign = np.zeros(n, dtype=bool)
        effect = np.clip(cfg.campaign_effect * (self.campaign_resp - cfg.campaign_satisfaction_slope * sat), 0.0, 0.95)

        idx = np.flatnonzero(self.buyer)
        t = self.signup[idx] + self.first_delay[idx]
        keep = t <= self.horizon
        idx, t = idx[keep], t[keep]
        alive[idx] = True
        # the offer raises the purchase rate of treated customers from the campaign date on
        boost = 1.0 + cfg.campaign_rate_effect
        targeted = self.treated & self.eligible & (0 < self.campaign_t <= self.horizon)
        boosted = np.zeros(n, dtype=bool)
        late = idx[(t > self.campaign_t) & targeted[idx]]  # first purchase after the campaign
        lam[late] *= boost
        boosted[late] = True
        step = 0
        n_buyers = max(idx.size, 1)
        while idx.size:
            m = idx.size
            # record state at the campaign date for customers whose next purchase crosses it
            crossing = (t > self.campaign_t) & np.isnan(sat_at_campaign[idx])
            if crossing.any():
                ci = idx[crossing]
                sat_at_campaign[ci], alive_at_campaign[ci] = sat[ci], True
                lam_at_campaign[ci] = lam[ci] / np.where(boosted[ci], boost, 1.0)
            # the purchase itself
            amount = rng.gamma(self.p_spend[idx], 1.0 / self.nu[idx])
            amount = np.maximum(np.round(amount, 2), 0.01)
            use_pref = rng.random(m) < cfg.preferred_channel_share
            chan = np.where(use_pref, self.pref_channel[idx], rng.choice(len(self.channels), size=m, p=list(cfg.channel_mix.values())))
            disc = rng.random(m) < self.discount_prop[idx]
            discount = np.where(disc, np.round(amount * rng.uniform(0.1, 0.3, m) / 0.8, 2), 0.0)
            ev.add(cust=idx, t=t, amount=amount, channel=chan, discount=discount, step=np.full(m, step))
            activity = t.copy()
            # complaint about this purchase
            delay = rng.uniform(1, 48, m) / (7 * 24)
            has_c = (rng.random(m) < cfg.complaint_prob) & (t + delay <= self.horizon)
            if has_c.any():
                ci = idx[has_c]
                ct = t[has_c] + delay[has_c]
                resolved = rng.random(ci.size) < cfg.resolution_prob
                sat[ci] += cfg.complaint_effect + np.where(resolved, cfg.recovery_effect, 0.0)
                n_complaints[ci] += 1
                comp.add(cust=ci, t=ct, resolved=resolved, purchase_step=np.full(ci.size, step),
                         purchase_pos=np.flatnonzero(has_c), purchase_channel=chan[has_c])
                activity[has_c] = ct
            # what a survey about this purchase would see (the respondents' purchase is drawn later)
            ev.add(activity=activity.copy(), sat=sat[idx].copy())
            # loyalty programme
            joins = np.isnan(member_since[idx]) & (rng.random(m) < self.join_prob[idx])
            if joins.any():
                ji = idx[joins]
                member_since[ji] = t[joins]
                lam[ji] *= 1.0 + cfg.membership_effect
            # dropout after the purchase
            p_eff = self.p[idx] * np.exp(-cfg.satisfaction_dropout_effect * sat[idx])
            after_campaign = (t >= self.campaign_t) & self.treated[idx] & self.eligible[idx]
            p_eff = np.where(after_campaign, p_eff * (1.0 - effect[idx]), p_eff)
            p_eff = np.clip(p_eff, 0.0, 0.99)
            # as in BG/NBD, dropout can follow repeat purchases only (not the first one)
            drop = (rng.random(m) < p_eff) & (step > 0)
            last_activity[idx] = np.maximum(last_activity[idx], activity)
            if drop.any():
                di = idx[drop]
                alive[di] = False
                dropout_time[di] = last_activity[di]
            idx, t = idx[~drop], t[~drop]
            before = t <= self.campaign_t
            t = t + rng.exponential(1.0 / lam[idx])
            # memorylessness: the wait left after the campaign date shrinks by the rate boost
            crosses = before & (t > self.campaign_t) & targeted[idx]
            if crosses.any():
                ci = idx[crosses]
                t[crosses] = self.campaign_t + (t[crosses] - self.campaign_t) / boost
                lam[ci] *= boost
                boosted[ci] = True
            ended = t > self.horizon
            if ended.any():
                ei = idx[ended]
                cross = (self.campaign_t <= self.horizon) & np.isnan(sat_at_campaign[ei])
                sat_at_campaign[ei[cross]] = sat[ei[cross]]
                lam_at_campaign[ei[cross]] = lam[ei[cross]] / np.where(boosted[ei[cross]], boost, 1.0)
                alive_at_campaign[ei[cross]] = True
            idx, t = idx[~ended], t[~ended]
            step += 1
            self._report("simulating purchases", 1 - idx.size / n_buyers, final=False)
        self.ev, self.comp = ev, comp
        self._draw_surveys(last_activity, dropout_time)
        self.final_lam, self.final_sat, self.member_since = lam, sat, member_since
        self.alive_end, self.dropout_time, self.last_activity = alive, dropout_time, last_activity
        self.n_complaints = n_complaints
        # customers who dropped before the campaign were never "alive at campaign"
        self.alive_at_campaign = alive_at_campaign & self.eligible
        self.sat_at_campaign, self.lam_at_campaign, self.effect = sat_at_campaign, lam_at_campaign, effect

    def _draw_surveys(self, last_activity: np.ndarray, dropout_time: np.ndarray):
        """Each respondent answers once, after one of their purchases drawn uniformly at random."""
        cfg, rng = self.cfg, self.rng
        cust = self.ev.get("cust", np.int64).astype(np.int64)
        survey_t = self.ev.get("activity") + rng.uniform(1, 24, cust.size) / (7 * 24)
        respondent = self.bought & (rng.random(self.n) < cfg.survey_response_share)
        ok = np.flatnonzero(respondent[cust] & (survey_t <= self.horizon))
        u = rng.random(ok.size)
        order = ok[np.lexsort((u, cust[ok]))]
        last = np.r_[cust[order][1:] != cust[order][:-1], True] if order.size else np.array([], dtype=bool)
        chosen = np.sort(order[last])  # one purchase per respondent (largest u)
        si, st = cust[chosen], survey_t[chosen]
        self.surv_event, self.surv_cust, self.surv_t = chosen, si, st
        self.surv_sat = self.ev.get("sat")[chosen]
        # the survey is the customer's last activity when it follows their last purchase
        last_activity[si] = np.maximum(last_activity[si], st)
        dropped = ~np.isnan(dropout_time[si])
        dropout_time[si[dropped]] = np.maximum(dropout_time[si[dropped]], st[dropped])

    # -- tables -----------------------------------------------------------------------------
    def run(self, start: pd.Timestamp) -> dict[str, pd.DataFrame]:
        self._stage("drawing customers", self._draw_customers)
        self._stage("simulating purchases", self._simulate_purchases)
        tx, lines, products = self._stage("transactions", self._transactions, start)
        return {
            "customers": self._stage("customers", self._customers, start, tx),
            "transactions": tx,
            "order_lines": lines,
            "products": products,
            "interactions": self._stage("interactions", self._interactions, start, tx),
            "surveys": self._stage("surveys", self._surveys, start, tx),
            "campaigns": self._stage("campaigns", self._campaigns, start),
            "touchpoints": self._stage("touchpoints", self._touchpoints, start, tx),
            "truth": self._stage("truth", self._truth, start),
        }

    def _transactions(self, start):
        cfg, rng = self.cfg, self.rng
        cust = self.ev.get("cust", np.int64).astype(np.int64)
        t = self.ev.get("t")
        order = np.lexsort((cust, t))
        self.tx_order = order
        n_tx = order.size
        tx_id = np.arange(1, n_tx + 1, dtype=np.int64)
        # map (step position) -> transaction id, for complaints and surveys
        self.tx_id_by_event = np.empty(n_tx, dtype=np.int64)
        self.tx_id_by_event[order] = tx_id
        amount = self.ev.get("amount")[order]
        discount = self.ev.get("discount")[order]
        chan = self.ev.get("channel", np.int64)[order]
        cust, t = cust[order], t[order]
        # order lines: first line from the favourite (or a random) category, extras often complementary
        n_items = 1 + rng.poisson(cfg.mean_extra_lines, n_tx)
        n_lines = int(n_items.sum())
        line_tx = np.repeat(np.arange(n_tx), n_items)
        first = np.zeros(n_lines, dtype=bool)
        first[np.concatenate([[0], np.cumsum(n_items)[:-1]])] = True
        n_cat, k = len(CATEGORIES), cfg.n_products_per_category
        fav = self.fav_category[cust[line_tx]]
        cat = np.where(rng.random(n_lines) < 0.6, fav, rng.integers(0, n_cat, n_lines))
        popularity = 1.0 / np.arange(1, k + 1) ** 0.8
        prod_in_cat = rng.choice(k, size=n_lines, p=popularity / popularity.sum())
        comp_index = np.array([CATEGORIES.index(COMPLEMENTS[c]) for c in CATEGORIES])
        first_pos = np.flatnonzero(first)[np.searchsorted(np.flatnonzero(first), np.arange(n_lines), side="right") - 1]
        use_comp = (~first) & (rng.random(n_lines) < cfg.complement_prob)
        cat = np.where(use_comp, comp_index[cat[first_pos]], cat)
        prod_in_cat = np.where(use_comp, prod_in_cat[first_pos], prod_in_cat)
        product = cat * k + prod_in_cat + 1
        # products
        cat_price = np.array([35.0, 18.0, 12.0, 8.0, 25.0, 30.0, 15.0, 60.0])
        list_price = np.round(np.repeat(cat_price, k) * np.exp(rng.normal(0, 0.35, n_cat * k)), 1) + 0.9
        products = pd.DataFrame({
            "product_id": np.arange(1, n_cat * k + 1, dtype=np.int64),
            "product_name": [f"{c.replace('_', ' ').title()} #{j + 1}" for c in CATEGORIES for j in range(k)],
            "category": _labels(np.repeat(np.arange(n_cat), k), CATEGORIES),
            "list_price": list_price,
        })
        # dedupe repeated products within an order (merge into quantity)
        key = line_tx.astype(np.int64) * (n_cat * k + 1) + product
        uniq_key, inverse = np.unique(key, return_inverse=True)
        base_qty = 1 + rng.poisson(0.3, n_lines)
        qty = np.bincount(inverse, weights=base_qty).astype(np.int64)
        line_tx = (uniq_key // (n_cat * k + 1)).astype(np.int64)
        product = (uniq_key % (n_cat * k + 1)).astype(np.int64)
        n_items = np.bincount(line_tx, minlength=n_tx).astype(np.int64)
        weight = list_price[product - 1] * qty
        share = weight / np.bincount(line_tx, weights=weight, minlength=n_tx)[line_tx]
        cents = np.round(amount * 100).astype(np.int64)
        line_cents = np.floor(share * cents[line_tx]).astype(np.int64)
        last = np.r_[line_tx[1:] != line_tx[:-1], True]
        residual = cents - np.bincount(line_tx, weights=line_cents, minlength=n_tx).astype(np.int64)
        line_cents[last] += residual[line_tx[last]]
        line_no = np.arange(line_tx.size) - np.repeat(np.r_[0, np.cumsum(n_items)[:-1]], n_items) + 1
        lines = pd.DataFrame({
            "transaction_id": tx_id[line_tx],
            "line_no": line_no.astype(np.int64),
            "product_id": product,
            "quantity": qty,
            "line_amount": line_cents / 100.0,
        })
        tx = pd.DataFrame({
            "transaction_id": tx_id,
            "customer_id": cust + 1,
            "date": _times(start, t),
            "amount": cents / 100.0,
            "discount": discount,
            "channel": _labels(chan, self.channels),
            "n_items": n_items,
        })
        self.tx_t, self.tx_cust, self.tx_chan = t, cust, chan
        return tx, lines, products

    def _customers(self, start, tx):
        cfg, rng, n = self.cfg, self.rng, self.n
        ids = np.arange(1, n + 1, dtype=np.int64)
        segs = cfg.segments
        high = np.array([s.income_high_share for s in segs])[self.segment]
        u = rng.random(n)
        income = np.where(u < high, 2, np.where(u < high + (1 - high) * 0.55, 1, 0))
        acq = rng.choice(len(cfg.acquisition_channel_mix), size=n, p=list(cfg.acquisition_channel_mix.values()))
        surname = rng.integers(0, _SURNAMES.size, n)
        given = rng.integers(0, _GIVEN.size, n)
        names = np.char.add(np.char.add(_GIVEN[given], " "), _SURNAMES[surname])
        emails = np.char.add(np.char.add(np.char.add(np.char.lower(_GIVEN[given]), "."),
                                         np.char.lower(_SURNAMES[surname])), ids.astype(str))
        emails = np.char.add(emails, "@example.com")
        prefix = rng.choice(np.array(["130", "135", "138", "139", "150", "158", "186", "188"]), n)
        phone = np.char.add(prefix, np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))
        member = ~np.isnan(self.member_since)
        spend = np.bincount(self.tx_cust, weights=tx["amount"].to_numpy(), minlength=n)
        tier = np.zeros(n, dtype=np.int64)
        if member.any():
            cuts = np.quantile(spend[member], [0.5, 0.85])
            tier[member] = 1 + (spend[member] > cuts[0]) + (spend[member] > cuts[1])
        member_since = np.where(member, self.member_since, 0.0)
        since = pd.Series(_times(start, member_since)).where(member)
        return pd.DataFrame({
            "customer_id": ids,
            "signup_date": _times(start, self.signup),
            "acquisition_channel": _labels(acq, list(cfg.acquisition_channel_mix)),
            "age": np.clip(np.round(rng.normal(38, 12, n)), 18, 80).astype(np.int64),
            "gender": _labels((rng.random(n) < 0.45).astype(int), ("F", "M")),
            "region": _labels(rng.choice(5, size=n, p=[0.3, 0.2, 0.25, 0.15, 0.1]), _REGIONS),
            "city_tier": rng.choice(np.arange(1, 5), size=n, p=[0.2, 0.35, 0.3, 0.15]).astype(np.int64),
            "income_band": _labels(income, ("low", "middle", "high")),
            "is_member": member,
            "member_since": since.astype("datetime64[us]"),
            "member_tier": _labels(tier, ("none", "silver", "gold", "platinum")),
            "marketing_consent": rng.random(n) < cfg.marketing_consent_share,
            "name": pd.Series(names, dtype="str"),
            "email": pd.Series(emails, dtype="str"),
            "phone": pd.Series(phone, dtype="str"),
        })

    def _interactions(self, start, tx):
        cfg, rng = self.cfg, self.rng
        # complaints
        c_cust = self.comp.get("cust", np.int64).astype(np.int64)
        c_t = self.comp.get("t")
        c_res = self.comp.get("resolved", bool).astype(bool)
        c_chan = self.comp.get("purchase_channel", np.int64).astype(np.int64)
        c_event = self._event_index(self.comp)
        nc = c_cust.size
        cat = rng.choice(len(_COMPLAINT_CATEGORIES), size=nc, p=_COMPLAINT_PROBS)
        in_store = np.array(self.channels)[c_chan] == "store"
        cat = np.where(in_store & (cat == 0), 1, cat)  # no delivery complaints for store purchases
        res_days = np.where(c_res, np.round(rng.lognormal(np.log(2.0), 0.8, nc), 1), np.nan)
        sat_after = np.where(
            c_res,
            np.clip(np.round(4.6 - 0.15 * np.nan_to_num(res_days) + rng.normal(0, 0.7, nc)), 1, 5),
            np.clip(np.round(1.8 + rng.normal(0, 0.7, nc)), 1, 5),
        )
        # inquiries over the active period
        end_active = np.where(self.alive_end, self.horizon, np.nan_to_num(self.dropout_time, nan=self.horizon))
        end_active = np.where(self.bought, end_active, self.signup + 2)
        end_active = np.minimum(end_active, self.horizon)
        dur = np.maximum(end_active - self.signup, 0)
        n_inq = rng.poisson(cfg.inquiry_rate * dur)
        i_cust = np.repeat(np.arange(self.n), n_inq)
        i_t = self.signup[i_cust] + rng.random(i_cust.size) * dur[i_cust]
        ni = i_cust.size
        cust = np.r_[c_cust, i_cust]
        t = np.r_[c_t, i_t]
        kind = np.r_[np.ones(nc, dtype=int), np.zeros(ni, dtype=int)]
        channel = rng.choice(4, size=nc + ni, p=[0.4, 0.35, 0.15, 0.1])
        category = np.r_[cat, len(_COMPLAINT_CATEGORIES) + rng.choice(len(_INQUIRY_CATEGORIES), size=ni)]
        categories = list(_COMPLAINT_CATEGORIES) + [f"{c}" for c in _INQUIRY_CATEGORIES]
        tx_ref = np.r_[self.tx_id_by_event[c_event], np.zeros(ni, dtype=np.int64)]
        resolved = np.r_[c_res, np.ones(ni, dtype=bool)]
        res_all = np.r_[res_days, np.round(rng.exponential(0.5, ni), 1)]
        sat_all = np.r_[sat_after, np.full(ni, np.nan)]
        order = np.lexsort((cust, t))
        cat_labels = _labels(category[order], categories)
        txref = pd.array(np.where(kind[order] == 1, tx_ref[order], 0), dtype="Int64")
        txref[kind[order] == 0] = pd.NA
        return pd.DataFrame({
            "interaction_id": np.arange(1, order.size + 1, dtype=np.int64),
            "customer_id": cust[order] + 1,
            "date": _times(start, t[order]),
            "type": _labels(kind[order], ("inquiry", "complaint")),
            "channel": _labels(channel[order], _SERVICE_CHANNELS),
            "category": cat_labels,
            "transaction_id": txref,
            "resolved": resolved[order],
            "resolution_days": res_all[order],
            "satisfaction_after": sat_all[order],
        })

    def _event_index(self, events: _Events) -> np.ndarray:
        """Position in the raw purchase-event arrays of the purchase each event refers to."""
        step = events.get("purchase_step", np.int64).astype(np.int64)
        pos = events.get("purchase_pos", np.int64).astype(np.int64)
        if step.size == 0:
            return np.array([], dtype=np.int64)
        steps = self.ev.get("step", np.int64).astype(np.int64)
        offsets = np.r_[0, np.cumsum(np.bincount(steps))]
        return offsets[step] + pos

    def _surveys(self, start, tx):
        cfg, rng = self.cfg, self.rng
        cust, t, x = self.surv_cust, self.surv_t, self.surv_sat
        m = cust.size
        w = np.array([cfg.driver_weights.get(d, 0.0) for d in SERVQUAL_DIMENSIONS])
        z = x[:, None] + rng.normal(0, 1.0, (m, len(SERVQUAL_DIMENSIONS)))
        s = z @ w / max(w.sum(), 1e-12) + rng.normal(0, 0.25, m)
        item = lambda latent, scale=0.9, mid=4.0, lo=1, hi=7: np.clip(np.round(mid + scale * latent), lo, hi).astype(np.int64)  # noqa: E731
        csat = np.clip(np.digitize(s, [-1.3, -0.5, 0.3, 1.1]) + 1, 1, 5).astype(np.int64)
        nps = item(s + rng.normal(0, 0.5, m), scale=1.8, mid=7.0, lo=0, hi=10)
        value = item(0.7 * s + 0.6 * rng.normal(0, 1, m) - 0.3 * (self.segment[cust] == 2))
        exp_items = self.exp_shift[cust][:, None] + rng.normal(0, 0.9, (m, len(SERVQUAL_DIMENSIONS)))
        attitude = 0.7 * s + 0.5 * rng.normal(0, 1, m)
        order = np.lexsort((cust, t))
        cols = {
            "survey_id": np.arange(1, m + 1, dtype=np.int64),
            "customer_id": cust[order] + 1,
            "date": _times(start, t[order]),
            "transaction_id": self.tx_id_by_event[self.surv_event][order],
            "csat": csat[order],
            "nps": nps[order],
            "perceived_value": value[order],
        }
        for j, d in enumerate(SERVQUAL_DIMENSIONS):
            cols[f"exp_{d}"] = item(exp_items[:, j] + 1.2, scale=1.0)[order]
        for j, d in enumerate(SERVQUAL_DIMENSIONS):
            cols[f"perf_{d}"] = item(z[:, j] + 0.3, scale=1.0)[order]
        cols["loy_repurchase_intent"] = item(attitude + rng.normal(0, 0.6, m) + 0.5)[order]
        cols["loy_prefer_over_competitors"] = item(attitude + rng.normal(0, 0.6, m))[order]
        cols["loy_price_tolerance"] = item(attitude + rng.normal(0, 0.6, m) - 0.5 - 0.5 * (self.segment[cust] == 2))[order]
        return pd.DataFrame(cols)

    def _campaigns(self, start):
        cfg = self.cfg
        idx = np.flatnonzero(self.eligible)
        if self.campaign_t > self.horizon or self.campaign_t <= 0:
            idx = idx[:0]
        treated = self.treated[idx]
        return pd.DataFrame({
            "customer_id": idx.astype(np.int64) + 1,
            "campaign_date": np.full(idx.size, np.datetime64(pd.Timestamp(cfg.campaign_date), "us")),
            "group": _labels(treated.astype(int), ("control", "treatment")),
            "treated": treated,
            "offer_cost": np.where(treated, cfg.offer_cost, 0.0),
        })

    def _touchpoints(self, start, tx):
        cfg, rng = self.cfg, self.rng
        chans = np.array(self.channels)
        is_online = chans[self.tx_chan] != "store"
        # sessions ending in a purchase: visit -> browse -> cart -> purchase, each step taking
        # Gamma(2) minutes with the channel's mean step_minutes
        step_scale = np.array([cfg.step_minutes.get(c, 1.0) for c in self.channels]) / 2 * _MINUTE
        p_idx = np.flatnonzero(is_online)
        k = p_idx.size
        t_buy = self.tx_t[p_idx]
        buy_cust, buy_chan = self.tx_cust[p_idx], self.tx_chan[p_idx]
        buy_tx = p_idx.astype(np.int64) + 1  # transactions are already sorted: position + 1 = id
        gaps = rng.gamma(2.0, 1.0, (k, 5)) * step_scale[buy_chan][:, None]
        # browsing sessions without purchase over the active period
        end_active = np.where(self.alive_end, self.horizon, np.nan_to_num(self.last_activity, nan=self.horizon))
        end_active = np.where(self.bought, np.minimum(end_active, self.horizon), np.minimum(self.signup + 1, self.horizon))
        dur = np.maximum(end_active - self.signup, 0)
        n_sess = rng.poisson(cfg.browse_rate * dur + np.where(self.bought, 0.0, 0.8))
        s_cust = np.repeat(np.arange(self.n), n_sess)
        ns = s_cust.size
        s_t = self.signup[s_cust] + rng.random(ns) * dur[s_cust]
        s_chan = self.pref_online[s_cust]
        u_browse, u_cart = rng.random(ns), rng.random(ns)
        s_gaps = rng.gamma(2.0, 1.0, (ns, 2)) * step_scale[s_chan][:, None]
        # abandoned carts: by channel, and more often soon after an unresolved complaint
        reach = np.array([cfg.cart_reach_prob.get(c, 0.0) for c in self.channels])[s_chan]
        reach = np.clip(reach * np.where(self._recent_unresolved(s_cust, s_t, 8.0), cfg.complaint_abandonment_factor, 1.0), 0, 0.95)
        browsed = u_browse < 0.7
        depth = 1 + browsed + (browsed & (u_cart < reach))  # 1 visit, 2 browse, 3 cart
        # purchase-session variants: reorders skip browsing, comparers browse again after the cart
        jr = self.journey_rng
        v = jr.random(k)
        reorder = v < np.array([cfg.reorder_share.get(c, 0.0) for c in self.channels])[buy_chan]
        compare = (~reorder) & (v > 1 - cfg.compare_share)
        # steps after the visit: reorders cart, purchase (2 gaps); browsers browse, cart,
        # purchase (3); comparers browse, cart, browse, cart, purchase (5)
        n_gaps = np.where(reorder, 2, np.where(compare, 5, 3))
        gaps[np.arange(5)[None, :] >= n_gaps[:, None]] = 0.0
        duration = gaps.sum(axis=1)
        # a session never starts before the sign-up (a quick first purchase has a short session)
        room = t_buy - self.signup[buy_cust]
        shrink = np.where(duration > room, 0.9 * room / np.maximum(duration, 1e-12), 1.0)
        gaps *= shrink[:, None]
        t_visit = t_buy - gaps.sum(axis=1)
        at = t_visit[:, None] + np.cumsum(gaps, axis=1)  # time after each gap
        # events: (session, step code, time); codes 0 visit, 1 browse, 2 cart, 3 purchase
        p_sess = np.arange(k)
        plain = ~reorder & ~compare
        ev = [
            (p_sess, 0, t_visit),
            (p_sess[reorder], 2, at[reorder, 0]),
            (p_sess[plain], 1, at[plain, 0]),
            (p_sess[plain], 2, at[plain, 1]),
            (p_sess[compare], 1, at[compare, 0]),
            (p_sess[compare], 2, at[compare, 1]),
            (p_sess[compare], 1, at[compare, 2]),
            (p_sess[compare], 2, at[compare, 3]),
            (p_sess, 3, t_buy),
        ]
        b_sess = k + np.arange(ns)
        cut = np.minimum(end_active[s_cust], self.horizon)  # nothing after the end of activity
        t1, t2 = s_t + s_gaps[:, 0], s_t + s_gaps[:, 0] + s_gaps[:, 1]
        ev += [
            (b_sess, 0, s_t),
            (b_sess[(depth >= 2) & (t1 <= cut)], 1, t1[(depth >= 2) & (t1 <= cut)]),
            (b_sess[(depth >= 3) & (t2 <= cut)], 2, t2[(depth >= 3) & (t2 <= cut)]),
        ]
        ev_sess = np.concatenate([e[0] for e in ev])
        ev_step = np.concatenate([np.full(e[0].size, e[1]) for e in ev])
        ev_t = np.concatenate([e[2] for e in ev])
        sess_cust = np.r_[buy_cust, s_cust]
        sess_chan = np.r_[buy_chan, s_chan]
        sess_start = np.r_[t_visit, s_t]
        n_sess_total = sess_cust.size
        ev_tx = np.where(ev_step == 3, buy_tx[np.minimum(ev_sess, max(k - 1, 0))] if k else 0, 0)
        # number sessions in time order, events by time within a session
        sess_order = np.lexsort((sess_cust, sess_start))
        sess_rank = np.empty(n_sess_total, dtype=np.int64)
        sess_rank[sess_order] = np.arange(1, n_sess_total + 1)
        order = np.lexsort((ev_step, ev_t, sess_rank[ev_sess]))
        txid = pd.array(ev_tx[order], dtype="Int64")
        txid[ev_step[order] != 3] = pd.NA
        return pd.DataFrame({
            "session_id": sess_rank[ev_sess][order],
            "customer_id": sess_cust[ev_sess][order].astype(np.int64) + 1,
            "timestamp": _times(start, ev_t[order]),
            "channel": _labels(sess_chan[ev_sess][order], self.channels),
            "event": _labels(ev_step[order], ("visit", "browse", "cart", "purchase")),
            "transaction_id": txid,
        })

    def _recent_unresolved(self, cust: np.ndarray, t: np.ndarray, weeks: float) -> np.ndarray:
        """Whether each (customer, time) follows an unresolved complaint within ``weeks``."""
        c_cust = self.comp.get("cust", np.int64).astype(np.int64)
        c_t = self.comp.get("t")
        unresolved = ~self.comp.get("resolved", bool).astype(bool)
        c_cust, c_t = c_cust[unresolved], c_t[unresolved]
        if c_cust.size == 0:
            return np.zeros(cust.size, dtype=bool)
        span = self.horizon + 1.0
        keys = np.sort(c_cust * span + c_t)
        pos = np.searchsorted(keys, cust * span + t, side="right") - 1
        prev = keys[np.maximum(pos, 0)]
        same = (pos >= 0) & (np.floor(prev / span) == cust)
        return same & (cust * span + t - prev <= weeks)

    def _truth(self, start):
        cfg, n = self.cfg, self.n
        seg_names = [s.name for s in cfg.segments]
        p_end = np.clip(self.p * np.exp(-cfg.satisfaction_dropout_effect * self.final_sat), 1e-9, 0.99)
        treated_now = self.treated & self.eligible & (self.campaign_t <= self.horizon)
        p_end = np.where(treated_now, p_end * (1 - self.effect), p_end)
        lam_p = self.final_lam * p_end * 52.0
        exp_purch = np.where(self.alive_end, -np.expm1(-lam_p) / p_end, 0.0)
        mean_spend = self.p_spend / self.nu
        # campaign: closed-form reduction of P(drop out by the end) for customers alive at the campaign
        tau = max(self.horizon - self.campaign_t, 0.0)
        p_c = np.clip(self.p * np.exp(-cfg.satisfaction_dropout_effect * np.nan_to_num(self.sat_at_campaign)), 0, 0.99)
        rate = np.nan_to_num(self.lam_at_campaign) * p_c * tau
        # treated, purchases come (1 + campaign_rate_effect) times as often and each carries
        # (1 - effect) of the dropout risk
        treated_rate = rate * (1 + cfg.campaign_rate_effect) * (1 - self.effect)
        uplift = np.where(self.alive_at_campaign, np.exp(-treated_rate) - np.exp(-rate), 0.0)
        drop = np.where(np.isnan(self.dropout_time), 0.0, self.dropout_time)
        dropout_date = pd.Series(_times(start, drop)).where(~np.isnan(self.dropout_time))
        return pd.DataFrame({
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "segment": _labels(self.segment, seg_names),
            "purchase_rate": self.lam,
            "dropout_prob": self.p,
            "mean_spend": mean_spend,
            "satisfaction": self.final_sat,
            "n_complaints": self.n_complaints,
            "is_buyer": self.bought,
            "alive_at_campaign": self.alive_at_campaign,
            "dropout_date": dropout_date.astype("datetime64[us]"),
            "alive_at_end": self.alive_end,
            "expected_purchases_52w": exp_purch,
            "expected_value_52w": exp_purch * mean_spend,
            "true_uplift": uplift,
        })
