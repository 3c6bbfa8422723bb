"""A wide (PME-style) meter file read and validated per meter column, per line and per cell, not per reading.

`meter_reshape.reshape` (before: the long reshape) turns a wide file into one row of text cells per reading, and validation then works on
every reading: 3.5 M readings of 100 meters carry the same 100 meter ids, units and headers and the same 35 k
timestamps over and over. `read_wide` keeps the file's shape instead and returns a `WideRead`:

- `WideRead.validated` (what ingestion calls, through `validate.validate_read`) judges each meter column's
  meter id, unit and header once (a table of one row per column), each line's timestamp and offset once (one row
  per line), and each cell's number in one vectorised pass over the whole block (`cells.parse_column`: the
  contract's cell rule). A reading whose column, line and cell all pass is accepted with its typed values
  broadcast from those tables; every other reading (a "suspect": a bad unit, an impossible timestamp, text in a
  value cell, a negative number, a value with spaces around it, ...) goes through the contract's own `validate`,
  as the same text row the reshape makes, so its accepted row or its quarantine record is exactly the one
  validation gives. Validation has no rule across the columns of `meter_readings` (`_check_contract`), so a
  reading is accepted by validation if and only if each of its cells passes its column's rule.
- `WideRead.frame` is the reshape's long text table, built only when something asks for it (the contract's
  `validate` when there are many suspects, tests): `meter_layouts.wide_text`, unchanged.

Notes, gap counts, broken rows (a workbook cell without a value) and the rejection of a file whose meter cells
are all empty are the reshape's, computed here from the block.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import NamedTuple

import numpy as np
import polars as pl

from transforms.contracts import Dataset, dataset
from transforms.frames import small_pages, transposed
from transforms.ingest import meter_layouts as ml
from transforms.ingest.base import MAX_CELL_CHARS, BrokenRow, CellProblem, FileRejected, TableRead
from transforms.ingest.cells import cell_problem, error_suspects, parse_column, sure_number
from transforms.ingest.quarantine import QUARANTINE_SCHEMA
from transforms.ingest.validate import Validated, lineage_file, plain, validate
from transforms.text import nfkc

OUT_HEADERS = ["meter_id", "interval_start", "value", "unit", "source_column", "utc_offset_minutes", "layout"]
# per meter column: the reshape's text columns c0, c3, c4 (c6 is "wide"); per line: c1, c5; per cell: c2
_PER_COLUMN = {"meter_id": "m", "unit": "u", "source_column": "h", "layout": "w"}
_PER_LINE = {"interval_start": "ts", "utc_offset_minutes": "off"}
# more suspects than this share of the readings (and than _SUSPECT_MIN): the contract's `validate` on the whole
# long table instead
_SUSPECT_SHARE = 0.1
_SUSPECT_MIN = 1_000


class WideTally(NamedTuple):
    """What the notes and the all-empty rejection of a wide file count: per file, or per batch of its lines
    (`readers.read_batches`) and then added up (`file_notes`, `rejected_if_empty`)."""

    meters: int
    lines: int
    readings: int
    problems: int  # cells the reader could not give a value for: readings quarantined
    broken: int

    def note(self) -> str:
        cells = self.meters * self.lines
        return (
            f"{self.meters} meter column(s) × {self.lines:,} line(s): {self.readings + self.problems:,} "
            f"reading(s), {cells - self.readings - self.problems:,} empty cell(s) are gaps"
        )

    def empty_reason(self) -> str | None:
        """Why the file is rejected when every meter cell is empty (else it would read as "no rows below the
        header", which is not what happened); None when it holds anything."""
        if self.readings or self.problems or self.broken:
            return None
        return (
            f"no readings: all {self.meters * self.lines:,} meter cell(s) of the {self.lines:,} line(s) are "
            "empty (gaps only); export a period that has data"
        )


def total_tally(tallies: list[WideTally]) -> WideTally:
    """The file's tally from its batches' (the same meter columns in each)."""
    return WideTally(
        tallies[0].meters, *(sum(t[i] for t in tallies) for i in range(1, len(WideTally._fields)))
    )


def file_notes(notes: list[str], tallies: list[WideTally]) -> list[str]:
    """The notes of a wide file read in batches: the first batch's, its count replaced by the file's."""
    if len(tallies) < 2:
        return notes
    first, total = tallies[0].note(), total_tally(tallies).note()
    return [total if n == first else n for n in notes]


class WideRead(TableRead):
    """The `TableRead` of a wide meter file (headers `OUT_HEADERS`, one row per reading), with its long text
    frame built on first use and a validation that gives the same result without it (`validated`)."""

    _frame: pl.DataFrame | None = None
    _wide: _Block | None = None
    tally: WideTally | None = None

    @property
    def frame(self) -> pl.DataFrame:  # type: ignore[override]
        if self._frame is None:
            self._frame = self._wide.long_text() if self._wide is not None else pl.DataFrame()
        return self._frame

    @frame.setter
    def frame(self, value: pl.DataFrame | None) -> None:
        self._frame = value

    def validated(self, ds: Dataset, drop_date: date, file: str) -> Validated:
        if self._wide is None or ds.name != ml.DATASET:  # a copy (dataclasses.replace): the plain way
            return validate(ds, self, drop_date, file)
        return self._wide.validated(self, ds, drop_date, file)


class _Block:
    """What the validation of a wide file needs: the source table, the meter columns, per line the timestamp's
    wall text and offset, and per cell (column-major: position = column index × lines + line index) the text,
    the number and whether it is a reading."""

    def __init__(self, table: TableRead, ts_idx: int, meter_cols: dict[int, str]) -> None:
        self.table = table
        self.ts_idx = ts_idx
        self.meter_cols = meter_cols
        self.n = table.frame.height
        wall, offset = ml._split_offset(nfkc(pl.col(f"c{ts_idx}")))
        headers = list(meter_cols.values())
        self.lines = table.frame.select("_row_number", ts=wall, off=offset)
        self.columns = pl.DataFrame(
            {
                "m": [h.split("#", 1)[0].strip() for h in headers],
                "u": [h.rsplit("#", 1)[1].strip() for h in headers],
                "h": headers,
                "w": ["wide"] * len(headers),
            },
            schema=dict.fromkeys(("m", "u", "h", "w"), pl.String),
        )
        cells = pl.concat([table.frame.get_column(f"c{i}") for i in meter_cols], rechunk=False)
        self.cells = pl.DataFrame({"__s": cells.alias("__s")})
        col = dataset(ml.DATASET).column("value")
        # a cell whose value the cast alone proves is a clean reading; any other is judged by validation
        v = (
            sure_number(pl.col("__s"))
            if col.kind == "decimal"
            else parse_column(col, pl.col("__s"), self.cells)[0]
        )
        ok = (
            pl.col("v").is_not_null()
            & ~error_suspects(col, pl.col("v"))
            & (pl.col("__s").str.len_bytes() <= MAX_CELL_CHARS)
        )
        typed = (
            self.cells.lazy().with_columns(v=v.cast(col.dtype)).select("v", ok=ok.fill_null(False)).collect()
        )
        # a cell that passes the number rule is a reading; any other one is a reading unless empty (a gap)
        self.value = typed.get_column("v")
        self.ok = typed.get_column("ok")
        reading = self.ok.clone()
        other = (~self.ok).arg_true()
        if len(other):
            filled = self.cells[other].select(
                (pl.col("__s").str.strip_chars().str.len_chars() > 0).fill_null(False)
            )
            reading = reading.scatter(other, filled.to_series())
        self.reading = reading

    def drop_cells(self, positions: list[int]) -> None:
        """Cells the reader could not give a value for: broken rows, neither readings nor gaps."""
        if positions:
            self.reading = self.reading.scatter(positions, False)

    def line_index(self, row_numbers: list[int]) -> dict[int, int]:
        wanted = pl.Series(row_numbers, dtype=pl.Int64)
        hits = self.lines.with_row_index("__i").filter(pl.col("_row_number").is_in(wanted.implode()))
        return dict(zip(hits["_row_number"], hits["__i"], strict=True))

    # --- the reshape's text rows --------------------------------------------------------------------------

    def text_rows(self, positions: pl.Series, row_number: pl.Series | None = None) -> pl.DataFrame:
        """The reshape's text row (c0..c6, `_row_number`) of each cell position, in the given order."""
        k = (positions // self.n).cast(pl.UInt32)
        line = (positions % self.n).cast(pl.UInt32)
        return pl.DataFrame(
            {
                "c0": self.columns["m"].gather(k),
                "c1": self.lines["ts"].gather(line),
                "c2": self.cells["__s"].gather(positions),
                "c3": self.columns["u"].gather(k),
                "c4": self.columns["h"].gather(k),
                "c5": self.lines["off"].gather(line),
                "c6": self.columns["w"].gather(k),
                "_row_number": self.lines["_row_number"].gather(line) if row_number is None else row_number,
            }
        )

    def long_text(self) -> pl.DataFrame:
        return ml.wide_text(self.table).frame

    # --- validation ---------------------------------------------------------------------------------------

    def validated(self, read: WideRead, ds: Dataset, drop_date: date, file: str) -> Validated:
        _check_contract(ds)
        col_ok, col_typed = _verdicts(ds, self.columns, _PER_COLUMN, read.cells_clean)
        ts_lines = {p.row_number for p in read.problems}  # a timestamp cell without a value: its whole line
        line_ok, line_typed = _verdicts(ds, self.lines, _PER_LINE, read.cells_clean)
        if ts_lines:
            bad = self.line_index(sorted(ts_lines))
            line_ok = line_ok.scatter(list(bad.values()), False)
        clean = self.ok & self.reading
        if not (col_ok.all() and line_ok.all()):
            known = np.repeat(col_ok.to_numpy(), self.n) & np.tile(line_ok.to_numpy(), len(self.meter_cols))
            clean = clean & pl.Series(known)
        suspects = (self.reading & ~clean).arg_true()
        readings = int(self.reading.sum())
        if len(suspects) > max(_SUSPECT_MIN, _SUSPECT_SHARE * readings):  # in line order, as below
            v = validate(ds, read, drop_date, file)
            return Validated(v.accepted.sort("_row_number", maintain_order=True), v.quarantine, v.notes)

        srid = self.lines.select(
            pl.concat_str([pl.lit(lineage_file(file) + "#"), pl.col("_row_number").cast(pl.String)])
        ).to_series()
        accepted = self._accepted(ds, clean, col_typed, line_typed, srid, drop_date, file)
        quarantine = pl.DataFrame(schema=QUARANTINE_SCHEMA)
        if len(suspects):
            # the contract's validation of the suspects, `_row_number` = position (to put them back in order)
            sub = self.text_rows(suspects, suspects.cast(pl.Int64))
            problems = self._line_problems(read, suspects)
            v = validate(ds, _table(read, sub, [], problems), drop_date, file)
            if v.accepted.height:
                pos = v.accepted.get_column("_row_number")
                line = (pos % self.n).cast(pl.UInt32)
                fixed = v.accepted.with_columns(
                    _row_number=self.lines["_row_number"].gather(line), _source_row_id=srid.gather(line)
                )
                # back in line order: a cell's row-major position (line × columns + column) sorts both
                m = len(self.meter_cols)
                at = np.flatnonzero(clean.to_numpy().reshape(m, self.n).T)
                order = pl.concat([pl.Series(at, dtype=pl.Int64), (pos % self.n) * m + pos // self.n])
                fixed, accepted = _aligned(fixed, accepted)
                accepted = pl.concat([accepted, fixed]).with_columns(__p=order).sort("__p").drop("__p")
        if len(suspects) or read.broken:
            # the quarantine exactly as validation of the whole table gives it: the suspects' rows (a clean
            # reading is never quarantined) in the reshape's order, then the broken rows, sorted as it sorts
            sub = self.text_rows(suspects)
            quarantine = validate(
                ds, _table(read, sub, read.broken, read.problems), drop_date, file
            ).quarantine
        return Validated(accepted, quarantine, list(read.notes))

    def _line_problems(self, read: WideRead, positions: pl.Series) -> list[CellProblem]:
        """The reader's problem of a timestamp cell, for each suspect of its line (`row_number` = position)."""
        if not read.problems:
            return []
        by_row = {p.row_number: p for p in read.problems}
        rows = self.lines["_row_number"].gather((positions % self.n).cast(pl.UInt32)).to_list()
        return [
            replace(by_row[r], row_number=p)
            for p, r in zip(positions.to_list(), rows, strict=True)
            if r in by_row
        ]

    def _accepted(
        self,
        ds: Dataset,
        clean: pl.Series,
        col_typed: pl.DataFrame,
        line_typed: pl.DataFrame,
        srid: pl.Series,
        drop_date: date,
        file: str,
    ) -> pl.DataFrame:
        """The clean readings' accepted rows in line order (`drops.ORDER`: line by line, a line's readings in
        column order), from integer codes: each reading's meter column `k` and line `i` (numpy), a line's values
        gathered by `i`, a meter column's by `k`. The text columns whose values repeat (a meter column's meter
        id, unit, header and layout, a line's `_source_row_id`, the file) are `Enum` columns: the same values
        with the text held once (`validate.plain` gives the String columns), written as Parquet dictionaries
        without a hash per reading (orchestration/lib/ingest.py `_Parts`)."""
        m = len(self.meter_cols)
        with small_pages():
            mask = clean.to_numpy().reshape(m, self.n)
            cells = self.value.to_numpy()
            if mask.all():  # every cell a clean reading: the codes are a tile and a repeat
                k = np.resize(np.arange(m, dtype=np.uint32), m * self.n)
                i = np.repeat(np.arange(self.n, dtype=np.uint32), m)
                value = transposed(cells.reshape(m, self.n))
            else:
                p = np.flatnonzero(mask.T)  # row-major positions: line × columns + column
                k, i = (p % m).astype(np.uint32), (p // m).astype(np.uint32)
                value = cells[k.astype(np.int64) * self.n + i]
            del cells
        k, i = pl.Series(k), pl.Series(i)
        values = {
            "meter_id": _coded(col_typed["meter_id"]).gather(k),
            "interval_start": _gathered(line_typed["interval_start"], i),
            "value": pl.Series(value, dtype=self.value.dtype),
            "unit": _coded(col_typed["unit"]).gather(k),
            "utc_offset_minutes": _gathered(line_typed["utc_offset_minutes"], i),
            "source_column": _coded(col_typed["source_column"]).gather(k),
            "layout": _coded(col_typed["layout"]).gather(k),
            "_row_number": _gathered(self.lines["_row_number"], i),
            "_source_row_id": _coded(srid).gather(i),
        }
        # a text column without values (`quality`, `method`, `stamp`) as an Enum too: no buffer per row
        frame = pl.DataFrame({name: s.alias(name) for name, s in values.items()}).select(
            *[
                pl.col(c.name)
                if c.name in values
                else pl.lit(None, pl.Enum([]) if c.dtype == pl.String else c.dtype).alias(c.name)
                for c in ds.columns
            ],
            _drop_date=pl.lit(drop_date, pl.Date),
            _file=pl.lit(file, pl.Enum([file])),
            _row_number=pl.col("_row_number"),
            _source_row_id=pl.col("_source_row_id"),
        )
        _check_coded(frame, ds.schema)
        return frame


def _aligned(fixed: pl.DataFrame, coded: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`fixed` (String columns) and `coded` (some as Enum) with the same dtypes: `fixed`'s texts coded when
    each is one of the Enum's values, else `coded` back to String."""
    enums = {n: d for n, d in coded.schema.items() if isinstance(d, pl.Enum)}
    try:
        return fixed.cast(enums), coded  # type: ignore[arg-type]
    except pl.exceptions.InvalidOperationError:
        return fixed, plain(coded)


def _gathered(values: pl.Series, at: pl.Series) -> pl.Series:
    """`values.gather(at)`; a column without any value (no line has an offset) is not gathered."""
    if values.null_count() == values.len():
        return pl.repeat(None, at.len(), dtype=values.dtype, eager=True)
    return values.gather(at)


def _coded(values: pl.Series) -> pl.Series:
    """`values` (a few texts: one per meter column, or per line) as an `Enum` of its distinct values."""
    return values.cast(pl.Enum(values.drop_nulls().unique(maintain_order=True)))


def _check_coded(frame: pl.DataFrame, schema: pl.Schema) -> None:
    """`frame` has `schema`'s columns and dtypes, a String column maybe as an Enum (`validate.plain`)."""
    got = [(n, pl.String if isinstance(d, pl.Enum) else d) for n, d in frame.schema.items()]
    if got != list(schema.items()):
        raise ValueError(
            f"wide meter rows do not match the contract's schema: {got} != {list(schema.items())}"
        )


def _table(read: WideRead, frame: pl.DataFrame, broken: list[BrokenRow], problems: list[CellProblem]):
    """Some of the reshape's text rows as the table validation would see them in the whole long table."""
    return _same_reader(
        read,
        TableRead(
            list(OUT_HEADERS),
            frame,
            read.file_format,
            read.encoding,
            list(broken),
            list(read.notes),
            list(problems),
            read.cells_clean,
            "c4",
        ),
    )


def _same_reader(source: TableRead, table: TableRead) -> TableRead:
    """`table` with what the reader found about the cells of `source` (the flags validation reads)."""
    table.cells_clean = source.cells_clean
    if hasattr(source, "cells_trimmed"):  # no ASCII whitespace in any cell (the csv reader's check)
        table.cells_trimmed = source.cells_trimmed
    return table


def _verdicts(
    ds: Dataset, frame: pl.DataFrame, fields: dict[str, str], cells_clean: bool
) -> tuple[pl.Series, pl.DataFrame]:
    """Per row of `frame` (a meter column, or a line): whether each of `fields` (contract column → text column)
    surely passes its column's rule as validation applies it (the reader's problems are the caller's), and
    the typed values. The text is normalised as validation normalises it (NFKC, trimmed, empty as null: per
    value the same as its ASCII shortcut). A cell that `cells.error_suspects` names may have a message: it
    does not pass here (validation then decides), so no message is built."""
    ok = pl.lit(True)
    typed = {}
    work = frame
    for name, text in fields.items():
        col = ds.column(name)
        work = work.with_columns(__s=nfkc(pl.col(text)))
        v, _ = parse_column(col, pl.col("__s"), work)
        work = work.with_columns(v.cast(col.dtype).alias(f"__v_{name}"))
        value = pl.col(f"__v_{name}")
        passes = ~(pl.col("__s").is_not_null() & error_suspects(col, value))
        if col.required:
            passes = passes & value.is_not_null()
        if not cells_clean:
            passes = passes & cell_problem(pl.col(text)).is_null()
        work = work.with_columns(passes.fill_null(False).alias(f"__ok_{name}"))
        ok = ok & pl.col(f"__ok_{name}")
        typed[name] = value
    out = work.select(__ok=ok, **typed)
    return out.get_column("__ok"), out.drop("__ok")


def _check_contract(ds: Dataset) -> None:
    """The premise of judging cells on their own: no rule of validation spans two columns of this contract."""
    spans = ds.require_one_of or any(c.unit_column for c in ds.columns)
    spans = spans or {"period_start", "period_end"} <= set(ds.column_names)
    spans = spans or {"china_hs_code", "cn_code"} <= set(ds.column_names)
    spans = spans or any(c.kind == "goods_category" for c in ds.columns)
    if spans:
        raise ValueError(f"{ds.name}: a rule spans columns; wide files must be validated row by row")


def read_wide(table: TableRead, batch: bool = False) -> TableRead:
    """A wide file as a `WideRead` (or, for a file without a meter column or lines, the reshape's table).
    `batch`: `table` is one batch of the file's lines; an all-empty batch is not rejected (the file is, when
    every batch is: `readers.read_batches`), and its notes count the batch (`file_notes` counts the file)."""
    found = ml._columns(table.headers)
    ts_idx = found.get("interval_start", 0)
    meter_cols = {i: h for i, h in enumerate(table.headers) if i != ts_idx and ml._WIDE_HEADER.match(h or "")}
    if not meter_cols or table.frame.height == 0:
        return ml.wide_text(table)
    others = [h for i, h in enumerate(table.headers) if i != ts_idx and i not in meter_cols and h]
    notes = [*table.notes, "layout: wide (PME-style), one reading per non-empty cell"]
    if others:
        notes.append(
            "ignored columns that are not meter measurements (METER#quantity#unit): " + ", ".join(others)
        )
    problems = {(p.row_number, p.column_index): p for p in table.problems}
    block = _Block(table, ts_idx, meter_cols)
    order = {i: k for k, i in enumerate(meter_cols)}
    broken = list(table.broken)
    cell_problems = [p for (r, j), p in problems.items() if j in meter_cols]
    if cell_problems:  # a cell whose value is unknown is a reading quarantined, never a gap
        at = block.line_index([p.row_number for p in cell_problems])
        block.drop_cells(
            [order[p.column_index] * block.n + at[p.row_number] for p in cell_problems if p.row_number in at]
        )
        raw_ts = dict(table.frame.select("_row_number", f"c{ts_idx}").iter_rows())
        for p in cell_problems:
            h = meter_cols[p.column_index]
            raw = {table.headers[ts_idx] or "Timestamp": raw_ts.get(p.row_number), h: None}
            broken.append(BrokenRow(p.row_number, p.reason, raw, h))
    tally = WideTally(len(meter_cols), block.n, int(block.reading.sum()), len(cell_problems), len(broken))
    if not batch and (why := tally.empty_reason()):
        raise FileRejected(why)
    notes.append(tally.note())
    ts_problems = [replace(p, column_index=1) for (r, j), p in problems.items() if j == ts_idx]
    read = WideRead(
        headers=list(OUT_HEADERS),
        frame=None,  # type: ignore[arg-type]
        file_format=table.file_format,
        encoding=table.encoding,
        broken=sorted(broken, key=lambda b: b.row_number),
        notes=notes,
        problems=ts_problems,
        cells_clean=table.cells_clean,
        cell_column="c4",
        rows_total=tally.readings + len(broken),
    )
    read._wide = block
    read.tally = tally
    return _same_reader(table, read)
