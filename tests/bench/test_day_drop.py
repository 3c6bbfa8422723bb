"""The bench's one-real-day landing (tests/bench/day_drop.py): the last drop's day-stamped files keep exactly the
rows of the day, with the cells the month's file holds for them; every other file is the landing's own."""

from __future__ import annotations

import os
from datetime import date

import polars as pl

from tests.bench.day_drop import DAY_COLUMNS, day_landing
from transforms.contracts import dataset as contract
from transforms.ingest.readers import read_table
from transforms.ingest.validate import header_names_enough

DROP, DAY = date(2026, 11, 3), date(2026, 10, 1)


def _cells(path, rel) -> pl.DataFrame:
    ds = rel.split("/", 1)[0]
    table = read_table(rel, path.read_bytes(), ds, header_names_enough(contract(ds)), fast=False)
    return table.frame


def test_the_day_drop_holds_the_days_rows_as_the_month_file_wrote_them(demo_landing, demo_home, tmp_path):
    out = tmp_path / "day"
    summary = day_landing(demo_landing, demo_home, out, DROP, DAY)
    assert summary["files_linked_whole"] == []
    assert set(summary["rows_kept"]) == set(DAY_COLUMNS)
    for ds, column in DAY_COLUMNS.items():
        raw = pl.scan_parquet(demo_home.raw_table(ds)).filter(pl.col("_drop_date") == DROP)
        on_day = raw.filter(pl.col(column).cast(pl.Date) == DAY).collect()
        assert on_day.height == summary["rows_kept"][ds] < raw.select(pl.len()).collect().item()
        for rel in sorted(on_day["_file"].unique()):
            month, day = _cells(demo_landing / rel, rel), _cells(out / rel, rel)
            rows = sorted(on_day.filter(pl.col("_file") == rel)["_row_number"].unique())
            # the same cells, in the same order, numbered from 1 again
            want = month.filter(pl.col("_row_number").is_in(rows)).drop("_row_number")
            assert day.drop("_row_number").equals(want), rel
    assert summary["rows_kept"]["supplier_invoices"] > 0 and summary["rows_kept"]["meter_readings"] > 0
    before = [p.relative_to(demo_landing) for p in demo_landing.rglob("*") if p.is_file()]
    for rel in before:
        if not (rel.parts[0] in DAY_COLUMNS and rel.parts[1] == DROP.isoformat()):
            assert os.path.samefile(demo_landing / rel, out / rel), rel
