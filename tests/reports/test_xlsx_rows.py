"""Rows spliced into a written workbook (transforms/reports/writers/xlsx_rows.py) give the workbook xlsxwriter
itself writes for the same cells in its constant-memory mode, byte for byte, and read back as the same text."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import xlsxwriter

from transforms.reports.writers.xlsx_rows import XLSX_MAX_CHARS, append_rows

TRICKY = [
    "CN-ZJ-001",
    "supplier_invoices/2026-11-03/zj_fapiao_2026-10.csv#17",
    " leading space",
    "trailing space ",
    "tab\there",
    "a & b <c> d",
    "bell\x07and\x1fnul\x00",
    "_x0041_ looks escaped",
    "non\ufffechar\uffff",
    "'=HYPERLINK(1)",
    "中文 装置",
    "x" * (XLSX_MAX_CHARS + 5),
]
ROWS = [
    ("CN-ZJ-001", None, "72181000", TRICKY[1]),
    *((t, "VN", "", f"row {i}") for i, t in enumerate(TRICKY)),
    (None, None, None, None),
    ("after a gap", None, None, "z"),
]


def _workbook(path: Path) -> tuple[xlsxwriter.Workbook, object]:
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "constant_memory": True}
    )
    wb.add_worksheet("First").write_string(0, 0, "before")
    ws = wb.add_worksheet("Sources")
    head = wb.add_format({"bold": True})
    for c, h in enumerate(("Installation", "Origin", "CN code", "Source row")):
        ws.write_string(0, c, h, head)
    return wb, ws


def test_spliced_rows_give_xlsxwriters_own_workbook(tmp_path: Path) -> None:
    wb, ws = _workbook(tmp_path / "cells.xlsx")
    for r, cells in enumerate(ROWS, start=1):
        for c, v in enumerate(cells):
            if v is not None:
                ws.write_string(r, c, v)
    ws.set_column(3, 3, 60)
    ws.freeze_panes(1, 0)
    wb.close()

    wb, ws = _workbook(tmp_path / "spliced.xlsx")
    ws.set_column(3, 3, 60)
    ws.freeze_panes(1, 0)
    wb.close()
    append_rows(tmp_path / "spliced.xlsx", ws.index, ROWS, first_row=1)

    assert (tmp_path / "spliced.xlsx").read_bytes() == (tmp_path / "cells.xlsx").read_bytes()
    read = openpyxl.load_workbook(tmp_path / "spliced.xlsx", read_only=True)["Sources"]
    got = [list(r) for r in read.iter_rows(min_row=2, values_only=True)]
    assert got[0] == ["CN-ZJ-001", None, "72181000", TRICKY[1]]
    # text comes back as written (openpyxl leaves Excel's _xHHHH_ escapes of control characters as they are)
    plain = [
        (g[0], t) for g, t in zip(got[1:], TRICKY, strict=False) if not any(x in t for x in "\x07_\ufffe")
    ]
    assert [g for g, _ in plain] == [t[:XLSX_MAX_CHARS] for _, t in plain] and len(plain) == len(TRICKY) - 4
    assert got[-1] == ["after a gap", None, None, "z"] and len(got) == len(ROWS)


def test_rich_text_lookalikes_are_text(tmp_path: Path) -> None:
    # xlsxwriter writes a string of the form <r>…</r> as raw XML in this mode; the splice escapes it
    wb, ws = _workbook(tmp_path / "x.xlsx")
    wb.close()
    text = '<r><t>x</t></r><c r="Z9"><v>1</v></c><r>'
    append_rows(tmp_path / "x.xlsx", ws.index, [(text,), ("<r>y</r>",)], first_row=1)
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx", read_only=True)["Sources"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [text, "<r>y</r>"]
    assert sheet.max_row == 3


def test_nothing_to_append_leaves_the_file(tmp_path: Path) -> None:
    wb, ws = _workbook(tmp_path / "x.xlsx")
    wb.close()
    before = (tmp_path / "x.xlsx").read_bytes()
    append_rows(tmp_path / "x.xlsx", ws.index, [(None, None), ()], first_row=1)
    assert (tmp_path / "x.xlsx").read_bytes() == before
