"""The data layer: the schema of every table, the column specification, the
:class:`CRMData` container and the loaders.

Everything else in crmlab builds on this package; it depends on nothing but
:mod:`crmlab.validation`.

- :mod:`crmlab.data.schema`: every table of the simulated company (names, dtypes, meaning);
- :mod:`crmlab.data.columns`: the default column names every function's ``*_col`` arguments use;
- :mod:`crmlab.data.container`: :class:`CRMData`, saved and loaded exactly (CSV or parquet);
- :mod:`crmlab.data.loaders`: :func:`load_retail`, :func:`load_cdnow`, :func:`load_donations`,
  :func:`load_mobi`.

>>> import crmlab as crm
>>> data = crm.data.load_retail()
>>> data.transactions.columns[:3].tolist()
['transaction_id', 'customer_id', 'date']
"""

from crmlab.data import columns, schema
from crmlab.data.container import TABLE_NAMES, CRMData, register_config_decoder
from crmlab.data.loaders import load_cdnow, load_donations, load_mobi, load_retail
from crmlab.data.schema import LOYALTY_ITEMS, SERVQUAL_DIMENSIONS, TABLES

__all__ = [
    "CRMData", "TABLES", "TABLE_NAMES", "LOYALTY_ITEMS", "SERVQUAL_DIMENSIONS", "columns", "schema",
    "load_retail", "load_cdnow", "load_donations", "load_mobi", "register_config_decoder",
]
