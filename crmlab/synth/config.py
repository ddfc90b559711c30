"""Ground-truth parameters of the simulated company.

Every number that shapes the generated data lives here, documented, so a model's
estimate can be compared with the truth. Change any of them through
``crm.synth.generate(..., **overrides)``.

>>> from crmlab.synth import SimulationConfig, Segment
>>> cfg = SimulationConfig()
>>> [s.name for s in cfg.segments]
['champions', 'loyal_regulars', 'bargain_hunters', 'occasional']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from crmlab.synth.b2b import B2BConfig

__all__ = ["Segment", "SimulationConfig", "CATEGORIES", "COMPLEMENTS"]

#: Product categories of the company's catalogue.
CATEGORIES = (
    "coffee_tea", "bakery", "snacks", "beverages",
    "household", "personal_care", "dairy", "baby",
)
#: Complementary categories: a basket containing one often contains the other.
COMPLEMENTS = {
    "coffee_tea": "bakery", "bakery": "coffee_tea", "snacks": "beverages", "beverages": "snacks",
    "household": "personal_care", "personal_care": "household", "dairy": "baby", "baby": "dairy",
}


@dataclass(frozen=True)
class Segment:
    """A latent customer segment and its behavioural parameters.

    Purchases follow BG/NBD while the customer is alive: purchase rate
    ``lambda ~ Gamma(shape=r, rate=alpha)`` per week, and after each purchase the customer
    drops out with probability ``p ~ Beta(a, b)``. Spend per purchase follows the
    Gamma-Gamma model: ``nu ~ Gamma(shape=q, rate=gamma)`` per customer and
    ``amount ~ Gamma(shape=p_spend, rate=nu)``, so the mean spend is ``p_spend / nu``.
    """

    name: str
    share: float
    r: float
    alpha: float
    a: float
    b: float
    p_spend: float
    q_spend: float
    gamma_spend: float
    satisfaction_mean: float = 0.0  # mean latent satisfaction (sd 1 across customers)
    discount_propensity: float = 0.2  # probability that a purchase uses a discount
    campaign_response: float = 0.3  # base relative reduction of dropout from the retention offer
    expectation_shift: float = 0.0  # shift of service expectations (1-7 items)
    preferred_categories: tuple[str, ...] = CATEGORIES  # categories this segment favours
    income_high_share: float = 0.25


def _default_segments() -> tuple[Segment, ...]:
    return (
        Segment("champions", 0.15, r=3.0, alpha=12.0, a=0.4, b=8.0,
                p_spend=6.0, q_spend=5.0, gamma_spend=80.0, satisfaction_mean=0.4,
                discount_propensity=0.10, campaign_response=0.40, expectation_shift=0.6,
                preferred_categories=("coffee_tea", "bakery", "personal_care"), income_high_share=0.5),
        Segment("loyal_regulars", 0.25, r=2.0, alpha=20.0, a=0.5, b=5.0,
                p_spend=5.0, q_spend=4.0, gamma_spend=45.0, satisfaction_mean=0.2,
                discount_propensity=0.15, campaign_response=0.55, expectation_shift=0.2,
                preferred_categories=("dairy", "baby", "household"), income_high_share=0.3),
        Segment("bargain_hunters", 0.25, r=1.5, alpha=15.0, a=0.8, b=4.0,
                p_spend=4.0, q_spend=4.0, gamma_spend=30.0, satisfaction_mean=-0.1,
                discount_propensity=0.60, campaign_response=0.80, expectation_shift=-0.3,
                preferred_categories=("snacks", "beverages", "household"), income_high_share=0.1),
        Segment("occasional", 0.35, r=0.8, alpha=20.0, a=1.0, b=2.5,
                p_spend=5.0, q_spend=3.0, gamma_spend=30.0, satisfaction_mean=-0.2,
                discount_propensity=0.20, campaign_response=0.30, expectation_shift=0.0,
                preferred_categories=CATEGORIES, income_high_share=0.2),
    )


@dataclass(frozen=True)
class SimulationConfig:
    """All ground-truth parameters of the simulated company (times in weeks)."""

    segments: tuple[Segment, ...] = field(default_factory=_default_segments)
    #: share of sign-ups who never buy (prospects)
    prospect_share: float = 0.08
    #: delay from sign-up to the first purchase of a buyer: lognormal with this median (days)
    #: ... so half the buyers buy within about three days, one in seven waits more than two
    #: weeks; sign-ups near the end of the window may not have bought yet
    first_purchase_delay_median_days: float = 3.0
    #: ... and this standard deviation of the log-delay
    first_purchase_delay_sigma: float = 1.4
    #: channel mix of purchases (each customer favours one channel, used 70% of the time)
    channel_mix: dict = field(default_factory=lambda: {"store": 0.40, "web": 0.25, "app": 0.25, "mini_program": 0.10})
    preferred_channel_share: float = 0.7
    acquisition_channel_mix: dict = field(default_factory=lambda: {
        "store": 0.35, "web": 0.25, "app": 0.20, "mini_program": 0.10, "referral": 0.10})
    #: probability that a purchase leads to a complaint
    complaint_prob: float = 0.05
    #: probability that a complaint is resolved
    resolution_prob: float = 0.75
    #: change of latent satisfaction (sd units) caused by a complaint ...
    complaint_effect: float = -0.8
    #: ... and the part recovered when it is resolved (service recovery)
    recovery_effect: float = 0.6
    #: dropout probability is multiplied by exp(-effect * satisfaction)
    satisfaction_dropout_effect: float = 0.5
    #: weight of each SERVQUAL perception dimension on overall satisfaction (CSAT)
    driver_weights: dict = field(default_factory=lambda: {
        "reliability": 0.35, "responsiveness": 0.25, "assurance": 0.18, "empathy": 0.13, "tangibles": 0.09})
    #: share of buyers who answer the satisfaction survey, once, after one of their purchases
    #: drawn at random (so respondents represent the buyers, frequent or not)
    survey_response_share: float = 0.25
    #: service inquiries per week while a customer is active
    inquiry_rate: float = 0.01
    #: browsing sessions without purchase per purchase-equivalent week (digital channels)
    browse_rate: float = 0.05
    #: journeys on the digital channels. 70% of the sessions without purchase go past the
    #: landing page to browse; of those, this share, by channel, puts something in the cart
    #: and leaves (an abandoned cart) ...
    cart_reach_prob: dict = field(default_factory=lambda: {"web": 0.35, "app": 0.25, "mini_program": 0.45})
    #: ... multiplied by this factor within 8 weeks after an unresolved complaint
    complaint_abandonment_factor: float = 1.6
    #: share of purchase sessions that go straight to the cart (reorders), by channel
    reorder_share: dict = field(default_factory=lambda: {"web": 0.10, "app": 0.35, "mini_program": 0.30})
    #: share of purchase sessions that go back to browsing after the cart before buying
    compare_share: float = 0.10
    #: mean minutes between two steps of a digital session, by channel (each gap is
    #: Gamma(shape 2)): the time to convert is this times the number of steps taken, so the
    #: app converts fastest, reorders (2 gaps) faster than browsers (3) and comparers (5)
    step_minutes: dict = field(default_factory=lambda: {"web": 6.0, "app": 2.5, "mini_program": 4.0})
    #: probability of joining the loyalty programme at a purchase, for a customer with the
    #: average purchase rate; scales with (rate / average rate) ** membership_selection
    membership_join_prob: float = 0.06
    membership_selection: float = 1.0
    #: relative increase of the purchase rate after joining the programme (true effect)
    membership_effect: float = 0.20
    #: the randomised retention campaign
    campaign_date: str = "2024-07-01"
    campaign_treated_share: float = 0.5
    #: scales every segment's campaign_response (the relative reduction of dropout, capped
    #: at 0.95); 0 switches the dropout effect off
    campaign_effect: float = 1.5
    #: lower satisfaction makes the offer more effective: response - slope * satisfaction
    campaign_satisfaction_slope: float = 0.10
    #: relative increase of a treated customer's purchase rate from the campaign date on (the
    #: offer's coupon brings them back sooner); 0 leaves the purchase rate alone
    campaign_rate_effect: float = 0.25
    offer_cost: float = 20.0
    marketing_consent_share: float = 0.7
    n_products_per_category: int = 8
    #: probability that an extra line in a basket comes from the complementary category
    complement_prob: float = 0.5
    mean_extra_lines: float = 0.8
    #: the business (B2B) side: accounts, buying centres, pipeline, visits
    b2b: B2BConfig = field(default_factory=B2BConfig)

    def __post_init__(self):
        shares = [s.share for s in self.segments]
        if not self.segments:
            raise ValueError("segments must contain at least one Segment.")
        if any(x <= 0 for x in shares) or abs(sum(shares) - 1) > 1e-6:
            raise ValueError(f"Segment shares must be positive and sum to 1, got {shares}.")
        for s in self.segments:
            for name in ("r", "alpha", "a", "b", "p_spend", "q_spend", "gamma_spend"):
                if getattr(s, name) <= 0:
                    raise ValueError(f"Segment {s.name!r}: {name} must be positive, got {getattr(s, name)}.")
        for name in ("prospect_share", "complaint_prob", "resolution_prob", "survey_response_share",
                     "campaign_treated_share", "preferred_channel_share", "marketing_consent_share",
                     "membership_join_prob", "complement_prob", "compare_share"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {v}.")
        for name in ("campaign_effect", "campaign_rate_effect", "campaign_satisfaction_slope", "offer_cost"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{name} must be a non-negative number, got {v!r}.")
        for name in ("first_purchase_delay_median_days", "first_purchase_delay_sigma"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name} must be a positive number, got {v!r}.")
        digital = sorted(c for c in self.channel_mix if c != "store")
        missing = [c for c in digital if c not in self.step_minutes]
        if missing:
            raise ValueError(f"step_minutes has no entry for the digital channel(s) {missing}; "
                             f"give minutes per step for each of {digital}.")
        bad = {c: v for c, v in self.step_minutes.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0}
        if bad:
            raise ValueError(f"step_minutes must be positive numbers of minutes, got {bad}.")
        for name in ("channel_mix", "acquisition_channel_mix"):
            mix = getattr(self, name)
            if abs(sum(mix.values()) - 1) > 1e-6:
                raise ValueError(f"{name} must sum to 1, got {mix}.")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SimulationConfig:
        d = dict(d)
        d["segments"] = tuple(
            Segment(**{**s, "preferred_categories": tuple(s["preferred_categories"])}) for s in d["segments"]
        )
        if isinstance(d.get("b2b"), dict):
            d["b2b"] = B2BConfig.from_dict(d["b2b"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
