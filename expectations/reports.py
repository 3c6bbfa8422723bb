"""The report gate's content rules that hold for every kind: an exported good without an SEE, or a supplier's
actual SEE implausibly far above the default value, blocks the reports that depend on that installation and
year (never unrelated installations' reports). Kind-specific checks (schema, re-read, reconciliation) live with
each kind. Pure: marts in, failure lines out, each naming the good, the gate and where to look."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

import polars as pl

from expectations import isolation
from transforms.reference.default_values import with_default_values
from transforms.reports.base import NO_INSTALLATION, Marts, ReportDoc, nonfinite_figures

MARTS = ("fct_cbam_export_lines", "fct_precursor_inputs")
OPTIONAL_MARTS = isolation.MARTS  # the row rules of the computed tables, when the warehouse has those marts
SEE_OVER_DEFAULT_LIMIT = 10.0  # a supplier SEE this many times the DVR default is a unit or typing error
REPORT_GATE = "report_gate"

_PREC_COLUMNS = (
    "installation_id",
    "period",
    "supplier_id",
    "material_id",
    "cn_code",
    "origin_country",
    "see_direct",
    "see_indirect",
    "supplier_emissions_row_ids",
)
FailureIndex = dict[tuple[str, str], list[str]]  # (installation_id, year) → failure lines
# lines that block only documents reading a given mart: (mart, installation_id, year) → failure lines
MartFailureIndex = dict[tuple[str, str, str], list[str]]


def content_failures(marts: Marts) -> FailureIndex:
    """Failures per installation and reporting year (year = first four characters of the period)."""
    out: FailureIndex = defaultdict(list)
    lines = marts["fct_cbam_export_lines"].filter(
        pl.col("see_direct").is_null() | pl.col("embedded_chargeable_tco2e").is_null()
    )
    for r in lines.sort("export_id", "line_no").iter_rows(named=True):
        year = str(r["production_period"] or r["declaration_date"] or "")[:4]
        out[(r["installation_id"] or NO_INSTALLATION, year)].append(
            f"report gate: exported good {r['product_id'] or '?'} (CN {r['cn_code'] or '?'}) on export "
            f"{r['export_id']} line {r['line_no']} has no SEE ({r['default_value_reason'] or r['net_mass_note'] or 'no reason recorded'}); "
            f"see marts.fct_cbam_export_lines and fct_goods_see"
        )
    prec = marts["fct_precursor_inputs"].filter(
        (pl.col("see_origin") == "supplier_actual") & (pl.col("period_grain") == "year")
    )
    if not prec.is_empty():
        checked = (
            with_default_values(
                prec.lazy()
                .select(*_PREC_COLUMNS)
                .with_columns(pl.col("period").str.slice(0, 4).cast(pl.Int64, strict=False).alias("__year")),
                country_col="origin_country",
                cn_col="cn_code",
                year_col="__year",
            )
            .filter(
                pl.col("dv_total").is_not_null()
                & (pl.col("dv_total") > 0)
                & (
                    (pl.col("see_direct").fill_null(0) + pl.col("see_indirect").fill_null(0))
                    > SEE_OVER_DEFAULT_LIMIT * pl.col("dv_total")
                )
            )
            .collect()
        )
        for r in checked.sort("installation_id", "period", "material_id").iter_rows(named=True):
            see = (r["see_direct"] or 0) + (r["see_indirect"] or 0)
            out[(r["installation_id"], r["period"][:4])].append(
                f"report gate: supplier {r['supplier_id'] or '?'} communicates SEE {see:.4g} tCO2e/t for "
                f"precursor {r['material_id']} (CN {r['cn_code']}, origin {r['origin_country']}), "
                f"{see / r['dv_total']:.1f}× the default value {r['dv_total']:.4g}; check the unit in "
                f"supplier_emissions ({r['supplier_emissions_row_ids'] or 'no row id'}), see marts.fct_precursor_inputs"
            )
    return dict(out)


def mart_failures(marts: Marts) -> MartFailureIndex:
    """The row rules of expectations/isolation.py on their marts, per mart, installation and year: a failing row
    blocks a document only when it reads that mart or one built from it (a CBAM report never reads a footprint,
    a footprint is built from the CBAM process SEE). A park-level row counts for every installation."""
    found = isolation.findings({m: marts[m] for m in isolation.MARTS if m in marts}, by_mart=True)
    out: MartFailureIndex = defaultdict(list)
    for r, line in zip(found.iter_rows(named=True), isolation.lines(found, "report gate"), strict=True):
        for mart in isolation.affected(r["mart"]):  # the mart and those built from its rows
            out[(mart, r["installation"], r["year"])].append(line)
    return dict(out)


def doc_failures(
    doc: ReportDoc,
    index: FailureIndex,
    by_mart: MartFailureIndex | None = None,
    reads: Collection[str] = (),
) -> list[str]:
    """The content failures that block this document: those of its installations (lines without one count under
    `NO_INSTALLATION`) in its year (`doc.meta["year"]`; all years when absent), the row-rule failures of the
    marts its kind `reads` for those installations and year, plus non-finite figures."""
    year = doc.meta.get("year")

    def mine(inst: str, y: str) -> bool:
        every = inst == isolation.EVERY_INSTALLATION  # a park-level row
        return (every or inst in doc.installations) and (year is None or str(year) == y)

    hits = [line for (inst, y), lines in sorted(index.items()) if mine(inst, y) for line in lines]
    hits += dict.fromkeys(  # a line indexed under several marts the kind reads shows once
        line
        for (mart, inst, y), lines in sorted((by_mart or {}).items())
        if mart in reads and mine(inst, y)
        for line in lines
    )
    hits += [f"report gate: figure {name} is not finite" for name in nonfinite_figures(doc)]
    return hits
