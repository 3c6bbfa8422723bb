"""The hostile corpus (tests/ingest/hostile/corpus.py + extra.py) through real ingestion: every landing entry
gets its expected accounting, status and reason; rows read = accepted + quarantined everywhere; nothing bad
reaches the lake; a file too large is never read; object keys that leave the zone are never read."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import polars as pl
import pytest

from orchestration.lib.storage import Landing, LandingFile, _classify
from tests.ingest.helpers import current, files, ingest, quarantine
from tests.ingest.hostile.corpus import all_cases, build, csv_of, entry, inv_row
from transforms.reports.safe import neutralise

CASES = all_cases()
DATASETS = sorted({c.dataset for c in CASES})


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    landing, home = root / "landing", root / "home"
    build(landing, root / "outside")
    results = {ds: ingest(landing, home, ds) for ds in DATASETS}
    return home, results


def test_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({c.file for c in CASES}) == len(CASES)
    assert len({c.name for c in CASES}) == len(CASES)


def test_gate_passes_and_every_entry_is_recorded(lake):
    home, results = lake
    assert all(r.gate.passed for r in results.values()), {d: r.gate.details for d, r in results.items()}
    recorded = set(pl.concat([files(home, d) for d in DATASETS])["file"])
    expected = {entry(i, c) for i, c in enumerate(CASES) if c.listed}
    assert expected <= recorded, expected - recorded


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c.name for c in CASES])
def test_hostile_case(lake, i):
    home, _ = lake
    case = CASES[i]
    rel = entry(i, case)
    recs = files(home, case.dataset).filter(pl.col("file") == rel)
    if not case.listed:  # hidden and editor lock files are not data: not read, not recorded
        drop_folder = rel.rsplit("/", 1)[0] + "/"
        assert files(home, case.dataset).filter(pl.col("file").str.starts_with(drop_folder)).is_empty()
        return
    rec = recs.row(0, named=True)
    got = (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"], rec["file_status"])
    assert got == (case.read, case.accepted, case.quarantined, case.status), rec
    reasons = quarantine(home, case.dataset).filter(pl.col("file") == rel)["reason"].to_list()
    if case.reason:
        assert any(case.reason in r for r in reasons), reasons
    if case.status != "ok":
        assert reasons, "a file that is not ok has a reason"
        assert rec["reasons"] and json.loads(rec["reasons"]), rec["reasons"]
    if case.note:
        assert case.note in (rec["notes"] or ""), rec["notes"]
    if case.make is not None and case.status == "rejected":  # links, FIFOs, huge files: never read
        assert rec["sha256"] is None


def test_rows_read_equal_accepted_plus_quarantined_everywhere(lake):
    home, _ = lake
    for d in DATASETS:
        f = files(home, d)
        assert (f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]).all()
        rows_lost = int((f["rows_read"] - f["rows_accepted"] - f["rows_quarantined"]).abs().sum())
        assert rows_lost == 0


def test_nothing_bad_reaches_the_lake(lake):
    home, _ = lake
    for d in DATASETS:
        cur = pl.read_parquet(home / "lake" / "raw" / d / "current")
        assert cur.height > 0
        for name, dtype in cur.schema.items():
            col = cur[name].drop_nulls()
            if dtype.is_float():
                assert all(math.isfinite(v) for v in col), f"{name}: NaN or ±inf in the lake"
                assert not any(math.copysign(1, v) < 0 and v == 0 for v in col), f"{name}: -0 in the lake"
            elif dtype == pl.String:
                assert not col.str.contains(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]").any(), name
                assert not col.str.contains("\ufffd").any(), f"{name}: mojibake replacement characters"
                assert not col.str.contains("[\ud800-\udfff]").any(), f"{name}: lone surrogates"
                assert (col.str.len_chars() <= 10_000).all(), name
                if name not in ("_file",):
                    assert not col.str.starts_with("[").any(), f"{name}: a JSON array stored as a value"
            elif dtype in (pl.Date, pl.Datetime):
                years = col.dt.year()
                assert years.is_between(1900, 2100).all(), f"{name}: a placeholder date in the lake"
    inv = current(home, "supplier_invoices")
    assert not inv["invoice_id"].str.contains("OUTSIDE|LINKED").any(), "a linked file was read"


def test_formula_strings_are_data_and_neutralised_at_the_output_boundary(lake):
    home, _ = lake
    names = current(home, "suppliers").filter(pl.col("supplier_id").str.contains("-[1-4]$"))["name"].to_list()
    assert len(names) == 4 and all(n[0] in "=+@-" for n in names)
    assert all(str(neutralise(n)).startswith("'") for n in names)


class _Keys(Landing):
    """An object store's listing (S3-like keys, any string) through the real key classification."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects, self.uri, self.reads = objects, "mem://", []

    def files(self) -> Iterator[LandingFile]:
        for key, data in sorted(self.objects.items()):
            f = _classify(key, len(data), str(len(data)))
            if f:
                yield f

    def read(self, rel_path: str) -> bytes:
        self.reads.append(rel_path)
        return self.objects[rel_path]


@pytest.mark.parametrize(
    "key",
    [
        "supplier_invoices/2026-03-03/../../etc/passwd.csv",
        "supplier_invoices/2026-03-03/./a.csv",
        "supplier_invoices//2026-03-03/a.csv",
        "supplier_invoices/2026-03-03/sub/a.csv",
        "supplier_invoices/a.csv",
        "supplier_invoices/2026-03-03\\..\\a.csv",
    ],
)
def test_object_keys_that_leave_their_folder_are_recorded_never_read(tmp_path, key):
    zone = _Keys(
        {key: csv_of(inv_row("K", 1)), "supplier_invoices/2026-03-04/ok.csv": csv_of(inv_row("OK", 1))}
    )
    from orchestration.lib.home import Home
    from orchestration.lib.ingest import ingest_dataset

    ingest_dataset(zone, Home(tmp_path), "supplier_invoices")
    assert zone.reads == ["supplier_invoices/2026-03-04/ok.csv"]
    rec = files(tmp_path, "supplier_invoices").filter(pl.col("file") == key).row(0, named=True)
    assert rec["file_status"] == "rejected" and rec["sha256"] is None
    assert current(tmp_path, "supplier_invoices")["invoice_id"].to_list() == ["OK-1"]
