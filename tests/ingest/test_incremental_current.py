"""Ingestion in proportion to the drop (docs/ingestion.md, "Current tables in proportion to the drop").

A nightly drop later than every published drop extends the published `current` from its own rows; anything
else rebuilds `current` from the whole history. Each sequence below is ingested twice, run by run: once as
the code does it, once with the incremental path switched off (every run rebuilds from the whole history).
After every run `current`, `_files` and `_quarantine` must be the same frames (rows and order), and the
incremental path must have been taken where it applies.

Also: a drop staged batch by batch (`drops.stage_drop`, the rows never all in memory) gives the same rows,
quarantine and file records as `drops.process_drop`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import orchestration.lib.ingest as ingest_mod
from orchestration.lib.home import Home
from tests.ingest.helpers import drop, ingest
from transforms.contracts import dataset
from transforms.ingest import csv_fast, drops
from transforms.ingest.validate import plain

INV = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"
SUP = "supplier_id,name,country"
WIDE = "Timestamp,M1#Real Energy Into the Load#kWh,M2#Real Energy Into the Load#kWh,M3#Gas Volume#m3"


def _lake(home: Path, name: str) -> dict[str, pl.DataFrame]:
    raw = Home(home).raw_dir(name)
    return {f: pl.read_parquet(raw / f) for f in ("current", "_files.parquet", "_quarantine.parquet")}


class _Spy:
    """Counts the incremental derivations taken (and still runs them)."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[str] = []
        for fn in ("event_after", "current_snapshot_after"):
            real = getattr(drops, fn)

            def wrapped(*a, _real=real, _fn=fn, **kw):
                self.calls.append(_fn)
                return _real(*a, **kw)

            monkeypatch.setattr(drops, fn, wrapped)


def _both_ways(monkeypatch, tmp_path: Path, name: str, steps) -> list[list[str]]:
    """Run each step (a function that changes the landing zone), then ingest into an incremental home and a
    full-rebuild home (which also sorts every history file, staged in order or not) with the same clock; compare the lake frames after every run. Returns, per run, the
    incremental derivations the first home took."""
    landing, inc, full = tmp_path / "landing", tmp_path / "inc", tmp_path / "full"
    spy = _Spy(monkeypatch)
    taken = []
    for i, step in enumerate(steps):
        step(landing)
        now = datetime(2026, 6, 1, 3, i, tzinfo=UTC)
        spy.calls.clear()
        a = ingest(landing, inc, name, now=now)
        taken.append(list(spy.calls))
        with monkeypatch.context() as m:
            m.setattr(ingest_mod, "_extends", lambda *_: False)
            m.setattr(ingest_mod, "_sorted_drops", lambda *_: 0)  # and every history sorted again
            b = ingest(landing, full, name, now=now)
        assert a.gate.passed and b.gate.passed, (a.gate.details, b.gate.details)
        assert a.drops_processed == b.drops_processed
        got, want = _lake(inc, name), _lake(full, name)
        for f in want:
            assert_frame_equal(got[f], want[f], check_exact=True)
    return taken


def _touch(p: Path, k: int) -> None:
    """A new change token for a re-delivered file (mtime), whatever the clock's resolution."""
    os.utime(p, (1_700_000_000 + k, 1_700_000_000 + k))


def test_event_dataset_nightly_drops_corrections_duplicates_and_a_redelivered_old_drop(monkeypatch, tmp_path):
    ds = "supplier_invoices"

    def d1(zone):
        drop(
            zone,
            ds,
            "2026-01-03",
            "a.csv",
            f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,5,t\nINV1,2,2026-01-01,S1,I1,WR1,6,t\n",
        )
        drop(
            zone,
            ds,
            "2026-01-03",
            "b.csv",
            f"{INV}\nINV2,1,2026-01-02,S1,I1,WR1,1,t\nINV3,1,2026-01-02,S2,I1,WR1,2,t\n",
        )

    def d2(zone):  # a correction of INV1/1, a new key, a key twice in one file, a bad row
        drop(
            zone,
            ds,
            "2026-02-03",
            "a.csv",
            f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,7,t\nINV4,1,2026-02-01,S1,I1,WR1,1,t\n"
            "INV5,1,2026-02-01,S1,I1,WR1,1,t\nINV5,1,2026-02-01,S1,I1,WR1,2,t\nINV6,1,2026-02-01,S1,I1,WR1,x,t\n",
        )

    def d3(
        zone,
    ):  # the same key in two files of one drop (both quarantined: the earlier version stays current)
        drop(
            zone,
            ds,
            "2026-03-03",
            "a.csv",
            f"{INV}\nINV2,1,2026-01-02,S1,I1,WR1,8,t\nINV7,1,2026-03-01,S1,I1,WR1,3,t\n",
        )
        drop(
            zone,
            ds,
            "2026-03-03",
            "b.csv",
            f"{INV}\nINV2,1,2026-01-02,S1,I1,WR1,9,t\nINV1,2,2026-01-01,S1,I1,WR1,4,t\n",
        )

    def old_redelivered(
        zone,
    ):  # drop 1 again, INV3 corrected there and a line added: rebuilt from the history
        p = drop(
            zone,
            ds,
            "2026-01-03",
            "b.csv",
            f"{INV}\nINV2,1,2026-01-02,S1,I1,WR1,1,t\nINV3,1,2026-01-02,S2,I1,WR1,20,t\nINV8,1,2026-01-02,S2,I1,WR1,1,t\n",
        )
        _touch(p, 1)

    def two_new(zone):  # two drops in one run, the same key in both (the later wins)
        drop(
            zone,
            ds,
            "2026-04-03",
            "a.csv",
            f"{INV}\nINV3,1,2026-01-02,S2,I1,WR1,30,t\nINV9,1,2026-04-01,S1,I1,WR1,1,t\n",
        )
        drop(
            zone,
            ds,
            "2026-05-03",
            "a.csv",
            f"{INV}\nINV3,1,2026-01-02,S2,I1,WR1,31,t\nINV1,1,2026-01-01,S1,I1,WR1,2,t\n",
        )

    def nothing_new_but_a_file_outside_drops(zone):
        drop(zone, ds, "not-a-date", "x.csv", f"{INV}\n")

    def latest_redelivered(zone):  # the newest drop corrected: not later than every published drop → rebuild
        p = drop(zone, ds, "2026-05-03", "a.csv", f"{INV}\nINV3,1,2026-01-02,S2,I1,WR1,32,t\n")
        _touch(p, 2)

    taken = _both_ways(
        monkeypatch,
        tmp_path,
        ds,
        [d1, d2, d3, old_redelivered, two_new, nothing_new_but_a_file_outside_drops, latest_redelivered],
    )
    assert taken == [
        [],
        ["event_after"],
        ["event_after"],
        [],
        ["event_after"],
        [],
        [],
    ]
    cur = pl.read_parquet(Home(tmp_path / "inc").raw_table(ds))
    got = {(r["invoice_id"], r["line_no"]): r["quantity"] for r in cur.iter_rows(named=True)}
    assert got == {
        ("INV1", 1): 7.0,  # its 2026-05-03 version went with that drop's re-delivery
        ("INV1", 2): 4.0,
        ("INV2", 1): 1.0,
        ("INV3", 1): 32.0,
        ("INV4", 1): 1.0,
        ("INV7", 1): 3.0,
        ("INV8", 1): 1.0,
        ("INV9", 1): 1.0,
    }


def test_snapshot_dataset_keeps_held_keys_previous_version_from_older_drops(monkeypatch, tmp_path):
    ds = "suppliers"

    def s1(zone):
        drop(zone, ds, "2026-01-05", "s.csv", f"{SUP}\nS1,A,CN\nS2,B,CN\nS3,C,VN\n")

    def s2(zone):  # S2 quarantined: keeps its version of s1; S3 gone
        drop(zone, ds, "2026-02-05", "s.csv", f"{SUP}\nS1,A2,CN\nS2,B2,Atlantis\n")

    def s3(zone):  # S3 quarantined: its previous valid version is in s1, not in the published current
        drop(zone, ds, "2026-03-05", "s.csv", f"{SUP}\nS1,A3,CN\nS3,C3,Atlantis\nS4,D,CN\n")

    def s4(zone):  # nothing valid in the newest drop: the newest drop with rows stays the truth
        drop(zone, ds, "2026-04-05", "s.csv", f"{SUP}\nS1,A4,Atlantis\n")

    def s5(zone):  # a key twice (both quarantined with their key): previous versions kept
        drop(zone, ds, "2026-05-05", "s.csv", f"{SUP}\nS4,D5,CN\nS4,D6,CN\nS2,B5,CN\n")

    taken = _both_ways(monkeypatch, tmp_path, ds, [s1, s2, s3, s4, s5])
    assert taken == [
        [],
        ["current_snapshot_after"],
        ["current_snapshot_after"],
        [],
        ["current_snapshot_after"],
    ]
    cur = pl.read_parquet(Home(tmp_path / "inc").raw_table(ds))
    # S2 from the newest drop; S4 twice there (both quarantined): its version of 2026-03-05, sorted first
    assert cur.select("supplier_id", "name", "_drop_date").rows() == [
        ("S4", "D", date(2026, 3, 5)),
        ("S2", "B5", date(2026, 5, 5)),
    ]


def test_wide_meter_file_readings_of_one_line_keep_their_order(monkeypatch, tmp_path):
    """Readings of one wide line tie on (drop, file, row): the current keeps them in history order both ways."""
    ds = "meter_readings"

    def day(d: str, stamp: str, values: list[str]):
        def step(zone):
            lines = [f"{stamp} {h:02d}:00:00,{','.join(values)}" for h in range(4)]
            drop(zone, ds, d, "pme.csv", WIDE + "\n" + "\n".join(lines) + "\n")

        return step

    def correction(zone):  # a later drop corrects one interval of an earlier day, and repeats a stamp
        drop(
            zone,
            ds,
            "2025-01-05",
            "fix.csv",
            f"{WIDE}\n2025-01-02 01:00:00,9,9,9\n2025-01-04 00:00:00,1,,1\n2025-01-04 00:00:00,2,,2\n",
        )

    taken = _both_ways(
        monkeypatch,
        tmp_path,
        ds,
        [
            day("2025-01-03", "2025-01-02", ["1", "2", "3"]),
            day("2025-01-04", "2025-01-03", ["4", "", "6"]),
            correction,
            # an old day re-delivered with another file: a full rebuild of four drops in order
            lambda zone: drop(
                zone, ds, "2025-01-03", "pme2.csv", WIDE.replace("M", "N") + "\n2025-01-02 00:00:00,1,1,1\n"
            ),
        ],
    )
    assert taken == [[], ["event_after"], ["event_after"], []]
    cur = pl.read_parquet(Home(tmp_path / "inc").raw_table(ds))
    fixed = cur.filter(pl.col("interval_start") == datetime(2025, 1, 2, 1))
    assert fixed["value"].to_list() == [9.0, 9.0, 9.0]
    assert cur.height == 12 + 8 - 3 + 3 + 3  # the corrected interval's three readings replaced, not added


def test_first_run_of_several_drops_without_repeated_keys_streams_the_history(monkeypatch, tmp_path):
    """Drops in order whose keys never repeat: the full rebuild writes the history as it is (no sort, no
    de-duplication), the same frames as sorting and de-duplicating it."""
    ds = "meter_readings"

    def days(zone):
        for d in range(3, 7):
            lines = "\n".join(f"2025-01-{d - 1:02d} {h:02d}:00:00,{h},{d},{h + d}" for h in range(3))
            drop(zone, ds, f"2025-01-{d:02d}", "pme.csv", f"{WIDE}\n{lines}\n")

    seen = []
    real = drops._key_repeats
    monkeypatch.setattr(drops, "_key_repeats", lambda *a: seen.append(real(*a)) or seen[-1])
    assert _both_ways(monkeypatch, tmp_path, ds, [days]) == [[]]
    assert seen == [False]  # asked once (the incremental home), and nothing repeats
    assert pl.read_parquet(Home(tmp_path / "inc").raw_table(ds)).height == 4 * 3 * 3


def test_a_current_built_under_another_contract_is_rebuilt(monkeypatch, tmp_path):
    ds = "supplier_invoices"
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, ds, "2026-01-03", "a.csv", f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,5,t\n")
    ingest(landing, home, ds)
    cur = Home(home).raw_table(ds)
    part = cur / "part-00000.parquet"
    pl.read_parquet(part).write_parquet(part)  # as an older lingtan wrote it: no record of its contract
    spy = _Spy(monkeypatch)
    drop(landing, ds, "2026-02-03", "a.csv", f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,6,t\n")
    ingest(landing, home, ds)
    assert spy.calls == []
    assert pl.read_parquet(cur)["quantity"].to_list() == [6.0]
    drop(landing, ds, "2026-03-03", "a.csv", f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,7,t\n")
    ingest(landing, home, ds)
    assert spy.calls == ["event_after"]  # the rebuilt current records its contract again
    assert pl.read_parquet(cur)["quantity"].to_list() == [7.0]


def test_a_nightly_appends_to_the_last_part_or_starts_one(monkeypatch, tmp_path):
    """The current table is stored as parts: a night whose rows replace none of the published ones keeps the
    published parts (the same files: links) and writes its rows into the last part while it holds fewer than
    `PART_ROWS` rows, else into a new part; a night that replaces a row writes the table again as one part. The
    frames equal a full rebuild's after every night (`_both_ways`)."""
    ds = "supplier_invoices"
    monkeypatch.setattr(ingest_mod, "PART_ROWS", 3)
    inc = Home(tmp_path / "inc").raw_table(ds)
    seen: list[list[tuple[str, int]]] = []

    def night(day: int, lines: str):
        def step(zone):
            drop(zone, ds, f"2026-01-{day:02d}", "a.csv", f"{INV}\n{lines}")

        return step

    steps = [
        night(3, "INV1,1,2026-01-01,S1,I1,WR1,1,t\nINV1,2,2026-01-01,S1,I1,WR1,2,t\n"),
        night(4, "INV2,1,2026-01-02,S1,I1,WR1,3,t\n"),  # 2 rows < 3: into part 0
        night(5, "INV3,1,2026-01-03,S1,I1,WR1,4,t\n"),  # part 0 holds 3: part 1
        night(6, "INV4,1,2026-01-04,S1,I1,WR1,5,t\nINV5,1,2026-01-04,S1,I1,WR1,6,t\n"),  # into part 1
        night(7, "INV1,2,2026-01-01,S1,I1,WR1,20,t\n"),  # a correction: the table again, one part
        night(8, "INV6,1,2026-01-05,S1,I1,WR1,7,t\n"),  # part 0 holds 6: part 1
    ]
    inodes: dict[str, int] = {}

    def observed(step):
        def run(zone):
            if inc.exists():  # the parts published by the night before, as they were then
                seen.append(
                    [
                        (p.name, pl.scan_parquet(p).select(pl.len()).collect().item())
                        for p in sorted(inc.iterdir())
                    ]
                )
                inodes.update({f"{len(seen)}:{p.name}": p.stat().st_ino for p in inc.iterdir()})
            step(zone)

        return run

    taken = _both_ways(monkeypatch, tmp_path, ds, [observed(s) for s in steps])
    seen.append(
        [(p.name, pl.scan_parquet(p).select(pl.len()).collect().item()) for p in sorted(inc.iterdir())]
    )
    assert taken == [[], ["event_after"], ["event_after"], ["event_after"], ["event_after"], ["event_after"]]
    assert seen == [
        [("part-00000.parquet", 2)],
        [("part-00000.parquet", 3)],
        [("part-00000.parquet", 3), ("part-00001.parquet", 1)],
        [("part-00000.parquet", 3), ("part-00001.parquet", 3)],
        [("part-00000.parquet", 6)],
        [("part-00000.parquet", 6), ("part-00001.parquet", 1)],
    ]
    assert inodes["3:part-00000.parquet"] == inodes["4:part-00000.parquet"]  # kept as it was: not rewritten
    assert [p.name for p in Home(tmp_path / "full").raw_table(ds).iterdir()] == ["part-00000.parquet"]
    quantities = pl.read_parquet(inc).sort("invoice_id", "line_no")["quantity"].to_list()
    assert quantities == [1.0, 20.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def test_a_home_with_a_single_file_current_moves_it_into_the_folder(monkeypatch, tmp_path):
    """A home written before tables were stored as parts: its `current.parquet` becomes the only part, and the
    next night extends it (its contract record is in the file)."""
    ds = "supplier_invoices"
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, ds, "2026-01-03", "a.csv", f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,5,t\n")
    ingest(landing, home, ds)
    cur = Home(home).raw_table(ds)
    (cur / "part-00000.parquet").rename(cur.parent / "current.parquet")
    cur.rmdir()
    spy = _Spy(monkeypatch)
    drop(landing, ds, "2026-02-03", "a.csv", f"{INV}\nINV2,1,2026-01-01,S1,I1,WR1,6,t\n")
    ingest(landing, home, ds)
    assert spy.calls == ["event_after"]
    assert not (cur.parent / "current.parquet").exists()
    assert pl.read_parquet(cur)["quantity"].to_list() == [5.0, 6.0]


def test_a_current_table_gone_is_rebuilt_from_the_history(tmp_path):
    """A current folder lost (removed by hand, or a publish cut between two renames where the system cannot
    exchange folders): `ensure_empty_tables` does not paper over it with an empty table, and the next ingestion
    rebuilds it from the history although no landing file changed."""
    import shutil

    ds = "supplier_invoices"
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, ds, "2026-01-03", "a.csv", f"{INV}\nINV1,1,2026-01-01,S1,I1,WR1,5,t\n")
    drop(landing, ds, "2026-02-03", "a.csv", f"{INV}\nINV2,1,2026-01-01,S1,I1,WR1,6,t\n")
    ingest(landing, home, ds)
    cur = Home(home).raw_table(ds)
    want = pl.read_parquet(cur)
    shutil.rmtree(cur)
    ingest_mod.ensure_empty_tables(Home(home))
    assert not cur.exists()
    assert ingest(landing, home, ds).drops_processed == []
    assert_frame_equal(pl.read_parquet(cur), want, check_exact=True)


@dataclass
class _File:
    rel_path: str
    change_token: str = "t"
    size: int = 0


class _Parts:
    """An in-memory sink that records its calls (the IO side writes Parquet parts instead); it keeps the rows
    plain (a wide meter file's come with Enum columns: `validate.plain`)."""

    def __init__(self, schema):
        self.schema, self.parts, self.discarded = schema, [], []

    def add(self, rel, df):
        self.parts.append((rel, plain(df)))

    def discard(self, rel):
        self.discarded.append(rel)
        self.parts = [p for p in self.parts if p[0] != rel]

    def scan(self):
        return (
            pl.concat([d for _, d in self.parts]).lazy() if self.parts else pl.LazyFrame(schema=self.schema)
        )


@pytest.mark.parametrize("batch_bytes", [csv_fast.BATCH_BYTES, 150])
def test_staged_drop_equals_the_drop_in_memory(monkeypatch, batch_bytes):
    """Batches of ~150 bytes: each file is several batches; `late.csv` turns out not well-formed in a later
    batch (read again whole, its earlier batches discarded); keys repeat across files and batches."""
    monkeypatch.setattr(csv_fast, "BATCH_BYTES", batch_bytes)
    ds = dataset("supplier_invoices")
    day = date(2026, 2, 3)
    rows = [f"INV{i},1,2026-02-01,S1,I1,WR1,{i},t" for i in range(30)]
    contents = {
        "supplier_invoices/2026-02-03/a.csv": f"{INV}\n" + "\n".join(rows[:20]) + "\n",
        "supplier_invoices/2026-02-03/b.csv": f"{INV}\n"
        + "\n".join(rows[15:25] + ["INV3,1,2026-02-01,S1,I1,WR1,x,t"])
        + "\n",
        "supplier_invoices/2026-02-03/late.csv": f"{INV}\n"
        + "\n".join(
            rows[25:]
            + [f"INV{i},2,2026-02-01,S1,I1,WR1,1,t" for i in range(20)]
            + ['INV99,1,2026-02-01,S"1,I1,WR1,1,t']
        )
        + "\n",
        "supplier_invoices/2026-02-03/bad.csv": "\x00\x01 not a table",
    }
    data = {k: v.encode() for k, v in contents.items()}
    files = [_File(k, size=len(v)) for k, v in data.items()]
    now = datetime(2026, 6, 1, tzinfo=UTC)
    acc, q, recs = drops.process_drop(ds, day, files, data, now)
    sink = _Parts(ds.schema)
    lazy, q2, recs2, in_order = drops.stage_drop(ds, day, files, data, now, sink)
    assert in_order
    assert_frame_equal(lazy.collect(), acc, check_exact=True)
    assert_frame_equal(q2, q, check_exact=True)
    assert_frame_equal(recs2, recs, check_exact=True)
    assert q.filter(pl.col("reason").str.contains("appears 2 times")).height == 10  # INV15..19 in a and b
    # a: INV0-14 (15-19 also in b), b: INV20-24 (its INV3 is a bad row), late.csv once: 5 + 20 + INV99
    assert acc.height == 15 + 5 + 26
    if batch_bytes == 150:
        assert len(sink.parts) > len(files) and "supplier_invoices/2026-02-03/late.csv" in sink.discarded


def test_staged_wide_meter_drop_is_put_in_order():
    """A wide file's readings come column by column: staged, they are in (file, row) order, ties in column
    order — `process_drop`'s rows after a stable sort — and the drop says it is in order."""
    ds = dataset("meter_readings")
    day = date(2025, 1, 3)
    lines = "\n".join(f"2025-01-02 {h:02d}:00:00,{h},{h + 10},{h + 20}" for h in range(5))
    data = {
        f"meter_readings/2025-01-03/{n}.csv": f"{WIDE.replace('M', n)}\n{lines}\n".encode()
        for n in ("b", "a")
    }
    files = [_File(k, size=len(v)) for k, v in data.items()]
    now = datetime(2026, 6, 1, tzinfo=UTC)
    acc, q, recs = drops.process_drop(ds, day, files, data, now)
    lazy, q2, recs2, in_order = drops.stage_drop(ds, day, files, data, now, _Parts(ds.schema))
    got = lazy.collect()
    assert in_order and not acc["_row_number"].is_sorted()  # the point of the test: read column by column
    assert_frame_equal(got, acc.sort(drops.ORDER, maintain_order=True), check_exact=True)
    assert got["value"].head(4).to_list() == [0.0, 10.0, 20.0, 1.0] and got.height == 30
    assert_frame_equal(q2, q, check_exact=True)
    assert_frame_equal(recs2, recs, check_exact=True)
    assert_frame_equal(drops.current_event(ds, lazy, 1).collect(), drops.current_event(ds, lazy).collect())


def test_a_batch_out_of_order_is_sorted_in_place():
    """`_InOrder` puts a batch in row order column by column in the frame it is handed (a column of one value,
    or all empty, is left as it is): the same rows as a stable sort by row number."""
    ds = dataset("meter_readings")
    n = 7
    batch = pl.DataFrame(
        {
            "meter_id": [f"M{i % 3}" for i in range(n)],
            "interval_start": [datetime(2025, 1, 1, i) for i in range(n)],
            "value": [float(i) for i in range(n)],
            "layout": ["wide"] * n,
            "_file": ["meter_readings/2025-01-03/a.csv"] * n,
            "_row_number": [3, 1, 2, 1, 3, 2, 1],
        }
    ).match_to_schema(ds.schema, missing_columns="insert")
    expected = batch.sort("_row_number", maintain_order=True)
    sink = _Parts(ds.schema)
    ordered = drops._InOrder(sink)
    ordered.add("meter_readings/2025-01-03/a.csv", batch)
    assert_frame_equal(sink.parts[0][1], expected, check_exact=True)
    assert sink.parts[0][1]["value"].to_list() == [1.0, 3.0, 6.0, 2.0, 5.0, 0.0, 4.0]
    assert ordered.in_order()


def test_only_rows_within_the_new_keys_ranges_are_candidates_to_come_again(tmp_path: Path) -> None:
    """`current_event_after` looks for keys that come again among the previous rows within the new rows' range
    of each key column (`drops._within`), a filter the Parquet reader answers from row-group statistics. It must
    keep every row that can share a key: the range's ends, and nulls where the new rows have a null."""
    t = [datetime(2026, 1, d) for d in range(1, 31)]
    previous = pl.DataFrame({"meter_id": ["A", "B"] * 15, "at": t, "v": range(30)})
    new = pl.DataFrame({"meter_id": ["B", "C", None], "at": [t[10], t[20], t[29]], "v": [1, 2, 3]})
    kept = previous.filter(drops._within(new.lazy(), ["meter_id", "at"]))
    # at between 11 and 30 January, meter_id between B and C (A excluded; no null meter_id before)
    assert kept["v"].to_list() == [11, 13, 15, 17, 19, 21, 23, 25, 27, 29]
    with_null = pl.concat([previous, pl.DataFrame({"meter_id": [None], "at": [t[29]], "v": [99]})])
    assert 99 in with_null.filter(drops._within(new.lazy(), ["meter_id", "at"]))["v"].to_list()
    assert previous.filter(drops._within(new.clear().lazy(), ["meter_id", "at"])).is_empty()
    # read from Parquet (row groups of 5 rows, in time order: their statistics answer the filter), the same rows
    path = tmp_path / "previous.parquet"
    previous.write_parquet(path, row_group_size=5, statistics=True)
    scan = pl.scan_parquet(path).filter(drops._within(new.lazy(), ["meter_id", "at"]))
    assert scan.collect()["v"].to_list() == kept["v"].to_list()
