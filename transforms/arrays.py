"""numpy helpers for big arrays: a transpose in cache-sized tiles (and a sort that is one), 4 KB pages for fresh
arrays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import polars as pl


@contextmanager
def small_pages() -> Iterator[None]:
    """numpy's big arrays in 4 KB pages while in the block. numpy asks the kernel for transparent huge pages
    for big arrays (madvise); where the kernel compacts memory to find one at the first touch (THP `defrag`
    set to `madvise`, as on this machine), the first 140 MB array of a process took 0.3-1.5 s to fill, against
    0.1 s in 4 KB pages (a year of 500 meters: `transposed` 1.55 s wall in the ingestion's profile)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # another numpy: its defaults
        yield
        return
    before = _set_madvise_hugepage(False)  # the setting it replaces
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


def transposed(block: np.ndarray, tile: int = 512) -> np.ndarray:
    """`block.T` (columns × lines → lines × columns) copied in row-major order, tile by tile (a plain copy of the
    transposed view reads one value per memory page from a long block: 1.1 CPU-s against 0.05 for a year of
    500 meters)."""
    rows, cols = block.shape
    out = np.empty((cols, rows), dtype=block.dtype)
    for a in range(0, cols, tile):
        for b in range(0, rows, tile):
            out[a : a + tile, b : b + tile] = block[b : b + tile, a : a + tile].T
    return out.ravel()


def grid_sorted(df: pl.DataFrame, by: str) -> pl.DataFrame | None:
    """`df` stably sorted by its integer column `by` when its rows form a grid: line after line, each holding the
    same values of `by` in increasing order (the interval engine: a wide meter file's readings with no gap, in
    the order ingestion stages them, `by` the meter). The sort is then a transpose, copied column by column in
    cache-sized tiles (`transposed`) instead of gathering rows from all over memory; a column with nulls, or of
    another kind, is gathered by the transpose's positions. None when the rows are not such a grid."""
    mi = df.get_column(by)
    if df.height == 0 or mi.null_count():
        return None
    m = mi.n_unique()
    if df.height % m:
        return None
    codes = mi.to_numpy()
    line = codes[:m]
    if (m > 1 and not (line[1:] > line[:-1]).all()) or not (codes.reshape(-1, m) == line).all():
        return None
    n = df.height // m
    with small_pages():
        at: pl.Series | None = None
        out = []
        for s in df.get_columns():
            if s.null_count() == 0 and (s.dtype.is_numeric() or s.dtype in (pl.Datetime("us"), pl.Boolean)):
                out.append(pl.Series(s.name, transposed(s.to_numpy().reshape(n, m))).cast(s.dtype))
                continue
            if at is None:
                at = pl.Series(transposed(np.arange(df.height, dtype=np.uint32).reshape(n, m)))
            out.append(s.gather(at))
    return pl.DataFrame(out)
