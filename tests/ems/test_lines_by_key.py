"""`frames.lines_by_key`: rows that are lines of one pattern of distinct keys (a wide meter file's readings without
a gap, in line order) are put in key order by a transpose, exactly as a stable sort would; any other rows are left
to the sort (None). And the interval engine gives the same tables for a wide file's lines as for the same readings
already in meter order (the transpose) and with a gap (the sort)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from tests.ems.helpers import T0, meters, readings, run
from transforms.frames import lines_by_key


def _lines(pattern: list[int], n_lines: int, seed: int = 3) -> pl.DataFrame:
    """`n_lines` lines of `pattern` (the key of each reading of a line), with columns of every kind the engine
    moves: integers, floats with nulls, datetimes, booleans, a Categorical and an Enum."""
    rng = np.random.default_rng(seed)
    n = n_lines * len(pattern)
    key = np.tile(np.array(pattern, dtype=np.int32), n_lines)
    quantity = rng.random(n)
    return pl.DataFrame(
        {
            "_ri": pl.Series(np.arange(n, dtype=np.uint32)),
            "_mi": key,
            "at": pl.Series(np.repeat(np.arange(n_lines, dtype=np.int64) * 900_000_000, len(pattern))).cast(
                pl.Datetime("us")
            ),
            "quantity": pl.Series(quantity).set(pl.Series(rng.random(n) < 0.1), None),
            "estimated": rng.random(n) < 0.5,
            "_code": pl.Series(rng.integers(0, 3, n), dtype=pl.UInt8),
            "_file": pl.Series([f"f{i % 3}" for i in range(n)], dtype=pl.Categorical),
            "unit": pl.Series(["kWh", "MWh"] * (n // 2) + ["kWh"] * (n % 2), dtype=pl.Enum(["kWh", "MWh"])),
        }
    )


@pytest.mark.parametrize(
    "pattern",
    [[0, 1, 2, 3], [3, 0, 2, 1], [10, 4, 7], [5, 6]],
    ids=["in order", "permuted", "sparse keys", "two keys"],
)
@pytest.mark.parametrize("n_lines", [2, 3, 700])
def test_lines_of_one_pattern_come_out_as_a_stable_sort_gives_them(pattern: list[int], n_lines: int) -> None:
    frame = _lines(pattern, n_lines)
    got = lines_by_key(frame, "_mi")
    assert got is not None
    assert got.schema == frame.schema
    assert got.equals(frame.sort("_mi", maintain_order=True))


def test_a_long_block_crosses_tiles() -> None:  # more lines and keys than one 512 × 512 tile
    frame = _lines(list(range(600))[::-1], 1_100)
    got = lines_by_key(frame, "_mi")
    assert got is not None and got.equals(frame.sort("_mi", maintain_order=True))


@pytest.mark.parametrize(
    "keys",
    [
        [0, 1, 2, 0, 1, 2, 0, 2],  # a gap: the last line without key 1
        [0, 1, 2, 0, 2, 1, 0, 1, 2],  # a line in another order
        [0, 1, 1, 0, 1, 1],  # a key twice in a line
        [0, 1, 2, 0, 1, 2, 0, 1],  # a short last line
        [4, 4, 4, 4],  # one key
        [0, 1, 2, 3],  # one line
        [0, 1, 2, None, 0, 1, 2, None],  # a null key
    ],
    ids=["gap", "other order", "repeat", "short last line", "one key", "one line", "null key"],
)
def test_other_rows_are_left_to_the_sort(keys: list[int | None]) -> None:
    frame = pl.DataFrame({"_mi": pl.Series(keys, dtype=pl.Int32), "v": list(range(len(keys)))})
    assert lines_by_key(frame, "_mi") is None


def _wide_rows(ids: list[str], lines: int, skip: tuple[str, int] | None = None) -> list[tuple]:
    """A wide file's readings in line order: line by line, each line's meters in column order."""
    out = []
    for i in range(lines):
        for j, m in enumerate(ids):
            if (m, i) != skip:
                out.append((m, T0 + timedelta(minutes=15 * i), round(1.0 + 0.37 * i + 0.11 * j, 2)))
    return out


@pytest.mark.parametrize("skip", [None, ("B", 5)], ids=["every cell", "a gap"])
def test_the_engine_gives_the_same_tables_for_lines_and_for_meter_order(skip: tuple[str, int] | None) -> None:
    m = meters(
        {"meter_id": "A", "role": "grid_import"},
        {"meter_id": "B", "role": "onsite_generation"},
        {"meter_id": "C", "role": "sub_meter", "parent_meter_id": "A"},
    )
    rows = _wide_rows(["C", "A", "B"], 4 * 26, skip)  # columns not in meter order
    in_lines = run(m, readings(rows))
    by_meter = sorted(rows, key=lambda r: (r[0], r[1]))
    in_meter_order = run(m, readings(by_meter))
    assert in_lines["meter_hourly"].height == 3 * 26
    for name, table in in_lines.items():
        other = in_meter_order[name]
        # lineage (row numbers) differs by construction: the same readings at other lines of the file
        drop = [c for c in table.columns if "row" in c or "source" in c]
        assert table.drop(drop).equals(other.drop(drop)), name
