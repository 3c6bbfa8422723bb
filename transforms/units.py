"""Units: the one table every quantity is converted with (never by guessing from magnitude).

Each unit has a dimension and a factor to the dimension's base unit:
mass → t, energy → GJ, volume → m3 (liquids, and gas at billing conditions), gas_normal → Nm3
(0 °C, 101.325 kPa), distance → km, pieces → pcs, emissions → tCO2 (mass of a gas). Compound units such as
`GJ/t` or `tCO2/TJ` are a numerator over a denominator and convert factor by factor.

Gas volumes in `m3` are at the supplier's billing temperature (20 °C unless the stream says otherwise) and
turn into Nm3 by the ideal-gas ratio 273.15 / (273.15 + t): see `gas_m3_to_nm3_factor`. `factor_with_note`,
`factor_table` and `join_factors` convert simple or compound units including that ratio, once per distinct
unit combination, with a note saying what changed the number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import polars as pl

from transforms.text import key_expr, norm_key

DEFAULT_GAS_REFERENCE_C = 20.0  # landing-zone.md: m3 of a gas are at 20 °C unless the stream says otherwise

BASE = {
    "mass": "t",
    "energy": "GJ",
    "volume": "m3",
    "gas_normal": "Nm3",
    "distance": "km",
    "pieces": "pcs",
    "emissions": "tCO2",
    "nitrogen": "kgN",
}


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: str
    to_base: float  # multiply a value in this unit by this to get the base unit
    aliases: tuple[str, ...] = ()


UNITS: tuple[Unit, ...] = (
    Unit("t", "mass", 1.0, ("tonne", "tonnes", "ton", "tons", "吨", "公吨")),
    Unit("kg", "mass", 1e-3, ("kilogram", "kilograms", "千克", "公斤", "kgs")),
    Unit("g", "mass", 1e-6, ("gram", "grams", "克")),
    Unit("lb", "mass", 0.45359237e-3, ("lbs", "pound", "pounds", "磅")),
    Unit("kt", "mass", 1e3, ("千吨", "Gg")),
    Unit("Mt", "mass", 1e6, ("百万吨",)),
    Unit("万吨", "mass", 1e4, ()),
    Unit("MWh", "energy", 3.6, ("兆瓦时", "mwh")),
    Unit("kWh", "energy", 3.6e-3, ("千瓦时", "度", "kwh", "kw·h", "kw.h", "kw h")),
    Unit("GWh", "energy", 3600.0, ("吉瓦时", "百万千瓦时")),
    Unit("万kWh", "energy", 36.0, ("万千瓦时", "万度")),
    Unit("GJ", "energy", 1.0, ("吉焦", "gigajoule")),
    Unit("TJ", "energy", 1e3, ("太焦", "terajoule")),
    Unit("MJ", "energy", 1e-3, ("兆焦", "megajoule")),
    Unit("tce", "energy", 29.3076, ("吨标准煤", "吨标煤")),
    Unit("m3", "volume", 1.0, ("m³", "cbm", "立方米", "方", "cubic metre", "cubic meter")),
    Unit("L", "volume", 1e-3, ("l", "litre", "liter", "litres", "liters", "升")),
    Unit("kL", "volume", 1.0, ("kl", "千升")),
    Unit("万立方米", "volume", 1e4, ("万m3", "万方")),
    Unit("Nm3", "gas_normal", 1.0, ("nm³", "标准立方米", "标方", "normal cubic metre")),
    Unit("1000Nm3", "gas_normal", 1e3, ("1000 nm3", "kNm3", "千标准立方米", "千标方")),
    Unit("万Nm3", "gas_normal", 1e4, ("万标准立方米", "万标方", "10^4nm3", "10⁴nm3")),
    Unit("km", "distance", 1.0, ("kilometre", "kilometer", "kilometres", "公里", "千米")),
    Unit("mi", "distance", 1.609344, ("mile", "miles", "英里")),
    Unit(
        "pcs",
        "pieces",
        1.0,
        ("pc", "piece", "pieces", "件", "个", "只", "套", "支", "根", "unit", "units", "ea"),
    ),
    Unit("tCO2", "emissions", 1.0, ("tco2e", "t co2", "t co2e", "吨二氧化碳", "tonne co2")),
    Unit("kgCO2", "emissions", 1e-3, ("kgco2e", "kg co2", "kg co2e", "千克二氧化碳")),
    Unit("gCO2", "emissions", 1e-6, ("gco2e", "g co2", "g co2e")),
    Unit("kgN", "nitrogen", 1.0, ("kg n",)),
)


@cache
def _by_key() -> dict[str, Unit]:
    out: dict[str, Unit] = {}
    for u in UNITS:
        for name in (u.symbol, *u.aliases):
            key = norm_key(name)
            if key in out and out[key] != u:
                raise ValueError(f"unit alias {name!r} is ambiguous")
            out[key] = u
    return out


def lookup(symbol: str | None) -> Unit | None:
    """A unit by any accepted spelling (case-insensitive, NFKC), or None. Compound units: see `compound`."""
    if symbol is None:
        return None
    return _by_key().get(norm_key(symbol))


def canonical_expr(expr: pl.Expr, dimensions: tuple[str, ...] | None = None) -> pl.Expr:
    """Polars: spelling → canonical symbol (e.g. `千瓦时` → `kWh`), null when unknown or of another dimension."""
    pairs = {k: u.symbol for k, u in _by_key().items() if dimensions is None or u.dimension in dimensions}
    return key_expr(expr).replace_strict(
        list(pairs), list(pairs.values()), default=None, return_dtype=pl.String
    )


def _simple_factor(frm: Unit, to: Unit, reference_c: float | None) -> tuple[float, bool] | None:
    """Multiplier from one simple unit to another of its dimension or, given the gas billing temperature,
    between gas m3 and Nm3; and whether the ideal-gas ratio was applied. None: not convertible."""
    if frm.dimension == to.dimension:
        return frm.to_base / to.to_base, False
    if reference_c is None:
        return None
    ratio = gas_m3_to_nm3_factor(reference_c)
    assert isinstance(ratio, float)
    if frm.dimension == "volume" and to.dimension == "gas_normal":
        return frm.to_base / to.to_base * ratio, True
    if frm.dimension == "gas_normal" and to.dimension == "volume":
        return frm.to_base / to.to_base / ratio, True
    return None


def _compound_factor(
    a: tuple[Unit, Unit | None], b: tuple[Unit, Unit | None], reference_c: float | None
) -> tuple[float, bool] | None:
    """Multiplier from compound (or simple) unit `a` to `b`, factor by factor, and whether the gas ratio was
    applied; None when a part is not convertible."""
    (an, ad), (bn, bd) = a, b
    if (ad is None) != (bd is None):
        return None
    num = _simple_factor(an, bn, reference_c)
    if num is None:
        return None
    f, gas = num
    if ad is not None and bd is not None:
        den = _simple_factor(bd, ad, reference_c)  # value per ad → per bd: multiply by (ad per bd)
        if den is None:
            return None
        f *= den[0]
        gas = gas or den[1]
    return f, gas


def factor(from_symbol: str, to_symbol: str) -> float:
    """Multiplier from one unit to another of the same dimension (also compound units `a/b`)."""
    a, b = compound(from_symbol), compound(to_symbol)
    if a is None or b is None:
        raise ValueError(f"unknown unit {from_symbol if a is None else to_symbol!r}")
    found = _compound_factor(a, b, None)
    if found is None:
        raise ValueError(f"cannot convert {from_symbol} to {to_symbol}: different dimensions")
    return found[0]


def factor_with_note(
    from_unit: str | None, to_unit: str | None, reference_c: float | None = None
) -> tuple[float | None, str]:
    """(multiplier, note) converting a value in `from_unit` to `to_unit` (simple or compound `num/den`), gas
    m3 ↔ Nm3 at `reference_c` °C (None → 20 °C); (None, reason) when not convertible, (1.0, '') when equal."""
    if from_unit is None or to_unit is None:
        return None, "unit missing"
    a, b = compound(from_unit), compound(to_unit)
    if a is None or b is None:
        return None, f"unknown unit {from_unit if a is None else to_unit!r}"
    ref_c = DEFAULT_GAS_REFERENCE_C if reference_c is None else reference_c
    found = _compound_factor(a, b, ref_c)
    if found is None:
        return None, f"cannot convert {from_unit} to {to_unit}"
    f, gas = found
    src, dst = canonical_compound(from_unit), canonical_compound(to_unit)
    if src == dst:
        return 1.0, ""
    note = f"{src}→{dst} ×{f:.10g}" + (f" (gas m3 at {ref_c:g} °C ↔ Nm3 at 0 °C)" if gas else "")
    return f, note


def factor_table(
    pairs: pl.DataFrame, frm: str, to: str, reference_c: str | None = None, prefix: str = ""
) -> pl.DataFrame:
    """For the distinct (from unit, to unit[, gas reference °C]) rows of `pairs` (columns `frm`, `to`,
    `reference_c`): `<prefix>factor` and `<prefix>note` by `factor_with_note` (a handful of rows per run)."""
    keys = [frm, to] + ([reference_c] if reference_c else [])
    distinct = pairs.select(keys).unique()
    factors: list[float | None] = []
    notes: list[str] = []
    for row in distinct.iter_rows(named=True):
        f, note = factor_with_note(row[frm], row[to], row[reference_c] if reference_c else None)
        factors.append(f)
        notes.append(note)
    return distinct.with_columns(
        pl.Series(f"{prefix}factor", factors, dtype=pl.Float64),
        pl.Series(f"{prefix}note", notes, dtype=pl.String),
    )


def join_factors(
    lf: pl.LazyFrame, frm: str, to: str, reference_c: str | None = None, prefix: str = ""
) -> pl.LazyFrame:
    """Adds `<prefix>factor` / `<prefix>note` converting column `frm`'s unit into column `to`'s unit."""
    keys: Sequence[str] = [frm, to] + ([reference_c] if reference_c else [])
    table = factor_table(lf.select(keys).unique().collect(), frm, to, reference_c, prefix)
    return lf.join(table.lazy(), on=list(keys), how="left", nulls_equal=True)


def compound(symbol: str) -> tuple[Unit, Unit | None] | None:
    """Parse `num` or `num/den` (e.g. `GJ/t`, `tCO2/TJ`, `kgCO2e/kWh`); None when a part is unknown."""
    parts = [p for p in norm_key(symbol).replace("per", "/").split("/")]
    if len(parts) == 1:
        u = lookup(parts[0])
        return (u, None) if u else None
    if len(parts) != 2:
        return None
    n, d = lookup(parts[0].strip()), lookup(parts[1].strip())
    return (n, d) if n and d else None


def canonical_compound(symbol: str | None) -> str | None:
    """Canonical spelling of a simple or compound unit, or None when not understood."""
    if symbol is None:
        return None
    c = compound(symbol)
    if c is None:
        return None
    n, d = c
    return n.symbol if d is None else f"{n.symbol}/{d.symbol}"


def dimension_of(symbol: str) -> str | None:
    u = lookup(symbol)
    return u.dimension if u else None


def per_dimension(symbol: str | None) -> str | None:
    """Dimension of a simple unit, or of the denominator of a compound one (`tCO2/TJ` → energy)."""
    c = compound(symbol) if symbol is not None else None
    if c is None:
        return None
    n, d = c
    return (d or n).dimension


def to_factor_expr(unit: pl.Expr, target: str) -> pl.Expr:
    """Polars: factor that converts a value in the row's unit (canonical symbol) to `target`; null if not
    convertible (other dimension or unknown). Use: `value * to_factor_expr(pl.col('unit'), 't')`."""
    t = lookup(target)
    if t is None:
        raise ValueError(f"unknown unit {target!r}")
    pairs = {u.symbol: u.to_base / t.to_base for u in UNITS if u.dimension == t.dimension}
    return unit.replace_strict(list(pairs), list(pairs.values()), default=None, return_dtype=pl.Float64)


def dimension_expr(unit: pl.Expr) -> pl.Expr:
    """Polars: dimension of a canonical unit symbol (`kWh` → energy), null when unknown."""
    return unit.replace_strict(
        [u.symbol for u in UNITS], [u.dimension for u in UNITS], default=None, return_dtype=pl.String
    )


def to_base_expr(unit: pl.Expr) -> pl.Expr:
    """Polars: factor from a canonical unit symbol to its dimension's base unit (`BASE`: t, GJ, m3, Nm3, km, pcs,
    tCO2, kgN), null when unknown."""
    return unit.replace_strict(
        [u.symbol for u in UNITS], [u.to_base for u in UNITS], default=None, return_dtype=pl.Float64
    )


def convert_expr(value: pl.Expr, from_symbol: str, to_symbol: str) -> pl.Expr:
    """Polars: `value` in unit `from_symbol` expressed in `to_symbol` (simple or compound units of one dimension,
    e.g. GJ → TJ, gCO2 → tCO2, tCO2/MWh → kgCO2/kWh). Scaling down multiplies by the reciprocal of the scale-up
    factor (`* (1 / 1000)`): the bits polars gives for the written `value / 1000` on a column (it divides a column
    by a literal that way), and the same bits when `value` is held as one broadcast scalar, where a written
    `/ 1000` would be a true division (transforms.stable.quotient)."""
    f = factor(from_symbol, to_symbol)
    return value * f if f >= 1.0 else value * (1.0 / factor(to_symbol, from_symbol))


def gas_m3_to_nm3_factor(reference_c: float | pl.Expr = DEFAULT_GAS_REFERENCE_C) -> float | pl.Expr:
    """Ideal-gas ratio from a billing volume at `reference_c` °C (101.325 kPa) to normal conditions (0 °C)."""
    return 273.15 / (273.15 + reference_c)


def gas_factor_expr(unit: pl.Expr, target: str, reference_c: pl.Expr) -> pl.Expr:
    """Polars: factor converting a gas volume in `unit` (m3-family or Nm3-family) to `target` (Nm3-family),
    applying the ideal-gas ratio for m3 at `reference_c` (null → 20 °C)."""
    t = lookup(target)
    if t is None or t.dimension != "gas_normal":
        raise ValueError("gas target must be a normal-volume unit such as Nm3 or 1000Nm3")
    normal = to_factor_expr(unit, target)
    billed = {u.symbol: u.to_base / t.to_base for u in UNITS if u.dimension == "volume"}
    ratio = gas_m3_to_nm3_factor(reference_c.fill_null(DEFAULT_GAS_REFERENCE_C))
    return pl.coalesce(
        normal,
        unit.replace_strict(list(billed), list(billed.values()), default=None, return_dtype=pl.Float64)
        * ratio,
    )


CURRENCIES = (
    "CNY",
    "EUR",
    "USD",
    "HKD",
    "JPY",
    "KRW",
    "GBP",
    "CHF",
    "SEK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "RON",
    "BGN",
    "TRY",
    "INR",
    "VND",
    "THB",
    "MYR",
    "IDR",
    "SGD",
    "AUD",
    "CAD",
    "RUB",
    "BRL",
    "ZAR",
    "TWD",
)


def currency_expr(expr: pl.Expr) -> pl.Expr:
    """ISO 4217 code (upper case) or null; `RMB`/`人民币`/`元` are CNY, `欧元` EUR, `美元` USD."""
    extra = {
        "rmb": "CNY",
        "人民币": "CNY",
        "元": "CNY",
        "欧元": "EUR",
        "美元": "USD",
        "€": "EUR",
        "¥": "CNY",
        "$": "USD",
    }
    pairs = {c.lower(): c for c in CURRENCIES} | extra
    return key_expr(expr).replace_strict(
        list(pairs), list(pairs.values()), default=None, return_dtype=pl.String
    )
