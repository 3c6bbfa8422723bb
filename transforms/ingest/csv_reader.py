"""CSV text → rows counted as a person counts them.

The row-by-row reader, for the files the polars-native reader (`csv_fast`) declines: Python's `csv` module
reads the file in one pass. Two things make its records differ from
the rows a person sees, and both are repaired here from the physical lines:

- an unbalanced quote swallows the following lines into one record: a record spanning several lines whose
  field count is wrong, or whose later lines are complete rows on their own, is split back into its lines
  (the line that opened the quote is quarantined with that reason, the others are read as rows);
- a syntax error (a field over the module's 131,072-character limit) stops the reader: the lines of the failed
  record are read one by one, the offending line is quarantined, and reading resumes after it.

A legitimate quoted value over several lines (an address) keeps its record: it has the header's field count
and none of its continuation lines is a complete row.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable

import polars as pl

from transforms.ingest.base import (
    CONTROL_CHARS,
    MAX_CELL_CHARS,
    BrokenRow,
    FileRejected,
    TableRead,
    decode_text,
    frame,
    raw_cells,
)

HEADER_SEARCH_ROWS = 20
_DELIMITERS = (",", ";", "\t")
_CONTROL = re.compile(CONTROL_CHARS)


def _sniff_delimiter(lines: list[str]) -> str:
    """From the first line that has any candidate separator (title rows above the header have none)."""
    for line in itertools.islice((ln for ln in lines if ln.strip()), HEADER_SEARCH_ROWS):
        counts = {d: line.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            return best
    return ","


def _records(lines: list[str], delimiter: str) -> tuple[list[list[str] | None], list[int], dict[int, str]]:
    """csv records, the line index where each ends (exclusive), and the csv error of failed records (their
    fields are None). After an error the reader restarts on the next line. (The slow path: only for files
    whose fast read showed a multi-line record or an error.)"""
    rows: list[list[str] | None] = []
    ends: list[int] = []
    errors: dict[int, str] = {}
    start = 0
    while start < len(lines):
        reader = csv.reader(itertools.islice(lines, start, None), delimiter=delimiter)
        try:
            for row in reader:
                rows.append(row)
                ends.append(start + reader.line_num)
            break
        except csv.Error as e:
            end = max(start + reader.line_num, (ends[-1] if ends else 0) + 1)
            errors[len(rows)] = str(e)
            rows.append(None)
            ends.append(end)
            start = end
    return rows, ends, errors


def _fast_records(text: str, delimiter: str) -> list[list[str]] | None:
    """All records in one C-speed pass, or None when a record spans several lines or the reader fails."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    return rows if len(rows) == reader.line_num else None


def _one_line(line: str, delimiter: str) -> tuple[list[str] | None, str | None]:
    try:
        return next(csv.reader([line], delimiter=delimiter), []), None
    except csv.Error as e:
        return None, str(e)


def _error_reason(err: str) -> str:
    if "field larger than field limit" in err:
        return (
            f"a value in this row is longer than {csv.field_size_limit():,} characters (the CSV field limit); "
            "shorten it, or close the quote that runs on"
        )
    return f"this row is not valid CSV ({err}); check its quotes and separators"


def _repair(
    lines: list[str],
    rows: list[list[str] | None],
    ends: list[int],
    errors: dict[int, str],
    n: int,
    delim: str,
) -> tuple[list[list[str] | None], dict[int, str]]:
    """Split swallowing and failed records back into physical lines. Returns the records (None = unreadable)
    and the reason forced on some of them (by index in the returned list)."""
    out: list[list[str] | None] = []
    forced: dict[int, str] = {}
    start = 0
    for k, row in enumerate(rows):
        end = ends[k]
        if k in errors:
            for line in lines[start:end]:
                fields, err = _one_line(line, delim)
                if err is not None or fields is None:
                    forced[len(out)] = _error_reason(err or errors[k])
                    out.append(line.rstrip("\r\n").split(delim))
                else:
                    out.append(fields)
        elif end - start > 1 and row is not None and _swallowed(row, lines[start + 1 : end], n, delim):
            forced[len(out)] = (
                f'a quote (") opened in this row is not closed on its line, so it ran over the next '
                f"{end - start - 1} line(s); those are read as their own rows. Close or remove the quote"
            )
            first, _ = _one_line(lines[start], delim)
            out.append(first if first is not None else lines[start].rstrip("\r\n").split(delim))
            for line in lines[start + 1 : end]:
                fields, err = _one_line(line, delim)
                if err is not None or fields is None:
                    forced[len(out)] = _error_reason(err or "")
                    out.append(line.rstrip("\r\n").split(delim))
                else:
                    out.append(fields)
        else:
            out.append(row)
        start = end
    return out, forced


def _swallowed(row: list[str], continuation: list[str], n: int, delim: str) -> bool:
    """A multi-line record that is not one row: wrong field count, or a later line is a complete row."""
    if len(row) != n:
        return True
    return any((f := _one_line(line, delim)[0]) is not None and len(f) == n for line in continuation)


def read_csv(data: bytes, is_header: Callable[[list[str]], bool] | None = None) -> TableRead:
    text, encoding = decode_text(data)
    return read_csv_text(text, encoding, is_header)


def read_csv_text(
    text: str, encoding: str, is_header: Callable[[list[str]], bool] | None = None
) -> TableRead:
    if not text.strip():
        raise FileRejected("file has no header and no rows (empty)")
    delimiter = _sniff_delimiter(io.StringIO(text[: 1 << 16], newline="").readlines())
    rows: list[list[str] | None] | None = _fast_records(text, delimiter)
    forced: dict[int, str] = {}  # id(record) → the reason it is quarantined whatever its fields
    if rows is None:  # some record spans several lines or failed: split them as a person sees them
        lines = io.StringIO(text, newline="").readlines()  # \n, \r\n and \r all end a line (mixed newlines)
        # the header as a person sees it: the first physical line with several fields (title rows have one)
        heads = (f for ln in lines[:HEADER_SEARCH_ROWS] if (f := _one_line(ln, delimiter)[0]) and len(f) > 1)
        n_guess = len(next(heads, []))
        rows, ends, errors = _records(lines, delimiter)
        rows, by_index = _repair(lines, rows, ends, errors, n_guess, delimiter)
        forced = {id(rows[k]): reason for k, reason in by_index.items()}
    records = [r for r in rows if r and any(c.strip() for c in r)]  # blank lines are not rows
    if not records:
        raise FileRejected("file has no header row")
    header_at = 0
    if is_header is not None and not is_header([c for c in records[0] if c.strip()]):
        for j, r in enumerate(records[1:HEADER_SEARCH_ROWS], start=1):
            if is_header([c for c in r if c.strip()]):
                header_at = j
                break
    headers, body = list(records[header_at]), records[header_at + 1 :]
    n = len(headers)
    ends_cleanly = text.endswith(("\n", "\r"))
    good: list[list[str | None]] = []
    numbers: list[int] = []
    broken: list[BrokenRow] = []
    for i, row in enumerate(body, start=1):
        if len(row) == n and (not forced or id(row) not in forced):
            good.append(row)
            numbers.append(i)
            continue
        if id(row) in forced:
            reason = forced[id(row)]
        elif i == len(body) and not ends_cleanly and len(row) < n:
            reason = f"file is cut short: the last row has {len(row)} of {n} fields; send the complete file"
        else:
            reason = (
                f"row has {len(row)} fields but the header has {n}; check separators and quotes in this row"
            )
        broken.append(BrokenRow(i, reason, raw_cells(headers, row)))
    notes = [] if delimiter == "," else [f"separator {'tab' if delimiter == chr(9) else repr(delimiter)}"]
    if header_at:
        notes.append(f"skipped {header_at} title row(s) above the header")
    table = frame(headers, good, numbers)
    # one C-speed scan and a column maximum let validation skip its per-cell check on clean files (bytes ≥
    # characters, so a table within the limit in bytes is within it in characters)
    longest = (
        table.select(pl.max_horizontal(pl.exclude("_row_number").str.len_bytes().max())).item() if n else 0
    )
    clean = not _CONTROL.search(text) and (longest or 0) <= MAX_CELL_CHARS
    return TableRead(headers, table, "csv", encoding, broken, notes, cells_clean=clean)
