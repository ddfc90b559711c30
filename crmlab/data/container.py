"""The :class:`CRMData` container: the company's tables tied together by customer id.

It saves to a folder (CSV or parquet, plus ``meta.json``) and loads back exactly, with the
dtypes of :data:`crmlab.data.schema.TABLES`.

>>> import crmlab as crm
>>> data = crm.load_retail()
>>> list(data.tables)[:3]
['customers', 'transactions', 'order_lines']
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from crmlab.data.schema import B2B_TABLES, TABLES
from crmlab.validation import check_choice

__all__ = ["CRMData", "TABLE_NAMES", "register_config_decoder"]

TABLE_NAMES = tuple(TABLES)
_FORMATS = ("csv", "parquet")

# The simulator registers how to turn the ``config`` of ``meta.json`` back into its
# configuration object; the data layer never imports the simulator.
_CONFIG_DECODERS: list[Callable[[dict], object]] = []


def register_config_decoder(decode: Callable[[dict], object]) -> None:
    """Register a function that rebuilds a dataset's ``config`` from its saved dict."""
    if decode not in _CONFIG_DECODERS:
        _CONFIG_DECODERS.append(decode)


def _decode_config(raw: dict):
    return _CONFIG_DECODERS[-1](raw) if _CONFIG_DECODERS else raw


@dataclass(repr=False, eq=False)
class CRMData:
    """The simulated company's tables, tied together by customer id.

    Attributes
    ----------
    customers, transactions, order_lines, products, interactions, surveys, campaigns,
    touchpoints, truth : pandas.DataFrame
        The consumer (B2C) tables described in :mod:`crmlab.data.schema` (and ``datasets/README.md``).
    accounts, contacts, opportunities, opportunity_stages, activities, account_truth, opportunity_truth : pandas.DataFrame or None
        The business (B2B) tables; ``None`` in a dataset saved before they existed.
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
    accounts: pd.DataFrame | None = field(default=None)
    contacts: pd.DataFrame | None = field(default=None)
    opportunities: pd.DataFrame | None = field(default=None)
    opportunity_stages: pd.DataFrame | None = field(default=None)
    activities: pd.DataFrame | None = field(default=None)
    account_truth: pd.DataFrame | None = field(default=None)
    opportunity_truth: pd.DataFrame | None = field(default=None)

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if name == "config" and isinstance(value, dict) and _CONFIG_DECODERS:
            # decoded on first access, once the simulator has registered its decoder
            value = _decode_config(value)
            object.__setattr__(self, "config", value)
        return value

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by name, in the order of the data card (B2B tables when the dataset has them)."""
        return {name: getattr(self, name) for name in TABLE_NAMES if getattr(self, name) is not None}

    @property
    def observation_start(self) -> pd.Timestamp:
        """The first moment covered by the data (the window start, or the first signup)."""
        if self.start is not None:
            return self.start
        return pd.Timestamp(self.customers["signup_date"].min()).normalize()

    def __repr__(self) -> str:
        rows = "\n".join(f"  {name:<19}{len(df):>10,} rows" for name, df in self.tables.items())
        period = f"{self.observation_start.date()} to {self.observation_end.date()}"
        return f"CRMData({len(self.customers):,} customers, {period})\n{rows}"

    def save(self, directory: str | os.PathLike[str], format: str = "csv", *,
             progress: Callable[[float, str], object] | None = None) -> Path:
        """Write every table (and ``meta.json``) to ``directory``; :meth:`load` reads it back exactly.

        ``progress``, if given, is called as ``progress(fraction_done, table_name)`` before
        and after each table (the fraction counts rows written).
        """
        check_choice(format, _FORMATS, name="format")
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be None or a callable(fraction, stage), got {progress!r}.")
        total_rows, rows_done = max(sum(len(df) for df in self.tables.values()), 1), 0
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"Cannot create directory {str(directory)!r}: {exc.strerror}. Choose a writable path.") from exc
        for name, df in self.tables.items():
            if progress is not None:
                progress(rows_done / total_rows, name)
            if format == "csv":
                df.to_csv(directory / f"{name}.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
            else:
                df.to_parquet(directory / f"{name}.parquet", index=False)
            rows_done += len(df)
            if progress is not None:
                progress(rows_done / total_rows, name)
        meta: dict[str, Any] = {"observation_start": str(self.observation_start),
                                "observation_end": str(self.observation_end), "format": format}
        config = self.config
        if config is not None:
            meta["config"] = (asdict(config) if is_dataclass(config) and not isinstance(config, type)
                              else dict(cast(dict, config)))
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> CRMData:
        """Read a dataset written by :meth:`save` (CSV or parquet), with the schema's dtypes."""
        directory = Path(directory)
        meta_path = directory / "meta.json"
        if not meta_path.is_file():
            raise ValueError(
                f"{str(directory)!r} is not a crmlab dataset (no meta.json). "
                f"Create one with `crmlab generate --out DIR` or CRMData.save(DIR)."
            )
        return load_folder(directory, json.loads(meta_path.read_text()))


def load_folder(directory, meta: dict) -> CRMData:
    fmt = meta.get("format", "csv")
    tables = {}
    for name, columns in TABLES.items():
        path = directory / f"{name}.{fmt}"
        if name in B2B_TABLES and not path.is_file():
            continue  # saved before the B2B side existed
        if fmt == "csv":
            with path.open("rb") as fh:
                df = pd.read_csv(fh, dtype={c: "str" for c, (t, _, _) in columns.items() if t == "str"})
        else:
            with path.open("rb") as fh:
                df = pd.read_parquet(fh)
        tables[name] = _apply_schema(df, name)
    config = meta.get("config")  # decoded on access (see register_config_decoder)
    start = pd.Timestamp(meta["observation_start"]) if "observation_start" in meta else None
    return CRMData(**tables, observation_end=pd.Timestamp(meta["observation_end"]), config=config, start=start)


def _apply_schema(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Cast a table to the dtypes of :data:`crmlab.data.schema.TABLES`."""
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
