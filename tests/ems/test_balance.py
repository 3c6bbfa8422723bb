"""Energy balance on a hand-computed week (hourly matching), sub-meters never added, bills vs meters, gaps."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from tests.ems.helpers import T0, meters, readings, run, series

HOURS = 7 * 24


def _day_profile(hour: int) -> dict[str, float]:
    """kWh per hour. Night 0-5: grid 100. Day 6-17: grid 20, PV 120, export 40. Evening 18-23: grid 80 + direct-line
    PPA 20. Load is 100 kWh every hour."""
    if hour < 6:
        return {"G": 100.0, "PV": 0.0, "EX": 0.0, "PPA": 0.0}
    if hour < 18:
        return {"G": 20.0, "PV": 120.0, "EX": 40.0, "PPA": 0.0}
    return {"G": 80.0, "PV": 0.0, "EX": 0.0, "PPA": 20.0}


def _week_rows(skip: set[tuple[str, int]] = frozenset()) -> list[tuple]:
    rows = []
    for i in range(HOURS):
        t = T0 + timedelta(hours=i)
        for m, v in _day_profile(i % 24).items():
            if (m, i) not in skip:
                rows.append((m, t, v))
        rows.append(("SUB", t, 50.0))  # process sub-meter under G
        rows.append(("G2", t, 30.0))  # mis-roled sub-meter: grid_import under grid_import G
    return rows


def _week_meters():
    h = {"interval_minutes": 60}
    return meters(
        {"meter_id": "G", "role": "grid_import", **h},
        {"meter_id": "PV", "role": "onsite_generation", **h},
        {"meter_id": "EX", "role": "grid_export", **h},
        {"meter_id": "PPA", "role": "ppa_delivery", **h},  # no parent: a direct line
        {"meter_id": "SUB", "role": "sub_meter", "parent_meter_id": "G", **h},
        {"meter_id": "G2", "role": "grid_import", "parent_meter_id": "G", **h},
    )


def _bills(rows: list[dict]) -> pl.LazyFrame:
    return pl.DataFrame(rows).with_columns(pl.col("period_start", "period_end").str.to_date()).lazy()


def _row(out, period: str) -> dict:
    (r,) = out["energy_balance"].filter(pl.col("period") == period).to_dicts()
    return r


def test_hand_computed_week_hourly_matching():
    bills = _bills(
        [
            {"bill_id": "B1", "installation_id": "I1", "meter_id": "G", "carrier": "电力", "period_start": "2025-03-03",
             "period_end": "2025-03-09", "quantity": 9.5, "unit": "MWh", "supply_type": None},
            # on-site generation bill: not electricity through the grid connection
            {"bill_id": "B2", "installation_id": "I1", "meter_id": "PV", "carrier": "electricity",
             "period_start": "2025-03-03", "period_end": "2025-03-09", "quantity": 10.0, "unit": "MWh",
             "supply_type": "onsite"},
        ]
    )  # fmt: skip
    out = run(_week_meters(), readings(_week_rows()), bills, as_of=date(2026, 1, 5))
    for period in ("2025-03", "2025"):
        r = _row(out, period)
        # per day: grid 6×100 + 12×20 + 6×80 = 1320; PV 12×120 = 1440; export 12×40 = 480; PPA 6×20 = 120 kWh
        assert r["grid_import_mwh"] == pytest.approx(7 * 1.32)
        assert r["onsite_generation_mwh"] == pytest.approx(7 * 1.44)
        assert r["grid_export_mwh"] == pytest.approx(7 * 0.48)
        assert r["ppa_delivered_mwh"] == pytest.approx(7 * 0.12)
        assert r["ppa_direct_line_mwh"] == pytest.approx(7 * 0.12)
        # load = 1320 + 1440 − 480 + 120 = 2400 kWh a day (100 every hour); sub-meters SUB and G2 add nothing
        assert r["load_mwh"] == pytest.approx(16.8)
        assert r["load_hours_with_data_mwh"] == pytest.approx(16.8)
        # matched per day: 12 day hours × min(120, 100) + 6 evening hours × min(20, 100) = 1320 kWh
        assert r["renewable_matched_hourly_mwh"] == pytest.approx(7 * 1.32)
        assert r["renewable_share_hourly"] == pytest.approx(0.55)  # annual-sum matching would say 0.65
        # self-consumed: 12 × (120 − 40) = 960 kWh a day
        assert r["onsite_self_consumed_mwh"] == pytest.approx(7 * 0.96)
        assert r["electricity_billed_mwh"] == pytest.approx(9.5)
        assert r["grid_import_metered_mwh"] == pytest.approx(9.24)
        assert r["metered_basis"] == "meters_named_by_bills"
        assert r["billed_minus_metered_mwh"] == pytest.approx(0.26)
        assert r["metering_completeness"] == 1.0
        assert (r["hours_total"], r["hours_with_data"]) == (HOURS, HOURS)
        assert (
            r["intervals_expected"] == 4 * HOURS
        )  # the four counted meters; sub-meters are not in the balance
        assert r["provisional"] is False
    assert out["energy_balance"]["period_grain"].sort().to_list() == ["month", "year"]


def test_gap_hours_left_out_of_hourly_matching_not_filled():
    # PV lost on the first day's 12:00 and 13:00: those two hours have no data for matching.
    out = run(_week_meters(), readings(_week_rows(skip={("PV", 12), ("PV", 13)})))
    r = _row(out, "2025")
    assert (r["hours_total"], r["hours_with_data"]) == (HOURS, HOURS - 2)
    assert r["load_hours_with_data_mwh"] == pytest.approx(16.8 - 2 * 0.1)
    assert r["renewable_matched_hourly_mwh"] == pytest.approx(9.24 - 2 * 0.1)
    assert r["renewable_share_hourly"] == pytest.approx((9.24 - 0.2) / (16.8 - 0.2))
    assert r["onsite_generation_mwh"] == pytest.approx(10.08 - 0.24)  # what was measured, nothing invented
    assert r["metering_completeness"] == pytest.approx((4 * HOURS - 2) / (4 * HOURS))
    assert r["intervals_missing"] == 2
    assert "hourly matching over 166 of 168 hours" in r["issues"]


def test_ppa_through_the_grid_meter_counts_as_ppa_not_added_to_load():
    h = {"interval_minutes": 60}
    m = meters(
        {"meter_id": "G", "role": "grid_import", **h},
        {"meter_id": "P", "role": "ppa_delivery", "parent_meter_id": "G", **h},
    )
    r = readings(series("G", T0, 60, [100.0, 100.0]) + series("P", T0, 60, [30.0, 150.0]))
    row = _row(run(m, r), "2025")
    assert row["load_mwh"] == pytest.approx(0.2)  # the grid import meter already holds the PPA power
    assert row["ppa_delivered_mwh"] == pytest.approx(0.18) and row["ppa_direct_line_mwh"] == 0.0
    assert row["renewable_matched_hourly_mwh"] == pytest.approx(0.13)  # min(30, 100) + min(150, 100)


def test_no_bill_naming_a_meter_falls_back_to_every_grid_import_meter_and_says_so():
    bills = _bills(
        [{"bill_id": "B1", "installation_id": "I1", "meter_id": None, "carrier": "electricity",
          "period_start": "2025-02-15", "period_end": "2025-03-16", "quantity": 30.0, "unit": "MWh",
          "supply_type": "grid"}]
    )  # fmt: skip
    out = run(_week_meters(), readings(_week_rows()), bills)
    march = _row(out, "2025-03")
    # 30 MWh over 30 days, pro rata: 16 days in March
    assert march["electricity_billed_mwh"] == pytest.approx(16.0)
    assert march["metered_basis"] == "all_grid_import_meters"
    assert "no bill names a grid-import meter" in march["issues"]
    feb = _row(out, "2025-02")  # billed, no meter data
    assert feb["electricity_billed_mwh"] == pytest.approx(14.0) and feb["grid_import_metered_mwh"] is None
    assert feb["load_mwh"] is None and "no meter data" in feb["issues"]
    assert _row(out, "2025")["electricity_billed_mwh"] == pytest.approx(30.0)
