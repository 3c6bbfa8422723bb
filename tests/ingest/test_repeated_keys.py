"""`quarantine.repeated_keys`, the key check of the drop's duplicate rule, the raw gate and `current_event`: the
keys that occur more than once, found from sorted 64-bit hashes, are exactly those a group-by over every key
finds (nulls equal, as in a group-by)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from transforms.ingest.quarantine import repeated_keys

KEYS = ["meter_id", "interval_start"]


def _by_group(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by(KEYS).len().filter(pl.col("len") > 1).drop("len")


def _same(frame: pl.DataFrame) -> pl.DataFrame:
    got = repeated_keys(frame.lazy(), KEYS)
    assert got.schema == frame.select(KEYS).schema
    assert_frame_equal(got.sort(KEYS, nulls_last=True), _by_group(frame).sort(KEYS, nulls_last=True))
    return got


def test_no_key_twice_gives_an_empty_frame_of_the_key_columns() -> None:
    t0 = datetime(2025, 1, 1)
    frame = pl.DataFrame(
        {
            "meter_id": ["A", "A", "B"],
            "interval_start": [t0, t0 + timedelta(minutes=15), t0],
            "value": [1.0] * 3,
        }
    )
    assert _same(frame).is_empty()


def test_repeated_keys_and_null_parts_of_a_key() -> None:
    t0 = datetime(2025, 1, 1)
    frame = pl.DataFrame(
        {
            "meter_id": ["A", "B", "A", None, None, "C", "C", None],
            "interval_start": [t0, t0, t0, t0, t0, None, None, None],
            "value": list(range(8)),
        }
    )
    got = _same(frame)
    assert got.height == 3  # (A, t0), (null, t0), (C, null); (null, null) once


def test_many_rows_with_a_few_repeats() -> None:
    n = 200_000
    frame = pl.DataFrame({"i": range(n)}).select(
        meter_id=pl.format("M{}", pl.col("i") % 500),
        interval_start=pl.lit(datetime(2025, 1, 1)) + pl.duration(minutes=15 * (pl.col("i") // 500)),
    )
    again = frame.gather([7, 99_999, 199_999, 7])
    got = _same(pl.concat([frame, again]))
    assert got.height == 3
