"""Answers as data: every answer type the exercise sets use survives the round trip, and the
trusted readers refuse hostile files without hanging, recursing or unpickling."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from crmlab.course.export import AnswerError, ModelSummary, Unsupported, export_answers, load_answers, read_json_strict


def _roundtrip(value, tmp_path, key="e0"):
    export_answers(key, {"0": lambda: value}, str(tmp_path))
    values, errors = load_answers(tmp_path / key)
    assert not errors, errors
    return values["0"]


FRAME = pd.DataFrame({"recency": [3, 10, 1], "monetary": [10.5, np.nan, 3.25],
                      "segment": pd.Categorical(["a", "b", "a"])},
                     index=pd.Index([101, 102, 103], name="customer_id"))


@pytest.mark.parametrize("value", [
    FRAME,
    FRAME.reset_index(),
    pd.crosstab(pd.Series(["x", "y", "x"], name="from"), pd.Series(["p", "q", "q"], name="to")),
    pd.DataFrame({0: [1, 2], 3: [0.5, 0.25]}),  # integer column labels (cohort tables)
    FRAME.set_index("segment", append=True),  # MultiIndex rows
    pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)], names=["k", "m"])),
    pd.Series([0.5, 0.25], index=pd.Index([True, False], name="resolved"), name="share"),
    pd.Series(pd.to_datetime(["2024-01-01", "2024-02-03"]), name="last"),
    pd.Index([3, 1, 2], name="customer_id"),
], ids=["frame", "range-index", "crosstab", "int-labels", "multiindex", "multicolumns", "bool-index",
        "datetimes", "index"])
def test_tables_round_trip_exactly(value, tmp_path):
    got = _roundtrip(value, tmp_path)
    assert type(got) is type(value)
    if isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(got, value)
    elif isinstance(value, pd.Series):
        pd.testing.assert_series_equal(got, value)
    else:
        pd.testing.assert_index_equal(got, value)


@pytest.mark.parametrize("value", [
    3, -2**70, 0.1, float("inf"), True, None, "张三", np.float64(0.3), np.int64(7), np.bool_(True),
    [1, "a", (2, 3.5)], {1, 2, 3}, {"a": 1.0, 2: [1, None]}, (1, 2), pd.Timestamp("2024-05-01 10:00"),
    pd.Timedelta(days=3), np.arange(6).reshape(2, 3),
])
def test_scalars_and_collections_round_trip_with_their_type(value, tmp_path):
    got = _roundtrip(value, tmp_path)
    assert type(got) is type(value)
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(got, value)
    else:
        assert got == value


def test_nan_survives(tmp_path):
    assert np.isnan(_roundtrip(float("nan"), tmp_path))


def test_objects_are_not_exported_as_code(tmp_path):
    class Sneaky:
        def __eq__(self, other):
            return True

    got = _roundtrip(Sneaky(), tmp_path)
    assert isinstance(got, Unsupported) and got != 1 and "Sneaky" in repr(got)


def test_fitted_model_and_plot_summaries(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    got = _roundtrip(model, tmp_path, "m")
    assert isinstance(got, ModelSummary) and got.class_name.endswith("LinearRegression")
    np.testing.assert_allclose(got.coef_, [2.0])
    assert got.get_params()["fit_intercept"] is True
    fig, ax = plt.subplots()
    ax.bar(["A", "B", "C"], [3, 2, 1])
    ax.plot([0, 1], [1, 2], label="trend")
    ax.set_title("Pareto")
    drawn = _roundtrip(ax, tmp_path, "p")
    plt.close(fig)
    from crmlab.check import assert_axes

    assert drawn.get_title() == "Pareto"
    assert_axes(drawn, n_bars=3, n_lines=1)


def test_missing_name_is_an_error_not_a_crash(tmp_path):
    export_answers("e1", {"0": lambda: undefined_answer}, str(tmp_path))  # noqa: F821
    values, errors = load_answers(tmp_path / "e1")
    assert values == {} and errors["0"].startswith("NameError: name 'undefined_answer'")


def test_no_answer_folder(tmp_path):
    with pytest.raises(AnswerError, match="no answer was exported"):
        load_answers(tmp_path / "e9")


def test_deeply_nested_json_is_refused_before_parsing(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(AnswerError, match="nested deeper"):
        read_json_strict(p)
    (tmp_path / "e0").mkdir()
    (tmp_path / "e0" / "manifest.json").write_text('{"args": {"0": ' + '{"t": "list", "v": [' * 5000 + "]}" * 5000 + "}}")
    with pytest.raises(AnswerError, match="nested deeper"):
        load_answers(tmp_path / "e0")


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device", "huge", "garbage"])
def test_hostile_answer_files_are_refused_quickly(tmp_path, kind):
    folder = tmp_path / "e0"
    folder.mkdir()
    manifest = folder / "manifest.json"
    if kind == "fifo":
        os.mkfifo(manifest)  # opening it for reading would block forever
    elif kind == "symlink":
        secret = tmp_path / "secret.json"
        secret.write_text(json.dumps({"args": {"0": 1}, "errors": {}}))
        manifest.symlink_to(secret)
    elif kind == "device":
        manifest.symlink_to("/dev/zero")
    elif kind == "huge":
        with open(manifest, "wb") as f:
            f.truncate(64 * 2**20)
    else:
        manifest.write_bytes(b"\xff\xfe{not json")
    with pytest.raises(AnswerError):
        load_answers(folder)


def test_pickles_and_bad_table_files_are_refused(tmp_path):
    folder = tmp_path / "e0"
    folder.mkdir()
    with open(folder / "v1.npy", "wb") as f:
        np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (folder / "v2.parquet").write_bytes(pickle.dumps(FRAME))
    (folder / "manifest.json").write_text(json.dumps({"args": {
        "0": {"t": "ndarray", "file": "v1.npy"},
        "1": {"t": "frame", "file": "v2.parquet", "columns": {"names": [None], "values": ["a"]}},
        "2": {"t": "ndarray", "file": "../../etc/passwd"},
        "3": {"t": "np", "dtype": "object", "v": 1},
    }, "errors": {}}))
    values, errors = load_answers(folder)
    assert values == {} and sorted(errors) == ["0", "1", "2", "3"]
