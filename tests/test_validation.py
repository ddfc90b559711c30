"""Every check in crmlab.validation, with the message users see."""

import numpy as np
import pandas as pd
import pytest

from crmlab import validation as v


@pytest.fixture
def tx():
    return pd.DataFrame({
        "customer_id": [1, 1, 2],
        "date": ["2024-01-01", "2024-01-05", "2024-02-01"],
        "amount": [10.0, 20.0, 5.0],
    })


def test_check_frame_parses_dates_without_touching_input(tx):
    before = tx.copy()
    out = v.check_frame(tx, required=["customer_id"], dates=["date"], numeric=["amount"], name="transactions")
    assert pd.api.types.is_datetime64_any_dtype(out["date"])
    pd.testing.assert_frame_equal(tx, before)  # input unchanged
    assert out is not tx


def test_missing_column_lists_columns_and_suggests(tx):
    with pytest.raises(ValueError, match=r"transactions has no column 'customer'.*Did you mean 'customer_id'.*Columns present"):
        v.check_frame(tx, required=["customer"], name="transactions")


def test_case_insensitive_suggestion():
    df = pd.DataFrame({"Amount": [1.0]})
    with pytest.raises(ValueError, match="Did you mean 'Amount'"):
        v.require_columns(df, ["amount"])


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="must be a pandas DataFrame, got list"):
        v.check_frame([1, 2], name="transactions")


def test_bad_dates(tx):
    bad = tx.assign(date=["2024-01-01", "yesterday", "2024-02-01"])
    with pytest.raises(ValueError, match=r"column 'date' has 1 value\(s\) that are not dates, e.g. 'yesterday'"):
        v.check_frame(bad, dates=["date"])


def test_numeric_dates_rejected(tx):
    with pytest.raises(TypeError, match="holds numbers"):
        v.check_frame(tx.assign(date=[1, 2, 3]), dates=["date"])


def test_non_numeric_amount(tx):
    with pytest.raises(TypeError, match=r"column 'amount' must be numeric.*'12,50'.*pd.to_numeric"):
        v.check_frame(tx.assign(amount=["12,50", "1", "2"]), numeric=["amount"])


def test_missing_ids(tx):
    with pytest.raises(ValueError, match=r"column 'customer_id' has 1 missing value.*does not\s+drop rows silently"):
        v.check_frame(tx.assign(customer_id=[1, None, 2]), not_missing=["customer_id"])


def test_negative_amounts_explain_refunds(tx):
    with pytest.raises(ValueError, match=r"negative value.*refunds"):
        v.check_frame(tx.assign(amount=[10.0, -3.0, 1.0]), nonnegative=["amount"])


def test_events_after_observation_end(tx):
    with pytest.raises(ValueError, match=r"1 event\(s\) in 'date' after observation_end=2024-01-31"):
        v.check_frame(tx, dates=["date"], not_after=("date", "2024-01-31"))


def test_empty_input(tx):
    with pytest.raises(ValueError, match="is empty"):
        v.check_frame(tx.iloc[:0], required=["customer_id"], name="transactions")


def test_duplicate_keys(tx):
    with pytest.raises(ValueError, match=r"duplicated key \['customer_id'\].*drop_duplicates"):
        v.check_frame(tx, unique="customer_id")


def test_timestamp():
    assert v.check_timestamp("2024-12-31") == pd.Timestamp("2024-12-31")
    with pytest.raises(ValueError, match="observation_end is required"):
        v.check_timestamp(None)
    with pytest.raises(ValueError, match="is not a date"):
        v.check_timestamp("not a date")
    with pytest.raises(TypeError, match="must be a date"):
        v.check_timestamp(5)


def test_check_array():
    np.testing.assert_array_equal(v.check_array([1, 2]), [1.0, 2.0])
    with pytest.raises(TypeError, match="must be numeric; found 'x'"):
        v.check_array([1, "x"], name="scores")
    with pytest.raises(ValueError, match="scores has 1 missing value"):
        v.check_array([1, np.nan], name="scores")
    with pytest.raises(ValueError, match="scores is empty"):
        v.check_array([], name="scores")
    with pytest.raises(TypeError, match="got a DataFrame"):
        v.check_array(pd.DataFrame({"a": [1]}), name="scores")
    with pytest.raises(ValueError, match="one-dimensional"):
        v.check_array([[1, 2], [3, 4]], name="scores")


def test_small_checks():
    assert v.check_same_length(a=[1, 2], b=[3, 4]) == 2
    with pytest.raises(ValueError, match="a has 2, b has 1"):
        v.check_same_length(a=[1, 2], b=[3])
    assert v.check_positive_int(3, name="bins") == 3
    with pytest.raises(ValueError, match="bins must be at least 1, got 0"):
        v.check_positive_int(0, name="bins")
    with pytest.raises(TypeError, match="bins must be an integer"):
        v.check_positive_int(2.5, name="bins")
    assert v.check_fraction(0.1, name="rate") == 0.1
    with pytest.raises(ValueError, match=r"5% -> 0.05"):
        v.check_fraction(5, name="rate")
    with pytest.raises(ValueError, match=r"must lie in \[1, 5\]; 1 value"):
        v.check_in_range([1, 6], low=1, high=5, name="csat")
    with pytest.raises(ValueError, match="choose one of"):
        v.check_choice("X", ["D", "W"], name="time_unit")


def test_check_is_fitted():
    class Model:
        params_ = None

    with pytest.raises(v.NotFittedError, match="Model is not fitted yet. Call .fit"):
        v.check_is_fitted(Model())


def test_not_fitted_error_is_scikit_learns():
    from sklearn.exceptions import NotFittedError

    assert v.NotFittedError is NotFittedError
