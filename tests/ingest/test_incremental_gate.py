"""The raw gate on a current table that extends the published one (`audit_raw(..., since=...)`): it reads only
the new rows (and the keys of the older ones), and must give the same verdict, with the same failure lines, as
the gate over the whole table — for every kind of failure a new drop can bring."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from expectations.gate import Gate
from expectations.raw import audit_raw
from transforms.contracts import dataset
from transforms.ingest.quarantine import FILES_SCHEMA

DS = dataset("meter_readings")
OLD, NEW = date(2025, 1, 3), date(2025, 1, 4)


def _rows(drop: date, readings: list[tuple]) -> pl.DataFrame:
    """(meter, hour of 2025-01-02 or a datetime, value, quality, method) → rows of the lake schema."""
    out = []
    for i, (meter, at, value, quality, method) in enumerate(readings, 1):
        f = f"meter_readings/{drop}/a.csv"
        out.append(
            {
                "meter_id": meter,
                "interval_start": at if isinstance(at, datetime) else datetime(2025, 1, 2, at),
                "value": value,
                "unit": "kWh",
                "quality": quality,
                "method": method,
                "layout": "long",
                "_drop_date": drop,
                "_file": f,
                "_row_number": i,
                "_source_row_id": f"{f}#{i}",
            }
        )
    return pl.DataFrame(out).match_to_schema(DS.schema, missing_columns="insert")


OLD_ROWS = [("M1", 0, 1.0, None, None), ("M1", 1, 2.0, None, None), ("M2", 0, 3.0, "estimated", "linear")]
FILES = pl.DataFrame(schema=FILES_SCHEMA)


def _table(tmp_path: Path, new: list[tuple]) -> Path:
    p = tmp_path / "current.parquet"
    pl.concat([_rows(OLD, OLD_ROWS), _rows(NEW, new)]).write_parquet(p)
    return p


@pytest.mark.parametrize(
    ("new", "fails"),
    [
        ([("M1", 2, 1.0, None, None), ("M2", 1, 1.0, None, None)], []),
        ([("M1", 1, 5.0, None, None)], ["not unique"]),  # a key of the older rows again
        # ... at the new rows' earliest key time, or after it: the older rows before it are not read
        ([("M2", 0, 5.0, None, None), ("M5", 20, 1.0, None, None)], ["not unique"]),
        ([("M5", 20, 1.0, None, None), ("M1", 1, 5.0, None, None)], ["not unique"]),
        ([("M1", 3, 1.0, None, None), ("M2", 2, 1.0, None, None)], []),  # after every older one
        ([("M3", 0, 1.0, None, None), ("M3", 0, 2.0, None, None)], ["not unique"]),  # twice among the new
        ([(None, 3, 1.0, None, None), ("M3", 1, None, None, None)], ["meter_id has 1", "value has 1"]),
        ([("M3", 0, 1.0, "estimated", None)], ["gave 1"]),  # the contract's SQL rule
        ([(None, 5, 1.0, None, None), (None, 5, 1.0, None, None)], ["not unique", "meter_id has 2"]),
    ],
)
def test_gate_on_new_rows_gives_the_whole_table_verdict(tmp_path, new, fails):
    table = _table(tmp_path, new)
    whole = audit_raw(DS, table, FILES)
    assert audit_raw(DS, table, FILES, since=NEW) == whole
    assert len(whole.failures) == len(fails) and all(
        any(f in line for line in whole.failures) for f in fails
    ), whole.failures
    assert whole.passed == (not fails)


def test_gate_since_reads_only_the_new_rows_for_row_checks(tmp_path):
    """A fault among the older rows (audited when they were published) is not looked at again; it is among
    the whole table's verdict. This is what makes the nightly gate proportional to the drop."""
    p = tmp_path / "current.parquet"
    pl.concat(
        [_rows(OLD, [("M1", 0, None, None, None)]), _rows(NEW, [("M1", 1, 1.0, None, None)])]
    ).write_parquet(p)
    assert not audit_raw(DS, p, FILES).passed
    assert audit_raw(DS, p, FILES, since=NEW) == Gate("raw_gate")
