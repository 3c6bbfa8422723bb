"""The operator's emissions communication (IR 2025/2547 Art 10, Annex IV pt 1.2) per installation × reporting
year, in the canonical report model: what the Commission's Communication template v2.1.1 shows on
`Summary_Communication` (installation block, processes and routes, emissions by monitoring method, product
table) plus what the definitive-period summary adds (specific embedded free allocation with its benchmark,
indirect split actual/default, precursors with origin and why actual or default) and the evidence (source rows
behind every number). Pure: marts in, `ReportDoc`s out; the XLSX layout lives in writers/communication_xlsx.py.

Every number is a mart value (year-grain rows), except the indirect split, which is derived from mart values
(see `_indirect_split`) and says so. Nothing is rounded here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from transforms.reference import cn_info_expr
from transforms.reports.base import Figure, Marts, ReportConfig, ReportDoc, safe_key

NAME = "operator_communication"
WRITER_VERSION = "communication-xlsx/1"
FREE_ALLOCATION_MART = "fct_goods_free_allocation"
REQUIRED_MARTS = (
    "dim_installation",
    "dim_process",
    "dim_product",
    "fct_goods_see",
    "fct_process_see",
    "fct_installation_emissions",
    "fct_stream_emissions",
    "fct_precursor_inputs",
    "fct_cbam_export_lines",
)
# Electricity factor sources (MIR Annex II D.4): the country grid default (a) and the alternative default (b,
# D.4.4) are default values; D.4.1-D.4.3 are actual factors. `Mix` / unspecified cannot be split from the marts.
DEFAULT_EF_SOURCES = frozenset({"D.4(a)", "D.4(b)"})
ACTUAL_EF_SOURCES = frozenset({"D.4.1", "D.4.2", "D.4.3.1", "D.4.3.2"})
CARBON_PRICE_NOTE = (
    "carbon price paid: no mart carries it per installation and good (carbon_prices rows are staged only); "
    "the carbon-price columns are left empty"
)
FREE_ALLOCATION_MISSING = f"specific embedded free allocation: the warehouse has no {FREE_ALLOCATION_MART} mart yet; columns left empty"


def _year_rows(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("period_grain") == "year").with_columns(pl.col("period").alias("year"))


def _by_key(df: pl.DataFrame) -> dict[tuple[str, str], pl.DataFrame]:
    """Rows per (installation_id, year) in one pass (no per-document filtering of the whole frame)."""
    if df.is_empty():
        return {}
    return {
        (str(k[0]), str(k[1])): g for k, g in df.partition_by("installation_id", "year", as_dict=True).items()
    }


def source_of(row_id: str) -> str:
    """`dataset/drop/file` of an evidence id `dataset/drop/file#row`."""
    return row_id.split("#", 1)[0]


def _qualifying(text: str | None) -> dict[str, Any]:
    """The product's qualifying parameters as entered (JSON object); a value that is not JSON is kept as text."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"unparsed": text}
    return value if isinstance(value, dict) else {"unparsed": text}


def _indirect_split(procs: pl.DataFrame, prec: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per process: the part of the indirect SEE from default values, tCO2e/t, and why it could not be split.

    own electricity: default when its factor source is D.4(a)/(b), actual for D.4.1-D.4.3; purchased
    precursors: their embedded indirect emissions ÷ activity level when the precursor's SEE is a default;
    internal precursors: m_i × the supplying process's default part (recursively). A `Mix`/unspecified factor
    source or a cycle leaves the split unknown (None with the reason)."""
    info = {r["process_id"]: r for r in procs.iter_rows(named=True)}
    out: dict[str, dict[str, Any]] = {}

    def solve(pid: str, seen: frozenset[str]) -> tuple[float | None, str | None]:
        if pid in out:
            return out[pid]["default_per_t"], out[pid]["reason"]
        p = info.get(pid)
        if p is None or p["see_indirect"] is None:
            return None, "no indirect SEE for the process"
        if pid in seen:
            return None, "internal precursor cycle"
        src, own = p["electricity_ef_source"], p["own_see_indirect"] or 0.0
        reason = None
        if own == 0.0:
            default = 0.0
        elif src in DEFAULT_EF_SOURCES:
            default = own
        elif src in ACTUAL_EF_SOURCES:
            default = 0.0
        else:
            return None, f"electricity factor source {src or 'unspecified'}: the marts do not split it"
        al = p["activity_level_t"]
        rows = prec.filter(pl.col("process_id") == pid) if not prec.is_empty() else prec
        for r in rows.iter_rows(named=True):
            if r["source"] == "internal":
                sub, why = solve(r["from_process_id"], seen | {pid})
                if sub is None:
                    return None, why
                default += (r["mass_share_t_per_t"] or 0.0) * sub
            elif r["is_default"] and al:
                default += (r["embedded_indirect_tco2e"] or 0.0) / al
        out[pid] = {"default_per_t": default, "reason": reason}
        return default, reason

    for pid in info:
        d, why = solve(pid, frozenset())
        out[pid] = {"default_per_t": d, "reason": why}
    return out


def _installation(inst: dict[str, Any] | None, iid: str, year: str, provisional: bool) -> dict[str, Any]:
    inst = inst or {}
    return {
        "installation_id": iid,
        "name": inst.get("name"),
        "name_en": inst.get("name_en") or inst.get("name"),
        "address": inst.get("address"),
        "city": inst.get("city"),
        "postcode": inst.get("postcode"),
        "country": inst.get("country"),
        "country_name_en": inst.get("country_name_en"),
        "country_name_zh": inst.get("country_name_zh"),
        "unlocode": inst.get("unlocode"),
        "latitude": inst.get("latitude"),
        "longitude": inst.get("longitude"),
        "registry_installation_id": inst.get("registry_installation_id"),
        "operator_name": inst.get("operator_name"),
        "operator_id": inst.get("operator_id"),
        "period_start": f"{year}-01-01",
        "period_end": f"{year}-12-31",
        "is_provisional": provisional,
        "source_row_id": inst.get("source_row_id"),
    }


def _emissions(ie: dict[str, Any] | None, streams: pl.DataFrame | None) -> dict[str, Any]:
    """Direct emissions by monitoring method as the template groups them (PFC apart); `other` is what the
    streams do not explain of the installation's direct total."""
    if ie is None:
        return {}
    pfc_gas = pl.col("gas").is_in(["CF4", "C2F6"])
    s = streams if streams is not None else pl.DataFrame(schema={"method": pl.String, "gas": pl.String})
    calc = s.filter(pl.col("method").is_in(["combustion", "process", "mass_balance"]) & ~pfc_gas)
    measured = s.filter((pl.col("method") == "measured") & ~pfc_gas)
    pfc = s.filter(pfc_gas)

    def total(df: pl.DataFrame) -> float:
        return float(df["fossil_tco2e"].sum()) if df.height else 0.0

    direct = ie["direct_tco2e"]
    calc_t, pfc_t, meas_t = total(calc), total(pfc), total(measured)
    return {
        "calculation_based_tco2e": calc_t,
        "pfc_tco2e": pfc_t,
        "measurement_based_tco2e": meas_t,
        "other_tco2e": None if direct is None else direct - (calc_t + pfc_t + meas_t),
        "direct_tco2e": direct,
        "indirect_tco2e": ie["indirect_tco2e"],
        "total_tco2e": ie["total_tco2e"],
        "biomass_tco2e": ie["biomass_tco2e"],
        "electricity_mwh": ie["electricity_mwh"],
    }


def _products(gs: pl.DataFrame, dims: dict[str, pl.DataFrame], procs: pl.DataFrame) -> pl.DataFrame:
    """The product table: goods_see joined to the product and process dimensions and the process's factor."""
    if gs.is_empty():
        return gs
    prod = dims["dim_product"].select(
        "product_id",
        pl.col("name").alias("product_name_local"),
        pl.col("name_en").alias("product_name_en"),
        "qualifying_parameters",
        pl.col("source_row_id").alias("product_source_row_id"),
    )
    proc = dims["dim_process"].select(
        "installation_id", "process_id", pl.col("name").alias("process_name"), "route"
    )
    ef = procs.select("process_id", "electricity_ef_tco2_per_mwh")
    return (
        gs.join(prod, on="product_id", how="left")
        .join(proc, on=["installation_id", "process_id"], how="left")
        .join(ef, on="process_id", how="left")
        .with_columns(
            cn_name=cn_info_expr("description", "cn_code"),
            product_name=pl.coalesce("product_name_en", "product_name", "product_name_local"),
        )
        .sort("process_id", "cn_code", "product_id")
    )


def _key_docs(marts: Marts) -> list[tuple[str, str]]:
    """Every installation × reporting year with SEE, emissions or exports (an export without an SEE must still
    get a report whose check fails, not silently none)."""
    keys: set[tuple[str, str]] = set()
    for name in ("fct_goods_see", "fct_process_see", "fct_installation_emissions"):
        df = _year_rows(marts[name]).select("installation_id", "year").unique()
        keys.update((str(a), str(b)) for a, b in df.iter_rows())
    ex = exported_goods(marts)
    keys.update((str(a), str(b)) for a, b in ex.select("installation_id", "year").unique().iter_rows())
    return sorted(keys)


def exported_goods(marts: Marts) -> pl.DataFrame:
    """installation_id, year, product_id, cn_code of every exported good (year of its production period)."""
    el = marts["fct_cbam_export_lines"]
    return (
        el.filter(pl.col("installation_id").is_not_null() & pl.col("product_id").is_not_null())
        .with_columns(
            year=pl.coalesce(
                pl.col("production_period"), pl.col("declaration_date").cast(pl.String)
            ).str.slice(0, 4)
        )
        .group_by("installation_id", "year", "product_id")
        .agg(pl.col("cn_code").drop_nulls().first())
        .sort("installation_id", "year", "product_id")
    )


def build(marts: Marts, config: ReportConfig) -> list[ReportDoc]:
    """One document per installation × reporting year (year-grain mart rows)."""
    del config  # nothing configurable shapes this report
    gs = _by_key(_year_rows(marts["fct_goods_see"]))
    ps = _by_key(_year_rows(marts["fct_process_see"]))
    ie = _by_key(_year_rows(marts["fct_installation_emissions"]))
    st = _by_key(_year_rows(marts["fct_stream_emissions"]))
    pi = _by_key(_year_rows(marts["fct_precursor_inputs"]))
    fa_mart = marts.get(FREE_ALLOCATION_MART)
    fa = _by_key(_year_rows(fa_mart)) if fa_mart is not None else None
    insts = {r["installation_id"]: r for r in marts["dim_installation"].iter_rows(named=True)}
    dims = {n: marts[n] for n in ("dim_product", "dim_process")}
    return [
        _doc(iid, year, insts.get(iid), gs, ps, ie, st, pi, fa, dims, marts["dim_process"])
        for iid, year in _key_docs(marts)
    ]


def _doc(
    iid: str,
    year: str,
    inst: dict[str, Any] | None,
    gs: dict,
    ps: dict,
    ie: dict,
    st: dict,
    pi: dict,
    fa: dict | None,
    dims: dict[str, pl.DataFrame],
    dim_process: pl.DataFrame,
) -> ReportDoc:
    key = (iid, year)
    empty = pl.DataFrame()
    procs = ps.get(key, empty)
    prec = pi.get(key, empty)
    prec = _with_precursor_key(prec) if prec.height else prec
    ie_rows = ie.get(key)
    ie_row = ie_rows.row(0, named=True) if ie_rows is not None else None
    provisional = bool(
        (ie_row or {}).get("is_provisional")
        or (procs.height and procs["is_provisional"].any())
        or (gs.get(key) is not None and gs[key]["is_provisional"].any())
    )
    products = _products(gs.get(key, empty), dims, procs) if key in gs else empty
    split = _indirect_split(procs, prec) if procs.height else {}
    model: dict[str, Any] = {
        "installation": _installation(inst, iid, year, provisional),
        "year": year,
        "processes": _process_rows(iid, procs, dim_process),
        "emissions": _emissions(ie_row, st.get(key)),
        "products": _product_rows(products, procs, split),
        "precursors": _precursor_rows(prec),
        "free_allocation": _free_allocation_rows(fa.get(key, empty) if fa is not None else None),
        "notes": [CARBON_PRICE_NOTE] + ([FREE_ALLOCATION_MISSING] if fa is None else []),
    }
    model["evidence"] = _evidence(inst, ie_rows, procs, products, prec)
    figures = flatten(model)
    sources = frozenset(model["evidence"]["source_file"].to_list())
    name = model["installation"]["name_en"] or iid
    return ReportDoc(
        kind=NAME,
        key=safe_key(iid, year),
        title=f"CBAM emissions communication {name} {year}",
        model=model,
        figures=figures,
        sources=sources,
        installations=frozenset({iid}),
        meta={"year": year, "installation_id": iid, "provisional": provisional},
    )


def _process_rows(iid: str, procs: pl.DataFrame, dim_process: pl.DataFrame) -> list[dict[str, Any]]:
    dim = dim_process.filter(pl.col("installation_id") == iid)
    names = {r["process_id"]: r for r in dim.iter_rows(named=True)}
    ids = sorted(set(names) | (set(procs["process_id"].to_list()) if procs.height else set()))
    by_id = {r["process_id"]: r for r in procs.iter_rows(named=True)} if procs.height else {}
    rows = []
    for pid in ids:
        d, p = names.get(pid, {}), by_id.get(pid, {})
        rows.append(
            {
                "process_id": pid,
                "name": d.get("name"),
                "goods_category": d.get("goods_category") or p.get("goods_category"),
                "route": d.get("route"),
                **{
                    k: p.get(k)
                    for k in (
                        "see_status",
                        "activity_level_t",
                        "attributed_direct_tco2e",
                        "attributed_indirect_tco2e",
                        "own_see_direct",
                        "own_see_indirect",
                        "see_direct",
                        "see_indirect",
                        "see_total",
                        "electricity_mwh",
                        "electricity_ef_tco2_per_mwh",
                        "electricity_ef_source",
                        "embedded_electricity_mwh_per_t",
                        "default_value_share",
                        "purchased_precursor_t",
                        "internal_precursor_t",
                    )
                },
            }
        )
    return rows


PRODUCT_FIELDS = (
    "product_id",
    "process_id",
    "process_name",
    "goods_category",
    "cn_code",
    "cn_name",
    "product_name",
    "product_name_local",
    "see_direct",
    "see_indirect",
    "see_total",
    "default_value_share",
    "electricity_ef_source",
    "embedded_electricity_mwh_per_t",
    "electricity_ef_tco2_per_mwh",
    "see_chargeable",
    "chargeable_rule",
    "annex_ii_direct_only",
    "determination",
    "default_value_reason",
    "see_status",
    "functional_unit",
    "see_direct_per_fu",
    "see_indirect_per_fu",
    "see_total_per_fu",
    "produced_t",
)


def _product_rows(
    products: pl.DataFrame, procs: pl.DataFrame, split: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = []
    for r in products.iter_rows(named=True):
        row = {k: r.get(k) for k in PRODUCT_FIELDS}
        row["unit"] = "tCO2e/t"
        row["qualifying_parameters"] = _qualifying(r.get("qualifying_parameters"))
        s = split.get(r["process_id"], {"default_per_t": None, "reason": "no process SEE row"})
        ind = r.get("see_indirect")
        d = s["default_per_t"]
        row["indirect_default_per_t"] = d
        row["indirect_actual_per_t"] = None if d is None or ind is None else ind - d
        row["indirect_default_share"] = None if d is None or not ind else d / ind
        row["indirect_actual_share"] = (
            None if row["indirect_default_share"] is None else 1.0 - row["indirect_default_share"]
        )
        row["indirect_split_note"] = s["reason"]
        rows.append(row)
    return rows


PRECURSOR_FIELDS = (
    "process_id",
    "source",
    "from_process_id",
    "material_id",
    "cn_code",
    "supplier_id",
    "supplier_installation_id",
    "origin_country",
    "quantity_source",
    "mass_t",
    "mass_share_t_per_t",
    "see_direct",
    "see_indirect",
    "embedded_electricity_mwh_per_t",
    "see_origin",
    "determination",
    "actual_unverified",
    "embedded_direct_tco2e",
    "embedded_indirect_tco2e",
    "document_ref",
    "fallback_reason",
    "dv_used_table",
    "dv_fallback_reason",
    "dv_markup",
)


def _precursor_key_expr() -> pl.Expr:
    """A stable name for one precursor row (its mart grain without period): process:material or supplying
    process:CN:supplier:supplier installation:origin:quantity source:SEE origin."""
    parts = [
        pl.col("process_id"),
        pl.coalesce("material_id", "from_process_id"),
        pl.col("cn_code"),
        pl.col("supplier_id"),
        pl.col("supplier_installation_id"),
        pl.col("origin_country"),
        pl.col("quantity_source"),
        pl.col("see_origin"),
    ]
    return pl.concat_str([p.cast(pl.String).fill_null("-") for p in parts], separator=":")


def _with_precursor_key(prec: pl.DataFrame) -> pl.DataFrame:
    order = [
        "process_id",
        "source",
        "from_process_id",
        "material_id",
        "supplier_installation_id",
        "see_origin",
    ]
    return prec.with_columns(precursor_key=_precursor_key_expr()).sort(order, nulls_last=True)


def _precursor_rows(prec: pl.DataFrame) -> list[dict[str, Any]]:
    if prec.is_empty():
        return []
    rows = []
    for r in prec.drop("source_row_ids", "supplier_emissions_row_ids", strict=False).iter_rows(named=True):
        row = {"key": r["precursor_key"], **{k: r.get(k) for k in PRECURSOR_FIELDS}}
        row["why"] = _why(r)
        rows.append(row)
    return rows


def _why(r: dict[str, Any]) -> str:
    """Why the precursor's SEE is actual or default, in words from the mart's columns."""
    origin = r.get("see_origin")
    if origin == "internal":
        return f"produced in own process {r.get('from_process_id')}: its SEE"
    if origin == "supplier_actual":
        base = f"supplier's actual SEE ({r.get('document_ref') or 'communication'})"
        return base + (", not verified" if r.get("actual_unverified") else "")
    if origin == "supplier_default":
        return f"supplier communicated a default value ({r.get('document_ref') or 'communication'})"
    if origin == "exempt_origin":
        return "origin exempt from CBAM: zero"
    parts = [r.get("fallback_reason"), r.get("dv_used_table") and f"DVR table {r.get('dv_used_table')}"]
    parts.append(r.get("dv_fallback_reason"))
    return "default value: " + "; ".join(str(p) for p in parts if p)


FREE_ALLOCATION_FIELDS = (
    "product_id",
    "cn_code",
    "benchmark_column",
    "benchmark_tco2e_per_t",
    "benchmark_route",
    "cbam_factor",
    "cscf",
    "cscf_status",
    "sefa_tco2e_per_t",
    "sefa_basis",
    "benchmark_source",
)


def _free_allocation_rows(fa: pl.DataFrame | None) -> list[dict[str, Any]] | None:
    if fa is None:
        return None
    if fa.is_empty():
        return []
    cols = [c for c in FREE_ALLOCATION_FIELDS if c in fa.columns]
    return [
        {k: r.get(k) for k in FREE_ALLOCATION_FIELDS}
        for r in fa.select(cols).sort("product_id").iter_rows(named=True)
    ]


EVIDENCE_SCHEMA = {"subject": pl.String, "source_file": pl.String, "rows": pl.String}
MAX_ROWS_TEXT = 30_000  # an XLSX cell holds at most 32 767 characters


def _evidence(
    inst: dict[str, Any] | None,
    ie_rows: pl.DataFrame | None,
    procs: pl.DataFrame,
    products: pl.DataFrame,
    prec: pl.DataFrame,
) -> pl.DataFrame:
    """subject (figure-name prefix) → source file → its rows as ranges (`1-12,15`): exact, yet one line per file
    rather than per row (a year of invoices is 10^5 rows at scale). Vectorised: explode, runs, join."""
    parts: list[pl.DataFrame] = []

    def add(subject: pl.Expr, df: pl.DataFrame, col: str) -> None:
        if df.is_empty() or col not in df.columns:
            return
        ids = pl.col(col) if isinstance(df.schema[col], pl.List) else pl.concat_list(pl.col(col))
        parts.append(df.select(subject.alias("subject"), ids.alias("id")).explode("id"))

    if inst:
        parts.append(pl.DataFrame({"subject": ["installation"], "id": [inst["source_row_id"]]}))
    if ie_rows is not None:
        add(pl.lit("emissions"), ie_rows, "source_row_ids")
    add(pl.lit("process/") + pl.col("process_id"), procs, "source_row_ids")
    add(pl.lit("product/") + pl.col("product_id"), products, "source_row_ids")
    add(pl.lit("product/") + pl.col("product_id"), products, "product_source_row_id")
    for col in ("source_row_ids", "supplier_emissions_row_ids"):
        add(pl.lit("precursor/") + pl.col("precursor_key"), prec, col)
    if not parts:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    ids = pl.concat(
        [p.select(pl.col("subject").cast(pl.String), pl.col("id").cast(pl.String)) for p in parts]
    )
    split = (
        ids.drop_nulls()
        .unique()
        .with_columns(
            source_file=pl.col("id").str.split("#").list.first(),
            row=pl.col("id").str.split("#").list.get(1, null_on_oob=True).cast(pl.Int64, strict=False),
        )
    )
    # ids without a numeric row part stay whole (one line each)
    odd = split.filter(pl.col("row").is_null()).select(
        "subject", pl.col("id").alias("source_file"), rows=pl.lit("")
    )
    runs = (
        split.filter(pl.col("row").is_not_null())
        .sort("subject", "source_file", "row")
        .with_columns(
            run=(pl.col("row").diff().over("subject", "source_file").fill_null(0) != 1)
            .cum_sum()
            .over("subject", "source_file")
        )
        .group_by("subject", "source_file", "run")
        .agg(lo=pl.col("row").min(), hi=pl.col("row").max())
        .sort("subject", "source_file", "lo")
        .with_columns(
            text=pl.when(pl.col("lo") == pl.col("hi"))
            .then(pl.col("lo").cast(pl.String))
            .otherwise(pl.col("lo").cast(pl.String) + "-" + pl.col("hi").cast(pl.String))
        )
        # chunks that fit a cell: cumulative text length per file
        .with_columns(
            chunk=(
                (pl.col("text").str.len_chars() + 1).cum_sum().over("subject", "source_file") // MAX_ROWS_TEXT
            )
        )
        .group_by("subject", "source_file", "chunk", maintain_order=True)
        .agg(rows=pl.col("text").str.join(","))
        .select("subject", "source_file", "rows")
    )
    return pl.concat([runs, odd]).sort("subject", "source_file", "rows")


def _figure(v: Any) -> Figure:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


def flatten(model: dict[str, Any]) -> dict[str, Figure]:
    """Every reported value as `name → value` (the versioning and the gate compare these)."""
    out: dict[str, Figure] = {}
    for k, v in model["installation"].items():
        out[f"installation/{k}"] = _figure(v)
    for k, v in model["emissions"].items():
        out[f"emissions/{k}"] = _figure(v)
    for p in model["processes"]:
        for k, v in p.items():
            out[f"process/{p['process_id']}/{k}"] = _figure(v)
    for p in model["products"]:
        for k, v in p.items():
            if k == "qualifying_parameters":
                for qk, qv in v.items():
                    out[f"product/{p['product_id']}/qualifying/{qk}"] = _figure(qv)
            else:
                out[f"product/{p['product_id']}/{k}"] = _figure(v)
    for p in model["precursors"]:
        for k, v in p.items():
            if k != "key":
                out[f"precursor/{p['key']}/{k}"] = _figure(v)
    for p in model["free_allocation"] or []:
        for k, v in p.items():
            out[f"free_allocation/{p['product_id']}/{k}"] = _figure(v)
    return out


def finite(v: Any) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


class _Kind:
    name = NAME
    writer_version = WRITER_VERSION
    marts = REQUIRED_MARTS

    def build(self, marts: Marts, config: ReportConfig) -> list[ReportDoc]:
        return build(marts, config)

    def write(self, doc: ReportDoc, out_dir: Path) -> list[Path]:
        from transforms.reports.writers.communication_xlsx import write

        return [write(doc, out_dir)]

    def check(self, doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
        from transforms.reports.writers.communication_xlsx import check

        return check(doc, out_dir, marts)


KIND = _Kind()
