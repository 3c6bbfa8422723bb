"""The ingest step, pure: one drop's files → accepted rows, quarantine rows, file records; and the rules that
span the drops of a dataset (docs/ingestion.md):

- every file of a drop is read and validated on its own (one file's failure never costs the others); rows
  sharing a business key across the drop are quarantined; which rows and files are held back, and each
  file's status, is decided in `quarantine.py`;
- event datasets: a row whose key was seen before replaces the earlier one (history keeps both);
- snapshot datasets: the newest drop is the whole truth (union of its files); a key whose row was
  quarantined in that drop keeps its previous valid version.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from itertools import pairwise
from typing import Any, Protocol

import polars as pl

from transforms.contracts import Dataset
from transforms.ingest import csv_fast
from transforms.ingest.base import TableRead
from transforms.ingest.meter_wide import WideTally, file_notes
from transforms.ingest.quarantine import (
    QUARANTINE_SCHEMA,
    duplicate_keys_lazy,
    file_records,
    rejected_file,
    repeated_keys,
    split_duplicate_keys,
)
from transforms.ingest.readers import FileRejected, NotWellFormed, read_batches, read_table
from transforms.ingest.validate import Validated, header_names_enough, plain, validate_read

log = logging.getLogger(__name__)

ORDER = ["_drop_date", "_file", "_row_number"]


class DropFile(Protocol):
    """A landing file of a drop (the landing listing's view of it)."""

    rel_path: str
    change_token: str
    size: int


class AcceptedSink(Protocol):
    """Where a drop's accepted rows go, batch by batch (in file and batch order): memory (`process_drop`) or
    files written as they come (`stage_drop`, the IO side's part files), scanned lazily afterwards. A batch
    has the dataset's schema, but a String column may come as an Enum (a wide meter file's repeated texts:
    `validate.plain` gives the String column); what `scan` returns has the schema exactly."""

    def add(self, rel_path: str, rows: pl.DataFrame) -> None: ...

    def discard(self, rel_path: str) -> None:
        """Forget the rows added for one file (it is read again from the start, or rejected)."""

    def scan(self) -> pl.LazyFrame:
        """Every row added and not discarded, in the order added (the dataset's schema)."""


class _InMemory:
    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.parts: list[tuple[str, pl.DataFrame]] = []

    def add(self, rel_path: str, rows: pl.DataFrame) -> None:
        self.parts.append((rel_path, plain(rows)))

    def discard(self, rel_path: str) -> None:
        self.parts = [(r, df) for r, df in self.parts if r != rel_path]

    def frame(self) -> pl.DataFrame:
        return pl.concat([df for _, df in self.parts]) if self.parts else pl.DataFrame(schema=self.ds.schema)

    def scan(self) -> pl.LazyFrame:
        return self.frame().lazy()


def process_drop(
    ds: Dataset,
    drop_date: date,
    files: Sequence[DropFile],
    contents: Mapping[str, bytes | FileRejected],
    now: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(accepted rows, quarantine rows, file records) of one drop. `contents` holds each file's bytes, or
    the `FileRejected` saying why it could not be read from the landing zone.

    Each file is isolated: whatever goes wrong while reading or validating one file rejects that file with
    the error named, and the other files of the drop are processed as usual."""
    sink = _InMemory(ds)
    quarantine_parts, per_file = _read_drop(ds, drop_date, files, contents, now, sink)
    accepted, dup_q = split_duplicate_keys(ds, sink.frame())
    quarantine = _quarantine(quarantine_parts, dup_q)
    return accepted, quarantine, file_records(per_file, accepted, quarantine)


def _quarantine(parts: list[pl.DataFrame], duplicates: pl.DataFrame) -> pl.DataFrame:
    """A drop's quarantine: the files' rows, then the rows held back for a repeated business key."""
    return (pl.concat([*parts, duplicates]) if parts else duplicates).cast(QUARANTINE_SCHEMA)


def stage_drop(
    ds: Dataset,
    drop_date: date,
    files: Sequence[DropFile],
    contents: Mapping[str, bytes | FileRejected],
    now: datetime,
    sink: AcceptedSink,
) -> tuple[pl.LazyFrame, pl.DataFrame, pl.DataFrame, bool]:
    """`process_drop` with the accepted rows handed to `sink` batch by batch as they are validated, so that a
    drop's rows are never all in memory: the duplicate-key rule runs over `sink.scan()` lazily
    (`duplicate_keys_lazy`) and the accepted rows come back as a lazy frame over the sink (to be streamed into
    the drop's history file). Each batch's rows are put in `ORDER` (a stable sort by row number: a wide meter
    file's readings come column by column), so the last value, `in_order`, tells whether the whole drop is in
    `ORDER` (checked from each batch's file and row-number range): then `current_event` need not sort it.
    The same rows as `process_drop` in `ORDER` (stable), the same quarantine and file records."""
    ordered = _InOrder(sink)
    quarantine_parts, per_file = _read_drop(ds, drop_date, files, contents, now, ordered)
    # a sink that still holds the key columns and `_file` (its parts being written meanwhile) hands them over:
    # the keys that repeat, and the rows per file when none does, are found without reading the parts
    key_rows = getattr(sink, "key_rows", lambda: None)()
    dup_keys = None
    if key_rows is not None and ds.keys and not ds.ordered_in_drop:
        dup_keys = plain(repeated_keys(key_rows, ds.keys))
    accepted, dup_q = duplicate_keys_lazy(ds, sink.scan(), dup_keys)
    quarantine = _quarantine(quarantine_parts, dup_q)
    counted = key_rows if key_rows is not None and dup_q.is_empty() else accepted  # every row kept, or not
    return accepted, quarantine, file_records(per_file, counted, quarantine), ordered.in_order()


class _InOrder:
    """A sink in front of a sink: each batch sorted by row number (stable), and the batches' (file, first row,
    last row) kept to tell whether the rows added, in the order added, are in `ORDER`."""

    def __init__(self, sink: AcceptedSink) -> None:
        self.sink = sink
        self.ranges: list[tuple[str, str, int, int]] = []  # (rel_path, _file, first row, last row)

    def add(self, rel_path: str, rows: pl.DataFrame) -> None:
        """Sorts `rows` in place (a few columns at a time, each old column freed as its sorted one replaces
        it: a year of a wide meter file is never in memory twice); the caller hands the batch on and keeps
        nothing."""
        if rows.is_empty():
            return
        if not rows["_row_number"].is_sorted():  # = rows.sort("_row_number", maintain_order=True)
            order = rows.select(pl.arg_sort_by("_row_number", maintain_order=True)).to_series()
            # a column of one value throughout (or empty) is in order; the others, three at a time (gathered
            # in parallel, memory for three more columns)
            moved = [name for name in rows.columns if not _one_value(rows.get_column(name))]
            for group in (moved[i : i + 3] for i in range(0, len(moved), 3)):
                for column in rows.select(pl.col(group).gather(order)).get_columns():
                    rows.replace_column(rows.get_column_index(column.name), column)
                del column
            del order
        names = rows["_file"].unique()
        name = names.item() if len(names) == 1 else None  # a batch holds one file's rows
        self.ranges.append((rel_path, name, rows["_row_number"].min(), rows["_row_number"].max()))
        self.sink.add(rel_path, rows)

    def discard(self, rel_path: str) -> None:
        self.ranges = [r for r in self.ranges if r[0] != rel_path]
        self.sink.discard(rel_path)

    def scan(self) -> pl.LazyFrame:
        return self.sink.scan()

    def in_order(self) -> bool:
        if any(r[1] is None or r[2] is None for r in self.ranges):
            return False
        return all((a[1] < b[1]) or (a[1] == b[1] and a[3] <= b[2]) for a, b in pairwise(self.ranges))


def _one_value(column: pl.Series) -> bool:
    """Every value of `column` is the same (all empty, or one value and no empty)."""
    nulls = column.null_count()
    if nulls:
        return nulls == column.len()
    return bool((column == column.first()).all())


def _read_drop(
    ds: Dataset,
    drop_date: date,
    files: Sequence[DropFile],
    contents: Mapping[str, bytes | FileRejected],
    now: datetime,
    sink: AcceptedSink,
) -> tuple[list[pl.DataFrame], dict[str, dict[str, Any]]]:
    """Read and validate each file of a drop (sorted by path): accepted rows to `sink`, quarantine rows and
    each file's base record returned."""
    quarantine_parts: list[pl.DataFrame] = []
    per_file: dict[str, dict[str, Any]] = {}
    is_header = header_names_enough(ds)
    for f in sorted(files, key=lambda f: f.rel_path):
        data = contents[f.rel_path]
        unread = isinstance(data, FileRejected)
        base = {
            "dataset": ds.name,
            "drop_date": drop_date,
            "file": f.rel_path,
            "sha256": None if unread else hashlib.sha256(data).hexdigest(),
            # a file that could not be opened is tried again next run (its token never matches)
            "change_token": f"unread:{f.change_token}" if unread else f.change_token,
            "size_bytes": f.size if unread else len(data),
            "processed_at": now,
            "contract_version": ds.contract_version,
        }
        try:
            if isinstance(data, FileRejected):
                raise data
            fmt, encoding, rows_read, q, notes = _read_into(ds, f.rel_path, data, drop_date, is_header, sink)
        except Exception as e:  # one file's failure must not cost the others
            sink.discard(f.rel_path)
            reason = str(e) if isinstance(e, FileRejected) else _internal_error(f.rel_path, e)
            log.warning("%s: file rejected: %s", f.rel_path, reason)
            quarantine_parts.append(rejected_file(ds.name, drop_date, f.rel_path, f"file rejected: {reason}"))
            per_file[f.rel_path] = base | {
                "file_format": None,
                "encoding": None,
                "rows_read": 0,
                "notes": None,
            }
            continue
        quarantine_parts.extend(q)
        per_file[f.rel_path] = base | {
            "file_format": fmt,
            "encoding": encoding,
            "rows_read": rows_read,
            "notes": "; ".join(notes) or None,
        }
    return quarantine_parts, per_file


def _read_into(ds: Dataset, rel_path: str, data: bytes, drop_date: date, is_header, sink: AcceptedSink):
    """One file through `validated_batches`, each batch's accepted rows to `sink` as it comes (the batch's
    text table is dropped at once): (format, encoding, rows read, quarantine parts, notes) — what
    `read_validated` returns for the file, without holding its rows."""
    fmt = encoding = notes = None
    rows_read = 0
    quarantine: list[pl.DataFrame] = []
    tallies: list[WideTally] = []  # a wide meter file read in batches: its notes count the file
    for t, v, restart in validated_batches(ds, rel_path, data, drop_date, is_header):
        if restart or notes is None:
            if restart:
                sink.discard(rel_path)
                quarantine, rows_read, tallies = [], 0, []
            fmt, encoding, notes = t.file_format, t.encoding, v.notes
        if (tally := getattr(t, "tally", None)) is not None:
            tallies.append(tally)
        rows_read += t.rows_read
        quarantine.append(v.quarantine)
        _drop_text(t)  # the batch's text is not needed any more: freed before its rows are staged
        sink.add(rel_path, v.accepted)
        del t, v
    return fmt, encoding, rows_read, quarantine, file_notes(notes or [], tallies)


def _drop_text(t: TableRead) -> None:
    """Free a read table's text cells (the generator that read it still holds the object); what it tells
    about the file (format, encoding, rows read, notes) stays."""
    t.rows_total = t.rows_read
    if hasattr(t, "_wide"):  # a wide meter file's block (meter_wide.WideRead): cells, lines, values
        t._wide = None
    t.frame = pl.DataFrame()


def validated_batches(
    ds: Dataset, rel_path: str, data: bytes, drop_date: date, is_header=None
) -> Iterator[tuple[TableRead, Validated, bool]]:
    """One file read and validated batch by batch (`read_batches`: a well-formed CSV file in bounded batches,
    anything else whole): (table, validated, restart) per batch. `restart` is True when a later batch showed
    that the file needs the row-by-row reader: the batches before are void, and this one is the whole file."""
    is_header = is_header or header_names_enough(ds)
    try:
        if len(data) <= csv_fast.BATCH_BYTES:  # one batch (most files): nothing to overlap, no thread
            for t in read_batches(rel_path, data, ds.name, is_header):
                yield t, validate_read(ds, t, drop_date, rel_path), False
        else:
            yield from _validated_beside(
                ds, rel_path, drop_date, read_batches(rel_path, data, ds.name, is_header)
            )
    except NotWellFormed:  # a later batch showed the file needs the row-by-row reader
        t = read_table(rel_path, data, ds.name, is_header, fast=False)
        yield t, validate_read(ds, t, drop_date, rel_path), True


def _validated_beside(
    ds: Dataset, rel_path: str, drop_date: date, tables: Iterable[TableRead]
) -> Iterator[tuple[TableRead, Validated, bool]]:
    """A file of several batches: each batch validated on a second thread while the caller stages the one
    before and the reader parses the one after (polars releases the GIL in each), yielded in order, one batch
    in validation at a time. (A `NotWellFormed` from the reader may come before the batch ahead of it is
    yielded: the batches before a restart are void either way.)"""
    with ThreadPoolExecutor(1, thread_name_prefix="lingtan-validate") as pool:
        pending: tuple[TableRead, Future[Validated]] | None = None
        for t in tables:
            validating = (t, pool.submit(validate_read, ds, t, drop_date, rel_path))
            if pending is not None:
                yield pending[0], pending[1].result(), False
            pending = validating
        if pending is not None:
            yield pending[0], pending[1].result(), False


def read_validated(
    ds: Dataset, rel_path: str, data: bytes, drop_date: date, is_header=None
) -> tuple[TableRead, Validated]:
    """One file read and validated batch by batch (`validated_batches`), the batches' results joined: the
    same rows, reasons and notes as reading and validating the file whole. The returned table describes the
    file (format, encoding, rows read, notes); its frame is left empty (the rows are in the result)."""
    parts: list[tuple[TableRead, Validated]] = []
    for t, v, restart in validated_batches(ds, rel_path, data, drop_date, is_header):
        if restart:
            parts.clear()
        parts.append((t, v))
    if len(parts) == 1:
        t, v = parts[0]
        return t, Validated(plain(v.accepted), v.quarantine, v.notes)
    first, v0 = parts[0]
    table = TableRead(
        first.headers,
        first.frame.clear(),
        first.file_format,
        first.encoding,
        [b for t, _ in parts for b in t.broken],
        first.notes,
    )
    table.rows_total = sum(t.rows_read for t, _ in parts)
    tallies = [t.tally for t, _ in parts if getattr(t, "tally", None) is not None]
    return table, Validated(
        pl.concat([plain(v.accepted) for _, v in parts]),
        pl.concat([v.quarantine for _, v in parts]),
        file_notes(v0.notes, tallies),
    )


def _internal_error(rel_path: str, e: Exception) -> str:
    log.exception("%s: unexpected error while reading", rel_path)
    return (
        f"lingtan could not read this file ({type(e).__name__}: {str(e)[:200]}); the other files were "
        "processed. Please report it with the file"
    )


def current_event(dataset: Dataset, history: pl.LazyFrame, sorted_drops: int = 0) -> pl.LazyFrame:
    """Latest version of every business key over all drops (a later drop corrects an earlier one), in
    `ORDER`; rows that tie on `ORDER` (the readings of one line of a wide meter file) keep their history
    order (a stable sort), so the result is the same however the history is split into files.

    `sorted_drops`: the history is known to be in `ORDER` already (each drop's file staged in order,
    `stage_drop`; files in date order) and holds that many drops: the sort is skipped, and for one drop of a
    dataset whose keys are unique within a drop (every duplicate is quarantined; not `versionsInDrop:
    ordered`) the de-duplication too, so the rows stream through (a big first drop is never all in memory);
    for several drops the de-duplication only when some key occurs twice (`_key_repeats`)."""
    keys = dataset.keys
    ordered = history if sorted_drops else history.sort(ORDER, maintain_order=True)
    if not keys or current_is_history(dataset, sorted_drops):
        return ordered
    if sorted_drops and not _key_repeats(history, keys):  # no key twice: nothing to replace, the rows stream
        return ordered
    return ordered.unique(subset=keys, keep="last", maintain_order=True)


def current_is_history(dataset: Dataset, sorted_drops: int) -> bool:
    """`current_event` is the history as it stands: no key (every row is kept), or one drop staged in order
    whose keys are unique (every duplicate is quarantined: not `versionsInDrop: ordered`)."""
    return sorted_drops > 0 and (not dataset.keys or (sorted_drops == 1 and not dataset.ordered_in_drop))


def _key_repeats(history: pl.LazyFrame, keys: Sequence[str]) -> bool:
    """Whether any business key occurs twice (`repeated_keys`: the key columns' hashes, sorted)."""
    return not repeated_keys(history.select(keys), keys).is_empty()


def current_event_after(
    dataset: Dataset, previous: pl.LazyFrame, new: pl.LazyFrame, sorted_drops: int = 0
) -> pl.LazyFrame:
    """`current_event` of (history behind `previous`) + `new`, from the previous current table and the new
    rows only, when every new row's drop is later than every drop behind `previous` (the nightly case): the
    previous rows whose key comes again are replaced by the new rows' latest version, which follow them
    (later drops sort after). The same rows in the same order as `current_event` over the whole history.
    `sorted_drops`: as for `current_event`, of `new`."""
    kept, latest, _ = event_after(dataset, previous, new, sorted_drops)
    return pl.concat([kept, latest])


def event_after(
    dataset: Dataset, previous: pl.LazyFrame, new: pl.LazyFrame, sorted_drops: int = 0
) -> tuple[pl.LazyFrame, pl.LazyFrame, bool]:
    """`current_event_after`'s two halves: the previous rows kept, the new rows' latest versions (which follow
    them), and whether every previous row is kept. When no key comes again (a streamed semi-join on the key
    columns finds none: the usual nightly day) the kept rows are `previous` itself, so a table stored as parts
    keeps its parts and only adds the new rows; else the anti-join keeps the previous rows' order (and holds
    the previous table in memory)."""
    latest = current_event(dataset, new, sorted_drops)
    keys = dataset.keys
    if not keys:
        return previous, latest, True
    candidates = previous.select(keys).filter(_within(latest, keys))
    again = candidates.join(latest.select(keys), on=keys, how="semi", nulls_equal=True)
    if not again.select(pl.len()).collect().item():  # no key comes again (a nightly day): the rows stream
        return previous, latest, True
    kept = previous.join(latest.select(keys), on=keys, how="anti", nulls_equal=True, maintain_order="left")
    return kept, latest, False


def _within(rows: pl.LazyFrame, keys: Sequence[str]) -> pl.Expr:
    """True where each key column lies within `rows`' range of it (or is null where `rows` has a null): no
    other row can share a key with one of `rows`. A filter the Parquet reader answers from row-group statistics,
    so the earlier months of a table appended in time order are not read (a nightly's day of meter readings)."""
    schema = rows.collect_schema()
    ranged = [k for k in keys if schema[k].is_integer() or schema[k].is_temporal() or schema[k] == pl.String]
    if not ranged:
        return pl.lit(True)
    stats = rows.select(
        *(pl.col(k).min().alias(f"lo{i}") for i, k in enumerate(ranged)),
        *(pl.col(k).max().alias(f"hi{i}") for i, k in enumerate(ranged)),
        *(pl.col(k).null_count().alias(f"nulls{i}") for i, k in enumerate(ranged)),
    ).collect()
    within = pl.lit(True)
    for i, k in enumerate(ranged):
        lo, hi, nulls = stats[f"lo{i}"].item(), stats[f"hi{i}"].item(), stats[f"nulls{i}"].item()
        inside = (
            pl.col(k).is_between(pl.lit(lo, schema[k]), pl.lit(hi, schema[k]))
            if lo is not None
            else pl.lit(False)
        )
        within = within & (inside | pl.col(k).is_null() if nulls else inside)
    return within


def current_snapshot(dataset: Dataset, history: pl.LazyFrame, quarantined_keys: pl.LazyFrame) -> pl.LazyFrame:
    """The newest drop's rows, plus the previous valid version of keys quarantined in that drop.

    `quarantined_keys` has `drop_date` and `key` (JSON of the key columns as text) of quarantined rows."""
    keys = dataset.keys
    newest = history.select(pl.col("_drop_date").max()).collect().item()
    if newest is None:
        return history
    latest = history.filter(pl.col("_drop_date") == newest)
    held = held_keys(quarantined_keys, newest)
    previous = (
        history.filter(pl.col("_drop_date") < newest)
        .sort(ORDER, maintain_order=True)
        .unique(subset=keys, keep="last", maintain_order=True)
        .with_columns(__key=key_json(keys))
        .join(held, on="__key", how="semi")
        .join(latest.select(keys), on=keys, how="anti")
        .drop("__key")
    )
    return pl.concat([latest, previous]).sort(ORDER, maintain_order=True)


def current_snapshot_after(
    dataset: Dataset,
    old_history: pl.LazyFrame,
    new: pl.LazyFrame,
    newest: date,
    quarantined_keys: pl.LazyFrame,
) -> pl.LazyFrame:
    """`current_snapshot` of `old_history` + `new` when the newest drop (`newest`, holding rows) is among the
    new ones: only the keys held back in that drop need the old history, so only their rows are taken from it
    (none when nothing was quarantined by key). The same rows in the same order as `current_snapshot`."""
    held = held_keys(quarantined_keys, newest).collect()
    if held.is_empty():
        return current_snapshot(dataset, new, quarantined_keys)
    old = old_history.with_columns(__key=key_json(dataset.keys)).join(held.lazy(), on="__key", how="semi")
    return current_snapshot(dataset, pl.concat([old.drop("__key"), new]), quarantined_keys)


def key_json(keys: Sequence[str]) -> pl.Expr:
    """A row's business key as JSON text (the quarantine record's `key`)."""
    return pl.struct([pl.col(k).cast(pl.String) for k in keys]).struct.json_encode()


def held_keys(quarantined_keys: pl.LazyFrame, drop: date) -> pl.LazyFrame:
    """`__key` of the rows quarantined in `drop` whose key could be read (a snapshot keeps their previous
    version)."""
    return (
        quarantined_keys.filter((pl.col("drop_date") == drop) & pl.col("key").is_not_null())
        .select(__key=pl.col("key"))
        .unique()
    )
