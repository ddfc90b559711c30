"""The column specification: the default name of every column a crmlab function reads.

Every function that reads a table takes keyword arguments named ``<role>_col`` whose
defaults are the constants below, taken from the schema of the simulated company
(:data:`crmlab.data.schema.TABLES`). Pass your own names to use your own data::

    crm.features.customer_features(my_log, customer_col="client", date_col="ts",
                                   amount_col="net_value", observation_end="2024-12-31")

    | role | argument | default | table(s) |
    |---|---|---|---|
    | customer | ``customer_col`` | ``customer_id`` | every table |
    | date/time of an event | ``date_col`` | ``date`` (``timestamp`` for touchpoints) | transactions, interactions, surveys |
    | order amount, net of discount | ``amount_col`` | ``amount`` | transactions |
    | order key | ``transaction_col`` | ``transaction_id`` | transactions, order_lines, touchpoints |
    | product key | ``product_col`` | ``product_id`` | order_lines, products |
    | product category | ``category_col`` | ``category`` | products |
    | line amount | ``line_amount_col`` | ``line_amount`` | order_lines |
    | quantity | ``quantity_col`` | ``quantity`` | order_lines |
    | sales channel | ``channel_col`` | ``channel`` | transactions, touchpoints |
    | discount given | ``discount_col`` | ``discount`` | transactions |
    | journey session | ``session_col`` | ``session_id`` | touchpoints |
    | journey step | ``event_col`` | ``event`` | touchpoints |
    | signup time | ``signup_col`` | ``signup_date`` | customers |

>>> from crmlab.data import columns
>>> columns.CUSTOMER, columns.AMOUNT
('customer_id', 'amount')
"""

from __future__ import annotations

from crmlab.data.schema import TABLES

__all__ = [
    "CUSTOMER", "DATE", "AMOUNT", "TRANSACTION", "PRODUCT", "CATEGORY", "LINE_AMOUNT", "QUANTITY",
    "CHANNEL", "DISCOUNT", "SESSION", "EVENT", "TIMESTAMP", "SIGNUP",
]

CUSTOMER = "customer_id"
DATE = "date"
AMOUNT = "amount"
TRANSACTION = "transaction_id"
PRODUCT = "product_id"
CATEGORY = "category"
LINE_AMOUNT = "line_amount"
QUANTITY = "quantity"
CHANNEL = "channel"
DISCOUNT = "discount"
SESSION = "session_id"
EVENT = "event"
TIMESTAMP = "timestamp"
SIGNUP = "signup_date"


def _check_against_schema() -> None:
    """Every default must be a column of the schema (a typo here would be silent)."""
    known = {col for table in TABLES.values() for col in table}
    missing = [name for name in (globals()[c] for c in __all__) if name not in known]
    if missing:  # pragma: no cover - guards edits of this file
        raise RuntimeError(f"column defaults {missing} are not in crmlab.data.schema.TABLES")


_check_against_schema()
