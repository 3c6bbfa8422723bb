"""Bit-stable results: sums and row orders that do not depend on input row order or on polars' threads.

polars aggregates in parallel: a group's rows reach `sum()` in an order that varies with the number of threads,
the engine's morsel split and the row order left by joins, and float addition is not associative, so a plain
`sum()` can differ in the last bits between two runs on the same input. `fsum` sums each group's values in
sorted order (one array, one order, whatever the threads), and `canonical` gives every computed table one row
order, so the same inputs always give byte-identical Parquet files and stable run-record hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import polars as pl

F = TypeVar("F", pl.DataFrame, pl.LazyFrame)
_UNSORTABLE = (pl.List, pl.Array, pl.Struct, pl.Object)


def fsum(expr: pl.Expr) -> pl.Expr:
    """`expr.sum()` (as Float64) that gives the same bits for any row order or thread count, and is as accurate
    as a correctly rounded sum in all but rare cases (1 ulp at most).

    Use as `pl.col("x").pipe(fsum)`, in `agg`, `select` or before `.over(...)`; nulls count as nothing and an
    empty or all-null group sums to 0, as with `sum()`. How: twice, each value is split exactly into a high part
    on a grid fixed by the group's largest magnitude and count (so the high parts add up exactly, in any order)
    and a low remainder (Rump, Ogita & Oishi, "Accurate floating-point summation", 2008); the last, tiny
    remainders are summed in sorted order."""
    x = expr.cast(pl.Float64)
    hi1, lo1 = _extract(x)
    hi2, lo2 = _extract(lo1)
    # Not `lo2.sort().sum()`: the optimiser drops a sort before a sum, `implode().list.sum()` keeps it.
    return hi1 + (hi2 + lo2.sort().implode().list.sum())


def _extract(x: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(exact sum of the high parts, low parts): with σ = 2^(⌈log2 max|x|⌉ + ⌈log2(n + 2)⌉), each high part
    (x + σ) − σ is a multiple of ulp(σ)/2 and their sum stays below σ, so every partial sum is exact."""
    grid = x.abs().max().log(2).ceil() + (x.len() + 2).cast(pl.Float64).log(2).ceil()
    sigma = pl.lit(2.0, pl.Float64).pow(grid)
    hi = (x + sigma) - sigma
    return hi.sum(), x - hi


def canonical(frame: F, keys: Sequence[str]) -> F:
    """`frame` sorted by its grain `keys`, then by every other sortable column (a total order even where the
    keys repeat), nulls last; list and struct columns do not take part."""
    schema = frame.collect_schema()
    lead = [k for k in keys if k in schema]
    rest = [c for c, t in schema.items() if c not in lead and not isinstance(t, _UNSORTABLE)]
    return frame.sort(lead + rest, nulls_last=True, maintain_order=True) if lead or rest else frame
