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

import math
from pathlib import Path
from typing import Any

import polars as pl

from transforms.reference.cn_codes import cn_info_expr
from transforms.reports.base import Figure, Marts, ReportConfig, ReportDoc, safe_key
from transforms.reports.communication_rows import (
    evidence,
    exported_goods,
    free_allocation_rows,
    indirect_split,
    precursor_rows,
    process_rows,
    product_rows,
    with_precursor_key,
)

NAME = "operator_communication"
WRITER_VERSION = "communication-xlsx/1"
FREE_ALLOCATION_MART = "fct_goods_free_allocation"
REQUIRED_MARTS = (
    "dim_installation",
    "dim_process",
    "dim_product",
    "dim_supplier",
    "fct_goods_see",
    "fct_process_see",
    "fct_installation_emissions",
    "fct_stream_emissions",
    "fct_precursor_inputs",
    "fct_cbam_export_lines",
)
OPTIONAL_MARTS = (FREE_ALLOCATION_MART,)  # read when the warehouse has it (older warehouses: SEFA left empty)
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
        "other_tco2e": None if direct is None else _residue(direct, calc_t + pfc_t + meas_t),
        "direct_tco2e": direct,
        "indirect_tco2e": ie["indirect_tco2e"],
        "total_tco2e": ie["total_tco2e"],
        "biomass_tco2e": ie["biomass_tco2e"],
        "electricity_mwh": ie["electricity_mwh"],
    }


def _scalars(df: pl.DataFrame) -> pl.DataFrame:
    """The frame without its list columns."""
    return df.select([c for c, t in df.schema.items() if not isinstance(t, pl.List)])


def _residue(total: float, explained: float) -> float:
    """total − explained; a difference within floating-point summation noise (1e-9 relative) is 0, not
    -4.5e-13 tCO2e."""
    diff = total - explained
    return 0.0 if abs(diff) <= 1e-9 * max(1.0, abs(total)) else diff


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


def build(marts: Marts, config: ReportConfig) -> list[ReportDoc]:
    """One document per installation × reporting year (year-grain mart rows)."""
    del config  # nothing configurable shapes this report
    gs = _by_key(_year_rows(marts["fct_goods_see"]))
    ps = _by_key(_year_rows(marts["fct_process_see"]))
    ie = _by_key(_year_rows(marts["fct_installation_emissions"]))
    st = _by_key(_year_rows(marts["fct_stream_emissions"]))
    suppliers = marts["dim_supplier"].select("supplier_id", pl.col("name").alias("supplier_name"))
    pi = _by_key(_year_rows(marts["fct_precursor_inputs"]).join(suppliers, on="supplier_id", how="left"))
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
    prec = with_precursor_key(prec) if prec.height else prec
    ie_rows = ie.get(key)
    ie_row = _scalars(ie_rows).row(0, named=True) if ie_rows is not None else None
    provisional = bool(
        (ie_row or {}).get("is_provisional")
        or (procs.height and procs["is_provisional"].any())
        or (gs.get(key) is not None and gs[key]["is_provisional"].any())
    )
    products = _products(gs.get(key, empty), dims, procs) if key in gs else empty
    # row-wise Python only on the scalar columns: the source-row lists (10^5 ids at scale) stay in polars
    split = indirect_split(_scalars(procs), _scalars(prec)) if procs.height else {}
    model: dict[str, Any] = {
        "installation": _installation(inst, iid, year, provisional),
        "year": year,
        "processes": process_rows(iid, _scalars(procs), dim_process),
        "emissions": _emissions(ie_row, st.get(key)),
        "products": product_rows(_scalars(products), procs, split),
        "precursors": precursor_rows(_scalars(prec)),
        "free_allocation": free_allocation_rows(fa.get(key, empty) if fa is not None else None),
        "notes": [CARBON_PRICE_NOTE] + ([FREE_ALLOCATION_MISSING] if fa is None else []),
    }
    # the template's "Economic activity": the installation's CBAM goods categories
    cats = sorted({p["goods_category"] for p in model["processes"] if p["goods_category"]})
    model["installation"]["economic_activity"] = "; ".join(cats) or None
    fa_rows = fa.get(key) if fa is not None else None
    model["evidence"] = evidence(inst, ie_rows, procs, products, prec, fa_rows)
    figures = flatten(model)
    sources = frozenset(f for f in model["evidence"]["source_file"].to_list() if f)
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
    optional_marts = OPTIONAL_MARTS

    def build(self, marts: Marts, config: ReportConfig) -> list[ReportDoc]:
        return build(marts, config)

    def write(self, doc: ReportDoc, out_dir: Path) -> list[Path]:
        from transforms.reports.writers.communication_xlsx import write

        return [write(doc, out_dir)]

    def check(self, doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
        from transforms.reports.writers.communication_xlsx import check

        return check(doc, out_dir, marts)


KIND = _Kind()
