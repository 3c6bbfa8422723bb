"""meter_readings in its three layouts (long, PME-style wide, EBO-style trend log) through the one ingestion path:
hand-made files, each bad case with its reason asserted, and rows read = accepted + quarantined for every file
(a wide file counts its non-empty cells)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from tests.ingest.helpers import current, drop, files, ingest, quarantine
from transforms.contracts import dataset
from transforms.ingest.drops import process_drop
from transforms.ingest.meter_layouts import detect_layout

DAY = "2025-01-02"
M1 = "GROUP.METER01#Real Energy Into the Load#kWh"
M2 = "GROUP.METER02#Real Energy Into the Load#MWh"


@dataclass
class _File:
    rel_path: str
    change_token: str = "t"
    size: int = 0


def _run(name: str, content: str | bytes, ds: str = "meter_readings"):
    """(accepted, quarantine, file record) of one file in one drop, through the pure drop step."""
    rel = f"{ds}/{DAY}/{name}"
    data = content.encode() if isinstance(content, str) else content
    acc, q, recs = process_drop(
        dataset(ds), date(2025, 1, 2), [_File(rel)], {rel: data}, datetime(2025, 1, 2)
    )
    (rec,) = recs.iter_rows(named=True)
    assert rec["rows_read"] == rec["rows_accepted"] + rec["rows_quarantined"]
    return acc, q, rec


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_layout_detection_by_headers() -> None:
    assert detect_layout(["Timestamp", M1]) == "wide"
    assert detect_layout(["时间", "A#kWh 正向有功#kWh"]) == "wide"
    assert detect_layout(["point_name", "timestamp", "value"]) == "trend_log"
    assert detect_layout(["点位名称", "时间", "数值"]) == "trend_log"
    assert detect_layout(["meter_id", "interval_start", "value"]) == "long"
    assert detect_layout(["表计编号", "时间", "读数"]) == "long"


# --- wide (PME-style) ---------------------------------------------------------------------------------------

WIDE = f"""Timestamp,{M1},{M2},Comment
2025-01-01 00:00:00,1.5,0.002,ok
2025-01-01 00:15:00,,0.003,
2025-01-01 00:30:00,abc,-4,
2025-01-01 00:45:00+08:00,"1,000.5",0.002,
"""


def test_wide_one_reading_per_non_empty_cell() -> None:
    acc, q, rec = _run("pme.csv", WIDE)
    # 8 cells, 1 empty (a gap): 7 readings, 5 accepted, 2 quarantined
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (7, 5, 2)
    assert "1 empty cell(s) are gaps" in rec["notes"]
    assert "Comment" in rec["notes"]  # a column that is not a meter measurement is ignored and named
    got = acc.sort("meter_id", "interval_start").select(
        "meter_id",
        "interval_start",
        "value",
        "unit",
        "source_column",
        "layout",
        "_row_number",
        "utc_offset_minutes",
    )
    assert got.rows() == [
        ("GROUP.METER01", datetime(2025, 1, 1, 0, 0), 1.5, "kWh", M1, "wide", 1, None),
        ("GROUP.METER01", datetime(2025, 1, 1, 0, 45), 1000.5, "kWh", M1, "wide", 4, 480),
        ("GROUP.METER02", datetime(2025, 1, 1, 0, 0), 0.002, "MWh", M2, "wide", 1, None),
        ("GROUP.METER02", datetime(2025, 1, 1, 0, 15), 0.003, "MWh", M2, "wide", 2, None),
        ("GROUP.METER02", datetime(2025, 1, 1, 0, 45), 0.002, "MWh", M2, "wide", 4, 480),
    ]
    # the quarantine record gives the line as row_number and the header as column
    assert q.sort("column").select("row_number", "column", "reason").rows() == [
        (3, M1, "value: not a number: 'abc' (use '.' for decimals; ',' only between thousands)"[7:]),
        (3, M2, "must be at least 0, got -4 (negative values are not allowed here)"),
    ]
    assert json.loads(q.sort("column")["raw"][0])["source_column"] == M1


def test_wide_xlsx_title_rows_midnight_and_formula_without_cached_value() -> None:
    data = _xlsx(
        [
            ["PME export, site A"],
            [],
            ["Timestamp", M1, M2],
            [datetime(2025, 1, 1, 0, 0), 1, 2],  # Excel shows midnight as the date alone
            [datetime(2025, 1, 1, 0, 15), "=B4*2", 3],  # a formula never calculated: unknown, not a gap
            [datetime(2025, 1, 1, 0, 30), None, 4],
        ]
    )
    acc, q, rec = _run("pme.xlsx", data)
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (5, 4, 1)
    assert "skipped 2 title row(s)" in rec["notes"]
    assert acc.filter(pl.col("_row_number") == 1)["interval_start"].to_list() == [datetime(2025, 1, 1)] * 2
    (bad,) = q.iter_rows(named=True)
    assert (bad["row_number"], bad["column"]) == (2, M1)
    assert bad["reason"].startswith("formula without a cached value")


def test_wide_same_meter_twice_is_ambiguous() -> None:
    other = "GROUP.METER01#Real Energy Out of the Load#kWh"
    acc, q, rec = _run("pme.csv", f"Timestamp,{M1},{other}\n2025-01-01 00:00,1,2\n2025-01-01 00:15,3,\n")
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (3, 1, 2)
    assert sorted(q["column"]) == sorted([M1, other])  # the header, as for every record of a wide file
    places = (
        f"meter_readings/{DAY}/pme.csv row 1 column {M1}; meter_readings/{DAY}/pme.csv row 1 column {other}"
    )
    assert q["reason"].str.contains(f"appears 2 times in this drop ({places})", literal=True).all()
    assert acc["value"].to_list() == [3.0]


def test_wide_bad_timestamp_quarantines_every_reading_of_its_line() -> None:
    acc, q, rec = _run("pme.csv", f"Timestamp,{M1},{M2}\n2025-02-30 00:00,1,2\n2025-01-01 00:15,3,4\n")
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (4, 2, 2)
    assert q.select("row_number", "column").sort("column").rows() == [(1, M1), (1, M2)]
    assert q["reason"].str.starts_with("impossible timestamp: '2025-02-30 00:00'").all()


# --- trend log (EBO-style) ----------------------------------------------------------------------------------


def test_trend_log_midpoint_stamps_move_to_the_interval_start() -> None:
    text = (
        "点位名称,时间,数值,stamp\n"
        "EBO.P1,2025-01-01 00:30:00,10,midpoint\n"
        "EBO.P1,2025-01-01 01:30:00,11,midpoint\n"
        "EBO.P1,2025-01-01 02:30:00,,midpoint\n"  # an empty cell: a gap, not a reading
        "EBO.P1,2025-01-01 03:30:00,13,midpoint\n"
        "EBO.P2,2025-01-01 00:15:00,5,end\n"
        "EBO.P2,2025-01-01 00:30:00,6,end\n"
        "EBO.P3,2025-01-01 00:00:00,7,\n"  # no declaration: the meter's stamp applies (interval engine)
    )
    acc, q, rec = _run("ebo.csv", text)
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (6, 6, 0)
    assert "1 row(s) without a value are gaps" in rec["notes"]
    got = acc.sort("meter_id", "interval_start").select(
        "meter_id", "interval_start", "stamped_at", "stamp", "layout"
    )
    assert got.rows() == [
        ("EBO.P1", datetime(2025, 1, 1, 0, 0), datetime(2025, 1, 1, 0, 30), "start", "trend_log"),
        ("EBO.P1", datetime(2025, 1, 1, 1, 0), datetime(2025, 1, 1, 1, 30), "start", "trend_log"),
        ("EBO.P1", datetime(2025, 1, 1, 3, 0), datetime(2025, 1, 1, 3, 30), "start", "trend_log"),
        ("EBO.P2", datetime(2025, 1, 1, 0, 0), datetime(2025, 1, 1, 0, 15), "start", "trend_log"),
        ("EBO.P2", datetime(2025, 1, 1, 0, 15), datetime(2025, 1, 1, 0, 30), "start", "trend_log"),
        ("EBO.P3", datetime(2025, 1, 1, 0, 0), None, None, "trend_log"),
    ]


def test_change_of_value_log_is_quarantined_whole() -> None:
    text = (
        "point_name,timestamp,value\n"
        "EBO.P1,2025-01-01 00:00:00,10\n"
        "EBO.P1,2025-01-01 00:15:00,11\n"  # a regular point does not save the file
        "EBO.P2,2025-01-01 00:03:17,10\n"
        "EBO.P2,2025-01-01 00:11:42,11\n"
        "EBO.P2,2025-01-01 00:15:00,12\n"
    )
    acc, q, rec = _run("cov.csv", text)
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (5, 0, 5)
    assert rec["file_status"] == "rejected"
    assert q["row_number"].to_list() == [1, 2, 3, 4, 5]
    assert set(q["column"]) == {"interval_start"}
    (reason,) = set(q["reason"])
    assert reason.startswith(
        "change-of-value log, not interval data: the timestamps of point EBO.P2 are irregular"
    )
    assert "export an interval (periodic) trend log" in reason
    assert json.loads(q["raw"][2]) == {
        "point_name": "EBO.P2",
        "timestamp": "2025-01-01 00:03:17",
        "value": "10",
    }


def test_trend_log_with_gaps_is_interval_data() -> None:
    text = "point_name,timestamp,value\nP,2025-01-01 00:00,1\nP,2025-01-01 00:15,1\nP,2025-01-01 01:00,1\n"
    acc, q, rec = _run("gaps.csv", text)
    assert (rec["rows_accepted"], rec["rows_quarantined"]) == (3, 0)


# --- long ---------------------------------------------------------------------------------------------------


def test_long_layout_bad_rows_each_with_its_reason() -> None:
    text = (
        "meter_id,interval_start,value,unit,quality,method\n"
        "M1,2025-01-01 00:00,1,kWh,measured,\n"
        "M1,2025-01-01 00:15,1,kWh,estimated,\n"  # estimated without its method
        "M1,2025-01-01 00:30,1,kWh,estimated,linear\n"
        "M1,2025-01-01 00:45,2,kWh,,\n"  # duplicate stamp (row 5)
        "M1,2025-01-01 00:45,3,kWh,,\n"
        "M1,2025-01-01 01:00,-1,kWh,,\n"  # negative consumption
        "M1,2025-01-01 01:15,1e999,kWh,,\n"  # not finite
        "M1,01/01/2025 01:30,1,kWh,,\n"  # not a timestamp form of the spec
        "M1,2025-01-01T01:45:00Z,1,kWh,,\n"  # an offset: kept apart
        "M1,2025-01-01 02:00,1,W,,\n"  # not an energy unit
    )
    acc, q, rec = _run("long.csv", text)
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (10, 3, 7)
    assert acc.sort("_row_number").select("_row_number", "utc_offset_minutes", "layout").rows() == [
        (1, None, "long"),
        (3, None, "long"),
        (9, 0, "long"),
    ]
    reasons = dict(q.select("row_number", "reason").iter_rows())
    assert reasons[2].startswith("an estimated reading needs its estimation method")
    assert "appears 2 times in this drop" in reasons[4] and "appears 2 times in this drop" in reasons[5]
    assert "negative values are not allowed" in reasons[6]
    assert "beyond the range of a 64-bit float" in reasons[7]
    assert reasons[8].startswith("not a timestamp: '01/01/2025 01:30'")
    assert reasons[10].startswith("unknown unit 'W'")


def test_long_row_stamp_without_an_inferable_interval() -> None:
    text = "meter_id,interval_start,value,stamp\nM1,2025-01-01 00:30,1,midpoint\nM2,2025-01-01 00:00,1,\n"
    acc, q, rec = _run("long.csv", text)
    assert (rec["rows_accepted"], rec["rows_quarantined"]) == (1, 1)
    (reason,) = q["reason"]
    assert reason.startswith("stamp 'midpoint' needs the logging interval")


def test_long_missing_required_column_quarantines_every_row() -> None:
    acc, q, rec = _run("long.csv", "meter_id,value\nM1,1\nM1,2\n")
    assert (rec["rows_read"], rec["rows_quarantined"]) == (2, 2)
    assert q["reason"].str.contains("required column interval_start").all()


# --- the other new datasets ---------------------------------------------------------------------------------


def test_green_certificates_months_and_status() -> None:
    text = (
        "绿证编号,电量,生产年月,状态,cancelled_for_installation_id,cancelled_for_period\n"
        "GEC-1,100,2025-06,cancelled,INST-1,2026\n"
        "GEC-2,50,2025年7月,held,,\n"
        "GEC-3,50,2025,held,,\n"  # a year is not a month
        "GEC-4,0,2025-06,held,,\n"  # 1 certificate = 1 MWh: nothing certified is not a batch
        "GEC-5,10,2025-06,claimed,,\n"
    )
    acc, q, rec = _run("gec.csv", text, "green_certificates")
    assert acc.select("certificate_batch_id", "generation_month", "status").rows() == [
        ("GEC-1", "2025-06", "cancelled"),
        ("GEC-2", "2025-07", "held"),
    ]
    reasons = dict(q.select("row_number", "reason").iter_rows())
    assert reasons[3] == "not a month: '2025' (use YYYY-MM)"
    assert reasons[4].startswith("must be greater than 0")
    assert reasons[5].startswith("'claimed' is not one of: held, cancelled, transferred")


def test_meters_parks_and_credits_read_with_chinese_headers() -> None:
    acc, q, _ = _run(
        "meters.csv",
        "表计编号,installation_id,能源类型,用途,register,stamp,interval_minutes,unit,multiplier\n"
        "GROUP.METER01,INST-1,电力,grid_import,cumulative,start,15,kWh,80\n"
        "PV1,INST-1,electricity,solar,interval,start,15,kWh,1\n",
        "meters",
    )
    assert acc.select("meter_id", "carrier", "role", "register", "multiplier").rows() == [
        ("GROUP.METER01", "电力", "grid_import", "cumulative", 80.0)
    ]
    assert q["reason"].to_list()[0].startswith("'solar' is not one of: grid_import")
    acc, q, _ = _run(
        "parks.csv", "园区编号,installation_id,园区名称\nP1,INST-1,零碳园区\nP1,INST-2,零碳园区\n", "parks"
    )
    assert acc.height == 2 and q.is_empty()
    acc, q, _ = _run(
        "credits.csv",
        "credit_id,standard,vintage,tco2e,project_type,retired_for_installation_id,retired_for_period\n"
        "C1,CCER,2023,100,removal,INST-1,2025\nC2,VCS,2022,-5,avoidance,INST-1,2025\n",
        "carbon_credits",
    )
    assert acc["credit_id"].to_list() == ["C1"]
    assert q["reason"].to_list()[0].startswith("must be greater than 0")


# --- through the whole ingest (lake, gate, data-quality records) --------------------------------------------


@pytest.mark.parametrize("layout", ["wide", "trend_log"])
def test_ingest_writes_the_lake_and_passes_the_gate(tmp_path: Path, layout: str) -> None:
    landing, home = tmp_path / "landing", tmp_path / "home"
    if layout == "wide":
        drop(landing, "meter_readings", DAY, "pme.csv", WIDE)
        expect = (7, 5, 2)
    else:
        text = "point_name,timestamp,value\nP,2025-01-01 00:30,1\nP,2025-01-01 01:30,x\nP,2025-01-01 02:30,\n"
        drop(landing, "meter_readings", DAY, "ebo.csv", text)
        expect = (2, 1, 1)
    ingest(landing, home, "meter_readings")
    (rec,) = files(home, "meter_readings").iter_rows(named=True)
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == expect
    assert rec["gate_passed"] is True
    cur = current(home, "meter_readings")
    assert cur.height == expect[1]
    assert cur.schema["interval_start"] == pl.Datetime("us")
    assert quarantine(home, "meter_readings").height == expect[2]


def test_green_certificate_rows_of_one_drop_are_versions_not_ambiguous(tmp_path: Path) -> None:
    """The spec's rule for certificates: a later row of the same drop is a later version (a correction, or a
    second claim the ledger rejects while the first stands), so both rows reach the history in row order."""
    text = (
        "certificate_batch_id,mwh,generation_month,status,cancelled_for_installation_id,cancelled_for_period\n"
        "GEC-1,100,2025-06,cancelled,INST-1,2026\n"
        "GEC-1,100,2025-06,cancelled,INST-2,2026\n"
    )
    acc, q, rec = _run("gec.csv", text, "green_certificates")
    assert q.is_empty() and acc["cancelled_for_installation_id"].to_list() == ["INST-1", "INST-2"]
    landing, home = tmp_path / "landing", tmp_path / "home"
    drop(landing, "green_certificates", DAY, "gec.csv", text)
    ingest(landing, home, "green_certificates")
    history = pl.read_parquet(home / "lake" / "raw" / "green_certificates" / "history" / f"{DAY}.parquet")
    assert history.sort("_row_number")["cancelled_for_installation_id"].to_list() == ["INST-1", "INST-2"]
    assert current(home, "green_certificates")["cancelled_for_installation_id"].to_list() == ["INST-2"]
    (f,) = files(home, "green_certificates").iter_rows(named=True)
    assert f["gate_passed"] is True


def test_parquet_wide_with_typed_timestamps_and_json_trend_log() -> None:
    buf = io.BytesIO()
    pl.DataFrame(
        {
            "Timestamp": [datetime(2025, 1, 1, 0, 0), datetime(2025, 1, 1, 0, 15)],
            M1: [1.0, None],
            M2: [2.0, 3.0],
        }
    ).write_parquet(buf)
    acc, q, rec = _run("pme.parquet", buf.getvalue())
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (3, 3, 0)
    assert acc.sort("meter_id", "interval_start").select("meter_id", "interval_start", "value").rows() == [
        ("GROUP.METER01", datetime(2025, 1, 1, 0, 0), 1.0),
        ("GROUP.METER02", datetime(2025, 1, 1, 0, 0), 2.0),
        ("GROUP.METER02", datetime(2025, 1, 1, 0, 15), 3.0),
    ]
    lines = [
        {"point_name": "EBO.P1", "timestamp": "2025-01-01T00:30:00+08:00", "value": 1, "stamp": "midpoint"},
        {"point_name": "EBO.P1", "timestamp": "2025-01-01T01:30:00+08:00", "value": 2.5, "stamp": "midpoint"},
    ]
    acc, q, rec = _run("ebo.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    assert q.is_empty()
    assert acc.select("interval_start", "utc_offset_minutes", "stamped_at", "value").rows() == [
        (datetime(2025, 1, 1, 0, 0), 480, datetime(2025, 1, 1, 0, 30), 1.0),
        (datetime(2025, 1, 1, 1, 0), 480, datetime(2025, 1, 1, 1, 30), 2.5),
    ]


def test_change_of_value_reason_names_the_first_irregular_point_and_counts_the_others() -> None:
    rows = ["P.B,2025-01-01 00:00:10,1", "P.B,2025-01-01 00:07:00,1", "P.B,2025-01-01 00:09:30,1"]
    rows += ["P.A,2025-01-01 00:00:00,1", "P.A,2025-01-01 00:02:00,1", "P.A,2025-01-01 00:05:00,1"]
    for order in (rows, rows[::-1]):
        acc, q, rec = _run("cov.csv", "point_name,timestamp,value\n" + "\n".join(order) + "\n")
        assert (rec["rows_read"], rec["rows_quarantined"]) == (6, 6)
        (reason,) = set(q["reason"])
        assert "point P.A and 1 other point(s) are irregular (steps of 2 min and 3 min)" in reason
