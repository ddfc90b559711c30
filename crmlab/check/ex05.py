"""Checks for ``exercises/solutions/05_satisfaction.ipynb`` (客户满意度调查, 客户期望, 感知价值).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.satisfaction`. Hints
name the idea and the section of notebook 05; they never give the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab import satisfaction
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    judge,
    passed,
    resolve_data,
)
from crmlab.data.schema import LOYALTY_ITEMS, SERVQUAL_DIMENSIONS

if TYPE_CHECKING:
    from crmlab.data.container import CRMData

__all__ = ["nps_score", "csat_top2", "loyalty_alpha", "nps_by_region", "driver_ranking", "servqual_gaps"]

PERF = [f"perf_{d}" for d in SERVQUAL_DIMENSIONS]


def _number(answer):
    return answer.score if isinstance(answer, satisfaction.ScoreResult) else answer


def nps_score(answer: Any, data: CRMData | None = None) -> None:
    """Net Promoter Score of all survey answers, in points (-100 to 100)."""
    data = resolve_data(data)
    expected = satisfaction.nps(data.surveys["nps"]).score
    s = data.surveys["nps"]
    judge(assert_scalar_close, _number(answer), expected, what="your NPS",
          mistakes=[("your NPS is a fraction: NPS is in points, 100 x (share of promoters - share of detractors).",
                     expected / 100),
                    ("your NPS counts 7-8 as promoters: promoters answer 9-10, passives 7-8.",
                     lambda: 100 * ((s >= 7).mean() - (s <= 6).mean())),
                    ("your NPS counts answers of 7 as detractors: detractors answer 0-6.",
                     lambda: 100 * ((s >= 9).mean() - (s <= 7).mean()))],
          hint="Promoters answer 9-10, passives 7-8, detractors 0-6; NPS is the difference of two shares, in "
               "points — notebook 05, section 2 (满意度与净推荐值).")
    passed("nps_score")


def csat_top2(answer: Any, data: CRMData | None = None) -> None:
    """CSAT: percentage of answers of 4 or 5 on the 1-5 ``csat`` question."""
    data = resolve_data(data)
    expected = satisfaction.csat(data.surveys["csat"], scale=5, top_box=2).score
    s = data.surveys["csat"]
    judge(assert_scalar_close, _number(answer), expected, what="your CSAT",
          mistakes=[("your CSAT is a fraction: give a percentage (0-100).", expected / 100),
                    ("your CSAT is the mean score: CSAT is the percentage of answers in the top two boxes.",
                     lambda: float(s.mean())),
                    ("your CSAT counts only answers of 5: the top two boxes are 4 and 5.",
                     lambda: 100 * float((s == 5).mean()))],
          hint="CSAT is the percentage of answers in the top two boxes of the 1-5 scale — notebook 05, section 2 "
               "(满意度与净推荐值).")
    passed("csat_top2")


def loyalty_alpha(answer: Any, data: CRMData | None = None) -> None:
    """Cronbach's alpha of the three attitudinal loyalty items (``loy_*``)."""
    data = resolve_data(data)
    expected = satisfaction.cronbach_alpha(data.surveys[list(LOYALTY_ITEMS)])
    items = data.surveys[list(LOYALTY_ITEMS)]

    def no_correction():
        return float(1 - items.var(ddof=1).sum() / items.sum(axis=1).var(ddof=1))

    judge(assert_scalar_close, answer, expected, what="your alpha",
          mistakes=[("your alpha lacks the factor k/(k-1) in front.", no_correction)],
          hint="Cronbach's alpha compares the item variances with the variance of the summed score, with the "
               "correction for the number of items — notebook 05, section 3 (量表信度).")
    passed("loyalty_alpha")


def nps_by_region(answer: Any, data: CRMData | None = None) -> None:
    """NPS per customer region: a table with ``region``, ``score``, ``ci_low``, ``ci_high``, ``n``."""
    data = resolve_data(data)
    sv = data.surveys.merge(data.customers[["customer_id", "region"]], on="customer_id", how="left")
    expected = satisfaction.score_table(sv, column="nps", by="region")[["region", "score", "ci_low", "ci_high", "n"]]
    judge(assert_frame_matches, answer, expected, key="region", what="your NPS by region",
          mistakes=[("your scores are fractions: NPS is in points.",
                     lambda: expected.assign(score=expected["score"] / 100, ci_low=expected["ci_low"] / 100,
                                             ci_high=expected["ci_high"] / 100))],
          hint="Attach each respondent's region from the customer table, then score each region with its "
               "confidence interval and number of answers — notebook 05, section 2 (满意度与净推荐值).")
    passed("nps_by_region")


def driver_ranking(answer: Any, data: CRMData | None = None) -> None:
    """The five ``perf_*`` drivers of ``csat``, most important first (LMG relative importance)."""
    data = resolve_data(data)
    expected = satisfaction.key_drivers(data.surveys, target="csat", drivers=PERF)["driver"]
    if isinstance(answer, pd.DataFrame) and "driver" in answer.columns:
        answer = answer["driver"]
    if isinstance(answer, pd.Series) and not pd.api.types.is_numeric_dtype(answer.dtype):
        got = answer.tolist()
    elif isinstance(answer, pd.Series):  # importance per driver: rank it
        got = answer.sort_values(ascending=False).index.tolist()
    elif isinstance(answer, dict):
        got = pd.Series(answer).sort_values(ascending=False).index.tolist()
    else:
        got = list(answer)
    corr = data.surveys[PERF].corrwith(data.surveys["csat"]).sort_values(ascending=False).index.tolist()
    judge(assert_series_matches, got, expected.reset_index(drop=True), what="your driver ranking",
          mistakes=[("your ranking is from least to most important: most important first.",
                     lambda: expected.iloc[::-1].reset_index(drop=True)),
                    ("your ranking orders the drivers by their correlation with csat: relative importance (LMG) "
                     "shares R² among correlated drivers.", lambda: pd.Series(corr))],
          hint="Rank the five perf_ drivers of csat by their relative importance (the LMG share of R²) — "
               "notebook 05, section 4 (关键驱动因素分析).")
    passed("driver_ranking")


def servqual_gaps(answer: Any, data: CRMData | None = None) -> None:
    """SERVQUAL gap (perception - expectation) per dimension: a Series indexed by dimension name."""
    data = resolve_data(data)
    expected = satisfaction.gap_analysis(data.surveys).set_index("dimension")["gap"]
    if isinstance(answer, pd.DataFrame) and {"dimension", "gap"} <= set(answer.columns):
        answer = answer.set_index("dimension")["gap"]
    if isinstance(answer, pd.Series):
        answer = answer.sort_index()
    if isinstance(answer, dict):
        answer = pd.Series(answer)
    if isinstance(answer, pd.Series):
        answer = answer.rename(index=lambda d: str(d).removeprefix("perf_").removeprefix("exp_").removeprefix(
            "gap_")).sort_index()
    judge(assert_series_matches, answer, expected.sort_index(), what="your gaps",
          mistakes=[("your gaps have the wrong sign: gap = perception minus expectation.",
                     lambda: -expected.sort_index())],
          hint="Gap = mean perception minus mean expectation of each dimension; negative means the service falls "
               "short. Index it by the dimension name, e.g. 'reliability' — notebook 05, section 6 "
               "(客户期望与感知价值).")
    passed("servqual_gaps")
