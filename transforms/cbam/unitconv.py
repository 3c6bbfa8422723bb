"""Unit conversions the engine needs on top of transforms/units.py: compound units (`GJ/t` → `TJ/t`,
`tCO2/1000Nm3` → `tCO2/Nm3`) and gas volumes at billing conditions (`m3` at t °C ↔ `Nm3`, ideal-gas ratio).

Factors are computed once per distinct unit combination (a handful per run) and joined back, so the per-row
work stays vectorised; every conversion that changes a number is described in a note that the engine records.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms import units

DEFAULT_GAS_REFERENCE_C = 20.0  # landing-zone.md: m3 of a gas are at 20 °C unless the stream says otherwise


def _part_factor(frm: units.Unit, to: units.Unit, ref_c: float) -> tuple[float, bool] | None:
    """Multiplier from one simple unit to another (same dimension, or gas m3 ↔ Nm3) and whether the gas ratio
    was applied."""
    if frm.dimension == to.dimension:
        return frm.to_base / to.to_base, False
    ratio = units.gas_m3_to_nm3_factor(ref_c)
    assert isinstance(ratio, float)
    if frm.dimension == "volume" and to.dimension == "gas_normal":
        return frm.to_base / to.to_base * ratio, True
    if frm.dimension == "gas_normal" and to.dimension == "volume":
        return frm.to_base / to.to_base / ratio, True
    return None


def convert(
    from_unit: str | None, to_unit: str | None, ref_c: float | None = None
) -> tuple[float | None, str]:
    """(multiplier, note) converting a value in `from_unit` to `to_unit` (simple or compound `num/den`);
    (None, reason) when not convertible."""
    if from_unit is None or to_unit is None:
        return None, "unit missing"
    a, b = units.compound(from_unit), units.compound(to_unit)
    if a is None or b is None:
        return None, f"unknown unit {from_unit if a is None else to_unit!r}"
    ref = DEFAULT_GAS_REFERENCE_C if ref_c is None else ref_c
    (an, ad), (bn, bd) = a, b
    if (ad is None) != (bd is None):
        return None, f"cannot convert {from_unit} to {to_unit}"
    num = _part_factor(an, bn, ref)
    if num is None:
        return None, f"cannot convert {from_unit} to {to_unit}"
    f, gas = num
    if ad is not None and bd is not None:
        den = _part_factor(bd, ad, ref)  # value per ad → per bd: multiply by (ad per bd)
        if den is None:
            return None, f"cannot convert {from_unit} to {to_unit}"
        f *= den[0]
        gas = gas or den[1]
    src = units.canonical_compound(from_unit)
    dst = units.canonical_compound(to_unit)
    if src == dst:
        return 1.0, ""
    note = f"{src}→{dst} ×{f:.10g}" + (f" (gas m3 at {ref:g} °C ↔ Nm3 at 0 °C)" if gas else "")
    return f, note


def factor_table(
    pairs: pl.DataFrame, frm: str, to: str, ref_c: str | None = None, prefix: str = ""
) -> pl.DataFrame:
    """For the distinct (from, to[, ref_c]) rows of `pairs`: `<prefix>factor` and `<prefix>note` columns."""
    keys = [frm, to] + ([ref_c] if ref_c else [])
    distinct = pairs.select(keys).unique()
    factors: list[float | None] = []
    notes: list[str] = []
    for row in distinct.iter_rows(named=True):
        f, note = convert(row[frm], row[to], row[ref_c] if ref_c else None)
        factors.append(f)
        notes.append(note)
    return distinct.with_columns(
        pl.Series(f"{prefix}factor", factors, dtype=pl.Float64),
        pl.Series(f"{prefix}note", notes, dtype=pl.String),
    )


def join_factors(
    lf: pl.LazyFrame, frm: str, to: str, ref_c: str | None = None, prefix: str = ""
) -> pl.LazyFrame:
    """Adds `<prefix>factor` / `<prefix>note` converting column `frm`'s unit into column `to`'s unit."""
    keys: Sequence[str] = [frm, to] + ([ref_c] if ref_c else [])
    table = factor_table(lf.select(keys).unique().collect(), frm, to, ref_c, prefix)
    return lf.join(table.lazy(), on=list(keys), how="left", nulls_equal=True)


def dimension(symbol: str | None) -> str | None:
    """Dimension of a simple unit, or of the denominator of a compound one (`tCO2/TJ` → energy)."""
    if symbol is None:
        return None
    c = units.compound(symbol)
    if c is None:
        return None
    n, d = c
    return (d or n).dimension
