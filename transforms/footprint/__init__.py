"""Product carbon footprints (ISO 14067 cradle-to-gate) and the GHG factor registry shared with the logistics and
inventory engines."""

from transforms.footprint.engine import FOOTPRINT_COLUMNS, compute_product_footprint
from transforms.footprint.factors import GhgFactors, factor_catalog, load_factors, restatement_diff

__all__ = [
    "FOOTPRINT_COLUMNS",
    "GhgFactors",
    "compute_product_footprint",
    "factor_catalog",
    "load_factors",
    "restatement_diff",
]
