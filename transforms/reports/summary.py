"""The summary for people: one bilingual page per home × year (compliance team, management).

What the page shows, all from the published marts: embedded emissions of the year's exports (declaration
date) by product and by customer (importer), by source (own direct / own indirect / precursors / default
values, and transport outside the CBAM boundary), actual vs default, the money at stake (the same exports on
default values instead of actual, × the configured certificate price), the monthly trend, zero-carbon
progress per site (and park, when a park mart exists) and the data-quality state of the year's drops.

Every number and text shown is a figure (`figures`, flat `name → value`), so versioning, the diff and the gate
see it; the page marks each with `data-figure`, and `check` reads them back from the written HTML.
Aggregations are polars group-bys over the year's rows; nothing loops over export lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from transforms.reports.base import (
    NO_INSTALLATION,
    Figure,
    Marts,
    ReportConfig,
    ReportDoc,
    nonfinite_figures,
    safe_key,
)
from transforms.reports.export_parts import lines_with_parts
from transforms.reports.writers import summary_html

MARTS = (
    "dim_installation",
    "dim_product",
    "fct_cbam_export_lines",
    "fct_goods_see",
    "fct_process_see",
    "fct_shipment_emissions",
    "fct_site_ghg_inventory",
    "fct_data_quality",
)
# Read when present (the zero-carbon park indicators are not built yet): the page says "no data" otherwise.
OPTIONAL_MARTS = ("fct_zero_carbon_indicators",)
TOP_N = 10  # bars per ranking chart; the rest are summed into one "others" bar (every row stays a figure)


def _year_of(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.slice(0, 4).cast(pl.Int64, strict=False)


def report_years(marts: Marts) -> list[int]:
    """Years with exports, goods SEE or a site inventory in the marts."""
    years = [marts["fct_cbam_export_lines"].select(pl.col("declaration_date").dt.year().alias("y"))]
    years += [
        marts[n].select(_year_of("period").alias("y")) for n in ("fct_goods_see", "fct_site_ghg_inventory")
    ]
    return sorted(int(y) for y in pl.concat(years, how="vertical_relaxed")["y"].drop_nulls().unique())


def _f(v: Any) -> float | None:
    """A float figure; None stays None (no value), never 0."""
    return None if v is None else float(v)


def fsum(*cols: str) -> pl.Expr:
    """Sum of float columns in ascending value order: the same bits whatever the marts' row order, so a re-run
    over unchanged data reproduces every figure (and publishes nothing). A float sort is cheap; a sort by ids
    is not."""
    return pl.col(*cols).sort(nulls_last=True).sum()


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _ranking(
    df: pl.DataFrame, key: str, prefix: str, labels: dict[str, tuple[str, str]], figs: dict[str, Figure]
) -> list[dict[str, Any]]:
    """Chargeable tCO2e per key, largest first: every key a figure, the chart's rows the top N + others."""
    agg = (
        df.group_by(pl.col(key).fill_null("(none)"), maintain_order=True)
        .agg(
            fsum("embedded_chargeable_tco2e").alias("chg"),
            fsum("net_mass_t").alias("mass"),
            pl.len().alias("n"),
        )
        .sort(["chg", key], descending=[True, False])
    )
    rows: list[dict[str, Any]] = []
    for k, chg, mass, n in agg.iter_rows():  # one row per product / importer, not per line
        en, zh = labels.get(k, (k, ""))
        base = f"{prefix}/{k}"
        figs[f"{base}/label"] = en
        if zh:
            figs[f"{base}/label_zh"] = zh
        figs[f"{base}/embedded_chargeable_tco2e"] = float(chg)
        figs[f"{base}/net_mass_t"] = float(mass)
        figs[f"{base}/export_lines"] = int(n)
        rows.append({"key": k, "fig": base, "value": float(chg), "en": en, "zh": zh})
    if len(rows) > TOP_N:
        rest = rows[TOP_N - 1 :]
        figs[f"{prefix}s_other/count"] = len(rest)
        figs[f"{prefix}s_other/embedded_chargeable_tco2e"] = float(sum(r["value"] for r in rest))
        other = {"key": "", "fig": f"{prefix}s_other", "value": None, "en": "", "zh": "", "other": True}
        rows = [*rows[: TOP_N - 1], other]
    return rows


def _exports(lines: pl.DataFrame, marts: Marts, config: ReportConfig, figs: dict[str, Figure]) -> dict:
    products = marts["dim_product"]
    plabels = {
        r[0]: (r[2] or r[1] or r[0], r[1] if r[1] != r[2] else "")
        for r in products.select("product_id", "name", "name_en").unique("product_id").iter_rows()
    }
    ilabels = {
        r[0]: (r[1] or r[0], r[0])  # name, EORI on the second line
        for r in lines.select("importer_eori", "importer_name").unique("importer_eori").iter_rows()
        if r[0] is not None
    }
    t = lines.select(
        pl.len().alias("lines"),
        fsum("net_mass_t"),
        pl.col("net_mass_t").null_count().alias("no_mass"),
        fsum("embedded_direct_tco2e", "embedded_indirect_tco2e", "embedded_chargeable_tco2e"),
        pl.col("importer_eori").n_unique().alias("importers"),
        pl.col("product_id").n_unique().alias("products"),
        *[
            fsum(c)
            for c in lines.columns
            if c.startswith(("src_", "chg_")) or c in ("precursor_default_direct", "if_default_chg")
        ],
        (pl.col("determination") == "actual").sum().alias("actual_lines"),
        (pl.col("determination") != "actual").sum().alias("default_lines"),
        pl.col("no_default").sum(),
    ).row(0, named=True)
    total_chg = float(t["embedded_chargeable_tco2e"] or 0.0)
    figs |= {
        "total/export_lines": int(t["lines"]),
        "total/lines_without_net_mass": int(t["no_mass"]),
        "total/net_mass_t": float(t["net_mass_t"] or 0.0),
        "total/embedded_direct_tco2e": float(t["embedded_direct_tco2e"] or 0.0),
        "total/embedded_indirect_tco2e": float(t["embedded_indirect_tco2e"] or 0.0),
        "total/embedded_chargeable_tco2e": total_chg,
        "total/importers": int(t["importers"]),
        "total/products": int(t["products"]),
    }
    for part in (
        "own_direct",
        "own_indirect",
        "precursors_direct",
        "precursors_indirect",
        "actual_not_split",
        "default_direct",
        "default_indirect",
    ):
        figs[f"source/{part}_tco2e"] = float(t[f"src_{part}"] or 0.0)
    act, dflt = float(t["chg_actual"] or 0.0), float(t["chg_default"] or 0.0)
    act_direct = float(
        lines.filter(pl.col("determination") == "actual").select(fsum("embedded_direct_tco2e")).item() or 0.0
    )
    figs |= {
        "determination/actual_chargeable_tco2e": act,
        "determination/default_chargeable_tco2e": dflt,
        "determination/actual_share": _ratio(act, act + dflt),
        "determination/actual_lines": int(t["actual_lines"]),
        "determination/default_lines": int(t["default_lines"]),
        "determination/precursor_default_direct_tco2e": float(t["precursor_default_direct"] or 0.0),
        "determination/precursor_default_share": _ratio(
            float(t["precursor_default_direct"] or 0.0), act_direct
        ),
    }
    if_default = float(t["if_default_chg"] or 0.0)
    price = config.certificate_price_eur_per_t
    figs |= {
        "stake/actual_chargeable_tco2e": act,
        "stake/if_default_chargeable_tco2e": if_default,
        "stake/extra_tco2e": if_default - act,
        "stake/lines_without_default_value": int(t["no_default"]),
        "stake/certificate_price_eur_per_t": _f(price),
        "stake/certificate_price_source": config.certificate_price_source,
        "stake/extra_cost_eur": None if price is None else (if_default - act) * price,
    }
    return {
        "products": _ranking(lines, "product_id", "product", plabels, figs),
        "importers": _ranking(lines, "importer_eori", "importer", ilabels, figs),
    }


def _months(lines: pl.DataFrame, year: int, config: ReportConfig, figs: dict[str, Figure]) -> list[str]:
    """Months 1..12 of a past year; of the current year up to the run date (later months are not over)."""
    last = 12 if year < config.run_date.year else config.run_date.month
    if year > config.run_date.year:
        last = int(lines["month"].max() or 1)
    agg = {
        m: (a, d, n)
        for m, a, d, n in lines.group_by("month", maintain_order=True)
        .agg(fsum("chg_actual"), fsum("chg_default"), fsum("net_mass_t"))
        .iter_rows()
    }
    out = []
    for m in range(1, last + 1):
        a, d, n = agg.get(m, (0.0, 0.0, 0.0))
        ym = f"{year}-{m:02d}"
        figs[f"month/{ym}/actual_chargeable_tco2e"] = float(a or 0.0)
        figs[f"month/{ym}/default_chargeable_tco2e"] = float(d or 0.0)
        figs[f"month/{ym}/net_mass_t"] = float(n or 0.0)
        out.append(ym)
    return out


def _transport(marts: Marts) -> dict[tuple[int, str], tuple[float, int]]:
    """Well-to-wheel tCO2e and legs per (ship year, direction), in one pass over the shipments."""
    agg = (
        marts["fct_shipment_emissions"]
        .group_by(pl.col("ship_date").dt.year().alias("y"), "direction")
        .agg(fsum("wtw_tco2e"), pl.len().alias("legs"))
    )
    return {(y, d): (float(w or 0.0), int(n)) for y, d, w, n in agg.iter_rows()}


SITE_COLS = ("scope1_tco2e", "scope2_location_tco2e", "scope2_market_tco2e", "net_tco2e", "electricity_mwh")
SITE_COLS += ("renewable_electricity_mwh", "renewable_electricity_share")  # the share last: the monthly line


def _sites(marts: Marts, year: int, figs: dict[str, Figure]) -> tuple[list[dict], bool]:
    inv = marts["fct_site_ghg_inventory"].filter(_year_of("period") == year)
    inst = {r["installation_id"]: r for r in marts["dim_installation"].iter_rows(named=True)}
    sites = []
    for sid in sorted(inv["installation_id"].drop_nulls().unique().to_list()):
        rows = inv.filter(pl.col("installation_id") == sid)
        y = rows.filter(pl.col("period_grain") == "year")
        info = inst.get(sid, {})
        base = f"site/{sid}"
        figs[f"{base}/name_en"] = info.get("name_en") or sid
        figs[f"{base}/name"] = info.get("name") or ""
        figs[f"{base}/park_id"] = (
            rows["park_id"].drop_nulls().first() if rows["park_id"].drop_nulls().len() else None
        )
        yr = y.row(0, named=True) if y.height else {}
        for c in SITE_COLS:
            figs[f"{base}/{c}"] = _f(yr.get(c))
        months = []
        for period, share in (
            rows.filter(pl.col("period_grain") == "month")
            .sort("period")
            .select("period", SITE_COLS[-1])
            .iter_rows()
        ):
            figs[f"{base}/month/{period}/renewable_electricity_share"] = _f(share)
            months.append(period)
        sites.append({"id": sid, "fig": base, "months": months})
    provisional = bool(inv["is_provisional"].any()) if inv.height else False
    return sites, provisional


def _parks(marts: Marts, year: int, figs: dict[str, Figure]) -> list[dict] | None:
    """Park rows (`park_id` set) of fct_zero_carbon_indicators (outputs.md) for the year; None without it."""
    zc = marts.get("fct_zero_carbon_indicators")
    if zc is None or not {"park_id", "indicator_id"} <= set(zc.columns):
        return None
    year_col = "year" if "year" in zc.columns else "period"
    rows = zc.filter(pl.col("park_id").is_not_null() & (_year_of(year_col) == year))
    if (
        "basis" not in rows.columns
    ):  # one figure per indicator; P1 has two bases (physical, with certificates)
        rows = rows.with_columns(basis=pl.lit(None, pl.String))
    out = []
    for r in rows.sort("park_id", "indicator_id", "basis").iter_rows(named=True):  # a few indicators per park
        several = rows.filter(
            (pl.col("park_id") == r["park_id"]) & (pl.col("indicator_id") == r["indicator_id"])
        )
        base = f"park/{r['park_id']}/{r['indicator_id']}" + (f"/{r['basis']}" if several.height > 1 else "")
        figs |= {f"{base}/{c}": r[c] for c in ("name_en", "name_zh", "unit") if c in r}
        figs |= {f"{base}/value": _f(r.get("value")), f"{base}/threshold": _f(r.get("threshold"))}
        figs[f"{base}/passes"] = r.get("passes")
        label = r["indicator_id"] + (f" ({r['basis']})" if several.height > 1 else "")
        out.append({"fig": base, "park": r["park_id"], "indicator": label})
    return out


def _quality(marts: Marts, year: int, figs: dict[str, Figure]) -> list[dict]:
    dq = marts["fct_data_quality"]
    figs["quality/files_outside_drops"] = dq.filter(pl.col("drop_date").is_null()).height
    dq = dq.filter(pl.col("drop_date").dt.year() == year)
    status = pl.col("file_status")
    figs |= {
        "quality/files": dq.height,
        "quality/files_ok": dq.filter(status == "ok").height,
        "quality/files_partial": dq.filter(status == "partial").height,
        "quality/files_rejected": dq.filter(status == "rejected").height,
        "quality/rows_read": int(dq["rows_read"].sum() or 0),
        "quality/rows_accepted": int(dq["rows_accepted"].sum() or 0),
        "quality/rows_quarantined": int(dq["rows_quarantined"].sum() or 0),
    }
    agg = (
        dq.group_by("dataset", maintain_order=True)
        .agg(
            pl.len().alias("files"),
            (status != "ok").sum().alias("files_with_issues"),
            pl.col("rows_read").sum(),
            pl.col("rows_quarantined").sum(),
            # fct_data_quality.reasons is JSON list text (ingestion): shown as its items
            pl.col("reasons")
            .filter(status != "ok")
            .str.replace_all(r'^\["|"\]$', "")
            .str.replace_all(r'", "', "; ", literal=True)
            .sort()
            .str.join("; ")
            .alias("reasons"),
        )
        .sort(["files_with_issues", "dataset"], descending=[True, False])
    )
    out = []
    for r in agg.iter_rows(named=True):
        base = f"quality/dataset/{r['dataset']}"
        figs[f"{base}/files"] = int(r["files"])
        figs[f"{base}/files_with_issues"] = int(r["files_with_issues"])
        figs[f"{base}/rows_read"] = int(r["rows_read"] or 0)
        figs[f"{base}/rows_quarantined"] = int(r["rows_quarantined"] or 0)
        figs[f"{base}/reasons"] = r["reasons"] or ""
        out.append({"fig": base, "dataset": r["dataset"]})
    return out


def _sources(lines: pl.DataFrame, goods: pl.DataFrame, files: pl.DataFrame) -> frozenset[str]:
    """Landing files (`dataset/drop/file`) behind the page: the year's export lines and their goods' SEE, and
    every file dropped in the year (the data-quality block shows them; shipments and bills come from them)."""
    ids = pl.concat(
        [
            lines.select(pl.col("source_row_id").alias("id")),
            goods.select(pl.col("source_row_ids").explode().alias("id")),
            files.select(pl.col("file").alias("id")),
        ]
    )
    return frozenset(ids.select(pl.col("id").drop_nulls().str.replace(r"#.*$", "").unique()).to_series())


def build(marts: Marts, config: ReportConfig) -> list[ReportDoc]:
    """One summary document per year present in the marts."""
    all_lines = marts["fct_cbam_export_lines"]
    goods, process = marts["fct_goods_see"], marts["fct_process_see"]
    parts = lines_with_parts(all_lines, goods, process)
    by_year = parts.partition_by("declaration_year", as_dict=True, maintain_order=True)
    empty, transport, dq = parts.clear(), _transport(marts), marts["fct_data_quality"]
    docs = []
    for year in report_years(marts):
        figs: dict[str, Figure] = {"year": year}
        lines = by_year.get((year,), empty)
        rank = _exports(lines, marts, config, figs)
        for d in ("inbound", "outbound"):
            wtw, legs = transport.get((year, d), (0.0, 0))
            figs[f"source/transport_{d}_wtw_tco2e"] = wtw
            figs[f"source/transport_{d}_legs"] = legs
        months = _months(lines, year, config, figs)
        sites, inv_provisional = _sites(marts, year, figs)
        parks = _parks(marts, year, figs)
        quality = _quality(marts, year, figs)
        year_goods = goods.filter(_year_of("period") == year)
        provisional = (
            inv_provisional or bool(year_goods["is_provisional"].any()) or year >= config.run_date.year
        )
        figs["provisional"] = provisional
        # Every installation the page adds up (lines without one under the gate's name for them), so a
        # failing installation blocks this year's page.
        installations = frozenset(
            {NO_INSTALLATION if i is None else i for i in lines["installation_id"].unique().to_list()}
            | {s["id"] for s in sites}
        )
        model = {
            "year": year,
            "run_date": config.run_date.isoformat(),
            "provisional": provisional,
            "products": rank["products"],
            "importers": rank["importers"],
            "months": months,
            "sites": sites,
            "parks": parks,
            "quality": quality,
        }
        docs.append(
            ReportDoc(
                kind=NAME,
                key=safe_key("home", year),
                title=f"lingtan summary {year} · {year} 年度汇总",
                model=model,
                figures=figs,
                sources=_sources(lines, year_goods, dq.filter(pl.col("drop_date").dt.year() == year)),
                installations=installations,
                meta={
                    "year": year,
                    "writer_version": WRITER_VERSION,
                    "run_date": config.run_date.isoformat(),
                },
            )
        )
    return docs


def check(doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
    """What is wrong with a written summary page (empty when it is right): the page itself (parses, shows
    the doc's figures, loads nothing), finite figures, and the headline reconciles with the mart."""
    where = f"{doc.kind}/{doc.key}"
    problems = [f"figure {n} is not finite" for n in nonfinite_figures(doc)]
    problems += summary_html.inspect(doc, out_dir / summary_html.file_name(doc))
    year = int(doc.model["year"])
    lines = marts["fct_cbam_export_lines"].filter(pl.col("declaration_date").dt.year() == year)
    mart_total = float(lines["embedded_chargeable_tco2e"].sum())
    ours = doc.figures.get("total/embedded_chargeable_tco2e")
    if not isinstance(ours, float) or not math.isclose(ours, mart_total, rel_tol=1e-9, abs_tol=1e-9):
        problems.append(f"total embedded chargeable {ours} tCO2e ≠ fct_cbam_export_lines {mart_total}")
    return [f"{where}: {p}" for p in problems]


NAME = "summary"
WRITER_VERSION = "summary-html/1"


@dataclass(frozen=True)
class _SummaryKind:
    name: str = NAME
    writer_version: str = WRITER_VERSION
    marts: tuple[str, ...] = MARTS
    optional_marts: tuple[str, ...] = OPTIONAL_MARTS

    def build(self, marts: Marts, config: ReportConfig) -> list[ReportDoc]:
        return build(marts, config)

    def write(self, doc: ReportDoc, out_dir: Path) -> list[Path]:
        return summary_html.write(doc, out_dir)

    def check(self, doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
        return check(doc, out_dir, marts)


KIND = _SummaryKind()
