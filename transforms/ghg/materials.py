"""Footprint of purchased non-CBAM inputs, one row per invoice line (shared by the PCF and Scope 3 cat 1/3).

Kinds: `material` (cradle-to-gate footprint, Scope 3 cat 1) and `fuel` (upstream of the fuel only, Scope 3 cat 3;
its combustion is Scope 1 via the CBAM source streams). `precursor` lines go through CBAM (precursor_inputs) and
`service` lines are outside the cut-off; neither appears here.

Factor hierarchy per line: (1) the supplier's own footprint: supplier_emissions.pcf_kgco2e_per_unit of the line's
supplier installation for the material (else its CN code), valid on the invoice date (period_start..period_end,
empty end = one year), latest period_start wins; (2) the material's secondary factor materials.pcf_kgco2e_per_unit;
(3) a gap: zero emissions with `footprint_source = gap` and the reason. Quantities convert to the factor's unit
with the unit table; pieces ↔ tonnes with the material's unit_mass_t; anything else is a gap (unit mismatch).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from transforms.ghg.common import join_reasons, raw_frame
from transforms.stable import FSUM_LEVELS, fsum_levels, fsum_of_levels, quotient
from transforms.units import convert_expr, dimension_expr, to_base_expr

KINDS = ("material", "fuel")

LINE_COLUMNS = [
    "invoice_id", "line_no", "invoice_date", "installation_id", "process_id", "material_id", "kind", "quantity",
    "unit", "supplier_installation_id", "footprint_source", "footprint_kgco2e_per_unit", "footprint_unit",
    "quantity_in_footprint_unit", "tco2e", "scope3_category", "document_ref", "fallback_reason", "source_row_id",
]  # fmt: skip


def _conversion(unit: pl.Expr, target: pl.Expr, unit_mass_t: pl.Expr, prefix: str) -> dict[str, pl.Expr]:
    """`<prefix>_k`: the multiplier taking a quantity in `unit` to `target` (same dimension by the unit table;
    pieces ↔ mass via the material's unit_mass_t; else null: not convertible). Depends only on the units and the
    material: worked out once per distinct key, so that each line only multiplies (`_convert`).

    Divided with `transforms.stable.quotient`: polars divides by a divisor it holds as one broadcast value (e.g.
    the unit factor after exploding one key's lines) as a multiplication by its reciprocal, and by a plain column
    as a true division, so `qty * from / to` came out with different last bits for the same line depending on how
    the rows were chunked (0.011960000000000002 or 0.01196 for 5.2 kg at 2.3 kgCO2e/kg)."""
    du, dt = dimension_expr(unit), dimension_expr(target)
    per_piece = (
        pl.when(du == dt).then(pl.lit(1.0))
        .when((du == "pieces") & (dt == "mass")).then(unit_mass_t)
        .when((du == "mass") & (dt == "pieces")).then(1.0 / unit_mass_t)
    )  # fmt: skip
    # the same unit gives exactly 1.0 (x / x)
    k = quotient(to_base_expr(unit) * per_piece, to_base_expr(target))
    return {f"{prefix}_k": k}


def _convert(qty: pl.Expr, prefix: str) -> pl.Expr:
    """qty → the target unit of `_conversion(..., prefix)`, else null (per line: one multiplication)."""
    return qty * pl.col(f"{prefix}_k")


def _supplier_pcf(raw: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    return (
        raw_frame(raw, "supplier_emissions")
        .filter(pl.col("pcf_kgco2e_per_unit").is_not_null())
        .select(
            "supplier_installation_id",
            "material_id",
            "cn_code",
            "period_start",
            "document_ref",
            period_end=pl.coalesce(
                "period_end", pl.col("period_start").dt.offset_by("1y").dt.offset_by("-1d")
            ),
            sup_pcf="pcf_kgco2e_per_unit",
            sup_unit="pcf_unit",
        )
    )


def _priced(raw: Mapping[str, pl.LazyFrame], invoices: pl.LazyFrame) -> pl.LazyFrame:
    """Invoice rows (`supplier_invoices` columns) of materials and fuels with what their footprint depends on
    besides the quantity: material, process and kind, the supplier footprint that applies (sup_pcf, sup_unit,
    document_ref), the secondary one (sec_pcf, sec_unit) and how the quantity converts to each (`_conversion`)."""
    materials = (
        raw_frame(raw, "materials")
        .filter(pl.col("kind").is_in(KINDS))
        .select(
            "material_id",
            "kind",
            mat_cn="cn_code",
            process_id="consumed_in_process_id",
            mat_unit_mass_t="unit_mass_t",
            sec_pcf="pcf_kgco2e_per_unit",
            sec_unit="pcf_unit",
        )
    )
    suppliers = raw_frame(raw, "suppliers").select(
        "supplier_id", supplier_default_installation="installation_id"
    )
    lines = (
        invoices.join(materials, on="material_id", how="inner")
        .join(suppliers.sort(pl.all(), nulls_last=True).unique("supplier_id", keep="first", maintain_order=True),
              on="supplier_id", how="left")
        .with_columns(sup_inst=pl.coalesce("supplier_installation_id", "supplier_default_installation"),
                      line_cn=pl.coalesce("cn_code", "mat_cn"))
    )  # fmt: skip
    # the supplier footprint depends only on these columns: matched once per distinct key (a few thousand at
    # demo scale 100) rather than per invoice line (millions), then joined back
    match_keys = ["invoice_date", "sup_inst", "material_id", "line_cn"]
    line_keys = lines.select(match_keys).unique()
    pcf = _supplier_pcf(raw)
    by_material = line_keys.join(
        pcf.filter(pl.col("material_id").is_not_null()).drop("cn_code"),
        left_on=["sup_inst", "material_id"],
        right_on=["supplier_installation_id", "material_id"],
        how="inner",
    ).with_columns(match_rank=pl.lit(0))
    by_cn = line_keys.join(
        pcf.filter(pl.col("cn_code").is_not_null()).drop("material_id"),
        left_on=["sup_inst", "line_cn"], right_on=["supplier_installation_id", "cn_code"], how="inner",
    ).with_columns(match_rank=pl.lit(1))  # fmt: skip
    best = (
        pl.concat([by_material, by_cn], how="diagonal")
        .filter((pl.col("period_start") <= pl.col("invoice_date")) & (pl.col("invoice_date") <= pl.col("period_end")))
        # a total order (ties broken by the values themselves), then the first row of each key in that order
        # (group_by keeps the order within a group): the same pick whatever the file order or the threads
        .sort(["match_rank", "period_start", "document_ref", "sup_pcf", "sup_unit"],
              descending=[False, True, False, False, False], nulls_last=True)
        .group_by(match_keys).first()
        .select(*match_keys, "sup_pcf", "sup_unit", "document_ref")
    )  # fmt: skip
    return (
        lines.drop("document_ref", strict=False)
        .join(best, on=match_keys, how="left", nulls_equal=True)
        .with_columns(
            **_conversion(pl.col("unit"), pl.col("sup_unit"), pl.col("mat_unit_mass_t"), "sup"),
            **_conversion(pl.col("unit"), pl.col("sec_unit"), pl.col("mat_unit_mass_t"), "sec"),
        )
    )


def _footprint(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Per invoice line (`_priced` columns and `quantity`): the quantities in the footprint units, which footprint
    is used (use_sup, use_sec) and `tco2e`."""
    return (
        lines.with_columns(
            sup_qty=_convert(pl.col("quantity"), "sup"),
            sec_qty=_convert(pl.col("quantity"), "sec"),
        )
        .with_columns(use_sup=pl.col("sup_pcf").is_not_null() & pl.col("sup_qty").is_not_null())
        .with_columns(
            use_sec=~pl.col("use_sup") & pl.col("sec_pcf").is_not_null() & pl.col("sec_qty").is_not_null()
        )
        .with_columns(tco2e=_tco2e(pl.col("use_sup"), pl.col("use_sec")))
    )


def _tco2e(use_sup: pl.Expr, use_sec: pl.Expr) -> pl.Expr:
    qty_used = pl.when(use_sup).then("sup_qty").when(use_sec).then("sec_qty")
    factor = pl.when(use_sup).then("sup_pcf").when(use_sec).then("sec_pcf")
    return convert_expr(qty_used * factor, "kgCO2", "tCO2").fill_null(0.0)


def _source(use_sup: pl.Expr, use_sec: pl.Expr) -> pl.Expr:
    return (
        pl.when(use_sup).then(pl.lit("supplier_specific")).when(use_sec).then(pl.lit("secondary"))
        .otherwise(pl.lit("gap"))
    )  # fmt: skip


def purchased_material_lines(raw: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Invoice lines of materials and fuels with their footprint (columns LINE_COLUMNS)."""
    lines = _footprint(_priced(raw, raw_frame(raw, "supplier_invoices")))
    use_sup, use_sec = pl.col("use_sup"), pl.col("use_sec")
    fallback_reason = join_reasons(
        pl.when(pl.col("sup_pcf").is_not_null() & pl.col("sup_qty").is_null()).then(
            pl.lit("supplier footprint unit ") + pl.col("sup_unit").fill_null("?") + pl.lit(" not convertible from ")
            + pl.col("unit").fill_null("?")),
        pl.when(~use_sup & pl.col("sec_pcf").is_not_null() & pl.col("sec_qty").is_null()).then(
            pl.lit("secondary footprint unit ") + pl.col("sec_unit").fill_null("?") + pl.lit(" not convertible from ")
            + pl.col("unit").fill_null("?")),
        pl.when(~use_sup & ~use_sec).then(pl.lit("no supplier or secondary footprint: counted as zero (gap)")),
    )  # fmt: skip
    qty_used = pl.when(use_sup).then("sup_qty").when(use_sec).then("sec_qty")
    factor = pl.when(use_sup).then("sup_pcf").when(use_sec).then("sec_pcf")
    return lines.select(
        "invoice_id", "line_no", "invoice_date", "installation_id", "process_id", "material_id", "kind", "quantity",
        "unit", supplier_installation_id="sup_inst",
        footprint_source=_source(use_sup, use_sec),
        footprint_kgco2e_per_unit=factor,
        footprint_unit=pl.when(use_sup).then("sup_unit").when(use_sec).then("sec_unit"),
        quantity_in_footprint_unit=qty_used,
        tco2e="tco2e",
        scope3_category=pl.when(pl.col("kind") == "fuel").then(pl.lit(3, pl.Int8)).otherwise(pl.lit(1, pl.Int8)),
        document_ref=pl.when(use_sup).then("document_ref"),
        fallback_reason=pl.when(~use_sup).then(fallback_reason),
        source_row_id="_source_row_id",
    )  # fmt: skip


# the invoice-line columns the footprint and inventory engines read (no per-line texts)
ENGINE_COLUMNS = [
    "installation_id",
    "process_id",
    "invoice_date",
    "material_id",
    "kind",
    "footprint_source",
    "tco2e",
]


# the invoice columns the footprint depends on besides the quantity (everything `_priced` reads)
PRICE_KEY = ["installation_id", "invoice_date", "supplier_id", "supplier_installation_id", "material_id", "cn_code",
             "unit"]  # fmt: skip


def _engine_lines(raw: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Material and fuel invoice lines with DAY_KEYS and `tco2e` (lazy).

    Millions of invoice lines share a few thousand distinct PRICE_KEY values: the joins, the supplier match and
    the unit lookups run once per key (`_priced` of the distinct keys), and each line is joined to its key's
    factors, so that only the arithmetic (`_footprint`) runs per line, the same operations as line by line. Both
    steps stream (polars' streaming engine): the lines are read in batches, never held all at once."""
    invoices = raw_frame(raw, "supplier_invoices")
    keys = invoices.select(PRICE_KEY).unique().collect(engine="streaming")
    priced = (
        _priced(raw, keys.lazy())
        .select(*PRICE_KEY, "process_id", "kind", "sup_pcf", "sec_pcf", "sup_k", "sec_k")
        .collect()
    )
    lines = invoices.select(*PRICE_KEY, "quantity").join(priced.lazy(), on=PRICE_KEY, nulls_equal=True)
    return _footprint(lines).with_columns(footprint_source=_source(pl.col("use_sup"), pl.col("use_sec")))


def engine_material_lines(raw: Mapping[str, pl.LazyFrame]) -> pl.DataFrame:
    """`purchased_material_lines` with only ENGINE_COLUMNS, materialised, the same values line by line (the
    engines read them summed per day: `engine_material_days`)."""
    return _engine_lines(raw).select(ENGINE_COLUMNS).collect(engine="streaming")


# the columns a day of material and fuel lines is summed by (`engine_material_days`)
DAY_KEYS = ENGINE_COLUMNS[:-1]
# `fsum`'s exact per-grid sums of the day's line tco2e: days sum further to the bit (`days_tco2e`)
TCO2E_LEVELS = [f"tco2e_level_{i}" for i in range(FSUM_LEVELS)]


def engine_material_days(raw: Mapping[str, pl.LazyFrame]) -> pl.DataFrame:
    """`engine_material_lines` summed per DAY_KEYS: `tco2e` (the `fsum` of the day's lines), its per-grid sums
    TCO2E_LEVELS and `lines` (how many), computed once per GHG stage for the footprint and inventory engines
    (`transforms.ghg.compute.compute_ghg`). Streamed: at scale 100 (3.7 M invoice lines) it peaks at about a
    third of the memory an in-memory group-by of the lines took, and the fresh pages were most of its time."""
    levels = (level.alias(n) for level, n in zip(fsum_levels(pl.col("tco2e")), TCO2E_LEVELS, strict=True))
    days = (
        _engine_lines(raw)
        .group_by(DAY_KEYS)
        .agg(*levels, lines=pl.len().cast(pl.Int64))
        .collect(engine="streaming")
    )
    return days.select(*DAY_KEYS, fsum_of_levels([pl.col(n) for n in TCO2E_LEVELS]).alias("tco2e"),
                       *TCO2E_LEVELS, "lines")  # fmt: skip


def days_tco2e(when: pl.Expr | None = None) -> pl.Expr:
    """In `agg` over rows of `engine_material_days`: the `fsum` of their lines' tco2e (only of the rows where
    `when` holds), the same bits as `fsum` over the lines themselves."""
    levels = [
        pl.col(n) if when is None else pl.when(when).then(pl.col(n)).otherwise(0.0) for n in TCO2E_LEVELS
    ]
    return fsum_of_levels([level.sum() for level in levels])
