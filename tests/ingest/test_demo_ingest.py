"""The demo landing zone ingests with exactly the accepted/quarantined counts its manifest promises (per file
and per dataset), and a second ingestion changes nothing."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from orchestration.demo import generate
from orchestration.lib.home import Home
from orchestration.lib.ingest import ingest_dataset
from orchestration.lib.storage import Landing
from transforms.contracts import datasets


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-ingest")
    landing, home = root / "landing", Home(root / "home")
    manifest = generate(landing, scale=0.3, seed=11)
    zone = Landing.open(str(landing))
    listing = list(zone.files())
    results = {n: ingest_dataset(zone, home, n, listing=listing) for n in datasets()}
    return landing, home, manifest, results, zone, listing


def test_every_file_accounted_as_the_manifest_says(demo_lake):
    _, home, manifest, _, _, _ = demo_lake
    got = pl.concat([pl.read_parquet(home.raw_dir(n) / "_files.parquet") for n in datasets()])
    got = {r["file"]: r for r in got.iter_rows(named=True)}
    expected = manifest.files()
    assert set(got) == {f.file for f in expected}
    for f in expected:
        g = got[f.file]
        assert (g["rows_read"], g["rows_accepted"], g["rows_quarantined"], g["file_status"]) == (
            f.expected_rows_read,
            f.expected_accepted,
            f.expected_quarantined,
            f.expected_status,
        ), f.file
        assert g["rows_read"] == g["rows_accepted"] + g["rows_quarantined"]


def test_dataset_totals_and_current_rows(demo_lake):
    _, home, manifest, results, _, _ = demo_lake
    for name, d in manifest.datasets.items():
        r = results[name]
        assert (r.rows_accepted, r.rows_quarantined) == (d.expected_accepted, d.expected_quarantined), name
        assert pl.read_parquet(home.raw_table(name)).height == d.expected_current_rows, name
        assert r.gate.passed, (name, r.gate.details)


def test_every_deliberate_fault_is_quarantined_at_its_row(demo_lake):
    _, home, manifest, _, _, _ = demo_lake
    q = pl.concat([pl.read_parquet(home.raw_dir(n) / "_quarantine.parquet") for n in datasets()])
    rows = set(q.select("file", "row_number").iter_rows())
    for f, bad in manifest.faults():
        assert (f.file, bad.row_number) in rows, (f.file, bad)
    assert q["reason"].null_count() == 0 and (q["reason"].str.len_chars() > 10).all()


def test_second_ingestion_changes_nothing(demo_lake):
    _, home, _, _, zone, listing = demo_lake

    def fingerprint():
        return {p.as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in home.raw.rglob("*.parquet")}

    before = fingerprint()
    again = [ingest_dataset(zone, home, n, listing=listing) for n in datasets()]
    assert all(not r.drops_processed for r in again)
    assert fingerprint() == before
