"""Bytes of one landing file → a table of text cells with 1-based data-row numbers.

Formats: CSV (UTF-8 with or without BOM, or GB18030/GBK; comma, semicolon or tab), XLSX (header found in the
top 20 rows), JSON (array of objects or JSON Lines, detected from content) and Parquet. A file that cannot be
turned into rows raises `FileRejected` with a reason a person can act on; a file cut short keeps its complete
rows and reports the broken last row in `TableRead.broken`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
}
HEADER_SEARCH_ROWS = 20


class FileRejected(Exception):
    """The file as a whole cannot be read into rows; the message says why and what to do."""


@dataclass
class BrokenRow:
    row_number: int
    reason: str
    raw: dict[str, str | None]


@dataclass
class TableRead:
    """Text cells of one file. `frame` has String columns c0..cN (positional: headers may repeat) and
    `_row_number`; `headers` are the header cells as written."""

    headers: list[str]
    frame: pl.DataFrame
    file_format: str
    encoding: str | None = None
    broken: list[BrokenRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.broken)


def file_format(name: str) -> str | None:
    lower = name.lower()
    return next((fmt for ext, fmt in FORMATS.items() if lower.endswith(ext)), None)


def decode_text(data: bytes) -> tuple[str, str]:
    """UTF-8 (BOM optional) or GB18030 (a superset of GBK); anything else is rejected, never guessed."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise FileRejected("encoding is UTF-16/UTF-32; save the file as UTF-8 (or GB18030) and drop it again")
    if b"\x00" in data[:4096]:
        raise FileRejected(
            "file contains NUL bytes (UTF-16 or binary, not a text table); save it as UTF-8 CSV"
        )
    for enc in ("utf-8", "gb18030"):
        try:
            return _decode(data, enc), enc
        except UnicodeDecodeError:
            continue
    raise FileRejected("encoding is neither UTF-8 nor GB18030/GBK; save the file as UTF-8 and drop it again")


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        # A file cut short may end inside a multi-byte character: keep what precedes it (the broken last
        # row is quarantined by the parser), but never mask an error earlier in the file.
        if e.end >= len(data) and len(data) - e.start <= 3:
            return data[: e.start].decode(encoding)
        raise


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _frame(headers: list[str], rows: list[list[str | None]], row_numbers: list[int]) -> pl.DataFrame:
    n = len(headers)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(n)]
    data = {f"c{i}": pl.Series(f"c{i}", cols[i], dtype=pl.String) for i in range(n)}
    data["_row_number"] = pl.Series("_row_number", row_numbers, dtype=pl.Int64)
    return pl.DataFrame(data)


def _raw(headers: list[str], values: list) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for i, v in enumerate(values):
        out[headers[i] if i < len(headers) else f"column {i + 1}"] = v
    return out


def read_csv(data: bytes) -> TableRead:
    text, encoding = decode_text(data)
    if not text.strip():
        raise FileRejected("file has no header and no rows (empty)")
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    records = [r for r in lines if any(c.strip() for c in r)]  # blank lines are not rows
    if not records:
        raise FileRejected("file has no header row")
    headers, body = records[0], records[1:]
    n = len(headers)
    ends_cleanly = text.endswith(("\n", "\r"))
    good: list[list[str | None]] = []
    numbers: list[int] = []
    broken: list[BrokenRow] = []
    for i, row in enumerate(body, start=1):
        if len(row) == n:
            good.append(row)
            numbers.append(i)
            continue
        last = i == len(body)
        if last and not ends_cleanly and len(row) < n:
            reason = f"file is cut short: the last row has {len(row)} of {n} fields; send the complete file"
        else:
            reason = (
                f"row has {len(row)} fields but the header has {n}; check separators and quotes in this row"
            )
        broken.append(BrokenRow(i, reason, _raw(headers, row)))
    notes = [] if delimiter == "," else [f"separator {'tab' if delimiter == chr(9) else repr(delimiter)}"]
    return TableRead(headers, _frame(headers, good, numbers), "csv", encoding, broken, notes)


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def read_xlsx(data: bytes, dataset: str, is_header: Callable[[list[str]], bool]) -> TableRead:
    """First sheet, unless a sheet is named like the dataset; the header is the first of the top 20 rows
    for which `is_header` holds (it names at least half of the required columns)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged zip
        raise FileRejected(
            f"not a readable XLSX workbook ({type(e).__name__}); re-save it from Excel"
        ) from None
    try:
        names = {s.strip().casefold(): s for s in wb.sheetnames}
        sheet_name = names.get(dataset.casefold(), wb.sheetnames[0])
        rows_iter = wb[sheet_name].iter_rows(values_only=True)
        top: list[list[str | None]] = []
        header_at = None
        for idx, row in enumerate(rows_iter):
            cells = [_cell_text(v) for v in row]
            top.append(cells)
            if is_header([c for c in cells if c]):
                header_at = idx
                break
            if idx + 1 >= HEADER_SEARCH_ROWS:
                break
        if header_at is None:
            raise FileRejected(
                f"no header row in the first {HEADER_SEARCH_ROWS} rows of sheet '{sheet_name}' names at least "
                "half of the required columns; put the column names in one row above the data"
            )
        raw_headers = top[header_at]
        while raw_headers and raw_headers[-1] in (None, ""):
            raw_headers.pop()
        headers = [h or f"column {i + 1}" for i, h in enumerate(raw_headers)]
        n = len(headers)
        body: list[list[str | None]] = []
        numbers: list[int] = []
        broken: list[BrokenRow] = []
        i = 0
        for row in rows_iter:
            cells = [_cell_text(v) for v in row]
            if not any(c not in (None, "") for c in cells):
                continue
            i += 1
            extra = [c for c in cells[n:] if c not in (None, "")]
            if extra:
                broken.append(
                    BrokenRow(i, f"row has values beyond the {n} header columns", _raw(headers, cells))
                )
                continue
            body.append((cells + [None] * n)[:n])
            numbers.append(i)
    finally:
        wb.close()
    notes = [f"sheet '{sheet_name}'"]
    if header_at:
        notes.append(f"skipped {header_at} title row(s) above the header")
    return TableRead(headers, _frame(headers, body, numbers), "xlsx", None, broken, notes)


def _json_value(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def read_json(data: bytes) -> TableRead:
    """An array of objects or JSON Lines, detected from the content (not the file name). Numbers keep their
    text exactly as written (no float round-trip)."""
    text, encoding = decode_text(data)
    stripped = text.lstrip()
    if not stripped:
        raise FileRejected("file is empty")
    decoder = json.JSONDecoder(parse_float=str, parse_int=str)
    objects: list[tuple[int, object]] = []
    broken_text: list[tuple[int, str, str]] = []
    if stripped.startswith("["):
        pos, n = text.index("[") + 1, 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text):
                broken_text.append((n + 1, "file is cut short: the JSON array is not closed", ""))
                break
            if text[pos] == "]":
                break
            n += 1
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                broken_text.append(
                    (n, f"invalid JSON ({e.msg}); the file is probably cut short", text[pos:][:200])
                )
                break
            objects.append((n, obj))
    else:
        n = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            n += 1
            try:
                objects.append((n, decoder.decode(line)))
            except json.JSONDecodeError as e:
                broken_text.append((n, f"invalid JSON on this line ({e.msg})", line[:200]))
    headers: list[str] = []
    seen: set[str] = set()
    for _, obj in objects:
        if isinstance(obj, dict):
            for k in obj:
                if k not in seen:
                    seen.add(k)
                    headers.append(k)
    if not headers and not broken_text:
        raise FileRejected("JSON holds no objects; expected an array of objects or one object per line")
    body, numbers = [], []
    broken = [BrokenRow(n, reason, {"text": raw}) for n, reason, raw in broken_text]
    for n, obj in objects:
        if not isinstance(obj, dict):
            broken.append(
                BrokenRow(n, "this JSON value is not an object with named fields", {"text": str(obj)[:200]})
            )
            continue
        body.append([_json_value(obj.get(h)) for h in headers])
        numbers.append(n)
    fmt_note = "JSON array" if stripped.startswith("[") else "JSON Lines"
    return TableRead(headers, _frame(headers, body, numbers), "json", encoding, broken, [fmt_note])


def read_parquet(data: bytes) -> TableRead:
    try:
        df = pl.read_parquet(io.BytesIO(data))
    except Exception as e:
        raise FileRejected(f"not a readable Parquet file ({type(e).__name__}: {str(e)[:120]})") from None
    headers = df.columns
    text = df.select(
        [
            (
                pl.col(c).dt.strftime("%Y-%m-%d") if df.schema[c] in (pl.Date,) else pl.col(c).cast(pl.String)
            ).alias(f"c{i}")
            for i, c in enumerate(headers)
        ]
    ).with_columns(_row_number=pl.int_range(1, df.height + 1, dtype=pl.Int64))
    return TableRead(list(headers), text, "parquet", None, [], [])


def read_table(name: str, data: bytes, dataset: str, is_header: Callable[[list[str]], bool]) -> TableRead:
    """Dispatch on the file name's extension; reject what is not a table."""
    fmt = file_format(name)
    if fmt is None:
        raise FileRejected(
            f"unsupported file type '{name.rsplit('.', 1)[-1]}'; use CSV, XLSX, JSON or Parquet"
        )
    if not data:
        raise FileRejected("file is empty (0 bytes)")
    if fmt == "csv":
        return read_csv(data)
    if fmt == "xlsx":
        return read_xlsx(data, dataset, is_header)
    if fmt == "json":
        return read_json(data)
    return read_parquet(data)
