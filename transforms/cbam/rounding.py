"""Output rounding: half-up (away from zero) on the decimal value a reader sees, once, at presentation.

Floats are first written as their shortest round-trip decimal (what Python and polars print), then rounded as
decimals; so 1.234565 → 1.23457 although its binary value is 1.2345649999…. Polars' own `round` defaults to
half-to-even, DuckDB rounds half away from zero; this helper is the one rule for lingtan (docs/precision.md).
"""

from __future__ import annotations

import polars as pl

_SCALE = 20  # working scale of the decimal: 38 digits leave 18 before the point (1e18 t is plenty)


def round_half_up(expr: pl.Expr, decimals: int) -> pl.Expr:
    """Polars: Float64 → Decimal(38, decimals), half away from zero on the shortest decimal representation."""
    as_decimal = expr.cast(pl.String).cast(pl.Decimal(38, _SCALE), strict=False)
    return as_decimal.round(decimals, mode="half_away_from_zero").cast(pl.Decimal(38, decimals))


def round_half_up_value(value: float | None, decimals: int) -> float | None:
    """Scalar twin of `round_half_up` (for reports built in Python)."""
    if value is None:
        return None
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
