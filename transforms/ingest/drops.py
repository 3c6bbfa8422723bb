"""Rules that span the files of a drop and the drops of a dataset (spec/landing-zone.md):

- two rows of one drop with the same business key are both quarantined (ambiguous);
- event datasets: a row whose key was seen before replaces the earlier one (history keeps both);
- snapshot datasets: the newest drop is the whole truth (union of its files); a key whose row was
  quarantined in that drop keeps its previous valid version.
"""

from __future__ import annotations

import polars as pl

from transforms.contracts import Dataset
from transforms.ingest.validate import QUARANTINE_SCHEMA

ORDER = ["_drop_date", "_file", "_row_number"]


def split_duplicate_keys(dataset: Dataset, accepted: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of one drop sharing a business key → quarantine (all of them), with where the others are."""
    keys = dataset.keys
    if not keys or accepted.is_empty():
        return accepted, pl.DataFrame(schema=QUARANTINE_SCHEMA)
    counted = accepted.with_columns(
        __n=pl.len().over(keys, mapping_strategy="group_to_rows"),
        __where=pl.concat_str([pl.col("_file"), pl.lit(" row "), pl.col("_row_number").cast(pl.String)])
        .implode()
        .over(keys, mapping_strategy="group_to_rows"),
    )
    dup = pl.col("__n") > 1
    key_desc = pl.concat_str(
        [pl.format(f"{k}={{}}", pl.col(k).cast(pl.String).fill_null("")) for k in keys], separator=", "
    )
    quarantined = counted.filter(dup).select(
        dataset=pl.lit(dataset.name),
        drop_date=pl.col("_drop_date"),
        file=pl.col("_file"),
        row_number=pl.col("_row_number"),
        column=pl.lit(keys[0]),
        reason=pl.format(
            "business key ({}) appears {} times in this drop ({}): ambiguous, send one row per key",
            key_desc,
            pl.col("__n"),
            pl.col("__where").list.join("; "),
        ),
        raw=pl.struct(dataset.column_names).struct.json_encode(),
        key=pl.struct([pl.col(k).cast(pl.String) for k in keys]).struct.json_encode(),
    )
    return counted.filter(~dup).drop("__n", "__where"), quarantined.cast(QUARANTINE_SCHEMA)


def current_event(dataset: Dataset, history: pl.LazyFrame) -> pl.LazyFrame:
    """Latest version of every business key over all drops (a later drop corrects an earlier one)."""
    keys = dataset.keys
    ordered = history.sort(ORDER)
    if not keys:
        return ordered
    return ordered.unique(subset=keys, keep="last", maintain_order=True)


def current_snapshot(dataset: Dataset, history: pl.LazyFrame, quarantined_keys: pl.LazyFrame) -> pl.LazyFrame:
    """The newest drop's rows, plus the previous valid version of keys quarantined in that drop.

    `quarantined_keys` has `drop_date` and `key` (JSON of the key columns as text) of quarantined rows."""
    keys = dataset.keys
    newest = history.select(pl.col("_drop_date").max()).collect().item()
    if newest is None:
        return history
    latest = history.filter(pl.col("_drop_date") == newest)
    key_json = pl.struct([pl.col(k).cast(pl.String) for k in keys]).struct.json_encode()
    held = (
        quarantined_keys.filter((pl.col("drop_date") == newest) & pl.col("key").is_not_null())
        .select(__key=pl.col("key"))
        .unique()
    )
    previous = (
        history.filter(pl.col("_drop_date") < newest)
        .sort(ORDER)
        .unique(subset=keys, keep="last", maintain_order=True)
        .with_columns(__key=key_json)
        .join(held, on="__key", how="semi")
        .join(latest.select(keys), on=keys, how="anti")
        .drop("__key")
    )
    return pl.concat([latest, previous]).sort(ORDER)
