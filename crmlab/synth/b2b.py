"""The company's business side (B2B, 企业客户): accounts, their buying centres, sales
opportunities moving through a pipeline, and the sales team's visits and calls.

The company also supplies organisations (hospitals, hotels, schools, offices, restaurant
chains, manufacturers). One latent story ties the tables together, with its truth kept in
``account_truth``:

- every account has a true annual **potential** (its wallet for our categories, driven by
  industry and size) and a true **strategic fit** (0–1); the company currently holds a
  random **share of wallet**, so today's revenue and tomorrow's value differ: a big account
  is not necessarily a key one;
- the sales team's estimates of potential and fit (``accounts.potential_estimate``,
  ``accounts.fit_score``) are noisy readings of the truth;
- each account has a buying centre of contacts in roles (decision maker, influencer, user,
  buyer, gatekeeper); reps call on the people who are easy to reach, and visit accounts in
  proportion to today's revenue, so high-potential accounts are under-covered and some
  decision makers are never met;
- opportunities arise in proportion to potential and move lead → qualified → proposal →
  negotiation → won/lost; the chance of advancing rises with fit, with having met a decision
  maker before the proposal and with recent visits, and falls with competition — each effect
  is a documented parameter of :class:`B2BConfig`;
- in negotiation the account's reservation price (its walk-away price) and the company's
  cost floor are known to the truth; the agreed discount is a concession the data records.

Nothing here draws from the random stream of the consumer side: the consumer tables of a
dataset do not change when B2B parameters change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["B2BConfig", "generate_b2b", "STAGES", "ROLES"]

#: Pipeline stages in order; an opportunity ends ``won`` or ``lost``.
STAGES = ("lead", "qualified", "proposal", "negotiation", "won")
#: Buying-centre roles (采购中心角色).
ROLES = ("decision_maker", "influencer", "user", "buyer", "gatekeeper")

_DAY = 1.0


@dataclass(frozen=True)
class B2BConfig:
    """Ground-truth parameters of the B2B side (money in CNY per year, times in days)."""

    #: number of business accounts (0 for none)
    n_accounts: int = 240
    #: industry mix and each industry's median annual potential (CNY)
    industry_mix: dict = field(default_factory=lambda: {
        "hospital": 0.18, "hotel": 0.20, "school": 0.15, "office": 0.22, "restaurant_chain": 0.15,
        "manufacturer": 0.10})
    industry_potential: dict = field(default_factory=lambda: {
        "hospital": 900_000.0, "hotel": 450_000.0, "school": 300_000.0, "office": 200_000.0,
        "restaurant_chain": 650_000.0, "manufacturer": 500_000.0})
    #: size bands, their shares and potential multipliers
    size_mix: dict = field(default_factory=lambda: {"small": 0.5, "medium": 0.35, "large": 0.15})
    size_multiplier: dict = field(default_factory=lambda: {"small": 0.4, "medium": 1.0, "large": 2.8})
    #: lognormal spread of potential around the industry x size median
    potential_sigma: float = 0.6
    #: share of wallet the company holds today ~ Beta(a, b)
    share_of_wallet_a: float = 1.2
    share_of_wallet_b: float = 3.0
    #: true strategic fit ~ Beta(a, b); the rep's 1-5 score reads it with noise of this sd
    fit_a: float = 2.0
    fit_b: float = 2.0
    fit_score_noise: float = 0.15
    #: the rep's potential estimate = truth x lognormal(0, sd)
    potential_estimate_sigma: float = 0.35
    #: contacts per account by size band (mean of 2 + Poisson)
    contacts_extra: dict = field(default_factory=lambda: {"small": 1.0, "medium": 3.0, "large": 5.0})
    #: role shares of contacts beyond the first decision maker
    role_mix: dict = field(default_factory=lambda: {
        "decision_maker": 0.15, "influencer": 0.30, "user": 0.30, "buyer": 0.15, "gatekeeper": 0.10})
    #: how easily reps reach each role (relative weight of being the visited contact)
    role_reach: dict = field(default_factory=lambda: {
        "decision_maker": 0.25, "influencer": 1.0, "user": 1.5, "buyer": 2.0, "gatekeeper": 1.5})
    #: visits and calls per year for an account with revenue equal to the median; scales with
    #: (revenue / median revenue) ** visit_elasticity
    activities_per_year: float = 10.0
    visit_elasticity: float = 0.6
    #: share of activities that are on-site visits (the rest are calls and follow-up calls)
    visit_share: float = 0.45
    #: opportunities per year per CNY 1M of potential
    opportunity_rate: float = 2.5
    #: deal size as a share of the account's annual potential ~ Gamma(shape, scale=mean/shape)
    deal_share_mean: float = 0.25
    deal_share_shape: float = 3.0
    #: logit of advancing one stage: base per stage transition + effects
    stage_base_logit: tuple = (0.6, 0.2, 0.1, 0.3)
    effect_fit: float = 1.6
    effect_met_decision_maker: float = 1.0
    effect_recent_visits: float = 0.35
    effect_competition: float = -0.9
    #: mean days spent in each stage before moving on (exponential)
    stage_days: tuple = (12.0, 20.0, 18.0, 15.0)
    #: list-price margin: the company's cost floor is this share of list price; it is also the cost
    #: of goods of the consumer orders (of amount + discount), the margin of crm.clv.margin_rate
    cost_share: float = 0.62
    #: the account's reservation price as a share of list ~ Normal(mean, sd)
    reservation_mean: float = 0.95
    reservation_sd: float = 0.08

    def __post_init__(self):
        if isinstance(self.n_accounts, bool) or not isinstance(self.n_accounts, (int, np.integer)) or self.n_accounts < 0:
            raise ValueError(f"n_accounts must be a non-negative integer, got {self.n_accounts!r}.")
        for name in ("industry_mix", "size_mix", "role_mix"):
            mix = getattr(self, name)
            if abs(sum(mix.values()) - 1) > 1e-6:
                raise ValueError(f"{name} must sum to 1, got {mix}.")
        if set(self.industry_mix) != set(self.industry_potential):
            raise ValueError("industry_mix and industry_potential must name the same industries.")
        if len(self.stage_base_logit) != 4 or len(self.stage_days) != 4:
            raise ValueError("stage_base_logit and stage_days need one value per stage transition (4).")

    @classmethod
    def from_dict(cls, d: dict) -> B2BConfig:
        d = dict(d)
        for key in ("stage_base_logit", "stage_days"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


_ACCOUNT_WORDS = np.array(["Jinhua", "Ruikang", "Hengtai", "Xinyuan", "Huamei", "Taikang", "Yongsheng", "Boda",
                           "Lianhe", "Zhongxin", "Minsheng", "Anhe", "Kaiyuan", "Tianyi", "Shengshi", "Hongda"])
_INDUSTRY_WORD = {"hospital": "Hospital", "hotel": "Hotel", "school": "School", "office": "Group",
                  "restaurant_chain": "Catering", "manufacturer": "Manufacturing"}
_REGIONS = ("east", "north", "south", "west", "central")
_GIVEN = np.array(["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Tao", "Ling", "Qiang", "Xia"])
_SURNAMES = np.array(["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun"])


def _choice(rng, mix: dict, n: int) -> np.ndarray:
    keys = list(mix)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=list(mix.values()))]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def generate_b2b(cfg: B2BConfig, rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp
                 ) -> dict[str, pd.DataFrame]:
    """Draw the B2B tables for the window ``start`` .. ``end`` (inclusive days).

    Returns ``accounts``, ``contacts``, ``opportunities``, ``opportunity_stages``,
    ``activities`` and ``account_truth`` with the columns of :data:`crmlab.data.schema.TABLES`.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    days = float((end - start).days + 1)
    n = int(cfg.n_accounts)
    ids = np.arange(1, n + 1, dtype="int64")
    industry = _choice(rng, cfg.industry_mix, n)
    size = _choice(rng, cfg.size_mix, n)
    median = np.array([cfg.industry_potential[i] for i in industry]) * np.array([cfg.size_multiplier[s] for s in size])
    potential = median * np.exp(rng.normal(0.0, cfg.potential_sigma, n))
    share = rng.beta(cfg.share_of_wallet_a, cfg.share_of_wallet_b, n)
    fit = rng.beta(cfg.fit_a, cfg.fit_b, n)
    competition = rng.random(n)
    revenue = potential * share
    fit_score = np.clip(np.rint(1 + 4 * (fit + rng.normal(0.0, cfg.fit_score_noise, n))), 1, 5).astype("int64")
    estimate = potential * np.exp(rng.normal(0.0, cfg.potential_estimate_sigma, n))
    employees = np.rint(np.array([{"small": 60, "medium": 400, "large": 2500}[s] for s in size])
                        * np.exp(rng.normal(0.0, 0.5, n))).astype("int64")
    names = [f"{_ACCOUNT_WORDS[rng.integers(_ACCOUNT_WORDS.size)]} {_INDUSTRY_WORD[i]} {k}"
             for k, i in zip(ids, industry)]
    accounts = pd.DataFrame({
        "account_id": ids,
        "account_name": pd.Series(names, dtype="str"),
        "industry": pd.Series(industry, dtype="str"),
        "size_band": pd.Series(size, dtype="str"),
        "employees": employees,
        "region": pd.Series(np.array(_REGIONS, dtype=object)[rng.integers(0, len(_REGIONS), n)], dtype="str"),
        "revenue_last_year": np.round(revenue, 2),
        "potential_estimate": np.round(estimate, -3),
        "fit_score": fit_score,
    })

    # buying centres: one decision maker always, more contacts with size
    n_extra = rng.poisson(np.array([cfg.contacts_extra[s] for s in size]))
    account_of = np.concatenate([np.repeat(ids, 1), np.repeat(ids, 1), np.repeat(ids, n_extra)])
    roles = np.concatenate([np.full(n, "decision_maker", dtype=object), np.full(n, "buyer", dtype=object),
                            _choice(rng, cfg.role_mix, int(n_extra.sum()))])
    order = np.lexsort((np.arange(account_of.size), account_of))
    account_of, roles = account_of[order], roles[order]
    m = account_of.size
    contact_ids = np.arange(1, m + 1, dtype="int64")
    influence = np.where(roles == "decision_maker", 5, np.where(roles == "influencer", 4, np.where(
        roles == "buyer", 3, np.where(roles == "user", 2, 1)))).astype("int64")
    contact_names = np.char.add(np.char.add(_GIVEN[rng.integers(0, _GIVEN.size, m)].astype(str), " "),
                                _SURNAMES[rng.integers(0, _SURNAMES.size, m)].astype(str))

    # activities: reps follow today's revenue, and reach the easy-to-reach roles
    rev_median = float(np.median(revenue)) if n else 1.0
    rate = cfg.activities_per_year * (revenue / rev_median) ** cfg.visit_elasticity * days / 365.25
    n_acts = rng.poisson(rate) if n else np.zeros(0, dtype=int)
    act_account = np.repeat(ids, n_acts)
    act_time = rng.uniform(0.0, days, act_account.size)
    reach = np.array([cfg.role_reach[r] for r in roles])
    first_contact = np.searchsorted(account_of, ids)
    n_contacts = np.bincount(account_of, minlength=n + 1)[1:]
    act_contact = np.empty(act_account.size, dtype="int64")
    for k, acc in enumerate(ids):
        sel = np.flatnonzero(act_account == acc)
        if sel.size == 0:
            continue
        lo, hi = first_contact[k], first_contact[k] + n_contacts[k]
        w = reach[lo:hi] / reach[lo:hi].sum()
        act_contact[sel] = contact_ids[lo:hi][rng.choice(hi - lo, size=sel.size, p=w)]
    act_type = np.where(rng.random(act_account.size) < cfg.visit_share, "visit",
                        np.where(rng.random(act_account.size) < 0.5, "call", "follow_up_call")).astype(object)
    act_order = np.lexsort((act_time, act_account))
    act_account, act_time, act_contact, act_type = (a[act_order] for a in (act_account, act_time, act_contact, act_type))
    activities = pd.DataFrame({
        "activity_id": np.arange(1, act_account.size + 1, dtype="int64"),
        "account_id": act_account.astype("int64"),
        "contact_id": act_contact,
        "date": (start + pd.to_timedelta(act_time, unit="D")).astype("datetime64[us]").floor("min"),
        "activity_type": pd.Series(act_type, dtype="str"),
    })

    # opportunities and their path through the pipeline
    n_opp = rng.poisson(cfg.opportunity_rate * potential / 1e6 * days / 365.25) if n else np.zeros(0, dtype=int)
    opp_account = np.repeat(ids, n_opp)
    k_opp = opp_account.size
    created = rng.uniform(0.0, days, k_opp)
    idx = opp_account - 1
    amount = np.round(potential[idx] * rng.gamma(cfg.deal_share_shape, cfg.deal_share_mean / cfg.deal_share_shape, k_opp), -2)
    amount = np.maximum(amount, 1000.0)
    dm_ids = set(contact_ids[roles == "decision_maker"].tolist())
    is_dm_act = np.isin(act_contact, list(dm_ids))
    stage_rows = []
    final_stage = np.empty(k_opp, dtype=object)
    close_time = np.full(k_opp, np.nan)
    for j in range(k_opp):
        acc = opp_account[j]
        acts = act_account == acc
        t = created[j]
        stage_rows.append((j, "lead", t))
        reached, alive = 0, True
        for s in range(4):
            duration = rng.exponential(cfg.stage_days[s])
            recent = np.sum(acts & (act_time <= t) & (act_time > t - 90.0))
            met_dm = bool(np.any(acts & is_dm_act & (act_time <= t)))
            logit = (cfg.stage_base_logit[s] + cfg.effect_fit * (fit[acc - 1] - 0.5)
                     + cfg.effect_met_decision_maker * met_dm + cfg.effect_recent_visits * np.log1p(recent)
                     + cfg.effect_competition * (competition[acc - 1] - 0.5))
            p = _sigmoid(logit)
            t = t + duration
            if t > days:          # still open at the end of the window
                alive = False
                break
            if rng.random() < p:
                reached = s + 1
                stage_rows.append((j, STAGES[s + 1], t))
            else:
                final_stage[j] = "lost"
                stage_rows.append((j, "lost", t))
                close_time[j] = t
                alive = False
                break
        if alive and reached == 4:
            final_stage[j] = "won"
            close_time[j] = t
        elif final_stage[j] is None:
            final_stage[j] = STAGES[reached]   # open at the end, in this stage
    # negotiation economics: the account's reservation price and the agreed discount
    reservation = np.clip(rng.normal(cfg.reservation_mean, cfg.reservation_sd, k_opp), cfg.cost_share + 0.02, 1.2)
    discount = np.where(final_stage == "won", np.clip(rng.uniform(0.0, 1.0, k_opp) * (1 - np.minimum(reservation, 1.0))
                                                      + rng.uniform(0.0, 0.05, k_opp), 0.0, 0.3), np.nan)
    discount = np.round(discount, 4)
    opp_ids = np.arange(1, k_opp + 1, dtype="int64")
    is_closed = ~np.isnan(close_time)
    close_dates = pd.Series(start + pd.to_timedelta(np.where(is_closed, close_time, 0.0), unit="D")).astype(
        "datetime64[us]").dt.floor("D").where(is_closed)
    opportunities = pd.DataFrame({
        "opportunity_id": opp_ids,
        "account_id": opp_account.astype("int64"),
        "created_date": pd.Series(start + pd.to_timedelta(created, unit="D")).astype("datetime64[us]").dt.floor("D"),
        "list_value": amount,
        "stage": pd.Series(final_stage, dtype="str"),
        "close_date": close_dates.astype("datetime64[us]"),
        "discount": discount,
        "won_value": np.round(np.where(final_stage == "won", amount * (1 - np.nan_to_num(discount)), 0.0), 2),
    })
    st = pd.DataFrame(stage_rows, columns=["j", "stage", "t"])
    opportunity_stages = pd.DataFrame({
        "opportunity_id": opp_ids[st["j"].to_numpy()] if k_opp else np.zeros(0, dtype="int64"),
        "stage": pd.Series(st["stage"].to_numpy(), dtype="str"),
        "entered_date": pd.Series(start + pd.to_timedelta(st["t"].to_numpy(dtype=float), unit="D")).astype(
            "datetime64[us]").dt.floor("D"),
    })

    contacts = pd.DataFrame({
        "contact_id": contact_ids,
        "account_id": account_of.astype("int64"),
        "contact_name": pd.Series(contact_names, dtype="str"),
        "role": pd.Series(roles, dtype="str"),
        "influence": influence,
    })
    attractiveness = potential * fit
    key_cut = np.quantile(attractiveness, 0.8) if n else 0.0
    account_truth = pd.DataFrame({
        "account_id": ids,
        "potential": np.round(potential, 2),
        "share_of_wallet": share,
        "fit": fit,
        "competition": competition,
        "key_account": attractiveness >= key_cut,
    })
    opportunities_truth = pd.DataFrame({
        "opportunity_id": opp_ids,
        "reservation_share": reservation,
        "cost_share": np.full(k_opp, cfg.cost_share),
    })
    return {"accounts": accounts, "contacts": contacts, "opportunities": opportunities,
            "opportunity_stages": opportunity_stages, "activities": activities,
            "account_truth": account_truth, "opportunity_truth": opportunities_truth}
