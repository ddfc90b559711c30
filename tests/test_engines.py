"""Tests for crmlab.engines: DuckDB and Spark equal the pandas reference and lifetimes."""

from __future__ import annotations

import warnings

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

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

EXACT = {  # columns that are counts or whole-day times: equal to the last bit
    "customer_summary": ["frequency", "recency", "T"],
    "calibration_holdout": ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"],
    "rfm_table": ["recency_days", "frequency"],
}


def assert_same_table(got: pd.DataFrame, ref: pd.DataFrame, function: str = "customer_summary",
                      exact_index: bool | str = True) -> None:
    """Same index, columns and dtypes; counts and times exact; means and sums to 1e-9."""
    pd.testing.assert_index_equal(got.index, ref.index, exact=exact_index)
    pd.testing.assert_index_equal(got.columns, ref.columns)
    assert got.dtypes.to_dict() == ref.dtypes.to_dict()
    exact = [c for c in EXACT.get(function, []) if c in ref]
    pd.testing.assert_frame_equal(got[exact], ref[exact], check_exact=True)
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-9, atol=1e-9)


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
    """CDNOW as three parquet files (a glob) and as one CSV file."""
    root = tmp_path_factory.mktemp("cdnow")
    for i, part in enumerate(np.array_split(np.arange(len(cdnow)), 3)):
        cdnow.iloc[part].to_parquet(root / f"part-{i}.parquet", index=False)
    cdnow.to_csv(root / "cdnow.csv", index=False)
    return {"glob": str(root / "part-*.parquet"), "dir": str(root), "csv": str(root / "cdnow.csv")}


CASES = {  # function -> keyword arguments tried on CDNOW
    "customer_summary": [
        dict(observation_end="1998-06-30", time_unit="D", amount_col="amount"),
        dict(observation_end="1998-06-30", time_unit="W", amount_col=None),
    ],
    "calibration_holdout": [
        dict(calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W", amount_col="amount"),
        dict(calibration_end="1997-12-31", observation_end="1998-06-30", time_unit="D", amount_col=None),
    ],
    "rfm_table": [dict(as_of="1998-06-30"), dict(as_of="1997-06-30", exclude_after=True)],
}


def _reference(function, tx, **kwargs):
    return getattr(features, function)(tx, engine="pandas", **kwargs)


def _retail_kwargs(function, end):
    cal = end - pd.Timedelta(days=180)
    return {
        "customer_summary": dict(observation_end=end, time_unit="W", amount_col="amount"),
        "calibration_holdout": dict(calibration_end=cal, observation_end=end, time_unit="D", amount_col="amount"),
        "rfm_table": dict(as_of=end),
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
        got = engines.customer_summary(source, amount_col="amount", observation_end="2024-01-31")
        pd.testing.assert_frame_equal(got, expected, check_index_type=False)
    weeks = engines.customer_summary(tx, observation_end="2024-01-31", time_unit="W")
    assert weeks.loc["a"].tolist() == [2.0, 28 / 7, 30 / 7]


@pytest.mark.parametrize("end", ["1997-09-30", "1998-06-30"])
@pytest.mark.parametrize("unit", ["D", "W"])
def test_duckdb_summary_equals_lifetimes_on_cdnow(cdnow, end, unit):
    tx = cdnow[cdnow["date"] <= end]
    got = engines.customer_summary(tx, amount_col="amount", observation_end=end, time_unit=unit)
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
    got = engines.customer_summary(str(tmp_path / "early.parquet"), observation_end="1997-09-30", time_unit="W")
    pd.testing.assert_frame_equal(got.round(2), published, check_exact=False, atol=1e-9)


def test_duckdb_calibration_holdout_equals_lifetimes(cdnow):
    got = engines.calibration_holdout(cdnow, calibration_end="1997-09-30", observation_end="1998-06-30",
                                      time_unit="W", amount_col="amount")
    # lifetimes averages holdout spend per order, crmlab per purchase day: merge days first
    daily = cdnow.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    ref = calibration_and_holdout_data(daily, "customer_id", "date", calibration_period_end="1997-09-30",
                                       observation_period_end="1998-06-30", monetary_value_col="amount",
                                       freq="D", freq_multiplier=7)
    pd.testing.assert_frame_equal(got, ref[got.columns].sort_index(), check_exact=False, rtol=1e-9)


def test_cohort_retention_hand_worked():
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
                       "date": pd.to_datetime(["2024-01-05", "2024-03-10", "2024-01-20", "2024-02-03", "2024-03-01"])})
    # January cohort {1, 2}: Feb nobody, Mar customer 1; February cohort {3}: Mar customer 3
    got = engines.cohort_retention(tx, normalize=False)
    assert got.index.astype(str).tolist() == ["2024-01", "2024-02"]
    np.testing.assert_array_equal(got.to_numpy(), [[2.0, 0.0, 1.0], [1.0, 1.0, np.nan]])


# ----------------------------------------------------------------------------- DuckDB == pandas reference
@pytest.mark.parametrize("function", list(CASES))
@pytest.mark.parametrize("case", [0, 1])
@pytest.mark.parametrize("source", ["frame", "glob", "dir", "csv"])
def test_duckdb_equals_pandas_on_cdnow(cdnow, cdnow_files, function, case, source):
    kwargs = CASES[function][case]
    data = cdnow if source == "frame" else cdnow_files[source]
    got = getattr(engines, function)(data, engine="duckdb", **kwargs)
    assert_same_table(got, _reference(function, cdnow, **kwargs), function)


@pytest.mark.parametrize("function", list(CASES))
def test_duckdb_equals_pandas_on_retail(retail, function):
    tx, end = retail
    kwargs = _retail_kwargs(function, end)
    got = getattr(engines, function)(tx, engine="duckdb", **kwargs)
    assert_same_table(got, _reference(function, tx, **kwargs), function)


@pytest.mark.parametrize("period", ["M", "W", "Q"])
@pytest.mark.parametrize("normalize", [True, False])
def test_duckdb_cohort_retention_equals_pandas(cdnow, retail, period, normalize):
    for tx in (cdnow, retail[0]):
        got = engines.cohort_retention(tx, period=period, normalize=normalize)
        ref = lifecycle.cohort_retention(tx, period=period, normalize=normalize, engine="pandas")
        pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_features_dispatch_to_engines(cdnow, cdnow_files):
    """The pandas API takes engine= and picks DuckDB for paths, with the same result."""
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount",
                                                engine="duckdb"), ref)
    assert_same_table(features.customer_summary(cdnow_files["glob"], observation_end="1998-06-30",
                                                amount_col="amount"), ref)
    assert_same_table(engines.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount",
                                               engine="pandas"), ref)


def test_string_dates_and_custom_columns(cdnow):
    tx = cdnow.rename(columns={"customer_id": "cid", "date": "when", "amount": "spend"})
    tx = tx.assign(when=tx["when"].dt.strftime("%Y-%m-%d"))
    kwargs = dict(customer_col="cid", date_col="when", amount_col="spend", observation_end="1998-06-30")
    got = engines.customer_summary(tx, **kwargs)
    assert_same_table(got, features.customer_summary(tx, **kwargs))
    assert got.index.name == "cid"


def test_configured_connection_and_memory_limit(cdnow, tmp_path):
    con = engines.connect_duckdb(memory_limit="256MB", threads=1, temp_directory=tmp_path)
    settings_ = con.raw_sql("SELECT current_setting('memory_limit'), current_setting('threads')").fetchall()[0]
    assert settings_[1] == 1 and settings_[0].startswith("2")
    got = engines.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount", engine=con)
    assert_same_table(got, features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount"))


def test_inputs_are_not_modified(cdnow):
    tx = cdnow.copy()
    engines.customer_summary(tx, observation_end="1998-06-30", amount_col="amount")
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
    assert_same_table(engines.customer_summary(tx, **kwargs), features.customer_summary(tx, **kwargs))
    ch = dict(calibration_end="2024-01-20", observation_end="2024-02-15", amount_col="amount")
    if (tx["date"] < "2024-01-21").any():
        assert_same_table(engines.calibration_holdout(tx, **ch), features.calibration_holdout(tx, **ch),
                          "calibration_holdout")


# ----------------------------------------------------------------------------- errors
def test_error_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No file matches .*nothing-\*\.parquet"):
        engines.customer_summary(str(tmp_path / "nothing-*.parquet"), observation_end="2024-01-31")


def test_error_missing_column_lists_columns(cdnow, cdnow_files):
    for source in (cdnow, cdnow_files["glob"]):
        with pytest.raises(ValueError, match=r"no column 'spend'.*Columns present: \['customer_id'"):
            engines.customer_summary(source, amount_col="spend", observation_end="1998-06-30")


@pytest.mark.parametrize("change, error, match", [
    (lambda tx: tx.assign(amount=tx["amount"].where(tx.index != 3, -1.0)), ValueError, r"'amount' has 1 negative"),
    (lambda tx: tx.assign(amount=tx["amount"].where(tx.index != 3)), ValueError, r"'amount' has 1 missing"),
    (lambda tx: tx.assign(date=tx["date"].where(tx.index != 3)), ValueError, r"'date' has 1 missing"),
    (lambda tx: tx.assign(amount=tx["amount"].astype(str)), TypeError, r"'amount' must be numeric"),
    (lambda tx: tx.assign(date=tx["customer_id"]), TypeError, r"'date' holds"),
    (lambda tx: tx.iloc[:0], ValueError, r"empty"),
])
def test_errors_match_the_reference(cdnow, change, error, match):
    tx = change(cdnow)
    with pytest.raises(error, match=match):
        features.customer_summary(tx, observation_end="1998-06-30", amount_col="amount")
    with pytest.raises(error, match=match):
        engines.customer_summary(tx, observation_end="1998-06-30", amount_col="amount", engine="duckdb")


def test_error_events_after_observation_end(cdnow_files):
    with pytest.raises(ValueError, match=r"after observation_end=1997-09-30 \(latest 1998-06-30"):
        engines.customer_summary(cdnow_files["glob"], observation_end="1997-09-30")
    with pytest.raises(ValueError, match=r"after as_of=1997-06-30"):
        engines.rfm_table(cdnow_files["csv"], as_of="1997-06-30")


def test_error_dates_that_do_not_parse_in_a_csv(cdnow, tmp_path):
    tx = cdnow.astype({"date": "str"})
    tx.loc[5, "date"] = "31/02/1997"
    tx.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"'date' has 1 value\(s\) that are not dates"):
        engines.customer_summary(str(tmp_path / "bad.csv"), observation_end="1998-06-30")


def test_error_no_orders_before_as_of(cdnow):
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match=r"no orders on or before as_of=1990-01-01"):
            engines.rfm_table(cdnow, as_of="1990-01-01", exclude_after=True, engine=engine)


def test_error_bad_arguments(cdnow):
    with pytest.raises(ValueError, match=r"engine='polars' is not allowed"):
        engines.customer_summary(cdnow, observation_end="1998-06-30", engine="polars")
    with pytest.raises(ValueError, match=r"time_unit='M' is not allowed"):
        engines.customer_summary(cdnow, observation_end="1998-06-30", time_unit="M")
    with pytest.raises(ValueError, match=r"calibration_end=1998-06-30 must fall on a day before"):
        engines.calibration_holdout(cdnow, calibration_end="1998-06-30", observation_end="1998-06-30")
    with pytest.raises(ValueError, match=r"no purchases on or before calibration_end=1990-01-01"):
        engines.calibration_holdout(cdnow, calibration_end="1990-01-01", observation_end="1998-06-30")
    for engine in (None, "duckdb"):
        with pytest.raises(TypeError, match=r"must be a pandas DataFrame, a parquet/CSV path"):
            engines.customer_summary({"customer_id": [1]}, observation_end="1998-06-30", engine=engine)
    with pytest.raises(ValueError, match=r"Cannot tell the format"):
        engines.customer_summary("tests/conftest.py", observation_end="1998-06-30")


# ----------------------------------------------------------------------------- Spark
@pytest.fixture(scope="module")
def spark_frames(spark, cdnow, retail, cdnow_files):
    """Spark DataFrames as a Spark user has them: read from parquet, or converted from pandas."""
    return {"cdnow": spark.read.parquet(cdnow_files["glob"]),
            "retail": spark.createDataFrame(retail[0][["customer_id", "date", "amount"]])}


@pytest.mark.parametrize("function", list(CASES))
def test_spark_equals_pandas_on_cdnow(spark_frames, cdnow, function):
    for kwargs in CASES[function]:
        got = getattr(engines, function)(spark_frames["cdnow"], **kwargs)   # Spark frame -> Spark
        assert_same_table(got, _reference(function, cdnow, **kwargs), function)


@pytest.mark.parametrize("function", list(CASES))
def test_spark_equals_pandas_on_retail(spark_frames, retail, function):
    tx, end = retail
    kwargs = _retail_kwargs(function, end)
    got = getattr(features, function)(spark_frames["retail"], **kwargs)     # dispatch through features
    assert_same_table(got, _reference(function, tx, **kwargs), function)


def test_spark_cohort_retention_equals_pandas(spark_frames, cdnow, retail):
    for name, tx in (("cdnow", cdnow), ("retail", retail[0])):
        for period in ("M", "W"):
            got = engines.cohort_retention(spark_frames[name], period=period)
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
            got = engines.customer_summary(tx, observation_end="2024-03-10", amount_col="amount", engine="spark")
            assert_same_table(got, ref)
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)
    assert ref["frequency"].tolist() == [1.0]


def test_spark_reads_files_and_checks_columns(spark, cdnow, cdnow_files):
    kwargs = dict(observation_end="1998-06-30", amount_col="amount")
    got = engines.customer_summary(cdnow_files["csv"], engine="spark", **kwargs)
    assert_same_table(got, features.customer_summary(cdnow, **kwargs))
    with pytest.raises(ValueError, match=r"no column 'spend'"):
        engines.customer_summary(cdnow_files["glob"], engine="spark", observation_end="1998-06-30",
                                 amount_col="spend")
    with pytest.raises(TypeError, match=r"engine='duckdb' cannot read a Spark DataFrame"):
        engines.customer_summary(spark.read.parquet(cdnow_files["glob"]), engine="duckdb", **kwargs)


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
    assert_same_table(got, ref, exact_index="equiv")


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_cli_summarize_csv_to_parquet(cli, cdnow, cdnow_files, tmp_path, engine):
    out = tmp_path / "summary.parquet"
    result = CliRunner().invoke(cli, ["summarize", cdnow_files["csv"], "-o", str(out), "--engine", engine,
                                      "--observation-end", "1998-06-30"])
    assert result.exit_code == 0, result.output
    assert f"with {engine} in" in result.output
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(pd.read_parquet(out).set_index("customer_id"), ref, exact_index="equiv")


def test_cli_summarize_on_spark(spark, cli, cdnow, cdnow_files, tmp_path):
    out = tmp_path / "summary.parquet"
    result = CliRunner().invoke(cli, ["summarize", cdnow_files["glob"], "-o", str(out), "--engine", "spark",
                                      "--observation-end", "1998-06-30"])
    assert result.exit_code == 0, result.output
    ref = features.customer_summary(cdnow, observation_end="1998-06-30", amount_col="amount")
    assert_same_table(pd.read_parquet(out).set_index("customer_id"), ref, exact_index="equiv")


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
