"""Inferred interval lengths counted incrementally (`transforms.ems.inference`): a run from `since` that counts
only the readings from `since` on and adds the carried months before it gives the step counts, count for count,
and the length of a count over every reading, also where one step more or less would change the answer."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from transforms.ems.inference import infer_interval_minutes

SINCE = datetime(2025, 3, 1)
CUT = datetime(2025, 3, 4)  # the earlier run saw the readings before this


def _stamps(start: datetime, minutes: int, count: int) -> list[datetime]:
    return [start + timedelta(minutes=minutes * i) for i in range(count)]


def _rows() -> pl.DataFrame:
    """Meter row 0: hourly from 20 February to 1 March 00:00 (216 steps of 60 minutes, the last one across
    `since`), then quarter-hourly (215 steps of 15 minutes): 60 wins by that one step across `since`. Meter row
    1: half-hourly, silent from 27 February 12:00 to 1 March 06:00 (a long step across `since`), some readings
    twice (steps of 0 do not count), one reading in a month of its own (no step). Row 2 is an unusable meter
    (no `_mi`), row 3 a meter without readings."""
    m0 = _stamps(datetime(2025, 2, 20), 60, 217) + _stamps(datetime(2025, 3, 1, 0, 15), 15, 215)
    m1 = (
        [datetime(2025, 1, 15)]
        + _stamps(datetime(2025, 2, 20), 30, 360)
        + _stamps(datetime(2025, 3, 1, 6), 30, 300)
    )
    m1 = m1 + m1[100:110] + m1[500:505]  # the same readings again, in February and in March
    return pl.DataFrame(
        {
            "_mx": [0] * len(m0) + [1] * len(m1) + [2, 2],
            "_utc": m0 + m1 + [datetime(2025, 2, 1), datetime(2025, 2, 1, 1)],
        },
        schema={"_mx": pl.UInt32, "_utc": pl.Datetime("us")},
    ).sample(fraction=1.0, shuffle=True, seed=3)  # any order: the inference sorts


INDEX = pl.Series("_mi", [5, 9, None, 11], dtype=pl.Int64)


def test_full_count_on_the_hand_case() -> None:
    found, steps = infer_interval_minutes(_rows().lazy(), INDEX)
    assert found.to_list() == [60, 30, None, None]
    totals = dict(steps.filter(pl.col("_mi") == 5).group_by("_step").agg(pl.col("n").sum()).iter_rows())
    assert totals == {60: 216, 15: 215}
    march = steps.filter((pl.col("_mi") == 9) & (pl.col("_month") == SINCE))
    # 27 Feb 11:30 → 1 Mar 06:00 is 42.5 hours; then 299 steps of 30 minutes (the twice-read ones count 0)
    assert dict(march.select("_step", "n").iter_rows()) == {2550: 1, 30: 299}
    # a month without a step keeps its last reading (meter 9 in January)
    jan = steps.filter((pl.col("_mi") == 9) & (pl.col("_month") == datetime(2025, 1, 1)))
    assert jan.rows() == [(9, datetime(2025, 1, 1), None, None, datetime(2025, 1, 15))]


def test_from_since_with_the_carry_equals_the_full_count() -> None:
    rows = _rows()
    full_found, full_steps = infer_interval_minutes(rows.lazy(), INDEX)
    _, carried = infer_interval_minutes(rows.filter(pl.col("_utc") < CUT).lazy(), INDEX)
    # what the incremental run reads: from two days before `since` (readings before `since` among them)
    window = rows.filter(pl.col("_utc") >= SINCE - timedelta(days=2))
    found, counted = infer_interval_minutes(window.lazy(), INDEX, SINCE, carried)
    assert found.to_list() == full_found.to_list() == [60, 30, None, None]
    assert counted["_month"].min() == SINCE
    kept = pl.concat([carried.filter(pl.col("_month") < SINCE), counted])
    order = ["_mi", "_month", "_step"]
    assert_frame_equal(kept.sort(order, nulls_last=False), full_steps.sort(order, nulls_last=False))
