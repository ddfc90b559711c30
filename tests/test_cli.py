"""The `crmlab` command line: generate and describe; bad arguments give one-line errors."""

import subprocess
import sys

from typer.testing import CliRunner

import crmlab as crm
from crmlab.cli import app

runner = CliRunner()


def test_generate_and_describe(tmp_path):
    out = tmp_path / "company"
    res = runner.invoke(app, ["generate", "--customers", "300", "--seed", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "300 customers" in res.output
    data = crm.CRMData.load(out)
    expected = crm.synth.generate(n_customers=300, seed=4)
    assert data.transactions.equals(expected.transactions)
    res = runner.invoke(app, ["describe", str(out)])
    assert res.exit_code == 0 and "CRMData(300 customers" in res.output


def test_generate_parquet(tmp_path):
    res = runner.invoke(app, ["generate", "-n", "100", "--out", str(tmp_path), "--format", "parquet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "transactions.parquet").is_file()


def _run(*args):
    return subprocess.run([sys.executable, "-m", "crmlab.cli", *args], capture_output=True, text=True)


def test_bad_arguments_are_one_line_errors(tmp_path):
    for args, needle in [
        (["generate", "--customers", "-5", "--out", str(tmp_path)], "--customers must be a positive number"),
        (["generate", "--out", "/proc/no-such-dir/x"], "cannot write to"),
        (["generate", "--out", str(tmp_path), "--format", "xlsx"], "--format must be 'csv' or 'parquet'"),
        (["describe", str(tmp_path / "missing")], "is not a directory"),
        (["describe", str(tmp_path)], "not a crmlab dataset"),
    ]:
        res = _run(*args)
        assert res.returncode != 0, args
        assert needle in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr
