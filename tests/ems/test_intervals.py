"""Readings → intervals → hourly: cumulative registers (reset, meter change), gaps, estimated intervals, multiplier,
MWh → kWh, timezones, stamps, and every rejection with its reason. Expected numbers are worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from tests.ems.helpers import T0, meters, readings, run, series


def _hours(out: dict[str, pl.DataFrame], meter: str) -> list[dict]:
    return out["meter_hourly"].filter(pl.col("meter_id") == meter).sort("hour_start_utc").to_dicts()


def test_cumulative_register_reset_and_meter_change_leave_intervals_missing_never_negative():
    # Counter read every 15 min: +10 kWh per interval, a reset to 5 at 01:00 (the old register rolled over),
    # then a meter change at 01:45 (new register starts at 3).
    values = [0, 10, 20, 30, 40, 5, 15, 25, 3, 13, 23, 33, 43]
    out = run(
        meters({"meter_id": "C", "role": "consumption", "register": "cumulative"}),
        readings(series("C", T0, 15, values)),
    )
    h = _hours(out, "C")
    # 12 intervals (13 readings, the first is the baseline): 00:00-00:45 → 10 each = 40 kWh, 4 measured;
    # 01:00 interval (reading 5 after 40) missing; 01:15, 01:30 → 10 + 10; 01:45 (3 after 25) missing;
    # 02:00-02:45 → 4 × 10.
    assert [r["quantity"] for r in h] == [40.0, 20.0, 40.0]
    assert [r["intervals_measured"] for r in h] == [4, 2, 4]
    assert [r["intervals_missing"] for r in h] == [0, 2, 0]
    assert [r["register_decreases"] for r in h] == [0, 2, 0]
    assert all(
        r["intervals_expected"] == r["intervals_measured"] + r["intervals_estimated"] + r["intervals_missing"]
        for r in h
    )
    assert out["meter_hourly"]["quantity"].min() >= 0
    issues = out["meter_reading_issues"].filter(pl.col("kind") == "register_decrease").sort("row_number")
    assert issues["row_number"].to_list() == [6, 9]  # the readings after which the register fell
    assert "reset, rollover or meter change" in issues["reason"][0]
    assert issues["interval_start"].to_list() == [
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1, minutes=45),
    ]


def test_cumulative_gap_spans_intervals_assigned_to_the_interval_ending_at_the_later_reading():
    # readings at 00:00, 00:15, (00:30 and 00:45 lost), 01:00 → 70: the 50 kWh difference belongs to the
    # interval ending at 01:00 (00:45-01:00); 00:15 and 00:30 intervals are missing.
    out = run(
        meters({"meter_id": "C", "role": "consumption", "register": "cumulative"}),
        readings(series("C", T0, 15, [0, 20, None, None, 70, 80])),
    )
    h = _hours(out, "C")
    assert [r["quantity"] for r in h] == [70.0, 10.0]
    assert [(r["intervals_measured"], r["intervals_missing"]) for r in h] == [(2, 2), (1, 0)]
    span = out["meter_reading_issues"].filter(pl.col("kind") == "spans_gap")
    assert span.height == 1 and "3 intervals between successive readings" in span["reason"][0]


def test_gaps_are_counted_not_filled_and_estimated_intervals_counted_apart():
    rows = series("G", T0, 15, [1.0, None, 3.0, 4.0, None, None, None, None, 9.0, 10.0, 11.0, 12.0])
    rows[2] = (*rows[2], "estimated")
    out = run(meters({"meter_id": "G", "role": "grid_import"}), readings(rows))
    h = _hours(out, "G")
    assert len(h) == 3
    assert [r["intervals_expected"] for r in h] == [4, 4, 4]
    assert [(r["intervals_measured"], r["intervals_estimated"], r["intervals_missing"]) for r in h] == [
        (2, 1, 1),
        (0, 0, 4),
        (4, 0, 0),
    ]
    assert h[0]["quantity"] == 8.0  # 1 + 3 (estimated, counted in the quantity) + 4
    assert h[1]["quantity"] is None  # every interval missing: NULL, not 0
    assert h[2]["quantity"] == 42.0
    assert (h[0]["source_row_id_first"], h[0]["source_row_id_last"]) == (
        "meter_readings/2025-03-10/r.csv#1",
        "meter_readings/2025-03-10/r.csv#3",
    )


def test_multiplier_and_mwh_meter_converted_to_kwh():
    # CT/PT ratio 40 on a MWh meter: 0.005 MWh × 40 = 0.2 MWh = 200 kWh per interval.
    out = run(
        meters({"meter_id": "M", "role": "grid_import", "unit": "MWh", "multiplier": 40.0}),
        readings(series("M", T0, 15, [0.005] * 4)),
    )
    (h,) = _hours(out, "M")
    assert h["unit"] == "kWh" and h["multiplier"] == 40.0
    assert h["quantity"] == pytest.approx(800.0, rel=1e-12)


def test_reading_unit_overrides_meter_unit():
    r = readings(series("M", T0, 15, [1.0, 1.0, 1.0, 1.0]), unit=["MWh", "kWh", "千瓦时", "度"])
    (h,) = _hours(run(meters({"meter_id": "M", "role": "grid_import"}), r), "M")
    assert h["quantity"] == pytest.approx(1003.0)


def test_non_electricity_meter_keeps_its_unit():
    out = run(
        meters(
            {
                "meter_id": "NG",
                "role": "consumption",
                "carrier": "天然气",
                "unit": "Nm3",
                "interval_minutes": 60,
            }
        ),
        readings(series("NG", T0, 60, [12.5, 13.5])),
    )
    h = _hours(out, "NG")
    assert [r["unit"] for r in h] == ["Nm3", "Nm3"] and h[0]["carrier"] == "natural_gas"
    assert [r["quantity"] for r in h] == [12.5, 13.5]


def test_timezone_of_the_meter_and_offset_timestamps():
    # Berlin winter time is UTC+1: local 10:00 is 09:00 UTC; Shanghai local 10:00 is 02:00 UTC.
    m = meters(
        {"meter_id": "B", "role": "grid_import", "timezone": "Europe/Berlin", "interval_minutes": 60},
        {"meter_id": "S", "role": "grid_import", "interval_minutes": 60},
    )
    t = datetime(2025, 1, 15, 10)
    out = run(m, readings([("B", t, 1.0), ("S", t, 2.0)]))
    b, s = _hours(out, "B")[0], _hours(out, "S")[0]
    assert b["hour_start"] == t and b["hour_start_utc"] == datetime(
        2025,
        1,
        15,
        9,
    )
    assert s["hour_start"] == t and s["hour_start_utc"] == datetime(
        2025,
        1,
        15,
        2,
    )
    # A timestamp written with an offset (ingestion splits it into utc_offset_minutes) is an instant: shown in
    # the meter's local time. 03:00+01:00 = 02:00 UTC = 10:00 in Shanghai; Berlin 10:00Z = 11:00 local.
    r = readings([("S", datetime(2025, 1, 15, 3), 2.0), ("B", t, 1.0)], utc_offset_minutes=[60, 0])
    out2 = run(m, r)
    s2, b2 = _hours(out2, "S")[0], _hours(out2, "B")[0]
    assert (s2["hour_start"], s2["hour_start_utc"], s2["quantity"]) == (t, datetime(2025, 1, 15, 2), 2.0)
    assert (b2["hour_start"], b2["hour_start_utc"]) == (datetime(2025, 1, 15, 11), t)


def test_stamps_moved_to_interval_start():
    # EBO hourly calculation log stamped at the midpoint (8:30 = 8:00-9:00); a 15-min log stamped at the end.
    m = meters(
        {"meter_id": "E", "role": "grid_import", "stamp": "midpoint", "interval_minutes": 60},
        {"meter_id": "F", "role": "grid_import", "stamp": "end"},
    )
    r = readings(
        [("E", T0 + timedelta(hours=8, minutes=30), 5.0)]
        + series("F", T0 + timedelta(minutes=15), 15, [1.0, 2.0, 3.0, 4.0])
    )
    out = run(m, r)
    (e,) = _hours(out, "E")
    assert e["hour_start"] == T0 + timedelta(hours=8) and e["intervals_measured"] == 1
    (f,) = _hours(out, "F")
    assert f["hour_start"] == T0 and f["quantity"] == 10.0 and f["intervals_missing"] == 0
    # A per-row stamp overrides the meter's: `start` on E keeps 09:00 where it is.
    r2 = readings([("E", T0 + timedelta(hours=9), 6.0)], stamp=["start"])
    assert _hours(run(m, r2), "E")[0]["hour_start"] == T0 + timedelta(hours=9)


def test_interval_length_inferred_when_not_given():
    out = run(
        meters({"meter_id": "G", "role": "grid_import", "interval_minutes": None}),
        readings(series("G", T0, 30, [1.0, 2.0, None, 4.0])),
    )
    h = _hours(out, "G")
    assert [r["interval_minutes"] for r in h] == [30, 30] and h[0]["interval_inferred"]
    assert [(r["intervals_expected"], r["intervals_missing"]) for r in h] == [(2, 0), (2, 1)]


def test_rejections_have_reasons_and_lose_nothing():
    m = meters(
        {"meter_id": "G", "role": "grid_import"},
        {"meter_id": "W", "role": "grid_import", "unit": "t"},  # an electricity meter in tonnes
    )
    rows = [
        ("G", T0, 1.0),
        ("X", T0, 1.0),  # unknown meter
        ("G", T0 + timedelta(minutes=20), 1.0),  # off the 15-min grid
        ("G", T0 + timedelta(minutes=30), -2.0),  # negative interval consumption
        ("G", T0 + timedelta(minutes=45), 1.0),
        ("G", T0 + timedelta(minutes=45), 1.5),  # two readings for one interval
        ("W", T0, 1.0),  # meter unusable
        ("G", T0 + timedelta(minutes=60), float("inf")),
    ]
    out = run(m, readings(rows))
    q = out["meter_reading_issues"].filter(pl.col("kind") == "rejected").sort("row_number")
    by_row = dict(zip(q["row_number"], q["reason"], strict=True))
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 8]
    assert by_row[2].startswith("unknown meter 'X'")
    assert "not on the meter's 15-minute interval grid" in by_row[3]
    assert "negative interval consumption" in by_row[4]
    assert "two readings for meter 'G'" in by_row[5] and "two readings" in by_row[6]
    assert "not an energy unit" in by_row[7]
    assert "not a finite number" in by_row[8]
    assert dict(zip(q["row_number"], q["column"], strict=True))[4] == "value"
    assert '"meter_id":"X"' in q.filter(pl.col("row_number") == 2)["raw"][0]
    # accepted + rejected = read: row 1 is the only reading used.
    h = _hours(out, "G")
    assert sum(r["intervals_measured"] for r in h) == 1
    # The rejected readings still open the meter's window: their intervals are missing, not invisible.
    assert h[0]["intervals_expected"] == 4 and h[0]["intervals_missing"] == 3


def test_ambiguous_local_time_rejected():
    m = meters({"meter_id": "B", "role": "grid_import", "timezone": "Europe/Berlin", "interval_minutes": 60})
    out = run(
        m, readings([("B", datetime(2025, 10, 26, 2, 0), 1.0), ("B", datetime(2025, 3, 30, 2, 0), 1.0)])
    )
    q = out["meter_reading_issues"]
    assert q.height == 2 and all("daylight-saving" in r for r in q["reason"])
