"""A long or trend-log meter file validated per distinct value (transforms/ingest/meter_long.py) gives exactly
what the contract's validation of the same table gives: the same accepted rows in the same order, the same
quarantine records and notes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from polars.testing import assert_frame_equal

from transforms.contracts import dataset
from transforms.ingest import meter_long
from transforms.ingest.readers import read_table
from transforms.ingest.validate import header_names_enough, validate, validate_read

DAY = date(2025, 12, 31)
DS = dataset("meter_readings")


def _both(name: str, data: bytes):
    t = read_table(name, data, DS.name, header_names_enough(DS))
    assert isinstance(t, meter_long.LongRead)
    rel = f"meter_readings/{DAY}/{name}"
    fast = validate_read(DS, t, DAY, rel)
    ref = validate(DS, t, DAY, rel)
    assert_frame_equal(fast.accepted, ref.accepted)
    assert_frame_equal(fast.quarantine, ref.quarantine)
    assert fast.notes == ref.notes
    assert ref.accepted.height + ref.quarantine.height == t.rows_read
    return fast


def _stamps(n: int) -> list[str]:
    return [f"2025-01-01 {i // 4:02d}:{15 * (i % 4):02d}:00" for i in range(n)]


def test_clean_long_file() -> None:
    rows = [f"M{m},{ts},{m + i / 7:.3f},kWh,measured" for m in range(3) for i, ts in enumerate(_stamps(12))]
    fast = _both("long.csv", ("meter_id,interval_start,value,unit,quality\n" + "\n".join(rows)).encode())
    assert fast.quarantine.height == 0 and fast.accepted.height == 36
    assert fast.accepted["_source_row_id"][0] == f"meter_readings/{DAY}/long.csv#1"


def test_bad_cells_of_every_column() -> None:
    text = (
        "meter_id,interval_start,value,unit,quality,method,memo\n"
        "M1,2025-01-01 00:00,1.5,kWh,measured,,x\n"
        "M1,2025-01-01 00:15, 2 ,kWh,Estimated,linear,\n"  # spaces around: accepted by validation
        "M1,2025-01-01 00:30,abc,kWh,,,\n"
        "M1,2025-01-01 00:45,-1,kWh,,,\n"
        "M1,2025-02-30 00:00,1,kWh,,,\n"
        "M1,2025-01-01 01:00+08:00,1,kWh,,,\n"
        "M1,2025-01-01 01:15Z,1,kVAh,,,\n"
        ",2025-01-01 01:30,1,kWh,,,\n"
        "一号表,２０２５-01-01 01:45,１,千瓦时,,,\n"
        "M2,2025-01-01 00:00,NaN,MWh,estimated,,\n"  # estimated without its method
        "M2,2025-01-01 00:15,1e400,MWh,guessed,,\n"
        "M2,2025-01-01 00:30,7,,measured,,\n"
        "M2,2025-01-01 00:45,1,MWh,  MEASURED ,,\n"
    )
    fast = _both("long.csv", text.encode())
    assert fast.accepted.height > 3 and fast.quarantine.height > 5
    assert "ignored columns not in the contract: memo" in fast.notes


def test_row_stamps_and_duplicates() -> None:
    rows = ["meter_id,interval_start,value,stamp"]
    rows += [f"M1,{ts},1,end" for ts in _stamps(6)]
    rows += [f"M2,{ts},2,midpoint" for ts in _stamps(6)]
    rows += ["M3,2025-01-01 00:00,1,end", "M1,2025-01-01 00:15,1,start"]  # a lone stamp; a repeated key
    _both("long.csv", "\n".join(rows).encode())


def test_trend_log_with_gaps_and_chinese_headers() -> None:
    rows = ["点位名称,时间,数值"]
    rows += [f"GD.P{p},{ts},{'' if i == 3 else i}" for p in range(2) for i, ts in enumerate(_stamps(8))]
    _both("ebo.csv", "\n".join(rows).encode("gb18030"))


def test_json_long_file() -> None:
    objs = [
        {"meter_id": "M1", "interval_start": ts, "value": i, "unit": "kWh"} for i, ts in enumerate(_stamps(5))
    ]
    objs.append(
        {"meter_id": "M1", "interval_start": "2025-01-02 00:00", "value": [1, 2]}
    )  # an array: unknown
    _both("long.json", json.dumps(objs).encode())


def test_many_suspects_take_the_contract_validation(monkeypatch) -> None:
    monkeypatch.setattr(meter_long, "_SUSPECT_MIN", 5)
    rows = [f"M1,{ts}, {i} ,kWh" for i, ts in enumerate(_stamps(40))]
    fast = _both("long.csv", ("meter_id,interval_start,value,unit\n" + "\n".join(rows)).encode())
    assert fast.accepted.height == 40


@pytest.mark.parametrize("n", [1, 30])
def test_repetitive_values(n: int) -> None:
    """Values that repeat (a meter at zero) are judged per distinct value too."""
    rows = [f"M{i % n},{ts},0,kWh" for i, ts in enumerate(_stamps(40))]
    _both("long.csv", ("meter_id,interval_start,value,unit\n" + "\n".join(rows)).encode())
