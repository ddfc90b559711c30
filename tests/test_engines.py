"""Tests for the DuckDB and Spark backends: through the front door, equal to pandas and lifetimes."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import crmlab as crm
from crmlab import engines, features, lifecycle
from crmlab.engines.cli import register
from crmlab.engines.resolve import resolve_engine
from crmlab.engines.sources import expand_paths

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

EXACT = {  # columns that are counts or whole-day times: equal to the last bit
    "customer_summary": ["frequency", "recency", "T"],
    "calibration_holdout": ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"],
    "rfm_table": ["recency_days", "n_orders"],
}


def assert_same_table(got: pd.DataFrame, ref: pd.DataFrame, function: str = "customer_summary",
                      exact_index: bool | str = True, attrs: bool = True) -> None:
    """Same index, columns, dtypes and time unit; counts and times exact; means and sums to 1e-9."""
    pd.testing.assert_index_equal(got.index, ref.index, exact=exact_index)
    pd.testing.assert_index_equal(got.columns, ref.columns)
    assert got.dtypes.to_dict() == ref.dtypes.to_dict()
    if attrs:
        assert got.attrs.get("time_unit") == ref.attrs.get("time_unit")
    exact = [c for c in EXACT.get(function, []) if c in ref]
    pd.testing.assert_frame_equal(got[exact], ref[exact], check_exact=True)
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-9, atol=1e-9)


def call(function: str, data, **kwargs) -> pd.DataFrame:
    """The front door: crm.features.<function> (cohort_retention: crm.lifecycle)."""
    module = lifecycle if function == "cohort_retention" else features
    return getattr(module, function)(data, **kwargs)


# ----------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def cdnow():
    return crm.load_cdnow()


@pytest.fixture(scope="module")
def retail():
    data = crm.load_retail()
    return data.transactions, data.observation_end


@pytest.fixture(scope="module")
def cdnow_files(cdnow, tmp_path_factory):
    """CDNOW as three parquet files (a glob, a folder, a list) and as one CSV file."""
    root = tmp_path_factory.mktemp("cdnow")
    parts = root / "parts"
    parts.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(cdnow)), 3)):
        cdnow.iloc[rows].to_parquet(parts / f"part-{i}.parquet", index=False)
    (parts / "_SUCCESS").write_text("")               # what Spark leaves in its output folders
    cdnow.to_csv(root / "cdnow.csv", index=False)
    return {"glob": str(parts / "part-*.parquet"), "dir": str(parts), "csv": str(root / "cdnow.csv"),
            "list": [str(parts / f"part-{i}.parquet") for i in range(3)]}


CASES = {  # function -> keyword arguments tried on CDNOW
    "customer_summary": [
        dict(observation_end="1998-06-30", time_unit="D", amount_col="amount"),
        dict(observation_end="1998-06-30", time_unit="W", amount_col=None),
        dict(observation_end="1998-06-30", time_unit="M", amount_col="amount"),
    ],
    "calibration_holdout": [
        dict(cutoff="1997-09-30", observation_end="1998-06-30", time_unit="W", amount_col="amount"),
        dict(cutoff="1997-12-31", observation_end="1998-06-30", time_unit="D", amount_col=None),
    ],
    "rfm_table": [dict(observation_end="1998-06-30"), dict(observation_end="1997-06-30", exclude_after=True)],
}
PAIRS = [(f, i) for f, cases in CASES.items() for i in range(len(cases))]


def _reference(function, tx, **kwargs):
    return call(function, tx, engine="pandas", **kwargs)


def _retail_kwargs(function, end):
    return {
        "customer_summary": dict(observation_end=end, time_unit="W", amount_col="amount"),
        "calibration_holdout": dict(cutoff=end - pd.Timedelta(days=180), observation_end=end, time_unit="D",
                                    amount_col="amount"),
        "rfm_table": dict(observation_end=end),
    }[function]


# ----------------------------------------------------------------------------- independent references
def test_hand_worked_summary_on_every_duckdb_input(tmp_path):
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:30", "2024-01-15 23:59",
                                "2024-01-29 00:00", "2024-01-10 12:00"]),
        "amount": [10.0, 5.0, 20.0, 40.0, 8.0],
    })
    # a: days 1, 15, 29 -> frequency 2, recency 28, T 30, monetary (20 + 40) / 2; b: one day
    expected = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [28.0, 0.0], "T": [30.0, 21.0],
                             "monetary_value": [30.0, 0.0]},
                            index=pd.Index(["a", "b"], dtype="str", name="customer_id"))
    tx.to_parquet(tmp_path / "tx.parquet", index=False)
    tx.to_csv(tmp_path / "tx.csv", index=False)
    for source in (tx, str(tmp_path / "tx.parquet"), str(tmp_path / "tx.csv")):
        got = features.customer_summary(source, amount_col="amount", observation_end="2024-01-31", engine="duckdb")
        pd.testing.assert_frame_equal(got, expected, check_index_type=False)
        assert got.attrs["time_unit"] == "D"
    weeks = features.customer_summary(tx, observation_end="2024-01-31", time_unit="W", engine="duckdb")
    assert weeks.loc["a"].tolist() == [2.0, 28 / 7, 30 / 7]
    months = features.customer_summary(tx, observation_end="2024-01-31", time_unit="M", engine="duckdb")
    np.testing.assert_allclose(months.loc["a"].tolist(), [2.0, 28 / 30.4375, 30 / 30.4375], rtol=1e-15)


@pytest.mark.parametrize("end", ["1997-09-30", "1998-06-30"])
@pytest.mark.parametrize("unit", ["D", "W"])
def test_duckdb_summary_equals_lifetimes_on_cdnow(cdnow, end, unit):
    tx = cdnow[cdnow["date"] <= end]
    got = features.customer_summary(tx, amount_col="amount", observation_end=end, time_unit=unit, engine="duckdb")
    ref = summary_data_from_transaction_data(cdnow, "customer_id", "date", monetary_value_col="amount",
                                             observation_period_end=end, freq="D",
                                             freq_multiplier=7 if unit == "W" else 1).sort_index()
    pd.testing.assert_frame_equal(got[["frequency", "recency", "T"]], ref[["frequency", "recency", "T"]],
                                  check_exact=True)
    np.testing.assert_allclose(got["monetary_value"], ref["monetary_value"], rtol=1e-9)


def test_duckdb_reproduces_published_cdnow_summary(cdnow, tmp_path):
    """Fader & Hardie's CDNOW summary (39 weeks to 1997-09-30), computed from a parquet file."""
    published = crm.load_cdnow("summary")
    cdnow[cdnow["date"] <= "1997-09-30"].to_parquet(tmp_path / "early.parquet")
    got = features.customer_summary(str(tmp_path / "early.parquet"), observation_end="1997-09-30", time_unit="W")
    pd.testing.assert_frame_equal(got.round(2), published, check_exact=False, atol=1e-9)


def test_duckdb_calibration_holdout_equals_lifetimes(cdnow):
    got = features.calibration_holdout(cdnow, cutoff="1997-09-30", observation_end="1998-06-30",
                                       time_unit="W", amount_col="amount", engine="duckdb")
    # lifetimes averages holdout spend per order, crmlab per purchase day: merge days first
    daily = cdnow.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    ref = calibration_and_holdout_data(daily, "customer_id", "date", calibration_period_end="1997-09-30",
                                       observation_period_end="1998-06-30", monetary_value_col="amount",
                                       freq="D", freq_multiplier=7)
    pd.testing.assert_frame_equal(got, ref[got.columns].sort_index(), check_exact=False, rtol=1e-9)


def test_rfm_hand_worked_on_duckdb(tmp_path):
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2], "amount": [10.0, 30.0, 5.0, 7.0],
                       "date": pd.to_datetime(["2024-01-01 10:00", "2024-03-31 22:00", "2024-02-01 09:00", "2024-04-02 08:00"])})
    tx.to_csv(tmp_path / "tx.csv", index=False)
    # up to 2024-03-31 (its whole day): customer 1 bought that evening; customer 2's April order is left out
    got = features.rfm_table(str(tmp_path / "tx.csv"), observation_end="2024-03-31", exclude_after=True)
    assert got.to_dict("index") == {1: {"recency_days": 0, "n_orders": 2, "total_spend": 40.0},
                                    2: {"recency_days": 59, "n_orders": 1, "total_spend": 5.0}}


def test_cohort_retention_hand_worked():
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
                       "date": pd.to_datetime(["2024-01-05", "2024-03-10", "2024-01-20", "2024-02-03", "2024-03-01"])})
    # January cohort {1, 2}: Feb nobody, Mar customer 1; February cohort {3}: Mar customer 3
    got = lifecycle.cohort_retention(tx, normalize=False, engine="duckdb")
    assert got.index.astype(str).tolist() == ["2024-01", "2024-02"]
    np.testing.assert_array_equal(got.to_numpy(), [[2.0, 0.0, 1.0], [1.0, 1.0, np.nan]])


# ----------------------------------------------------------------------------- DuckDB == pandas reference
@pytest.mark.parametrize("function, case", PAIRS)
@pytest.mark.parametrize("source", ["frame", "glob", "dir", "list", "csv"])
def test_duckdb_equals_pandas_on_cdnow(cdnow, cdnow_files, function, case, source):
    kwargs = CASES[function][case]
    data = cdnow if source == "frame" else cdnow_files[source]
    got = call(function, data, engine="duckdb", **kwargs)
    assert_same_table(got, _reference(function, cdnow, **kwargs), function)


@pytest.mark.parametrize("function, case", PAIRS)
def test_large_frames_aggregated_in_customer_buckets(cdnow, monkeypatch, function, case):
    """A large pandas frame is aggregated bucket by bucket of customers: the same table."""
    from crmlab.engines import backend

    monkeypatch.setattr(backend, "_ROWS_PER_BUCKET", 1000)      # CDNOW's 6,919 rows -> 7 buckets
    kwargs = CASES[function][case]
    assert_same_table(call(function, cdnow, engine="duckdb", **kwargs), _reference(function, cdnow, **kwargs),
                      function)
    names = cdnow.assign(customer_id="c" + cdnow["customer_id"].astype(str))     # string ids sort as text
    assert_same_table(call(function, names, engine="duckdb", **kwargs), _reference(function, names, **kwargs),
                      function)


@pytest.mark.parametrize("function", list(CASES))
def test_duckdb_equals_pandas_on_retail(retail, function):
    tx, end = retail
    kwargs = _retail_kwargs(function, end)
    got = call(function, tx, engine="duckdb", **kwargs)
    assert_same_table(got, _reference(function, tx, **kwargs), function)


@pytest.mark.parametrize("period", ["M", "W", "Q"])
@pytest.mark.parametrize("normalize", [True, False])
def test_duckdb_cohort_retention_equals_pandas(cdnow, retail, period, normalize):
    for tx in (cdnow, retail[0]):
        got = lifecycle.cohort_retention(tx, period=period, normalize=normalize, engine="duckdb")
        ref = lifecycle.cohort_retention(tx, period=period, normalize=normalize, engine="pandas")
        pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_string_dates_time_zones_and_custom_columns(cdnow):
    tx = cdnow.rename(columns={"customer_id": "cid", "date": "when", "amount": "spend"})
    kwargs = dict(customer_col="cid", date_col="when", amount_col="spend", observation_end="1998-06-30")
    ref = features.customer_summary(tx, **kwargs)
    as_text = tx.assign(when=tx["when"].dt.strftime("%Y-%m-%d"))
    # a time zone is dropped keeping the wall clock, as pandas does: 23:30 in Shanghai stays on its day
    zoned = tx.assign(when=(tx["when"] + pd.Timedelta(hours=23, minutes=30)).dt.tz_localize("Asia/Shanghai"))
    for data in (as_text, zoned):
        got = features.customer_summary(data, engine="duckdb", **kwargs)
        assert_same_table(got, features.customer_summary(data, **kwargs))
        assert_same_table(got, ref)
        assert got.index.name == "cid"


def test_configured_connection_and_memory_limit(cdnow, tmp_path):
    con = engines.connect_duckdb(memory_limit="256MB", threads=1, temp_directory=tmp_path)
    settings_ = con.raw_sql("SELECT current_setting('memory_limit'), current_setting('threads')").fetchall()[0]
    assert settings_[1] == 1 and settings_[0].startswith("2")
    kwargs = dict(observation_end="1998-06-30", amount_col="amount")
    got = features.customer_summary(cdnow, engine=con, **kwargs)
    assert_same_table(got, features.customer_summary(cdnow, **kwargs))
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        engines.connect_duckdb(threads=0)


def test_inputs_are_not_modified(cdnow):
    tx = cdnow.copy()
    for function, cases in CASES.items():
        call(function, tx, engine="duckdb", **cases[0])
    lifecycle.cohort_retention(tx, engine="duckdb")
    pd.testing.assert_frame_equal(tx, cdnow)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 60 * 24 * 40), st.floats(0, 500, allow_nan=False)),
                min_size=1, max_size=40))
def test_duckdb_equals_pandas_on_random_logs(rows):
    customers, minutes, amounts = zip(*rows)
    tx = pd.DataFrame({"customer_id": customers,
                       "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min"),
                       "amount": amounts})
    kwargs = dict(observation_end="2024-02-15", amount_col="amount")
    assert_same_table(features.customer_summary(tx, engine="duckdb", **kwargs), features.customer_summary(tx, **kwargs))
    rfm = dict(observation_end="2024-01-20", exclude_after=True)
    if (tx["date"] < "2024-01-21").any():
        assert_same_table(features.rfm_table(tx, engine="duckdb", **rfm), features.rfm_table(tx, **rfm), "rfm_table")
        ch = dict(cutoff="2024-01-20", observation_end="2024-02-15", amount_col="amount")
        assert_same_table(features.calibration_holdout(tx, engine="duckdb", **ch),
                          features.calibration_holdout(tx, **ch), "calibration_holdout")


# ----------------------------------------------------------------------------- the front door
def test_one_engine_rule(cdnow, cdnow_files):
    """Explicit engine wins; otherwise a DataFrame -> pandas, paths -> DuckDB."""
    assert resolve_engine(cdnow, None) == "pandas"
    for paths in (cdnow_files["glob"], cdnow_files["dir"], cdnow_files["list"], Path(cdnow_files["csv"])):
        assert resolve_engine(paths, None) == "duckdb"
    assert resolve_engine(cdnow, "duckdb") == "duckdb" and resolve_engine(cdnow, "spark") == "spark"
    con = engines.connect_duckdb()
    assert resolve_engine(cdnow_files["glob"], con) is con
    with pytest.raises(TypeError, match="engine='pandas' needs a pandas DataFrame"):
        resolve_engine(cdnow_files["glob"], "pandas")
    with pytest.raises(ValueError, match=r"engine='polars' is not allowed"):
        resolve_engine(cdnow, "polars")
    with pytest.raises(TypeError, match=r"must be a pandas DataFrame, a parquet/CSV path"):
        resolve_engine({"customer_id": [1]}, None)
    # features follows the same rule: a path runs on DuckDB with the reference's result
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(features.customer_summary(cdnow_files["glob"], observation_end="1998-06-30",
                                                amount_col="amount"), ref)


def test_engines_never_import_features():
    """The backends sit below features: no module of crmlab.engines imports it (directly or via importlib)."""
    folder = Path(engines.__file__).parent
    for path in folder.glob("*.py"):
        if path.name == "cli.py":          # the command line sits above features
            continue
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m.startswith(("crmlab.features", "crmlab.lifecycle")) for m in imported), path.name
        assert "importlib" not in imported, path.name


def test_importing_features_loads_no_engine():
    code = "import sys, crmlab.features; print(sorted(m for m in ('ibis', 'duckdb', 'pyspark') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_files_one_format_per_log(cdnow, tmp_path):
    (tmp_path / "a.parquet").write_bytes(b"")
    (tmp_path / "b.csv").write_text("customer_id,date\n")
    with pytest.raises(ValueError, match=r"mixes parquet and CSV files \(1 CSV, 1 parquet\)"):
        expand_paths(str(tmp_path))
    with pytest.raises(ValueError, match=r"mixes parquet and CSV files"):
        expand_paths([str(tmp_path / "a.parquet"), str(tmp_path / "b.csv")])
    with pytest.raises(ValueError, match=r"mixes parquet and CSV files"):
        expand_paths(str(tmp_path / "*"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"holds no \.parquet or \.csv file"):
        features.customer_summary(str(empty), observation_end="1998-06-30")
    with pytest.raises(FileNotFoundError, match=r"No file matches .*nothing-\*\.parquet"):
        features.customer_summary(str(tmp_path / "nothing-*.parquet"), observation_end="2024-01-31")
    with pytest.raises(ValueError, match="Cannot tell the format"):
        features.customer_summary("tests/conftest.py", observation_end="1998-06-30")


def test_read_log_and_the_pandas_reference_of_files(cdnow, cdnow_files):
    for source in ("glob", "dir", "list", "csv"):
        log = engines.read_log(cdnow_files[source])
        assert len(log) == len(cdnow)
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(features.customer_summary(engines.read_log(cdnow_files["dir"]), observation_end="1998-06-30",
                                                amount_col="amount", engine="pandas"), ref)


def test_run_refuses_pandas_and_unknown_tables(cdnow):
    from crmlab.engines import backend

    with pytest.raises(ValueError, match="reference computed by crmlab.features"):
        backend.run("customer_summary", cdnow, engine="pandas")
    with pytest.raises(ValueError, match="kind='persona' is not allowed"):
        backend.run("persona", cdnow, engine="duckdb")


# ----------------------------------------------------------------------------- summaries written to files
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_summarize_writes_the_reference_table(cdnow, cdnow_files, tmp_path, kind):
    out = tmp_path / f"summary.{kind}"
    info = engines.summarize(cdnow_files["glob"], out, observation_end="1998-06-30", time_unit="W")
    assert info["rows"] == len(cdnow) and info["customers"] == cdnow["customer_id"].nunique()
    assert info["engine"] == "duckdb"
    got = pd.read_parquet(out) if kind == "parquet" else pd.read_csv(out)
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", time_unit="W", amount_col="amount")
    assert_same_table(got.set_index("customer_id"), ref, exact_index="equiv", attrs=False)


def test_summarize_errors(cdnow, cdnow_files, tmp_path):
    with pytest.raises(ValueError, match="streams a log through DuckDB or Spark"):
        engines.summarize(cdnow, tmp_path / "s.parquet", observation_end="1998-06-30")
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        engines.summarize(cdnow_files["glob"], tmp_path / "no" / "s.parquet", observation_end="1998-06-30")
    with pytest.raises(ValueError, match="after observation_end=1997-09-30"):
        engines.summarize(cdnow_files["glob"], tmp_path / "s.parquet", observation_end="1997-09-30")
    assert not (tmp_path / "s.parquet").exists()


# ----------------------------------------------------------------------------- Spark
@pytest.fixture(scope="module")
def spark_frames(spark, cdnow, retail, cdnow_files):
    """Spark DataFrames as a Spark user has them: read from parquet, or converted from pandas."""
    return {"cdnow": spark.read.parquet(cdnow_files["glob"]),
            "retail": spark.createDataFrame(retail[0][["customer_id", "date", "amount"]])}


@pytest.mark.parametrize("function", list(CASES))
def test_spark_equals_pandas_on_cdnow(spark_frames, cdnow, function):
    for kwargs in CASES[function]:
        got = call(function, spark_frames["cdnow"], **kwargs)   # a Spark frame -> Spark, by the one rule
        assert_same_table(got, _reference(function, cdnow, **kwargs), function)


@pytest.mark.parametrize("function", list(CASES))
def test_spark_equals_pandas_on_retail(spark_frames, retail, function):
    tx, end = retail
    kwargs = _retail_kwargs(function, end)
    got = call(function, spark_frames["retail"], **kwargs)
    assert_same_table(got, _reference(function, tx, **kwargs), function)


def test_spark_cohort_retention_equals_pandas(spark_frames, cdnow, retail):
    for name, tx in (("cdnow", cdnow), ("retail", retail[0])):
        for period in ("M", "W"):
            got = lifecycle.cohort_retention(spark_frames[name], period=period)
            ref = lifecycle.cohort_retention(tx, period=period, engine="pandas")
            pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_spark_from_pandas_keeps_calendar_days_in_any_session_time_zone(spark):
    """Late-evening purchases stay on their own day whatever the session time zone."""
    tx = pd.DataFrame({"customer_id": [1, 1, 1], "amount": [1.0, 2.0, 4.0],
                       "date": pd.to_datetime(["2024-03-01 23:30:00", "2024-03-02 00:10:00", "2024-03-02 23:59:59"])})
    ref = features.customer_summary(tx, observation_end="2024-03-10", amount_col="amount")
    previous = spark.conf.get("spark.sql.session.timeZone")
    try:
        for zone in ("UTC", "Asia/Shanghai", "America/Los_Angeles"):
            spark.conf.set("spark.sql.session.timeZone", zone)
            got = features.customer_summary(tx, observation_end="2024-03-10", amount_col="amount", engine="spark")
            assert_same_table(got, ref)
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)
    assert ref["frequency"].tolist() == [1.0]


def test_spark_reads_files(spark, cdnow, cdnow_files, tmp_path):
    kwargs = dict(observation_end="1998-06-30", amount_col="amount")
    ref = features.customer_summary(cdnow, **kwargs)
    for source in ("csv", "dir"):
        assert_same_table(features.customer_summary(cdnow_files[source], engine="spark", **kwargs), ref)
    with pytest.raises(TypeError, match=r"engine='duckdb' cannot read a Spark DataFrame"):
        features.customer_summary(spark.read.parquet(cdnow_files["glob"]), engine="duckdb", **kwargs)
    info = engines.summarize(cdnow_files["glob"], tmp_path / "s.parquet", engine="spark", **kwargs)
    assert info["engine"] == "spark" and info["rows"] == len(cdnow)
    assert_same_table(pd.read_parquet(tmp_path / "s.parquet").set_index("customer_id"), ref, exact_index="equiv",
                      attrs=False)


# ----------------------------------------------------------------------------- command line
@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root():  # keep `summarize` a named subcommand
        pass

    return app


def test_cli_summarize_parquet_to_csv(cli, cdnow, cdnow_files, tmp_path):
    out = tmp_path / "summary.csv"
    result = CliRunner().invoke(cli, ["summarize", cdnow_files["glob"], "--out", str(out), "--observation-end",
                                      "1998-06-30", "--time-unit", "W"])
    assert result.exit_code == 0, result.output
    assert "6,919 transactions" in result.output and "2,357 customers" in result.output
    got = pd.read_csv(out, index_col="customer_id")
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", time_unit="W", amount_col="amount")
    assert_same_table(got, ref, exact_index="equiv", attrs=False)


def test_cli_summarize_csv_to_parquet(cli, cdnow, cdnow_files, tmp_path):
    out = tmp_path / "summary.parquet"
    result = CliRunner().invoke(cli, ["summarize", cdnow_files["csv"], "-o", str(out), "--engine", "duckdb",
                                      "--observation-end", "1998-06-30"])
    assert result.exit_code == 0, result.output
    assert "with duckdb in" in result.output
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(pd.read_parquet(out).set_index("customer_id"), ref, exact_index="equiv", attrs=False)


def test_cli_summarize_on_spark(spark, cli, cdnow, cdnow_files, tmp_path):
    out = tmp_path / "summary.parquet"
    result = CliRunner().invoke(cli, ["summarize", cdnow_files["glob"], "-o", str(out), "--engine", "spark",
                                      "--observation-end", "1998-06-30"])
    assert result.exit_code == 0, result.output
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(pd.read_parquet(out).set_index("customer_id"), ref, exact_index="equiv", attrs=False)


@pytest.mark.parametrize("args, message", [
    (["missing/*.parquet", "--observation-end", "1998-06-30"], "No file matches 'missing/*.parquet'"),
    (["{glob}", "--observation-end", "1998-06-30", "--amount-col", "spend"], "no column 'spend'"),
    (["{glob}", "--observation-end", "1997-01-15"], "after observation_end=1997-01-15"),
    (["{glob}", "--observation-end", "yesterday-ish"], "is not a date"),
])
def test_cli_errors_are_one_line(cli, cdnow_files, tmp_path, args, message):
    args = [a.format(**cdnow_files) for a in args]
    result = CliRunner().invoke(cli, ["summarize", args[0], "--out", str(tmp_path / "s.parquet"), *args[1:]])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
