"""Ingest a landing dataset into the raw lake, write-audit-publish.

For each drop (`<dataset>/<YYYY-MM-DD>/`) whose files are new or changed (by content hash), every file is read,
validated against the dataset's contract and accounted for; duplicate business keys across the drop are
quarantined; the dataset's current table is extended by the new drops when they are later than every
published one, else rebuilt from the whole history (event or snapshot semantics; docs/ingestion.md,
"Ingestion in proportion to the drop"). Everything is first
written to `lake/staging/<dataset>/<run>/`, audited (the raw gate), and only then moved into
`lake/raw/<dataset>/`. A drop whose files did not change is not read again, so a second run changes nothing.

The shape of every stage: the pure step is `transforms.ingest.drops.process_drop` (which rows and files are
quarantined: `transforms.ingest.quarantine`), the gate `expectations.raw.audit_raw`, the publish
`orchestration.lib.publish`. This module is the IO around them: the landing listing, the files ledger that
tells which drops changed, and the raw lake's folders.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from expectations.gate import Gate
from expectations.raw import RAW_GATE
from expectations.raw import audit_raw as audit  # a module global: a test swaps in a failing gate
from orchestration.lib.home import Home
from orchestration.lib.incremental import record_version
from orchestration.lib.publish import publish, staging
from orchestration.lib.storage import Landing, LandingFile, atomic_write_parquet, sha256
from transforms.contracts import dataset as get_dataset
from transforms.ingest import drops
from transforms.ingest.quarantine import FILES_SCHEMA, QUARANTINE_SCHEMA, problem_records
from transforms.ingest.readers import FileRejected
from transforms.ingest.validate import plain, plain_schema
from transforms.paths import part_index, part_name, table_parts


@dataclass
class IngestResult:
    dataset: str
    drops_processed: list[date]
    files: pl.DataFrame  # FILES_SCHEMA rows of the files processed in this run
    gate: Gate
    rows_current: int

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum())

    @property
    def rows_accepted(self) -> int:
        return int(self.files["rows_accepted"].sum())

    @property
    def rows_quarantined(self) -> int:
        return int(self.files["rows_quarantined"].sum())


def read_landing(landing: Landing, rel_path: str) -> bytes | FileRejected:
    """A file's bytes, or why it cannot be read (gone since listing, a link swapped in, no permission)."""
    try:
        return landing.read(rel_path)
    except (OSError, ValueError) as e:
        return FileRejected(f"cannot be read from the landing zone ({e})")


class _Contents:
    """A drop's file contents for `process_drop`, read from the landing zone when asked for (one file's bytes
    in memory at a time, not the drop's)."""

    def __init__(self, landing: Landing) -> None:
        self.landing = landing

    def __getitem__(self, rel_path: str) -> bytes | FileRejected:
        return read_landing(self.landing, rel_path)


def _same_hash(landing: Landing, rel_path: str, known: dict[str, dict]) -> bool:
    data = read_landing(landing, rel_path)
    return isinstance(data, bytes) and known[rel_path]["sha256"] == sha256(data)


def _read_or_empty(path: Path, schema: pl.Schema) -> pl.DataFrame:
    return pl.read_parquet(path).match_to_schema(schema) if path.exists() else pl.DataFrame(schema=schema)


def _drop_name(d: date) -> str:
    return f"{d.isoformat()}.parquet"


def _drops(name: str, listing, up_to: date | None, since: date | None):
    """The dataset's files grouped by drop date within [since, up_to], and the files that cannot be taken."""
    by_drop: dict[date, list[LandingFile]] = defaultdict(list)
    problems: list[LandingFile] = []
    for f in listing:
        if f.dataset != name:
            continue
        if f.problem:
            problems.append(f)
        elif (up_to is None or f.drop_date <= up_to) and (since is None or f.drop_date >= since):
            by_drop[f.drop_date].append(f)
    return by_drop, problems


def _known_files(ledger: pl.DataFrame) -> dict[str, dict]:
    return {r["file"]: r for r in ledger.filter(pl.col("drop_date").is_not_null()).iter_rows(named=True)}


def _remember_tokens(ledger: pl.DataFrame, tokens: dict[str, str], raw_dir: Path) -> pl.DataFrame:
    """The ledger with the new change tokens of files whose bytes did not change, written at once: else the next
    run would find them 'maybe changed' again, hash them again and never see a no-change landing zone. Only the
    token moves (rows, hash, gate verdict and ingestion time stay those of the read)."""
    new = pl.col("file").replace_strict(tokens, default=None, return_dtype=pl.String)
    ledger = ledger.with_columns(
        change_token=pl.when(pl.col("drop_date").is_not_null() & new.is_not_null())
        .then(new)
        .otherwise(pl.col("change_token"))
    )
    atomic_write_parquet(ledger, raw_dir / "_files.parquet")
    return ledger


def _maybe_changed(d: date, files: list[LandingFile], known: dict[str, dict]) -> bool:
    """A drop needs reading when its set of files or any file's change token differs from the ledger (the
    bytes' hash then decides), or when the raw gate blocked it last time: its rows were never published, so it is
    read again each run until the gate passes (else a blocked drop would be lost without a word)."""
    before = {p for p, r in known.items() if r["drop_date"] == d}
    return before != {f.rel_path for f in files} or any(
        known[f.rel_path]["change_token"] != f.change_token or known[f.rel_path]["gate_passed"] is False
        for f in files
    )


class _Parts:
    """A drop's accepted rows as Parquet parts in a staging folder, one per validated batch (drops.AcceptedSink),
    scanned lazily in the order written.

    Each part is written as a history file is (the contract's schema, zstd, statistics) with `metadata`: every
    batch `drops.stage_drop` hands on is in `drops.ORDER` by itself, so a drop of one part whose rows were all
    kept is its history file as it stands (`whole`), renamed, not read and written again.

    A batch with Enum columns (a wide meter file's: `_write_coded`) is written in a thread (pyarrow releases
    the GIL), and its key columns (`keys`) and `_file` are kept until then: `key_rows` hands them to the drop's
    duplicate-key rule and file records, which run on the other core while the part is written. Everything that
    reads the parts (`scan`, `whole`) waits for the writes first; a failed write (a full disk) raises there and
    fails the run: it is never taken for a fault of the file being read when it surfaced."""

    def __init__(
        self,
        folder: Path,
        schema: pl.Schema,
        metadata: dict[str, str] | None = None,
        keys: list[str] | None = None,
    ) -> None:
        self.folder, self.schema, self.metadata = folder, schema, metadata
        self.kept = list(dict.fromkeys([*(keys or []), "_file"]))  # the columns `key_rows` gives
        self.parts: list[tuple[str, Path]] = []
        self._writing: list[tuple[str, Future, pl.DataFrame | None]] = []  # (rel_path, write, key columns)
        self._closing: list[tuple[str, Future]] = []  # (rel_path, the close of its coded part)
        self._open: tuple[str, _CodedWriter] | None = None  # the coded part the next batch of a file extends
        self._adds: list[str] = []  # the file of each batch added
        self._pool: ThreadPoolExecutor | None = None

    def add(self, rel_path: str, rows: pl.DataFrame) -> None:
        if rows.is_empty():
            return
        path = self.folder / f"{len(self.parts):06d}.parquet"
        self.folder.mkdir(parents=True, exist_ok=True)
        if rows.schema != self.schema and plain_schema(rows.schema) == self.schema:
            # a wide meter file's rows, repeated texts as Enum: written on the other core
            self._pool = self._pool or ThreadPoolExecutor(1, thread_name_prefix="lingtan-part")
            if self._writing:  # one batch in the writer at a time: memory stays bounded by two batches
                # (a failed write raises when the parts are read: never taken for a fault of this file)
                wait([self._writing[-1][1]])
            # a file's batches (a wide meter file in batches of lines) extend one part: a drop of one file
            # is then still one part, its history file as it stands (`whole`)
            if self._open is None or self._open[0] != rel_path:
                self._close_open()
                self._open = (rel_path, _CodedWriter(path, self.metadata))
                self.parts.append((rel_path, path))
            write = self._pool.submit(self._open[1].append, rows)
            kept = sum(k.height for _, _, k in self._writing if k is not None) + rows.height
            keys = rows.select(self.kept) if kept <= KEPT_KEY_ROWS else None
            self._writing.append((rel_path, write, keys))
        else:
            self._close_open()
            if rows.schema != self.schema:
                rows = rows.match_to_schema(self.schema)
            # streamed (the engine encodes row groups in parallel): 4.5 CPU-s for a year of 500 meters. In this
            # thread: written in a second one while the next batch is validated, a 1 GB invoice file took as long
            rows.lazy().sink_parquet(path, compression="zstd", statistics=True, metadata=self.metadata)
            self.parts.append((rel_path, path))
        self._adds.append(rel_path)

    def _close_open(self) -> None:
        """The open coded part finished (its metadata and footer written) after its batches, on the writer."""
        if self._open is not None and self._pool is not None:
            rel_path, writer = self._open
            self._closing.append((rel_path, self._pool.submit(writer.close)))
        self._open = None

    def key_rows(self) -> pl.LazyFrame | None:
        """The key columns and `_file` of every row added, in order, when every part is being written (else
        None: the parts are read). A text key may be an Enum (one part, or parts of the same Enum): equal values, equal
        codes, so `quarantine.repeated_keys` finds the same keys (`validate.plain` makes them text)."""
        kept = [keys for _, _, keys in self._writing]
        if not self.parts or len(kept) != len(self._adds) or any(k is None for k in kept):
            return None
        if len({tuple(k.schema.items()) for k in kept}) > 1:  # Enums of other values: as text
            kept = [plain(k) for k in kept]
        return pl.concat(kept).lazy()

    def _wait(self, errors: bool = True) -> None:
        self._close_open()
        pending = [w for _, w, _ in self._writing] + [c for _, c in self._closing]
        self._writing, self._closing = [], []
        wait(pending)
        if errors:
            for done in pending:
                done.result()

    def whole(self, rows: int) -> Path | None:
        """The one part, when the drop's accepted rows (`rows` of them, in order) are exactly its rows."""
        self._wait()
        if len(self.parts) != 1:
            return None
        path = self.parts[0][1]
        return path if pl.scan_parquet(path).select(pl.len()).collect().item() == rows else None

    def discard(self, rel_path: str) -> None:
        if self._open is not None and self._open[0] == rel_path:
            self._close_open()
        # their outcome does not matter: the file is read again, or rejected
        wait(
            [w for r, w, _ in self._writing if r == rel_path] + [c for r, c in self._closing if r == rel_path]
        )
        self._writing = [w for w in self._writing if w[0] != rel_path]
        self._closing = [c for c in self._closing if c[0] != rel_path]
        self._adds = [a for a in self._adds if a != rel_path]
        for _, path in (p for p in self.parts if p[0] == rel_path):
            path.unlink(missing_ok=True)
        self.parts = [p for p in self.parts if p[0] != rel_path]

    def scan(self) -> pl.LazyFrame:
        self._wait()
        if not self.parts:
            return pl.LazyFrame(schema=self.schema)
        return pl.scan_parquet([path for _, path in self.parts]).match_to_schema(self.schema)

    def remove(self) -> None:
        self._wait(errors=False)
        if self._pool is not None:
            self._pool.shutdown()
        shutil.rmtree(self.folder, ignore_errors=True)


# the key columns of at most this many rows are kept while their parts are written (`_Parts.key_rows`); a
# bigger drop's duplicate-key rule reads them from the parts (a year of 500 meters is 17.5 M rows: 0.4 GB)
KEPT_KEY_ROWS = 40_000_000

# rows per row group of a part written by `_write_coded`: about what polars' streamed writer gave the same rows
# (105 k); the engine's peak, which reads a row group per thread, grew with 262 k
CODED_ROW_GROUP = 2**17


def _write_coded(rows: pl.DataFrame, path: Path, metadata: dict[str, str] | None) -> None:
    """Write rows whose repeated texts are `Enum` columns (`validate.plain`) as a Parquet file that reads back
    as the plain rows. Each Enum column is written as a Parquet dictionary of its values and one index per
    row: pyarrow writes an Arrow dictionary array as it stands, where polars would hash every row's text to
    build the dictionary again. It is written as the String it is: no Arrow schema is stored (readers would
    take the column as a dictionary type), and the file's own key-value metadata is added.

    Per column, for a year of 500 meters (17.5 M rows): an Enum of many values (`_source_row_id`, one per
    line) is cut into one dictionary per row group (`_row_group_dictionaries`), else every row group's
    dictionary page outgrows pyarrow's limit and the column falls back to plain text (0.49 CPU-s); a float
    column is not dictionary-encoded (polars does not either: the attempt cost 0.55 CPU-s before its fallback);
    the Enum columns carry no statistics (in a wide meter file every row group holds every meter column, so
    their min and max would prune nothing; 0.2 CPU-s per column). The other columns as polars writes them:
    zstd, dictionary encoding, statistics."""
    writer = _CodedWriter(path, metadata)
    writer.append(rows)
    writer.close()


class _CodedWriter:
    """`_write_coded` of several batches (one file's, in order) into one Parquet file, a batch's rows in row
    groups of their own. Each batch's Enum columns have their own dictionary (a row group's dictionary pages
    are its own): an index type that differs from the first batch's is cast to it."""

    def __init__(self, path: Path, metadata: dict[str, str] | None) -> None:
        self.path, self.metadata = path, metadata
        self.writer: Any = None

    def append(self, rows: pl.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = []
        for c in rows.get_columns():
            a = c.to_arrow()
            columns.append(_row_group_dictionaries(a) if isinstance(c.dtype, pl.Enum) else a)
        table = pa.table(columns, names=rows.columns)
        if self.writer is None:
            stats = [n for n, d in rows.schema.items() if not isinstance(d, pl.Enum)]
            dictionary = [n for n, d in rows.schema.items() if not d.is_float()]
            self.writer = pq.ParquetWriter(
                self.path,
                table.schema,
                compression="zstd",
                write_statistics=stats,
                use_dictionary=dictionary,
                store_schema=False,
            )
        elif table.schema != self.writer.schema:
            table = table.cast(self.writer.schema)
        self.writer.write_table(table, row_group_size=CODED_ROW_GROUP)

    def close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            if self.metadata:
                writer.add_key_value_metadata(self.metadata)
            writer.close()


# an Enum column with more values than this is written with one dictionary per row group
_WHOLE_DICTIONARY = 4096


def _row_group_dictionaries(a):
    """A dictionary array of many values as chunks of `CODED_ROW_GROUP` rows (the writer's row groups), each
    with the dictionary values its indices span (`_source_row_id`: the lines of its rows, a few hundred), its
    indices shifted to them. The same values row for row; an array whose chunks would span as many values is
    left whole."""
    import numpy as np
    import pyarrow as pa

    if len(a.dictionary) <= _WHOLE_DICTIONARY or a.null_count:
        return a
    codes = a.indices.to_numpy().astype(np.int32)
    chunks = []
    for start in range(0, len(codes), CODED_ROW_GROUP):
        part = codes[start : start + CODED_ROW_GROUP]
        lo, hi = int(part.min()), int(part.max())
        if hi - lo >= _WHOLE_DICTIONARY:
            return a
        chunks.append(
            pa.DictionaryArray.from_arrays(pa.array(part - lo), a.dictionary.slice(lo, hi - lo + 1))
        )
    return pa.chunked_array(chunks)


def _sink_parquet(frame: pl.LazyFrame, target: Path, metadata: dict[str, str] | None = None) -> None:
    """Stream a lazy frame into `target` (written beside it, then renamed: atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.sink_parquet(tmp, compression="zstd", statistics=True, metadata=metadata)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# a history file whose rows are in `drops.ORDER` (`drops.stage_drop`) says so: `current_event` need not sort it
IN_ORDER = "lingtan.history.in_order"


def _sorted_drops(paths: list[Path]) -> int:
    """How many drops `paths` (history files in date order) hold if every one is in order, else 0."""
    return len(paths) if all(pl.read_parquet_metadata(p).get(IN_ORDER) == "1" for p in paths) else 0


# every part of a current table carries what it was built with: a current built under another contract (keys, kind,
# schema) is rebuilt from the whole history, never extended
BUILT_BY = "lingtan.current.built_by"


def _built_by(ds) -> dict[str, str]:
    return {
        BUILT_BY: json.dumps(
            {
                "contract_version": ds.contract_version,
                "kind": ds.kind,
                "keys": list(ds.keys),
                "ordered_in_drop": bool(ds.ordered_in_drop),
                "schema": {k: str(v) for k, v in ds.schema.items()},
            },
            sort_keys=True,
        )
    }


def _published_drops(raw_dir: Path) -> dict[date, Path]:
    folder = raw_dir / "history"
    out = {}
    for p in folder.glob("*.parquet") if folder.exists() else ():
        try:
            out[date.fromisoformat(p.stem)] = p
        except ValueError:
            continue
    return out


@dataclass
class _NewCurrent:
    """What a run's current table is (`_current`), for `_stage_current` to stage."""

    rows: pl.LazyFrame  # the whole table; when `append`, the rows that follow the published parts
    append: bool = False  # the published parts are kept as they are, and `rows` follow them
    since: date | None = None  # an extended event table's first new drop date (the raw gate's `since`)
    same: Path | None = None  # a staged history file that is the table as it stands: copied, not rewritten
    keys_from: datetime | None = (
        None  # the new rows' earliest key time (`Dataset.key_time`): none before changes
    )


def _current(ds, raw_dir: Path, stage: Path, changed: list[date], q_all: pl.DataFrame) -> _NewCurrent:
    """The dataset's new current table (lazy). For an event dataset extended by new drops: the first new drop
    date (rows before it are the published current's: the raw gate's `since`) and, when its key holds a time
    (`Dataset.key_time`), the new rows' earliest key time (no row before it changes: a row replaced has the key
    of a new row); when no published row is replaced (the nightly case), only the new rows, which follow the
    published parts (`append`). A first drop of an event dataset staged in order, written with this contract's
    `BUILT_BY` (`drops.current_is_history`), is the current table as it stands (`same`).

    When every changed drop is later than every published one (the nightly case) and the published current
    was built under the same contract, it is derived from the published current and the new drops' rows only
    (`drops.event_after`, `current_snapshot_after`); anything else (a re-delivered or corrected old drop, a
    first run, a contract change) rebuilds it from the whole history. Both give the same rows in the same order
    (tests/ingest/test_incremental_current.py)."""
    published = _published_drops(raw_dir)
    staged = {d: stage / "history" / _drop_name(d) for d in changed}
    if _extends(ds, raw_dir, published, changed):
        new_files = [staged[d] for d in sorted(staged)]
        new = pl.scan_parquet(new_files).match_to_schema(ds.schema)
        if ds.kind != "snapshot":
            previous = pl.scan_parquet(raw_dir / "current").match_to_schema(ds.schema)
            keys_from = new.select(pl.col(ds.key_time).min()).collect().item() if ds.key_time else None
            kept, latest, all_kept = drops.event_after(ds, previous, new, _sorted_drops(new_files))
            if all_kept:
                return _NewCurrent(latest, append=True, since=min(changed), keys_from=keys_from)
            return _NewCurrent(pl.concat([kept, latest]), since=min(changed), keys_from=keys_from)
        newest = max(changed)
        if pl.scan_parquet(staged[newest]).select(pl.len()).collect().item():
            old = pl.scan_parquet([published[d] for d in sorted(published)]).match_to_schema(ds.schema)
            return _NewCurrent(drops.current_snapshot_after(ds, old, new, newest, q_all.lazy()))
    files = {**published, **staged}
    paths = [files[d] for d in sorted(files)]
    history = pl.scan_parquet(paths).match_to_schema(ds.schema) if files else pl.LazyFrame(schema=ds.schema)
    if ds.kind == "snapshot":
        return _NewCurrent(drops.current_snapshot(ds, history, q_all.lazy()))
    sorted_drops = _sorted_drops(paths)
    same = paths[0] if len(paths) == 1 and drops.current_is_history(ds, sorted_drops) else None
    if same is not None and not _same_file_as_current(ds, same):
        same = None
    return _NewCurrent(drops.current_event(ds, history, sorted_drops), same=same)


# A current table's last part takes each night's new rows until it holds this many, then a new part starts: a
# night rewrites at most one part of this size besides its own rows, however long the history (scale 100: 68 M
# meter readings were decoded and encoded again every night, 11.5 s), and a year stays a few dozen files.
PART_ROWS = 2_000_000


def _stage_current(ds, raw_dir: Path, stage: Path, new: _NewCurrent) -> Path:
    """Write the new current table into `stage/current/` as parts (`transforms.paths`): the published parts
    it keeps as links (no copy, no rewrite), the rest written. A whole table is one part; appended rows go into
    the last part while it holds fewer than `PART_ROWS` rows, else into a new one."""
    out = stage / "current"
    out.mkdir(parents=True)
    if new.same is not None:
        shutil.copyfile(new.same, out / part_name(0))
        return out
    if not new.append:
        _sink_parquet(new.rows.match_to_schema(ds.schema), out / part_name(0), _built_by(ds))
        return out
    parts = table_parts(raw_dir / "current")
    last = parts[-1]
    grow = pl.scan_parquet(last).select(pl.len()).collect().item() < PART_ROWS
    for p in parts[:-1] if grow else parts:
        _link(p, out / p.name)
    rows = pl.concat([pl.scan_parquet(last), new.rows]) if grow else new.rows
    target = out / (last.name if grow else part_name(part_index(last) + 1))
    _sink_parquet(rows.match_to_schema(ds.schema), target, _built_by(ds))
    return out


def _link(src: Path, dst: Path) -> None:
    """A published part kept by the staged table: a hard link (same file system), a copy where none can be made."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _move_single_file_current(raw_dir: Path) -> None:
    """A home written before tables were stored as parts has `current.parquet`: it becomes the folder's only
    part (a rename: the same bytes, so its `BUILT_BY` still lets the next night extend it)."""
    legacy = raw_dir / "current.parquet"
    if legacy.is_file() and not table_parts(raw_dir / "current"):
        (raw_dir / "current").mkdir(parents=True, exist_ok=True)
        os.replace(legacy, raw_dir / "current" / part_name(0))
    elif legacy.is_file():
        legacy.unlink()


def _same_file_as_current(ds, path: Path) -> bool:
    """The file holds the contract's schema exactly and says it was built under this contract: a copy of it
    is what `_sink_parquet` of `current_event` would write, rows and metadata."""
    meta = pl.read_parquet_metadata(path)
    return meta.get(BUILT_BY) == _built_by(ds)[BUILT_BY] and list(
        pl.read_parquet_schema(path).items()
    ) == list(ds.schema.items())


def _extends(ds, raw_dir: Path, published: dict[date, Path], changed: list[date]) -> bool:
    """The published current can be extended by the changed drops alone: there is one, built under this
    contract, and every changed drop is later than every published drop."""
    parts = table_parts(raw_dir / "current")
    if not (changed and published and parts) or min(changed) <= max(published):
        return False
    return all(pl.read_parquet_metadata(p).get(BUILT_BY) == _built_by(ds)[BUILT_BY] for p in parts)


def pending_drop_dates(landing: Landing, home: Home, up_to: date | None = None) -> list[date]:
    """Drop dates (any dataset) with new or changed files: the partition window a run needs. Cheap: listing and
    change tokens only, no file is read."""
    from transforms.contracts import datasets

    listing = list(landing.files())
    pending: set[date] = set()
    for name in datasets():
        by_drop, _ = _drops(name, listing, up_to, None)
        known = _known_files(_read_or_empty(home.raw_dir(name) / "_files.parquet", FILES_SCHEMA))
        pending |= {d for d, files in by_drop.items() if _maybe_changed(d, files, known)}
    return sorted(pending)


def ingest_dataset(
    landing: Landing,
    home: Home,
    name: str,
    up_to: date | None = None,
    since: date | None = None,
    now: datetime | None = None,
    listing: list[LandingFile] | None = None,
) -> IngestResult:
    ds = get_dataset(name)
    now = now or datetime.now(UTC)
    raw_dir = home.raw_dir(name)
    _move_single_file_current(raw_dir)
    ledger = _read_or_empty(raw_dir / "_files.parquet", FILES_SCHEMA)
    quarantine = _read_or_empty(raw_dir / "_quarantine.parquet", QUARANTINE_SCHEMA)

    by_drop, problems = _drops(name, listing if listing is not None else landing.files(), up_to, since)
    known = _known_files(ledger)
    # which drops changed: the listing first, then the bytes' hash (one file in memory at a time)
    changed: list[date] = []
    retoken: dict[str, str] = {}  # files touched without a change of bytes: the new token, remembered
    for d, files in sorted(by_drop.items()):
        if not _maybe_changed(d, files, known):
            continue
        same_set = {f.rel_path for f in files} == {p for p, r in known.items() if r["drop_date"] == d}
        blocked = any(known.get(f.rel_path, {}).get("gate_passed") is False for f in files)
        if blocked or not (same_set and all(_same_hash(landing, f.rel_path, known) for f in files)):
            changed.append(d)
        else:
            retoken |= {f.rel_path: f.change_token for f in files}
    if retoken:
        ledger = _remember_tokens(ledger, retoken, raw_dir)
    prob_files, prob_q = problem_records(ds, problems, now)

    changed_dates = changed
    new_files: list[pl.DataFrame] = []
    new_q: list[pl.DataFrame] = []
    keep = ~pl.col("drop_date").is_in(changed_dates) & pl.col("drop_date").is_not_null()
    files_all = pl.concat([ledger.filter(keep), prob_files])
    q_all = pl.concat([quarantine.filter(keep), prob_q])
    old_problems = set(
        ledger.filter(pl.col("drop_date").is_null()).select("file", "change_token").iter_rows()
    )
    if (
        not changed
        and table_parts(raw_dir / "current")
        and old_problems == {(f.rel_path, f.change_token) for f in problems}
    ):
        cur = pl.scan_parquet(raw_dir / "current").select(pl.len()).collect().item()
        return IngestResult(name, [], pl.DataFrame(schema=FILES_SCHEMA), Gate(RAW_GATE), cur)

    with staging(home.staging / name, f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}") as stage:
        # the step, drop by drop: files → accepted rows (each batch written to the stage as it is validated,
        # then streamed into that drop's history file: a drop's rows are never all in memory), quarantine
        # rows, file records (drops.stage_drop)
        # a first drop of an event dataset, staged whole in order, is also its current table (`_current`): its
        # history file then says under which contract it was built, so that it can be copied as the current
        first = len(changed) == 1 and ds.kind != "snapshot" and not _published_drops(raw_dir)
        meta = {IN_ORDER: "1", **(_built_by(ds) if first else {})}
        for d in changed:
            parts = _Parts(stage / "parts" / d.isoformat(), ds.schema, meta, ds.keys)
            acc, q, recs, in_order = drops.stage_drop(ds, d, by_drop[d], _Contents(landing), now, parts)
            history = stage / "history" / _drop_name(d)
            whole = parts.whole(int(recs["rows_accepted"].sum())) if in_order else None
            if whole is not None:  # one batch, every row kept: the part is the history file
                history.parent.mkdir(parents=True, exist_ok=True)
                os.replace(whole, history)
            else:
                _sink_parquet(acc.match_to_schema(ds.schema), history, {IN_ORDER: "1"} if in_order else None)
            del acc
            parts.remove()
            new_q.append(q)
            new_files.append(recs)
        files_all = pl.concat([files_all, *new_files]).sort(
            ["drop_date", "file"], nulls_last=True, maintain_order=True
        )
        q_all = pl.concat([q_all, *new_q]).sort(
            ["drop_date", "file", "row_number"], nulls_last=True, maintain_order=True
        )
        run_files = (
            pl.concat([*new_files, prob_files]) if (new_files or not prob_files.is_empty()) else prob_files
        )
        new_current = _current(ds, raw_dir, stage, changed, q_all)
        staged_current = _stage_current(ds, raw_dir, stage, new_current)
        since, keys_from = new_current.since, new_current.keys_from
        # gate: the raw gate on the staged table (when it extends the published one, on the new rows and the
        # keys: `since`); its verdict is stamped on this run's file records
        gate = audit(
            ds,
            staged_current,
            pl.concat([*new_files]) if new_files else pl.DataFrame(schema=FILES_SCHEMA),
            since,
        )
        stamp = pl.col("file").is_in(run_files["file"].to_list())
        files_all = files_all.with_columns(
            gate_passed=pl.when(stamp).then(pl.lit(gate.passed)).otherwise(pl.col("gate_passed")),
            gate_details=pl.when(stamp).then(pl.lit(gate.details)).otherwise(pl.col("gate_details")),
        )
        atomic_write_parquet(files_all, stage / "_files.parquet")
        atomic_write_parquet(q_all, stage / "_quarantine.parquet")
        # publish: history and current only when the gate passed; the ledger and quarantine always (a
        # failed gate must be visible)
        staged_history = sorted((stage / "history").glob("*.parquet")) if (stage / "history").exists() else []
        publish(
            gate,
            [
                *((p, raw_dir / "history" / p.name) for p in staged_history),
                (staged_current, raw_dir / "current"),
            ],
            always=[(stage / f, raw_dir / f) for f in ("_quarantine.parquet", "_files.parquet")],
        )
    if gate.passed and ds.key_time:  # the dbt step's key test reads the rows from `keys_from` on only
        record_version(home, name, keys_from, source="lake")
    cur = pl.scan_parquet(raw_dir / "current").select(pl.len()).collect().item()
    return IngestResult(
        name,
        changed_dates,
        run_files.with_columns(gate_passed=pl.lit(gate.passed), gate_details=pl.lit(gate.details)),
        gate,
        cur,
    )


def ensure_empty_tables(home: Home) -> None:
    """Every dataset has a current table (a folder with at least one part) and data-quality files, even
    before its first drop, so that the engines and dbt always find their inputs (a folder without parts reads
    as no rows too: `load_raw`, dbt's `lake_table`)."""
    from transforms.contracts import datasets

    for name, ds in datasets().items():
        d = home.raw_dir(name)
        _move_single_file_current(d)
        # (a dataset with drops but no current table is rebuilt from its history by its next ingestion)
        if not table_parts(d / "current") and not _published_drops(d):
            atomic_write_parquet(pl.DataFrame(schema=ds.schema), d / "current" / part_name(0))
        for fname, schema in (("_files.parquet", FILES_SCHEMA), ("_quarantine.parquet", QUARANTINE_SCHEMA)):
            if not (d / fname).exists():
                atomic_write_parquet(pl.DataFrame(schema=schema), d / fname)
