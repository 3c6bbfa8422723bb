"""Bit-stable results: sums and row orders that do not depend on input row order or on polars' threads.

polars aggregates in parallel: a group's rows reach `sum()` in an order that varies with the number of threads,
the engine's morsel split and the row order left by joins, and float addition is not associative, so a plain
`sum()` can differ in the last bits between two runs on the same input. `fsum` is a sum whose bits do not
depend on the order (exact partial sums on fixed grids), and `canonical` gives every computed table one row
order, so the same inputs always give byte-identical Parquet files and stable run-record hashes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from functools import reduce
from typing import TypeVar

import polars as pl

F = TypeVar("F", pl.DataFrame, pl.LazyFrame)
_UNSORTABLE = (pl.List, pl.Array, pl.Struct, pl.Object)


# `fsum` cuts each value into digits on fixed binary grids 2^80, 2^51, …, 2^-123 (29 bits apart): with at most
# 2^GROUP_BITS values per group, the digits of one grid add up to a representable multiple of that grid, so
# their sum is exact whatever the order; bits below the finest grid (9e-38) are dropped, so values are kept to
# the bit down to magnitudes of 2^-70 (8e-22), far below any quantity the engines handle.
GROUP_BITS = 24
_GRIDS = [2.0**e for e in range(80, -124, -(53 - GROUP_BITS))]


def fsum(expr: pl.Expr) -> pl.Expr:
    """`expr.sum()` as Float64 with the same bits for any row order, thread count or engine, and at most about
    1 ulp from the correctly rounded sum (a plain float sum drifts by up to n ulps).

    Use as `pl.col("x").pipe(fsum)` in `agg`, `select` or before `.over(...)`; nulls count as nothing and an
    empty or all-null group sums to 0, as with `sum()`. The digits of each grid are summed exactly (any order)
    and the per-grid sums combined smallest first. Bit-stable for groups under 2^24 rows of magnitudes under
    2^80 (1.2e24); ±inf or NaN give NaN (the landing zone refuses both). Element-wise work then plain sums, a
    few times a plain `sum()` and far cheaper than sorting each group."""
    return _fsum(expr, pl.Expr.sum)


def fsum_of_one(expr: pl.Expr) -> pl.Expr:
    """`fsum` of a group of one row, computed row by row: the same operations, so the same bits (-0.0 gives 0.0
    and digits below the finest grid are dropped, as `fsum` does). For a plan that skips grouping the rows that
    are alone in their group."""
    return _fsum(expr, lambda level: level)


def fsum_levels(expr: pl.Expr) -> list[pl.Expr]:
    """`fsum`'s exact per-grid sums of `expr` (coarsest first; use in `agg` or `select`). The levels of a group's
    parts add up, with a plain `sum()` of each level, to the group's own levels exactly (the same bound of 2^24
    rows holds for the whole group), so `fsum_of_levels` of those sums is the group's `fsum` to the bit: sums of
    parts carried from run to run (the zero-carbon indicators' meter years, by month part of meter_hourly)."""
    return _levels(expr, pl.Expr.sum)


def fsum_of_levels(levels: Sequence[pl.Expr]) -> pl.Expr:
    """The `fsum` whose per-grid sums are `levels` (as `fsum_levels` gives them), combined smallest first."""
    out = levels[-1]
    for level in reversed(levels[:-1]):
        out = level + out
    return out


FSUM_LEVELS = len(_GRIDS)


def _levels(expr: pl.Expr, total: Callable[[pl.Expr], pl.Expr]) -> list[pl.Expr]:
    # The digit of x between grids g_i > g_(i+1) is sign(x) × (|x| mod g_i − |x| mod g_(i+1)): x cut toward zero to
    # g_(i+1) minus x cut to g_i, the same value, computed exactly (each remainder of |x| by a power of two is
    # exact, and so is their difference: a multiple of g_(i+1) under g_i). This form refers to x three times per
    # digit where the cuts took six; polars' planning and running cost grow with the expression's size, and a
    # plan with dozens of sums of a few rows spends most of its time there (docs/performance.md, 5 December).
    x = expr.cast(pl.Float64)
    a, s = x.abs(), x.sign()
    rem = [a % g for g in _GRIDS]
    digits = [s * (a - rem[0])] + [s * (c - f) for c, f in zip(rem[:-2], rem[1:-1], strict=True)]
    # the finest digit as a difference of signed remainders: +0.0 when it is zero, never -0.0, so the combination
    # (smallest first) gives +0.0 for a zero sum, as the cuts did
    digits.append(s * rem[-2] - s * rem[-1])
    return [total(d) for d in digits]


def _fsum(expr: pl.Expr, total: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    return fsum_of_levels(_levels(expr, total))


def added(*terms: str | pl.Expr) -> pl.Expr:
    """`terms[0] + terms[1] + …` added left to right, null when any term is null: the same bits on either polars
    engine. `pl.sum_horizontal` adds floats in another order on the in-memory engine than on the streaming one
    (the footprint's cradle-to-gate sum differed in the last bit in 65 of 216 rows at scale 100)."""
    return reduce(operator.add, [pl.col(t) if isinstance(t, str) else t for t in terms])


def quotient(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """`a / b`, a true (correctly rounded) division whatever the row layout: use it for every division by a column.

    polars divides a column by a divisor it holds as one broadcast value (a literal, a column it keeps as a
    scalar: one row exploded into many, the side of a join that has one row, a `first()`) as a multiplication
    by the reciprocal, and by a materialised column as a true division; which one a row gets then depends on
    threads, chunking, file order or the engine, and the last bit of `a / pl.col("b")` with it. `b + a * 0.0`
    is `b` to the bit (for finite `a`; ±inf or NaN, which the landing zone refuses, give NaN) but always a full
    column when `a` is one, so polars always divides element by element (a broadcast `a` divides elementwise
    too). Nulls and zero divisors behave as with `/`."""
    return a / (b + a * 0.0)


def canonical(frame: F, keys: Sequence[str]) -> F:
    """`frame` sorted by its grain `keys`, then by every other sortable column (a total order even where the
    keys repeat), nulls last; list and struct columns do not take part."""
    schema = frame.collect_schema()
    lead = [k for k in keys if k in schema]
    rest = [c for c, t in schema.items() if c not in lead and not isinstance(t, _UNSORTABLE)]
    if lead and isinstance(frame, pl.DataFrame) and frame.height > 1:
        # When the keys alone leave no ties, the other columns break none: the same order from sorting the keys
        # only, and no row moves when the frame is in that order already (a wide table of 10^5+ rows then costs
        # a sort of its keys instead of a sort by every column and a gather of every row).
        order = frame.select(pl.arg_sort_by(lead, nulls_last=True, maintain_order=True)).to_series()
        keys = frame.select(lead)[order]
        tied = pl.all_horizontal(pl.col(k).eq_missing(pl.col(k).shift(1)) for k in lead)
        if not keys.select(tied.fill_null(False).any()).item():
            in_order = (order == pl.int_range(0, frame.height, dtype=order.dtype, eager=True)).all()
            return frame if in_order else frame[order]
    return frame.sort(lead + rest, nulls_last=True, maintain_order=True) if lead or rest else frame


def distinct_sorted(lists: pl.Expr, *, drop_nulls: bool = False) -> pl.Expr:
    """Each list's distinct elements in ascending order, nulls first (or dropped): the lists of
    `lists.list.unique().list.sort()`, or of `unique().sort()` in a `group_by`, in about half the time. `list.eval`
    spreads the lists over polars' threads and sorts texts faster than `list.sort`; lineage lists of 10^5 ids
    are where it counts (docs/performance.md, 5 December)."""
    element = pl.element().drop_nulls() if drop_nulls else pl.element()
    return lists.list.eval(element.unique().sort())
