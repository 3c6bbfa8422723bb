"""The hostile corpus (tests/ingest/hostile/corpus.py) through real ingestion: every file gets its expected
accounting, status and reason; rows read = accepted + quarantined everywhere; nothing bad reaches the lake."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from tests.ingest.helpers import files, ingest, quarantine
from tests.ingest.hostile.corpus import CASES, build, rel_path

DATASETS = sorted({c.dataset for c in CASES})


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    landing, home = root / "landing", root / "home"
    build(landing)
    results = {ds: ingest(landing, home, ds) for ds in DATASETS}
    return home, results


def test_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert len({c.file for c in CASES}) == len(CASES)


def test_gate_passes_and_every_file_is_recorded(lake):
    home, results = lake
    assert all(r.gate.passed for r in results.values()), {d: r.gate.details for d, r in results.items()}
    recorded = set(pl.concat([files(home, d) for d in DATASETS])["file"])
    assert {rel_path(i, c) for i, c in enumerate(CASES)} <= recorded


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c.name for c in CASES])
def test_hostile_case(lake, i):
    home, _ = lake
    case = CASES[i]
    rel = rel_path(i, case)
    rec = files(home, case.dataset).filter(pl.col("file") == rel).row(0, named=True)
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
        cur = pl.read_parquet(home / "lake" / "raw" / d / "current.parquet")
        assert cur.height > 0
        for name, dtype in cur.schema.items():
            col = cur[name].drop_nulls()
            if dtype.is_float():
                assert all(math.isfinite(v) for v in col), f"{name}: NaN or ±inf in the lake"
                assert not any(math.copysign(1, v) < 0 and v == 0 for v in col), f"{name}: -0 in the lake"
            elif dtype == pl.String:
                assert not col.str.contains(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]").any(), name
                assert not col.str.contains("\ufffd").any(), f"{name}: mojibake replacement characters"
                assert (col.str.len_chars() <= 10_000).all(), name
                if name not in ("_file",):
                    assert not col.str.starts_with("[").any(), f"{name}: a JSON array stored as a value"
