"""CBAM reference data at run time: the committed seed CSVs of dbt_project/seeds/reference/, read once and cached.

Every engine takes its CBAM parameters from here (never from the Commission's files, which are not shipped):
default values and mark-ups (DVR, IR 2025/2621), CN scope / goods categories / Annex II flags, benchmarks (FAR),
standard factors and GWPs (MIR, IR 2025/2547), constants, and the DVR Annex II grid factors.

Lookups are vectorised polars expressions (dict-backed `replace_strict` on prefixes plus one left join on a
unique key, order kept); nothing loops over rows. Every fallback is recorded in a column with its reason.
They read the seeds through `LookupTables`: the committed ones by default, or small tables in the same schema
(`lookup_tables(cn_goods=..., ...)`) for tests and what-if runs, through the very same rules.
The CSVs are rebuilt from the official sources by `transforms.refbuild.build.build_all`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import polars as pl

from transforms.countries import resolve_expr
from transforms.paths import REFERENCE_DIR

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

OTHER_KEY, ANNEX_IV_KEY = "~other", "~annex_iv"
FIRST_MARKUP_YEAR, LAST_MARKUP_STEP = 2026, 2028
# Columns `with_default_values` adds (in this order).
DV_COLUMNS = [
    "dv_requested_country",
    "dv_used_table",
    "dv_fallback_reason",
    "dv_missing_reason",
    "dv_cn_matched",
    "dv_route",
    "dv_route_key",
    "dv_route_note",
    "dv_sector",
    "dv_direct",
    "dv_indirect",
    "dv_indirect_note",
    "dv_total",
    "dv_markup",
    "dv_markup_note",
    "dv_direct_marked_up",
    "dv_indirect_marked_up",
    "dv_total_marked_up",
    "dv_total_published_marked_up",
    "dv_markup_variant",
    "dv_workbook_version",
    "dv_act",
]
# Columns `with_cn_info` adds (before its `prefix`), taken from cbam_cn_goods (`matched_prefix` = its cn_prefix).
CN_INFO_COLUMNS = [
    "goods_category",
    "sector",
    "annex_ii_direct_only",
    "functional_unit",
    "in_scope",
    "ask_operator",
    "matched_prefix",
]


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
    return _table("cbam_benchmarks")


def fuel_factors() -> pl.DataFrame:
    return _table("cbam_fuel_factors")


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


def _tables(tables: LookupTables | None) -> LookupTables:
    return _seed_lookup_tables() if tables is None else tables


@cache
def gwp() -> dict[str, float]:
    """Gas → GWP (AR5, MIR Annex II G Table 6; CO2 and CO2e = 1)."""
    df = _table("cbam_gwp")
    return dict(zip(df["gas"].to_list(), df["gwp"].to_list(), strict=True))


@cache
def _constants() -> dict[str, float]:
    df = _table("cbam_constants")
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


# --- CN scope -------------------------------------------------------------------------------------------------


def _cn_digits_expr(cn: pl.Expr) -> pl.Expr:
    """Digits of a CN code; null unless 4, 6 or 8 digits (a 10-digit Chinese HS code is never a CN code)."""
    digits = cn.cast(pl.String).str.replace_all(r"\D", "")
    return pl.when(digits.str.len_chars().is_in([4, 6, 8])).then(digits)


def _prefix(digits: pl.Expr, n: int) -> pl.Expr:
    return pl.when(digits.str.len_chars() >= n).then(digits.str.slice(0, n))


def _longest_prefix(digits: pl.Expr, keys_by_len: dict[int, list[str]]) -> pl.Expr:
    """The longest key (8, then 6, then 4 digits) that prefixes `digits`, else null."""
    return pl.coalesce(
        [
            _prefix(digits, n).replace_strict(
                keys_by_len[n], keys_by_len[n], default=None, return_dtype=pl.String
            )
            for n in (8, 6, 4)
        ]
    )


@lru_cache(maxsize=8)
def _cn_keys(tables: LookupTables) -> dict[int, list[str]]:
    df = tables.cn_goods
    return {n: df.filter(pl.col("cn_prefix").str.len_chars() == n)["cn_prefix"].to_list() for n in (4, 6, 8)}


def cn_prefix_expr(cn: pl.Expr | str = "cn_code", tables: LookupTables | None = None) -> pl.Expr:
    """The longest cbam_cn_goods prefix matching the CN code (null: no CBAM heading matches)."""
    cn = pl.col(cn) if isinstance(cn, str) else cn
    return _longest_prefix(_cn_digits_expr(cn), _cn_keys(_tables(tables)))


def cn_info_expr(field: str, cn: pl.Expr | str = "cn_code", tables: LookupTables | None = None) -> pl.Expr:
    """One cbam_cn_goods column for a CN code by longest prefix, e.g. `cn_info_expr('annex_ii_direct_only')`.
    `in_scope` is False (not null) when nothing matches."""
    tables = _tables(tables)
    df = tables.cn_goods
    values = df[field]
    expr = cn_prefix_expr(cn, tables).replace_strict(
        df["cn_prefix"].to_list(), values.to_list(), default=None, return_dtype=values.dtype
    )
    return expr.fill_null(False) if field == "in_scope" else expr


def _refuse_existing(lf: pl.LazyFrame, new: list[str], what: str) -> None:
    clash = sorted(set(new) & set(lf.collect_schema().names()))
    if clash:
        raise ValueError(
            f"{what} would overwrite existing columns {clash}; rename them or use another prefix"
        )


def with_cn_info(
    lf: pl.LazyFrame, cn_col: str = "cn_code", prefix: str = "", tables: LookupTables | None = None
) -> pl.LazyFrame:
    """Add goods_category, sector, annex_ii_direct_only, functional_unit, in_scope (False when no CBAM heading
    matches), ask_operator and matched_prefix, each named `prefix + name` (e.g. prefix='cn_' → cn_goods_category)."""
    tables = _tables(tables)
    names = {c: f"{prefix}{c}" for c in CN_INFO_COLUMNS}
    _refuse_existing(lf, list(names.values()), "with_cn_info")
    key = "__cn_prefix"
    info = tables.cn_goods.lazy().select(
        pl.col("cn_prefix").alias(key), *[pl.col(c).alias(names[c]) for c in CN_INFO_COLUMNS[:-1]]
    )
    return (
        lf.with_columns(cn_prefix_expr(cn_col, tables).alias(key))
        .join(info, on=key, how="left", maintain_order="left")
        .with_columns(pl.col(names["in_scope"]).fill_null(False), pl.col(key).alias(names["matched_prefix"]))
        .drop(key)
    )


# --- default values -------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _dv_lookup(
    tables: LookupTables,
) -> tuple[pl.DataFrame, dict[int, list[str]], dict[int, list[str]], list[str]]:
    """Rows usable for lookup (no 'see below' headings, no non-CBAM goods) with an `__dv_idx`, and the composite
    keys 'table|cn|route' per prefix length (route 'A'/'B' picks grey/white, '*' = not given → grey)."""
    dv = (
        tables.default_values.filter(
            (pl.col("value_status") != "see_below")
            & ~pl.col("status_reason").fill_null("").str.starts_with("not_cbam_good")
        )
        .with_columns(
            pl.when(pl.col("table_kind") == "country")
            .then(pl.col("country_iso2"))
            .when(pl.col("table_kind") == "other")
            .then(pl.lit(OTHER_KEY))
            .otherwise(pl.lit(ANNEX_IV_KEY))
            .alias("__tbl")
        )
        .with_columns(
            pl.col("route_key").is_not_null().any().over("__tbl", "cn_code").alias("__route_variants")
        )
        .with_row_index("__dv_idx")
    )
    keys: dict[int, list[str]] = {4: [], 6: [], 8: []}
    idx: dict[int, list[str]] = {4: [], 6: [], 8: []}
    for row in dv.select("__dv_idx", "__tbl", "cn_code", "route_key", "__route_variants").iter_rows():
        i, tbl, cn, route_key, variants = row
        base = f"{tbl}|{cn}|"
        reqs = ["A", "B", "*"] if not variants else ([route_key, "*"] if route_key == "A" else [route_key])
        for req in reqs:
            keys[len(cn)].append(base + req)
            idx[len(cn)].append(str(i))
    listed = dv.filter(pl.col("table_kind") == "country")["country_iso2"].unique().sort().to_list()
    return dv, keys, idx, listed


def _route_req_expr(route: pl.Expr | None) -> pl.Expr:
    if route is None:
        return pl.lit("*")
    text = route.cast(pl.String).str.to_lowercase().str.replace_all(r"[\s()]", "")
    return (
        pl.when(text.is_in(["a", "grey", "gray"]))
        .then(pl.lit("A"))
        .when(text.is_in(["b", "white"]))
        .then(pl.lit("B"))
        .otherwise(pl.lit("*"))
    )


def _dv_idx_expr(tables: LookupTables, tbl: pl.Expr, digits: pl.Expr, route_req: pl.Expr) -> pl.Expr:
    _, keys, idx, _ = _dv_lookup(tables)
    parts = [
        pl.concat_str([tbl, _prefix(digits, n), route_req], separator="|").replace_strict(
            keys[n], idx[n], default=None, return_dtype=pl.String
        )
        for n in (8, 6, 4)
    ]
    return pl.coalesce(parts).cast(pl.UInt32)


def with_default_values(
    lf: pl.LazyFrame,
    country_col: str = "country_iso2",
    cn_col: str = "cn_code",
    year_col: str = "year",
    route_col: str | None = None,
    tables: LookupTables | None = None,
) -> pl.LazyFrame:
    """Add the DVR default value of each row's good (the columns DV_COLUMNS, in that order).

    Rules (DVR Annex I preamble, Art 1(5); domain/cbam.md (d)):
    - country resolved to ISO alpha-2 (any accepted spelling); null or unresolvable → Annex IV (`country_unknown`);
      not listed in Annex I → 'Other countries and territories' (`country_not_listed`);
    - longest CN prefix within the table; the country table's row decides: a value → used (never a fallback);
      '–'/'_'/'-' → other (`marker_dash`), empty → other (`empty`), quarantined row → other (`quarantined`),
      no row → other (`cn_not_in_country_table`);
    - white/grey duplicates: route 'A'/'grey' or 'B'/'white' picks; no route → grey (A) with
      dv_route_note `route_ambiguous_defaulted_grey`;
    - mark-up of the row's sector for the year (2028+ for later years; before 2026: 0 with a note); marked-up
      values = base × (1 + mark-up) at full precision (the workbook's published column is kept for comparison);
    - indirect 'N/A' (Annex II goods) → 0 with dv_indirect_note; Annex IV rows without a split keep direct and
      indirect null (`annex_iv_total_only`).
    """
    _refuse_existing(lf, DV_COLUMNS, "with_default_values")
    tables = _tables(tables)
    dv, _, _, listed = _dv_lookup(tables)
    raw_country = pl.col(country_col).cast(pl.String)
    iso2 = resolve_expr(raw_country)
    digits = _cn_digits_expr(pl.col(cn_col))
    route_req = _route_req_expr(pl.col(route_col) if route_col else None)
    year = pl.col(year_col).cast(pl.String).str.slice(0, 4).cast(pl.Int64, strict=False)
    status_of = dict(
        zip([str(i) for i in dv["__dv_idx"].to_list()], dv["value_status"].to_list(), strict=True)
    )

    lf = lf.with_columns(
        iso2.alias("__iso2"),
        digits.alias("__digits"),
        route_req.alias("__route_req"),
        year.alias("__year"),
        raw_country.alias("__raw_country"),
    )
    country_idx = _dv_idx_expr(tables, pl.col("__iso2"), pl.col("__digits"), pl.col("__route_req"))
    lf = lf.with_columns(country_idx.alias("__idx_country"))
    country_status = (
        pl.col("__idx_country")
        .cast(pl.String)
        .replace_strict(list(status_of), list(status_of.values()), default=None, return_dtype=pl.String)
    )
    fallback_reason = (
        pl.when(pl.col("__iso2").is_null())
        .then(pl.lit("country_unknown"))
        .when(~pl.col("__iso2").is_in(listed))
        .then(pl.lit("country_not_listed"))
        .when(pl.col("__idx_country").is_null())
        .then(pl.lit("cn_not_in_country_table"))
        .when(country_status == "value")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(country_status)
    )  # marker_dash, empty or quarantined
    lf = lf.with_columns(fallback_reason.alias("dv_fallback_reason"))
    target = (
        pl.when(pl.col("dv_fallback_reason").is_null())
        .then(pl.lit("country"))
        .when(pl.col("dv_fallback_reason") == "country_unknown")
        .then(pl.lit("annex_iv"))
        .otherwise(pl.lit("other"))
    )
    other_idx = _dv_idx_expr(tables, pl.lit(OTHER_KEY), pl.col("__digits"), pl.col("__route_req"))
    annex_idx = _dv_idx_expr(tables, pl.lit(ANNEX_IV_KEY), pl.col("__digits"), pl.col("__route_req"))
    lf = lf.with_columns(target.alias("__target")).with_columns(
        pl.when(pl.col("__target") == "country")
        .then(pl.col("__idx_country"))
        .when(pl.col("__target") == "other")
        .then(other_idx)
        .otherwise(annex_idx)
        .alias("__dv_idx")
    )

    right = dv.lazy().select(
        pl.col("__dv_idx"),
        pl.col("table_kind").alias("__m_table"),
        pl.col("cn_code").alias("__m_cn"),
        pl.col("route").alias("__m_route"),
        pl.col("route_key").alias("__m_route_key"),
        pl.col("__route_variants").alias("__m_variants"),
        pl.col("sector").alias("__m_sector"),
        pl.col("direct").alias("__m_direct"),
        pl.col("indirect").alias("__m_indirect"),
        pl.col("total").alias("__m_total"),
        pl.col("value_status").alias("__m_status"),
        pl.col("indirect_status").alias("__m_indirect_status"),
        pl.col("published_2026").alias("__m_p2026"),
        pl.col("published_2027").alias("__m_p2027"),
        pl.col("published_2028").alias("__m_p2028"),
        pl.col("act").alias("__m_act"),
        pl.col("workbook_version").alias("__m_version"),
    )
    lf = lf.join(right, on="__dv_idx", how="left", maintain_order="left")

    found = pl.col("__m_status") == "value"
    mk = tables.markups
    markup_of = dict(
        zip((mk["sector"] + "|" + mk["year_label"]).to_list(), mk["markup_fraction"].to_list(), strict=True)
    )
    year_label = (
        pl.when(pl.col("__year") >= LAST_MARKUP_STEP)
        .then(pl.lit("2028+"))
        .when(pl.col("__year") >= FIRST_MARKUP_YEAR)
        .then(pl.col("__year").cast(pl.String))
    )
    markup = (
        pl.when(pl.col("__year").is_null() | ~found)
        .then(pl.lit(None, dtype=pl.Float64))
        .when(pl.col("__year") < FIRST_MARKUP_YEAR)
        .then(pl.lit(0.0))
        .otherwise(
            pl.concat_str([pl.col("__m_sector"), year_label], separator="|").replace_strict(
                list(markup_of), list(markup_of.values()), default=None, return_dtype=pl.Float64
            )
        )
    )
    not_split = pl.col("__m_indirect_status") == "not_split"
    not_applicable = pl.col("__m_indirect_status") == "not_applicable"
    published = (
        pl.when(pl.col("__year") >= LAST_MARKUP_STEP)
        .then(pl.col("__m_p2028"))
        .when(pl.col("__year") == 2027)
        .then(pl.col("__m_p2027"))
        .when(pl.col("__year") == FIRST_MARKUP_YEAR)
        .then(pl.col("__m_p2026"))
    )
    lf = lf.with_columns(
        pl.when(pl.col("__iso2").is_not_null())
        .then(pl.col("__iso2"))
        .otherwise(pl.col("__raw_country"))
        .alias("dv_requested_country"),
        pl.when(found).then(pl.col("__m_table")).alias("dv_used_table"),
        pl.when(pl.col("__digits").is_null())
        .then(pl.lit("cn_invalid"))
        .when(pl.col("__dv_idx").is_null())
        .then(pl.lit("cn_not_found"))
        .when(~found)
        .then(pl.lit("no_value"))
        .alias("dv_missing_reason"),
        pl.col("__m_cn").alias("dv_cn_matched"),
        pl.col("__m_route").alias("dv_route"),
        pl.col("__m_route_key").alias("dv_route_key"),
        pl.when(pl.col("__m_variants") & (pl.col("__route_req") == "*"))
        .then(pl.lit("route_ambiguous_defaulted_grey"))
        .alias("dv_route_note"),
        pl.col("__m_sector").alias("dv_sector"),
        pl.when(found).then(pl.col("__m_direct")).alias("dv_direct"),
        pl.when(found & not_applicable)
        .then(pl.lit(0.0))
        .when(found)
        .then(pl.col("__m_indirect"))
        .alias("dv_indirect"),
        pl.when(found & not_applicable)
        .then(pl.lit("not_applicable_annex_ii_good_set_to_0"))
        .when(found & not_split)
        .then(pl.lit("annex_iv_total_only"))
        .when(found & pl.col("__m_indirect").is_null())
        .then(pl.col("__m_indirect_status"))
        .alias("dv_indirect_note"),
        pl.when(found).then(pl.col("__m_total")).alias("dv_total"),
        markup.alias("dv_markup"),
        pl.when(~found)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("__year").is_null())
        .then(pl.lit("year_missing"))
        .when(pl.col("__year") < FIRST_MARKUP_YEAR)
        .then(pl.lit("before_2026_no_markup"))
        .alias("dv_markup_note"),
        pl.when(found).then(published).alias("dv_total_published_marked_up"),
        pl.when(found).then(pl.lit("computed: value x (1 + markup)")).alias("dv_markup_variant"),
        pl.when(found).then(pl.col("__m_version")).alias("dv_workbook_version"),
        pl.when(found).then(pl.col("__m_act")).alias("dv_act"),
    ).with_columns(
        (pl.col("dv_direct") * (1 + pl.col("dv_markup"))).alias("dv_direct_marked_up"),
        (pl.col("dv_indirect") * (1 + pl.col("dv_markup"))).alias("dv_indirect_marked_up"),
        (pl.col("dv_total") * (1 + pl.col("dv_markup"))).alias("dv_total_marked_up"),
    )
    internal = [c for c in lf.collect_schema().names() if c.startswith("__")]
    new = set(DV_COLUMNS)
    keep = [c for c in lf.collect_schema().names() if c not in internal and c not in new]
    return lf.select(*keep, *DV_COLUMNS)


def lookup_default(
    country_iso2: str | None,
    cn_code: str,
    year: int,
    route: str | None = None,
    tables: LookupTables | None = None,
) -> dict[str, Any]:
    """Scalar convenience over `with_default_values` (same rules, same columns)."""
    lf = pl.LazyFrame(
        {"country_iso2": [country_iso2], "cn_code": [cn_code], "year": [year], "route": [route]},
        schema={"country_iso2": pl.String, "cn_code": pl.String, "year": pl.Int64, "route": pl.String},
    )
    row = with_default_values(lf, route_col="route", tables=tables).collect().row(0, named=True)
    return {k: row[k] for k in DV_COLUMNS}


# --- grid factors (DVR Annex II, MIR Annex II D.4(a)) ------------------------------------------------------------


@lru_cache(maxsize=8)
def _grid(tables: LookupTables) -> tuple[list[str], list[float], float | None, str | None]:
    df = tables.grid_factors
    countries = df.filter(pl.col("table_kind") == "country")
    other = df.filter(pl.col("table_kind") == "other")
    return (
        countries["iso2"].to_list(),
        countries["value_tco2_per_mwh"].to_list(),
        other["value_tco2_per_mwh"].first(),
        other["act"].first(),
    )


def cbam_grid_factor_expr(
    country: pl.Expr | str = "country_iso2", tables: LookupTables | None = None
) -> pl.Expr:
    """DVR Annex II grid factor (tCO2/MWh) for a country (any accepted spelling); unlisted or unknown → 'Other'."""
    country = pl.col(country) if isinstance(country, str) else country
    iso2s, values, other, _ = _grid(_tables(tables))
    return resolve_expr(country.cast(pl.String)).replace_strict(
        iso2s, values, default=other, return_dtype=pl.Float64
    )


def with_cbam_grid_factor(
    lf: pl.LazyFrame, country_col: str = "country_iso2", tables: LookupTables | None = None
) -> pl.LazyFrame:
    """Add grid_ef_tco2_per_mwh, grid_ef_source ('D.4(a)'), grid_ef_fallback_reason, grid_ef_act."""
    tables = _tables(tables)
    iso2s, _, _, act = _grid(tables)
    iso2 = resolve_expr(pl.col(country_col).cast(pl.String))
    return lf.with_columns(
        cbam_grid_factor_expr(country_col, tables).alias("grid_ef_tco2_per_mwh"),
        pl.lit("D.4(a)").alias("grid_ef_source"),
        pl.when(iso2.is_null())
        .then(pl.lit("country_unknown"))
        .when(~iso2.is_in(iso2s))
        .then(pl.lit("country_not_listed"))
        .alias("grid_ef_fallback_reason"),
        pl.lit(act, dtype=pl.String).alias("grid_ef_act"),
    )
