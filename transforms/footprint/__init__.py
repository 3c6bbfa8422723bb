"""Product carbon footprints (ISO 14067 cradle-to-gate). The factor registry lives in the GHG kernel
(`transforms.ghg.factors`); it is re-exported here as part of this package's public entry points."""

from transforms.footprint.engine import FOOTPRINT_COLUMNS, compute_product_footprint
from transforms.ghg.factors import GhgFactors, factor_catalog, load_factors, restatement_diff

__all__ = [
    "FOOTPRINT_COLUMNS",
    "GhgFactors",
    "compute_product_footprint",
    "factor_catalog",
    "load_factors",
    "restatement_diff",
]
