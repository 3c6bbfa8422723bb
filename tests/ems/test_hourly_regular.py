"""`hourly._regular_hours`: when every hour holds the same number of intervals, the hourly aggregation by strided
adds equals polars' grouping of the sorted hour keys (`_hours_grouped`) bit for bit: sums (signed zeros, sums
that depend on the order of the adds), counts, lineage ends, meter index and files; any other frame is left to
the grouping (None)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from transforms.ems.hourly import _hours_grouped, _regular_hours


def _keyed(k: int, hours: int, seed: int, zeros: bool = False) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = k * hours
    q = rng.random(n) * 10.0 ** rng.integers(-3, 6, n).astype(float)
    if zeros:  # signed zeros, some hours all -0.0
        q[rng.random(n) < 0.3] = -0.0
        q[: 2 * k] = -0.0
    hk = np.repeat(np.sort(rng.choice(10 * hours, hours, replace=False)), k).astype(np.int64)
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


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 12, 16])
@pytest.mark.parametrize("zeros", [False, True], ids=["values", "signed zeros"])
@pytest.mark.parametrize(("after_1970", "one_file"), [(True, True), (False, False)])
def test_regular_hours_aggregate_as_the_grouping_does(
    k: int, zeros: bool, after_1970: bool, one_file: bool
) -> None:
    keyed = _keyed(k, 3_000, seed=k, zeros=zeros)
    got = _regular_hours(keyed, after_1970, one_file)
    assert got is not None
    want = _hours_grouped(keyed, after_1970, one_file)
    assert got.schema == want.schema
    assert got.equals(want)
    # bit for bit, the sign of zero included
    assert (got["quantity"].to_numpy().view(np.int64) == want["quantity"].to_numpy().view(np.int64)).all()


def test_the_order_of_the_adds_is_time_order() -> None:
    # four intervals whose left-to-right sum differs from a pairwise one
    values = [0.1 * (i + 1) for i in range(4, 8)]
    keyed = pl.DataFrame(
        {"_mi": [0] * 4, "quantity": values, "estimated": [False] * 4, "_file": pl.Series(["f"] * 4, dtype=pl.Categorical),
         "_row_number": pl.Series([1, 2, 3, 4], dtype=pl.Int32), "_hk": [5] * 4}
    )  # fmt: skip
    got = _regular_hours(keyed, True, True)
    assert got is not None and got["quantity"].item() == ((values[0] + values[1]) + values[2]) + values[3]


def test_irregular_hours_are_left_to_the_grouping() -> None:
    keyed = _keyed(4, 50, seed=1)
    gap = keyed.filter(pl.int_range(pl.len()) != 10)  # an hour of three intervals
    assert _regular_hours(gap, True, True) is None
    mixed = pl.concat([_keyed(4, 10, seed=2), _keyed(2, 10, seed=3).with_columns(pl.col("_hk") + 10**6)])
    assert _regular_hours(mixed.with_columns(pl.col("_hk").set_sorted()), True, True) is None
    empty_value = keyed.with_columns(
        quantity=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise("quantity")
    )
    assert _regular_hours(empty_value, True, True) is None
