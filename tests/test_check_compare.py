"""Tests for crmlab.check.compare: what passes, what fails, and what the student reads."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import crmlab.check as check
from crmlab.check import compare
from crmlab.check.compare import (
    assert_axes,
    assert_frame_matches,
    assert_same_partition,
    assert_same_set,
    assert_scalar_close,
    assert_series_matches,
    passed,
    resolve_data,
)


@pytest.fixture
def rfm():
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5],
        "recency": [10.0, 20.0, 30.0, 40.0, 50.0],
        "frequency": [1, 2, 3, 4, 5],
        "segment": ["a", "b", "a", "c", "b"],
        "first": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]),
    })


# ---------------------------------------------------------------- frames
def test_frame_equal_in_any_row_and_column_order(rfm):
    shuffled = rfm.sample(frac=1, random_state=1)[["segment", "frequency", "first", "recency", "customer_id"]]
    assert_frame_matches(shuffled, rfm, key="customer_id")


def test_frame_key_may_be_the_index_and_extra_columns_are_allowed(rfm):
    assert_frame_matches(rfm.set_index("customer_id").assign(helper=1), rfm, key="customer_id")
    assert_frame_matches(rfm, rfm.set_index("customer_id"), key="customer_id")


def test_frame_within_tolerance_passes_outside_fails(rfm):
    close = rfm.assign(recency=rfm["recency"] * (1 + 1e-9))
    assert_frame_matches(close, rfm, key="customer_id")
    far = rfm.assign(recency=rfm["recency"] + 0.5)
    with pytest.raises(AssertionError):
        assert_frame_matches(far, rfm, key="customer_id")
    assert_frame_matches(far, rfm, key="customer_id", atol=0.5)


def test_frame_message_names_first_three_customers_expected_vs_got(rfm):
    got = rfm.assign(recency=rfm["recency"] + [0, 1, 0, 1, 1])
    with pytest.raises(AssertionError) as info:
        assert_frame_matches(got, rfm, key="customer_id", what="your RFM table",
                             hint="Count days to data.observation_end.")
    msg = str(info.value)
    assert msg.startswith("your RFM table does not match")
    assert "column 'recency' differs for 3 of 5 customers" in msg
    assert "customer 2: got 21.0, too high" in msg
    assert "customer 4: got 41.0, too high" in msg
    assert "customer 5: got 51.0, too high" in msg
    assert "customer 1:" not in msg and "customer 3:" not in msg
    assert msg.endswith("Hint: Count days to data.observation_end.")


def test_frame_only_three_examples_even_when_all_differ(rfm):
    with pytest.raises(AssertionError) as info:
        assert_frame_matches(rfm.assign(frequency=0), rfm, key="customer_id")
    msg = str(info.value)
    assert "differs for 5 of 5 customers" in msg
    assert msg.count("too low") == 3  # 3 examples, never the expected values
    assert "expected 1" not in msg and "expected 4" not in msg


def test_frame_missing_and_extra_rows(rfm):
    got = pd.concat([rfm.iloc[1:], rfm.iloc[[0]].assign(customer_id=99)])
    with pytest.raises(AssertionError, match=r"1 of 5 expected customers is missing: 1") as info:
        assert_frame_matches(got, rfm, key="customer_id")
    assert "1 customer should not be there: 99" in str(info.value)


def test_frame_missing_column_lists_students_columns(rfm):
    with pytest.raises(AssertionError, match=r"missing column\(s\) \['segment'\]\. Your columns: "):
        assert_frame_matches(rfm.drop(columns="segment"), rfm, key="customer_id")


def test_frame_missing_key_column(rfm):
    with pytest.raises(AssertionError, match=r"has no column 'customer_id' to identify the rows"):
        assert_frame_matches(rfm.drop(columns="customer_id"), rfm, key="customer_id")


def test_frame_duplicated_keys(rfm):
    with pytest.raises(AssertionError, match=r"1 customers that appear more than once, e.g. 3"):
        assert_frame_matches(pd.concat([rfm, rfm.iloc[[2]]]), rfm, key="customer_id")


def test_frame_wrong_type_of_column_and_answer(rfm):
    with pytest.raises(AssertionError, match=r"column 'recency' should hold numbers but holds text"):
        assert_frame_matches(rfm.assign(recency=rfm["recency"].astype(str)), rfm, key="customer_id")
    with pytest.raises(AssertionError, match=r"should be a pandas DataFrame, but it is None"):
        assert_frame_matches(None, rfm, key="customer_id")
    with pytest.raises(AssertionError, match=r"it is a Series\. Use \.to_frame\(\)"):
        assert_frame_matches(rfm["recency"], rfm, key="customer_id")


def test_frame_dates_and_text_compared_exactly(rfm):
    later = rfm.assign(first=rfm["first"] + pd.Timedelta(days=1))
    with pytest.raises(AssertionError, match=r"customer 1: got 2024-01-02, too late"):
        assert_frame_matches(later, rfm, key="customer_id")
    # dates given as ISO text are parsed
    assert_frame_matches(rfm.assign(first=rfm["first"].dt.strftime("%Y-%m-%d")), rfm, key="customer_id")
    with pytest.raises(AssertionError, match=r"customer 1: got 'A', not the expected value"):
        assert_frame_matches(rfm.assign(segment=rfm["segment"].str.upper()), rfm, key="customer_id")


def test_frame_nan_equals_nan_but_not_a_number(rfm):
    exp = rfm.assign(recency=[np.nan, 1.0, 2.0, 3.0, 4.0])
    assert_frame_matches(exp.copy(), exp, key="customer_id")
    with pytest.raises(AssertionError, match=r"customer 1: got 0\.0, but it should be missing \(NaN\)"):
        assert_frame_matches(exp.fillna(0.0), exp, key="customer_id")


def test_frame_dtype_and_column_order_options(rfm):
    as_float = rfm.assign(frequency=rfm["frequency"].astype(float))
    assert_frame_matches(as_float, rfm, key="customer_id")
    with pytest.raises(AssertionError, match=r"column 'frequency' has dtype float64, expected int64"):
        assert_frame_matches(as_float, rfm, key="customer_id", check_dtype=True)
    reordered = rfm[["customer_id", "frequency", "recency", "segment", "first"]]
    assert_frame_matches(reordered, rfm, key="customer_id")
    with pytest.raises(AssertionError, match=r"columns should be in the order"):
        assert_frame_matches(reordered, rfm, key="customer_id", check_column_order=True)


def test_frame_without_key_aligns_on_index(rfm):
    exp = rfm.set_index("customer_id")
    assert_frame_matches(exp.iloc[::-1], exp)
    assert_frame_matches(rfm, exp)  # the index name is a column of the answer
    with pytest.raises(AssertionError, match=r"customer 3: got 0\.0, too low"):
        assert_frame_matches(exp.assign(recency=exp["recency"].where(exp.index != 3, 0.0)), exp)


def test_frame_composite_key():
    exp = pd.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "period": [0, 1, 0],
                        "retention": [1.0, 0.4, 1.0]})
    got = exp.assign(retention=[1.0, 0.5, 1.0]).iloc[::-1]
    with pytest.raises(AssertionError, match=r"row cohort='2024-01', period=1: got 0\.5, too high"):
        assert_frame_matches(got, exp, key=["cohort", "period"])


def test_frame_bad_arguments_raise_value_and_type_errors(rfm):
    with pytest.raises(ValueError, match="rtol must be non-negative"):
        assert_frame_matches(rfm, rfm, rtol=-1)
    with pytest.raises(TypeError, match="expected must be a DataFrame"):
        assert_frame_matches(rfm, [1, 2])
    with pytest.raises(ValueError, match="key='nope' is not a column"):
        assert_frame_matches(rfm, rfm, key="nope")


def test_frame_does_not_modify_inputs(rfm):
    got = rfm.iloc[::-1].copy()
    before_got, before_exp = got.copy(), rfm.copy()
    assert_frame_matches(got, rfm, key="customer_id")
    pd.testing.assert_frame_equal(got, before_got)
    pd.testing.assert_frame_equal(rfm, before_exp)


# ---------------------------------------------------------------- series
def test_series_aligns_by_index_and_accepts_arrays():
    exp = pd.Series([0.1, 0.2, 0.3], index=pd.Index([7, 8, 9], name="customer_id"), name="p")
    assert_series_matches(exp.iloc[::-1].rename("other"), exp)
    assert_series_matches(exp.to_numpy(), exp)
    assert_series_matches(exp.to_frame(), exp)
    with pytest.raises(AssertionError, match=r"customer 9: got 0\.4, too high"):
        assert_series_matches(exp.where(exp.index != 9, 0.4), exp)
    with pytest.raises(AssertionError, match=r"should have 3 values, but it is a list with 2 values"):
        assert_series_matches([0.1, 0.2], exp)
    with pytest.raises(AssertionError, match=r"1 of 3 expected customers is missing: 9"):
        assert_series_matches(exp.iloc[:2], exp, hint="Keep every customer.")
    with pytest.raises(AssertionError, match=r"should be a pandas Series, but it is a int"):
        assert_series_matches(3, exp)


# ---------------------------------------------------------------- scalars
def test_scalar_close_and_messages():
    assert_scalar_close(np.float64(0.25), 0.25)
    assert_scalar_close(1, 1.0000000001)
    assert_scalar_close(float("nan"), float("nan"))
    assert_scalar_close("gold", "gold")
    assert_scalar_close(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01"))
    with pytest.raises(AssertionError, match=r"^your NPS is 12\.5, which is too high\.\nHint: promoters minus detractors$"):
        assert_scalar_close(12.5, 10.0, what="your NPS", hint="promoters minus detractors")
    with pytest.raises(AssertionError, match=r"should be a single value, but it is a Series with 1 value\. Take it out with \.item\(\)"):
        assert_scalar_close(pd.Series([0.25]), 0.25)
    with pytest.raises(AssertionError, match=r"should be a number, but it is a str \('0\.25'\)"):
        assert_scalar_close("0.25", 0.25)
    with pytest.raises(AssertionError, match=r"is missing \(NaN\); a number is expected"):
        assert_scalar_close(np.nan, 0.25)
    with pytest.raises(AssertionError, match=r"is 'silver', which is not the expected answer"):
        assert_scalar_close("silver", "gold")
    with pytest.raises(AssertionError, match=r"is 2024-01-02, which is not the expected date"):
        assert_scalar_close(pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-01"))
    with pytest.raises(AssertionError, match=r"is 7\.5, which is too low") as info:
        assert_scalar_close(7.5, 10.0)
    assert "10" not in str(info.value)          # the expected value is never printed
    with pytest.raises(AssertionError, match=r"wrong sign"):
        assert_scalar_close(-0.3, 0.3)
    with pytest.raises(TypeError, match="atol must be a number"):
        assert_scalar_close(1.0, 1.0, atol="small")


def test_scalar_tolerances_follow_math_isclose():
    assert_scalar_close(100.0001, 100.0, rtol=1e-6, atol=0)
    with pytest.raises(AssertionError):
        assert_scalar_close(100.001, 100.0, rtol=1e-6, atol=0)
    assert_scalar_close(100.001, 100.0, rtol=1e-5, atol=0)


# ---------------------------------------------------------------- sets
def test_same_set():
    assert_same_set(pd.Series([3, 1, 2, 2]), {1, 2, 3})
    assert_same_set(np.array([1, 2]), [2, 1])
    with pytest.raises(AssertionError) as info:
        assert_same_set([1, 2, 5], [1, 2, 3, 4], what="your key accounts", hint="Top 20%.")
    msg = str(info.value)
    assert "2 expected value(s) are missing (2 of your 3 are right)" in msg
    assert "e.g. 3" not in msg and "3, 4" not in msg   # the missing values are not named
    assert "1 value(s) should not be there, e.g. 5" in msg
    assert msg.endswith("Hint: Top 20%.")
    with pytest.raises(AssertionError, match="Pick the column you mean"):
        assert_same_set(pd.DataFrame({"a": [1]}), [1])
    with pytest.raises(AssertionError, match="should be a collection of values"):
        assert_same_set("abc", ["abc"])


# ---------------------------------------------------------------- partitions
def test_same_partition_up_to_relabelling_agrees_with_sklearn():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=60)
    perm = np.array([2, 0, 3, 1])
    relabelled = perm[truth]
    assert adjusted_rand_score(truth, relabelled) == 1.0
    assert_same_partition(relabelled, truth)
    broken = relabelled.copy()
    broken[5] = (broken[5] + 1) % 4
    assert adjusted_rand_score(truth, broken) < 1.0
    with pytest.raises(AssertionError, match="do not form the expected groups"):
        assert_same_partition(broken, truth)


def test_same_partition_messages_and_series_alignment():
    idx = pd.Index([10, 11, 12, 13], name="customer_id")
    exp = pd.Series([0, 0, 1, 1], index=idx)
    assert_same_partition(pd.Series(["x", "x", "y", "y"], index=idx)[::-1], exp)
    with pytest.raises(AssertionError, match=r"you found 1 groups, expected 2"):
        assert_same_partition(pd.Series([0, 0, 0, 0], index=idx), exp)
    with pytest.raises(AssertionError, match=r"customer 10 and customer 11 belong together, but you put them in groups 0 and 1"):
        assert_same_partition(pd.Series([0, 1, 2, 2], index=idx), exp)
    with pytest.raises(AssertionError, match=r"one label per item \(4\), but it has 3"):
        assert_same_partition([0, 0, 1], exp)
    with pytest.raises(AssertionError, match=r"1 missing \(e\.g\. 13\)"):
        assert_same_partition(exp.iloc[:3], exp)


# ---------------------------------------------------------------- plots
def test_axes_counts_bars_lines_points():
    fig, ax = plt.subplots()
    ax.bar(["a", "b", "c"], [1, 2, 3])
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.axhline(1.5)  # a reference line is not a data line
    ax.errorbar([0, 1], [1, 2], yerr=[0.1, 0.1], fmt="none")
    ax.scatter([0, 1, 2, 3], [1, 1, 2, 2])
    assert_axes(ax, n_bars=3, n_lines=1, n_points=4)
    assert_axes(fig, n_bars=3)
    with pytest.raises(AssertionError, match=r"it has 3 bars, expected 4; it has 1 lines, expected 2\."):
        assert_axes(ax, n_bars=4, n_lines=2, what="your Pareto chart")
    with pytest.raises(AssertionError, match=r"should be a matplotlib Axes .* but it is None"):
        assert_axes(None, n_bars=1)
    with pytest.raises(ValueError, match="n_bars must be a non-negative integer"):
        assert_axes(ax, n_bars=-1)
    plt.close(fig)


def test_axes_seaborn_barplot_errorbars_not_counted_as_lines():
    import seaborn as sns

    df = pd.DataFrame({"g": list("aabbcc"), "v": [1, 2, 3, 4, 5, 6]})
    ax = sns.barplot(data=df, x="g", y="v")
    assert_axes(ax, n_bars=3, n_lines=0)
    plt.close(ax.figure)


# ---------------------------------------------------------------- data, success, package
def test_resolve_data_returns_given_data_and_rejects_tables():
    mine = SimpleNamespace(transactions=pd.DataFrame())
    assert resolve_data(mine) is mine
    with pytest.raises(TypeError, match=r"data must be the whole dataset .* got DataFrame"):
        resolve_data(pd.DataFrame({"a": [1]}))


def test_resolve_data_none_loads_retail_once(monkeypatch):
    import crmlab

    calls = []
    sentinel = SimpleNamespace(name="retail")

    def fake_load():
        calls.append(1)
        return sentinel

    monkeypatch.setattr(compare, "_RETAIL_CACHE", {})
    monkeypatch.setattr(crmlab, "load_retail", fake_load, raising=False)
    assert resolve_data(None) is sentinel
    assert resolve_data() is sentinel
    assert calls == [1]


def test_passed_prints_one_line(capsys):
    passed("rfm_scores")
    assert capsys.readouterr().out == "\u2714 rfm_scores: correct\n"


def test_check_package_reexports_and_lazy_sets(tmp_path, monkeypatch):
    for name in compare.__all__:
        assert getattr(check, name) is getattr(compare, name)
    assert check.compare is compare
    with pytest.raises(AttributeError, match="has no exercise set 'ex99'"):
        _ = check.ex99
    with pytest.raises(AttributeError):
        _ = check.not_a_module
    # a set module is imported on first attribute access
    monkeypatch.setattr(check, "__path__", [*check.__path__, str(tmp_path)])
    (tmp_path / "ex98.py").write_text("def probe(answer, data=None):\n    return answer\n")
    importlib.invalidate_caches()
    try:
        assert check.ex98.probe(3) == 3
    finally:
        import sys

        sys.modules.pop("crmlab.check.ex98", None)


def test_boolean_keys_are_labels_not_a_mask():
    """A table keyed by True/False is compared row by row (a wrong row must fail)."""
    import pandas as pd
    import pytest

    from crmlab.check.compare import assert_frame_matches, assert_series_matches

    exp = pd.DataFrame({"share": [0.2, 0.5]}, index=pd.Index([False, True], name="complained"))
    assert_frame_matches(exp.iloc[::-1], exp)
    wrong = pd.DataFrame({"share": [0.2, 0.9]}, index=pd.Index([False, True], name="complained"))
    with pytest.raises(AssertionError, match=r"differs for 1 of 2"):
        assert_frame_matches(wrong, exp)
    with pytest.raises(AssertionError, match="True"):
        assert_series_matches(wrong["share"], exp["share"])


# ---------------------------------------------------------------- judge
def test_judge_names_the_mistake_or_points_back():
    from crmlab.check import judge, matches

    calls = []

    def costly():
        calls.append(1)
        return 25.0

    judge(assert_scalar_close, 0.25, 0.25, what="your share", mistakes=[("percentage", costly)])
    assert not calls                                   # mistakes are formed only for a wrong answer
    with pytest.raises(AssertionError, match=r"^percentage\nHint: h$"):
        judge(assert_scalar_close, 25.0, 0.25, what="your share", hint="h", mistakes=[("percentage", costly)])

    def impossible():
        raise ValueError("not on this dataset")

    with pytest.raises(AssertionError, match=r"too high\.\nHint: h\nThis exercise builds on exercise 1 \(rfm\)"):
        judge(assert_scalar_close, 0.5, 0.25, what="your share", hint="h", builds_on="exercise 1 (rfm)",
              mistakes=[("never", impossible), ("percentage", 25.0)])
    assert matches(assert_same_set, [2, 1], {1, 2}) and not matches(assert_same_set, [1], {1, 2})
