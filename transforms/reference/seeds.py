"""The committed reference tables: where they live and their loaders (read once, cached).

Reference data has one folder, `REFERENCE_DIR` = dbt_project/seeds/reference/: the engines read the CSVs from
there and dbt loads the same files as seeds (schema `reference`), with their column docs and tests in
`_reference__seeds.yml` beside them; this module owns the constant naming it. The folder stays inside the dbt
project, which stays self-contained: dbt documents `seed-paths` as relative to dbt_project.yml, and the manifest
freshness check (orchestration/dbt_project.py) looks only inside the project. (dbt 1.11 does load seeds from
`../transforms/reference/seeds`; moving them is one `seed-paths` line plus that check, if ever wanted.)
The CSVs are rebuilt from the official sources by `tools.refbuild.build.build_all` (never at run time).

CBAM tables (`SCHEMAS`): default values and mark-ups (DVR, IR 2025/2621), CN scope / goods categories / Annex II
flags, benchmarks (FAR), standard factors and GWPs (MIR, IR 2025/2547), constants, and the DVR Annex II grid
factors. The lookups over them live beside this module (`cn_codes`, `default_values`, `cbam_grid`); they read
the seeds through `LookupTables`: the committed ones by default, or small tables in the same schema
(`lookup_tables(cn_goods=..., ...)`) for tests and what-if runs, through the very same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from transforms.paths import DBT_DIR

REFERENCE_DIR = DBT_DIR / "seeds" / "reference"

F64, STR, I64, BOOL = pl.Float64, pl.String, pl.Int64, pl.Boolean

SCHEMAS: dict[str, dict[str, Any]] = {
    "cbam_default_values": {
        "table_kind": STR,
        "country_iso2": STR,
        "sheet_name": STR,
        "source_row": I64,
        "sector": STR,
        "cn_code": STR,
        "cn_digits": I64,
        "description": STR,
        "route": STR,
        "route_key": STR,
        "direct": F64,
        "indirect": F64,
        "total": F64,
        "value_status": STR,
        "indirect_status": STR,
        "published_2026": F64,
        "published_2027": F64,
        "published_2028": F64,
        "published_markup_consistent": BOOL,
        "status_reason": STR,
        "act": STR,
        "workbook_version": STR,
        "source": STR,
    },
    "cbam_markups": {
        "sector": STR,
        "year_label": STR,
        "year_from": I64,
        "year_to": I64,
        "markup_fraction": F64,
        "markup_label": STR,
        "sheets_labelled": I64,
        "sheets_missing_label": STR,
        "published_values_checked": I64,
        "published_values_inconsistent": I64,
        "act": STR,
        "workbook_version": STR,
        "source": STR,
    },
    "cbam_cn_goods": {
        "cn_prefix": STR,
        "prefix_digits": I64,
        "description": STR,
        "in_scope": BOOL,
        "goods_category": STR,
        "sector": STR,
        "annex_ii_direct_only": BOOL,
        "functional_unit": STR,
        "declaration_unit": STR,
        "fu_note": STR,
        "gases": STR,
        "ask_operator": STR,
        "exclusion_reason": STR,
        "in_default_values": BOOL,
        "rule_cn": STR,
        "source": STR,
        "act": STR,
        "workbook_version": STR,
    },
    "cbam_grid_factors": {
        "table_kind": STR,
        "iso2": STR,
        "country_name": STR,
        "value_tco2_per_mwh": F64,
        "source_code": STR,
        "annex": STR,
        "act": STR,
        "source_version": STR,
        "source": STR,
        "source_row": I64,
        "licence_note": STR,
    },
    "cbam_benchmarks": {
        "sector": STR,
        "cn_code": STR,
        "description": STR,
        "variant_no": I64,
        "variants": I64,
        "bm_a_tco2e_per_t": F64,
        "route_a": STR,
        "route_letter_a": STR,
        "period_marker_a": STR,
        "bm_b_tco2e_per_t": F64,
        "route_b": STR,
        "route_letter_b": STR,
        "period_marker_b": STR,
        "bm_a_from_merged_cell": BOOL,
        "source_row": I64,
        "act": STR,
        "workbook_version": STR,
        "source": STR,
    },
    "cbam_fuel_factors": {
        "table_ref": STR,
        "material": STR,
        "ef_tco2_per_tj": F64,
        "ncv_gj_per_t": F64,
        "ef_tco2_per_t": F64,
        "carbon_content_tc_per_t": F64,
        "preliminary": BOOL,
        "biomass": BOOL,
        "factor_source": STR,
        "note": STR,
        "source_code": STR,
        "act": STR,
        "source": STR,
        "source_row": I64,
    },
    "cbam_gwp": {
        "gas": STR,
        "gwp": F64,
        "unit": STR,
        "basis": STR,
        "source_code": STR,
        "act": STR,
        "source": STR,
    },
    "cbam_constants": {"name": STR, "value": F64, "unit": STR, "source": STR, "status": STR, "note": STR},
}


@cache
def _table(name: str) -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / f"{name}.csv", schema=SCHEMAS[name])


def default_values() -> pl.DataFrame:
    """Every row of DVR Annex I (per country and 'other') and Annex IV, with its value_status (see the seed docs)."""
    return _table("cbam_default_values")


def markups() -> pl.DataFrame:
    """Sector × year label ('2026', '2027', '2028+') → mark-up fraction."""
    return _table("cbam_markups")


def cn_goods() -> pl.DataFrame:
    """CN prefix (4/6/8 digits) → scope, aggregated goods category, Annex II flag, functional unit."""
    return _table("cbam_cn_goods")


def benchmarks() -> pl.DataFrame:
    """FAR benchmarks per CN code and route (one row per variant)."""
    return _table("cbam_benchmarks")


def fuel_factors() -> pl.DataFrame:
    """MIR Annex VIII standard factors: emission factor, NCV and carbon content per fuel or material."""
    return _table("cbam_fuel_factors")


def gwp_table() -> pl.DataFrame:
    """The cbam_gwp seed as rows (gas, gwp, unit, basis, source): `gwp()` is its gas → value mapping."""
    return _table("cbam_gwp")


def constants_table() -> pl.DataFrame:
    """The cbam_constants seed as rows (name, value, unit, source, status, note): `constant(name)` reads it."""
    return _table("cbam_constants")


def grid_factor_cbam() -> pl.DataFrame:
    """DVR Annex II grid factors (tCO2/MWh): one row per listed country plus the `table_kind == 'other'` row."""
    return _table("cbam_grid_factors")


@dataclass(frozen=True, eq=False)
class LookupTables:
    """The seed tables the lookups below read, in the seed CSV schema (SCHEMAS). Hashed by identity, so what
    the lookups derive from them (prefix dictionaries, composite keys) is built once per instance."""

    default_values: pl.DataFrame
    markups: pl.DataFrame
    cn_goods: pl.DataFrame
    grid_factors: pl.DataFrame


@cache
def _seed_lookup_tables() -> LookupTables:
    return LookupTables(default_values(), markups(), cn_goods(), grid_factor_cbam())


def _conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in the schema of seed `name`: columns it lacks are null, the others cast; unknown ones refused."""
    schema = SCHEMAS[name]
    unknown = sorted(set(frame.columns) - set(schema))
    if unknown:
        raise ValueError(f"{name}: unknown columns {unknown}; the seed has {list(schema)}")
    missing = [pl.lit(None, dtype=dtype).alias(c) for c, dtype in schema.items() if c not in frame.columns]
    return frame.with_columns(missing).select(pl.col(c).cast(dtype) for c, dtype in schema.items())


def lookup_tables(
    *,
    default_values: pl.DataFrame | None = None,
    markups: pl.DataFrame | None = None,
    cn_goods: pl.DataFrame | None = None,
    grid_factors: pl.DataFrame | None = None,
) -> LookupTables:
    """The committed seeds, with any table given here swapped in (same columns as the seed CSV; those left out
    are null, so give what the rules read: e.g. default values need table_kind, country_iso2, cn_code, sector,
    direct/indirect/total, value_status and indirect_status)."""
    if default_values is None and markups is None and cn_goods is None and grid_factors is None:
        return _seed_lookup_tables()
    given = {
        "cbam_default_values": default_values,
        "cbam_markups": markups,
        "cbam_cn_goods": cn_goods,
        "cbam_grid_factors": grid_factors,
    }
    dv, mk, cn, grid = (_table(n) if f is None else _conform(n, f) for n, f in given.items())
    bad = cn.filter(~pl.col("cn_prefix").str.len_chars().is_in([4, 6, 8]))["cn_prefix"].to_list()
    if bad:
        raise ValueError(f"cbam_cn_goods: CN prefixes must have 4, 6 or 8 digits, got {bad}")
    return LookupTables(dv, mk, cn, grid)


def tables_or_seeds(tables: LookupTables | None) -> LookupTables:
    """`tables`, or the committed seeds when None (the default of every lookup)."""
    return _seed_lookup_tables() if tables is None else tables


@cache
def gwp() -> dict[str, float]:
    """Gas → GWP (AR5, MIR Annex II G Table 6; CO2 and CO2e = 1)."""
    df = gwp_table()
    return dict(zip(df["gas"].to_list(), df["gwp"].to_list(), strict=True))


@cache
def _constants() -> dict[str, float]:
    df = constants_table()
    return dict(zip(df["name"].to_list(), df["value"].to_list(), strict=True))


def constants() -> dict[str, float]:
    """Every named constant of cbam_constants.csv (a copy)."""
    return dict(_constants())


def constant(name: str) -> float:
    """A named constant of cbam_constants.csv (e.g. 'f_co2_per_c', 'cbam_factor_2026', 'cscf')."""
    try:
        return _constants()[name]
    except KeyError:
        raise KeyError(f"unknown CBAM constant {name!r}; known: {sorted(_constants())}") from None


def refuse_existing(lf: pl.LazyFrame, new: list[str], what: str) -> None:
    """Refuse a lookup that would silently overwrite a caller's column."""
    clash = sorted(set(new) & set(lf.collect_schema().names()))
    if clash:
        raise ValueError(
            f"{what} would overwrite existing columns {clash}; rename them or use another prefix"
        )
