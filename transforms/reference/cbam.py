"""Reference data the CBAM engine needs, as one injectable object.

`compute_cbam` never reads files: it gets a `CbamReference`. Both constructors go through the project's
reference lookups (transforms/reference/: cn_codes, default_values, cbam_grid), so those rules live there only:
`CbamReference.from_seeds()` over the committed seeds, `CbamReference.from_frames(...)` over small in-memory
tables in the seeds' schema (tests, what-if runs). The engine relies only on the column names documented on
the three lookup callables below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import polars as pl

from transforms.reference import cbam_grid, cn_codes, seeds
from transforms.reference.countries import countries
from transforms.reference.default_values import with_default_values

# (lf, cn_col) → lf + cn_goods_category (String), cn_annex_ii_direct_only (Boolean), cn_functional_unit
# (String: `t`, `t clinker`, `kg N`, `MWh`, ...), cn_in_scope (Boolean).
WithCnInfo = Callable[[pl.LazyFrame, str], pl.LazyFrame]
# (lf, cn_col, country_col ISO2 or null, year_col Int) → lf + dv_direct, dv_indirect, dv_total (tCO2e/t,
# without mark-up), dv_markup (fraction applied), dv_total_marked_up, dv_direct_marked_up, dv_used_table
# (`country`, `other` or `annex_iv`), dv_fallback_reason (null when the requested country's own value was
# used), dv_workbook_version.
WithDefaultValues = Callable[[pl.LazyFrame, str, str, str], pl.LazyFrame]
# (lf, country_col ISO2) → lf + grid_ef_tco2_per_mwh, grid_ef_source (`D.4(a)`), grid_ef_fallback_reason.
WithGridFactor = Callable[[pl.LazyFrame, str], pl.LazyFrame]

DV_COLUMNS = (
    "dv_direct",
    "dv_indirect",
    "dv_total",
    "dv_markup",
    "dv_total_marked_up",
    "dv_direct_marked_up",
    "dv_used_table",
    "dv_fallback_reason",
    "dv_workbook_version",
)
CN_COLUMNS = ("cn_goods_category", "cn_annex_ii_direct_only", "cn_functional_unit", "cn_in_scope")
GRID_COLUMNS = ("grid_ef_tco2_per_mwh", "grid_ef_source", "grid_ef_fallback_reason")


def _exempt_origins() -> frozenset[str]:
    """EU member states and CBAM Reg Annex III pt 1 countries: their precursors count zero."""
    c = countries()
    return frozenset(c.filter(pl.col("is_eu_member") | pl.col("cbam_exempt_origin"))["iso2"].to_list())


@dataclass(frozen=True)
class CbamReference:
    with_cn_info: WithCnInfo
    with_default_values: WithDefaultValues
    with_grid_factor: WithGridFactor
    gwp: Mapping[str, float] = field(default_factory=lambda: dict(seeds.gwp()))  # AR5, MIR Annex II G
    constants: Mapping[str, float] = field(default_factory=seeds.constants)
    exempt_origins: frozenset[str] = field(default_factory=_exempt_origins)
    versions: Mapping[str, str] = field(default_factory=dict)
    # the tables behind the lookups (None: the committed seeds), for tables the engine publishes from them
    lookup: seeds.LookupTables | None = None

    def constant(self, name: str) -> float:
        return float(self.constants[name])

    @classmethod
    def from_seeds(cls) -> CbamReference:
        """The project's committed reference data (the seeds of transforms.reference.seeds.REFERENCE_DIR)."""
        return cls.from_frames()

    @classmethod
    def from_frames(
        cls,
        cn_goods: pl.DataFrame | None = None,
        default_values: pl.DataFrame | None = None,
        markups: pl.DataFrame | None = None,
        grid_factors: pl.DataFrame | None = None,
        *,
        gwp: Mapping[str, float] | None = None,
        constants: Mapping[str, float] | None = None,
        exempt_origins: frozenset[str] | None = None,
    ) -> CbamReference:
        """Reference from small tables with the columns of the seeds cbam_cn_goods, cbam_default_values,
        cbam_markups and cbam_grid_factors (see `seeds.lookup_tables`; a table not given is the committed
        seed), looked up by the same rules as the seeds. `constants` add to or override the seed constants."""
        tables = seeds.lookup_tables(
            default_values=default_values, markups=markups, cn_goods=cn_goods, grid_factors=grid_factors
        )
        versions = tables.default_values["workbook_version"].drop_nulls().unique().sort().to_list()
        return cls(
            with_cn_info=partial(_with_cn_info, tables),
            with_default_values=partial(_with_default_values, tables),
            with_grid_factor=partial(_with_grid_factor, tables),
            gwp=dict(gwp or seeds.gwp()),
            constants={**seeds.constants(), **(constants or {})},
            exempt_origins=exempt_origins if exempt_origins is not None else _exempt_origins(),
            versions={"default_values": ", ".join(versions)},
            lookup=tables,
        )


# Adapters from the reference lookups to the engine's column names: each looks up the distinct keys once and
# joins the answer back, so the caller's own columns never clash with the reference's.


def _with_cn_info(tables: seeds.LookupTables, lf: pl.LazyFrame, cn_col: str) -> pl.LazyFrame:
    keys = lf.select(pl.col(cn_col).alias("_k_cn")).unique().filter(pl.col("_k_cn").is_not_null())
    info = cn_codes.with_cn_info(keys, "_k_cn", tables=tables).select(
        pl.col("_k_cn").alias(cn_col),
        pl.col("goods_category").alias("cn_goods_category"),
        pl.col("annex_ii_direct_only").alias("cn_annex_ii_direct_only"),
        pl.col("functional_unit").alias("cn_functional_unit"),
        pl.col("in_scope").alias("cn_in_scope"),
    )
    out = lf.join(info, on=cn_col, how="left", maintain_order="left")
    return out.with_columns(pl.col("cn_in_scope").fill_null(False)).select(
        *[c for c in lf.collect_schema().names() if c not in CN_COLUMNS], *CN_COLUMNS
    )


def _with_default_values(
    tables: seeds.LookupTables, lf: pl.LazyFrame, cn_col: str, country_col: str, year_col: str
) -> pl.LazyFrame:
    keys = (
        lf.select(
            pl.col(cn_col).alias("_k_cn"),
            pl.col(country_col).alias("_k_country"),
            pl.col(year_col).alias("_k_year"),
        )
        .unique()
        .collect()
    )
    # Looked up on its own (the distinct keys are read from `lf` here, once) and joined back as a table: the
    # lookup's plan holds the default-value keys (35 k texts) as literals, which polars' common-subplan pass
    # hashes again and again (10 of the 17 ms of a lookup of 78 keys); that plan shares no subplan, and the
    # caller's plan no longer holds the literals.
    dv = (
        with_default_values(
            keys.lazy(), country_col="_k_country", cn_col="_k_cn", year_col="_k_year", tables=tables
        )
        .select(
            pl.col("_k_cn").alias(cn_col),
            pl.col("_k_country").alias(country_col),
            pl.col("_k_year").alias(year_col),
            *DV_COLUMNS,
        )
        .collect(optimizations=pl.QueryOptFlags(comm_subplan_elim=False))
    )
    return lf.join(
        dv.lazy(), on=[cn_col, country_col, year_col], how="left", nulls_equal=True, maintain_order="left"
    )


def _with_grid_factor(tables: seeds.LookupTables, lf: pl.LazyFrame, country_col: str) -> pl.LazyFrame:
    return cbam_grid.with_cbam_grid_factor(lf, country_col, tables=tables).select(
        *[c for c in lf.collect_schema().names() if c not in GRID_COLUMNS], *GRID_COLUMNS
    )
