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
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import polars as pl

from transforms.contracts import Dataset
from transforms.ingest.base import TableRead
from transforms.ingest.quarantine import (
    QUARANTINE_SCHEMA,
    file_records,
    rejected_file,
    split_duplicate_keys,
)
from transforms.ingest.readers import FileRejected, NotWellFormed, read_batches, read_table
from transforms.ingest.validate import Validated, header_names_enough, validate

log = logging.getLogger(__name__)

ORDER = ["_drop_date", "_file", "_row_number"]


class DropFile(Protocol):
    """A landing file of a drop (the landing listing's view of it)."""

    rel_path: str
    change_token: str
    size: int


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
    accepted_parts, quarantine_parts = [], []
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
            table, v = read_validated(ds, f.rel_path, data, drop_date, is_header)
        except Exception as e:  # one file's failure must not cost the others
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
        accepted_parts.append(v.accepted)
        quarantine_parts.append(v.quarantine)
        per_file[f.rel_path] = base | {
            "file_format": table.file_format,
            "encoding": table.encoding,
            "rows_read": table.rows_read,
            "notes": "; ".join(v.notes) or None,
        }
    accepted = pl.concat(accepted_parts) if accepted_parts else pl.DataFrame(schema=ds.schema)
    accepted, dup_q = split_duplicate_keys(ds, accepted)
    quarantine = pl.concat([*quarantine_parts, dup_q]) if quarantine_parts else dup_q
    quarantine = quarantine.cast(QUARANTINE_SCHEMA)
    return accepted, quarantine, file_records(per_file, accepted, quarantine)


def read_validated(
    ds: Dataset, rel_path: str, data: bytes, drop_date: date, is_header=None
) -> tuple[TableRead, Validated]:
    """One file read and validated batch by batch (`read_batches`: a well-formed CSV file in bounded
    batches, anything else whole), the batches' results joined: the same rows, reasons and notes as reading
    and validating the file whole. The returned table describes the file (format, encoding, rows read, notes);
    its frame is left empty (the rows are in the result)."""
    is_header = is_header or header_names_enough(ds)
    try:
        parts = [
            (t, validate(ds, t, drop_date, rel_path))
            for t in read_batches(rel_path, data, ds.name, is_header)
        ]
    except NotWellFormed:  # a later batch showed the file needs the row-by-row reader
        t = read_table(rel_path, data, ds.name, is_header, fast=False)
        parts = [(t, validate(ds, t, drop_date, rel_path))]
    if len(parts) == 1:
        return parts[0]
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
    return table, Validated(
        pl.concat([v.accepted for _, v in parts]), pl.concat([v.quarantine for _, v in parts]), v0.notes
    )


def _internal_error(rel_path: str, e: Exception) -> str:
    log.exception("%s: unexpected error while reading", rel_path)
    return (
        f"lingtan could not read this file ({type(e).__name__}: {str(e)[:200]}); the other files were "
        "processed. Please report it with the file"
    )


def current_event(dataset: Dataset, history: pl.LazyFrame) -> pl.LazyFrame:
    """Latest version of every business key over all drops (a later drop corrects an earlier one)."""
    keys = dataset.keys
    ordered = history.sort(ORDER)
    if not keys:
        return ordered
    return ordered.unique(subset=keys, keep="last", maintain_order=True)


def current_snapshot(dataset: Dataset, history: pl.LazyFrame, quarantined_keys: pl.LazyFrame) -> pl.LazyFrame:
    """The newest drop's rows, plus the previous valid version of keys quarantined in that drop.

    `quarantined_keys` has `drop_date` and `key` (JSON of the key columns as text) of quarantined rows."""
    keys = dataset.keys
    newest = history.select(pl.col("_drop_date").max()).collect().item()
    if newest is None:
        return history
    latest = history.filter(pl.col("_drop_date") == newest)
    key_json = pl.struct([pl.col(k).cast(pl.String) for k in keys]).struct.json_encode()
    held = (
        quarantined_keys.filter((pl.col("drop_date") == newest) & pl.col("key").is_not_null())
        .select(__key=pl.col("key"))
        .unique()
    )
    previous = (
        history.filter(pl.col("_drop_date") < newest)
        .sort(ORDER)
        .unique(subset=keys, keep="last", maintain_order=True)
        .with_columns(__key=key_json)
        .join(held, on="__key", how="semi")
        .join(latest.select(keys), on=keys, how="anti")
        .drop("__key")
    )
    return pl.concat([latest, previous]).sort(ORDER)
