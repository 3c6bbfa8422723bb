"""meter_hourly sums each hour's intervals one after the other in time order, whatever the order of the file or of
the hours' keys, and places every hour on its meter's grid by position (hours without intervals included)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from tests.ems.helpers import meters, readings, run

# four intervals whose left-to-right sum (2.6000000000000005) differs from a pairwise one (2.6)
VALUES = [0.1 * (i + 1) for i in range(4, 8)]


def _sequential(values: list[float]) -> float:
    total = 0.0
    for v in values:
        total += v
    return total


def test_an_hour_adds_its_intervals_in_time_order_even_when_another_zone_puts_hours_out_of_key_order() -> (
    None
):
    assert _sequential(VALUES) != (VALUES[0] + VALUES[1]) + (VALUES[2] + VALUES[3])
    m = meters(
        # Lord Howe Island goes from +11:00 to +10:30 on 6 April 2025 at 02:00: its hours after the change start
        # half an hour off those before, so its hour keys are not in order
        {"meter_id": "LH", "role": "grid_import", "timezone": "Australia/Lord_Howe"},
        {"meter_id": "SH", "role": "grid_import", "installation_id": "I2"},
    )
    t0 = datetime(2025, 4, 5, 13, 0)  # UTC
    rows, offsets = [], []
    for i in range(24):
        utc = t0 + timedelta(minutes=15 * i)
        offset = 660 if utc < datetime(2025, 4, 5, 15, 0) else 630
        rows.append(("LH", utc + timedelta(minutes=offset), 1.0 + i / 8))
        offsets.append(offset)
    # three hours of the Shanghai meter, the middle one holding VALUES
    sh = [("SH", datetime(2025, 4, 5, 20, 0) + timedelta(minutes=15 * i), 0.1 * (i + 1)) for i in range(12)]
    rows += sh
    offsets += [None] * len(sh)
    hourly = run(m, readings(rows, utc_offset_minutes=offsets))["meter_hourly"]
    got = hourly.filter(pl.col("meter_id") == "SH")
    assert got["quantity"][1] == _sequential(VALUES)
    assert got["intervals_measured"].to_list() == [4, 4, 4]
    # the hourly table stays in (meter_id, hour_start_utc) order and every row adds up
    assert hourly.equals(hourly.sort("meter_id", "hour_start_utc", maintain_order=True))
    assert (
        hourly["intervals_expected"]
        == hourly["intervals_measured"] + hourly["intervals_estimated"] + hourly["intervals_missing"]
    ).all()
    lh = hourly.filter(pl.col("meter_id") == "LH", pl.col("quantity").is_not_null())
    assert lh["quantity"].to_list() == [
        _sequential([1.0 + i / 8 for i in range(0, 4)]),
        _sequential([1.0 + i / 8 for i in range(4, 8)]),
    ]


def test_hours_without_intervals_sit_on_the_grid_between_the_hours_with_intervals() -> None:
    m = meters({"meter_id": "A", "role": "grid_import"}, {"meter_id": "B", "role": "onsite_generation"})
    t0 = datetime(2025, 3, 3)
    a = [("A", t0 + timedelta(minutes=15 * i), float(i)) for i in range(4)]
    a += [("A", t0 + timedelta(hours=5, minutes=15 * i), 10.0 + i) for i in range(2)]  # hours 1–4 silent
    b = [("B", t0 + timedelta(hours=2, minutes=15 * i), 0.5) for i in range(4)]
    # file in line order: time, then meter
    rows = sorted(a + b, key=lambda r: (r[1], r[0]))
    hourly = run(m, readings(rows))["meter_hourly"]
    ha = hourly.filter(pl.col("meter_id") == "A")
    assert ha["hour_start"].to_list() == [t0 + timedelta(hours=h) for h in range(6)]
    assert ha["quantity"].to_list() == [6.0, None, None, None, None, 21.0]
    assert ha["intervals_expected"].to_list() == [4, 4, 4, 4, 4, 2]  # the window ends after the last reading
    assert ha["intervals_missing"].to_list() == [0, 4, 4, 4, 4, 0]
    assert ha["source_row_id_first"][5].endswith(f"#{rows.index(a[4]) + 1}")
    assert ha["source_row_id_last"][5].endswith(f"#{rows.index(a[5]) + 1}")
    hb = hourly.filter(pl.col("meter_id") == "B")
    assert hb["quantity"].to_list() == [2.0]
    assert hb["hour_start"].to_list() == [t0 + timedelta(hours=2)]
