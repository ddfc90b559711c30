"""Checks for ``exercises/solutions/05_satisfaction.ipynb`` (客户满意度调查, 客户期望, 感知价值).

Each check recomputes the expected answer from ``data`` with :mod:`crmlab.satisfaction`.
"""

from __future__ import annotations

import pandas as pd

from crmlab import satisfaction
from crmlab.check.compare import (
    assert_frame_matches,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)
from crmlab.data.schema import LOYALTY_ITEMS, SERVQUAL_DIMENSIONS

__all__ = ["nps_score", "csat_top2", "loyalty_alpha", "nps_by_region", "driver_ranking", "servqual_gaps"]

PERF = [f"perf_{d}" for d in SERVQUAL_DIMENSIONS]


def _number(answer):
    return answer.score if isinstance(answer, satisfaction.ScoreResult) else answer


def nps_score(answer, data=None) -> None:
    """Net Promoter Score of all survey answers, in points (-100 to 100)."""
    data = resolve_data(data)
    expected = satisfaction.nps(data.surveys["nps"]).score
    assert_scalar_close(_number(answer), expected, what="your NPS",
                        hint="Promoters answer 9-10, detractors 0-6 (7-8 are passives). NPS = 100 x (share of "
                             "promoters - share of detractors); it is in points, not a fraction.")
    passed("nps_score")


def csat_top2(answer, data=None) -> None:
    """CSAT: percentage of answers of 4 or 5 on the 1-5 ``csat`` question."""
    data = resolve_data(data)
    expected = satisfaction.csat(data.surveys["csat"], scale=5, top_box=2).score
    assert_scalar_close(_number(answer), expected, what="your CSAT",
                        hint="Count answers of 4 or 5 (the top two boxes), divide by the number of answers and "
                             "multiply by 100.")
    passed("csat_top2")


def loyalty_alpha(answer, data=None) -> None:
    """Cronbach's alpha of the three attitudinal loyalty items (``loy_*``)."""
    data = resolve_data(data)
    expected = satisfaction.cronbach_alpha(data.surveys[list(LOYALTY_ITEMS)])
    assert_scalar_close(answer, expected, what="your alpha",
                        hint="alpha = k/(k-1) x (1 - sum of item variances / variance of the summed score), "
                             "with k = 3 items and sample variances (ddof=1).")
    passed("loyalty_alpha")


def nps_by_region(answer, data=None) -> None:
    """NPS per customer region: a table with ``region``, ``score``, ``ci_low``, ``ci_high``, ``n``."""
    data = resolve_data(data)
    sv = data.surveys.merge(data.customers[["customer_id", "region"]], on="customer_id", how="left")
    expected = satisfaction.score_table(sv, column="nps", by="region")[["region", "score", "ci_low", "ci_high", "n"]]
    assert_frame_matches(answer, expected, key="region", what="your NPS by region",
                         hint="Add each respondent's region from data.customers (merge on customer_id), then "
                              "crm.satisfaction.score_table(..., column='nps', by='region').")
    passed("nps_by_region")


def driver_ranking(answer, data=None) -> None:
    """The five ``perf_*`` drivers of ``csat``, most important first (LMG relative importance)."""
    data = resolve_data(data)
    expected = satisfaction.key_drivers(data.surveys, target="csat", drivers=PERF)["driver"]
    if isinstance(answer, pd.DataFrame) and "driver" in answer.columns:
        answer = answer["driver"]
    got = list(answer) if not isinstance(answer, pd.Series) else answer.tolist()
    assert_series_matches(got, expected.reset_index(drop=True), what="your driver ranking",
                          hint="Use crm.satisfaction.key_drivers(data.surveys, target='csat', drivers=[the five "
                               "perf_ columns]) and read the 'driver' column (it is sorted by 'lmg').")
    passed("driver_ranking")


def servqual_gaps(answer, data=None) -> None:
    """SERVQUAL gap (perception - expectation) per dimension: a Series indexed by dimension name."""
    data = resolve_data(data)
    expected = satisfaction.gap_analysis(data.surveys).set_index("dimension")["gap"]
    if isinstance(answer, pd.DataFrame) and {"dimension", "gap"} <= set(answer.columns):
        answer = answer.set_index("dimension")["gap"]
    if isinstance(answer, pd.Series):
        answer = answer.sort_index()
    assert_series_matches(answer, expected.sort_index(), what="your gaps",
                          hint="Gap = mean perception (perf_<d>) minus mean expectation (exp_<d>); negative means "
                               "the service falls short. Index the Series by the dimension name, e.g. 'reliability'.")
    passed("servqual_gaps")
