"""A landing zone whose last drop holds one real day: the bench's "nightly one real day" case.

The demo drops a month of events at a time, so the bench's "one new drop day" brings a month of invoices,
exports, legs and meter readings (3.5 M rows at scale 100, 56× scale 1). A plant's nightly export brings one
day. `day_landing` builds that drop from the demo's: every earlier drop is linked as it is, and each file of the
last drop that carries day-stamped rows keeps only the rows dated `day`, as the lines of the original file
(same encoding, title rows, header and layout), so ingestion reads them the way it reads the month's file.
Files of monthly records (bills, certificates, flows, production, stream readings, credits) are linked whole:
they arrive once a month whatever the day.

Which rows belong to `day` is read from a home that has ingested the full landing: its raw lake names each
accepted row's file and row number (`_file`, `_row_number`) with its date. A file that is not one record per
line (an XLSX, a JSON array, a CSV with a quoted line break) is linked whole, and the summary says so.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl

from orchestration.lib.home import Home
from transforms.contracts import dataset as contract
from transforms.ingest.readers import read_table
from transforms.ingest.validate import header_names_enough

# The day-stamped event datasets and the column that dates each row (the date part of a timestamp).
DAY_COLUMNS = {
    "supplier_invoices": "invoice_date",
    "exports": "declaration_date",
    "shipments": "ship_date",
    "meter_readings": "interval_start",
}
LINE_FORMATS = (".csv", ".jsonl")


def rows_on_day(home: Home, dataset: str, drop: date, day: date) -> dict[str, tuple[list[int], int]]:
    """Per file of the drop: the row numbers (1-based data rows) of its accepted rows dated `day`, sorted, and
    how many accepted rows they hold (a wide meter file's row is a line of many readings)."""
    on_day = pl.col(DAY_COLUMNS[dataset]).cast(pl.Date) == day
    rows = (
        pl.scan_parquet(home.raw_table(dataset))
        .filter(pl.col("_drop_date") == drop)
        .group_by("_file")
        .agg(pl.col("_row_number").filter(on_day).unique().sort(), n=on_day.sum())
        .collect()
    )
    return {
        f: (r, n) for f, r, n in zip(rows["_file"], rows["_row_number"].to_list(), rows["n"], strict=True)
    }


def data_rows(src: Path, rel: str) -> int:
    """How many data rows the reader finds in the file (a wide meter file: its lines, one per timestamp)."""
    ds = rel.split("/", 1)[0]
    table = read_table(rel, src.read_bytes(), ds, header_names_enough(contract(ds)), fast=False)
    return int(table.frame["_row_number"].max() or 0)


def split_lines(src: Path, dst: Path, rel: str, keep: list[int]) -> int | None:
    """Write the lines of `src` that hold rows `keep`, after its title and header lines, to `dst`; the number of
    lines written, or None when the file is not one record per line (then nothing is written)."""
    if not rel.endswith(LINE_FORMATS):
        return None
    data = src.read_bytes()
    ending = b"\r\n" if b"\r\n" in data[:65536] else b"\n"
    lines = data.split(ending)
    if lines and lines[-1] == b"":
        lines.pop()
    if any(line.count(b'"') % 2 for line in lines):  # a quoted cell spans lines
        return None
    n = data_rows(src, rel)
    if n > len(lines) or (keep and keep[-1] > n):
        return None
    head, body = lines[: len(lines) - n], lines[len(lines) - n :]
    dst.write_bytes(ending.join([*head, *(body[i - 1] for i in keep)]) + ending)
    return len(keep)


def day_landing(landing: Path, home: Home, out: Path, drop: date, day: date) -> dict:
    """Write `out`: `landing`'s drops before `drop` linked, and `drop` cut to the rows dated `day` (module doc).
    `home` has ingested `landing` up to `drop`. Returns a summary: accepted rows kept per dataset (readings, for
    meter files), the day files linked whole."""
    on_day = {ds: rows_on_day(home, ds, drop, day) for ds in DAY_COLUMNS}
    kept: dict[str, int] = {}
    whole: list[str] = []
    for src in sorted(p for p in landing.rglob("*") if p.is_file()):
        rel = src.relative_to(landing).as_posix()
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        ds, _, rest = rel.partition("/")
        day_file = ds in on_day and rest.startswith(f"{drop.isoformat()}/")
        keep, n = on_day[ds].get(rel, ([], 0)) if day_file else ([], 0)
        if day_file and split_lines(src, dst, rel, keep) is not None:
            kept[ds] = kept.get(ds, 0) + n
        else:
            os.link(src, dst)
            whole += [rel] if day_file else []
    return {"day": day.isoformat(), "rows_kept": kept, "files_linked_whole": whole}
