"""Text rows appended to a sheet of a closed XLSX workbook, as inline strings.

A sheet of hundreds of thousands of text cells (the declaration pack's Sources: one row per source row of a line)
spent most of the report stage in xlsxwriter's per-cell calls. Those rows are written here as one block of XML
instead, the XML xlsxwriter writes for the same cells in its `constant_memory` mode (inline strings, no row
spans; tests/reports/test_xlsx_rows.py compares the two), and spliced into the sheet the workbook writer made.
The zip members keep their order, timestamps and compression, so a workbook's bytes depend on its content only.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

XLSX_MAX_CHARS = 32767
_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # a literal escape sequence is escaped in turn (Excel's rule)
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"^\s|\s$")
# anything the three rules above or XML escaping would change: most cells (ids, codes) need none of it
_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+[0-9]+(?::([A-Z]+)([0-9]+))?"/>')


def _inline(text: str) -> str:
    """What follows a cell's reference for `text`: the `t="inlineStr"` element as xlsxwriter writes it (cut to
    Excel's 32,767 characters, as xlsxwriter does). Unlike xlsxwriter, a text of the form `<r>…</r>` is escaped
    like any other, never written as raw rich-text XML."""
    text = text[:XLSX_MAX_CHARS]
    if _PLAIN.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", _ESCAPED.sub(r"_x005F\1", text))
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'" t="inlineStr"><is><t{space}>{text}</t></is></c>'
    return f'" t="inlineStr"><is><t>{text}</t></is></c>'


def rows_xml(rows: Iterable[Sequence[str | None]], first_row: int) -> tuple[str, int, int]:
    """`<row>` elements of `rows` from 0-based row `first_row` on (None: no cell); with the last row and column
    written (0-based; -1 when none)."""
    parts: list[str] = []
    last_row = last_col = -1
    letters: list[str] = []
    inline: dict[
        str, str
    ] = {}  # a text's element, made once (a line's lead cells repeat on each of its rows)
    for r, cells in enumerate(rows, start=first_row):
        while len(letters) < len(cells):
            letters.append(f'<c r="{xl_col_to_name(len(letters))}')
        n = r + 1
        body = []
        for c, v in enumerate(cells):
            if v is not None:
                tail = inline.get(v)
                if tail is None:
                    tail = inline[v] = _inline(v)
                body.append(f"{letters[c]}{n}{tail}")
                last_col = max(last_col, c)
        if body:
            parts.append(f'<row r="{n}">{"".join(body)}</row>')
            last_row = r
    return "".join(parts), last_row, last_col


def append_rows(path: Path, sheet_index: int, rows: Iterable[Sequence[str | None]], first_row: int) -> None:
    """Append text `rows` (0-based row `first_row` on, below every row the sheet has) to the sheet at
    `sheet_index` (0-based, in the order xlsxwriter added them: `xl/worksheets/sheet<index + 1>.xml`) of the
    workbook at `path`, and widen the sheet's dimension to them. The file is replaced when complete."""
    xml, last_row, last_col = rows_xml(rows, first_row)
    if last_row < 0:
        return
    member = f"xl/worksheets/sheet{sheet_index + 1}.xml"
    tmp = path.with_name(f".{path.name}.rows")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                data = _splice(data, xml.encode("utf-8"), last_row, last_col)
            dst.writestr(info, data, compress_type=info.compress_type)
    tmp.replace(path)


def _splice(sheet: bytes, rows: bytes, last_row: int, last_col: int) -> bytes:
    if b"<sheetData/>" in sheet:
        sheet = sheet.replace(b"<sheetData/>", b"<sheetData>" + rows + b"</sheetData>", 1)
    else:
        head, sep, tail = sheet.rpartition(b"</sheetData>")
        if not sep:
            raise ValueError("not a worksheet: no sheetData element")
        sheet = head + rows + sep + tail

    def widen(m: re.Match[bytes]) -> bytes:
        col = max(last_col, _col_index(m.group(1)) if m.group(1) else 0)
        return f'<dimension ref="A1:{xl_col_to_name(col)}{last_row + 1}"/>'.encode()

    return _DIMENSION.sub(widen, sheet, count=1)


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n - 1


def sheet_dimension(path: Path, sheet: str) -> str | None:
    """The `<dimension ref>` of the named sheet of an xlsxwriter workbook (e.g. `A1:D1201`), None without one:
    how many rows a sheet holds, without parsing its cells."""
    with zipfile.ZipFile(path) as z:
        names = re.findall(rb'<sheet name="([^"]*)"', z.read("xl/workbook.xml"))
        if sheet.encode() not in names:
            return None
        with z.open(f"xl/worksheets/sheet{names.index(sheet.encode()) + 1}.xml") as fh:
            m = re.search(rb'<dimension ref="([^"]+)"/>', fh.read(4096))
    return m.group(1).decode() if m else None
