"""One pro-rata month split (transforms/periods.split_by_month): CBAM (`cbam/periods.month_parts`) and the GHG
engines (`ghg/electricity.energy_bill_months`) split a bill crossing month boundaries identically."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from cbam_testkit import Plant

from transforms.cbam import frames_from_rows
from transforms.cbam.errors import CbamInputError
from transforms.cbam.periods import month_parts
from transforms.ghg.electricity import energy_bill_months
from transforms.periods import split_by_month

RANGES = [
    (date(2024, 1, 15), date(2024, 2, 14)),  # 17 + 14 days
    (date(2024, 2, 20), date(2024, 3, 10)),  # leap February: 10 + 10 days
    (date(2025, 12, 1), date(2026, 1, 31)),  # across a year end
    (date(2026, 3, 31), date(2026, 3, 31)),  # one day
    (date(2026, 5, 10), None),  # no end: the day of its start
]


def _frame(ranges: list[tuple[date, date | None]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "_source_row_id": [f"r{i}" for i in range(len(ranges))],
            "period_start": [s for s, _ in ranges],
            "period_end": [e for _, e in ranges],
        },
        schema={"_source_row_id": pl.String, "period_start": pl.Date, "period_end": pl.Date},
    )


def test_split_fractions_by_hand() -> None:
    got = split_by_month(_frame(RANGES)).collect()
    by = {(r["_source_row_id"], r["month"]): r["fraction"] for r in got.iter_rows(named=True)}
    assert by == {
        ("r0", "2024-01"): 17 / 31,
        ("r0", "2024-02"): 14 / 31,
        ("r1", "2024-02"): 10 / 20,
        ("r1", "2024-03"): 10 / 20,
        ("r2", "2025-12"): 31 / 62,
        ("r2", "2026-01"): 31 / 62,
        ("r3", "2026-03"): 1.0,
        ("r4", "2026-05"): 1.0,
    }


def test_cbam_month_parts_is_the_shared_split_and_checks_dates() -> None:
    lf = _frame(RANGES)
    assert month_parts(lf).collect().equals(split_by_month(lf).collect())
    with pytest.raises(CbamInputError):
        month_parts(_frame([(date(2026, 2, 10), date(2026, 2, 1))]), dataset="energy_bills")
    # unchecked (the GHG side, whose input the contracts have checked): no part, or no fraction within a month
    assert split_by_month(_frame([(date(2026, 2, 10), date(2026, 1, 1))])).collect().height == 0
    bad = split_by_month(_frame([(date(2026, 2, 10), date(2026, 2, 1))])).collect()
    assert bad["month"].to_list() == ["2026-02"] and bad["fraction"].to_list() == [None]


def test_cbam_and_scope2_split_the_same_bill_identically() -> None:
    p = Plant(year=2024).process("A", "Cement").produce("A", 100.0, start="2024-01-01", end="2024-03-31")
    p.electricity("A", 31.0, start="2024-01-15", end="2024-02-14")
    p.electricity("A", 62.0, start="2024-02-01", end="2024-03-31", ef_tco2_per_mwh=0.5, ef_source="D.4(b)")
    cbam = p.run()["process_electricity"].filter(pl.col("period_grain") == "month")
    cbam_mwh = dict(zip(cbam["period"], cbam["electricity_mwh"], strict=True))
    ghg = energy_bill_months(frames_from_rows(dict(p.rows))).collect()
    ghg_mwh = ghg.group_by("month").agg(pl.col("electricity_mwh").sum())
    assert cbam_mwh == dict(zip(ghg_mwh["month"], ghg_mwh["electricity_mwh"], strict=True))
    assert cbam_mwh == pytest.approx(
        {"2024-01": 17.0, "2024-02": 14.0 + 62 * 29 / 60, "2024-03": 62 * 31 / 60}
    )
