"""Reference data the CBAM engine needs, as one injectable object.

`compute_cbam` never reads files: it gets a `CbamReference`. `CbamReference.from_seeds()` wraps the project's
reference API (transforms/reference.py over the committed seeds); `CbamReference.from_frames(...)` builds one
from small in-memory tables (tests, what-if runs). The engine relies only on the column names documented on
the three lookup callables below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import polars as pl

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

# MIR Annex II G Table 6 (AR5; do not swap in AR6). `CO2e` = already in CO2 equivalents.
GWP_AR5: Mapping[str, float] = MappingProxyType(
    {"CO2": 1.0, "CO2e": 1.0, "N2O": 265.0, "CF4": 6630.0, "C2F6": 11100.0}
)
CONSTANTS: Mapping[str, float] = MappingProxyType(
    {
        "f_co2_per_c": 3.664,  # tCO2/tC, MIR Annex II B (Eq 8, 9, 12)
        "ef_natural_gas_tco2_per_tj": 56.1,  # EF_NG for waste-gas correction, MIR Annex III A.3 (Eq 53, 54)
        "corr_eta_waste_gas": 0.667,  # Corr_η, Eq 54
    }
)


def _exempt_origins() -> frozenset[str]:
    """EU member states and CBAM Reg Annex III pt 1 countries: their precursors count zero."""
    from transforms.countries import countries

    c = countries()
    return frozenset(c.filter(pl.col("is_eu_member") | pl.col("cbam_exempt_origin"))["iso2"].to_list())


@dataclass(frozen=True)
class CbamReference:
    with_cn_info: WithCnInfo
    with_default_values: WithDefaultValues
    with_grid_factor: WithGridFactor
    gwp: Mapping[str, float] = field(default_factory=lambda: dict(GWP_AR5))
    constants: Mapping[str, float] = field(default_factory=lambda: dict(CONSTANTS))
    exempt_origins: frozenset[str] = field(default_factory=_exempt_origins)
    versions: Mapping[str, str] = field(default_factory=dict)

    def constant(self, name: str) -> float:
        return float(self.constants[name])

    @classmethod
    def from_seeds(cls) -> CbamReference:
        """The project's committed reference data (transforms/reference.py over
        dbt_project/seeds/reference)."""
        from transforms.cbam import _seeds

        return _seeds.reference_from_seeds(cls)

    @classmethod
    def from_frames(
        cls,
        cn_info: pl.DataFrame,
        default_values: pl.DataFrame | None = None,
        grid_factors: pl.DataFrame | None = None,
        *,
        gwp: Mapping[str, float] | None = None,
        constants: Mapping[str, float] | None = None,
        exempt_origins: frozenset[str] | None = None,
        workbook_version: str = "in-memory",
    ) -> CbamReference:
        """Reference from small tables.

        - `cn_info`: cn_code (8-digit or shorter prefix), goods_category, annex_ii_direct_only,
          functional_unit.
        - `default_values`: table (ISO2, `OTHER`, `ANNEX_IV`), cn_code (prefix), dv_direct, dv_indirect,
          dv_total (null = the workbook's '–'), markup_2026, markup_2027, markup_2028 (fractions; years before
          2026 take the 2026 mark-up, 2028 onward the 2028 one). Longest CN prefix wins; fallback to `OTHER`
          (country not listed, CN not in its table, or a '–') or `ANNEX_IV` (country unknown), recorded in
          dv_fallback_reason.
        - `grid_factors`: country (ISO2 or `OTHER`), ef_tco2_per_mwh; unlisted countries fall back to `OTHER`.
        """
        dv = default_values if default_values is not None else _EMPTY_DV
        grid = (
            grid_factors
            if grid_factors is not None
            else pl.DataFrame(schema={"country": pl.String, "ef_tco2_per_mwh": pl.Float64})
        )
        return cls(
            with_cn_info=lambda lf, cn_col: _frame_cn_info(lf, cn_col, cn_info),
            with_default_values=lambda lf, cn, country, year: _frame_dv(
                lf, cn, country, year, dv, workbook_version
            ),
            with_grid_factor=lambda lf, country: _frame_grid(lf, country, grid),
            gwp=dict(gwp or GWP_AR5),
            constants={**CONSTANTS, **(constants or {})},
            exempt_origins=exempt_origins if exempt_origins is not None else _exempt_origins(),
            versions={"default_values": workbook_version},
        )


_EMPTY_DV = pl.DataFrame(
    schema={
        "table": pl.String,
        "cn_code": pl.String,
        "dv_direct": pl.Float64,
        "dv_indirect": pl.Float64,
        "dv_total": pl.Float64,
        "markup_2026": pl.Float64,
        "markup_2027": pl.Float64,
        "markup_2028": pl.Float64,
    }
)


def _longest_prefix(
    keys: pl.LazyFrame, cn_col: str, table: pl.LazyFrame, extra_on: list[str]
) -> pl.LazyFrame:
    """Rows of `keys` joined to the `table` row whose cn_code is the longest prefix of `cn_col`."""
    cand = keys.join(table, on=extra_on, how="inner") if extra_on else keys.join(table, how="cross")
    cand = cand.filter(pl.col(cn_col).str.starts_with(pl.col("_t_cn")))
    best = pl.col("_t_cn").str.len_chars()
    return cand.filter(best == best.max().over([*extra_on, cn_col]))


def _frame_cn_info(lf: pl.LazyFrame, cn_col: str, cn_info: pl.DataFrame) -> pl.LazyFrame:
    table = cn_info.lazy().select(
        pl.col("cn_code").alias("_t_cn"),
        pl.col("goods_category").alias("cn_goods_category"),
        pl.col("annex_ii_direct_only").cast(pl.Boolean).alias("cn_annex_ii_direct_only"),
        pl.col("functional_unit").alias("cn_functional_unit"),
    )
    keys = lf.select(pl.col(cn_col)).drop_nulls().unique()
    hit = _longest_prefix(keys, cn_col, table, []).drop("_t_cn").with_columns(cn_in_scope=pl.lit(True))
    out = lf.join(hit, on=cn_col, how="left")
    return out.with_columns(pl.col("cn_in_scope").fill_null(False))


def _frame_dv(
    lf: pl.LazyFrame, cn_col: str, country_col: str, year_col: str, dv: pl.DataFrame, version: str
) -> pl.LazyFrame:
    table = dv.lazy().rename({"cn_code": "_t_cn"})
    keys = lf.select(pl.col(cn_col), pl.col(country_col), pl.col(year_col)).unique()
    tables = set(dv["table"].to_list())
    req = keys.with_columns(
        table=pl.when(pl.col(country_col).is_null()).then(pl.lit("ANNEX_IV")).otherwise(pl.col(country_col))
    )
    own = _longest_prefix(req, cn_col, table, ["table"])
    own = own.select(
        cn_col,
        country_col,
        year_col,
        "table",
        "dv_direct",
        "dv_indirect",
        "dv_total",
        "markup_2026",
        "markup_2027",
        "markup_2028",
    )
    other = _longest_prefix(keys.with_columns(table=pl.lit("OTHER")), cn_col, table, ["table"]).select(
        cn_col,
        country_col,
        year_col,
        "table",
        "dv_direct",
        "dv_indirect",
        "dv_total",
        "markup_2026",
        "markup_2027",
        "markup_2028",
    )
    with_own = keys.join(own, on=[cn_col, country_col, year_col], how="left", nulls_equal=True)
    with_other = with_own.join(
        other, on=[cn_col, country_col, year_col], how="left", nulls_equal=True, suffix="_other"
    )
    unknown = pl.col(country_col).is_null()
    use_own = pl.col("dv_total").is_not_null() | unknown  # unknown origin: Annex IV only, no further fallback
    reason = (
        pl.when(unknown)
        .then(pl.lit("country_unknown"))
        .when(pl.col("dv_total").is_not_null())
        .then(None)
        .when(~pl.col(country_col).is_in(list(tables)))
        .then(pl.lit("country_not_listed"))
        .when(pl.col("table").is_null())
        .then(pl.lit("cn_not_in_country_table"))
        .otherwise(pl.lit("marker_dash"))
    )

    def pick(c: str) -> pl.Expr:
        return pl.when(use_own).then(pl.col(c)).otherwise(pl.col(f"{c}_other"))

    year = pl.col(year_col)
    markup = (
        pl.when(year >= 2028)
        .then(pick("markup_2028"))
        .when(year == 2027)
        .then(pick("markup_2027"))
        .otherwise(pick("markup_2026"))
    )
    resolved = with_other.with_columns(
        dv_direct=pick("dv_direct"),
        dv_indirect=pick("dv_indirect"),
        dv_total=pick("dv_total"),
        dv_markup=markup,
        dv_used_table=pl.when(use_own)
        .then(
            pl.when(pl.col("dv_total").is_not_null()).then(
                pl.when(unknown).then(pl.lit("annex_iv")).otherwise(pl.lit("country"))
            )
        )
        .otherwise(pl.when(pl.col("dv_total_other").is_not_null()).then(pl.lit("other"))),
        dv_fallback_reason=reason,
        dv_workbook_version=pl.lit(version),
    ).with_columns(
        dv_total_marked_up=pl.col("dv_total") * (1.0 + pl.col("dv_markup")),
        dv_direct_marked_up=pl.col("dv_direct") * (1.0 + pl.col("dv_markup")),
    )
    return lf.join(
        resolved.select(cn_col, country_col, year_col, *DV_COLUMNS),
        on=[cn_col, country_col, year_col],
        how="left",
        nulls_equal=True,
    )


def _frame_grid(lf: pl.LazyFrame, country_col: str, grid: pl.DataFrame) -> pl.LazyFrame:
    g = grid.lazy().select(pl.col("country"), pl.col("ef_tco2_per_mwh"))
    other = grid.filter(pl.col("country") == "OTHER")["ef_tco2_per_mwh"]
    other_ef = other[0] if other.len() else None
    out = lf.join(g.rename({"country": country_col, "ef_tco2_per_mwh": "_ef"}), on=country_col, how="left")
    return out.with_columns(
        grid_ef_tco2_per_mwh=pl.coalesce("_ef", pl.lit(other_ef, dtype=pl.Float64)),
        grid_ef_source=pl.lit("D.4(a)"),
        grid_ef_fallback_reason=pl.when(pl.col("_ef").is_null()).then(pl.lit("country_not_listed")),
    ).drop("_ef")
