"""A small file's columns are validated in one plan (up to `validate.ONE_PLAN_ROWS` rows), a large one's column by
column (values parsed once per distinct value, messages built for suspect rows only). Both give the same accepted rows,
quarantine records and notes: checked here on every file of the hostile corpus, a sixth of the demo's landing zone
(scale 0.02) and the CSV texts of the both-readers test, each read by both readers."""

from __future__ import annotations

from polars.testing import assert_frame_equal

from tests.ingest.hostile.corpus import build
from tests.ingest.test_fast_path import DAY, TEXTS, _landing_files
from transforms.contracts import dataset
from transforms.ingest import validate as validate_module
from transforms.ingest.readers import FileRejected, read_table
from transforms.ingest.validate import header_names_enough, validate


def _same(ds_name: str, rel: str, data: bytes, monkeypatch) -> int:
    """How many of the two readers' tables of this file were compared (0: the file is rejected)."""
    ds = dataset(ds_name)
    compared = 0
    for fast in (True, False):
        try:
            table = read_table(rel, data, ds.name, header_names_enough(ds), fast=fast)
        except FileRejected:
            continue
        with monkeypatch.context() as m:  # each way whatever the file's size
            m.setattr(validate_module, "ONE_PLAN_ROWS", 1 << 40)
            one_plan = validate(ds, table, DAY, rel)
            m.setattr(validate_module, "ONE_PLAN_ROWS", -1)
            by_column = validate(ds, table, DAY, rel)
        assert one_plan.notes == by_column.notes, rel
        assert_frame_equal(one_plan.accepted, by_column.accepted, check_exact=True)
        assert_frame_equal(one_plan.quarantine, by_column.quarantine, check_exact=True)
        compared += 1
    return compared


def test_csv_texts_validate_the_same_in_one_plan(monkeypatch):
    compared = sum(
        _same("supplier_invoices", name, text if isinstance(text, bytes) else text.encode(), monkeypatch)
        for name, text in TEXTS.items()
    )
    assert compared >= len(TEXTS)


def test_hostile_corpus_validates_the_same_in_one_plan(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    build(landing, tmp_path / "outside")
    files = _landing_files(landing)
    assert len(files) > 80
    assert sum(_same(ds, rel, data, monkeypatch) for ds, rel, data in files) > 80


def test_demo_landing_validates_the_same_in_one_plan(tmp_path, monkeypatch):
    from orchestration.demo import generate

    generate(tmp_path / "landing", scale=0.02, seed=7)
    # every sixth file but the meter readings' (the wide files are large: validated by their own reader)
    files = [f for f in _landing_files(tmp_path / "landing") if f[0] != "meter_readings"][::6]
    assert len(files) > 20
    compared = sum(_same(ds, rel, data, monkeypatch) > 0 for ds, rel, data in files)
    assert compared >= len(files) - 3  # the demo's rejected files (UTF-16, ...)


def test_bad_cells_get_their_messages_in_one_plan(monkeypatch):
    """Hand case (a bad line number, an impossible date, an unknown unit, an Excel serial, a bad amount, an
    empty required cell, a number beyond float range): the one plan's messages; rows read = accepted +
    quarantined."""
    ds = dataset("supplier_invoices")
    table = read_table(
        "x.csv", TEXTS["bad_values.csv"].encode(), ds.name, header_names_enough(ds), fast=False
    )
    v = validate(ds, table, DAY, "x.csv")
    assert v.accepted.height + v.quarantine["row_number"].n_unique() == table.rows_read == 4
    reasons = " | ".join(v.quarantine["reason"].to_list())
    for expected in (
        "not a whole number: 'x'",
        "impossible date: '2025-02-30'",
        "unknown unit 'parsec'",
        "'45000' looks like an Excel date serial number",
        "not a number: '1,2,3'",
        "required value missing in column installation_id",
        "number '1e999' is beyond the range",
    ):
        assert expected in reasons, reasons
