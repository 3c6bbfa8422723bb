"""CBAM calculation engine: source streams → attribution (Eq 55/56) → SEE of simple and complex goods
(Eq 57-63, input-output solve) → export lines. Entry point `compute_cbam`; reference: `CbamReference`."""

from transforms.cbam.engine import TABLES, compute_cbam, summarise_goods
from transforms.cbam.errors import (
    CbamError,
    CbamInputError,
    MissingFactorError,
    PrecursorMatrixError,
    ZeroProductionError,
)
from transforms.cbam.inputs import INPUT_SCHEMAS, frames_from_rows
from transforms.cbam.rounding import round_half_up
from transforms.reference.cbam import CbamReference

__all__ = [
    "INPUT_SCHEMAS",
    "TABLES",
    "CbamError",
    "CbamInputError",
    "CbamReference",
    "MissingFactorError",
    "PrecursorMatrixError",
    "ZeroProductionError",
    "compute_cbam",
    "frames_from_rows",
    "round_half_up",
    "summarise_goods",
]
