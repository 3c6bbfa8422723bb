"""The importer's annual CBAM declaration data pack (docs/outputs.md "Reports"; docs/methodology/cbam.md (e)): one document
per importer EORI × import year from 2026, built from the mart fct_cbam_declaration_lines (lines per installation
× origin × CN code) and fct_cbam_export_lines (the quarter of each import, and the totals the pack must equal).

The model holds the CBAM Reg Art 6(2) quantities: net mass and embedded emissions (actual / default, verified
flag), free-allocation adjustment, carbon price deduction, certificates due per line, per CN code × origin and in
total; the 50-tonne threshold status (Art 2a); the estimated cost at the configured certificate price; and for
import years 2027 on the Art 22(2) quarterly holding estimate. Every number is the mart's (full precision);
writers round only for display. Pure: no I/O except in `write`/`check`, which delegate to the writer module.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from transforms.reference import seeds
from transforms.reports.base import Figure, Marts, ReportConfig, ReportDoc, import_year_expr, safe_key

NAME = "declaration_pack"
WRITER_VERSION = "declaration-pack/1"
REQUIRED_MARTS = ("fct_cbam_declaration_lines", "fct_cbam_export_lines")
FIRST_YEAR = 2026  # definitive period: the first annual declaration covers 2026 imports
FIRST_HOLDING_YEAR = 2027  # Art 22(2): quarterly holdings from 2027
HOLDING_SHARE = 0.5  # Art 22(2): at least 50 % of the embedded emissions imported since 1 January

# Quantities of a line, in the order the writers show them (unit in the name or in UNITS).
LINE_NUMBERS = (
    "export_line_count",
    "net_mass_t",
    "embedded_tco2e",
    "embedded_actual_tco2e",
    "embedded_default_tco2e",
    "embedded_direct_tco2e",
    "embedded_indirect_tco2e",
    "sefa_tco2e_per_t",
    "free_allocation_adjustment_tco2e",
    "carbon_price_deduction_tco2e",
    "certificates_due",
    "certificates_due_after_threshold",
    "estimated_cost_eur",
)
LINE_TEXTS = (
    "installation_id",
    "origin_country",
    "cn_code",
    "determination",
    "verified",
    "verified_reason",
    "never_de_minimis",
    "exempt_de_minimis",
    "faa_basis",
    "carbon_price_reason",
)
SUM_FIELDS = (
    "net_mass_t",
    "embedded_tco2e",
    "embedded_actual_tco2e",
    "embedded_default_tco2e",
    "embedded_direct_tco2e",
    "embedded_indirect_tco2e",
    "free_allocation_adjustment_tco2e",
    "carbon_price_deduction_tco2e",
    "certificates_due",
    "certificates_due_after_threshold",
)
KEY_COLS = ("installation_id", "origin_country", "cn_code")


def threshold_status(lines: list[dict[str, Any]], limit_t: float) -> dict[str, Any]:
    """CBAM Reg Art 2a: an importer whose net mass of goods, all CN codes aggregated, does not exceed `limit_t` in a
    calendar year is exempt; electricity and hydrogen are never exempt (and their mass, MWh for electricity, does
    not count towards the threshold). Once exceeded, every import of the year is in."""
    counted = math.fsum(ln["net_mass_t"] or 0.0 for ln in lines if not ln["never_de_minimis"])
    never = [ln for ln in lines if ln["never_de_minimis"]]
    exempt = counted <= limit_t
    if exempt and never:
        status = "goods other than electricity and hydrogen exempt; electricity / hydrogen never exempt"
    elif exempt:
        status = "exempt"
    else:
        status = "not exempt: threshold exceeded"
    return {
        "limit_t": limit_t,
        "net_mass_t_counted": counted,
        "never_exempt_lines": len(never),
        "exempt": exempt,
        "status": status,
        "rule": "CBAM Reg Art 2a: net mass of all CN codes aggregated per calendar year <= limit exempt; "
        "never for electricity (2716) or hydrogen (2804 10); once exceeded, all that year's imports are in",
    }


def quarterly_holding(
    lines: list[dict[str, Any]], quarter_mass: pl.DataFrame, year: int, exempt: bool
) -> dict[str, Any] | None:
    """Art 22(2) estimate for import years 2027 on: at each quarter end, certificates held >= 50 % of the embedded
    emissions of goods imported since 1 January, on default values without mark-up, net of the free-allocation
    adjustment. Per line: cumulative mass × max(0, DVR default without mark-up − SEFA); a line without a default
    value (e.g. electricity) uses its own embedded emissions per tonne (recorded). `quarter_mass` has the KEY_COLS,
    `quarter` (1-4) and `net_mass_t` of that quarter's imports."""
    if year < FIRST_HOLDING_YEAR:
        return None
    by_key: dict[tuple, dict[int, float]] = {}
    for r in quarter_mass.iter_rows(named=True):
        by_key.setdefault(tuple(r[c] for c in KEY_COLS), {})[r["quarter"]] = r["net_mass_t"] or 0.0
    quarters = []
    fallbacks: set[str] = set()
    for q in range(1, 5):
        basis, faa, mass = [], [], []
        for ln in lines:
            if exempt and not ln["never_de_minimis"]:
                continue
            m = math.fsum(v for k, v in by_key.get(tuple(ln[c] for c in KEY_COLS), {}).items() if k <= q)
            per_t = ln["dv_unmarked_tco2e_per_t"]
            if per_t is None:
                fallbacks.add(ln["cn_code"] or "(no CN)")
                per_t = (ln["embedded_tco2e"] / ln["net_mass_t"]) if ln["net_mass_t"] else 0.0
            sefa = ln["sefa_tco2e_per_t"] or 0.0
            mass.append(m)
            basis.append(m * per_t)
            faa.append(m * sefa)
        net = math.fsum(max(0.0, b - f) for b, f in zip(basis, faa, strict=True))
        quarters.append(
            {
                "quarter": q,
                "quarter_end": date(year, 3 * q, 31 if q in (1, 4) else 30).isoformat(),
                "net_mass_t_cumulative": math.fsum(mass),
                "embedded_default_unmarked_tco2e": math.fsum(basis),
                "free_allocation_adjustment_tco2e": math.fsum(faa),
                "holding_certificates": HOLDING_SHARE * net,
            }
        )
    return {
        "share": HOLDING_SHARE,
        "basis": "CBAM Reg Art 22(2): default values without mark-up (DVR total of the CN code and origin) × net mass "
        "imported since 1 January, net of the free-allocation adjustment (SEFA of the declaration lines), per line "
        "floored at 0, × 50 %. Last year's surrendered values are not used (not in the inputs).",
        "lines_without_default": sorted(fallbacks),
        "quarters": quarters,
    }


def _line_record(r: dict[str, Any], exempt: bool, price: float | None) -> dict[str, Any]:
    due = r["certificates_due"]
    after = 0.0 if (exempt and not r["never_de_minimis"]) else due
    return {
        **{c: r[c] for c in ("installation_id", "origin_country", "cn_code", "determination")},
        "verified": bool(r["verified"]),
        "verified_reason": r["verified_reason"],
        "never_de_minimis": bool(r["never_de_minimis"]),
        "exempt_de_minimis": exempt and not r["never_de_minimis"],
        **{c: r[c] for c in LINE_NUMBERS if c in r and c not in ("certificates_due_after_threshold",)},
        "certificates_due_after_threshold": after,
        "estimated_cost_eur": None if price is None else after * price,
        "faa_basis": r["faa_basis"],
        "carbon_price_reason": r["carbon_price_reason"],
        "carbon_price_evidence": r["carbon_price_evidence"],
        "carbon_price_paid_amount": r["carbon_price_paid_amount"],
        "carbon_price_currency": r["carbon_price_currency"],
        "dv_unmarked_tco2e_per_t": r["dv_unmarked_tco2e_per_t"],
        "cbam_factor": r["cbam_factor"],
        "cscf": r["cscf"],
        "cscf_status": r["cscf_status"],
        "source_row_ids": list(r["source_row_ids"] or []),
        "carbon_price_source_row_ids": list(r["carbon_price_source_row_ids"] or []),
    }


def _sum(rows: list[dict[str, Any]], price: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {f: math.fsum(r[f] or 0.0 for r in rows) for f in SUM_FIELDS}
    out["export_line_count"] = sum(r["export_line_count"] for r in rows)
    out["estimated_cost_eur"] = None if price is None else out["certificates_due_after_threshold"] * price
    return out


def _sort_key(r: dict[str, Any]) -> tuple:
    return tuple(r[c] or "" for c in KEY_COLS)


def build_pack(
    decl: pl.DataFrame, quarter_mass: pl.DataFrame, eori: str | None, year: int, config: ReportConfig
) -> ReportDoc:
    """One pack from the importer-year's rows of fct_cbam_declaration_lines and its imports per quarter."""
    limit = seeds.constant("de_minimis_net_mass_t")
    rows = sorted(decl.to_dicts(), key=_sort_key)
    price = config.certificate_price_eur_per_t
    threshold = threshold_status(rows, limit)
    lines = [_line_record(r, threshold["exempt"], price) for r in rows]
    by_cn: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ln in lines:
        by_cn.setdefault((ln["cn_code"] or "", ln["origin_country"] or ""), []).append(ln)
    totals_by_cn = [
        {"cn_code": cn, "origin_country": oc, **_sum(g, price)} for (cn, oc), g in sorted(by_cn.items())
    ]
    names = [n for n in decl.sort("net_mass_t", descending=True)["importer_name"].to_list() if n]
    first = rows[0] if rows else {}
    model: dict[str, Any] = {
        "writer_version": WRITER_VERSION,
        "kind": NAME,
        "status": "estimate of the importer's liability from the operator's data; not a filing",
        "importer": {"eori": eori, "name": names[0] if names else None},
        "year": year,
        "created": config.run_date.isoformat(),
        "declaration_due": date(year + 1, 9, 30).isoformat(),
        "certificate_price": {
            "eur_per_t": price,
            "source": config.certificate_price_source,
            "note": None
            if price is not None
            else "no certificate price configured (--certificate-price or LINGTAN_CERTIFICATE_PRICE): costs are null",
        },
        "factors": {
            "cbam_factor": first.get("cbam_factor"),
            "cscf": first.get("cscf"),
            "cscf_status": first.get("cscf_status"),
        },
        "threshold": threshold,
        "lines": lines,
        "totals_by_cn_origin": totals_by_cn,
        "total": _sum(lines, price),
        "quarterly_holding": quarterly_holding(rows, quarter_mass, year, threshold["exempt"]),
    }
    sources = {
        s.split("#", 1)[0] for ln in lines for s in ln["source_row_ids"] + ln["carbon_price_source_row_ids"]
    }
    return ReportDoc(
        kind=NAME,
        key=safe_key(eori or "no-eori", year),
        title=f"CBAM declaration data pack {eori or '(no EORI)'} {year}",
        model=model,
        figures=figures(model),
        sources=frozenset(sources),
        installations=frozenset(ln["installation_id"] for ln in lines if ln["installation_id"]),
        meta={"importer_eori": eori, "year": year},
    )


def _fig(v: Any) -> Figure:
    return v if v is None or isinstance(v, (bool, int, float, str)) else str(v)


def figures(model: dict[str, Any]) -> dict[str, Figure]:
    """Every number and text the pack shows, flattened: `line/<installation>/<origin>/<cn>/<field>`,
    `total_cn/<cn>/<origin>/<field>`, `total/<field>`, `threshold/<field>`, `holding/<quarter_end>/<field>`."""
    out: dict[str, Figure] = {
        "certificate_price/eur_per_t": model["certificate_price"]["eur_per_t"],
        "certificate_price/source": model["certificate_price"]["source"],
        **{f"factors/{k}": _fig(v) for k, v in model["factors"].items()},
        **{f"threshold/{k}": _fig(v) for k, v in model["threshold"].items()},
        **{f"total/{k}": _fig(v) for k, v in model["total"].items()},
    }
    for ln in model["lines"]:
        base = "line/" + "/".join(ln[c] or "-" for c in KEY_COLS)
        for k in (*LINE_NUMBERS, *LINE_TEXTS):
            out[f"{base}/{k}"] = _fig(ln[k])
    for t in model["totals_by_cn_origin"]:
        base = f"total_cn/{t['cn_code'] or '-'}/{t['origin_country'] or '-'}"
        for k, v in t.items():
            if k not in ("cn_code", "origin_country"):
                out[f"{base}/{k}"] = _fig(v)
    holding = model["quarterly_holding"]
    for q in holding["quarters"] if holding else []:
        for k, v in q.items():
            if k not in ("quarter", "quarter_end"):
                out[f"holding/{q['quarter_end']}/{k}"] = _fig(v)
    return out


def build(marts: Marts, config: ReportConfig) -> list[ReportDoc]:
    """Every pack: one per importer EORI × import year (2026 on) present in fct_cbam_declaration_lines."""
    decl = marts["fct_cbam_declaration_lines"].filter(pl.col("year") >= FIRST_YEAR)
    exports = marts["fct_cbam_export_lines"].with_columns(import_year_expr().alias("year"))
    quarters = (
        exports.filter(pl.col("year") >= FIRST_HOLDING_YEAR)
        .with_columns(pl.col("declaration_date").dt.quarter().fill_null(4).alias("quarter"))
        .group_by("importer_eori", "year", *KEY_COLS, "quarter")
        .agg(pl.col("net_mass_t").sum())
    )
    docs = []
    for (eori, year), part in decl.group_by("importer_eori", "year", maintain_order=True):
        q = quarters.filter(pl.col("importer_eori").eq_missing(eori) & (pl.col("year") == year))
        docs.append(build_pack(part, q, eori, int(year), config))
    return sorted(docs, key=lambda d: d.key)


class _Kind:
    name = NAME
    writer_version = WRITER_VERSION
    marts = REQUIRED_MARTS

    def build(self, marts: Marts, config: ReportConfig) -> list[ReportDoc]:
        return build(marts, config)

    def write(self, doc: ReportDoc, out_dir: Path) -> list[Path]:
        from transforms.reports.writers.declaration_pack import write

        return write(doc, out_dir)

    def check(self, doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
        from transforms.reports.writers.declaration_pack import check

        return check(doc, out_dir, marts)


KIND = _Kind()
