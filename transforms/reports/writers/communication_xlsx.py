"""XLSX writer of the operator emissions communication (writer version `communication-xlsx/1`).

`Summary_Communication` follows the Commission's Communication template v2.1.1 (sheet of the same name): the
installation block in rows 11-21 (labels in D, values in G), goods and routes from H11, processes from Q11,
emissions by monitoring method from AA10, further information from AL10, and the product table with its header
in row 25 and the template's column order from D (tests compare these positions with the template's, found by
header text: tests/fixtures/cbam_examples/template_summary_communication.json). `Summary_Processes`,
`Summary_Products`, `Definitive_Summary` (IR 2025/2547 Annex IV pt 1.2) and `Evidence` follow.

One layout function places every value (`layout`); the writer writes it and `check` re-reads the file with
openpyxl and compares every cell with what was meant. Text goes through `safe.neutralise` and `write_string`
(never `write`, which would turn "=..." into a formula); numbers are numbers with number formats; XLSX stores
16 significant digits (xlsxwriter writes `%.16G`), which the check expects.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol

from transforms.reports.base import Marts, ReportDoc
from transforms.reports.safe import neutralise
from transforms.reports.writers.communication_columns import (
    EMISSION_COLUMNS,
    FIRST_PRODUCT_COL,
    FURTHER_ROWS,
    GOODS_COLUMNS,
    INSTALLATION_ROWS,
    PRECURSOR_COLUMNS,
    PROCESS_COLUMNS,
    PRODUCT_COLUMNS,
    PRODUCT_HEADER_ROW,
    QUALIFYING,
    TOTAL_ROWS,
    bi,
)


@dataclass(frozen=True)
class Cell:
    row: int  # 0-based
    col: int  # 0-based
    value: Any
    fmt: str = "text"


@dataclass
class SheetLayout:
    cells: list[Cell] = field(default_factory=list)
    freeze: tuple[int, int] = (0, 0)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(
        default_factory=dict
    )  # 0-based row → points (wrapped bilingual headers)

    def put(self, ref: str | tuple[int, int], value: Any, fmt: str = "text") -> None:
        r, c = xl_cell_to_rowcol(ref) if isinstance(ref, str) else ref
        if value is not None:
            self.cells.append(Cell(r, c, value, fmt))


FORMATS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "section": {"bold": True, "font_size": 12},
    "header": {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1},
    "label": {"text_wrap": True},
    "text": {},
    "see": {"num_format": "0.0000"},  # tCO2e/t, full precision stored
    "share": {"num_format": "0.00%"},
    "tonnes": {"num_format": "#,##0.00"},
    "number": {"num_format": "General"},
    "coord": {"num_format": "0.000000"},
    "date": {"num_format": "yyyy-mm-dd"},
}


def _qualifying_value(product: dict[str, Any], keys: tuple[str, ...]) -> Any:
    qp = product.get("qualifying_parameters") or {}
    aluminium = (product.get("goods_category") or "").lower().startswith("alumin")
    for k in keys:
        base, _, sector = k.partition("@")
        if sector and (sector == "aluminium") != aluminium:
            continue
        if base in qp:
            return qp[base]
    return None


_MAPPED_KEYS = {k.partition("@")[0] for _, _, keys in QUALIFYING for k in keys}


def product_value(product: dict[str, Any], spec: Any) -> Any:
    """The value a product-table column shows for one product."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return product.get(spec)
    if spec[0] == "qualifying":
        return _qualifying_value(product, spec[1])
    rest = {k: v for k, v in (product.get("qualifying_parameters") or {}).items() if k not in _MAPPED_KEYS}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None


def _product_table(sh: SheetLayout, products: list[dict[str, Any]], header_row: int, numbered: bool) -> None:
    h = header_row - 1
    sh.heights[h] = 90
    for i, (en, zh, _, _) in enumerate(PRODUCT_COLUMNS):
        if en is not None:
            sh.put((h, FIRST_PRODUCT_COL + i), bi(en, zh), "header")
    for n, p in enumerate(products):
        r = h + 1 + n
        if numbered:
            sh.put((r, 2), n + 1, "number")
        for i, (_, _, spec, fmt) in enumerate(PRODUCT_COLUMNS):
            v = product_value(p, spec)
            sh.put((r, FIRST_PRODUCT_COL + i), v, "text" if isinstance(v, str) else fmt)
    for i, (en, _, _, _) in enumerate(PRODUCT_COLUMNS):
        sh.widths[FIRST_PRODUCT_COL + i] = 14 if en is None or len(en) < 30 else 22


def _summary_communication(doc: ReportDoc) -> SheetLayout:
    m = doc.model
    inst, em = m["installation"], m["emissions"]
    sh = SheetLayout(freeze=(PRODUCT_HEADER_ROW, FIRST_PRODUCT_COL + 2))
    sh.put("B2", "Communication with reporting declarants 与申报人的沟通", "title")
    status = (
        "provisional (year to date) 临时（年初至今）" if inst["is_provisional"] else "final year 完整年度"
    )
    sh.put(
        "D5",
        f"{doc.title}; reporting year {m['year']}: {status}. Generated by lingtan from the published warehouse.",
    )
    sh.put("D8", "Summary of the installation and production processes 装置和生产过程概要", "section")
    sh.put("D10", "Installation details 装置详情", "section")
    sh.put(
        "I10",
        "Summary of the production processes and production routes, where relevant 生产过程与路线概要",
        "section",
    )
    sh.put(
        "AA10",
        "Summary of emissions by monitoring methodology and data quality 按监测方法的排放与数据质量",
        "section",
    )
    sh.put("AL10", "Further information 其他信息", "section")
    sh.put("D11", bi("Parameter", "参数"), "header")
    sh.put("G11", bi("Value", "数值"), "header")
    for i, (en, zh, key, fmt) in enumerate(INSTALLATION_ROWS):
        sh.put((11 + i, 3), bi(en, zh), "label")
        v = inst.get(key)
        sh.put((11 + i, 6), date.fromisoformat(v) if fmt == "date" and v else v, fmt)
    # (a) goods categories and their routes, (b) processes: up to the template's 10 rows each
    sh.put("H11", "(a)")
    sh.put("I11", bi("Aggregated good produced", "生产的汇总货物类别"), "header")
    for k in range(6):
        sh.put((10, 9 + k), bi(f"Route {k + 1}", f"路线{k + 1}"), "header")
    goods: dict[str, list[str]] = {}
    for p in m["processes"]:
        routes = goods.setdefault(p["goods_category"] or "?", [])
        if p["route"] and p["route"] not in routes:
            routes.append(p["route"])
    for i, (cat, routes) in enumerate(list(goods.items())[:10]):
        sh.put((11 + i, 7), f"G{i + 1}")
        sh.put((11 + i, 8), cat)
        for k, route in enumerate(routes[:6]):
            sh.put((11 + i, 9 + k), route)
    sh.put("Q11", "(b)")
    sh.put("R11", bi("Production process", "生产过程"), "header")
    sh.put("S11", bi("Aggregated goods category", "汇总货物类别"), "header")
    for i, p in enumerate(m["processes"][:10]):
        sh.put((11 + i, 16), f"P{i + 1}")
        sh.put((11 + i, 17), p["name"] or p["process_id"])
        sh.put((11 + i, 18), p["goods_category"])
    if len(m["processes"]) > 10 or len(goods) > 10:
        sh.put("R22", f"{len(m['processes'])} processes: all on Summary_Processes 全部见Summary_Processes")
    for col, en, zh, key in EMISSION_COLUMNS:
        sh.put(f"{col}11", bi(en, zh), "header")
        sh.put(f"{col}12", "tCO2e")
        sh.put(f"{col}13", em.get(key), "tonnes")
    for row, en, zh, key in TOTAL_ROWS:
        sh.put(f"AA{row}", bi(en, zh), "label")
        sh.put(f"AH{row}", "tCO2e")
        sh.put(f"AI{row}", em.get(key), "tonnes")
    sh.put("AA19", bi("General information on data quality:", "数据质量总体信息"), "label")
    sh.put("AD19", _data_quality(m))
    sh.put("AA20", bi("Justification for use of default values (if relevant):", "使用默认值的理由"), "label")
    sh.put("AD20", _default_justification(m))
    sh.put("AA21", bi("Information on quality assurance:", "质量保证信息"), "label")
    sh.put(
        "AD21",
        "Computed by lingtan; published only after the landing, raw, computed, marts and report gates passed",
    )
    sh.put("AL12", bi("Carbon price instrument:", "碳定价工具"), "label")
    sh.put("AM12", "none recorded in the warehouse 仓库中无记录")
    sh.put("AL13", bi("Any additional information:", "其他补充信息"), "label")
    sh.put("AM13", "; ".join(m["notes"]))
    for i, (en, zh, key) in enumerate(FURTHER_ROWS):
        sh.put((13 + i, 37), bi(en, zh), "label")
        sh.put((13 + i, 38), inst.get(key))
    sh.put("D23", "Summary of products 产品概要", "section")
    _product_table(sh, m["products"], PRODUCT_HEADER_ROW, numbered=True)
    sh.widths.update({3: 34, 6: 30})
    return sh


def _data_quality(m: dict[str, Any]) -> str:
    n = len(m["products"])
    actual = sum(1 for p in m["products"] if p.get("determination") == "actual")
    return (
        f"{actual} of {n} goods from the installation's own monitoring data (source streams, electricity bills, "
        "production); precursors from supplier communications or default values as listed on Definitive_Summary"
    )


def _default_justification(m: dict[str, Any]) -> str:
    reasons = sorted(
        {p["default_value_reason"] for p in m["products"] if p.get("default_value_reason")}
        | {p["why"] for p in m["precursors"] if p.get("determination") == "default"}
    )
    return "; ".join(reasons) if reasons else "no default values used 未使用默认值"


def _table(
    sh: SheetLayout, top: int, columns: tuple, rows: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> int:
    """A header row at 0-based `top` and one row per dict; returns the next free row."""
    sh.heights[top] = 60
    for i, (en, zh, _, _) in enumerate(columns):
        sh.put((top, i), bi(en, zh), "header")
        sh.widths.setdefault(i, 16 if len(en) < 25 else 24)
    for n, row in enumerate(rows):
        for i, (_, _, key, fmt) in enumerate(columns):
            v = row.get(key) if extra is None else {**extra.get(row.get("product_id"), {}), **row}.get(key)
            sh.put((top + 1 + n, i), v, "text" if isinstance(v, str) else fmt)
    return top + 1 + len(rows)


def _summary_processes(doc: ReportDoc) -> SheetLayout:
    sh = SheetLayout(freeze=(3, 2))
    sh.put("A1", f"Summary of the production processes 生产过程概要 — {doc.title}", "title")
    _table(sh, 2, PROCESS_COLUMNS, doc.model["processes"])
    return sh


def _summary_products(doc: ReportDoc) -> SheetLayout:
    sh = SheetLayout(freeze=(8, FIRST_PRODUCT_COL + 2))
    sh.put("B2", f"Summary of products 产品概要 — {doc.title}", "title")
    sh.put("D6", "SEE in tCO2e per tonne of goods; full precision stored, four decimals shown")
    _product_table(sh, doc.model["products"], 8, numbered=True)
    return sh


def _definitive_summary(doc: ReportDoc) -> SheetLayout:
    m = doc.model
    sh = SheetLayout(freeze=(4, 3))
    sh.put(
        "A1", "Operator's summary emissions report, IR 2025/2547 Annex IV pt 1.2 运营者排放报告摘要", "title"
    )
    sh.put("A2", "; ".join(m["notes"]))
    sh.put("A4", "Goods: SEE, indirect split and specific embedded free allocation 货物", "section")
    fa = {r["product_id"]: r for r in (m["free_allocation"] or [])}
    nxt = _table(sh, 4, GOODS_COLUMNS, m["products"], extra=fa)
    sh.put((nxt + 1, 0), "Precursors 前体 (Annex IV pt 1.2 (12)-(16))", "section")
    rows = [
        {**p, "material_or_process": p.get("material_id") or p.get("from_process_id")}
        for p in m["precursors"]
    ]
    nxt = _table(sh, nxt + 2, PRECURSOR_COLUMNS, rows)
    sh.put((nxt + 1, 0), "Installation totals 装置排放总量 (pt 1.2 (5)-(6))", "section")
    totals = [{"label": bi(en, zh), "value": m["emissions"].get(key)} for _, en, zh, key in TOTAL_ROWS] + [
        {
            "label": bi(f"Attributed direct emissions of process {p['process_id']}", "过程归属直接排放"),
            "value": p.get("attributed_direct_tco2e"),
        }
        for p in m["processes"]
    ]
    _table(
        sh,
        nxt + 2,
        (("Item", "项目", "label", "text"), ("tCO2e", "吨二氧化碳当量", "value", "tonnes")),
        totals,
    )
    return sh


def _evidence(doc: ReportDoc) -> SheetLayout:
    sh = SheetLayout(freeze=(1, 0), widths={0: 40, 1: 56, 2: 60})
    ev: pl.DataFrame = doc.model["evidence"]
    heads = (
        ("Reported figures (names starting with)", "报告数值"),
        ("Source file (dataset/drop/file)", "来源文件"),
        ("Rows of that file", "行号"),
    )
    for i, (en, zh) in enumerate(heads):
        sh.put((0, i), bi(en, zh), "header")
    for n, (subject, file, rows) in enumerate(ev.select("subject", "source_file", "rows").iter_rows()):
        sh.put((n + 1, 0), subject)
        sh.put((n + 1, 1), file)
        sh.put((n + 1, 2), rows or None)
    return sh


SHEETS = {
    "Summary_Communication": _summary_communication,
    "Summary_Processes": _summary_processes,
    "Summary_Products": _summary_products,
    "Definitive_Summary": _definitive_summary,
    "Evidence": _evidence,
}


def layout(doc: ReportDoc) -> dict[str, SheetLayout]:
    """Every cell of the workbook, per sheet (what `write` writes and `check` expects back)."""
    return {name: build(doc) for name, build in SHEETS.items()}


def file_name(doc: ReportDoc) -> str:
    return f"cbam_communication_{doc.key}.xlsx"


def _finite(v: Any) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


def write(doc: ReportDoc, out_dir: Path) -> Path:
    """The workbook in `out_dir`; identical content gives identical bytes (fixed created date and zip times)."""
    path = out_dir / file_name(doc)
    year = int(doc.model["year"])
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties(
        {"title": doc.title, "author": "lingtan", "created": datetime(year, 12, 31), "comments": doc.key}
    )
    fmts = {k: wb.add_format(v) for k, v in FORMATS.items()}
    for name, sh in layout(doc).items():
        ws = wb.add_worksheet(name)
        for col, width in sh.widths.items():
            ws.set_column(col, col, width)
        for row, height in sh.heights.items():
            ws.set_row(row, height)
        for c in sh.cells:
            fmt = fmts.get(c.fmt, fmts["text"])
            v = c.value
            if isinstance(v, bool):
                ws.write_boolean(c.row, c.col, v, fmt)
            elif isinstance(v, int | float):
                if _finite(v):  # a non-finite number is left empty; the check reports it
                    ws.write_number(c.row, c.col, v, fmt)
            elif isinstance(v, date):
                ws.write_datetime(c.row, c.col, datetime(v.year, v.month, v.day), fmt)
            else:
                ws.write_string(c.row, c.col, str(neutralise(str(v))), fmt)
        ws.freeze_panes(*sh.freeze)
    wb.close()
    return path


def read_back(path: Path) -> dict[str, dict[tuple[int, int], Any]]:
    """Sheet → (0-based row, col) → value, as openpyxl reads the file."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        out: dict[str, dict[tuple[int, int], Any]] = {}
        for ws in wb.worksheets:
            cells: dict[tuple[int, int], Any] = {}
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        cells[(c.row - 1, c.column - 1)] = c.value
            out[ws.title] = cells
        return out
    finally:
        wb.close()


def expected(value: Any) -> Any:
    """What a written cell reads back as."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(f"{value:.16G}") if _finite(value) else None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return neutralise(str(value))


MAX_CELL_FAILURES = 20


def check(doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]:
    """Failures (one line each): a cell that does not read back as meant, a non-finite value, an exported good
    of the installation and year without an SEE in the product table."""
    from transforms.reports.communication_rows import exported_goods

    where = f"{doc.kind}/{doc.key}"
    path = out_dir / file_name(doc)
    if not path.exists():
        return [f"{where}: {path.name} was not written"]
    got = read_back(path)
    out: list[str] = []
    for name, sh in layout(doc).items():
        cells = got.get(name, {})
        for c in sh.cells:
            want, have = expected(c.value), cells.get((c.row, c.col))
            if want is None:
                out.append(
                    f"{where}: {name}!{_ref(c)} value {c.value!r} is not finite; see the marts behind it"
                )
            elif isinstance(want, float) and not isinstance(have, bool) and isinstance(have, int | float):
                if float(have) != want:
                    out.append(f"{where}: {name}!{_ref(c)} reads back {have!r}, meant {want!r}")
            elif have != want:
                out.append(f"{where}: {name}!{_ref(c)} reads back {have!r}, meant {want!r}")
    if len(out) > MAX_CELL_FAILURES:  # one line per cell would flood the console when a whole sheet is off
        out = [*out[:MAX_CELL_FAILURES], f"{where}: … and {len(out) - MAX_CELL_FAILURES} more cells differ"]
    iid, year = doc.meta.get("installation_id"), doc.meta.get("year")
    with_see = {p["product_id"] for p in doc.model["products"] if p.get("see_direct") is not None}
    ex = exported_goods(marts).filter((pl.col("installation_id") == iid) & (pl.col("year") == year))
    for pid, cn in ex.select("product_id", "cn_code").iter_rows():
        if pid not in with_see:
            out.append(
                f"{where}: exported good {pid} (CN {cn or '?'}) of installation {iid} has no SEE for {year} in the "
                "product table (Summary_Communication); see marts.fct_goods_see and fct_cbam_export_lines"
            )
    return out


def _ref(c: Cell) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(c.row, c.col)
