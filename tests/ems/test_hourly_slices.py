"""`hourly._hours_by_slices`: the hourly aggregation by positions (each hour's intervals a slice of the sorted
rows, added one after the other in time order) equals polars' grouping of the sorted hour keys
(`_hours_grouped`) bit for bit: sums (signed zeros, sums that depend on the order of the adds), counts, lineage
ends, meter index and files, for hours of one length and of mixed lengths; an hour longer than `SLICE_MAX` is
left to the grouping (None)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from transforms.ems.hourly import SLICE_MAX, _hours_by_slices, _hours_grouped


def _keyed(lengths: np.ndarray, seed: int, zeros: bool = False) -> pl.DataFrame:
    """Hours of the given numbers of intervals, in key order."""
    rng = np.random.default_rng(seed)
    hours = len(lengths)
    n = int(lengths.sum())
    q = rng.random(n) * 10.0 ** rng.integers(-3, 6, n).astype(float)
    if zeros:  # signed zeros, the first hours all -0.0
        q[rng.random(n) < 0.3] = -0.0
        q[: int(lengths[:3].sum())] = -0.0
    hk = np.repeat(np.sort(rng.choice(10 * hours, hours, replace=False)), lengths).astype(np.int64)
    return pl.DataFrame(
        {
            "_mi": pl.Series(hk // 7, dtype=pl.Int64),
            "quantity": q,
            "estimated": rng.random(n) < 0.2,
            "_file": pl.Series([f"f{i}" for i in rng.integers(0, 3, n)], dtype=pl.Categorical),
            "_row_number": pl.Series(np.arange(n) + 1, dtype=pl.Int32),
            "_hk": hk,
        }
    ).with_columns(pl.col("_hk").set_sorted())


def _same(keyed: pl.DataFrame, after_1970: bool, one_file: bool) -> None:
    got = _hours_by_slices(keyed, after_1970, one_file)
    assert got is not None
    want = _hours_grouped(keyed, after_1970, one_file)
    assert got.schema == want.schema
    assert got.equals(want)
    # bit for bit, the sign of zero included
    assert (got["quantity"].to_numpy().view(np.int64) == want["quantity"].to_numpy().view(np.int64)).all()


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 12, SLICE_MAX])
@pytest.mark.parametrize("zeros", [False, True], ids=["values", "signed zeros"])
@pytest.mark.parametrize(("after_1970", "one_file"), [(True, True), (False, False)])
def test_hours_of_one_length(k: int, zeros: bool, after_1970: bool, one_file: bool) -> None:
    _same(_keyed(np.full(3_000, k), seed=k, zeros=zeros), after_1970, one_file)


@pytest.mark.parametrize("top", [2, 4, 12, SLICE_MAX])
@pytest.mark.parametrize("zeros", [False, True], ids=["values", "signed zeros"])
def test_hours_of_mixed_lengths(top: int, zeros: bool) -> None:
    # (gaps, a cumulative meter's first hour, meters of other interval lengths; slices at every alignment)
    lengths = np.random.default_rng(top).integers(1, top + 1, 5_000)
    _same(_keyed(lengths, seed=top, zeros=zeros), True, True)
    _same(_keyed(lengths, seed=top + 1, zeros=zeros), False, False)


def test_the_order_of_the_adds_is_time_order() -> None:
    # four intervals whose left-to-right sum differs from a pairwise one
    values = [0.1 * (i + 1) for i in range(4, 8)]
    keyed = pl.DataFrame(
        {"_mi": [0] * 4, "quantity": values, "estimated": [False] * 4, "_file": pl.Series(["f"] * 4, dtype=pl.Categorical),
         "_row_number": pl.Series([1, 2, 3, 4], dtype=pl.Int32), "_hk": [5] * 4}
    )  # fmt: skip
    got = _hours_by_slices(keyed, True, True)
    assert got is not None and got["quantity"].item() == ((values[0] + values[1]) + values[2]) + values[3]


def test_longer_hours_and_empty_values_are_left_to_the_grouping() -> None:
    long_hour = _keyed(np.array([4, SLICE_MAX + 1, 4]), seed=1)
    assert _hours_by_slices(long_hour, True, True) is None
    keyed = _keyed(np.full(50, 4), seed=2)
    empty_value = keyed.with_columns(
        quantity=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise("quantity")
    )
    assert _hours_by_slices(empty_value, True, True) is None
