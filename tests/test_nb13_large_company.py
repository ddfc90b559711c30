"""Chapter 13 ships the session table of a 50,000-customer company in summary form (simulating
it takes too long for a lesson); regenerate that company and check the shipped counts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import crmlab as crm

NB = Path(__file__).resolve().parents[1] / "notebooks" / "13_customer_journey.ipynb"


def _cell(marker: str) -> str:
    cells = json.loads(NB.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"]))


def test_shipped_session_counts_match_the_simulated_company():
    ns: dict = {"pd": pd, "crm": crm}
    exec(_cell("def browsing_sessions(").split("def cart_after_complaint")[0], ns)
    table = _cell("LARGE_COUNTS = [")
    exec(table[table.index("LARGE_COLUMNS ="):table.index("large_counts =")], ns)
    shipped = pd.DataFrame(ns["LARGE_COUNTS"], columns=[*ns["LARGE_COLUMNS"], "sessions"])
    large = crm.synth.generate(n_customers=50_000, seed=1)
    fresh = (ns["browsing_sessions"](large).value_counts(ns["LARGE_COLUMNS"]).rename("sessions").reset_index())
    key = ns["LARGE_COLUMNS"]
    pd.testing.assert_frame_equal(shipped.sort_values(key).reset_index(drop=True),
                                  fresh.sort_values(key).reset_index(drop=True), check_dtype=False)
    assert large.config.complaint_abandonment_factor == crm.synth.SimulationConfig().complaint_abandonment_factor
