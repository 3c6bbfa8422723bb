"""The meters table, normalised once for the interval engine: canonical carrier, role, register, stamp, output unit
and its conversion factor, multiplier, timezone and interval length; and, per meter, why it cannot be used.

Rules (docs/landing-zone.md `meters`): register `interval` (default) or `cumulative`; stamp `start` (default), `end`
or `midpoint`; multiplier default 1; timezone default Asia/Shanghai; electricity in kWh (MWh and other energy units
converted through `transforms/units.py`), other carriers in the meter's own unit. A meter with a parent is never
added to it: `counted` says whether a meter enters the energy balance under its role (its parent, if any, has
another role: a `ppa_delivery` inside the grid import meter counts as PPA but is not added to the load).
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import polars as pl

from transforms.carriers import ELECTRICITY, carrier_expr
from transforms.frames import with_columns_of
from transforms.text import key_expr, nfkc, norm_key
from transforms.units import UNITS, canonical_expr, dimension_expr, factor, to_factor_expr

DEFAULT_TIMEZONE = "Asia/Shanghai"
ELECTRICITY_UNIT = "kWh"
ROLES = (
    "grid_import",
    "grid_export",
    "onsite_generation",
    "ppa_delivery",
    "storage_charge",
    "storage_discharge",
    "sub_meter",
    "consumption",
)
BALANCE_ROLES = ROLES[:6]  # the supply-side roles the energy balance adds up (sub-meters never)
REGISTERS = ("interval", "cumulative")
STAMPS = ("start", "end", "midpoint")

# Column names and types of the spec's datasets: used when the raw lake has no such table yet.
METERS_SCHEMA = {
    "meter_id": pl.String,
    "installation_id": pl.String,
    "process_id": pl.String,
    "carrier": pl.String,
    "role": pl.String,
    "parent_meter_id": pl.String,
    "register": pl.String,
    "stamp": pl.String,
    "interval_minutes": pl.Int64,
    "unit": pl.String,
    "multiplier": pl.Float64,
    "timezone": pl.String,
    "description": pl.String,
}
READINGS_SCHEMA = {
    "meter_id": pl.String,
    "interval_start": pl.Datetime("us"),
    "value": pl.Float64,
    "unit": pl.String,
    "quality": pl.String,
    "method": pl.String,
    "stamp": pl.String,
    "utc_offset_minutes": pl.Int64,
    "_drop_date": pl.Date,
    "_file": pl.String,
    "_row_number": pl.Int64,
    "_source_row_id": pl.String,
}


def _enum(col: str, default: str) -> pl.Expr:
    """Lower-cased enum value, `default` when empty; an unknown value is kept as written (flagged below)."""
    return pl.coalesce(key_expr(pl.col(col)).str.replace_all(" ", "_"), pl.lit(default)).alias(col)


def normalise_meters(meters: pl.LazyFrame) -> pl.LazyFrame:
    """One row per meter with the engine's columns and `meter_problem` (null when usable, else a reason a person
    can act on). Adds `out_unit`, `unit_factor` (meter unit → out_unit), `counted` and `ppa_direct`."""
    m = with_columns_of(meters, METERS_SCHEMA).select(
        nfkc(pl.col("meter_id")).alias("meter_id"),
        nfkc(pl.col("installation_id")).alias("installation_id"),
        nfkc(pl.col("process_id")).alias("process_id"),
        pl.coalesce(carrier_expr(pl.col("carrier")), key_expr(pl.col("carrier"))).alias("carrier"),
        _enum("role", ""),
        nfkc(pl.col("parent_meter_id")).alias("parent_meter_id"),
        _enum("register", "interval"),
        _enum("stamp", "start"),
        pl.col("interval_minutes").cast(pl.Int64),
        pl.col("unit").alias("unit_as_written"),
        canonical_expr(pl.col("unit")).alias("unit"),
        pl.coalesce(pl.col("multiplier").cast(pl.Float64), pl.lit(1.0)).alias("multiplier"),
        pl.coalesce(nfkc(pl.col("timezone")), pl.lit(DEFAULT_TIMEZONE)).alias("timezone"),
    )
    is_elec = pl.col("carrier") == ELECTRICITY
    m = m.with_columns(
        out_unit=pl.when(is_elec).then(pl.lit(ELECTRICITY_UNIT)).otherwise(pl.col("unit")),
        unit_factor=pl.when(is_elec).then(to_factor_expr(pl.col("unit"), ELECTRICITY_UNIT)).otherwise(1.0),
    )
    parents = m.select(
        pl.col("meter_id").alias("parent_meter_id"),
        pl.col("role").alias("_parent_role"),
        pl.lit(True).alias("_parent_known"),
    )
    m = m.join(parents, on="parent_meter_id", how="left").with_columns(
        counted=pl.col("role").is_in(BALANCE_ROLES)
        & (pl.col("carrier") == ELECTRICITY)
        & (pl.col("parent_meter_id").is_null() | (pl.col("_parent_role") != pl.col("role")).fill_null(True)),
        ppa_direct=(pl.col("role") == "ppa_delivery") & pl.col("parent_meter_id").is_null(),
    )
    zones = sorted(available_timezones())
    problems = [
        (pl.col("meter_id").is_null(), pl.lit("meter without meter_id")),
        (pl.col("installation_id").is_null(), pl.lit("meter without installation_id")),
        (
            ~pl.col("role").is_in(ROLES),
            pl.format("role '{}' unknown (expected one of {})", pl.col("role"), pl.lit(", ".join(ROLES))),
        ),
        (~pl.col("register").is_in(REGISTERS), pl.format("register '{}' unknown", pl.col("register"))),
        (~pl.col("stamp").is_in(STAMPS), pl.format("stamp '{}' unknown", pl.col("stamp"))),
        (
            pl.col("unit").is_null(),
            pl.format("unit '{}' unknown", pl.col("unit_as_written").fill_null("")),
        ),
        (
            is_elec & (dimension_expr(pl.col("unit")) != "energy"),
            pl.format("electricity meter in '{}', not an energy unit", pl.col("unit")),
        ),
        (
            pl.col("interval_minutes").is_not_null()
            & ((pl.col("interval_minutes") <= 0) | (60 % pl.col("interval_minutes").clip(1) != 0)),
            pl.format("interval_minutes {} does not divide an hour", pl.col("interval_minutes")),
        ),
        (
            ~pl.col("multiplier").is_finite() | (pl.col("multiplier") <= 0),
            pl.format("multiplier {} is not a positive number", pl.col("multiplier")),
        ),
        (
            ~pl.col("timezone").is_in(zones),
            pl.format("timezone '{}' is not an IANA zone", pl.col("timezone")),
        ),
        (
            pl.col("parent_meter_id").is_not_null() & pl.col("_parent_known").is_null(),
            pl.format("parent_meter_id '{}' is not a meter", pl.col("parent_meter_id")),
        ),
    ]
    problem = pl.concat_str(
        [pl.when(cond).then(text) for cond, text in problems], separator="; ", ignore_nulls=True
    )
    dup = pl.len().over("meter_id") > 1
    problem = pl.concat_str(
        [problem, pl.when(dup).then(pl.lit("meter_id listed twice in meters"))],
        separator="; ",
        ignore_nulls=True,
    )
    return (
        m.with_columns(meter_problem=pl.when(problem.str.len_chars() > 0).then(problem))
        .drop("_parent_role", "_parent_known", "unit_as_written")
        .sort("meter_id", "installation_id", nulls_last=True)
        # `_mi`: the meter's index, the high part of the engine's integer sort keys (null for an unusable meter,
        # so that its readings are rejected with the meter's problem)
        .with_row_index("_i")
        .with_columns(_mi=pl.when(pl.col("meter_problem").is_null()).then(pl.col("_i").cast(pl.Int64)))
        .drop("_i")
    )


@cache
def _unit_grid() -> tuple[list[str], list[str], list[float | None]]:
    """(spellings, canonical symbols, factors): every spelling of a unit (ingestion gives canonical symbols;
    aliases for direct callers), every canonical symbol, and the factor from spelling i to symbol j at
    i × len(symbols) + j (`transforms.units.factor`; None across dimensions)."""
    symbols = [u.symbol for u in UNITS]
    spellings: list[str] = []
    factors: list[float | None] = []
    for a in UNITS:
        for sp in sorted({a.symbol, *a.aliases, *(norm_key(x) for x in (a.symbol, *a.aliases))}):
            spellings.append(sp)
            factors += [factor(a.symbol, b.symbol) if a.dimension == b.dimension else None for b in UNITS]
    return spellings, symbols, factors


def unit_index(unit: pl.Expr) -> pl.Expr:
    """A unit as written → its position among the spellings (null when unknown). An Enum cast: elementwise, so
    the streaming engine streams it (a `replace_strict` with a table makes it hold every row first)."""
    spellings, _, _ = _unit_grid()
    return unit.cast(pl.Enum(spellings), strict=False).to_physical().cast(pl.Int32)


def symbol_index(symbol: pl.Expr) -> pl.Expr:
    """A canonical unit symbol (a meter's output unit) → its position among the symbols (null when none)."""
    _, symbols, _ = _unit_grid()
    return symbol.cast(pl.Enum(symbols), strict=False).to_physical().cast(pl.Int32)


def reading_unit_factor(unit_idx: pl.Expr, out_idx: pl.Expr) -> pl.Expr:
    """Factor from a reading's own unit (`unit_index`) to the meter's output unit (`symbol_index`): a gather
    from the table of unit pairs, no string work per row; null when the unit is unknown or of another
    dimension."""
    _, symbols, factors = _unit_grid()
    table = pl.Series("f", factors, dtype=pl.Float64)
    return pl.lit(table).gather(unit_idx.cast(pl.Int64) * len(symbols) + out_idx.cast(pl.Int64))
