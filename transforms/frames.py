"""Frame helpers every engine shares."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import polars as pl


def with_columns_of(lf: pl.LazyFrame, schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """`lf` with every column of `schema` (absent optional columns added as nulls of their type)."""
    # (a clone's schema: polars 2.1 no longer pushes a row index and a filter after it into a Parquet scan whose
    # own `collect_schema` was called, and a batch of meters then decoded every reading of the file)
    have = lf.clone().collect_schema()
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in have]
    return lf.with_columns(missing) if missing else lf


def transposed(block: np.ndarray, tile: int = 512) -> np.ndarray:
    """`block.T` (rows × columns → columns × rows) copied in row-major order, tile by tile (a plain copy of the
    transposed view reads one value per memory page from a long block: 1.1 CPU-s against 0.05 for a year of
    500 meters)."""
    rows, cols = block.shape
    out = np.empty((cols, rows), dtype=block.dtype)
    for a in range(0, cols, tile):
        for b in range(0, rows, tile):
            out[a : a + tile, b : b + tile] = block[b : b + tile, a : a + tile].T
    return out.ravel()


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


def lines_by_key(frame: pl.DataFrame, key: str) -> pl.DataFrame | None:
    """`frame` stably sorted by its integer column `key` when its rows are lines of one pattern: the same
    distinct keys in the same order, line after line (a wide meter file's readings without a gap, in line order:
    `key` the meter). Then each column's lines × keys block is transposed (tile by tile, ~0.02 s per column of
    6 M values) instead of sorted and gathered (~0.6 s for the same frame). None when the rows are not such
    lines; a column with nulls, or of another type, is gathered by the same order."""
    codes_s = frame.get_column(key)
    n = frame.height
    if n < 4 or codes_s.null_count() or not codes_s.dtype.is_integer():
        return None
    codes = codes_s.to_numpy()
    again = np.flatnonzero(codes[1:] == codes[0])  # the second line starts where the first key comes back
    m = int(again[0]) + 1 if len(again) else n
    if m < 2 or m == n or n % m:
        return None
    lines = codes.reshape(-1, m)
    first = lines[0]
    if len(np.unique(first)) != m or not (lines == first).all():
        return None
    order = np.argsort(first, kind="stable")  # the keys of a line in ascending order
    in_order = bool((order == np.arange(m)).all())

    def moved(values: np.ndarray) -> np.ndarray:
        block = transposed(values.reshape(-1, m))  # keys × lines, in the line's key order
        return block if in_order else block.reshape(m, -1)[order].ravel()

    out: dict[str, pl.Series] = {}
    position: pl.Series | None = None
    with small_pages():
        for name, s in frame.to_dict().items():
            plain = (
                s.dtype.is_integer() or s.dtype.is_float() or s.dtype.is_temporal() or s.dtype == pl.Boolean
            )
            if plain and s.null_count() == 0:
                out[name] = pl.Series(name, moved(s.to_physical().to_numpy())).cast(s.dtype)
            else:
                if position is None:
                    position = pl.Series(moved(np.arange(n, dtype=np.uint32 if n < 2**32 else np.uint64)))
                out[name] = s.gather(position)
    return pl.DataFrame(out)
