"""Customer lifetime value (客户生命周期价值, CLV): probabilistic customer-base models
("buy 'til you die") and the value calculations built on them.

Transaction models (fit a per-customer summary of frequency, recency and T):

- :class:`BetaGeoModel` (BG/NBD), :class:`ParetoNBDModel`, :class:`ModifiedBetaGeoModel` (MBG/NBD)
- :class:`BetaGeoBetaBinomModel` (BG/BB, discrete opportunities)

Spend and contractual retention: :class:`GammaGammaModel`, :class:`ShiftedBetaGeometricModel` (sBG).

Value: :func:`customer_lifetime_value` (discounted, with an interval), :func:`simple_clv`;
the company's margin per customer: :func:`margin_rate` (CLV is margin, not revenue).
Evaluation against a holdout period: :mod:`crmlab.clv.evaluation`.

The models are scikit-learn estimators and record the time unit of the summary they were
fitted on (``time_unit_``, from ``summary.attrs["time_unit"]``); predictions, CLV and
evaluations refuse a summary in another unit. ``docs/lifetimes_mapping.md`` maps the names
of the ``lifetimes`` package to these.

>>> import crmlab as crm
>>> bg = crm.clv.BetaGeoModel().fit(crm.load_cdnow("summary"))
>>> round(bg.log_likelihood_, 1), bg.time_unit_
(-9582.4, 'W')
"""

from crmlab.clv import evaluation
from crmlab.clv._base import ConvergenceError, ConvergenceWarning
from crmlab.clv.beta_geo import BetaGeoModel
from crmlab.clv.bgbb import BetaGeoBetaBinomModel
from crmlab.clv.evaluation import *  # noqa: F401,F403
from crmlab.clv.gamma_gamma import GammaGammaModel
from crmlab.clv.margin import margin_rate
from crmlab.clv.modified_beta_geo import ModifiedBetaGeoModel
from crmlab.clv.pareto_nbd import ParetoNBDModel
from crmlab.clv.sbg import ShiftedBetaGeometricModel
from crmlab.clv.value import customer_lifetime_value, simple_clv

__all__ = [
    "BetaGeoModel", "ParetoNBDModel", "ModifiedBetaGeoModel", "BetaGeoBetaBinomModel",
    "GammaGammaModel", "ShiftedBetaGeometricModel", "customer_lifetime_value", "simple_clv",
    "margin_rate", "ConvergenceWarning", "ConvergenceError", "evaluation", *evaluation.__all__,
]
