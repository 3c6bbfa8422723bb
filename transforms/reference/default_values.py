"""DVR default values: the value of a good (CN code) from a country for a year, with its mark-up.

Rules in `with_default_values` (DVR Annex I preamble, Art 1(5)); every fallback is recorded in a column with its
reason. Vectorised: dict-backed `replace_strict` on composite prefix keys plus one left join, row order kept.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import polars as pl

from transforms.reference.cn_codes import cn_digits_expr, prefix_expr
from transforms.reference.countries import resolve_expr
from transforms.reference.seeds import LookupTables, refuse_existing, tables_or_seeds

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


@lru_cache(maxsize=8)
def _dv_key_series(tables: LookupTables) -> dict[int, tuple[pl.Series, pl.Series]]:
    """`_dv_lookup`'s keys as Series, built once: from Python lists, every lookup would spend most of its time
    turning the thousands of keys into Series again."""
    _, keys, idx, _ = _dv_lookup(tables)
    return {n: (pl.Series(keys[n], dtype=pl.String), pl.Series(idx[n], dtype=pl.String)) for n in keys}


def _dv_idx_expr(tables: LookupTables, tbl: pl.Expr, digits: pl.Expr, route_req: pl.Expr) -> pl.Expr:
    series = _dv_key_series(tables)
    parts = [
        pl.concat_str([tbl, prefix_expr(digits, n), route_req], separator="|").replace_strict(
            series[n][0], series[n][1], default=None, return_dtype=pl.String
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

    Rules (DVR Annex I preamble, Art 1(5); docs/methodology/cbam.md (d)):
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
    refuse_existing(lf, DV_COLUMNS, "with_default_values")
    tables = tables_or_seeds(tables)
    dv, _, _, listed = _dv_lookup(tables)
    raw_country = pl.col(country_col).cast(pl.String)
    iso2 = resolve_expr(raw_country)
    digits = cn_digits_expr(pl.col(cn_col))
    route_req = _route_req_expr(pl.col(route_col) if route_col else None)
    year = pl.col(year_col).cast(pl.String).str.slice(0, 4).cast(pl.Int64, strict=False)

    lf = lf.with_columns(
        iso2.alias("__iso2"),
        digits.alias("__digits"),
        route_req.alias("__route_req"),
        year.alias("__year"),
        raw_country.alias("__raw_country"),
    )
    country_idx = _dv_idx_expr(tables, pl.col("__iso2"), pl.col("__digits"), pl.col("__route_req"))
    lf = lf.with_columns(country_idx.alias("__idx_country"))
    country_status = pl.col("__idx_country").replace_strict(
        dv["__dv_idx"], dv["value_status"], default=None, return_dtype=pl.String
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
