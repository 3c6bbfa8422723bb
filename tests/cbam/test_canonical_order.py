"""`transforms.stable.canonical` takes a shortcut when the grain keys leave no ties (it sorts the keys only, and
leaves a frame already in order as it is): the order must be exactly the full sort by keys then every column."""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.cbam.products import _add_to_sorted_ids
from transforms.stable import canonical


def _full(df: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    rest = [c for c in ("a", "b", "c") if c not in keys]
    return df.sort([*keys, *rest], nulls_last=True, maintain_order=True)


def test_canonical_is_the_full_sort_with_or_without_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        df = pl.DataFrame(
            {
                "a": pl.Series([None if rng.random() < 0.2 else str(rng.integers(0, 4)) for _ in range(n)]),
                "b": pl.Series([None if rng.random() < 0.2 else int(rng.integers(0, 3)) for _ in range(n)]),
                "c": rng.random(n),
                "ids": [["x"]] * n,
            },
            schema={"a": pl.String, "b": pl.Int64, "c": pl.Float64, "ids": pl.List(pl.String)},
        )
        for keys in (["a"], ["a", "b"], ["b", "a"], ["c"]):
            assert canonical(df, keys).equals(_full(df, keys))
        unique = df.unique(["a", "b"])  # no ties: the shortcut
        assert canonical(unique, ["a", "b"]).equals(_full(unique, ["a", "b"]))
        ordered = _full(unique, ["a", "b"])  # already in order: returned as is
        assert canonical(ordered, ["a", "b"]).equals(ordered)


def test_an_id_joins_a_sorted_lineage_list_in_its_place():
    ids = [["a", "c", "e"], ["a", "c", "e"], [], ["b"], ["a", "b"], ["z"]]
    items = ["d", "c", "q", "a", "z", "a"]
    lf = pl.LazyFrame({"ids": ids, "item": items, "other": range(len(ids))})
    got = _add_to_sorted_ids(lf, "ids", "item").collect()
    want = lf.with_columns(ids=pl.concat_list("ids", "item").list.unique().list.sort()).collect()
    assert got.columns == want.columns
    assert got.equals(want)
    assert got["ids"].to_list()[0] == ["a", "c", "d", "e"]
