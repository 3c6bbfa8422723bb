"""A wide meter file's accepted rows are staged from integer codes: its repeated texts are Enum columns
(`meter_wide._Block._accepted`), written as Parquet dictionaries by `ingest._write_coded` in a thread while the
drop's duplicate-key rule reads the key columns from memory (`ingest._Parts.key_rows`). The lake must read
exactly as the plain rows would: the contract's schema (String, not a dictionary type), the same values, the
same metadata; and the duplicate-key rule must find the same keys as when it reads the parts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

import orchestration.lib.ingest as ingest_mod
from tests.ingest.helpers import drop, ingest
from transforms.contracts import dataset
from transforms.ingest.readers import read_table
from transforms.ingest.validate import header_names_enough, plain, validate_read

DS = dataset("meter_readings")
DAY = date(2025, 1, 3)
M1 = "M1#Real Energy Into the Load#kWh"
M2 = "M2#Real Energy Into the Load#MWh"
M3 = "M3#Gas Volume#m3"


def _wide(headers: list[str], lines: int, first_hour: int = 0, gap: int | None = None) -> str:
    rows = []
    for h in range(first_hour, first_hour + lines):
        cells = ["" if gap is not None and (h + j) % gap == 0 else f"{h}.{j}5" for j in range(len(headers))]
        rows.append(",".join([f"2025-01-02 {h:02d}:00:00", *cells]))
    return "\n".join([",".join(["Timestamp", *headers]), *rows]) + "\n"


@pytest.mark.parametrize("row_group", [None, 16])
def test_coded_rows_read_back_as_the_plain_rows(tmp_path: Path, monkeypatch, row_group) -> None:
    """Also with row groups of 16 rows and Enums of more than 8 values cut into a dictionary per row group
    (`_source_row_id`: 20 lines, a row group spans 2 to 7 of them)."""
    if row_group:
        monkeypatch.setattr(ingest_mod, "CODED_ROW_GROUP", row_group)
        monkeypatch.setattr(ingest_mod, "_WHOLE_DICTIONARY", 8)
    rel = f"meter_readings/{DAY}/pme.csv"
    data = _wide([M1, M2, M3], 20, gap=7).encode()
    v = validate_read(DS, read_table(rel, data, DS.name, header_names_enough(DS)), DAY, rel)
    coded = [n for n, d in v.accepted.schema.items() if isinstance(d, pl.Enum)]
    assert {"meter_id", "unit", "source_column", "_source_row_id", "_file", "quality"} <= set(coded)
    path = tmp_path / "part.parquet"
    ingest_mod._write_coded(v.accepted, path, {"lingtan.history.in_order": "1"})
    back = pl.read_parquet(path)
    assert back.schema == DS.schema
    assert_frame_equal(back, plain(v.accepted), check_exact=True)
    assert back["_row_number"].is_sorted() and back.height == 60 - 8  # 8 empty cells: gaps, no readings
    assert pl.read_parquet_metadata(path)["lingtan.history.in_order"] == "1"
    meta = pq.ParquetFile(path).metadata
    srid = list(DS.schema).index("_source_row_id")
    assert meta.row_group(0).column(srid).path_in_schema == "_source_row_id"
    for g in range(meta.num_row_groups):  # every row group's ids as a dictionary (no fallback to plain)
        assert meta.row_group(g).column(srid).has_dictionary_page
    assert meta.num_row_groups == (4 if row_group else 1)
    cut = ingest_mod._row_group_dictionaries(v.accepted["_source_row_id"].to_arrow())
    sizes = [len(c.dictionary) for c in cut.chunks] if row_group else [len(cut.dictionary)]
    assert sizes == ([6, 6, 7, 2] if row_group else [20])  # the lines of each row group (16, 16, 16, 4 rows)


def _lake(home: Path) -> dict[str, pl.DataFrame]:
    raw = home / "lake" / "raw" / DS.name
    return {str(p.relative_to(raw)): pl.read_parquet(p) for p in sorted(raw.rglob("*.parquet"))}


def test_duplicate_keys_found_in_memory_as_in_the_parts(tmp_path: Path, monkeypatch) -> None:
    """Two wide files in a drop (different meters, so Enums of other values), a meter column twice in one
    file and lines that come again in the other: the same lake whether the key columns are read from memory
    while the parts are written, or from the parts (`KEPT_KEY_ROWS = 0`)."""
    landing = tmp_path / "landing"
    drop(landing, DS.name, str(DAY), "a.csv", _wide([M1, M2, M1], 6, gap=5))
    drop(landing, DS.name, str(DAY), "b.csv", _wide([M3, M2], 4, first_hour=4))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    handed = []
    key_rows = ingest_mod._Parts.key_rows
    monkeypatch.setattr(
        ingest_mod._Parts, "key_rows", lambda self: handed.append(key_rows(self)) or handed[-1]
    )
    lakes = {}
    for kept in (ingest_mod.KEPT_KEY_ROWS, 0):
        monkeypatch.setattr(ingest_mod, "KEPT_KEY_ROWS", kept)
        home = tmp_path / f"home{kept}"
        r = ingest(landing, home, DS.name, now=now)
        assert r.gate.passed and r.rows_quarantined > 0
        lakes[kept] = _lake(home)
    assert [k is None for k in handed] == [False, True]  # from memory, then from the parts
    a, b = lakes.values()
    assert list(a) == list(b)
    for name in a:
        assert_frame_equal(a[name], b[name], check_exact=True)
    q = a["_quarantine.parquet"]
    assert q.filter(pl.col("reason").str.contains("appears 2 times")).height == q.height
    current = a["current/part-00000.parquet"]
    assert current.schema == DS.schema and current.height + q.height == 14 + 8  # a: 4 of 18 cells empty


def test_a_failed_part_write_fails_when_the_parts_are_read_not_the_next_file(
    tmp_path: Path, monkeypatch
) -> None:
    """A full disk while one file's part is written surfaces when the drop's parts are read (the run fails),
    not when the next file's batch is handed to the writer (that file would be rejected for a fault not its own)."""
    rel = f"meter_readings/{DAY}/pme.csv"
    data = _wide([M1, M2], 4).encode()
    rows = validate_read(DS, read_table(rel, data, DS.name, header_names_enough(DS)), DAY, rel).accepted
    written = []

    def write(self, part: pl.DataFrame) -> None:
        written.append(self.path)
        if len(written) == 1:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest_mod._CodedWriter, "append", write)
    parts = ingest_mod._Parts(tmp_path / "parts", DS.schema)
    parts.add(rel, rows)
    parts.add(rel.replace("pme", "other"), rows)  # the next file: not blamed for the first one's write
    with pytest.raises(OSError, match="No space left"):
        parts.scan()
    parts.remove()  # (waits for the writer)
    assert len(written) == 2


def test_wide_files_in_batches_of_lines_stage_the_same_lake(tmp_path: Path, monkeypatch) -> None:
    """Wide files bigger than a batch (`csv_fast.BATCH_BYTES` cut to 150 bytes): each file's batches extend one
    coded part (`_CodedWriter`), so a drop of one file is still one part, renamed as its history file; a drop of
    two files, one of them falling back to the row-by-row reader in a later batch (its earlier batches already
    written into its open part, which is discarded), gives the lake of whole-file reads too."""
    from transforms.ingest import csv_fast

    landing = tmp_path / "landing"
    drop(landing, DS.name, str(DAY), "a.csv", _wide([M1, M2, M3], 20, gap=7))
    late_bad = _wide([M2, M3], 20, first_hour=2).splitlines()
    late_bad[19] += ',"'  # an unbalanced quote in a later batch: the file needs the row-by-row reader
    drop(landing, DS.name, "2025-01-04", "b.csv", _wide([M1], 20))
    drop(landing, DS.name, "2025-01-04", "c.csv", "\n".join(late_bad) + "\n")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    writers = []
    init = ingest_mod._CodedWriter.__init__
    monkeypatch.setattr(
        ingest_mod._CodedWriter, "__init__", lambda self, *a: writers.append(a[0]) or init(self, *a)
    )
    lakes = {}
    for batch_bytes in (csv_fast.BATCH_BYTES, 150):
        monkeypatch.setattr(csv_fast, "BATCH_BYTES", batch_bytes)
        writers.clear()
        home = tmp_path / f"home{batch_bytes}"
        r = ingest(landing, home, DS.name, now=now)
        assert r.gate.passed
        lakes[batch_bytes] = _lake(home)
        if batch_bytes == 150:  # a: one part of several batches; b: one part; c: batches, then whole again
            assert len(writers) == 4
    a, b = lakes.values()
    assert list(a) == list(b)
    for name in a:
        assert_frame_equal(a[name], b[name], check_exact=True)
    assert a["history/2025-01-03.parquet"].height == 60 - 8
    meta = pl.read_parquet_metadata(tmp_path / "home150/lake/raw/meter_readings/history/2025-01-03.parquet")
    assert meta["lingtan.history.in_order"] == "1"
