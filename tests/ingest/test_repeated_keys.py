"""`quarantine.repeated_keys`, the key check of the drop's duplicate rule, the raw gate and `current_event`: the
keys that occur more than once, found from sorted 64-bit hashes, are exactly those a group-by over every key
finds (nulls equal, as in a group-by)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from transforms.ingest.quarantine import HEAD_ROWS, repeated_keys

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


def _lines(meters: list[str], lines: int) -> pl.DataFrame:
    """A wide meter file's keys in line order: each line's meters in column order (an Enum of that order)."""
    t0 = datetime(2025, 1, 1)
    return pl.DataFrame(
        {
            "meter_id": pl.Series(meters * lines, dtype=pl.Enum(meters)),
            "interval_start": [t0 + timedelta(minutes=15 * i) for i in range(lines) for _ in meters],
        }
    )


def test_keys_in_a_strict_order_are_found_unique_without_hashing(monkeypatch) -> None:
    frame = _lines(["M2", "M0", "M1"], 50)
    # the hashing path is not taken: a hash of every key would fail here
    monkeypatch.setattr(pl.Expr, "hash", lambda *a, **k: (_ for _ in ()).throw(AssertionError("hashed")))
    assert repeated_keys(frame.lazy(), KEYS).is_empty()
    assert repeated_keys(frame.lazy(), list(reversed(KEYS))).is_empty()


def test_a_repeat_breaks_the_order_and_is_found() -> None:
    frame = _lines(["M2", "M0", "M1"], 50)
    # a line written twice, a meter's column twice in a line, a line's time going back: each a repeated key
    again = pl.concat([frame.head(6), frame.slice(3, 3), frame.slice(6)])
    assert _same(again).height == 3
    twice = frame.with_columns(
        meter_id=pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("M2")).otherwise(pl.col("meter_id"))
    ).cast({"meter_id": pl.Enum(["M2", "M0", "M1"])})
    assert _same(twice).height == 1
    back = frame.with_columns(
        interval_start=pl.when(pl.int_range(pl.len()).is_between(9, 11))
        .then(pl.col("interval_start") - timedelta(minutes=30))
        .otherwise(pl.col("interval_start"))
    )
    assert _same(back).height == 3
    # an empty key part: the hashing path (nulls equal)
    assert _same(frame.with_columns(interval_start=pl.lit(None, pl.Datetime("us")))).height == 3


def test_text_keys_in_order_and_a_repeat_after_the_first_rows() -> None:
    # a long meter file sorted by meter, then time: text keys in order (the hash path is not needed)
    n = 3 * HEAD_ROWS
    frame = pl.DataFrame({"i": range(n)}).select(
        meter_id=pl.format("M{}", (pl.col("i") // 1_000).cast(pl.String).str.zfill(3)),
        interval_start=pl.lit(datetime(2025, 1, 1)) + pl.duration(minutes=15 * (pl.col("i") % 1_000)),
    )
    assert _same(frame).is_empty()
    # in order for the first rows, a row repeated far below them
    late = pl.concat([frame.head(n - 100), frame.slice(n - 101, 1), frame.tail(100)])
    assert _same(late).height == 1
