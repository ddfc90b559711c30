"""Checks for ``exercises/solutions/13_customer_journey.ipynb`` (客户旅程, 全渠道, 关键时刻 MOT).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.journey`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmlab import journey
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = [
    "channel_funnel",
    "cart_abandonment_rate",
    "abandonment_by_channel",
    "reorder_share",
    "converting_paths",
    "multichannel_comparison",
    "unresolved_complaint_effect",
    "repurchase_effect",
]


def channel_funnel(answer: Any, data: CRMData | None = None) -> None:
    """Funnel (visit, browse, cart, purchase) per channel: sessions and conversions."""
    data = resolve_data(data)
    expected = journey.funnel(data.touchpoints, by="channel")[
        ["channel", "step", "sessions", "step_conversion", "overall_conversion"]]
    assert_frame_matches(answer, expected, key=["channel", "step"], what="your funnel",
                         hint="crm.journey.funnel(data.touchpoints, by='channel'); a session counts at a step "
                              "only if it also reached every earlier step.")
    passed("channel_funnel")


def cart_abandonment_rate(answer: Any, data: CRMData | None = None) -> None:
    """Share of sessions that reached the cart through the strict funnel (after visit and browse)
    but did not purchase."""
    data = resolve_data(data)
    f = journey.funnel(data.touchpoints).set_index("step")
    expected = float(1 - f.loc["purchase", "sessions"] / f.loc["cart", "sessions"])
    assert_scalar_close(answer, expected, what="your cart abandonment rate",
                        hint="Divide the sessions that reach the cart but not the purchase by all sessions that "
                             "reach the cart (1 - step conversion of the purchase step); a fraction, not a %.")
    passed("cart_abandonment_rate")


def abandonment_by_channel(answer: Any, data: CRMData | None = None) -> None:
    """Per channel: share of the sessions with a cart (in any order) that end without a purchase."""
    data = resolve_data(data)
    f = journey.funnel(data.touchpoints, by="channel", strict=False)
    expected = f[f["step"] == "purchase"].set_index("channel")["drop_off"].rename("abandonment")
    assert_series_matches(answer, expected, what="your abandonment rate by channel",
                          hint="Count every session with a 'cart' event, with or without browsing (strict=False): "
                               "abandonment = 1 - sessions with a purchase / sessions with a cart, per channel; "
                               "a fraction, not a %.")
    passed("abandonment_by_channel")


def reorder_share(answer: Any, data: CRMData | None = None) -> None:
    """Per channel: share of the purchase sessions that went straight to the cart (no browsing)."""
    data = resolve_data(data)
    tp = data.touchpoints
    per = tp.groupby("session_id").agg(channel=("channel", "first"),
                                       browse=("event", lambda e: bool((e == "browse").any())),
                                       purchase=("event", lambda e: bool((e == "purchase").any())))
    buyers = per[per["purchase"]]
    expected = (~buyers["browse"]).groupby(buyers["channel"]).mean().rename("reorder_share")
    assert_series_matches(answer, expected, what="your reorder share by channel",
                          hint="Keep the sessions with a purchase; a reorder has no 'browse' event "
                               "(path visit > cart > purchase). Take the mean per channel; a fraction, not a %.")
    passed("reorder_share")


def converting_paths(answer: Any, data: CRMData | None = None) -> None:
    """The 3 most common paths to purchase with ``sessions``, ``share`` and ``median_minutes``."""
    data = resolve_data(data)
    expected = journey.top_paths(data.touchpoints, n=3)[["path", "sessions", "share", "median_minutes"]]
    assert_frame_matches(answer, expected, key="path", what="your paths table",
                         hint="crm.journey.top_paths(data.touchpoints, n=3): sessions are cut at their first "
                              "purchase, and the time runs from the first event to the purchase.")
    passed("converting_paths")


def multichannel_comparison(answer: Any, data: CRMData | None = None) -> None:
    """Customers, orders and spend per customer for single- vs multi-channel buyers."""
    data = resolve_data(data)
    expected = journey.omnichannel_summary(data.transactions, by="multichannel")[
        ["customers", "n_orders", "total_spend"]]
    assert_frame_matches(answer, expected, key="multichannel", what="your comparison",
                         hint="crm.journey.omnichannel_summary(data.transactions, by='multichannel'); "
                              "n_orders and total_spend are means per customer.")
    passed("multichannel_comparison")


def unresolved_complaint_effect(answer: Any, data: CRMData | None = None) -> None:
    """OLS effect on CSAT of an unresolved complaint before the survey, holding resolved
    complaints and inquiries fixed."""
    data = resolve_data(data)
    table = journey.experience_table(data.surveys, data.interactions)
    mot = journey.moments_of_truth(table, outcome="csat",
                                   factors=["complaint_resolved", "complaint_unresolved", "inquiry"])
    assert_scalar_close(answer, float(mot.loc["complaint_unresolved", "effect"]), rtol=1e-4,
                        what="your effect of an unresolved complaint",
                        hint="Build crm.journey.experience_table(data.surveys, data.interactions) and fit "
                             "crm.journey.moments_of_truth(..., outcome='csat', factors=['complaint_resolved', "
                             "'complaint_unresolved', 'inquiry']); take the 'effect' of complaint_unresolved.")
    passed("unresolved_complaint_effect")


def repurchase_effect(answer: Any, data: CRMData | None = None) -> None:
    """Average marginal effect of an unresolved complaint on repurchase within 180 days (logit)."""
    data = resolve_data(data)
    f = journey.complaint_followup(data.interactions, data.transactions, observation_end=data.observation_end,
                                   horizon_days=180)
    mot = journey.moments_of_truth(f, outcome="repurchased", factors=["unresolved", "slow_resolution"],
                                   kind="logit")
    assert_scalar_close(answer, float(mot.loc["unresolved", "effect"]), rtol=1e-4,
                        what="your effect on repurchase",
                        hint="Use crm.journey.complaint_followup(..., horizon_days=180) and "
                             "crm.journey.moments_of_truth(..., outcome='repurchased', factors=['unresolved', "
                             "'slow_resolution'], kind='logit'); the effect is in probability points (negative).")
    passed("repurchase_effect")
