"""Bytes of one landing file → a table of text cells with 1-based data-row numbers.

Formats: CSV (UTF-8 with or without BOM, or GB18030/GBK; comma, semicolon or tab), XLSX (header found in the
top 20 rows), JSON (array of objects or JSON Lines, detected from content) and Parquet. The content decides the
format when the name lies (JSON Lines in a `.csv`, a workbook named `.csv`), and the note says so. A file that
cannot be turned into rows raises `FileRejected` with a reason a person can act on; a file cut short keeps its
complete rows and reports the broken last row in `TableRead.broken`; a cell whose value is unknown is a
`CellProblem`.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime

import polars as pl

from transforms.ingest import meter_layouts, meter_reshape
from transforms.ingest.base import (
    BrokenRow,
    CellProblem,
    FileRejected,
    TableRead,
    decode_text,
    frame,
    raw_cells,
)
from transforms.ingest.csv_fast import NotWellFormed, iter_csv_batches, read_csv_fast, table_of
from transforms.ingest.csv_reader import HEADER_SEARCH_ROWS, read_csv, read_csv_text
from transforms.ingest.json_fast import iter_jsonl_batches, read_jsonl_fast
from transforms.ingest.json_fast import table_of as json_table_of
from transforms.ingest.json_reader import looks_like_json, read_json, read_json_text
from transforms.ingest.meter_wide import WideRead, read_wide, total_tally

__all__ = [
    "BrokenRow",
    "CellProblem",
    "FileRejected",
    "NotWellFormed",
    "TableRead",
    "decode_text",
    "file_format",
    "read_csv",
    "read_json",
    "read_parquet",
    "read_batches",
    "read_table",
    "read_xlsx",
]

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
# A workbook whose parts expand beyond this is refused before it is parsed (a zip bomb is tiny on disk).
MAX_XLSX_EXPANDED_BYTES = 1 << 30
# ... and so is a large part compressed far beyond what worksheet XML compresses to (≈ 5-50:1 for real sheets;
# a bomb of repeated bytes reaches ≈ 1000:1). Sizes are the zip directory's: zipfile never inflates a part
# past its declared size (it fails on the CRC instead), so the declared sizes bound the work.
MAX_XLSX_RATIO = 200
XLSX_RATIO_FLOOR = 16 << 20  # parts below this are never a problem, whatever their ratio
# Excel never writes a DTD; one in a workbook's XML is an entity-expansion or external-entity attack.
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
EXCEL_ERRORS = ("#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")


# Datasets whose files come in several layouts (docs/landing-zone.md): (header rule, reshape to the contract's
# long table), applied to what any reader returns, before validation.
LAYOUTS = {meter_layouts.DATASET: (meter_layouts.header_predicate, meter_reshape.reshape)}


def file_format(name: str) -> str | None:
    lower = name.lower()
    return next((fmt for ext, fmt in FORMATS.items() if lower.endswith(ext)), None)


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

    has_formulas = _check_workbook(data)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # formulas are read a second time, in step, only to tell "no cached value" from an empty cell
        wf = (
            openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            if has_formulas
            else None
        )
    except Exception as e:  # openpyxl raises many types for a damaged zip
        raise FileRejected(
            f"not a readable XLSX workbook ({type(e).__name__}: {str(e)[:120]}); re-save it from Excel"
        ) from None
    try:
        names = {s.strip().casefold(): s for s in wb.sheetnames}
        sheet_name = names.get(dataset.casefold(), wb.sheetnames[0])
        values = wb[sheet_name].iter_rows(values_only=True)
        formulas = wf[sheet_name].iter_rows(values_only=True) if wf is not None else None
        rows_iter = (
            zip(values, formulas, strict=False) if formulas is not None else ((r, None) for r in values)
        )
        top: list[list[str | None]] = []
        header_at = None
        for idx, (row, _) in enumerate(rows_iter):
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
        problems: list[CellProblem] = []
        i = 0
        for row, frow in rows_iter:
            cells = [_cell_text(v) for v in row]
            lost = [] if frow is None else [j for j, v in enumerate(row) if v is None and frow[j] is not None]
            if not lost and not any(c not in (None, "") for c in cells):
                continue
            i += 1
            for j in lost:
                if j < n:
                    problems.append(
                        CellProblem(
                            i,
                            j,
                            "formula",
                            "formula without a cached value: open and save the file in Excel (formula "
                            f"{str(frow[j])[:60]})",
                        )
                    )
            extra = [c for c in cells[n:] if c not in (None, "")]
            if extra:
                broken.append(
                    BrokenRow(i, f"row has values beyond the {n} header columns", raw_cells(headers, cells))
                )
                continue
            body.append((cells + [None] * n)[:n])
            numbers.append(i)
    finally:
        wb.close()
        if wf is not None:
            wf.close()
    notes = [f"sheet '{sheet_name}'"]
    if header_at:
        notes.append(f"skipped {header_at} title row(s) above the header")
    table = frame(headers, body, numbers)
    return TableRead(headers, table, "xlsx", None, broken, notes, problems + _excel_errors(table, n))


def _check_workbook(data: bytes) -> bool:
    """Refuse what must not be parsed: a zip that is not a workbook, a zip bomb (by declared size and ratio),
    XML declaring a DTD or entities. Tell whether any sheet holds formulas (a cheap streamed scan of the XML; a
    false positive only costs a second pass)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileRejected(
            "not a readable XLSX workbook (not a zip archive, or cut short); re-save it from Excel"
        ) from None
    with z:
        infos = z.infolist()
        if "xl/workbook.xml" not in {i.filename for i in infos}:
            raise FileRejected(
                "a zip archive that is not an XLSX workbook (no xl/workbook.xml): unzip it and drop the tables "
                "inside, or save the workbook from Excel as .xlsx"
            )
        expanded = sum(i.file_size for i in infos)
        if expanded > MAX_XLSX_EXPANDED_BYTES:
            raise FileRejected(
                f"workbook expands to {expanded / 2**30:.1f} GiB (more than {MAX_XLSX_EXPANDED_BYTES / 2**30:.0f} "
                "GiB): not read. Split it or export it as CSV"
            )
        for i in infos:
            if i.file_size >= XLSX_RATIO_FLOOR and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
                raise FileRejected(
                    f"workbook part {i.filename} expands {i.file_size // max(i.compress_size, 1):,} times (to "
                    f"{i.file_size / 2**20:.0f} MiB), far beyond real spreadsheet data: a zip bomb, not read. "
                    "Export the sheet as CSV"
                )
        has_formulas = False
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            sheet = info.filename.startswith("xl/worksheets/")
            with z.open(info) as f:
                head = f.read(4096)
                if any(m in head for m in _DTD_MARKERS):
                    raise FileRejected(
                        f"workbook part {info.filename} declares a DTD or XML entities, which Excel never writes "
                        "(an entity-expansion or external-entity attack): not read. Re-save it from Excel"
                    )
                if not sheet or has_formulas:
                    continue
                tail = b""
                chunk = head
                while chunk:
                    if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                        has_formulas = True
                        break
                    tail = chunk[-3:]
                    chunk = f.read(1 << 20)
    return has_formulas


def _excel_errors(table: pl.DataFrame, n: int) -> list[CellProblem]:
    """Cells holding an Excel error value (#REF!, #N/A, ...): the formula's result is unknown."""
    cols = [f"c{j}" for j in range(n)]
    if not cols or table.is_empty():
        return []
    hits = table.select(
        "_row_number", *[pl.col(c).str.strip_chars().is_in(EXCEL_ERRORS).alias(c) for c in cols]
    ).filter(pl.any_horizontal(cols))
    out = []
    for r in hits.iter_rows(named=True):
        for j, c in enumerate(cols):
            if r[c]:
                out.append(
                    CellProblem(
                        r["_row_number"],
                        j,
                        "excel_error",
                        "the cell holds an Excel error value, not a result: fix the formula and save the file again",
                    )
                )
    return out


def _parquet_text(name: str, dtype: pl.DataType) -> pl.Expr:
    c = pl.col(name)
    if dtype == pl.Date:
        return c.dt.strftime("%Y-%m-%d")
    if dtype.is_nested():  # JSON text of the value; validation refuses it where a single value belongs
        body = pl.struct(c.alias("v")).struct.json_encode().str.slice(5)
        return pl.when(c.is_not_null()).then(body.str.slice(0, body.str.len_chars() - 1))
    if dtype == pl.Binary:
        return c.cast(pl.String, strict=False)
    return c.cast(pl.String)


def read_parquet(data: bytes) -> TableRead:
    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise FileRejected(
            "not a readable Parquet file (it does not begin and end with the Parquet marker PAR1: damaged or "
            "cut short); write it again"
        )
    try:
        df = pl.read_parquet(io.BytesIO(data))
    except Exception as e:
        raise FileRejected(f"not a readable Parquet file ({type(e).__name__}: {str(e)[:120]})") from None
    df, binary_problems = _binary_as_text(df)
    headers = df.columns
    text = df.select(
        [_parquet_text(c, df.schema[c]).alias(f"c{i}") for i, c in enumerate(headers)]
    ).with_columns(_row_number=pl.int_range(1, df.height + 1, dtype=pl.Int64))
    problems = []
    for i, c in enumerate(headers):
        if df.schema[c].is_nested():
            rows = text.filter(pl.col(f"c{i}").is_not_null())["_row_number"].to_list()
            what = "an array" if df.schema[c] in (pl.List, pl.Array) else "a structure"
            reason = f"{what} ({df.schema[c]}) where a single value is expected"
            problems += [CellProblem(r, i, "structured", reason) for r in rows]
    problems += [CellProblem(r, headers.index(c), "binary", reason) for c, r, reason in binary_problems]
    return TableRead(list(headers), text, "parquet", None, [], [], problems)


def _binary_as_text(df: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, int, str]]]:
    """Binary columns as UTF-8 text; a value that is not UTF-8 becomes a cell problem of its row (1-based),
    its bytes shown as hex (Binary columns are rare: a per-value pass over them only)."""
    problems: list[tuple[str, int, str]] = []
    for c, dtype in df.schema.items():
        if dtype != pl.Binary:
            continue
        out: list[str | None] = []
        for r, v in enumerate(df[c].to_list(), start=1):
            try:
                out.append(None if v is None else v.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(v.hex())
                problems.append(
                    (c, r, f"bytes that are not UTF-8 text (hex {v.hex()[:40]}): write the column as text")
                )
        df = df.with_columns(pl.Series(c, out, dtype=pl.String))
    return df, problems


def _sniff(fmt: str, data: bytes) -> str:
    """The format the content shows: a zip is a workbook, `PAR1` is Parquet; text is JSON when it starts like
    JSON, else CSV (decoded later). The name's format when the content says nothing else."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:4] == b"PAR1":
        return "parquet"
    if fmt in ("xlsx", "parquet"):
        return fmt if b"\x00" in data[:4096] else "text"
    return "text"


def read_batches(
    name: str, data: bytes, dataset: str, is_header: Callable[[list[str]], bool] | None = None
) -> Iterator[TableRead]:
    """The file as consecutive tables of rows (row numbers continue from one to the next): a well-formed CSV
    or JSON Lines file in batches of about `csv_fast.BATCH_BYTES` (memory bounded by the batch), anything else
    as the one table of `read_table`. May raise `NotWellFormed` after some batches (a later batch is not
    well-formed): the caller then reads the whole file again with `read_table(..., fast=False)`."""
    fmt = file_format(name)
    text = fmt not in (None, "json") and bool(data) and _sniff(fmt, data) == "text"  # type: ignore[arg-type]
    if dataset in LAYOUTS and text and not _starts_like_json_lines(data):
        yield from _layout_batches(name, data, dataset, is_header)
        return
    if fmt is None or dataset in LAYOUTS or not data or _sniff(fmt, data) != "text":
        yield read_table(name, data, dataset, is_header)
        return
    if fmt == "json" or _starts_like_json_lines(data):
        try:
            jlayout, jbatches = iter_jsonl_batches(data)
            jfirst = next(jbatches, None)
        except NotWellFormed:
            jfirst = None
        if jfirst is None:  # an array, pretty-printed objects, or lines not proven to read alike
            yield read_table(name, data, dataset, is_header, fast=False)
            return
        yield _named(name, "json", json_table_of(jlayout, *jfirst))
        for batch in jbatches:
            yield _named(name, "json", json_table_of(jlayout, *batch))
        return
    try:
        layout, batches = iter_csv_batches(data, is_header)
        first = next(batches, None)
    except NotWellFormed:
        first = None
    if first is None:
        yield read_table(name, data, dataset, is_header, fast=False)
        return
    yield _named(name, "csv", table_of(layout, *first))
    for batch in batches:
        yield _named(name, "csv", table_of(layout, *batch))


def _layout_batches(
    name: str, data: bytes, dataset: str, is_header: Callable[[list[str]], bool] | None
) -> Iterator[TableRead]:
    """A well-formed CSV file of a dataset with layouts (`LAYOUTS`: meter readings) as `read_table` reads it,
    but a wide file in batches of lines: each batch reshaped as a wide block of its own (`meter_wide`), so a
    year of 500 meters is parsed, validated and staged batch by batch on three threads instead of one step after
    the other. Its notes count the whole file (`meter_wide.file_notes`, applied by the caller) and it is rejected
    when every cell of every batch is empty, after the last batch. The long and trend-log layouts, which look
    across lines (a change of meter, a midpoint stamp), are read whole as before."""
    predicate, reshape = LAYOUTS[dataset]
    try:
        layout, batches = iter_csv_batches(data, predicate(is_header))
        first = next(batches, None)
    except NotWellFormed:
        first = None
    if first is None:  # not well-formed: the row-by-row reader, as `read_table` falls back to it
        yield read_table(name, data, dataset, is_header, fast=False)
        return
    if meter_layouts.detect_layout(layout.headers) != "wide":
        parts = [first, *batches]
        whole = pl.concat([p for p, _, _ in parts])
        table = table_of(layout, whole, all(c for _, c, _ in parts), all(t for _, _, t in parts))
        yield _named(name, "csv", reshape(table))
        return
    tallies = []
    for batch in itertools.chain([first], batches):
        read = read_wide(table_of(layout, *batch), batch=True)
        if isinstance(read, WideRead) and read.tally is not None:
            tallies.append(read.tally)
        yield _named(name, "csv", read)
    if tallies and (why := total_tally(tallies).empty_reason()):
        raise FileRejected(why)


def _starts_like_json_lines(data) -> bool:
    """The text begins with '{' (after a UTF-8 BOM): JSON Lines, maybe, whatever the file's name says."""
    return bytes(data[:4]).removeprefix(b"\xef\xbb\xbf")[:1] == b"{"


def _named(name: str, actual: str, table: TableRead) -> TableRead:
    fmt = file_format(name)
    if actual != fmt:
        ext = name.rsplit(".", 1)[-1]
        table.notes.insert(
            0, f"the file is named .{ext} but holds {actual.upper()}: read as {actual.upper()}"
        )
    return table


def read_table(
    name: str,
    data: bytes,
    dataset: str,
    is_header: Callable[[list[str]], bool] | None = None,
    fast: bool = True,
) -> TableRead:
    """Dispatch on the content (the name's extension when the content does not say otherwise); reject what is
    not a table. `fast`: try the polars-native reader for a well-formed CSV file first (`csv_fast`)."""
    fmt = file_format(name)
    if fmt is None:
        raise FileRejected(
            f"unsupported file type '{name.rsplit('.', 1)[-1]}'; use CSV, XLSX, JSON or Parquet"
        )
    if not data:
        raise FileRejected("file is empty (0 bytes)")
    actual = _sniff(fmt, data)
    layouts = LAYOUTS.get(dataset)
    if layouts is not None:
        is_header = layouts[0](is_header)
    if fast and actual == "text" and (fmt == "json" or _starts_like_json_lines(data)):
        fast_json = read_jsonl_fast(data)
        fast = None
    else:
        fast_json = None
        fast = read_csv_fast(data, is_header) if fast and actual == "text" and fmt != "json" else None
    if fast_json is not None:  # well-formed JSON Lines: polars' NDJSON reader, in batches (docs/ingestion.md)
        actual, table = "json", fast_json
    elif fast is not None:  # a well-formed CSV file: polars' reader, in batches (docs/ingestion.md)
        actual, table = "csv", fast
    elif actual == "text":
        text, encoding = decode_text(data)
        actual = "json" if fmt == "json" or looks_like_json(text) else "csv"
        table = (
            read_json_text(text, encoding) if actual == "json" else read_csv_text(text, encoding, is_header)
        )
    elif actual == "xlsx":
        table = read_xlsx(data, dataset, is_header or (lambda cells: bool(cells)))
    else:
        table = read_parquet(data)
    if layouts is not None:
        table = layouts[1](table)
    return _named(name, actual, table)
