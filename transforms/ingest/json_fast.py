"""The polars-native path for a well-formed JSON Lines file: read in batches by polars' NDJSON reader, every
value as text, with the same cells, headers, notes and row numbers as the row-by-row reader (`json_reader`)
gives for that file.

polars prints a JSON number read into a text column its own way (`1.50` → `1.5`, `1e3` → `1000`, `2.0` →
`2`), while lingtan keeps a number's text as written. So a file takes this path only when each line is
*proven* to be read alike, by one regex over each batch that every line must match whole:

- the line is one flat object with exactly the keys of the first line, in the same order, each once (no
  duplicate key, no key missing or added: the headers are the first line's keys);
- each value is a string, `true`, `false`, `null` or a number in a form polars prints back unchanged: an
  integer of at most 18 digits, or a decimal with at most 15 digits in all, no exponent, no trailing zero
  after the point, never `-0` (checked for every such form: `tests/ingest/test_fast_path_json.py`); or a
  decimal that ends in a zero after the point (`331.0`, `1.50`: what Python's `json` writes for a float with
  no fraction), whose text polars shortens: a batch that holds one has every such value's text taken from its
  line as written (`_zero_ends_as_written`);
- strings hold no control character (Python's `json` refuses them: a broken row there), no line separator
  that `str.splitlines` would cut at (U+0085, U+2028, U+2029), and no `\\uD800`-`\\uDFFF` escape (a lone
  surrogate is a cell problem there; polars reads it differently);
- whitespace between tokens is spaces and tabs; `\\n` or `\\r\\n` line ends; no blank line; UTF-8 (BOM
  optional); at least two lines (a one-line file is "JSON objects" to the row-by-row reader).

Anything else raises `NotWellFormed` (before the first batch, or before the batch that shows it) and the
row-by-row reader reads the file from the start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
from polars.exceptions import ComputeError, InvalidOperationError

from transforms.ingest import csv_fast
from transforms.ingest.base import MAX_CELL_CHARS, TableRead, check_width
from transforms.ingest.csv_fast import NotWellFormed, _spans, _utf8_source

_WS = "[ \\t]*"
# a JSON string without control characters or surrogate escapes (\uD800-\uDFFF)
_STR = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u(?:[0-9a-cA-CefEF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}))*"'
# the line separators Python's `str.splitlines` cuts at besides line ends and control characters (a batch that
# holds one anywhere is left to the row-by-row reader; a second, cheap pass: the line regex is faster without)
_SEPARATORS = r"[\x{85}\x{2028}\x{2029}]"
# what could put a control character (base.CONTROL_CHARS) into a value: an escape of one (a backslash before
# 'b' or 'f' may be an escaped backslash: then the batch is merely checked cell by cell) or a raw DEL
_CONTROL_ESCAPES = r"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\[bf]|\x7f"
# numbers polars prints back exactly as written: integers of up to 18 digits; decimals of up to 15 digits in
# all, without exponent or trailing zero after the point; never -0
_INT = r"(?:0|-?[1-9][0-9]{0,17})"
_DEC = "|".join(
    [r"0\.[0-9]{0,13}[1-9]"] + [rf"[1-9][0-9]{{{i}}}\.[0-9]{{0,{13 - i}}}[1-9]" for i in range(14)]
)
_NUM = rf"(?:-?(?:{_DEC})|{_INT})"
# decimals ending in a zero after the point, no exponent: polars prints them shortened (`331.0` → `331`), so their
# text is taken from the line as written
_ZERO_END = r"(?:-?(?:0|[1-9][0-9]{0,17})\.[0-9]{0,17}0)"
_VALUE = rf"(?:{_STR}|{_NUM}|{_ZERO_END}|true|false|null)"
# a batch that may hold one (also matched by such text inside a string: then merely checked value by value)
_MAY_ZERO_END = r"\.[0-9]*0[ \t]*[,}]"
_META = set("\\.+*?()|[]{}^$#&-~")


def _escape(text: str) -> str:
    """`text` as a literal in a regex of polars (Rust's `regex` syntax)."""
    return "".join("\\" + c if c in _META else c for c in text)


@dataclass
class JsonLayout:
    """What the first line showed: the keys (headers) in order, encoding, notes (as the row-by-row reader)."""

    headers: list[str]
    encoding: str
    notes: list[str]
    line: str  # the regex every line must match whole (`(?m)`: one match per valid line)
    keys: list[str]  # each key's pattern as the line writes it (`_key_pattern`)


def _key_pattern(key: str, first_line: str) -> str:
    """The key as a JSON string, written the way the first line writes it: characters as they are, or
    non-ASCII ones as \\u escapes (Python's default), in lower or upper case; any other spelling of a key is
    left to the row-by-row reader (so is a file whose lines spell a key differently)."""
    forms = {json.dumps(key, ensure_ascii=False), json.dumps(key, ensure_ascii=True)}
    forms |= {re.sub(r"\\u[0-9a-f]{4}", lambda m: m.group().upper().replace("\\U", "\\u"), f) for f in forms}
    used = sorted(f for f in forms if f in first_line) or sorted(forms)  # none: the line cannot match
    return "(?:" + "|".join(_escape(f) for f in used) + ")"


def _layout(first_line: bytes, encoding: str) -> JsonLayout:
    from transforms.ingest.json_reader import _DECODER, _SURROGATE, _DupKeys, _Num

    try:
        text = first_line.decode("utf-8").strip()
        obj = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotWellFormed("the first line is not one JSON object") from None
    if not isinstance(obj, dict) or isinstance(obj, _DupKeys) or not obj:
        raise NotWellFormed("the first line is not an object with distinct keys")
    if not all(v is None or type(v) in (str, bool, _Num) for v in obj.values()):
        raise NotWellFormed("a value that is not a string, number, true, false or null")
    keys = list(obj)
    if any(_SURROGATE.search(k) for k in keys):
        raise NotWellFormed("a key with a lone surrogate")
    check_width(len(keys))
    pairs = rf"{_WS},{_WS}".join(rf"{_key_pattern(k, text)}{_WS}:{_WS}{_VALUE}" for k in keys)
    line = rf"(?m)^{_WS}\{{{_WS}{pairs}{_WS}\}}{_WS}\r?$"
    return JsonLayout(keys, encoding, ["JSON Lines"], line, [_key_pattern(k, text) for k in keys])


def iter_jsonl_batches(
    data, batch_bytes: int | None = None
) -> tuple[JsonLayout, Iterator[tuple[pl.DataFrame, bool]]]:
    """The layout and an iterator of (text frame (c0..cN, `_row_number`), cells clean), one per batch of about
    `batch_bytes` cut at line ends. Raises NotWellFormed at once for the first line's reasons, or from the
    iterator before the batch that shows it."""
    batch_bytes = batch_bytes or csv_fast.BATCH_BYTES  # one batch size for both readers
    buf, start, encoding = _utf8_source(data)
    end = buf.find(b"\n", start)
    # one line ("JSON objects" to the row-by-row reader), or not an object at the file's start
    if end < 0 or end + 1 >= len(buf) or bytes(buf[start : start + 1]) != b"{":
        raise NotWellFormed("not JSON Lines of two lines or more")
    layout = _layout(bytes(buf[start:end]), encoding)
    schema = {k: pl.String for k in layout.headers}
    names = [f"c{i}" for i in range(len(layout.headers))]

    def parse(pos: int, end: int) -> tuple[pl.DataFrame, bool]:
        """One batch's text frame and whether its cells are clean (no control character, none longer than
        MAX_CELL_CHARS: validation then skips its per-cell check, `TableRead.cells_clean`)."""
        chunk = bytes(buf[pos:end])
        lines = chunk.count(b"\n") + (not chunk.endswith(b"\n"))
        try:
            text = pl.Series([chunk], dtype=pl.Binary).cast(pl.String)
        except (ComputeError, InvalidOperationError):
            raise NotWellFormed("not UTF-8") from None
        if text.str.count_matches(layout.line).item() != lines or text.str.contains(_SEPARATORS).item():
            raise NotWellFormed("a line that is not proven to read alike")
        controls = text.str.contains(_CONTROL_ESCAPES).item()
        zero_ends = text.str.contains(_MAY_ZERO_END).item()
        try:
            frame = pl.read_ndjson(chunk, schema=schema)
        except ComputeError:
            raise NotWellFormed("polars cannot read a batch") from None
        if frame.height != lines:
            raise NotWellFormed("rows are not lines")
        if zero_ends:
            frame = _zero_ends_as_written(frame, text, lines, layout)
        del text
        widest = frame.select(pl.max_horizontal(pl.all().str.len_bytes().max())).item() or 0
        clean = not controls and widest <= MAX_CELL_CHARS  # bytes >= characters
        return frame.rename(dict(zip(layout.headers, names, strict=True))), clean

    def frames() -> Iterator[tuple[pl.DataFrame, bool]]:
        row = 0
        for pos, end in _spans(buf, start, batch_bytes):
            frame, clean = parse(pos, end)
            rows = pl.int_range(row + 1, row + 1 + frame.height, dtype=pl.Int64)
            yield frame.with_columns(_row_number=rows), clean
            row += frame.height

    return layout, frames()


def _zero_ends_as_written(
    frame: pl.DataFrame, text: pl.Series, lines: int, layout: JsonLayout
) -> pl.DataFrame:
    """`frame` (the batch as polars read it, key-named text columns) with each value written as a decimal that
    ends in a zero (`331.0`) taken from its line as written, as the row-by-row reader keeps it. Only the columns
    polars read a number into are looked at, each with one search per line for its key and such a value (the
    lines match `layout.line`: a key's pattern followed by a colon is that key, never text inside a string,
    where a quote is escaped)."""
    rows = text.str.split("\n").explode().head(lines)
    written = []
    for k, key in zip(layout.headers, layout.keys, strict=True):
        column = frame.get_column(k)
        if column.str.contains(r"^-?[0-9]+(?:\.[0-9]+)?$").any():  # (a key never read as a number: skipped)
            found = rows.str.extract(rf"{key}{_WS}:{_WS}({_ZERO_END}){_WS}[,}}]", 1)
            written.append(found.fill_null(column).alias(k))
    return frame.with_columns(written)


def table_of(layout: JsonLayout, batch: pl.DataFrame, clean: bool = False) -> TableRead:
    """One batch as the `TableRead` the row-by-row reader would give for those rows."""
    return TableRead(
        list(layout.headers), batch, "json", layout.encoding, [], list(layout.notes), cells_clean=clean
    )


def read_jsonl_fast(data, batch_bytes: int | None = None) -> TableRead | None:
    """The whole file as one `TableRead`, or None when it is not proven to read alike (the row-by-row reader's
    job)."""
    try:
        layout, batches = iter_jsonl_batches(data, batch_bytes)
        parts = list(batches)
    except NotWellFormed:
        return None
    if not parts:
        return None
    return table_of(layout, pl.concat([p for p, _ in parts]), all(c for _, c in parts))
