"""Checks for ``exercises/solutions/13_customer_journey.ipynb`` (客户旅程, 全渠道, 关键时刻 MOT).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.journey`. Hints name
the idea and the section of notebook 13; they never give the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import journey
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    fail,
    judge,
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
    loose = lambda: journey.funnel(data.touchpoints, by="channel", strict=False)[  # noqa: E731
        ["channel", "step", "sessions", "step_conversion", "overall_conversion"]]
    judge(assert_frame_matches, answer, expected, key=["channel", "step"], what="your funnel",
          mistakes=[("your funnel counts every session with the event: in a strict funnel a session counts at a step "
                     "only if it also reached every earlier step.", loose)],
          hint="Per channel, sessions reaching each step (visit, browse, cart, purchase) after every earlier step, "
               "with the conversion from the previous step and from the first — notebook 13, section 2 (转化漏斗).")
    passed("channel_funnel")


def cart_abandonment_rate(answer: Any, data: CRMData | None = None) -> None:
    """Share of sessions that reached the cart through the strict funnel (after visit and browse)
    but did not purchase."""
    data = resolve_data(data)
    f = journey.funnel(data.touchpoints).set_index("step")
    expected = float(1 - f.loc["purchase", "sessions"] / f.loc["cart", "sessions"])
    judge(assert_scalar_close, answer, expected, what="your cart abandonment rate",
          mistakes=[("your rate is a percentage: give a fraction between 0 and 1.", 100 * expected),
                    ("your rate is the share that did buy: abandonment is the share that did not.", 1 - expected)],
          hint="Among the sessions that reached the cart through the strict funnel, the share that did not "
               "purchase — notebook 13, section 4 (购物车放弃).")
    passed("cart_abandonment_rate")


def abandonment_by_channel(answer: Any, data: CRMData | None = None) -> None:
    """Per channel: share of the sessions with a cart (in any order) that end without a purchase."""
    data = resolve_data(data)
    f = journey.funnel(data.touchpoints, by="channel", strict=False)
    expected = f[f["step"] == "purchase"].set_index("channel")["drop_off"].rename("abandonment")
    def strict():
        f = journey.funnel(data.touchpoints, by="channel")
        return f[f["step"] == "purchase"].set_index("channel")["drop_off"]

    judge(assert_series_matches, answer, expected, what="your abandonment rate by channel",
          mistakes=[("your rates use the strict funnel: here every session with a cart counts, with or without "
                     "browsing first.", strict),
                    ("your rates are percentages: give fractions between 0 and 1.", lambda: 100 * expected)],
          hint="Per channel, among sessions with a cart event (in any order), the share without a purchase — "
               "notebook 13, section 4 (购物车放弃).")
    passed("abandonment_by_channel")


def reorder_share(answer: Any, data: CRMData | None = None) -> None:
    """Per channel: share of the purchase sessions that went straight to the cart (no browsing)."""
    data = resolve_data(data)
    tp = data.touchpoints
    g = tp.assign(browse=tp["event"] == "browse", purchase=tp["event"] == "purchase").groupby("session_id")
    per = pd.DataFrame({"channel": g["channel"].first(), "browse": g["browse"].any(), "purchase": g["purchase"].any()})
    buyers = per[per["purchase"]]
    expected = (~buyers["browse"]).groupby(buyers["channel"]).mean().rename("reorder_share")
    judge(assert_series_matches, answer, expected, what="your reorder share by channel",
          mistakes=[("your shares are over every session: keep the sessions with a purchase.",
                     lambda: (~per["browse"]).groupby(per["channel"]).mean()),
                    ("your shares are those of purchases after browsing: a reorder goes straight to the cart.",
                     lambda: 1 - expected)],
          hint="Among the purchase sessions of each channel, the share without a browse event — notebook 13, "
               "section 3 (购买路径).")
    passed("reorder_share")


def converting_paths(answer: Any, data: CRMData | None = None) -> None:
    """The 3 most common paths to purchase with ``sessions``, ``share`` and ``median_minutes``."""
    data = resolve_data(data)
    expected = journey.top_paths(data.touchpoints, n=3)[["path", "sessions", "share", "median_minutes"]]
    if isinstance(answer, pd.DataFrame) and len(answer) > len(expected) and "sessions" in answer.columns:
        fail(f"your table has {len(answer)} paths: keep the 3 most common.", "notebook 13, section 3 (购买路径).")
    judge(assert_frame_matches, answer, expected, key="path", what="your paths table",
          mistakes=[("your shares are percentages: give fractions between 0 and 1.",
                     lambda: expected.assign(share=100 * expected["share"]))],
          hint="Sessions that purchase, each cut at its first purchase; count each path, its share of the "
               "purchasing sessions and the median minutes from the first event to the purchase — notebook 13, "
               "section 3 (购买路径).")
    passed("converting_paths")


def multichannel_comparison(answer: Any, data: CRMData | None = None) -> None:
    """Customers, orders and spend per customer for single- vs multi-channel buyers."""
    data = resolve_data(data)
    expected = journey.omnichannel_summary(data.transactions, by="multichannel")[
        ["customers", "n_orders", "total_spend"]]
    totals = journey.omnichannel_summary(data.transactions, by="multichannel")
    totals = totals.assign(n_orders=totals["n_orders"] * totals["customers"],
                           total_spend=totals["total_spend"] * totals["customers"])[
        ["customers", "n_orders", "total_spend"]]
    judge(assert_frame_matches, answer, expected, key="multichannel", what="your comparison",
          mistakes=[("your n_orders and total_spend are group totals: give means per customer.", totals)],
          hint="Mark each buyer as multichannel when they bought through more than one channel; per group, the "
               "number of customers and the mean orders and spend per customer — notebook 13, section 5 "
               "(全渠道客户).")
    passed("multichannel_comparison")


def unresolved_complaint_effect(answer: Any, data: CRMData | None = None) -> None:
    """OLS effect on CSAT of an unresolved complaint before the survey, holding resolved
    complaints and inquiries fixed."""
    data = resolve_data(data)
    table = journey.experience_table(data.surveys, data.interactions)
    mot = journey.moments_of_truth(table, outcome="csat",
                                   factors=["complaint_resolved", "complaint_unresolved", "inquiry"])
    alone = lambda: float(journey.moments_of_truth(table, outcome="csat",  # noqa: E731
                                                   factors=["complaint_unresolved"]).loc["complaint_unresolved",
                                                                                         "effect"])
    judge(assert_scalar_close, answer, float(mot.loc["complaint_unresolved", "effect"]), rtol=1e-4,
          what="your effect of an unresolved complaint",
          mistakes=[("your effect comes from a model with the unresolved complaint alone: hold resolved complaints "
                     "and inquiries fixed in the same regression.", alone)],
          hint="Regress csat on the experiences before the survey (resolved complaint, unresolved complaint, "
               "inquiry) together and read the coefficient of the unresolved complaint — notebook 13, section 7 "
               "(满意度的关键时刻).")
    passed("unresolved_complaint_effect")


def repurchase_effect(answer: Any, data: CRMData | None = None) -> None:
    """Average marginal effect of an unresolved complaint on repurchase within 180 days (logit)."""
    data = resolve_data(data)
    f = journey.complaint_followup(data.interactions, data.transactions, observation_end=data.observation_end,
                                   horizon_days=180)
    mot = journey.moments_of_truth(f, outcome="repurchased", factors=["unresolved", "slow_resolution"],
                                   kind="logit")
    effect = float(mot.loc["unresolved", "effect"])
    ols = lambda: float(journey.moments_of_truth(f, outcome="repurchased",  # noqa: E731
                                                 factors=["unresolved", "slow_resolution"]).loc["unresolved",
                                                                                                "effect"])
    judge(assert_scalar_close, answer, effect, rtol=1e-4, what="your effect on repurchase",
          mistakes=[("your effect is in percentage points: give probability points (a fraction).", 100 * effect),
                    ("your effect comes from a linear model: the exercise asks for the average marginal effect of a "
                     "logit.", ols)],
          hint="A logit of repurchase within 180 days on the unresolved and slow-resolution marks; the effect is "
               "the average marginal effect, in probability points — notebook 13, section 9 (复购的关键时刻).")
    passed("repurchase_effect")
