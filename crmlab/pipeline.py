"""Sales-pipeline analytics (销售机会管理): stage conversion, velocity and weighted forecasts.

An opportunity enters the pipeline as a lead and moves through :data:`STAGES` until it is
won or lost. From the stage history (one row per opportunity and stage entered) this module
computes how many move on from each stage, how long they stay, what the open pipeline is
worth when each deal is weighted by the chance of winning from its stage, and — the honest
test of any forecast — how that weighted forecast compares with what actually closed.

>>> import crmlab as crm
>>> data = crm.load_retail()
>>> conv = stage_conversion(data.opportunity_stages)
>>> conv.index.tolist()
['lead', 'qualified', 'proposal', 'negotiation']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import time as _time
from crmlab.time import DateLike
from crmlab.validation import check_frame, check_timestamp

__all__ = ["STAGES", "stage_conversion", "win_probability_by_stage", "stage_durations", "weighted_forecast",
           "forecast_backtest", "pipeline_velocity"]

#: Open stages in order; ``won`` and ``lost`` close an opportunity.
STAGES = ("lead", "qualified", "proposal", "negotiation")
_ALL = (*STAGES, "won", "lost")


def _stages(stages: pd.DataFrame, opportunity_col: str, stage_col: str, date_col: str) -> pd.DataFrame:
    df = check_frame(stages, required=[opportunity_col, stage_col, date_col], dates=[date_col],
                     not_missing=[opportunity_col, stage_col, date_col], name="opportunity_stages")
    bad = ~df[stage_col].isin(_ALL)
    if bad.any():
        raise ValueError(f"opportunity_stages column {stage_col!r} has unknown stage {df.loc[bad, stage_col].iloc[0]!r}; "
                         f"stages are {list(_ALL)}.")
    if df.duplicated([opportunity_col, stage_col]).any():
        dup = df.loc[df.duplicated([opportunity_col, stage_col]), opportunity_col].iloc[0]
        raise ValueError(f"opportunity_stages lists a stage twice for opportunity {dup!r}; keep one row per stage.")
    return df


def _reached(df, opportunity_col, stage_col, cutoff=None, date_col=None) -> pd.DataFrame:
    """A 0/1 table: opportunity × stage reached (up to ``cutoff``)."""
    if cutoff is not None:
        df = df[df[date_col] < _time.window_end(cutoff, name="cutoff")]
    wide = pd.crosstab(df[opportunity_col], df[stage_col]).reindex(columns=list(_ALL), fill_value=0)
    return wide.clip(upper=1)


def stage_conversion(
    stages: pd.DataFrame,
    *,
    opportunity_col: str = "opportunity_id",
    stage_col: str = "stage",
    date_col: str = "entered_date",
) -> pd.DataFrame:
    """How many opportunities move on from each stage.

    For each open stage: ``entered`` (opportunities that reached it), ``advanced`` (reached
    the next stage — for ``negotiation``, were won), ``lost`` (lost from this stage),
    ``open`` (still in it), and ``conversion = advanced / (advanced + lost)`` among those
    whose fate at that stage is known (open deals are left out, not counted as failures).

    Examples
    --------
    >>> st = pd.DataFrame({"opportunity_id": [1, 1, 1, 2, 2, 3],
    ...                    "stage": ["lead", "qualified", "lost", "lead", "qualified", "lead"],
    ...                    "entered_date": pd.to_datetime(["2024-01-01"] * 6)})
    >>> stage_conversion(st).loc[["lead", "qualified"], ["entered", "advanced", "lost", "open"]].values.tolist()
    [[3, 2, 0, 1], [2, 0, 1, 1]]
    """
    df = _stages(stages, opportunity_col, stage_col, date_col)
    wide = _reached(df, opportunity_col, stage_col)
    rows = []
    for i, stage in enumerate(STAGES):
        nxt = STAGES[i + 1] if i + 1 < len(STAGES) else "won"
        at = wide[stage] == 1
        advanced = at & (wide[nxt] == 1)
        lost_here = at & (wide[nxt] == 0) & (wide["lost"] == 1)
        open_here = at & ~advanced & ~lost_here
        decided = int(advanced.sum() + lost_here.sum())
        rows.append({"stage": stage, "entered": int(at.sum()), "advanced": int(advanced.sum()),
                     "lost": int(lost_here.sum()), "open": int(open_here.sum()),
                     "conversion": advanced.sum() / decided if decided else np.nan})
    out = pd.DataFrame(rows).set_index("stage")
    if out["conversion"].isna().any():
        empty = out.index[out["conversion"].isna()].tolist()
        out.attrs["note"] = f"no decided opportunities at stage(s) {empty}: their conversion is unknown (NaN)"
    return out


def win_probability_by_stage(conversion: pd.DataFrame) -> pd.Series:
    """Probability of eventually winning from each open stage: the product of the conversions ahead.

    Examples
    --------
    >>> conv = pd.DataFrame({"conversion": [0.5, 0.5, 0.8, 0.5]}, index=list(STAGES))
    >>> win_probability_by_stage(conv).round(2).tolist()
    [0.1, 0.2, 0.4, 0.5]
    """
    if not isinstance(conversion, pd.DataFrame) or "conversion" not in conversion.columns:
        raise TypeError("conversion must be the DataFrame returned by stage_conversion.")
    conv = conversion["conversion"].reindex(list(STAGES))
    if conv.isna().any():
        missing = conv.index[conv.isna()].tolist()
        raise ValueError(f"the conversion of stage(s) {missing} is unknown; a forecast needs every stage. "
                         f"Use a longer history or set those conversions from experience.")
    probs = conv[::-1].cumprod()[::-1]
    probs.name = "win_probability"
    return probs


def stage_durations(
    stages: pd.DataFrame,
    *,
    opportunity_col: str = "opportunity_id",
    stage_col: str = "stage",
    date_col: str = "entered_date",
) -> pd.DataFrame:
    """Days spent in each stage by the opportunities that left it: median, mean and count.

    Examples
    --------
    >>> st = pd.DataFrame({"opportunity_id": [1, 1], "stage": ["lead", "qualified"],
    ...                    "entered_date": pd.to_datetime(["2024-01-01", "2024-01-11"])})
    >>> float(stage_durations(st).loc["lead", "median_days"])
    10.0
    """
    df = _stages(stages, opportunity_col, stage_col, date_col)
    order = {s: i for i, s in enumerate(_ALL)}
    df = df.assign(_order=df[stage_col].map(order)).sort_values([opportunity_col, "_order"])
    df["_next"] = df.groupby(opportunity_col)[date_col].shift(-1)
    left = df.dropna(subset=["_next"])
    left = left[left[stage_col].isin(STAGES)]
    days = (left["_next"] - left[date_col]) / pd.Timedelta(days=1)
    if (days < 0).any():
        raise ValueError("opportunity_stages has a stage entered before the previous one; check the dates.")
    out = days.groupby(left[stage_col]).agg(["median", "mean", "size"]).reindex(list(STAGES))
    out.columns = ["median_days", "mean_days", "n"]
    out["n"] = out["n"].fillna(0).astype(int)
    return out


def weighted_forecast(
    opportunities: pd.DataFrame,
    win_probability: pd.Series,
    *,
    stage_col: str = "stage",
    value_col: str = "list_value",
) -> pd.DataFrame:
    """The open pipeline weighted by the chance of winning from each deal's stage.

    Returns one row per open stage: ``n_open``, ``open_value`` and ``weighted_value =
    open_value × win probability``; the total is in the row ``total``.

    Examples
    --------
    >>> opp = pd.DataFrame({"stage": ["proposal", "lead", "won"], "list_value": [100.0, 50.0, 70.0]})
    >>> wp = pd.Series({"lead": 0.1, "qualified": 0.2, "proposal": 0.4, "negotiation": 0.5})
    >>> float(weighted_forecast(opp, wp).loc["total", "weighted_value"])
    45.0
    """
    opp = check_frame(opportunities, required=[stage_col, value_col], numeric=[value_col],
                      not_missing=[stage_col, value_col], nonnegative=[value_col], name="opportunities")
    if not isinstance(win_probability, pd.Series):
        raise TypeError("win_probability must be a Series indexed by stage (see win_probability_by_stage).")
    missing = [s for s in STAGES if s not in win_probability.index]
    if missing:
        raise ValueError(f"win_probability has no value for stage(s) {missing}.")
    p = win_probability.reindex(list(STAGES)).astype(float)
    if ((p < 0) | (p > 1)).any() or p.isna().any():
        raise ValueError("win_probability must lie in [0, 1] for every stage.")
    open_ = opp[opp[stage_col].isin(STAGES)]
    g = open_.groupby(stage_col)[value_col]
    out = pd.DataFrame({"n_open": g.size(), "open_value": g.sum()}).reindex(list(STAGES), fill_value=0)
    out["n_open"] = out["n_open"].astype(int)
    out["win_probability"] = p
    out["weighted_value"] = out["open_value"] * p
    out.loc["total"] = [out["n_open"].sum(), out["open_value"].sum(), np.nan, out["weighted_value"].sum()]
    out["n_open"] = out["n_open"].astype(int)
    return out


def forecast_backtest(
    opportunities: pd.DataFrame,
    stages: pd.DataFrame,
    *,
    cutoff: DateLike,
    opportunity_col: str = "opportunity_id",
    stage_col: str = "stage",
    date_col: str = "entered_date",
    value_col: str = "list_value",
) -> pd.DataFrame:
    """Check the weighted forecast against what closed: estimate at ``cutoff``, compare later.

    Stage conversions are estimated from the history up to ``cutoff`` only (nothing later
    reaches the estimate); the deals open at ``cutoff`` are weighted by those probabilities;
    the forecast is compared with the list value of those same deals that were won after
    ``cutoff``. Returns one row per stage held at ``cutoff`` plus ``total``: ``n_open``,
    ``forecast``, ``actual_won``, ``n_still_open`` (not decided yet at the end of the data).

    Examples
    --------
    >>> import crmlab as crm
    >>> data = crm.load_retail()
    >>> bt = forecast_backtest(data.opportunities, data.opportunity_stages, cutoff="2024-06-30")
    >>> list(bt.columns)
    ['n_open', 'forecast', 'actual_won', 'n_still_open']
    """
    cut = check_timestamp(cutoff, name="cutoff")
    st = _stages(stages, opportunity_col, stage_col, date_col)
    opp = check_frame(opportunities, required=[opportunity_col, value_col], numeric=[value_col],
                      not_missing=[opportunity_col, value_col], unique=opportunity_col, name="opportunities")
    known = st[st[date_col] < _time.window_end(cut, name="cutoff")]
    if known.empty:
        raise ValueError(f"no stage was entered on or before cutoff={cut.date()}; choose a later cutoff.")
    probs = win_probability_by_stage(stage_conversion(known, opportunity_col=opportunity_col, stage_col=stage_col,
                                                      date_col=date_col))
    order = {s: i for i, s in enumerate(_ALL)}
    at_cut = (known.assign(_o=known[stage_col].map(order)).sort_values([opportunity_col, "_o"])
              .groupby(opportunity_col)[stage_col].last())
    open_at_cut = at_cut[at_cut.isin(STAGES)]
    final = (st.assign(_o=st[stage_col].map(order)).sort_values([opportunity_col, "_o"])
             .groupby(opportunity_col)[stage_col].last())
    table = pd.DataFrame({"stage_at_cutoff": open_at_cut, "final": final.reindex(open_at_cut.index)})
    table = table.join(opp.set_index(opportunity_col)[value_col], how="left")
    if table[value_col].isna().any():
        raise ValueError("opportunity_stages has opportunities missing from opportunities; fix the ids.")
    table["forecast"] = table[value_col] * table["stage_at_cutoff"].map(probs)
    table["actual_won"] = np.where(table["final"] == "won", table[value_col], 0.0)
    table["still_open"] = table["final"].isin(STAGES)
    g = table.groupby("stage_at_cutoff")
    out = pd.DataFrame({"n_open": g.size(), "forecast": g["forecast"].sum(), "actual_won": g["actual_won"].sum(),
                        "n_still_open": g["still_open"].sum()}).reindex(list(STAGES), fill_value=0)
    out.loc["total"] = out.sum()
    out = out.astype({"n_open": int, "n_still_open": int})
    out.index.name = "stage"
    return out


def pipeline_velocity(
    opportunities: pd.DataFrame,
    *,
    stage_col: str = "stage",
    value_col: str = "list_value",
    created_col: str = "created_date",
    close_col: str = "close_date",
) -> pd.Series:
    """Sales velocity: value the pipeline turns into won business per day.

    ``velocity = n_open × win_rate × mean_won_value / mean_cycle_days``, with the win rate,
    the mean value of won deals and the mean cycle (creation to close) from closed deals.

    Examples
    --------
    >>> opp = pd.DataFrame({"stage": ["won", "lost", "lead"], "list_value": [100.0, 50.0, 80.0],
    ...                     "created_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...                     "close_date": pd.to_datetime(["2024-01-11", "2024-01-31", None])})
    >>> float(pipeline_velocity(opp)["velocity_per_day"])
    2.5
    """
    opp = check_frame(opportunities, required=[stage_col, value_col, created_col, close_col],
                      dates=[created_col, close_col], numeric=[value_col], not_missing=[stage_col, value_col],
                      nonnegative=[value_col], name="opportunities")
    closed = opp[opp[stage_col].isin(["won", "lost"])]
    if closed.empty or not (closed[stage_col] == "won").any():
        raise ValueError("opportunities has no won deals; the win rate and deal value are unknown.")
    if closed[close_col].isna().any():
        raise ValueError(f"closed opportunities need a {close_col!r}; some are missing.")
    cycle = ((closed[close_col] - closed[created_col]) / pd.Timedelta(days=1)).mean()
    if not cycle > 0:
        raise ValueError("the mean sales cycle is not positive; check created and close dates.")
    won = closed[closed[stage_col] == "won"]
    n_open = int(opp[stage_col].isin(STAGES).sum())
    win_rate = len(won) / len(closed)
    mean_value = float(won[value_col].mean())
    return pd.Series({"n_open": n_open, "win_rate": win_rate, "mean_won_value": mean_value,
                      "mean_cycle_days": float(cycle),
                      "velocity_per_day": n_open * win_rate * mean_value / float(cycle)})
