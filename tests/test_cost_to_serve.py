"""Cost to serve (服务成本), the pyramid's net value and the tenure-fair value (年化客户价值), by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab.segmentation import cost_to_serve, customer_pyramid

# Three customers in 2024 (amount is what they paid, after the discount):
#   A: 2 orders paid 80 + 40 = 120 (a 20 CNY discount on the first), 1 contact, 1 contact in 2023
#   B: 1 order paid 20 (discount 5), 2 contacts; 1 order on 2025-01-01 (outside the window)
#   C: 1 order paid 300, no contact; D: no order in 2024, 1 contact (costed only when listed)
TX = pd.DataFrame({
    "customer_id": ["A", "A", "B", "B", "C", "D"],
    "date": pd.to_datetime(["2024-01-05", "2024-12-31 23:30:00", "2024-02-02", "2025-01-01", "2024-06-01",
                            "2023-05-05"], format="ISO8601"),
    "amount": [80.0, 40.0, 20.0, 10.0, 300.0, 50.0],
    "discount": [20.0, 0.0, 5.0, 0.0, 0.0, 0.0],
})
CONTACTS = pd.DataFrame({
    "customer_id": ["A", "A", "B", "B", "D"],
    "date": pd.to_datetime(["2023-12-31 22:00", "2024-03-01", "2024-02-03", "2024-02-10", "2024-07-07"], format="ISO8601"),
})
WINDOW = {"observation_start": "2024-01-01", "observation_end": "2024-12-31"}


def test_cost_is_orders_and_contacts_in_the_window_not_discounts():
    cost = cost_to_serve(TX, CONTACTS, contact_cost=25.0, order_cost=2.0, **WINDOW)
    # by hand: A 2 x 2 + 1 x 25 = 29; B 1 x 2 + 2 x 25 = 52; C 1 x 2 = 2 (D bought nothing in 2024)
    assert cost.to_dict() == {"A": 29.0, "B": 52.0, "C": 2.0}
    assert cost.name == "cost_to_serve" and cost.index.name == "customer_id"
    # the discounts (20 and 5 CNY) are not in it: the amounts are already net of them
    assert cost.sum() == 83.0


def test_listed_customers_without_orders_are_costed_and_order_kept():
    cost = cost_to_serve(TX, CONTACTS, customers=["C", "D", "A"], **WINDOW)
    assert cost.to_dict() == {"C": 0.0, "D": 25.0, "A": 25.0}
    assert cost.index.tolist() == ["C", "D", "A"]


def test_pyramid_net_value_subtracts_the_cost_once():
    spend = TX[TX["date"].dt.year == 2024].groupby("customer_id")["amount"].sum()   # A 120, B 20, C 300
    cost = cost_to_serve(TX, CONTACTS, contact_cost=25.0, **WINDOW)                  # A 25, B 50, C 0
    pyr = customer_pyramid(spend, cost_to_serve=cost, shares=(1 / 3, 1 / 3))
    assert pyr["value"].tolist() == [300.0, 120.0, 20.0]
    assert pyr["net_value"].tolist() == [300.0, 95.0, -30.0]   # 120 - 25 (not 120 - 25 - 20), 20 - 50


def test_inputs_are_not_modified():
    before_tx, before_c = TX.copy(), CONTACTS.copy()
    cost_to_serve(TX, CONTACTS, **WINDOW)
    pd.testing.assert_frame_equal(TX, before_tx)
    pd.testing.assert_frame_equal(CONTACTS, before_c)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"contact_cost": -1.0}, ValueError, "contact_cost must be a finite cost >= 0"),
    ({"order_cost": "2"}, TypeError, "order_cost must be a number"),
    ({"contact_cost": float("nan")}, ValueError, "contact_cost"),
    ({"observation_start": "2025-01-02", "observation_end": "2024-12-31"}, ValueError, "swap them"),
    ({"observation_start": "2026-01-01"}, ValueError, "no order in the window"),
    ({"customers": ["A", "A"]}, ValueError, "duplicated ids"),
    ({"observation_end": "not a date"}, ValueError, "observation_end"),
])
def test_bad_input_is_refused_with_the_fix(kwargs, error, match):
    with pytest.raises(error, match=match):
        cost_to_serve(TX, CONTACTS, **kwargs)


def test_bad_frames_name_the_column():
    with pytest.raises(ValueError, match="date"):
        cost_to_serve(TX.drop(columns="date"))
    with pytest.raises(ValueError, match="customer_id"):
        cost_to_serve(TX, CONTACTS.assign(customer_id=[None, "A", "B", "B", "D"]))


# ----------------------------------------------------------------------------- tenure-fair value
from crmlab.segmentation import tenure_adjusted_value  # noqa: E402

SPEND = pd.Series([600.0, 300.0, 100.0, 50.0], index=["a", "b", "c", "d"], name="spend_2024")
SIGNUP = pd.Series(pd.to_datetime(["2024-07-02", "2023-05-01", "2024-12-01", "2024-04-01"]),
                   index=["d", "a", "c", "b"])   # another order than SPEND: aligned on the index
YEAR = {"observation_start": "2024-01-01", "observation_end": "2024-12-31"}


def test_tenure_adjusted_value_by_hand():
    # 2024 has 366 days; a: joined before (share 1) -> 600; b: 1 Apr, 275 of 366 days -> 300 * 366 / 275;
    # c: 1 Dec, 31 days, floored at half a year -> 100 / 0.5; d: 2 Jul, 183 days = exactly half -> 50 / 0.5
    v = tenure_adjusted_value(SPEND, SIGNUP, **YEAR)
    assert v.index.tolist() == ["a", "b", "c", "d"] and v.name == "spend_2024"
    assert v.tolist() == pytest.approx([600.0, 300.0 * 366 / 275, 200.0, 100.0])
    # a smaller floor lets the newest customer's rate grow: 100 * 366 / 31
    assert tenure_adjusted_value(SPEND, SIGNUP, **YEAR, min_share=0.05)["c"] == pytest.approx(100 * 366 / 31)
    # full exposure only: the values are returned unchanged for everyone
    assert tenure_adjusted_value(SPEND, SIGNUP, **YEAR, min_share=1.0).tolist() == SPEND.tolist()


def test_tenure_adjusted_value_puts_recent_joiners_back_in_rank():
    # equal spend per active month; calendar spend ranks by tenure, the adjusted value ties them
    signup = pd.Series(pd.to_datetime(["2023-01-01", "2024-07-02"]), index=[1, 2])
    spend = pd.Series([1200.0, 600.0], index=[1, 2])
    v = tenure_adjusted_value(spend, signup, **YEAR)
    assert v[1] == pytest.approx(v[2])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"min_share": 0}, ValueError, "min_share must be > 0"),
    ({"min_share": 1.5}, ValueError, "min_share"),
    ({"observation_start": "2025-02-01"}, ValueError, "swap them"),
])
def test_tenure_adjusted_value_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        tenure_adjusted_value(SPEND, SIGNUP, **{**YEAR, **kwargs})


def test_tenure_adjusted_value_bad_inputs_name_the_fix():
    with pytest.raises(ValueError, match="no date for 1 customer"):
        tenure_adjusted_value(SPEND, SIGNUP.drop("c"), **YEAR)
    with pytest.raises(ValueError, match="signed up after observation_end"):
        tenure_adjusted_value(SPEND, SIGNUP.replace(SIGNUP["c"], pd.Timestamp("2025-03-01")), **YEAR)
    with pytest.raises(TypeError, match="datetime64"):
        tenure_adjusted_value(SPEND, SIGNUP.astype(str), **YEAR)
    with pytest.raises(TypeError, match="pandas Series"):
        tenure_adjusted_value(SPEND.tolist(), SIGNUP, **YEAR)
    with pytest.raises(ValueError, match="duplicated"):
        tenure_adjusted_value(SPEND, pd.concat([SIGNUP, SIGNUP.iloc[:1]]), **YEAR)
    before = SPEND.copy()
    tenure_adjusted_value(SPEND, SIGNUP, **YEAR)
    pd.testing.assert_series_equal(SPEND, before)
