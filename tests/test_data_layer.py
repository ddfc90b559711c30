"""Tests for the data layer: layering, column specification, CRMData."""

from __future__ import annotations

import ast
import pathlib

import pandas as pd
import pytest

import crmlab as crm
from crmlab.data import columns
from crmlab.validation import check_frame, check_transactions

ROOT = pathlib.Path(crm.__file__).resolve().parent


def _crmlab_imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crmlab"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("crmlab"))
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "data").glob("*.py")), ids=lambda p: p.name)
def test_data_layer_imports_only_validation(path):
    allowed = {"crmlab.validation", "crmlab.data", "crmlab.data.schema", "crmlab.data.container",
               "crmlab.data.loaders", "crmlab.data.columns"}
    assert _crmlab_imports(path) <= allowed, "the data layer must not import the layers above it"


@pytest.mark.parametrize("path", sorted((ROOT / "engines").glob("*.py")), ids=lambda p: p.name)
def test_engines_never_import_features(path):
    assert not any(m.startswith("crmlab.features") for m in _crmlab_imports(path))


def test_time_and_validation_sit_at_the_bottom():
    assert _crmlab_imports(ROOT / "validation.py") == set()
    assert _crmlab_imports(ROOT / "time.py") <= {"crmlab.validation"}


def test_column_defaults_are_schema_columns():
    known = {c for table in crm.data.TABLES.values() for c in table}
    for name in columns.__all__:
        assert getattr(columns, name) in known


def test_duplicate_column_names_are_rejected_everywhere():
    df = pd.DataFrame([[1, "2024-01-01", 1.0, 2.0]], columns=["customer_id", "date", "amount", "amount"])
    with pytest.raises(ValueError, match="column name 'amount' 2 times"):
        check_frame(df, required=["customer_id"])
    with pytest.raises(ValueError, match="column name 'amount' 2 times"):
        check_transactions(df)


def test_saved_config_round_trips(tmp_path):
    data = crm.synth.generate(n_customers=50, seed=3)
    data.save(tmp_path)
    back = crm.data.CRMData.load(tmp_path)
    assert back.config == data.config
    assert type(back.config).__name__ == "SimulationConfig"
