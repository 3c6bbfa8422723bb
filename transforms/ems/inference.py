"""A meter's interval length when the meters drop does not give it: the most frequent positive step (minutes)
between its readings in UTC time order, the smallest of equally frequent ones (a reading twice gives a step of 0,
which does not count).

Incremental (issue 12: a nightly of one day must not re-read the year): the steps are counted per meter and UTC
month of the later reading of each step (`steps`, kept in the engine's carry, with each month's last reading). A
run from `since` (a UTC month start) counts the steps of the readings from `since` on, continued from the meter's
last reading before `since`, and adds the carried months before `since`: the same counts, hence the same length,
as a count over every reading, when no reading before `since` changed (`incremental_since` chooses `since` so).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

# per meter (`_mi`) and UTC month of the later reading: how many steps of `_step` minutes (`n`), and the month's
# last reading (`_month_last`, on every row of the month; a month with readings but no step has one row, `_step`
# null)
STEPS_SCHEMA = {
    "_mi": pl.Int64,
    "_month": pl.Datetime("us"),
    "_step": pl.Int64,
    "n": pl.Int64,
    "_month_last": pl.Datetime("us"),
}


def empty_steps() -> pl.DataFrame:
    return pl.DataFrame(schema=STEPS_SCHEMA)


def infer_interval_minutes(
    rows: pl.LazyFrame,
    meter_index: pl.Series,
    since: datetime | None = None,
    carried: pl.DataFrame | None = None,
) -> tuple[pl.Series, pl.DataFrame]:
    """(inferred, steps). `rows`: the readings of the meters to infer, with `_mx` (the meter's row among the
    meters, whose `_mi` column is `meter_index`) and `_utc`. `inferred`: a Series as long as `meter_index`, null
    where nothing was inferred. `steps`: the step counts (`STEPS_SCHEMA`) of the months counted here.

    With `since` and the `carried` steps of an earlier run: only the readings from `since` on are counted (the
    ones before are the carry's), each meter continuing from its last carried reading before `since`."""
    n = meter_index.len()
    mx_of = pl.DataFrame(
        {"_mi": meter_index.cast(pl.Int64), "_mx": pl.int_range(n, dtype=pl.Int64, eager=True)}
    )
    ts = (
        rows.filter(pl.col("_utc").is_not_null())
        .select(pl.col("_mx").cast(pl.Int64), pl.col("_utc").cast(pl.Datetime("us")))
        .collect(engine="streaming")
    )
    before = carried.filter(pl.col("_month") < since) if carried is not None and since is not None else None
    if since is not None:
        ts = ts.filter(pl.col("_utc") >= since)
    ts = ts.with_columns(_new=pl.lit(True))
    if before is not None and before.height:
        last = before.group_by("_mi").agg(_utc=pl.col("_month_last").max()).join(mx_of, on="_mi")
        ts = pl.concat([ts, last.select("_mx", "_utc", _new=pl.lit(False))])
    ts = ts.sort("_mx", "_utc")
    steps = ts.with_columns(
        _month=pl.col("_utc").dt.truncate("1mo"),
        _step=pl.when(pl.col("_mx") == pl.col("_mx").shift(1)).then(pl.col("_utc").diff().dt.total_minutes()),
    ).filter("_new")
    counts = (
        steps.filter(pl.col("_step") > 0).group_by("_mx", "_month", "_step").agg(n=pl.len().cast(pl.Int64))
    )
    months = steps.group_by("_mx", "_month").agg(_month_last=pl.col("_utc").max())
    counted = (
        months.join(counts, on=["_mx", "_month"], how="left")
        .join(mx_of, on="_mx")
        .select(list(STEPS_SCHEMA))
        .cast(STEPS_SCHEMA)  # type: ignore[arg-type]
        .sort("_mi", "_month", "_step", nulls_last=False)
    )
    total = pl.concat([before, counted]) if before is not None else counted
    mode = (
        total.filter(pl.col("_step").is_not_null())
        .group_by("_mi", "_step")
        .agg(pl.col("n").sum())
        .group_by("_mi")
        .agg(_inferred=pl.col("_step").sort_by("n", "_step", descending=[True, False]).first())
        .join(mx_of, on="_mi")
    )
    out = pl.Series("_inferred", [None] * n, dtype=pl.Int64)
    return (out.scatter(mode["_mx"], mode["_inferred"]) if mode.height else out), counted


__all__ = ["STEPS_SCHEMA", "empty_steps", "infer_interval_minutes"]
