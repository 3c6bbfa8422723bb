"""Writers of the importer's declaration data pack (writer version `declaration-pack/1`): `lines.csv` and
`totals.csv` (UTF-8, full precision), `declaration_pack.xlsx` (sheets Summary, Totals, Lines, Quarterly_holding,
Sources) and `declaration_pack.json` (valid against schemas/declaration_pack.v1.schema.json).

Text from inputs is neutralised (`safe`): CSV frames through `neutralise_frame`, XLSX cells through `neutralise`
and `write_string`, so an importer named `=HYPERLINK(...)` stays text. Numbers are numbers (XLSX keeps 16
significant digits, xlsxwriter's `%.16G`; CSV and JSON keep full precision). `check` re-reads every file and
compares it with the document, validates the JSON against the schema and reconciles the totals with
fct_cbam_export_lines.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import xlsxwriter

from transforms.reports.base import Marts, ReportDoc, nonfinite_figures
from transforms.reports.safe import neutralise, neutralise_frame
from transforms.reports.writers.xlsx_rows import append_rows, sheet_dimension

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "declaration_pack.v1.schema.json"
SCHEMA_ID = "https://lingtan.dev/schemas/declaration_pack.v1.schema.json"
FILES = ("lines.csv", "totals.csv", "declaration_pack.xlsx", "declaration_pack.json")

# (field, English header, Chinese header, number format or "text")
LINE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("installation_id", "Installation", "装置", "text"),
    ("origin_country", "Origin country", "原产国", "text"),
    ("cn_code", "CN code", "CN编码", "text"),
    ("determination", "SEE determination", "排放确定方式", "text"),
    ("export_line_count", "Export lines", "出口明细行数", "0"),
    ("net_mass_t", "Net mass (t)", "净质量（吨）", "#,##0.000"),
    ("embedded_tco2e", "Embedded emissions (tCO2e)", "隐含排放（tCO2e）", "#,##0.000"),
    ("embedded_actual_tco2e", "of which actual (tCO2e)", "其中实际值", "#,##0.000"),
    ("embedded_default_tco2e", "of which default (tCO2e)", "其中默认值", "#,##0.000"),
    ("embedded_direct_tco2e", "Direct (tCO2e)", "直接排放", "#,##0.000"),
    ("embedded_indirect_tco2e", "Indirect (tCO2e)", "间接排放", "#,##0.000"),
    ("verified", "Verified", "已核查", "text"),
    ("verified_reason", "Verified: why", "核查说明", "text"),
    ("sefa_tco2e_per_t", "SEFA (tCO2e/t)", "特定隐含免费配额（tCO2e/吨）", "0.00000"),
    ("free_allocation_adjustment_tco2e", "Free-allocation adjustment (tCO2e)", "免费配额调整", "#,##0.000"),
    ("faa_basis", "FAA basis", "免费配额依据", "text"),
    ("carbon_price_deduction_tco2e", "Carbon price deduction (certificates)", "已付碳价扣减", "#,##0.000"),
    ("carbon_price_reason", "Carbon price: why", "碳价说明", "text"),
    ("certificates_due", "Certificates due", "应缴证书", "#,##0.000"),
    ("never_de_minimis", "Never exempt (electricity/hydrogen)", "不适用豁免（电力/氢）", "text"),
    ("exempt_de_minimis", "Exempt (50 t threshold)", "豁免（50吨门槛）", "text"),
    ("certificates_due_after_threshold", "Certificates due after threshold", "门槛后应缴证书", "#,##0.000"),
    ("estimated_cost_eur", "Estimated cost (EUR)", "估计成本（欧元）", "#,##0.00"),
)
TOTAL_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("cn_code", "CN code", "CN编码", "text"),
    ("origin_country", "Origin country", "原产国", "text"),
    *(c for c in LINE_COLUMNS if c[3] != "text" and c[0] != "sefa_tco2e_per_t"),
)
HOLDING_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("quarter_end", "Quarter end", "季度末", "text"),
    ("net_mass_t_cumulative", "Net mass since 1 January (t)", "年初至今净质量（吨）", "#,##0.000"),
    (
        "embedded_default_unmarked_tco2e",
        "Embedded at defaults without mark-up (tCO2e)",
        "按无加成默认值的隐含排放",
        "#,##0.000",
    ),
    ("free_allocation_adjustment_tco2e", "Free-allocation adjustment (tCO2e)", "免费配额调整", "#,##0.000"),
    ("holding_certificates", "Certificates to hold (50 %)", "应持有证书（50%）", "#,##0.000"),
)


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _text_cell(v: Any) -> str | None:
    """What a text cell of the XLSX holds (None: blank)."""
    return None if v is None else neutralise(_cell_text(v))


def _frame(
    rows: list[dict[str, Any]], columns: tuple[tuple[str, str, str, str], ...], lead: dict[str, Any]
) -> pl.DataFrame:
    """Rows as a typed frame (text columns as strings, numbers as Float64), importer/year columns first."""
    data: dict[str, pl.Series] = {k: pl.Series(k, [v] * len(rows), dtype=pl.String) for k, v in lead.items()}
    for f, _, _, fmt in columns:
        vals = [r.get(f) for r in rows]
        data[f] = (
            pl.Series(f, [_cell_text(v) for v in vals], dtype=pl.String)
            if fmt == "text"
            else pl.Series(f, [None if v is None else int(v) for v in vals], dtype=pl.Int64)
            if fmt == "0"
            else pl.Series(f, [None if v is None else float(v) for v in vals], dtype=pl.Float64)
        )
    return pl.DataFrame(data)


def frames(doc: ReportDoc) -> dict[str, pl.DataFrame]:
    """The two CSV tables before neutralisation: every line, and the totals per CN × origin plus a TOTAL row."""
    m = doc.model
    lead = {
        "importer_eori": m["importer"]["eori"],
        "importer_name": m["importer"]["name"],
        "year": str(m["year"]),
    }
    lines = _frame(m["lines"], LINE_COLUMNS, lead).with_columns(
        pl.Series("source_row_ids", ["; ".join(ln["source_row_ids"]) for ln in m["lines"]], dtype=pl.String)
    )
    totals = _frame([*m["totals_by_cn_origin"], {"cn_code": "TOTAL", **m["total"]}], TOTAL_COLUMNS, lead)
    return {"lines.csv": lines, "totals.csv": totals}


def write(doc: ReportDoc, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in frames(doc).items():
        path = out_dir / name
        neutralise_frame(df).write_csv(path, float_precision=None)
        paths.append(path)
    paths.append(_write_xlsx(doc, out_dir / "declaration_pack.xlsx"))
    path = out_dir / "declaration_pack.json"
    path.write_text(
        json.dumps(to_json(doc), ensure_ascii=False, indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    paths.append(path)
    return paths


def to_json(doc: ReportDoc) -> dict[str, Any]:
    return {"$schema": SCHEMA_ID, "key": doc.key, **doc.model}


# ---------------------------------------------------------------- XLSX


def _summary_rows(m: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
    cp, th, t = m["certificate_price"], m["threshold"], m["total"]
    return [
        ("Importer EORI", "进口商EORI", m["importer"]["eori"], "text"),
        ("Importer", "进口商", m["importer"]["name"], "text"),
        ("Import year", "进口年度", m["year"], "0"),
        ("Declaration due", "申报截止日", m["declaration_due"], "text"),
        ("Status", "性质", m["status"], "text"),
        ("CBAM factor", "CBAM系数", m["factors"]["cbam_factor"], "0.000"),
        ("CSCF", "跨部门修正系数", m["factors"]["cscf"], "0.000"),
        ("CSCF status", "跨部门修正系数状态", m["factors"]["cscf_status"], "text"),
        ("Certificate price (EUR/t)", "证书价格（欧元/吨）", cp["eur_per_t"], "#,##0.00"),
        ("Certificate price source", "证书价格来源", cp["source"], "text"),
        ("Certificate price note", "证书价格说明", cp["note"], "text"),
        ("Threshold net mass counted (t)", "计入门槛的净质量（吨）", th["net_mass_t_counted"], "#,##0.000"),
        ("Threshold limit (t)", "门槛（吨）", th["limit_t"], "#,##0.000"),
        ("Threshold status", "门槛状态", th["status"], "text"),
        ("Threshold rule", "门槛规则", th["rule"], "text"),
        *[(c[1], c[2], t.get(c[0]), c[3]) for c in TOTAL_COLUMNS if c[0] in t],
    ]


def _write_xlsx(doc: ReportDoc, path: Path) -> Path:
    m = doc.model
    created = datetime.fromisoformat(m["created"])
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "constant_memory": True}
    )
    wb.set_properties({"title": doc.title, "created": created, "author": "lingtan"})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
    fmts: dict[str, Any] = {}

    def fmt(code: str) -> Any:
        if code not in fmts:
            fmts[code] = wb.add_format({"num_format": code}) if code != "text" else wb.add_format({})
        return fmts[code]

    def put(ws: Any, r: int, c: int, v: Any, code: str) -> None:
        if v is None:
            ws.write_blank(r, c, None)
        elif code == "text" or isinstance(v, str | bool):
            ws.write_string(r, c, _text_cell(v))
        else:
            ws.write_number(r, c, float(v), fmt(code))

    ws = wb.add_worksheet("Summary")
    for c, h in enumerate(("Item / 项目", "Value / 数值")):
        ws.write_string(0, c, h, head)
    for r, (en, zh, v, code) in enumerate(_summary_rows(m), start=1):
        ws.write_string(r, 0, f"{en} / {zh}")
        put(ws, r, 1, v, code)
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 60)
    ws.freeze_panes(1, 0)

    tables = [
        ("Totals", TOTAL_COLUMNS, [*m["totals_by_cn_origin"], {"cn_code": "TOTAL", **m["total"]}]),
        ("Lines", LINE_COLUMNS, m["lines"]),
    ]
    if m["quarterly_holding"]:
        tables.append(("Quarterly_holding", HOLDING_COLUMNS, m["quarterly_holding"]["quarters"]))
    for name, columns, rows in tables:
        ws = wb.add_worksheet(name)
        for c, (_, en, zh, _code) in enumerate(columns):
            ws.write_string(0, c, f"{en} / {zh}", head)
            ws.set_column(c, c, 16 if _code != "text" else 22)
        for r, row in enumerate(rows, start=1):
            for c, (f, _, _, code) in enumerate(columns):
                put(ws, r, c, row.get(f), code)
        ws.freeze_panes(1, 0)
        if name == "Quarterly_holding":
            ws.write_string(len(rows) + 2, 0, neutralise(m["quarterly_holding"]["basis"]))

    ws = wb.add_worksheet("Sources")
    for c, h in enumerate(
        ("Installation / 装置", "Origin / 原产国", "CN code / CN编码", "Source row / 来源行")
    ):
        ws.write_string(0, c, h, head)
    ws.set_column(3, 3, 60)
    ws.freeze_panes(1, 0)
    wb.close()
    # one row per source row of a line (hundreds of thousands at scale), as `put` writes text: spliced in as one
    # block of XML (xlsx_rows), each line's three cells made once
    sources = []
    for ln in m["lines"]:
        lead = tuple(_text_cell(ln[k]) for k in ("installation_id", "origin_country", "cn_code"))
        sources += [(*lead, _text_cell(s)) for s in ln["source_row_ids"] + ln["carbon_price_source_row_ids"]]
    append_rows(path, ws.index, sources, first_row=1)
    return path


# ---------------------------------------------------------------- check


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema_errors(payload: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    v = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in v.iter_errors(payload)]


def _close(a: float | None, b: float | None, rel: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


def _expected_text(v: Any) -> str | None:
    t = _cell_text(v)
    return None if t is None else neutralise(t)  # type: ignore[return-value]


def _compare_table(
    what: str, got: list[list[Any]], rows: list[dict[str, Any]], columns: tuple, rel: float, offset: int
) -> list[str]:
    problems = []
    if len(got) != len(rows):
        return [f"{what}: {len(got)} rows re-read, {len(rows)} meant"]
    for i, (cells, row) in enumerate(zip(got, rows, strict=True)):
        for j, (f, _, _, code) in enumerate(columns):
            v, want = cells[j + offset], row.get(f)
            if code == "text" or isinstance(want, str | bool):
                ok = (v if v not in ("",) else None) == _expected_text(want)
            else:
                ok = _close(None if v in (None, "") else float(v), None if want is None else float(want), rel)
            if not ok:
                problems.append(f"{what} row {i + 1} {f}: re-read {v!r}, meant {want!r}")
    return problems


CSV_FIELD_LIMIT = 2**31 - 1  # a line's source row ids run to megabytes at scale; csv's default is 131,072


def _reread_csv(path: Path) -> list[list[Any]]:
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.reader(fh))[1:]
    finally:
        csv.field_size_limit(previous)


def _reread_xlsx(path: Path, sheets: tuple[str, ...]) -> dict[str, list[list[Any]]]:
    """The rows below the header of each of `sheets`, from one opening of the workbook (each opening parses
    every shared string, the Sources sheet's lineage ids included: megabytes at scale)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            sheet: [
                list(r)
                for r in wb[sheet].iter_rows(min_row=2, values_only=True)
                if any(c is not None for c in r)
            ]
            for sheet in sheets
        }
    finally:
        wb.close()


def reconcile(doc: ReportDoc, marts: Marts) -> list[str]:
    """The pack's totals against fct_cbam_export_lines of the same importer and import year."""
    from transforms.reports.base import import_year_expr

    m = doc.model
    ex = marts["fct_cbam_export_lines"].filter(
        pl.col("importer_eori").eq_missing(m["importer"]["eori"]) & (import_year_expr() == m["year"])
    )
    want = {
        "export_line_count": ex.height,
        "net_mass_t": math.fsum(x for x in ex["net_mass_t"].to_list() if x is not None),
        "embedded_tco2e": math.fsum(x for x in ex["embedded_chargeable_tco2e"].to_list() if x is not None),
        "embedded_direct_tco2e": math.fsum(x for x in ex["embedded_direct_tco2e"].to_list() if x is not None),
        "embedded_indirect_tco2e": math.fsum(
            x for x in ex["embedded_indirect_tco2e"].to_list() if x is not None
        ),
    }
    return [
        f"total {k} = {m['total'][k]!r} but fct_cbam_export_lines sums to {v!r} for {m['importer']['eori']} {m['year']}"
        for k, v in want.items()
        if not _close(float(m["total"][k]), float(v), 1e-9)
    ]


def check(doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
    """What is wrong with a written pack (empty when it passes the report gate)."""
    m = doc.model
    problems = [f"{doc.key}: missing {f}" for f in FILES if not (out_dir / f).exists()]
    if problems:
        return problems
    payload = json.loads((out_dir / "declaration_pack.json").read_text(encoding="utf-8"))
    problems += [f"{doc.key}: JSON schema: {e}" for e in schema_errors(payload)]
    if payload != json.loads(json.dumps(to_json(doc), allow_nan=False)):
        problems.append(f"{doc.key}: declaration_pack.json re-read differs from the document")
    problems += [f"{doc.key}: {e}" for e in reconcile(doc, marts)]
    problems += [f"{doc.key}: figure {k} is not finite" for k in nonfinite_figures(doc)]
    problems += [
        f"{doc.key}: figure {k} = {v!r} is negative"
        for k, v in doc.figures.items()
        if isinstance(v, float) and v < 0 and not k.endswith("/sefa_tco2e_per_t")
    ]
    for f in ("net_mass_t", "embedded_tco2e", "free_allocation_adjustment_tco2e", "certificates_due"):
        s = math.fsum(ln[f] or 0.0 for ln in m["lines"])
        if not _close(s, m["total"][f], 1e-12):
            problems.append(f"{doc.key}: lines sum {f} = {s!r}, total says {m['total'][f]!r}")
    totals = [*m["totals_by_cn_origin"], {"cn_code": "TOTAL", **m["total"]}]
    problems += _compare_table(
        "lines.csv", _reread_csv(out_dir / "lines.csv"), m["lines"], LINE_COLUMNS, 0.0, 3
    )
    problems += _compare_table(
        "totals.csv", _reread_csv(out_dir / "totals.csv"), totals, TOTAL_COLUMNS, 0.0, 3
    )
    xlsx = out_dir / "declaration_pack.xlsx"
    sheets = _reread_xlsx(xlsx, ("Lines", "Totals"))
    problems += _compare_table("xlsx Lines", sheets["Lines"], m["lines"], LINE_COLUMNS, 1e-15, 0)
    problems += _compare_table("xlsx Totals", sheets["Totals"], totals, TOTAL_COLUMNS, 1e-15, 0)
    sources = sum(len(ln["source_row_ids"]) + len(ln["carbon_price_source_row_ids"]) for ln in m["lines"])
    if (got := sheet_dimension(xlsx, "Sources")) != f"A1:D{sources + 1}":
        problems.append(f"xlsx Sources: holds {got}, meant A1:D{sources + 1} (a header and {sources} rows)")
    return [p if p.startswith(doc.key) else f"{doc.key}: {p}" for p in problems]
