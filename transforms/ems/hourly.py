"""Intervals → hourly aggregates per meter (docs/outputs.md `fct_meter_hourly`).

Grain: meter × hour (`hour_start` local time of the meter's timezone; `hour_start_utc` is the same instant in UTC (naive timestamp), unique
also across a daylight-saving change). Every hour of the meter's data window has a row, measured or not:
`intervals_expected` = the meter's grid intervals in that hour inside its window = `intervals_measured` +
`intervals_estimated` + `intervals_missing`; `quantity` is the sum over measured and estimated intervals, in the
meter's output unit (electricity kWh, multiplier applied), and NULL when every interval of the hour is missing.
Lineage: `source_row_id_first` / `source_row_id_last` are the `<file>#<row>` ids of the hour's earliest and latest
interval (for a cumulative register, of the later reading of each difference); every reading behind the hour is the
meter's raw `meter_readings` rows with interval_start in [hour_start, hour_start + 1 h).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from transforms.ems.intervals import KEY_SHIFT
from transforms.ems.zones import _FIXED_SINCE, UTC, fixed_offset_s
from transforms.ingest.validate import lineage_file

HOUR = pl.duration(hours=1)
# hours from these instants have a key whose high part is the meter index (KEY_SHIFT: 2^34 s, 544 years)
_EPOCH, _KEY_END = datetime(1970, 1, 2), datetime(2500, 1, 1)


def _local_of(utc: pl.Expr, zones: list[str]) -> pl.Expr:
    """Local naive time of a naive-UTC instant in the row's `timezone` (fixed-offset zones by arithmetic)."""
    out: pl.Expr = pl.lit(None, dtype=pl.Datetime("us"))
    for z in zones:
        off = fixed_offset_s(z)
        early = utc if off is None else pl.when(utc < _FIXED_SINCE).then(utc)  # null rows cost nothing
        general = early.dt.replace_time_zone(UTC).dt.convert_time_zone(z).dt.replace_time_zone(None)
        here = general if off is None else pl.coalesce(general, utc + pl.duration(seconds=off))
        out = pl.when(pl.col("timezone") == z).then(here).otherwise(out)
    return out


def _lineage_files(files: pl.Series) -> pl.Series:
    """File → the file part of its `_source_row_id` (ingestion's encoding), once per distinct file. A categorical
    column (the engine's) by its codes: a gather from the few encoded files, no text hashed per row."""
    distinct = files.drop_nulls().unique()
    encoded = pl.Series([lineage_file(f) for f in distinct.cast(pl.String).to_list()], dtype=pl.String)
    if files.dtype == pl.Categorical and files.len():
        codes = files.to_physical()
        top = codes.max()
        if top is not None and int(top) < 1 << 20:  # type: ignore[arg-type]
            table = pl.Series([None] * (int(top) + 1), dtype=pl.String)  # type: ignore[arg-type]
            return table.scatter(distinct.to_physical(), encoded).gather(codes).rename(files.name)
    return files.cast(pl.String).replace_strict(
        distinct.cast(pl.String), encoded, default=None, return_dtype=pl.String
    )


def source_row_id(file: pl.Expr, row: pl.Expr) -> pl.Expr:
    """`<file>#<row>`, the lineage id ingestion gives a row (`transforms.ingest.validate.lineage_file`)."""
    enc = file.map_batches(_lineage_files, return_dtype=pl.String)
    return pl.concat_str([enc, pl.lit("#"), row.cast(pl.String)])


def hour_of(local: pl.Expr, utc: pl.Expr) -> pl.Expr:
    """UTC instant of the local hour an interval starts in (offsets change on whole hours)."""
    return utc - pl.duration(seconds=local.dt.epoch("s") % 3600)


def _hours_grouped(keyed: pl.DataFrame, after_1970: bool, one_file: bool) -> pl.DataFrame:
    """`meter_hourly`'s aggregation of `keyed` (sorted by `_hk`): one row per hour key."""
    aggs = [
        pl.col("quantity").sum().alias("quantity"),
        pl.col("estimated").sum().cast(pl.Int64).alias("intervals_estimated"),
        pl.len().cast(pl.Int64).alias("_n"),
        pl.col("_row_number").first().alias("_r0"),
        pl.col("_row_number").last().alias("_r1"),
    ]
    if not after_1970:
        aggs.append(pl.col("_mi").first())
    if not one_file:
        aggs += [pl.col("_file").first().alias("_f0"), pl.col("_file").last().alias("_f1")]
    return keyed.lazy().group_by("_hk", maintain_order=True).agg(aggs).collect(engine="in-memory")


SLICE_MAX = 16  # the most intervals an hour may hold for `_hours_by_slices` (a 5-minute meter: 12)


def _hours_by_slices(keyed: pl.DataFrame, after_1970: bool, one_file: bool) -> pl.DataFrame | None:
    """`meter_hourly`'s aggregation of `keyed` (sorted by `_hk`) by positions, when no hour holds more than
    `SLICE_MAX` intervals: each hour's rows are a slice, and its sum is the slice's values added one after the
    other in time order, the j-th of every hour at once, as polars adds a sorted slice (+0.0 first; one interval
    alone is its own value: tests/ems/test_hourly_slices.py compares both bit for bit). No grouping of millions
    of keys: about half the CPU of the grouping for 6 M intervals. None for longer hours (the grouping adds them)."""
    n = keyed.height
    if n == 0 or keyed["quantity"].null_count():
        return None
    hk = keyed["_hk"].to_numpy()
    starts = np.flatnonzero(np.concatenate(([True], hk[1:] != hk[:-1])))
    lens = np.diff(np.append(starts, n))
    top = int(lens.max())
    if top > SLICE_MAX:
        return None
    q = keyed["quantity"].to_numpy()
    total = q[starts]
    longer = lens > 1
    total[longer] = 0.0 + total[longer]
    for j in range(1, top):
        more = lens > j
        total[more] = total[more] + q[starts[more] + j]
    est = np.add.reduceat(keyed["estimated"].cast(pl.Int64).to_numpy(), starts)
    at_first = pl.Series(starts.astype(np.int64))
    at_last = pl.Series((starts + lens - 1).astype(np.int64))
    rows = keyed["_row_number"]
    out = {
        "_hk": pl.Series("_hk", hk[starts], dtype=keyed.schema["_hk"]),
        "quantity": pl.Series("quantity", total, dtype=pl.Float64),
        "intervals_estimated": pl.Series("intervals_estimated", est, dtype=pl.Int64),
        "_n": pl.Series("_n", lens, dtype=pl.Int64),
        "_r0": rows.gather(at_first).alias("_r0"),
        "_r1": rows.gather(at_last).alias("_r1"),
    }
    if not after_1970:
        out["_mi"] = keyed["_mi"].gather(at_first)
    if not one_file:
        out["_f0"] = keyed["_file"].gather(at_first).alias("_f0")
        out["_f1"] = keyed["_file"].gather(at_last).alias("_f1")
    return pl.DataFrame(out)


def meter_hourly(
    intervals: pl.DataFrame,
    decreases: pl.DataFrame,
    ranges: pl.DataFrame,
    meters: pl.DataFrame,
    zones: list[str],
    since: datetime | None = None,
) -> pl.DataFrame:
    """One row per meter × hour of its data window (see module doc), sorted by meter_id and hour_start_utc; only
    the hours from `since` (UTC) when given.
    `intervals` sorted by (`_mi`, start), `ranges` by `_mi`, `decreases` as `readings_to_intervals` gives them;
    `meters` is `normalise_meters` output (collected)."""
    hour_utc = hour_of(pl.col("interval_start"), pl.col("interval_start_utc"))
    keyed = intervals.select(
        "_mi",
        "quantity",
        "estimated",
        "_file",
        "_row_number",
        _hk=pl.col("_mi") * KEY_SHIFT + hour_utc.dt.epoch("s"),
    )
    if not keyed["_hk"].is_sorted():
        # (a zone whose offset changes by other than whole hours: its hours out of key order) a stable sort keeps
        # each hour's intervals in time order
        keyed = keyed.sort("_hk", maintain_order=True)
    keyed = keyed.with_columns(pl.col("_hk").set_sorted())
    # Sorted slices (in-memory engine): each hour's intervals added one after the other in time order, so the sum
    # is the same to the bit whatever the threads (the streaming engine would cut some hours at its morsels, and a
    # hash grouping adds in another order).
    # What every interval shares is not aggregated: one file (a year's export) and hours after 1970 (the meter
    # index is then the key's high part).
    code = keyed["_file"].to_physical()
    one_file = code.null_count() == 0 and (code.len() == 0 or code.min() == code.max())
    starts = intervals["interval_start_utc"]
    after_1970 = keyed.height == 0 or (starts.min() >= _EPOCH and starts.max() < _KEY_END)  # type: ignore[operator]
    agg = _hours_by_slices(keyed, after_1970, one_file)
    if agg is None:
        agg = _hours_grouped(keyed, after_1970, one_file)
    if after_1970:
        agg = agg.with_columns(_mi=(pl.col("_hk") // KEY_SHIFT).cast(intervals.schema["_mi"]))
    if one_file:
        file = pl.lit(keyed["_file"].head(1)).first()
        agg = agg.with_columns(_f0=file, _f1=file)
    del keyed, code
    agg = agg.with_columns(intervals_measured=pl.col("_n") - pl.col("intervals_estimated"))
    # The grid: every hour of each meter's window, meter by meter (ranges are sorted by `_mi`), so in key order.
    per_meter = ranges.select(
        "_mi",
        "range_start_utc",
        "range_end_utc",
        "interval_minutes",
        "interval_inferred",
        hour_start_utc=pl.datetime_ranges(
            hour_of(pl.col("range_start"), pl.col("range_start_utc")),
            pl.col("range_end_utc") - pl.duration(microseconds=1),
            interval="1h",
            time_unit="us",
        ),
    ).with_columns(
        _len=pl.col("hour_start_utc").list.len().cast(pl.Int64),
        _first=pl.col("hour_start_utc").list.first().dt.epoch("s"),
    )
    # (an empty window explodes to one row without an hour, as before; polars 2 drops an empty list unless told:
    # the grid was then a row short and every later meter's positions one off, out of bounds)
    rows = pl.max_horizontal("_len", 1)
    per_meter = per_meter.with_columns(_off=rows.cum_sum() - rows)
    grid = per_meter.select(
        "_mi", "range_start_utc", "range_end_utc", "interval_minutes", "interval_inferred", "hour_start_utc"
    ).explode("hour_start_utc", empty_as_null=True)
    n = grid.height
    at = _positions(per_meter, meters)
    # agg rows onto the grid by position (an hour off the hourly grid of its meter is dropped, as a join would)
    pos = agg.select(at).to_series()
    agg = agg.drop("_hk", "_mi", "_n")
    if not (agg.height == n and pos.null_count() == 0):
        idx = pl.repeat(None, n, dtype=pl.UInt32, eager=True).scatter(
            pos.drop_nulls(), pl.int_range(agg.height, dtype=pl.UInt32, eager=True).filter(pos.is_not_null())
        )
        agg = agg.select(pl.all().gather(idx))
    dec = pl.repeat(0, n, dtype=pl.Int64, eager=True)
    if decreases.height:
        d = (
            decreases.with_columns(_hk=pl.col("_mi").cast(pl.Int64) * KEY_SHIFT + hour_utc.dt.epoch("s"))
            .group_by("_hk")
            .agg(pl.col("_mi").first(), register_decreases=pl.len().cast(pl.Int64))
            .with_columns(_pos=at)
            .filter(pl.col("_pos").is_not_null())
        )
        dec = dec.scatter(d["_pos"], d["register_decreases"])
    if since is not None:  # (an incremental run: the hours before are the carry's)
        # a meter whose merged window holds no hour keeps its row without an hour, as a run over every reading
        keep = (grid["hour_start_utc"] >= since) | grid["hour_start_utc"].is_null()
        grid, agg, dec = grid.filter(keep), agg.filter(keep), dec.filter(keep)
    m = _by_mi(meters)

    def attr(col: str) -> pl.Expr:
        return pl.lit(m[col]).gather(pl.col("_mi"))

    expected = (
        (
            (
                pl.min_horizontal(pl.col("hour_start_utc") + HOUR, "range_end_utc")
                - pl.max_horizontal("hour_start_utc", "range_start_utc")
            ).dt.total_seconds()
            // (pl.col("interval_minutes") * 60)
        )
        .clip(0)
        .cast(pl.Int64)
    )
    out = (
        pl.concat([grid, agg], how="horizontal")
        .with_columns(
            *(attr(c).alias(c) for c in _METER_COLS),
            attr("out_unit").alias("unit"),
            intervals_expected=expected,
            register_decreases=dec,
        )
        .with_columns(
            hour_start=_local_of(pl.col("hour_start_utc"), zones),
            intervals_measured=pl.col("intervals_measured").fill_null(0),
            intervals_estimated=pl.col("intervals_estimated").fill_null(0),
        )
        .with_columns(
            intervals_missing=pl.col("intervals_expected")
            - pl.col("intervals_measured")
            - pl.col("intervals_estimated"),
            source_row_id_first=source_row_id(pl.col("_f0"), pl.col("_r0")),
            source_row_id_last=source_row_id(pl.col("_f1"), pl.col("_r1")),
        )
        .select(HOURLY_COLUMNS)
    )
    if out["hour_start_utc"].null_count():  # rows without an hour first, where a sort by the key puts them
        nulls = pl.col("hour_start_utc").is_null()
        out = pl.concat([out.filter(nulls), out.filter(~nulls)])
    return out


_METER_COLS = (
    "meter_id",
    "installation_id",
    "process_id",
    "role",
    "carrier",
    "parent_meter_id",
    "counted",
    "ppa_direct",
    "multiplier",
    "timezone",
)


def _by_mi(meters: pl.DataFrame) -> pl.DataFrame:
    """Row i: the usable meter whose `_mi` is i (one chunk: gathers from it are cheap)."""
    usable = meters.filter(pl.col("_mi").is_not_null())
    n = int(usable["_mi"].max()) + 1 if usable.height else 0  # type: ignore[arg-type]
    return (
        pl.DataFrame({"_mi": pl.int_range(n, dtype=pl.Int64, eager=True)})
        .join(usable, on="_mi", how="left", maintain_order="left")
        .rechunk()
    )


def _positions(per_meter: pl.DataFrame, meters: pl.DataFrame) -> pl.Expr:
    """Row position on the hourly grid of a row with `_mi` and `_hk` (the UTC hour, in its meter's key range);
    null when the hour is not one of its meter's grid hours."""
    usable = meters.filter(pl.col("_mi").is_not_null())
    n = int(usable["_mi"].max()) + 1 if usable.height else 0  # type: ignore[arg-type]
    slot = pl.repeat(None, n, dtype=pl.UInt32, eager=True).scatter(
        per_meter["_mi"], pl.int_range(per_meter.height, dtype=pl.UInt32, eager=True)
    )
    r = pl.lit(slot).gather(pl.col("_mi"))
    first, length, off = (pl.lit(per_meter[c]).gather(r) for c in ("_first", "_len", "_off"))
    secs = pl.col("_hk") - pl.col("_mi").cast(pl.Int64) * KEY_SHIFT - first
    k = secs // 3600
    return pl.when((secs % 3600 == 0) & (k >= 0) & (k < length)).then(off + k)


HOURLY_COLUMNS = [
    "installation_id",
    "meter_id",
    "role",
    "carrier",
    "process_id",
    "parent_meter_id",
    "hour_start",
    "hour_start_utc",
    "timezone",
    "quantity",
    "unit",
    "multiplier",
    "interval_minutes",
    "interval_inferred",
    "intervals_expected",
    "intervals_measured",
    "intervals_estimated",
    "intervals_missing",
    "register_decreases",
    "counted",
    "ppa_direct",
    "source_row_id_first",
    "source_row_id_last",
]
__all__ = ["HOURLY_COLUMNS", "UTC", "hour_of", "meter_hourly"]
