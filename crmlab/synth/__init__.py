"""The simulated company (模拟公司): a generator whose tables share one latent story.

>>> import crmlab as crm
>>> data = crm.synth.generate(n_customers=300, seed=42)
>>> data.truth["segment"].nunique() <= len(data.config.segments)
True
"""

from crmlab.data.container import register_config_decoder
from crmlab.data.schema import TABLES
from crmlab.synth.b2b import B2BConfig
from crmlab.synth.btyd import bgnbd_summary
from crmlab.synth.config import CATEGORIES, COMPLEMENTS, Segment, SimulationConfig
from crmlab.synth.generator import generate

register_config_decoder(SimulationConfig.from_dict)

__all__ = ["generate", "bgnbd_summary", "SimulationConfig", "Segment", "B2BConfig", "TABLES", "CATEGORIES", "COMPLEMENTS"]
