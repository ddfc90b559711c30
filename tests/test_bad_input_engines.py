"""Bad input gets the same error on every engine: pandas, DuckDB and Spark, side by side.

Each malformed log is given to the front door (``crm.features.customer_summary`` and
friends) as a pandas DataFrame (pandas, DuckDB and Spark engines), as a parquet file and a
CSV file (DuckDB, Spark) and as a Spark DataFrame read from parquet. Every engine must raise
the pandas reference's exception type with the same message; the only differences allowed
are what a file cannot know (the pandas index of the first bad row) and the engine's
spelling of a dtype.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crmlab import features, lifecycle

END = "2024-01-31"
ENGINES = ["pandas", "duckdb-frame", "duckdb-parquet", "duckdb-csv", "spark-frame", "spark-parquet", "spark-csv"]


def base_log() -> pd.DataFrame:
    """A small valid log: three customers in January 2024, one purchase at 15:30 on the end day."""
    return pd.DataFrame({
        "customer_id": [1, 1, 2, 2, 3, 3],
        "date": pd.to_datetime(["2024-01-02 10:00", "2024-01-09 11:00", "2024-01-03 12:00",
                                "2024-01-20 09:00", "2024-01-05 08:00", "2024-01-31 15:30"]),
        "amount": [10.0, 20.0, 5.0, 7.5, 12.0, 30.0],
    })


def _write_parquet(df: pd.DataFrame, path) -> None:
    # through Arrow directly: pandas refuses to write duplicate column names, other tools do not
    arrays = [pa.array(df.iloc[:, i], from_pandas=True) for i in range(df.shape[1])]
    pq.write_table(pa.Table.from_arrays(arrays, names=[str(c) for c in df.columns]), path)


def source_for(engine: str, df: pd.DataFrame, tmp_path, request):
    """``(transactions, engine=)`` for one way of handing the log to the front door."""
    where, _, form = engine.partition("-")
    if where == "spark":
        spark = request.getfixturevalue("spark")          # skipped with a reason where Java is missing
    if where == "pandas" or form == "frame":
        return df, where
    path = tmp_path / f"log.{form}"
    if engine == "spark-parquet":                          # a Spark DataFrame, as a Spark user has it
        # Spark refuses to read duplicate names from a file, but a Spark DataFrame may have them
        _write_parquet(df.set_axis([f"c{i}" for i in range(df.shape[1])], axis=1), path)
        return spark.read.parquet(str(path)).toDF(*map(str, df.columns)), None
    if form == "parquet":
        _write_parquet(df, path)
    else:
        df.to_csv(path, index=False)
    return str(path), None if where == "duckdb" else where


def normalise(message: str) -> str:
    """The message without what only pandas can know (the index) or spells its own way (dtypes)."""
    message = re.sub(r" \(first at index [^)]*\)", "", message)
    message = re.sub(r"holds numbers \([^)]*\)", "holds numbers (…)", message)
    return re.sub(r"got dtype \S+", "got dtype …", message)


def outcome(call, engine, df, tmp_path, request, **kwargs):
    transactions, name = source_for(engine, df, tmp_path, request)
    try:
        result = call(transactions, engine=name, **kwargs)
    except (ValueError, TypeError) as exc:
        return type(exc), normalise(str(exc))
    return "ok", result


# ----------------------------------------------------------------------------- bad logs
def _dup(df):
    out = df.copy()
    out.insert(3, "amount_copy", out["amount"])
    return out.set_axis(["customer_id", "date", "amount", "amount"], axis=1)


BAD = {  # name -> (change to the valid log, keyword arguments, exception, key text of the message)
    "missing column": (lambda d: d, dict(amount_col="spend"), ValueError,
                       r"transactions has no column 'spend'\. Columns present: \['customer_id', 'date', 'amount'\]"),
    "duplicate column names": (_dup, {}, ValueError, r"column name 'amount' 2 times"),
    "missing id": (lambda d: d.assign(customer_id=d["customer_id"].astype("float64").where(d.index != 2)), {},
                   ValueError, r"column 'customer_id' has 1 missing value\(s\)\. Drop those rows"),
    "missing date": (lambda d: d.assign(date=d["date"].where(d.index != 2)), {},
                     ValueError, r"column 'date' has 1 missing value\(s\)"),
    "NaN amount": (lambda d: d.assign(amount=d["amount"].where(d.index != 2)), {},
                   ValueError, r"column 'amount' has 1 missing value\(s\)"),
    "inf amount": (lambda d: d.assign(amount=d["amount"].where(d.index != 2, np.inf)), {},
                   ValueError, r"column 'amount' contains infinite values"),
    "negative amount": (lambda d: d.assign(amount=d["amount"].where(d.index != 2, -4.5)), {},
                        ValueError, r"column 'amount' has 1 negative value\(s\) \(e\.g\. -4\.5\)\. Negative amounts "
                                    r"are usually refunds"),
    "event after the end day": (lambda d: pd.concat([d, d.iloc[[0]].assign(date=pd.Timestamp("2024-02-01 00:00"))],
                                                    ignore_index=True), {},
                                ValueError, r"has 1 event\(s\) in 'date' after observation_end=2024-01-31 \(its whole "
                                            r"day counts; latest 2024-02-01 00:00:00\)"),
    "empty": (lambda d: d.iloc[:0], {}, ValueError, r"transactions is empty: it has columns but no rows"),
    "dates that do not parse": (lambda d: d.assign(date=d["date"].dt.strftime("%Y-%m-%d %H:%M")
                                                   .where(d.index != 2, "31/02/2024")), {},
                                ValueError, r"column 'date' has 1 value\(s\) that are not dates, e\.g\. '31/02/2024'"),
    "amounts as text": (lambda d: d.assign(amount=d["amount"].map(lambda v: f"{v:.2f}".replace(".", ","))), {},
                        TypeError, r"column 'amount' must be numeric, got dtype …"),
    "numbers as dates": (lambda d: d.assign(date=np.arange(len(d))), {},
                         TypeError, r"column 'date' holds numbers \(…\), not dates"),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(BAD))
def test_same_error_on_every_engine(case, engine, tmp_path, request):
    change, kwargs, error, key = BAD[case]
    df = change(base_log())
    args = dict(observation_end=END, amount_col="amount") | kwargs
    reference = outcome(features.customer_summary, "pandas", df, tmp_path, request, **args)
    got = outcome(features.customer_summary, engine, df, tmp_path, request, **args)
    assert reference[0] is error and re.search(key, reference[1]), reference
    assert got == reference


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("function, kwargs", [
    (features.rfm_table, dict(observation_end=END)),
    (features.calibration_holdout, dict(cutoff="2024-01-15", observation_end=END, amount_col="amount")),
    (lifecycle.cohort_retention, {}),
])
@pytest.mark.parametrize("case", ["missing id", "negative amount", "event after the end day", "empty"])
def test_same_error_in_every_table(function, kwargs, case, engine, tmp_path, request):
    change, _, error, _ = BAD[case]
    df = change(base_log())
    reference = outcome(function, "pandas", df, tmp_path, request, **kwargs)
    got = outcome(function, engine, df, tmp_path, request, **kwargs)
    if function is lifecycle.cohort_retention and case in ("negative amount", "event after the end day"):
        assert reference[0] == "ok"                        # the cohort table reads no amounts and no end date
        pd.testing.assert_frame_equal(got[1], reference[1])
    else:
        assert reference[0] is error
        assert got == reference


@pytest.mark.parametrize("engine", ENGINES)
def test_the_end_day_is_inside_on_every_engine(engine, tmp_path, request):
    """The 15:30 purchase on observation_end's day counts, on every engine (and nothing is dropped)."""
    got = outcome(features.customer_summary, engine, base_log(), tmp_path, request, observation_end=END,
                  amount_col="amount")
    assert got[0] == "ok"
    # customer 3: days 5 and 31 -> one repeat day, recency 26, T 26, monetary 30
    assert got[1].loc[3].tolist() == [1.0, 26.0, 26.0, 30.0]
    rfm = outcome(features.rfm_table, engine, base_log(), tmp_path, request, observation_end=END)[1]
    assert rfm.loc[3].tolist() == [0, 2, 42.0]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_folder_of_mixed_file_types(engine, tmp_path, request):
    """A folder with parquet and CSV parts is refused by every engine; never half read."""
    if engine == "spark":
        request.getfixturevalue("spark")
    log = base_log()
    log.iloc[:3].to_parquet(tmp_path / "part-0.parquet", index=False)
    log.iloc[3:].to_csv(tmp_path / "part-1.csv", index=False)
    for call, kwargs in ((features.customer_summary, dict(observation_end=END)),
                         (features.rfm_table, dict(observation_end=END)),
                         (lifecycle.cohort_retention, {})):
        with pytest.raises(ValueError, match=r"mixes parquet and CSV files \(1 CSV, 1 parquet\); a log is read in "
                                             r"one format"):
            call(str(tmp_path), engine=engine, **kwargs)
