"""What every reader returns (a table of text cells) and the text decoding shared by CSV and JSON.

A reader never guesses: a file it cannot turn into rows raises `FileRejected` with a reason a person can act
on; a row it cannot read is a `BrokenRow`; a cell whose value is unknown (an XLSX formula without a cached
value, a JSON array where a single value belongs, a JSON NaN) is a `CellProblem` that validation turns into a
quarantine reason for that row.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

# C0 controls and DEL, except tab, line feed and carriage return (a quoted multi-line value is legitimate)
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
MAX_CELL_CHARS = 10_000  # no contract value is longer; a longer one is a swallowed file, not data
# A landing file is read whole into memory (every reader works on bytes): a larger one is refused from the
# listing's size, before a byte is read (a 2 GB export or a runaway dump must not take the run down).
MAX_FILE_BYTES = 1 << 30


def too_large(size: int) -> str | None:
    """Why a file of `size` bytes is not read, or None."""
    if size <= MAX_FILE_BYTES:
        return None
    return (
        f"file is {size / 2**30:.2f} GiB, more than the {MAX_FILE_BYTES / 2**30:.0f} GiB a landing file may have: "
        "not read. Split it into several files of the same drop (e.g. one per month or per site)"
    )


class FileRejected(Exception):
    """The file as a whole cannot be read into rows; the message says why and what to do."""


@dataclass
class BrokenRow:
    row_number: int
    reason: str
    raw: dict[str, str | None]
    column: str | None = None  # the header of the failing cell, when known (a wide file's reading)


@dataclass(frozen=True)
class CellProblem:
    """A cell whose value is unknown. `kind` lets validation accept what a column allows: `structured` (a JSON
    object or array) is fine in a column of lingtanType json."""

    row_number: int
    column_index: int
    kind: str  # structured | formula | nonfinite | excel_error | binary | invalid_text
    reason: str


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
    problems: list[CellProblem] = field(default_factory=list)
    # the reader has checked the whole text: no control character, no cell over MAX_CELL_CHARS (validation
    # then skips its per-cell check: the fast path of well-formed files)
    cells_clean: bool = False
    # frame column holding, per row, the header of the cell the row came from (a wide layout's reading: one row
    # per cell); a quarantine record then names that header as its column (docs/landing-zone.md)
    cell_column: str | None = None
    # the file's rows when `frame` holds none of them (a file read and validated in batches: drops.py)
    rows_total: int | None = None
    # the reader has checked the bytes: no cell holds an ASCII space or tab (nor any other ASCII whitespace: control
    # characters are refused and line ends only end rows), so validation does not trim an ASCII column
    cells_trimmed: bool = False

    @property
    def rows_read(self) -> int:
        return self.rows_total if self.rows_total is not None else self.frame.height + len(self.broken)


# Excel's own column limit: a wider "table" is a wrong separator or a generated file, not data of a contract
# (and each column costs: 100,000 of them take half a minute to frame)
MAX_COLUMNS = 16_384


def check_width(n: int) -> None:
    """Refuse a header wider than MAX_COLUMNS (every reader, before it frames a row)."""
    if n > MAX_COLUMNS:
        raise FileRejected(
            f"the header has {n:,} columns (more than {MAX_COLUMNS:,}, Excel's own limit): not a table of this "
            "dataset; check the separator, or split the columns over several files"
        )


def frame(headers: list[str], rows: list[list[str | None]], row_numbers: list[int]) -> pl.DataFrame:
    n = len(headers)
    check_width(n)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(n)]
    data = {f"c{i}": pl.Series(f"c{i}", cols[i], dtype=pl.String) for i in range(n)}
    data["_row_number"] = pl.Series("_row_number", row_numbers, dtype=pl.Int64)
    return pl.DataFrame(data)


def raw_cells(headers: list[str], values: list) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for i, v in enumerate(values):
        out[headers[i] if i < len(headers) else f"column {i + 1}"] = v
    return out


# GB18030 byte pairs, scanned left to right: group 1 is a pair of the common GB2312 area (both bytes ≥ 0xA1,
# where every everyday Chinese character and full-width sign lives); the other alternatives are the rare
# extension areas (GBK/3-5 with a trail byte below 0xA1, and four-byte sequences).
_GB_PAIRS = re.compile(
    rb"([\xa1-\xfe][\xa1-\xfe])|[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x81-\xfe][\x40-\xfe]"
)
_LATIN_WORD = re.compile(rb"[A-Za-z]*[\x80-\xff]+[A-Za-z]*")


def _gb18030_implausible(data: bytes, text: str | None = None) -> str | None:
    """A sample of the text when the bytes decode as GB18030 only into rare characters: the signature of a
    Latin-1/Windows-1252 file (`Müller` = 0xFC 'l' is a valid but rare GBK pair). Real Chinese text is mostly
    common characters; one rare name among them is fine."""
    counted = _gb_pairs_from_text(data, text) if text is not None else None
    if counted is None:
        pairs = _GB_PAIRS.findall(data)
        counted = (len(pairs), pairs.count(b""))
    total, rare = counted
    if not total or rare * 2 <= total:
        return None
    m = _LATIN_WORD.search(data)
    return m.group().decode("cp1252", errors="replace") if m else ""


def _gb_pairs_from_text(data: bytes, text: str) -> tuple[int, int] | None:
    """(pairs, rare pairs) of `_GB_PAIRS` over `data`, counted from its GB18030 decoding `text` instead of a
    regex over the bytes: in a valid GB18030 stream the scan meets exactly one match per non-ASCII character
    (a 2-byte pair, common when both bytes are >= 0xA1, or a 4-byte sequence), so each distinct character is
    classified once by its encoding and counted by polars. None (use the regex) unless the characters' encodings
    account for every non-ASCII byte of `data`."""
    wide = pl.Series([text]).str.replace_all(r"[\x00-\x7f]+", "").item()  # the non-ASCII characters
    total = rare = size = 0
    for c, k in Counter(wide).items():
        b = c.encode("gb18030")
        total += k
        rare += k * (not (len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1))
        size += k * len(b)
    # every ASCII character is one byte: the other characters' encodings must make up the rest of `data`
    return (total, rare) if size == len(data) - (len(text) - total) else None


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
    try:
        return _decode(data, "utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if (line := _mixed_utf8(data)) is not None:
        raise FileRejected(
            f"encoding mixed: the file's other lines are UTF-8 but line {line:,} is not (text pasted from a "
            "Latin-1/Windows-1252 or GBK source?); save the whole file as UTF-8 and drop it again"
        )
    try:
        text = _decode(data, "gb18030")
    except UnicodeDecodeError:
        raise FileRejected(
            "encoding is neither UTF-8 nor GB18030/GBK (perhaps Latin-1/Windows-1252); save the file as UTF-8 "
            "and drop it again"
        ) from None
    sample = _gb18030_implausible(data, text)
    if sample is not None:
        seen = f" (e.g. '{sample}')" if sample else ""
        raise FileRejected(
            f"encoding unclear: the file is not UTF-8, and read as GB18030 it gives unlikely characters; it looks "
            f"like Latin-1/Windows-1252{seen}. Save it as UTF-8 and drop it again"
        )
    return text, "gb18030"


def _mixed_utf8(data: bytes) -> int | None:
    """The first line (1-based) that is not UTF-8, when other lines with non-ASCII text are UTF-8: one encoding
    cannot explain such a file (read as GB18030, its UTF-8 lines would be mojibake). Only run on a file that is
    not UTF-8 as a whole; a GB18030 line is valid UTF-8 only by rare accident."""
    lines = data.split(b"\n")
    # all lines but the last decoded in one C pass, bytes that are not UTF-8 replaced by U+FFFD, then judged
    # per line by polars: a line is UTF-8 exactly when it holds none (UTF-8 resynchronises at every '\n', a byte
    # no sequence contains). A file holding U+FFFD itself is judged line by line in Python.
    head = data[: len(data) - len(lines[-1])]
    utf8, first_bad = 0, None
    if b"\xef\xbf\xbd" not in head:
        body = pl.Series([head.decode("utf-8", "replace")]).str.split("\n").explode().head(len(lines) - 1)
        judged = body.to_frame("l").select(
            bad=pl.col("l").str.contains("\ufffd", literal=True),
            wide=pl.col("l").str.len_bytes() != pl.col("l").str.len_chars(),
        )
        bad = judged["bad"].arg_true()
        first_bad = int(bad[0]) + 1 if len(bad) else None
        utf8 = int((judged["wide"] & ~judged["bad"]).sum())
    else:
        for n, line in enumerate(lines[:-1], start=1):
            if line.isascii():
                continue
            try:
                utf8 += not line.decode("utf-8").isascii()
            except UnicodeDecodeError:
                first_bad = first_bad or n
    last = lines[-1]
    if not last.isascii():
        try:
            text = _decode(last, "utf-8")  # the last line: maybe cut short
        except UnicodeDecodeError:
            first_bad = first_bad or len(lines)
        else:
            utf8 += not text.isascii()  # a cut-off tail alone is no evidence of UTF-8
    return first_bad if utf8 and first_bad else None


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        # A file cut short may end inside a multi-byte character: keep what precedes it (the broken last
        # row is quarantined by the parser), but never mask an error earlier in the file.
        if e.end >= len(data) and len(data) - e.start <= 3:
            return data[: e.start].decode(encoding)
        raise
