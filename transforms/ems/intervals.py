"""Meter readings → interval consumption (docs/landing-zone.md `meter_readings`, docs/methodology/zero-carbon.md §6).

Per reading, in order: the meter must be known and usable (`meters.normalise_meters`); the value finite; the wall
time is local time of the meter's timezone (default Asia/Shanghai) unless ingestion split off a written UTC offset
(`utc_offset_minutes`); the reading is moved from the meter's stamp (`start`, `end`, `midpoint`; ingestion has
already moved rows that declared their own stamp and set them to `start`) to its interval start, which must fall on
the meter's interval grid; value × multiplier is converted to the meter's output unit (electricity kWh). A reading
that fails is rejected with its reason (`issues`, kind `rejected`), never dropped silently; two readings for one
interval are both rejected.

Cumulative registers: the consumption of the interval ending at a reading = (reading − previous reading) ×
multiplier; the first reading is the baseline. A decrease (reset, rollover, meter change) leaves that interval
missing, never negative (kind `register_decrease`); a difference over more than one interval is assigned to the
interval ending at the later reading, as the spec says, and the intervals between count as missing (kind
`spans_gap`). Estimated readings (`quality` = `estimated`) stay apart from measured ones. Gaps are not filled: the
expected intervals come from each meter's data window (`ranges`) and interval length (given, else the most
frequent step between its readings).

Speed (17.5 M readings a year for 500 meters): reasons are small integer codes until the few rejected rows are
formatted; the accepted readings are sorted once by an integer key (meter index, interval start) so duplicates,
register differences and the hourly groups are neighbour comparisons and sorted slices; a zone without daylight
saving since 1992 (Asia/Shanghai) converts by its fixed offset, other zones through the time-zone database.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import polars as pl

from transforms.ems.cumulative import _cumulative, _of_meter
from transforms.ems.inference import empty_steps, infer_interval_minutes
from transforms.ems.meters import (
    READINGS_SCHEMA,
    STAMPS,
    reading_unit_factor,
    symbol_index,
    unit_index,
    with_columns_of,
)
from transforms.ems.zones import _US, _localise, fixed_offset_s, zones_of
from transforms.frames import lines_by_key

KEY_SHIFT = 2**34  # seconds per meter in the sort key (±272 years around 1970)


# Reason codes, in the order they are tested; formatted only for the rejected rows.
_UNKNOWN, _METER, _INTERVAL, _VALUE, _UNIT, _STAMP, _TIME, _GRID, _NEGATIVE, _DUPLICATE = range(1, 11)


def _stamp_code(stamp: pl.Expr) -> pl.Expr:
    """start 0, end 1, midpoint 2 (`STAMPS` order), anything else len(STAMPS) (an Enum cast: streamable)."""
    code = stamp.cast(pl.Enum(STAMPS), strict=False).to_physical().cast(pl.UInt8)
    return code.fill_null(len(STAMPS))


def _reasons() -> tuple[pl.Expr, pl.Expr]:
    """(column, reason) of a rejected row from its `_code`."""
    c = pl.col("_code")
    ts = pl.col("interval_start").cast(pl.String)
    texts = {
        _UNKNOWN: ("meter_id", pl.format("unknown meter '{}': not in meters (add it to the meters drop or correct the id)", pl.col("meter_id").fill_null(""))),
        _METER: ("meter_id", pl.format("meter '{}' cannot be used: {}", "meter_id", "meter_problem")),
        _INTERVAL: ("interval_start", pl.format(
            "meter '{}': interval length not given and not inferable (most frequent step {} min does not divide an "
            "hour): set interval_minutes in meters", "meter_id", pl.col("interval_minutes").cast(pl.String).fill_null("?"))),
        _VALUE: ("value", pl.format("value {} is not a finite number", "value")),
        _UNIT: ("unit", pl.format("unit '{}' cannot be converted to the meter's {}", "unit", "out_unit")),
        _STAMP: ("stamp", pl.format("stamp '{}' unknown (start, end or midpoint)", "_stamp")),
        _TIME: ("interval_start", pl.format(
            "timestamp {} does not exist or is ambiguous in {} (daylight-saving change): give a UTC offset", ts, "timezone")),
        _GRID: ("interval_start", pl.format(
            "timestamp {} (stamp {}) is not on the meter's {}-minute interval grid", ts, "_stamp", "interval_minutes")),
        _NEGATIVE: ("value", pl.format("negative interval consumption {}", "value")),
        _DUPLICATE: ("interval_start", pl.format(
            "two readings for meter '{}' at interval start {}: both rejected", "meter_id", pl.col("_start_local").cast(pl.String))),
    }  # fmt: skip
    column: pl.Expr = pl.lit(None, dtype=pl.String)
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    for code, (col, text) in texts.items():
        column = pl.when(c == code).then(pl.lit(col)).otherwise(column)
        reason = pl.when(c == code).then(text).otherwise(reason)
    return column, reason


class Carry(NamedTuple):
    """What an earlier run over all readings leaves for a run over the readings from `since` on (see
    `readings_to_intervals`): per meter its data window (`ranges`, with `_last`, the start of its last placed
    reading) and, per cumulative meter and UTC month (`_month`), its last accepted reading (`tails`); per meter
    whose interval length is inferred and UTC month, its steps between readings (`steps`, `transforms.ems.inference`)."""

    ranges: pl.DataFrame
    tails: pl.DataFrame
    steps: pl.DataFrame


def readings_to_intervals(
    readings: pl.LazyFrame,
    meters: pl.DataFrame,
    since: datetime | None = None,
    carry: Carry | None = None,
    rows: pl.Expr | None = None,
) -> tuple[pl.DataFrame, pl.LazyFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(intervals, issues, ranges, tails, decreases, steps).

    `since` (a UTC month start, naive) with the `carry` of a run over every reading: only the readings whose
    interval starts at or after `since` (UTC) are reduced — `readings` must hold at least those, e.g. every
    reading written from two days before — and a rejected reading without a UTC time by its written time; the
    meters' data windows start where the carry says, and each cumulative register continues from its last
    accepted reading before `since`. Every row from `since` on is then what a run over every reading gives.
    Each issue carries `_at` (the reading's UTC interval start, else its written time), the key that splits
    the issues at `since`. `tails`: per cumulative meter and UTC month its last accepted reading. `steps`: per
    meter whose interval is inferred and UTC month its steps between readings (an incremental run: the months
    from `since` on; `transforms.ems.inference`). `rows`: only
    the readings it keeps (one batch of meters, `transforms.ems.batched`), each numbered (`_ri`) as in `readings`.

    `meters` is `normalise_meters` output, collected (master data: a few thousand rows at most). intervals,
    sorted by (`_mi`, interval start): `_mi`, interval_start_utc (naive UTC), interval_start (local), quantity
    (meter's output unit), estimated, `_file` (categorical) and `_row_number` of the reading. issues (lazy: the
    rejected readings' raw cells come from `readings`): one row per rejected reading or missing/gap-spanning
    interval with its reason. ranges, sorted by `_mi`: per meter the data window [range_start_utc,
    range_end_utc) with range_start (local) and interval_minutes. decreases: `_mi` and interval start (local,
    UTC) of each interval a cumulative register's decrease left missing."""
    zones = zones_of(meters)
    md = meters.filter(pl.col("meter_id").is_not_null()).unique("meter_id", keep="first", maintain_order=True)
    # The meter's attributes by position (a gather from the small table, not a join of millions of rows).
    # (an Enum cast: elementwise, so the readings stream through; a replace_strict would hold them all first)
    mx = pl.col("meter_id").cast(pl.Enum(md["meter_id"]), strict=False).to_physical().cast(pl.UInt32)

    def attr(col: str) -> pl.Expr:
        return pl.lit(md[col]).gather(pl.col("_mx"))

    # Per reading only integers, floats and booleans of its meter (no string column gathered onto 17.5 M rows):
    # register, stamp, zone and units as small codes, computed once per meter.
    num = md.select(
        "_mi",
        _cum=pl.col("register") == "cumulative",
        _sc=_stamp_code(pl.col("stamp")),
        interval_minutes="interval_minutes",
        _uf="unit_factor",
        multiplier="multiplier",
        _ui=unit_index(pl.col("unit")),
        _oi=symbol_index(pl.col("out_unit")),
        _zi=pl.col("timezone").replace_strict(
            zones, list(range(len(zones))), default=None, return_dtype=pl.Int32
        ),
    ).with_columns(
        _off=pl.lit(pl.Series([fixed_offset_s(z) for z in zones], dtype=pl.Int64)).gather(pl.col("_zi"))
    )

    def m(col: str) -> pl.Expr:
        return pl.lit(num[col]).gather(pl.col("_mx"))

    numbered = with_columns_of(readings, READINGS_SCHEMA).with_row_index("_ri")
    if rows is not None:  # (numbered first: a row keeps its index in `readings` whatever the filter)
        numbered = numbered.filter(rows)
    r = numbered.with_columns(_mx=mx)
    j = r.with_columns(
        _known=pl.col("_mx").is_not_null(),
        **{c: m(c) for c in num.columns},
    )
    local, utc = _localise(zones)
    j = j.with_columns(_local=local, _utc=utc)
    to_infer = md.select(pl.col("interval_minutes").is_null() & pl.col("_mi").is_not_null()).to_series()
    inferred = bool(to_infer.any())
    steps = empty_steps()
    if inferred:  # (their readings first, two integer columns: no join of every reading on the meter's text)
        found, steps = infer_interval_minutes(
            j.filter(pl.lit(to_infer).gather(pl.col("_mx"))),
            md["_mi"],
            since if carry is not None else None,
            carry.steps if carry is not None else None,
        )
        j = j.with_columns(
            interval_minutes=pl.coalesce("interval_minutes", pl.lit(found).gather(pl.col("_mx")))
        )
    delta_s = pl.col("interval_minutes") * 60
    cumulative = pl.col("_cum")
    sc = pl.when(pl.col("stamp").is_null()).then("_sc").otherwise(_stamp_code(pl.col("stamp")))
    shift_s = (
        pl.when(cumulative | (sc == 0)).then(0).when(sc == 1).then(delta_s).when(sc == 2).then(delta_s // 2)
    )
    ui = unit_index(pl.col("unit"))
    j = j.with_columns(
        _stamp_ok=sc < len(STAMPS),
        _start_local=pl.col("_local") - pl.duration(seconds=shift_s),
        _start_utc=pl.col("_utc") - pl.duration(seconds=shift_s),
        # the meter's own unit (the usual case) by its precomputed factor; another unit from the pair table
        _factor=pl.when(pl.col("unit").is_null() | (ui == pl.col("_ui")))
        .then("_uf")
        .otherwise(reading_unit_factor(ui, pl.col("_oi"))),
    )
    bad_interval = (pl.col("interval_minutes") <= 0) | (60 % pl.col("interval_minutes").clip(1) != 0)
    on_grid = pl.col("_start_local").dt.epoch("s") % delta_s.clip(1) == 0
    code = (
        pl.when(~pl.col("_known")).then(_UNKNOWN)
        .when(pl.col("_mi").is_null()).then(_METER)
        .when(pl.col("interval_minutes").is_null() | bad_interval).then(_INTERVAL)
        .when(~pl.col("value").is_finite()).then(_VALUE)
        .when(pl.col("_factor").is_null()).then(_UNIT)
        .when(~pl.col("_stamp_ok")).then(_STAMP)
        .when(pl.col("_utc").is_null()).then(_TIME)
        .when(~on_grid).then(_GRID)
        .when(~cumulative & (pl.col("value") < 0)).then(_NEGATIVE)
        .otherwise(0)
        .cast(pl.UInt8)
    )  # fmt: skip
    # An empty value is a gap (not a reading); ingestion does not emit such rows, a direct caller may.
    j = j.filter(pl.col("value").is_not_null() | ~pl.col("_known")).with_columns(_code=code)
    # The one wide pass: every reading reduced to narrow columns, held once for all consumers. The meter's own
    # attributes (register, interval length) are not carried per reading: `by_mi` gives them by meter index.
    narrow = j.select(
        "_ri",
        pl.col("_mi").cast(pl.Int32),
        "_code",
        pl.col("interval_minutes").cast(pl.Int32),  # (given or inferred: the rejected rows' reasons quote it)
        pl.col("_start_utc").alias("interval_start_utc"),
        pl.col("_start_local").alias("interval_start"),
        (pl.col("value") * pl.col("multiplier") * pl.col("_factor")).alias("quantity"),
        (pl.col("quality") == "estimated").fill_null(False).alias("estimated"),
        pl.col("_file").cast(pl.Categorical),  # lineage: file and row, formatted per hour only
        pl.col("_row_number").cast(pl.Int32),  # a line of a file
    )
    # Collected here with the streaming engine: the wide rows stream through in batches and only the narrow
    # columns are ever held (an in-memory plan would materialise every raw column of 17.5 M rows first).
    narrow_df = narrow.collect(engine="streaming")
    # Eager from here (memory: one narrow frame and its sorted copy at a time, never the raw rows).
    bad_rows = narrow_df.filter(pl.col("_code") > 0).select(_BAD_COLS)
    by_mi = _by_meter_index(num, narrow_df if inferred else None)
    # Placed readings (a usable meter, a time on its grid), rejected values included so that a rejected first or
    # last reading still opens or closes the meter's window; sorted once by the integer key (a file already in
    # meter-and-time order is not sorted again).
    placed_codes = pl.col("_code").is_in([0, _VALUE, _UNIT, _NEGATIVE])
    if since is not None:  # two readings for one interval share its UTC start: both on the same side
        placed_df = narrow_df.filter(placed_codes & (pl.col("interval_start_utc") >= since))
    else:
        placed_df = narrow_df if bad_rows.height == 0 else narrow_df.filter(placed_codes)
    del narrow_df
    placed_df = placed_df.drop("interval_minutes")
    # The key is computed when needed, never stored in the frame (8 bytes a reading less in it and its sorted
    # copy): once the batch is in key order, its keys as a Series for the order test and the duplicates below.
    # Key order needs meter order first, which a file in line order (time, then meter) does not have.
    key = pl.col("_mi").cast(pl.Int64) * KEY_SHIFT + pl.col("interval_start_utc").dt.epoch("s")
    keys = placed_df.select(key).to_series() if placed_df["_mi"].is_sorted() else None
    if keys is None or not keys.is_sorted():
        # A file in line order (time, then meter) is in time order within each meter: a stable sort by the meter
        # index alone gives key order, checked after; anything else is sorted by the key. Lines that all hold the
        # same meters (a wide file without gaps) are put in meter order by a transpose, not a sort; other rows by
        # one gather of a struct of every column: a fraction of the CPU of a gather per column (rows in line
        # order are far apart in meter order: one cache miss per row, not per cell).
        # A column with one value throughout (every code 0, one source file) is not moved but set again.
        columns, same = placed_df.columns, _constant(placed_df, ("_code", "_file"))
        rest = placed_df.drop(list(same))
        del placed_df
        placed_df = lines_by_key(rest, "_mi")
        rows = None
        if placed_df is None:
            rows = rest.select(pl.struct(pl.all()).alias("_s")).to_series()
            placed_df = rows.gather(rest["_mi"].arg_sort()).struct.unnest()
        keys = placed_df.select(key).to_series()
        if not keys.is_sorted():
            rows = rest.select(pl.struct(pl.all()).alias("_s")).to_series() if rows is None else rows
            placed_df = rows.gather(rest.select(key.arg_sort()).to_series()).struct.unnest()
            keys = placed_df.select(key).to_series()
        del rows, rest
        placed_df = placed_df.with_columns(pl.lit(v).first().alias(c) for c, v in same.items()).select(
            columns
        )
    # Two readings for one interval (after the stamp move): neither is believed. Neighbours in key order.
    if (keys.len() > 1) and (keys.slice(1) == keys.slice(0, keys.len() - 1)).any():
        k = pl.lit(keys)
        dup = (pl.col("_code") == 0) & ((k == k.shift(1)) | (k == k.shift(-1))).fill_null(False)
        placed_df = placed_df.with_columns(
            _code=pl.when(dup).then(pl.lit(_DUPLICATE, pl.UInt8)).otherwise("_code")
        )
    del keys
    # per meter (sorted slices: the first row of a meter is its earliest)
    ranges = (
        placed_df.lazy()
        .select(pl.col("_mi").set_sorted(), "interval_start_utc", "interval_start")
        .group_by("_mi", maintain_order=True)
        .agg(
            range_start_utc=pl.col("interval_start_utc").first(),
            range_start=pl.col("interval_start").first(),
            _last=pl.col("interval_start_utc").last(),
        )
        .collect(engine="in-memory")
        .with_columns(
            pl.col("_mi").cast(pl.Int64),
            interval_minutes=_of_meter(by_mi, "interval_minutes"),
            interval_inferred=~_of_meter(by_mi, "_given"),
            cumulative=_of_meter(by_mi, "_cum"),
        )
    )
    if carry is not None and since is not None:
        ranges = _merge_ranges(carry.ranges, ranges, since).sort("_mi")
    ranges = ranges.with_columns(
        range_end_utc=pl.col("_last")
        + pl.duration(minutes=pl.when(pl.col("cumulative")).then(0).otherwise(pl.col("interval_minutes")))
    )
    if placed_df.select((pl.col("_code") != 0).any()).item():
        dups = placed_df.filter(pl.col("_code") == _DUPLICATE)
        bad_rows = pl.concat(
            [
                bad_rows,
                dups.with_columns(interval_minutes=_of_meter(by_mi, "interval_minutes")).select(_BAD_COLS),
            ]
        )
        placed_df = placed_df.filter(pl.col("_code") == 0)
    ok = placed_df.drop("_code")
    del placed_df
    tails = _tails(ok, by_mi)
    if carry is not None and since is not None and carry.tails.height:
        # each cumulative register continues from its last accepted reading before `since` (that reading's
        # own interval was given by the earlier run; as the first row of its meter here it gives none)
        before = (
            carry.tails.filter(pl.col("_month") < since)
            .sort("_mi", "interval_start_utc")
            .group_by("_mi", maintain_order=True)
            .last()
            .select(
                pl.lit(None, pl.UInt32).alias("_ri"),
                *(pl.col(c).cast(ok.schema[c]) for c in ok.columns if c != "_ri"),
            )
            .select(ok.columns)
        )
        ok = pl.concat([before, ok]).sort(key)
    intervals, cum = _cumulative(ok, by_mi)
    del ok
    # The few rejected readings get their raw cells back from the readings (by row index) for the reasons.
    raw = numbered.select(
        "_ri", "meter_id", *_RAW_COLS, "_drop_date", "_file", "_row_number", "_source_row_id"
    )
    # One scan for the cells of every issue: a filter on the few row indexes, which the Parquet reader applies
    # before it decodes the other columns (a semi join decoded every column of every row: 2.6× the time); the
    # meter's position is looked up for those rows only.
    wanted = pl.concat([bad_rows.select("_ri"), cum.select("_ri")]).unique()
    cells = (
        (raw.filter(pl.col("_ri").is_in(wanted["_ri"].implode())) if wanted.height else raw.clear())
        .collect()
        .lazy()
    )
    bad = cells.join(bad_rows.lazy(), on="_ri").with_columns(_mx=mx)
    column, reason = _reasons()
    rejected = bad.with_columns(
        _start_local="interval_start_n",
        meter_problem=attr("meter_problem"),
        out_unit=attr("out_unit"),
        timezone=attr("timezone"),
        _stamp=pl.coalesce("stamp", attr("stamp")),
    ).select(
        *_issue_cols("interval_start_n", "interval_start_utc"),
        pl.lit("rejected").alias("kind"),
        column.alias("column"),
        reason.alias("reason"),
        _raw_json(),
        pl.coalesce("interval_start_utc", pl.col("interval_start").cast(_US)).alias("_at"),
    )
    if since is not None:
        rejected = rejected.filter(pl.col("_at") >= since)
    cum_issues = cells.join(cum.lazy(), on="_ri").select(
        *_issue_cols("_is", "_isu"), "kind", "column", "reason", _raw_json(), "_at"
    )
    issues = pl.concat([rejected, cum_issues], how="vertical")
    decreases = cum.filter(pl.col("kind") == "register_decrease").select(
        "_mi", pl.col("_is").alias("interval_start"), pl.col("_isu").alias("interval_start_utc")
    )
    return intervals, issues, ranges, tails, decreases, steps


def _constant(df: pl.DataFrame, columns: tuple[str, ...]) -> dict[str, pl.Series]:
    """Those of `columns` (integers or categoricals) that hold one value and no null: name → that value."""
    out = {}
    for c in columns:
        code = df[c].to_physical()
        if df.height and code.null_count() == 0 and code.min() == code.max():
            out[c] = df[c].head(1)
    return out


def _merge_ranges(before: pl.DataFrame, now: pl.DataFrame, since: datetime) -> pl.DataFrame:
    """A meter's data window over every reading: it opens where the earlier run saw its first reading (when
    before `since`) and closes at its last reading (from `since` on when it has one, else as before)."""
    cols = now.columns
    both = before.select(cols).join(now, on="_mi", how="full", coalesce=True, suffix="_n")
    early = pl.col("range_start_utc").is_not_null() & (pl.col("range_start_utc") < since)
    return both.select(
        "_mi",
        *[
            pl.when(early | pl.col(f"{c}_n").is_null()).then(pl.col(c)).otherwise(pl.col(f"{c}_n")).alias(c)
            for c in ("range_start_utc", "range_start")
        ],
        pl.coalesce("_last_n", "_last").alias("_last"),
        *[pl.coalesce(f"{c}_n", c).alias(c) for c in ("interval_minutes", "interval_inferred", "cumulative")],
    ).select(cols)


def _tails(ok: pl.DataFrame, by_mi: pl.DataFrame) -> pl.DataFrame:
    """Per cumulative meter and UTC month (`_month`): its last accepted reading (`ok` sorted by key)."""
    return (
        ok.filter(_of_meter(by_mi, "_cum"))
        .with_columns(
            _month=pl.col("interval_start_utc").dt.truncate("1mo"), _file=pl.col("_file").cast(pl.String)
        )
        .group_by("_mi", "_month", maintain_order=True)
        .last()
    )


def _by_meter_index(num: pl.DataFrame, narrow: pl.DataFrame | None) -> pl.DataFrame:
    """Row i: the usable meter whose `_mi` is i, with its register (`_cum`), its interval length (given, else
    inferred: the readings of `narrow` carry it) and whether it was given (`_given`)."""
    usable = num.filter(pl.col("_mi").is_not_null()).select(
        pl.col("_mi").cast(pl.Int64),
        "_cum",
        pl.col("interval_minutes").cast(pl.Int32),
        _given=pl.col("interval_minutes").is_not_null(),
    )
    n = int(usable["_mi"].max()) + 1 if usable.height else 0  # type: ignore[arg-type]
    out = pl.DataFrame({"_mi": pl.int_range(n, dtype=pl.Int64, eager=True)}).join(
        usable, on="_mi", how="left", maintain_order="left"
    )
    if narrow is not None:
        found = (
            narrow.filter(pl.col("_mi").is_not_null() & pl.col("interval_minutes").is_not_null())
            .group_by("_mi")
            .agg(_found=pl.col("interval_minutes").first())
            .with_columns(pl.col("_mi").cast(pl.Int64))
        )
        out = (
            out.join(found, on="_mi", how="left", maintain_order="left")
            .with_columns(interval_minutes=pl.coalesce("interval_minutes", "_found"))
            .drop("_found")
        )
    return out.rechunk()


_BAD_COLS = [
    "_ri",
    "_code",
    "interval_minutes",
    "interval_start_utc",
    pl.col("interval_start").alias("interval_start_n"),
]
_RAW_COLS = ("interval_start", "value", "unit", "quality", "method", "stamp", "utc_offset_minutes")


def _raw_json() -> pl.Expr:
    """The reading as read (JSON text), as the quarantine keeps it."""
    return (
        pl.struct(pl.col("meter_id"), *(pl.col(c).cast(pl.String) for c in _RAW_COLS))
        .struct.json_encode()
        .alias("raw")
    )


def _issue_cols(local_start: str, utc_start: str) -> list[pl.Expr]:
    return [
        pl.lit("meter_readings").alias("dataset"),
        pl.col("_drop_date").alias("drop_date"),
        pl.col("_file").alias("file"),
        pl.col("_row_number").alias("row_number"),
        pl.col("_source_row_id").alias("source_row_id"),
        pl.col("meter_id"),
        pl.col(local_start).alias("interval_start"),
        pl.col(utc_start).alias("interval_start_utc"),
    ]
