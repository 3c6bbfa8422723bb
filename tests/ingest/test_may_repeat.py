"""`may_repeat` estimates repetition from a column's first cells only (`HINT_CELLS`). It only chooses a path:
a column whose head misleads the estimate, either way, parses to the same values and messages as the direct
parse, and so does one parsed by value."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_series_equal

from transforms.contracts import dataset
from transforms.ingest import cells
from transforms.ingest.cells import _parse, may_repeat, parse_column


def test_the_estimate_reads_the_head():
    assert may_repeat(pl.Series(["1.5"] * 1000), 4)
    assert not may_repeat(pl.Series([str(i) for i in range(1000)]), 4)


def _values(texts: list[str | None]) -> tuple[pl.DataFrame, pl.DataFrame]:
    col = dataset("meter_readings").column("value")
    frame = pl.DataFrame({"__s": texts}, schema={"__s": pl.String})
    v, e = parse_column(col, pl.col("__s"), frame)
    w, f = _parse(col, pl.col("__s"), None, None)
    return frame.select(v.cast(pl.Float64), e), frame.select(w.cast(pl.Float64), f)


def test_a_misleading_head_gives_the_same_values(monkeypatch):
    monkeypatch.setattr(cells, "HINT_CELLS", 100)
    bad = ["x", "-1", "1e5", "1,5", None]
    distinct_head = [f"{i}.25" for i in range(100)] + ["7.5"] * 5000 + bad  # the head says "mostly distinct"
    repeated_head = ["7.5"] * 100 + [f"{i}.25" for i in range(5000)] + bad  # the head says "repeats"
    repeated = ["7.5", "0.25"] * 2500 + bad  # parsed by value
    for texts in (distinct_head, repeated_head, repeated):
        (v, e), (w, f) = (frame.get_columns() for frame in _values(texts))
        assert_series_equal(v, w, check_names=False)
        assert_series_equal(e, f, check_names=False)
        assert v.null_count() == 3 and e.null_count() == len(texts) - 3  # x, 1,5, empty; x, -1, 1,5
