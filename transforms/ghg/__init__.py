"""The GHG kernel shared by the logistics, footprint and inventory engines: the pinned factor registry
(`factors`), frame and text helpers (`common`), energy bills split by month with grid-factor vintages
(`electricity`), purchased-material footprints (`materials`) and the CBAM precursor split (`precursors`).

`transforms.ghg.compute.compute_ghg` runs the three engines in order (logistics → footprint → inventory); it is
not imported here, so the kernel never depends on the engines built on it.
"""

from transforms.ghg.factors import GhgFactors, factor_catalog, load_factors, restatement_diff

__all__ = ["GhgFactors", "factor_catalog", "load_factors", "restatement_diff"]
