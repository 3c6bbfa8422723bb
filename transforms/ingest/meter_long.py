"""A long or trend-log meter file validated per distinct value of its repetitive columns, not per reading.

A long file repeats its meter ids, timestamps, units and quality flags on every reading: 3.5 M readings of 100
meters hold 100 meter ids and 35 k timestamps. `LongRead.validated` (what ingestion calls, through
`validate.validate_read`) judges each distinct text of such a column once (`meter_wide._verdicts`: the
contract's cell rule from `cells.parse_column`, as validation normalises and applies it) and joins the verdict
and the typed value back to the rows; a number column whose values are mostly distinct is parsed in one pass
over its cells. A reading whose every cell surely passes is accepted with those typed values; every other one
(a "suspect") goes through the contract's own `validate` as the same text row, so its accepted row or its
quarantine record is exactly validation's. `meter_wide._check_contract` states the premise: no rule of
validation spans two columns of this contract.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date

import polars as pl

from transforms.contracts import Dataset
from transforms.ingest.base import MAX_CELL_CHARS, TableRead
from transforms.ingest.cells import error_suspects, may_repeat, parse_column, sure_number
from transforms.ingest.meter_wide import _check_contract, _verdicts
from transforms.ingest.quarantine import QUARANTINE_SCHEMA
from transforms.ingest.validate import Validated, lineage_file, map_headers, validate

# more suspects than this share of the rows (and than _SUSPECT_MIN): the contract's `validate` instead
_SUSPECT_SHARE = 0.1
_SUSPECT_MIN = 1_000


class LongRead(TableRead):
    """The `TableRead` of a long or trend-log meter file after its reshape, with its own validation."""

    def validated(self, ds: Dataset, drop_date: date, file: str) -> Validated:
        return validate_long(ds, self, drop_date, file)


def as_long_read(table: TableRead) -> LongRead:
    return LongRead(**{f.name: getattr(table, f.name) for f in fields(TableRead)})


def validate_long(ds: Dataset, t: TableRead, drop_date: date, file: str) -> Validated:
    """The contract's validation of `t`, the clean rows judged per distinct value (same result)."""
    _check_contract(ds)
    found, _, dupes = map_headers(ds, t.headers)
    missing = [c for c in ds.required if c not in found]
    frame = t.frame
    if t.rows_read == 0 or dupes or missing or frame.height == 0:  # file-level outcomes: validation's own
        return validate(ds, t, drop_date, file)
    # the notes validation adds (columns it ignores), from validation itself on the first row
    first = replace(t, frame=frame.head(1), broken=[], problems=[], rows_total=None)
    notes = validate(ds, first, drop_date, file).notes

    clean = pl.repeat(True, frame.height, eager=True)
    typed: dict[str, pl.Series] = {}
    for name, idx in found.items():
        ok, values = _column(ds, ds.column(name), frame.select(pl.col(f"c{idx}").alias("__t")), t.cells_clean)
        clean = clean & ok
        typed[name] = values.alias(name)
    if t.problems:  # a cell the reader could not give a value for, or a reading the reshape refused
        hit = frame.get_column("_row_number").is_in(
            pl.Series([p.row_number for p in t.problems], dtype=pl.Int64).implode()
        )
        clean = clean & ~hit
    suspects = (~clean).arg_true()
    if len(suspects) > max(_SUSPECT_MIN, _SUSPECT_SHARE * frame.height):
        return validate(ds, t, drop_date, file)

    prefix = lineage_file(file) + "#"
    rows = frame.get_column("_row_number")
    accepted = (
        pl.DataFrame(typed)
        .with_columns(_row_number=rows)
        .filter(clean)
        .select(
            *[pl.col(c.name) if c.name in typed else pl.lit(None, c.dtype).alias(c.name) for c in ds.columns],
            _drop_date=pl.lit(drop_date, pl.Date),
            _file=pl.lit(file),
            _row_number=pl.col("_row_number"),
            _source_row_id=pl.concat_str([pl.lit(prefix), pl.col("_row_number").cast(pl.String)]),
        )
        .match_to_schema(ds.schema)
    )
    quarantine = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    if len(suspects):
        # validation of the suspects with `_row_number` = position, to put their accepted rows back in order
        pos = suspects.cast(pl.Int64)
        at = dict(zip(rows.gather(suspects).to_list(), pos.to_list(), strict=True))
        problems = [replace(p, row_number=at[p.row_number]) for p in t.problems if p.row_number in at]
        sub = replace(t, frame=frame[suspects].with_columns(_row_number=pos), broken=[], problems=problems)
        v = validate(ds, sub, drop_date, file)
        if v.accepted.height:
            got = v.accepted.get_column("_row_number")
            real = rows.gather(got)
            fixed = v.accepted.with_columns(
                _row_number=real,
                _source_row_id=pl.concat_str([pl.lit(prefix), real.cast(pl.String)]),
            )
            order = pl.concat([clean.arg_true().cast(pl.Int64), got])
            accepted = pl.concat([accepted, fixed]).with_columns(__p=order).sort("__p").drop("__p")
    if len(suspects) or t.broken:
        # the quarantine as validation of the whole table gives it: the suspects' rows (a clean row is never
        # quarantined) in the file's order, then the broken rows, sorted as it sorts
        quarantine = validate(ds, replace(t, frame=frame[suspects]), drop_date, file).quarantine
    return Validated(accepted, quarantine, notes)


def _column(ds: Dataset, col, cells: pl.DataFrame, cells_clean: bool) -> tuple[pl.Series, pl.Series]:
    """(surely passes, typed value) per row of one column's text `__t`: per distinct text when texts repeat,
    a number column's mostly distinct cells in one pass over them."""
    values = cells.get_column("__t")
    repetitive = may_repeat(values, 4)
    if not repetitive and col.kind in ("decimal", "int"):
        # a cell that passes the number rule as written is ASCII without spaces: validation's normalised text
        # is the same text, and so is its value
        frame = cells.rename({"__t": "__s"})
        v = (
            sure_number(pl.col("__s"))
            if col.kind == "decimal"
            else parse_column(col, pl.col("__s"), frame)[0]
        )
        sure = (
            pl.col("v").is_not_null()
            & ~error_suspects(col, pl.col("v"))
            & (pl.col("__s").str.len_bytes() <= MAX_CELL_CHARS)
        )
        out = (
            frame.lazy()
            .with_columns(v=v.cast(col.dtype))
            .select(sure.fill_null(False).alias("ok"), "v")
            .collect()
        )
        return out.to_series(0), out.get_column("v")
    if not repetitive:
        ok, typed = _verdicts(ds, cells, {col.name: "__t"}, cells_clean)
        return ok, typed.get_column(col.name)
    distinct = cells.select(pl.col("__t").unique())
    ok, typed = _verdicts(ds, distinct, {col.name: "__t"}, cells_clean)
    table = distinct.with_columns(__ok=ok, __v=typed.get_column(col.name))
    if ok.all():  # no need to map the verdicts back when each text is its own typed value, or there is one
        if len(table) == 1:
            one = pl.repeat(table["__v"][0], len(values), dtype=col.dtype, eager=True)
            return pl.repeat(True, len(values), eager=True), one
        if col.dtype == pl.String and table.select(pl.col("__v").eq_missing(pl.col("__t")).all()).item():
            return pl.repeat(True, len(values), eager=True), values
    mapped = cells.join(table, on="__t", how="left", maintain_order="left", nulls_equal=True)
    return mapped.get_column("__ok"), mapped.get_column("__v")
