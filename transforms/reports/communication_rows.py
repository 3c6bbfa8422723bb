"""Row builders of the operator communication model (transforms/reports/communication.py): processes, products
with the indirect split, precursors with why actual or default, free allocation, and the evidence behind every
number. Pure polars/Python on one installation × year's mart rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl

# Electricity factor sources (MIR Annex II D.4): the country grid default (a) and the alternative default (b,
# D.4.4) are default values; D.4.1-D.4.3 are actual factors. `Mix` / unspecified cannot be split from the marts.
DEFAULT_EF_SOURCES = frozenset({"D.4(a)", "D.4(b)"})
ACTUAL_EF_SOURCES = frozenset({"D.4.1", "D.4.2", "D.4.3.1", "D.4.3.2"})


def _qualifying(text: str | None) -> dict[str, Any]:
    """The product's qualifying parameters as entered (JSON object); a value that is not JSON is kept as text."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"unparsed": text}
    return value if isinstance(value, dict) else {"unparsed": text}


def indirect_split(procs: pl.DataFrame, prec: pl.DataFrame) -> dict[str, dict[str, Any]]:
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


def process_rows(iid: str, procs: pl.DataFrame, dim_process: pl.DataFrame) -> list[dict[str, Any]]:
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


def product_rows(
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
        if r.get("annex_ii_direct_only"):  # pt 1.2 (4)(c) asks the split for non-Annex-II goods only
            row["indirect_split_note"] = "; ".join(
                x
                for x in ("Annex II good: indirect emissions not chargeable, split not required", s["reason"])
                if x
            )
        rows.append(row)
    return rows


PRECURSOR_FIELDS = (
    "process_id",
    "source",
    "from_process_id",
    "material_id",
    "cn_code",
    "supplier_id",
    "supplier_name",
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


def with_precursor_key(prec: pl.DataFrame) -> pl.DataFrame:
    order = [
        "process_id",
        "source",
        "from_process_id",
        "material_id",
        "supplier_installation_id",
        "see_origin",
    ]
    return prec.with_columns(precursor_key=_precursor_key_expr()).sort(order, nulls_last=True)


def precursor_rows(prec: pl.DataFrame) -> list[dict[str, Any]]:
    if prec.is_empty():
        return []
    rows = []
    for r in prec.iter_rows(named=True):
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
    "good_kind",
    "determination",
    "benchmark_column",
    "benchmark_tco2e_per_t",
    "benchmark_route",
    "cbam_factor",
    "cbam_factor_status",
    "cscf",
    "cscf_status",
    "sefa_tco2e_per_t",
    "sefa_basis",
    "benchmark_source",
)


def free_allocation_rows(fa: pl.DataFrame | None) -> list[dict[str, Any]] | None:
    if fa is None:
        return None
    if fa.is_empty():
        return []
    cols = [c for c in FREE_ALLOCATION_FIELDS if c in fa.columns]
    return [
        {k: r.get(k) for k in FREE_ALLOCATION_FIELDS}
        for r in fa.select(cols).sort("product_id").iter_rows(named=True)  # scalar columns only
    ]


EVIDENCE_SCHEMA = {"subject": pl.String, "source_file": pl.String, "rows": pl.String}
PROCESS_REF = "every row listed for process/"  # Evidence line: a good's rows include all of its process's
MAX_ROWS_TEXT = 30_000  # an XLSX cell holds at most 32 767 characters


def evidence(
    inst: dict[str, Any] | None,
    ie_rows: pl.DataFrame | None,
    procs: pl.DataFrame,
    products: pl.DataFrame,
    prec: pl.DataFrame,
    fa: pl.DataFrame | None = None,
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
    if fa is not None:
        add(pl.lit("free_allocation/") + pl.col("product_id"), fa, "source_row_ids")
    for col in ("source_row_ids", "supplier_emissions_row_ids"):
        add(pl.lit("precursor/") + pl.col("precursor_key"), prec, col)
    if not parts:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    ids = pl.concat(
        [p.select(pl.col("subject").cast(pl.String), pl.col("id").cast(pl.String)) for p in parts]
    ).drop_nulls()
    # one split per id; rows as integers sorted within (subject, file) groups (few groups, 10^6 ids at scale:
    # sorting the id strings instead took minutes)
    split = (
        ids.select(
            "subject",
            "id",
            pl.col("id").str.split_exact("#", 1).struct.rename_fields(["source_file", "row"]).alias("parts"),
        )
        .unnest("parts")
        .with_columns(pl.col("row").cast(pl.Int64, strict=False))
    )
    # ids without a numeric row part stay whole (one line each)
    odd = (
        split.filter(pl.col("row").is_null())
        .select("subject", pl.col("id").alias("source_file"), rows=pl.lit(""))
        .unique()
    )
    runs = (
        split.filter(pl.col("row").is_not_null())
        .group_by("subject", "source_file")
        .agg(pl.col("row").unique().sort())
        .explode("row")
        .with_columns(
            run=(
                (pl.col("subject") != pl.col("subject").shift())
                | (pl.col("source_file") != pl.col("source_file").shift())
                | (pl.col("row").diff() != 1)
            )
            .fill_null(True)
            .cum_sum()
        )
        .group_by("run")
        .agg(
            pl.col("subject").first(),
            pl.col("source_file").first(),
            lo=pl.col("row").min(),
            hi=pl.col("row").max(),
        )
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
    lines = pl.concat([runs, odd])
    if products.height:
        lines = _refer_to_process(lines, products.select("product_id", "process_id"))
    return lines.sort("subject", "source_file", "rows")


def _refer_to_process(lines: pl.DataFrame, goods: pl.DataFrame) -> pl.DataFrame:
    """A good's source rows are its process's rows plus a few (its product row, its precursors). When a good's
    lines repeat every line of its process identically (same file, same row ranges: the same ids), drop them and
    say 'every row listed for process/<id>' instead, so 10^5 ids are not listed once per good."""
    own = lines.filter(
        pl.col("subject").str.starts_with("product/") | pl.col("subject").str.starts_with("free_allocation/")
    )
    own = own.with_columns(product_id=pl.col("subject").str.replace(r"^[a-z_]+/", "")).join(
        goods, on="product_id", how="inner"
    )
    proc = lines.filter(pl.col("subject").str.starts_with("process/")).select(
        pl.col("subject").str.replace("^process/", "").alias("process_id"), "source_file", "rows"
    )
    if own.is_empty() or proc.is_empty():
        return lines
    n_proc = proc.group_by("process_id").len("n_proc")
    dup = own.join(proc, on=["process_id", "source_file", "rows"], how="semi")
    covered = (
        dup.group_by("subject", "process_id")
        .len("n_dup")
        .join(n_proc, on="process_id")
        .filter(pl.col("n_dup") == pl.col("n_proc"))
        .select("subject", "process_id")
    )
    drop = dup.join(covered, on="subject", how="semi").select("subject", "source_file", "rows")
    refs = covered.select(  # no file of its own: not a source
        "subject", source_file=pl.lit(""), rows=pl.lit(PROCESS_REF) + pl.col("process_id")
    )
    return pl.concat([lines.join(drop, on=["subject", "source_file", "rows"], how="anti"), refs])


def exported_goods(marts: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
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
