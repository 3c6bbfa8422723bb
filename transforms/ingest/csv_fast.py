"""The polars-native path for a well-formed CSV file: read in batches by polars' own reader, every cell as
text, with the same cells and row numbers as the row-by-row reader (`csv_reader`) gives for that file.

A file is *well-formed* when, checked batch by batch with vectorised expressions on its physical lines:

- it is UTF-8 (BOM optional; polars validates each batch) or, as a whole, GB18030 by `decode_text`'s rules
  (then re-encoded to UTF-8 once);
- every line is one row: `\\n` or `\\r\\n` line ends only, no blank line, the header's number of fields on
  every line, and a quote only as a whole field in the canonical form (`"…"` with inner quotes doubled, no line
  break inside), so Python's `csv` module and polars split and unquote it alike;
- the header is the first line (no title rows above it) and names the contract's columns (`is_header`);
- no control character (NUL, …), no blank line and no field longer than the `csv` module's limit.

Anything else returns None before a row is produced and the row-by-row reader reads the file (broken rows,
odd encodings, title rows, multi-line values). Batches are cut at line ends, so memory is bounded by the batch
size, not the file (`iter_csv_batches`); `read_csv_fast` gathers them into one `TableRead`.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from polars.exceptions import ComputeError, InvalidOperationError

from transforms.ingest.base import MAX_CELL_CHARS, TableRead, check_width, decode_text

BATCH_BYTES = 32 << 20  # a batch's text; its frames take a few times that
_QUOTED = r'"(?:[^"]|"")*"'  # a canonical quoted field


@dataclass
class CsvLayout:
    """What the first batch showed: header cells, separator, encoding, notes (as the row-by-row reader)."""

    headers: list[str]
    delimiter: str
    encoding: str
    notes: list[str]


class NotWellFormed(Exception):
    """The file needs the row-by-row reader (raised before or between batches; the caller falls back)."""


def _field(d: str) -> str:
    return f'(?:[^"{re.escape(d)}\\r\\n]*|{_QUOTED})'


def _blank_rows(raw: pl.DataFrame) -> bool:
    """Any row whose cells are all whitespace (the csv path drops such a line and numbers rows without it):
    only rows whose first cell is empty or starts with whitespace are looked at further."""
    c0 = pl.col(raw.columns[0])
    first = raw.filter((c0.str.len_bytes() == 0) | c0.str.contains(r"^\s"))
    if first.is_empty():
        return False
    return bool(first.select(pl.all_horizontal(pl.all().str.strip_chars() == "").any()).item())


# C0 controls and DEL except tab, LF, CR (base.CONTROL_CHARS)
_CONTROL_BYTES = [*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20)]


def _byte_counts(chunk: bytes) -> tuple[int, int, int, int, int, int]:
    """(line feeds, carriage returns, double quotes, control characters, spaces, tabs) of a batch, in one
    vectorised scan: the bytes up to '"' kept (few: line ends, separators like tab, spaces, quotes), then
    counted by value."""
    a = np.frombuffer(chunk, np.uint8)
    low = np.bincount(a[a <= 0x22], minlength=0x23)
    control = int(low[_CONTROL_BYTES].sum()) + int(np.count_nonzero(a == 0x7F))
    return int(low[0x0A]), int(low[0x0D]), int(low[0x22]), control, int(low[0x20]), int(low[0x09])


def _utf8_source(data) -> tuple[object, int, str]:
    """(buffer of UTF-8 bytes, offset of the first byte after a BOM, encoding name) or NotWellFormed."""
    head = bytes(data[:4096])
    if head.startswith(codecs.BOM_UTF8):
        return data, 3, "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise NotWellFormed("UTF-16/32 or NUL bytes")
    return data, 0, "utf-8"


def _spans(buf, start: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive batches of about `size` bytes, each cut after a line end. When `buf` is a
    memory map (a landing file), the pages of a batch the caller has parsed (copied) are handed back when it
    asks for the next one: they stay in the page cache, but no longer count in this process's memory."""
    end_all = len(buf)
    pos, released = start, 0
    while pos < end_all:
        end = min(pos + size, end_all)
        if end < end_all:
            cut = buf.rfind(b"\n", pos, end)
            if cut < 0:
                cut = buf.find(b"\n", end)
            end = end_all if cut < 0 else cut + 1
        yield pos, end
        if isinstance(buf, mmap.mmap) and (upto := end - end % mmap.PAGESIZE) > released:
            buf.madvise(mmap.MADV_DONTNEED, released, upto - released)
            released = upto
        pos = end


def _batches(buf, start: int, size: int) -> Iterator[bytes]:
    for pos, end in _spans(buf, start, size):
        yield bytes(buf[pos:end])


def iter_csv_batches(
    data,
    is_header: Callable[[list[str]], bool] | None = None,
    batch_bytes: int | None = None,
) -> tuple[CsvLayout, Iterator[tuple[pl.DataFrame, bool, bool]]]:
    """The layout and an iterator of (text frame (c0..cN, `_row_number`), cells clean, cells trimmed), one per
    batch (`TableRead.cells_clean`, `TableRead.cells_trimmed`). `data` is bytes or
    any buffer with slicing, `find`/`rfind` and `len` (an mmap of the file). Raises NotWellFormed when the
    file needs the row-by-row reader: at once for the first batch's reasons, or from the iterator (before the
    batch that shows it is yielded). Raises FileRejected exactly where `decode_text` would."""
    from transforms.ingest.csv_reader import _one_line, _sniff_delimiter
    from transforms.ingest.json_reader import looks_like_json

    batch_bytes = batch_bytes or BATCH_BYTES
    buf, start, encoding = _utf8_source(data)
    first = next(_batches(buf, start, min(batch_bytes, 1 << 16)), b"")
    try:
        head_text = first.decode("utf-8")
    except UnicodeDecodeError:
        # not UTF-8 at its start: GB18030 as a whole (decode_text's rules and errors), re-encoded once
        text, encoding = decode_text(bytes(data))
        if encoding != "gb18030":
            raise NotWellFormed("not UTF-8") from None
        buf, start = text.encode("utf-8"), 0
        del text
        first = next(_batches(buf, start, 1 << 16), b"")
        head_text = first.decode("utf-8")
    if not head_text.strip() or looks_like_json(head_text):
        raise NotWellFormed("empty, or JSON")
    head_lines = io.StringIO(head_text, newline="").readlines()  # as the csv path splits lines
    delimiter = _sniff_delimiter(head_lines)
    header_line = head_text.split("\n", 1)[0]
    if "\n" not in head_text and len(first) < len(buf) - start:
        raise NotWellFormed("header line longer than a batch")
    header_line = header_line.removesuffix("\r")
    headers, err = _one_line(header_line, delimiter)
    canonical = f"{_field(delimiter)}(?:{re.escape(delimiter)}{_field(delimiter)})*"
    if (
        err is not None
        or "\r" in header_line
        or delimiter not in header_line  # one column: the csv path sniffs the separator further down
        or ('"' in header_line and not re.fullmatch(canonical, header_line))
    ):
        raise NotWellFormed("header line")
    if not any(c.strip() for c in headers):
        raise NotWellFormed("blank first line")
    if is_header is not None and not is_header([c for c in headers if c.strip()]):
        raise NotWellFormed("title rows above the header")
    n = len(headers)
    check_width(n)
    notes = [] if delimiter == "," else [f"separator {'tab' if delimiter == chr(9) else repr(delimiter)}"]
    layout = CsvLayout(headers, delimiter, encoding, notes)
    names = [f"c{i}" for i in range(n)]

    def parse(pos: int, end: int, first_batch: bool) -> tuple[pl.DataFrame, bool, bool]:
        """One batch's text frame (header line dropped from the first), whether its cells are clean and whether
        they are trimmed already."""
        chunk = bytes(buf[pos:end])
        n_lf, n_cr, n_quote, n_control, n_space, n_tab = _byte_counts(chunk)
        if n_cr and n_cr != chunk.count(b"\r\n"):
            raise NotWellFormed("a line ends in a lone CR")
        # a control character: the csv path's reasons (and its idea of a blank line: \x1c-\x1f are spaces
        # to Python) are the rule
        if n_control:
            raise NotWellFormed("a control character")
        lines = n_lf + (not chunk.endswith(b"\n"))
        try:
            raw = pl.read_csv(
                chunk,
                has_header=False,
                separator=delimiter,
                quote_char='"',
                infer_schema=False,
                empty_string_is_null=False,
                new_columns=names,
            )
        except (ComputeError, InvalidOperationError, pl.exceptions.NoDataError):
            raise NotWellFormed("polars cannot read a batch (not UTF-8, quotes, or a long row)") from None
        if raw.height != lines or raw.width != n:  # a record over several lines, or a short first row
            raise NotWellFormed("records are not lines")
        # every line is n canonical fields: polars refuses a line with more fields and a quote that is not
        # a whole field (`"ab"c`, `ab"c`); then the bytes add up. A batch is its values, two quotes per
        # quoted field, n - 1 separators per line and the line ends, exactly when no line is short (a
        # missing field takes its separator with it), and no value held a quote (a doubled `""` inside a
        # value, or ` "ab"` read as text, leaves the sum short): those files take the csv path.
        sizes = raw.select(
            total=pl.sum_horizontal(pl.all().str.len_bytes().sum()),
            widest=pl.max_horizontal(pl.all().str.len_bytes().max()),
        ).row(0, named=True)
        separators = len(chunk) - sizes["total"] - n_quote - n_lf - n_cr
        if separators != lines * (n - 1):
            raise NotWellFormed("a short line, or a quote inside a value")
        widest = sizes["widest"] or 0
        if widest > csv.field_size_limit() or _blank_rows(raw):
            raise NotWellFormed("a blank line, or a field over the csv limit")
        if first_batch:
            raw = raw.slice(1)
        # no space, and no tab but the separators: no cell has ASCII whitespace to trim (the header's count too)
        trimmed = n_space == 0 and n_tab == (separators if delimiter == "\t" else 0)
        # the parser's chunks as they are: a rechunk here (a copy of every column) cost more than validation's
        # own alignments (single-threaded, 700 k rows read, validated and written: 1.30 -> 1.14 CPU-s)
        return raw, widest <= MAX_CELL_CHARS, trimmed

    def frames() -> Iterator[tuple[pl.DataFrame, bool, bool]]:
        # The next batch is parsed on a second thread while the caller validates this one (polars' parse
        # releases the GIL): one batch ahead, so memory holds at most two batches' frames.
        row = 0
        if 0 < len(buf) - start <= batch_bytes:  # one batch: nothing to read ahead
            frame, _ = _numbered(parse(start, len(buf), True), row)
            if frame is not None:
                yield frame
            return
        with ThreadPoolExecutor(1, thread_name_prefix="csv-read-ahead") as pool:
            ahead: Future | None = None
            for k, span in enumerate(_spans(buf, start, batch_bytes)):
                parsed = pool.submit(parse, *span, k == 0)
                if ahead is not None:
                    frame, row = _numbered(ahead.result(), row)
                    if frame is not None:
                        yield frame
                ahead = parsed
            if ahead is not None:
                frame, row = _numbered(ahead.result(), row)
                if frame is not None:
                    yield frame

    return layout, frames()


def _numbered(
    parsed: tuple[pl.DataFrame, bool, bool], row: int
) -> tuple[tuple[pl.DataFrame, bool, bool] | None, int]:
    """A parsed batch with its `_row_number`s from `row` + 1 on (None for the header alone), and the next row."""
    raw, clean, trimmed = parsed
    if raw.is_empty():
        return None, row
    numbered = raw.with_columns(_row_number=pl.int_range(row + 1, row + 1 + raw.height, dtype=pl.Int64))
    return (numbered, clean, trimmed), row + raw.height


def table_of(layout: CsvLayout, batch: pl.DataFrame, clean: bool, trimmed: bool = False) -> TableRead:
    """One batch as the `TableRead` the row-by-row reader would give for those rows."""
    return TableRead(
        list(layout.headers),
        batch,
        "csv",
        layout.encoding,
        [],
        list(layout.notes),
        cells_clean=clean,
        cells_trimmed=trimmed,
    )


def read_csv_fast(
    data, is_header: Callable[[list[str]], bool] | None = None, batch_bytes: int | None = None
) -> TableRead | None:
    """The whole file as one `TableRead`, or None when it is not well-formed (the row-by-row reader's job)."""
    try:
        layout, batches = iter_csv_batches(data, is_header, batch_bytes)
        parts = list(batches)
    except NotWellFormed:
        return None
    if not parts:
        return None
    return table_of(
        layout, pl.concat([p for p, _, _ in parts]), all(c for _, c, _ in parts), all(t for _, _, t in parts)
    )
