"""The `crmlab` command line: version and help, exit codes (1 data/runtime, 2 usage),
choices as enumerations, --force, progress over every stage, no third-party warnings,
and a cheap import (no pandas/duckdb behind `crmlab --help`)."""

import json
import os
import shutil
import subprocess
import sys
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

import crmlab as crm
from crmlab import cli
from crmlab.cli import app

runner = CliRunner()
COMMANDS = ["generate", "describe", "summarize", "release", "grade"]


def _run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "crmlab", *args], capture_output=True, text=True, **kwargs)


def _assert_one_line_error(stderr):
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr


# ----------------------------------------------------------------------------- the commands
def test_generate_and_describe(tmp_path):
    out = tmp_path / "company"
    res = runner.invoke(app, ["generate", "--customers", "300", "--seed", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "300 customers" in res.output and "(csv)" in res.output
    data = crm.CRMData.load(out)
    expected = crm.synth.generate(n_customers=300, seed=4)
    assert data.transactions.equals(expected.transactions)
    res = runner.invoke(app, ["describe", str(out)])
    assert res.exit_code == 0 and "CRMData(300 customers" in res.output


def test_generate_parquet(tmp_path):
    res = runner.invoke(app, ["generate", "-n", "100", "--out", str(tmp_path), "--format", "parquet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "transactions.parquet").is_file() and not (tmp_path / "transactions.csv").exists()


def test_large_company_defaults_to_parquet_and_warns_on_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "LARGE_COMPANY", 150)  # the rule, without generating 100,000 customers
    res = runner.invoke(app, ["generate", "-n", "200", "-o", str(tmp_path / "auto")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "auto" / "customers.parquet").is_file() and "(parquet)" in res.output
    res = runner.invoke(app, ["generate", "-n", "200", "-o", str(tmp_path / "csv"), "--format", "csv"])
    assert res.exit_code == 0
    assert "Warning: CSV for 200 customers is slow" in res.output and "--format parquet" in res.output
    assert (tmp_path / "csv" / "customers.csv").is_file()
    res = runner.invoke(app, ["generate", "-n", "100", "-o", str(tmp_path / "small")])
    assert "Warning" not in res.output and (tmp_path / "small" / "customers.csv").is_file()


# ----------------------------------------------------------------------------- --force
def test_non_empty_folder_is_refused_without_force(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    res = _run("generate", "-n", "50", "-o", str(tmp_path))
    assert res.returncode == 1
    _assert_one_line_error(res.stderr)
    assert "is not empty" in res.stderr and "--force" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_force_replaces_the_dataset_without_mixing_formats(tmp_path):
    out = tmp_path / "company"
    assert runner.invoke(app, ["generate", "-n", "80", "-o", str(out), "--format", "csv"]).exit_code == 0
    (out / "notes.txt").write_text("keep me")
    res = runner.invoke(app, ["generate", "-n", "120", "--seed", "3", "-o", str(out), "--format", "parquet", "--force"])
    assert res.exit_code == 0, res.output
    assert not list(out.glob("*.csv")), "stale CSV tables left next to the parquet ones"
    assert sorted(p.stem for p in out.glob("*.parquet")) == sorted(crm.data.TABLE_NAMES)
    assert (out / "notes.txt").read_text() == "keep me"
    data = crm.CRMData.load(out)
    assert data.customers.equals(crm.synth.generate(n_customers=120, seed=3).customers)


# ----------------------------------------------------------------------------- version and help
def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"crmlab {crm.__version__}"


def test_python_dash_m_crmlab():
    res = _run("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"crmlab {crm.__version__}"
    res = _run("-h")
    assert res.returncode == 0 and "Usage: python -m crmlab" in res.stdout
    assert all(c in res.stdout for c in COMMANDS)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_short_and_long_help(command):
    args = [command] if command else []
    short, long = runner.invoke(app, [*args, "-h"]), runner.invoke(app, [*args, "--help"])
    assert short.exit_code == long.exit_code == 0, short.output
    assert short.output == long.output
    assert f"Usage: crmlab {command or ''}".strip() in short.output
    assert "-h, --help" in short.output


def test_help_keeps_bracketed_text():
    # markup must not swallow "[default: …]" (nor the defaults grade documents in brackets)
    res = runner.invoke(app, ["generate", "-h"])
    assert "[default: 5000; x>=1]" in " ".join(res.output.split())
    res = runner.invoke(app, ["grade", "-h"])
    assert "default: feedback/ next to --out" in " ".join(res.output.split())


def test_help_listing_matches_the_lazy_commands():
    # `crmlab -h` shows LAZY_COMMANDS' one-liners without importing the modules; they must
    # say what the commands themselves say
    for name in cli.LAZY_COMMANDS:
        res = runner.invoke(app, [name, "-h"])
        assert res.exit_code == 0
        assert " ".join(cli.LAZY_COMMANDS[name][1].split()) in " ".join(res.output.split()), name


# ----------------------------------------------------------------------------- exit codes
@pytest.mark.parametrize("args, needle", [
    (["generate", "-n", "-5", "-o", "{tmp}/a"], "--customers"),
    (["generate", "-o", "{tmp}/a", "--format", "xlsx"], "'xlsx' is not one of 'auto', 'csv', 'parquet'"),
    (["generate", "-o", "{tmp}/a", "--start", "yesterday"], "--start"),
    (["generate", "-o", "{tmp}/a", "--start", "2024-06-01", "--end", "2024-01-01"], "must be after --start"),
    (["generate", "-o", "{tmp}/file.txt"], "is a file"),
    (["generate", "-n", "10"], "Missing option '--out'"),
    (["generate", "-o", "{tmp}/a", "--frobnicate"], "No such option"),
    (["describe", "{tmp}/missing"], "does not exist"),
    (["summarize", "{tmp}/log.csv", "-o", "{tmp}/s.parquet", "--observation-end", "1998-06-30", "--engine", "polars"],
     "'polars' is not one of 'pandas', 'duckdb', 'spark'"),
    (["summarize", "{tmp}/log.csv", "-o", "{tmp}/s.parquet", "--observation-end", "1998-06-30", "--time-unit", "M"],
     "'M' is not one of 'D', 'W'"),
    (["frobnicate"], "No such command"),
])
def test_usage_errors_exit_2(tmp_path, args, needle):
    (tmp_path / "file.txt").write_text("x")
    res = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert res.exit_code == 2, (args, res.output)
    assert needle in res.stderr, (args, res.stderr)
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "a").exists()


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    crm.load_cdnow().to_csv(path, index=False)
    return path


@pytest.mark.parametrize("args, needle", [
    (["describe", "{tmp}"], "is not a crmlab dataset"),
    (["generate", "-o", "/proc/no-such-dir/x"], "cannot write to"),
    (["summarize", "{tmp}/missing.csv", "-o", "{tmp}/s.parquet", "--observation-end", "1998-06-30"],
     "No file matches"),
    (["summarize", "{csv}", "-o", "{tmp}/s.parquet", "--observation-end", "1997-01-15"], "after observation_end"),
    (["summarize", "{csv}", "-o", "{tmp}/s.parquet", "--observation-end", "1998-06-30", "--amount-col", "spend"],
     "no column 'spend'"),
])
def test_data_and_runtime_errors_exit_1_on_one_line(tmp_path, cdnow_csv, args, needle):
    # in-process (CliRunner keeps stderr apart); test_non_empty_folder_is_refused_without_force
    # checks the same through a real process
    res = runner.invoke(app, [a.format(tmp=tmp_path, csv=cdnow_csv) for a in args])
    assert res.exit_code == 1, (args, res.output)
    assert needle in res.stderr, (args, res.stderr)
    _assert_one_line_error(res.stderr)


def test_engine_choices_are_the_engines():
    from crmlab import engines
    from crmlab.engines.cli import Engine

    assert [e.value for e in Engine] == list(engines.ENGINES)


# ----------------------------------------------------------------------------- no third-party warnings
def test_summarize_hides_pyspark_future_warnings_only(tmp_path, cdnow_csv, monkeypatch):
    from crmlab import engines

    real = engines.summarize

    def noisy(*args, **kwargs):
        warnings.warn_explicit("PySpark does not yet fully support pandas >= 3.0.0.", FutureWarning,
                               "functions.py", 1, module="pyspark.sql.pandas.functions")
        warnings.warn("a crmlab deprecation that users must see", FutureWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(engines, "summarize", noisy)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = runner.invoke(app, ["summarize", str(cdnow_csv), "-o", str(tmp_path / "s.parquet"),
                                  "--observation-end", "1998-06-30", "--engine", "duckdb"])
    assert res.exit_code == 0, res.output
    messages = [str(w.message) for w in seen]
    assert not any("PySpark" in m for m in messages)
    assert "a crmlab deprecation that users must see" in messages


@pytest.mark.skipif(shutil.which("java") is None, reason="summarize on Spark needs Java (no `java` on PATH)")
def test_summarize_on_spark_prints_no_python_warnings(tmp_path, cdnow_csv):
    res = _run("summarize", str(cdnow_csv), "-o", str(tmp_path / "s.parquet"), "--observation-end", "1998-06-30",
               "--engine", "spark", timeout=600)
    assert res.returncode == 0, res.stderr
    assert "2,357 customers" in res.stdout
    assert "Warning:" not in res.stderr and "FutureWarning" not in res.stderr, res.stderr


def test_generate_prints_no_warnings(tmp_path):
    res = _run("generate", "-n", "300", "-o", str(tmp_path / "c"), env={**os.environ, "PYTHONWARNINGS": "default"})
    assert res.returncode == 0 and res.stderr == "", res.stderr


# ----------------------------------------------------------------------------- progress
def test_progress_reaches_every_stage_in_order(tmp_path):
    calls = []
    data = crm.synth.generate(n_customers=300, seed=1, progress=lambda f, s: calls.append((f, s)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] < 0.05 and fractions[-1] == pytest.approx(1.0)
    stages = list(dict.fromkeys(s for _, s in calls))
    assert stages[:3] == ["drawing customers", "simulating purchases", "transactions"]
    b2b = set(crm.data.schema.B2B_TABLES)
    assert set(crm.data.TABLE_NAMES) - {"order_lines", "products"} - b2b <= set(stages)
    assert stages[-1] == "business side"
    saved = []
    data.save(tmp_path, format="parquet", progress=lambda f, s: saved.append((f, s)))
    assert [f for f, _ in saved] == sorted(f for f, _ in saved) and saved[-1][0] == pytest.approx(1.0)
    assert list(dict.fromkeys(s for _, s in saved)) == list(crm.data.TABLE_NAMES)
    with pytest.raises(TypeError, match="progress must be"):
        crm.synth.generate(n_customers=10, progress="yes")
    with pytest.raises(TypeError, match="progress must be"):
        data.save(tmp_path, progress=3)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal to show the bar")
def test_generate_shows_one_bar_with_time_left_over_saving_too(tmp_path):
    import pty
    import select

    leader, follower = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "crmlab", "generate", "-n", "2000", "-o", str(tmp_path / "c")],
                            stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace").replace("\r", "\n")
    assert proc.returncode == 0, text
    bars = [line for line in text.splitlines() if "crmlab generate (2,000 customers)" in line]
    assert bars and "100%" in bars[-1] and f"saving {crm.data.TABLE_NAMES[-1]}.csv" in bars[-1], text
    assert all("<" in b for b in bars)  # elapsed<remaining on every redraw


# ----------------------------------------------------------------------------- cheap import
def test_cli_import_and_help_load_no_heavy_modules():
    code = (
        "import json, sys\n"
        "from crmlab.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ['pandas', 'numpy', 'duckdb', 'ibis', 'pyspark', 'matplotlib', 'crmlab.engines', 'crmlab.course']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def test_summarize_with_pandas_equals_duckdb(tmp_path, cdnow_csv):
    for engine in ("pandas", "duckdb"):
        res = runner.invoke(app, ["summarize", str(cdnow_csv), "-o", str(tmp_path / f"{engine}.parquet"),
                                  "--observation-end", "1998-06-30", "--engine", engine])
        assert res.exit_code == 0, res.output
    a = pd.read_parquet(tmp_path / "pandas.parquet").sort_values("customer_id", ignore_index=True)
    b = pd.read_parquet(tmp_path / "duckdb.parquet").sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False)


def test_every_instructor_command_is_reachable():
    for name in ("release", "grade", "grade-merge", "summarize"):
        res = runner.invoke(app, [name, "-h"])
        assert res.exit_code == 0, (name, res.output)
