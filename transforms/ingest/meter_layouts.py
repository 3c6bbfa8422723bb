"""The three layouts of `meter_readings` (docs/landing-zone.md) → one long table of text cells, before the
contract's validation.

Layouts, recognised by their headers (`detect_layout`):
- **wide** (PME-style export): a header cell shaped `METER#quantity#unit` (e.g.
  `GROUP.METER01#Real Energy Into the Load#kWh`). The timestamp column is the one named `Timestamp`/`时间`
  (else the first column); every non-empty cell of a meter column is one reading: meter id = the part before the
  first `#`, unit = the part after the last `#`. An empty cell is a gap, not a reading. A reading keeps its line
  as `_row_number` and its header in `source_column`.
- **trend_log** (EBO-style export): the meter column is headed `point_name`/`点位名称`. A row with a meter and a
  time but no value is a gap (not a reading). Change-of-value logs (a point's timestamps off a regular grid of
  whole minutes) are not interval data: every row of the file is quarantined with that reason.
- **long**: anything else (`meter_id`, `interval_start`, `value`, ...).

In every layout: a timestamp written with a UTC offset (`Z`, `+08:00`) keeps its wall time in `interval_start`
and the offset in `utc_offset_minutes`; a row that declares its own `stamp` (`end`, `midpoint`) is moved to the
interval start (interval = the most common step of that meter's timestamps in the file) with the written time in
`stamped_at` and its `stamp` set to `start` (so it is never moved twice); an `estimated` reading without a
`method` is quarantined. Typing and every other rule is the contract's, applied by validation like for any
dataset. Pure polars; Python loops only over headers and the rows of a file that is quarantined anyway. The
meter's own `stamp`, interval grid, time zone and multiplier, and unknown meters, are the interval engine's
(transforms/ems), which sees the `meters` dataset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import polars as pl

from transforms.contracts import dataset
from transforms.ingest.base import BrokenRow, CellProblem, FileRejected, TableRead
from transforms.ingest.cells import parse_column
from transforms.text import key_expr, nfkc, norm_key

DATASET = "meter_readings"
TREND_METER_HEADERS = frozenset(norm_key(h) for h in ("point_name", "点位名称"))
_WIDE_HEADER = re.compile(r"^[^#]*#.*#[^#]*$")
# wall time, then an offset; the time part is required (a date's "-01" is not an offset)
_OFFSET = (
    r"^([0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,6})?)?)"
    r"\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)$"
)
_TS_OUT = "%Y-%m-%d %H:%M:%S%.6f"


def _columns(headers: list[str]) -> dict[str, int]:
    """Contract column → first position among the headers."""
    hm = dataset(DATASET).header_map()
    out: dict[str, int] = {}
    for i, h in enumerate(headers):
        col = hm.get(norm_key(h or ""))
        if col is not None and col not in out:
            out[col] = i
    return out


def detect_layout(headers: list[str]) -> str:
    if any(_WIDE_HEADER.match(h or "") for h in headers):
        return "wide"
    if any(norm_key(h or "") in TREND_METER_HEADERS for h in headers):
        return "trend_log"
    return "long"


def header_predicate(is_header: Callable[[list[str]], bool] | None) -> Callable[[list[str]], bool]:
    """A wide header names only the timestamp among the required columns: accept it beside the contract's
    rule (a row naming half the required columns)."""

    def check(cells: list[str]) -> bool:
        if is_header is not None and is_header(cells):
            return True
        return any(_WIDE_HEADER.match(c) for c in cells) and "interval_start" in _columns(cells)

    return check


def reshape_long(table: TableRead, layout: str, finish: Callable[[TableRead], TableRead]) -> TableRead:
    """A long or trend-log file as one long table of readings (text cells); `finish` gets the usual case (the
    fast validation's reader, transforms/ingest/meter_long.py). The dispatch by layout, wide included, is
    transforms/ingest/meter_reshape.py: the wide and long readers build on this module."""
    return _long(table, layout, finish)


# --- shared text steps -------------------------------------------------------------------------------------


def _split_offset(ts: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(wall-time text, offset in minutes as text or null)."""
    g = ts.str.extract_groups(_OFFSET)
    wall, off = g.struct.field("1"), g.struct.field("2")
    digits = off.str.replace_all(r"[+\-:]", "")
    minutes = digits.str.slice(0, 2).cast(pl.Int64, strict=False) * 60 + digits.str.slice(2, 2).cast(
        pl.Int64, strict=False
    ).fill_null(0)
    signed = pl.when(off == "Z").then(0).when(off.str.starts_with("-")).then(-minutes).otherwise(minutes)
    return pl.coalesce(wall, ts), signed.cast(pl.String)


def _set(table: TableRead, frame: pl.DataFrame, name: str, expr: pl.Expr, notes: list[str]) -> pl.DataFrame:
    """Write a column this module fills (`utc_offset_minutes`, `layout`, `stamped_at`, `source_column`),
    appending its header; a file's own column of that name is replaced, and the note says so."""
    if name in table.headers:
        idx = table.headers.index(name)
        notes.append(f"column '{name}' is filled by lingtan: the file's values were replaced")
    else:
        idx = len(table.headers)
        table.headers.append(name)
    return frame.with_columns(expr.cast(pl.String).alias(f"c{idx}"))


def interval_steps(frame: pl.DataFrame, meter: str, ts: str) -> pl.DataFrame:
    """Per meter: its most common positive step between successive distinct timestamps (`__step`, a Duration),
    and whether every step is a whole multiple of it on a grid of whole minutes (`__regular`), and the earliest
    step that is not (`__odd`). Worked out on the counts of each (meter, step), a few rows per meter: only the
    sort and the differences touch every row (a repeated timestamp gives a step of 0, which is not counted)."""
    pairs = frame.select(meter, ts).drop_nulls().sort(meter, ts)
    same_meter = pl.col(meter) == pl.col(meter).shift()
    counts = (
        pairs.select(meter, ts, __d=pl.when(same_meter).then(pl.col(ts).diff()))
        .filter(pl.col("__d") > pl.duration(microseconds=0))
        .group_by(meter, "__d")
        .agg(__n=pl.len(), __at=pl.col(ts).min())  # how often, and where first (the step's later reading)
    )
    mode = (
        counts.sort([meter, "__n", "__d"], descending=[False, True, False])
        .group_by(meter, maintain_order=True)
        .first()
        .select(meter, __step=pl.col("__d"))
    )
    us = pl.col("__d").dt.total_microseconds()
    step_us = pl.col("__step").dt.total_microseconds()
    odd = (us % step_us) != 0
    return (
        counts.join(mode, on=meter)
        .sort(meter, "__at")
        .group_by(meter, maintain_order=True)
        .agg(
            pl.col("__step").first(),
            __regular=(~odd).all() & (step_us.first() % 60_000_000 == 0),
            __odd=pl.col("__d").filter(odd).first(),
        )
    )


def _blank(column: str) -> pl.Expr:
    """Empty or only spaces (strip_chars strips the ideographic space too)."""
    return pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")


def _wall_and_offset(frame: pl.DataFrame, column: str, wall: pl.Expr, offset: pl.Expr) -> pl.DataFrame:
    """`__wall` and `__off` of each row, worked out once per distinct timestamp text. When no text carries an
    offset and each is its own wall time already (NFKC, trimmed: the usual file), the column itself and a null
    offset, without mapping the values back to the rows; else only the timestamp column is joined."""
    distinct = frame.select(pl.col(column).unique()).with_columns(__wall=wall, __off=offset)
    as_is = pl.col("__off").is_null() & pl.col("__wall").eq_missing(pl.col(column))
    if distinct.select(as_is.all()).item():
        return frame.with_columns(pl.col(column).alias("__wall"), pl.lit(None, pl.String).alias("__off"))
    mapped = frame.select(column).join(
        distinct, on=column, how="left", maintain_order="left", nulls_equal=True
    )
    return frame.with_columns(mapped.get_column("__wall"), mapped.get_column("__off"))


def _by_value(frame: pl.DataFrame, column: str, *steps: dict[str, pl.Expr]) -> pl.DataFrame:
    """Columns computed once per distinct value of `column` (each step may use the previous ones), joined back
    to every row in row order."""
    distinct = frame.select(pl.col(column).unique())
    for step in steps:
        distinct = distinct.with_columns(**step)
    return frame.join(distinct, on=column, how="left", maintain_order="left", nulls_equal=True)


# --- long and trend-log layouts -----------------------------------------------------------------------------


def _long(table: TableRead, layout: str, finish: Callable[[TableRead], TableRead]) -> TableRead:
    table = replace(
        table, headers=list(table.headers), notes=list(table.notes), problems=list(table.problems)
    )
    found = _columns(table.headers)
    frame = table.frame
    notes = table.notes
    if layout == "trend_log":
        notes.append("layout: trend log (EBO-style)")
    if "meter_id" not in found or "interval_start" not in found:  # validation names the missing column
        frame = _set(table, frame, "layout", pl.lit(layout), notes)
        return replace(table, frame=frame)
    mc, tc = f"c{found['meter_id']}", f"c{found['interval_start']}"
    if layout == "trend_log" and "value" in found:
        gap = _blank(f"c{found['value']}") & ~_blank(mc) & ~_blank(tc)
        gaps = frame.select(gap.sum()).item()
        if gaps:
            frame = frame.filter(~gap)
            notes.append(f"{gaps:,} row(s) without a value are gaps (missing intervals), not readings")
    as_read = (list(table.headers), frame)  # the file's own cells, for a whole-file quarantine
    # meter ids and timestamps repeat (per point, per interval): their text is worked out once per value
    wall, offset = _split_offset(nfkc(pl.col(tc)))
    if layout == "trend_log" or "stamp" in found:  # the interval checks need each row's time and meter
        parsed, _ = parse_column(dataset(DATASET).column("interval_start"), pl.col("__wall"))
        frame = _by_value(frame, tc, {"__wall": wall, "__off": offset}, {"__t": parsed})
        frame = _by_value(frame, mc, {"__m": nfkc(pl.col(mc))})
    else:
        frame = _wall_and_offset(frame, tc, wall, offset)
    frame = frame.with_columns(pl.col("__wall").alias(tc))
    frame = _set(table, frame, "utc_offset_minutes", pl.col("__off"), notes)
    frame = _set(table, frame, "layout", pl.lit(layout), notes)
    for name in ("stamped_at", "source_column"):
        if name in table.headers:
            frame = _set(table, frame, name, pl.lit(None, pl.String), notes)
    work = frame
    frame = frame.drop("__wall", "__off", "__t", "__m", strict=False)
    if layout == "trend_log":
        irregular = interval_steps(work, "__m", "__t").filter(~pl.col("__regular"))
        if irregular.height:
            return _quarantine_whole(table, *as_read, _cov_reason(irregular), "interval_start")
    if "stamp" in found:
        work, frame = _apply_row_stamps(table, work, frame, found, notes)
    if "quality" in found:
        qc = f"c{found['quality']}"  # few distinct spellings: each normalised once
        spellings = frame.select(pl.col(qc).unique()).filter(key_expr(pl.col(qc)) == "estimated")
        method = nfkc(pl.col(f"c{found['method']}")) if "method" in found else pl.lit(None, pl.String)
        estimated = frame.filter(pl.col(qc).is_in(spellings.get_column(qc).implode()))
        rows = estimated.filter(method.is_null())["_row_number"].to_list()
        reason = (
            "an estimated reading needs its estimation method: fill column method (or send it as measured)"
        )
        table.problems.extend(CellProblem(r, found["quality"], "estimated", reason) for r in rows)
    return finish(replace(table, frame=frame))


def _apply_row_stamps(
    table: TableRead, work: pl.DataFrame, frame: pl.DataFrame, found: dict[str, int], notes: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows declaring `end`/`midpoint` move to their interval start: back by the step (end) or half of it."""
    stamp = key_expr(pl.col(f"c{found['stamp']}"))
    work = work.with_columns(__s=stamp)
    moved = pl.col("__s").is_in(["end", "midpoint"]) & pl.col("__t").is_not_null()
    if not work.select(moved.any()).item():
        return work, frame
    steps = interval_steps(work, "__m", "__t").select("__m", "__step")
    work = work.join(steps, on="__m", how="left", maintain_order="left")
    back = pl.when(pl.col("__s") == "end").then(pl.col("__step")).otherwise(pl.col("__step") / 2)
    shifted = (pl.col("__t") - back).dt.strftime(_TS_OUT)
    ts = f"c{found['interval_start']}"
    new = work.select(
        pl.when(moved & pl.col("__step").is_not_null()).then(shifted).otherwise(pl.col(ts)).alias(ts),
        pl.when(moved & pl.col("__step").is_not_null()).then(pl.col(ts)).alias("__w"),
    )
    st = f"c{found['stamp']}"  # a moved row now sits at its interval start: the engine must not move it again
    frame = frame.with_columns(
        new[ts],
        new["__w"],
        pl.when(new["__w"].is_not_null()).then(pl.lit("start")).otherwise(pl.col(st)).alias(st),
    )
    frame = _set(table, frame, "stamped_at", pl.col("__w"), notes).drop("__w")
    lost = work.filter(moved & pl.col("__step").is_null())
    for r, s, mtr in lost.select("_row_number", "__s", "__m").iter_rows():
        table.problems.append(
            CellProblem(
                r,
                found["stamp"],
                "stamp",
                f"stamp '{s}' needs the logging interval, and the file has a single timestamp for meter "
                f"{mtr}: send the readings of a longer period, or stamp them at the interval start",
            )
        )
    n = work.select(moved.sum()).item() - lost.height
    notes.append(f"{n:,} reading(s) stamped at the interval end or midpoint moved to the interval start")
    return work, frame


def _cov_reason(irregular: pl.DataFrame) -> str:
    first = irregular.row(0, named=True)
    odd = first["__odd"] or first["__step"]
    more = f" and {irregular.height - 1} other point(s)" if irregular.height > 1 else ""
    return (
        f"change-of-value log, not interval data: the timestamps of point {first['__m']}{more} are irregular "
        f"(steps of {_duration(first['__step'])} and {_duration(odd)}); export an interval (periodic) trend log "
        "instead"
    )


def _duration(d) -> str:
    s = int(d.total_seconds())
    return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"


def _quarantine_whole(
    table: TableRead, headers: list[str], frame: pl.DataFrame, reason: str, column: str
) -> TableRead:
    """Every row of the file quarantined with one reason (the file's rows still count as read)."""
    names = [h or f"column {i + 1}" for i, h in enumerate(headers)]
    cols = [f"c{i}" for i in range(len(names))]
    broken = list(table.broken)
    for row in frame.select("_row_number", *cols).iter_rows():
        broken.append(BrokenRow(row[0], reason, dict(zip(names, row[1:], strict=True)), column))
    empty = frame.clear()
    ordered = sorted(broken, key=lambda b: b.row_number)
    return replace(table, headers=headers, frame=empty, broken=ordered, problems=[])


# --- wide layout --------------------------------------------------------------------------------------------


def wide_text(table: TableRead) -> TableRead:
    """A wide file as the long table of text cells, one row per reading (`meter_wide.WideRead.frame`; its
    validation judges the same readings per column, line and cell)."""
    found = _columns(table.headers)
    ts_idx = found.get("interval_start", 0)
    meter_cols = {i: h for i, h in enumerate(table.headers) if i != ts_idx and _WIDE_HEADER.match(h or "")}
    others = [h for i, h in enumerate(table.headers) if i != ts_idx and i not in meter_cols and h]
    notes = [*table.notes, "layout: wide (PME-style), one reading per non-empty cell"]
    if others:
        notes.append(
            "ignored columns that are not meter measurements (METER#quantity#unit): " + ", ".join(others)
        )
    problems = {(p.row_number, p.column_index): p for p in table.problems}
    wall, offset = _split_offset(nfkc(pl.col(f"c{ts_idx}")))
    base = table.frame.select(
        "_row_number", wall.alias("__ts"), offset.alias("__off"), *[pl.col(f"c{i}") for i in meter_cols]
    )
    long = base.unpivot(
        on=[f"c{i}" for i in meter_cols], index=["_row_number", "__ts", "__off"], variable_name="__col"
    ).filter(pl.col("value").str.strip_chars().str.len_chars() > 0)
    cells = len(meter_cols) * base.height
    headers = {f"c{i}": h for i, h in meter_cols.items()}
    meter = {k: h.split("#", 1)[0].strip() for k, h in headers.items()}
    unit = {k: h.rsplit("#", 1)[1].strip() for k, h in headers.items()}
    broken = list(table.broken)
    cell_problems = [p for (r, j), p in problems.items() if j in meter_cols]
    if cell_problems:  # a cell whose value is unknown is a reading quarantined, never a gap
        bad = pl.DataFrame(
            {
                "_row_number": [p.row_number for p in cell_problems],
                "__col": [f"c{p.column_index}" for p in cell_problems],
            },
            schema={"_row_number": pl.Int64, "__col": pl.String},
        )
        long = long.join(bad, on=["_row_number", "__col"], how="anti")
        raw_ts = dict(table.frame.select("_row_number", f"c{ts_idx}").iter_rows())
        for p in cell_problems:
            h = meter_cols[p.column_index]
            raw = {table.headers[ts_idx] or "Timestamp": raw_ts.get(p.row_number), h: None}
            broken.append(BrokenRow(p.row_number, p.reason, raw, h))
    if base.height and not long.height and not cell_problems and not broken:
        raise FileRejected(  # else it would read as "no rows below the header", which is not what happened
            f"no readings: all {cells:,} meter cell(s) of the {base.height:,} line(s) are empty (gaps only); "
            "export a period that has data"
        )
    notes.append(
        f"{len(meter_cols)} meter column(s) × {base.height:,} line(s): {long.height + len(cell_problems):,} "
        f"reading(s), {cells - long.height - len(cell_problems):,} empty cell(s) are gaps"
    )

    # each reading's column by its position among the meter columns (an Enum cast), then the column's texts
    # gathered by it: one hash per column, not one per reading
    order = list(headers)
    position = pl.col("__col").cast(pl.Enum(order)).to_physical()

    def lookup(mapping: dict[str, str]) -> pl.Expr:
        return pl.lit(pl.Series([mapping[k] for k in order], dtype=pl.String)).gather(position)

    out_headers = [
        "meter_id",
        "interval_start",
        "value",
        "unit",
        "source_column",
        "utc_offset_minutes",
        "layout",
    ]
    frame = long.select(
        c0=lookup(meter),
        c1=pl.col("__ts"),
        c2=pl.col("value"),
        c3=lookup(unit),
        c4=lookup(headers),
        c5=pl.col("__off"),
        c6=pl.lit("wide"),
        _row_number=pl.col("_row_number"),
    )
    # a timestamp cell's problem (formula without cached value) applies to every reading of its line
    ts_problems = [replace(p, column_index=1) for (r, j), p in problems.items() if j == ts_idx]
    return replace(
        table,
        headers=out_headers,
        frame=frame,
        broken=sorted(broken, key=lambda b: b.row_number),
        notes=notes,
        problems=ts_problems,
        cell_column="c4",
    )
