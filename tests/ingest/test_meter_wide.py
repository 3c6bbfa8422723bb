"""A wide meter file validated per meter column, per line and per cell (transforms/ingest/meter_wide.py) gives
exactly what the contract's validation of the reshaped long table gives: the same accepted rows, in line order
(the order they are staged in: `drops.ORDER`, a line's readings in column order), the same quarantine records,
notes, rows read and broken rows."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms.contracts import dataset
from transforms.ingest import meter_layouts, meter_wide
from transforms.ingest.base import FileRejected
from transforms.ingest.readers import read_table
from transforms.ingest.validate import Validated, header_names_enough, plain, validate, validate_read

DAY = date(2025, 12, 31)
M1 = "GROUP.METER01#Real Energy Into the Load#kWh"
M2 = "GROUP.METER02#Real Energy Into the Load#MWh"
DS = dataset("meter_readings")


def _both(name: str, data: bytes):
    """(the fast validation, the contract's validation of the reshape's long table) of one file."""
    t = read_table(name, data, DS.name, header_names_enough(DS))
    assert isinstance(t, meter_wide.WideRead)
    rel = f"meter_readings/{DAY}/{name}"
    fast = validate_read(DS, t, DAY, rel)
    long = meter_layouts.wide_text(t._wide.table)
    ref = validate(DS, long, DAY, rel)
    # the repeated texts come as Enum columns (`validate.plain`: the same values as String)
    assert all(isinstance(d, (pl.Enum, type(DS.schema[n]))) for n, d in fast.accepted.schema.items())
    fast = Validated(plain(fast.accepted), fast.quarantine, fast.notes)
    assert_frame_equal(fast.accepted, ref.accepted.sort("_row_number", maintain_order=True))
    assert_frame_equal(fast.quarantine, ref.quarantine)
    assert fast.notes == ref.notes
    assert (t.rows_read, t.broken, t.problems, t.notes) == (
        long.rows_read,
        long.broken,
        long.problems,
        long.notes,
    )
    assert_frame_equal(t.frame, long.frame)  # the lazily built long table is the reshape's
    assert ref.accepted.height + ref.quarantine.height == t.rows_read
    return fast


def _lines(n: int, first: str = "2025-01-01") -> list[str]:
    start = datetime.fromisoformat(first)
    return [f"{start.replace(hour=i // 4, minute=15 * (i % 4)):%Y-%m-%d %H:%M:%S}" for i in range(n)]


def _csv(headers: list[str], rows: list[list[str]]) -> bytes:
    out = [",".join(headers)] + [",".join(r) for r in rows]
    return ("\n".join(out) + "\n").encode()


def test_clean_file_is_accepted_whole_in_line_order() -> None:
    ts = _lines(8)
    rows = [[t, f"{i}.25", "" if i == 3 else f"0.00{i}"] for i, t in enumerate(ts)]
    fast = _both("pme.csv", _csv(["Timestamp", M1, M2], rows))
    assert fast.quarantine.height == 0
    # line by line, a line's readings in column order, a gap skipped
    assert fast.accepted["source_column"].to_list() == [M1, M2] * 3 + [M1] + [M1, M2] * 4
    assert fast.accepted["_row_number"].is_sorted()
    assert fast.accepted["_source_row_id"][0] == f"meter_readings/{DAY}/pme.csv#1"


def test_bad_cells_lines_and_columns() -> None:
    bad_unit = "GROUP.METER03#Apparent Energy#kVAh"  # not an energy/volume/mass unit: all its readings
    no_meter = " #Real Energy#kWh"  # the meter id is empty: required value missing
    cjk = "一号表#正向有功#千瓦时"  # a Chinese meter id and unit: NFKC, not the ASCII shortcut
    headers = ["Timestamp", M1, M2, bad_unit, no_meter, cjk, "Comment"]
    rows = [
        ["2025-01-01 00:00:00", "1.5", "0.002", "3", "4", "5", "ok"],
        ["2025-01-01 00:15:00", "", "0.003", "", "", "6", ""],
        ["2025-01-01 00:30:00", "abc", "-4", "1", "1", " 7 ", ""],  # text, negative, spaces around
        [
            '"2025-01-01 00:45:00+08:00"',
            '"1,000.5"',
            "0.002",
            "1",
            "1",
            "１２",
            "",
        ],  # offset, thousands, NFKC
        ["2025-02-30 00:00", "1", "2", "3", "4", "5", ""],  # impossible: every reading of the line
        ["2025-01-01 01:15:00+15:00", "1", "2", "3", "4", "5", ""],  # offset beyond ±840 minutes
        ["２０２５-01-01 01:30", "-0", "+2", ".5", "5.", "1e3", ""],  # full-width digits in the timestamp
        ["2025-01-01 01:45:00", "NaN", "inf", "1e400", "　", "  ", ""],  # non-finite; blank cells are gaps
        ["2025-01-01 02:00:00Z", "0", "1E-3", "00012", "7", "8", ""],
    ]
    fast = _both("pme.csv", _csv(headers, rows))
    assert fast.quarantine.height > 0 and fast.accepted.height > 0
    assert set(fast.accepted["meter_id"]) == {"GROUP.METER01", "GROUP.METER02", "一号表"}
    assert "not one of" not in " ".join(fast.quarantine["reason"])  # layout is always "wide"


def test_suspects_accepted_by_validation_keep_their_place() -> None:
    """A value with spaces around it is accepted by validation (trimmed), not by the per-cell pass: it comes
    back among the clean readings in line order."""
    ts = _lines(40)
    rows = [[t, f" {i}.5 " if i % 7 == 0 else f"{i}.5", f"{i}"] for i, t in enumerate(ts)]
    fast = _both("pme.csv", _csv(["Timestamp", M1, M2], rows))
    assert fast.quarantine.height == 0
    assert fast.accepted["value"].to_list()[:8] == [0.5, 0.0, 1.5, 1.0, 2.5, 2.0, 3.5, 3.0]


def test_many_suspects_take_the_contract_validation_of_the_long_table(monkeypatch) -> None:
    monkeypatch.setattr(meter_wide, "_SUSPECT_MIN", 10)
    ts = _lines(40)
    rows = [[t, f" {i}", f"{i};5", f"x{i}"] for i, t in enumerate(ts)]
    headers = ["Timestamp", M1, M2, "GROUP.METER04#Real Energy Into the Load#kWh"]
    fast = _both("pme.csv", _csv(headers, rows))
    assert fast.accepted.height == 40 and fast.quarantine.height == 80


def test_same_meter_twice_and_duplicate_headers() -> None:
    ts = _lines(3)
    rows = [[t, "1", "2", "3"] for t in ts]
    _both("pme.csv", _csv(["Timestamp", M1, M1, "GROUP.METER01#Real Energy Out#kWh"], rows))


def test_workbook_with_formula_cells_in_values_and_timestamps() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [
        ["PME export, site A"],
        [],
        ["Timestamp", M1, M2],
        [datetime(2025, 1, 1, 0, 0), 1, 2],
        [datetime(2025, 1, 1, 0, 15), "=B4*2", 3],  # a formula never calculated: a reading quarantined
        [datetime(2025, 1, 1, 0, 30), None, 4],
        ["=A6+1", 5, 6],  # the timestamp is a formula: every reading of the line
        [datetime(2025, 1, 1, 1, 0), "=B4+1", "=C4+1"],
    ]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    fast = _both("pme.xlsx", buf.getvalue())
    assert fast.quarantine.height == 5


def test_a_file_of_gaps_only_is_rejected() -> None:
    with pytest.raises(FileRejected, match="no readings: all 4 meter cell"):
        read_table("pme.csv", _csv(["Timestamp", M1, M2], [["2025-01-01 00:00", "", ""]] * 2), DS.name)


def test_ingestion_uses_the_fast_validation() -> None:
    """`validate_read` (what ingestion calls) takes the wide file's own validation: it never builds the long
    table of text cells."""
    t = read_table("pme.csv", _csv(["Timestamp", M1], [[x, "1"] for x in _lines(4)]), DS.name)
    validate_read(DS, t, DAY, f"meter_readings/{DAY}/pme.csv")
    assert t._frame is None


def _wide_cases():
    from tests.ingest.hostile.extra import EXTRA

    return [c for c in EXTRA if c.dataset == DS.name and c.make is None and c.status != "rejected"]


@pytest.mark.parametrize("case", _wide_cases(), ids=lambda c: c.name)
def test_hostile_meter_files(case) -> None:
    """The hostile corpus's meter files: a wide one validates the same both ways."""
    data = case.build(case.name)
    t = read_table(case.file, data, DS.name, header_names_enough(DS))
    if isinstance(t, meter_wide.WideRead):
        _both(case.file, data)


def test_demo_pme_exports(demo_landing) -> None:
    """Two of the demo's PME exports (a year of 15-minute readings, its gaps and estimated readings)."""
    files = sorted((demo_landing / DS.name).rglob("*.csv"))
    wide = [f for f in files if b"#" in f.read_bytes()[:2000]][:2]
    assert wide
    for f in wide:
        _both(f.name, f.read_bytes())


def _batched_and_whole(name: str, data: bytes, monkeypatch: pytest.MonkeyPatch, batch_bytes: int):
    """(read in batches of lines through `drops.read_validated`, read whole and validated): each the outcome
    (table, validated) or ("rejected", reason)."""
    from transforms.ingest import csv_fast
    from transforms.ingest.drops import read_validated
    from transforms.ingest.readers import read_batches

    rel = f"meter_readings/{DAY}/{name}"
    is_header = header_names_enough(DS)

    def outcome(run):
        try:
            return run()
        except FileRejected as e:
            return ("rejected", str(e))

    with monkeypatch.context() as m:
        m.setattr(csv_fast, "BATCH_BYTES", batch_bytes)
        batches = outcome(lambda: list(read_batches(rel, data, DS.name, is_header)))
        batched = outcome(lambda: read_validated(DS, rel, data, DAY, is_header))
    whole = outcome(lambda: (t := read_table(rel, data, DS.name, is_header), validate_read(DS, t, DAY, rel)))
    return batches, batched, whole


def test_a_wide_file_in_batches_of_lines_reads_as_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide file bigger than a batch is reshaped and validated batch by batch of lines (readers.read_batches):
    the same accepted rows in the same order, quarantine records, rows read and notes (which count the whole
    file) as the file read whole; a batch of empty cells only is gaps, not a rejection."""
    ts = _lines(80)
    rows = []
    for i, t in enumerate(ts):
        a = "" if 10 <= i < 45 else ("abc" if i == 51 else ("-2" if i == 57 else f"{i}.25"))
        b = "" if i < 45 or i % 7 == 0 else f"0.00{i % 10}"
        rows.append([t, a, b])
    data = _csv(["Timestamp", M1, M2], rows)
    batches, (bt, bv), (wt, wv) = _batched_and_whole("pme.csv", data, monkeypatch, 300)
    assert len(batches) > 5 and all(isinstance(b, meter_wide.WideRead) for b in batches)
    assert any(b.tally.readings == 0 for b in batches)  # lines 10-44: every cell empty
    assert_frame_equal(plain(bv.accepted), plain(wv.accepted))
    assert_frame_equal(bv.quarantine, wv.quarantine)
    assert bv.quarantine.height == 2  # the text and the negative value
    assert (bt.rows_read, bv.notes) == (wt.rows_read, wv.notes)
    assert "2 meter column(s) × 80 line(s)" in "; ".join(bv.notes)


def test_a_wide_file_of_empty_cells_in_batches_is_rejected_as_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _csv(["Timestamp", M1, M2], [[t, "", ""] for t in _lines(60)])
    batches, batched, whole = _batched_and_whole("empty.csv", data, monkeypatch, 300)
    assert batches == batched == whole
    assert batched[0] == "rejected" and batched[1].startswith("no readings: all 120 meter cell(s) of the 60")
