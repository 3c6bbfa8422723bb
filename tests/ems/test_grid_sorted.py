"""`arrays.grid_sorted`: the interval engine's sort into meter order as a transpose, when the readings of a batch
form a grid (each line holds the same meters in increasing order: a wide file without gaps). It must equal the
stable sort it replaces, column for column, and decline anything that is not such a grid."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms.arrays import grid_sorted


def _grid(lines: int, meters: list[int]) -> pl.DataFrame:
    n = lines * len(meters)
    start = datetime(2025, 1, 1)
    return pl.DataFrame(
        {
            "_mi": pl.Series([m for _ in range(lines) for m in meters], dtype=pl.Int32),
            "interval_start_utc": [start + timedelta(minutes=15 * (i // len(meters))) for i in range(n)],
            "quantity": [float(i) * 1.5 for i in range(n)],
            "with_null": [None if i % 7 == 0 else i for i in range(n)],
            "estimated": [i % 3 == 0 for i in range(n)],
            "_file": pl.Series(["a.csv" if i < n // 2 else "b.csv" for i in range(n)], dtype=pl.Categorical),
            "_row_number": pl.Series([i // len(meters) + 2 for i in range(n)], dtype=pl.Int32),
        }
    )


@pytest.mark.parametrize(
    ("lines", "meters"), [(1, [4]), (5, [0]), (700, [3, 4, 9]), (1100, list(range(600)))]
)
def test_a_grid_is_sorted_as_the_stable_sort(lines: int, meters: list[int]) -> None:
    df = _grid(lines, meters)
    got = grid_sorted(df, "_mi")
    assert got is not None
    assert_frame_equal(got, df.sort("_mi", maintain_order=True), check_exact=True)


def test_what_is_not_a_grid_is_declined() -> None:
    df = _grid(10, [1, 2, 3])
    assert grid_sorted(df.slice(1), "_mi") is None  # a gap: 29 rows of 3 meters
    assert (
        grid_sorted(df.slice(3).vstack(df.slice(0, 3)).reverse(), "_mi") is None
    )  # lines in decreasing order
    other = df.with_columns(
        _mi=pl.when(pl.int_range(pl.len()) == 4).then(pl.lit(9, pl.Int32)).otherwise("_mi")
    )
    assert grid_sorted(other, "_mi") is None  # one line holds another meter
    assert grid_sorted(df.clear(), "_mi") is None
    assert grid_sorted(df.with_columns(_mi=pl.lit(None, pl.Int32)), "_mi") is None


def test_the_engine_gives_the_same_tables_through_the_grid(monkeypatch) -> None:
    """Readings of 6 meters in line order (time, then meter; only the intervals every meter has, so a grid):
    the interval engine's tables are the same whether its sort into meter order is the transpose or the
    gather it replaces."""
    import transforms.ems.intervals as intervals
    from tests.bench.ems_case import synthetic
    from transforms.ems import compute_ems_carry

    meters, readings = synthetic(6, 3)
    full = readings.group_by("interval_start").len().filter(pl.col("len") == meters.height)
    readings = readings.join(full.select("interval_start"), on="interval_start").sort(
        "interval_start", "meter_id"
    )
    raw = {"meters": meters.lazy(), "meter_readings": readings.lazy()}
    taken = []
    monkeypatch.setattr(
        intervals, "grid_sorted", lambda df, by: taken.append(grid_sorted(df, by)) or taken[-1]
    )
    tables, _ = compute_ems_carry(raw)
    assert taken and all(t is not None for t in taken)
    for t in taken:  # in key order: the engine keeps the transpose (else it would sort again)
        assert t.equals(t.sort("_mi", "interval_start_utc", maintain_order=True))
    monkeypatch.setattr(intervals, "grid_sorted", lambda df, by: None)
    again, _ = compute_ems_carry(raw)
    for name, lf in tables.items():
        assert_frame_equal(lf.collect(), again[name].collect(), check_exact=True)
