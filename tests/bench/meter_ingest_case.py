"""Benchmark case: meter-reading files read, reshaped and validated (issue 12: >= 1 M readings/s, peak < 4 GB),
beside `polars.read_csv` of the same bytes.

    python -m tests.bench.meter_ingest_case make DIR METERS DAYS  # a PME wide CSV and a long CSV, same readings
    python -m tests.bench.meter_ingest_case ingest FILE           # read + reshape + validate, accepted to Parquet
    python -m tests.bench.meter_ingest_case read_csv FILE         # the physical reference (every column as text)
    python -m tests.bench.meter_ingest_case METERS DAYS WORKDIR   # the three steps for both files, as a table

The readings are tests/bench/ems_case.py's synthetic ones (a daily shape, cumulative registers, a few gaps, a
few estimated readings). The wide file is the one tests/bench/ems_read_case.py lands (`Timestamp`, one
`METER#Real Energy Into the Load#unit` column per meter, one line per 15 minutes); the long file has one line per
reading (`meter_id`, `interval_start`, `value`, `unit`, `quality`; an estimated reading without its method is
quarantined, as the contract says). `ingest` is what ingestion does for one file of a drop (the polars-native
reader, the layout's reshape, the contract's validation, batch by batch: `drops.validated_batches`), then writes
the accepted rows as the drop's staging parts are written (`orchestration.lib.ingest._Parts`: zstd,
statistics; a wide file's rows from their codes, in a thread). The duplicate-key rule, the current table, the
raw lake and the gates are not in it (tests/bench/ems_read_case.py `ingest` times the whole `ingest_dataset`). Each step runs in its own child (tests/bench/harness.py), so each peak RSS is its own."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

WIDE = "meter_readings/2025-12-31/pme_export_2025.csv"
LONG = "meter_readings/2025-12-31/readings_long.csv"


def make(root: Path, n_meters: int, days: int) -> dict:
    from tests.bench.ems_case import synthetic
    from tests.bench.ems_read_case import write_landing

    write_landing(root, n_meters, days)
    meters, readings = synthetic(n_meters, days)
    long = readings.join(meters.select("meter_id", "unit"), on="meter_id", how="left", suffix="_m").select(
        "meter_id",
        pl.col("interval_start").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "value",
        unit=pl.col("unit_m"),
        quality=pl.col("quality"),
    )
    (root / LONG).parent.mkdir(parents=True, exist_ok=True)
    long.write_csv(root / LONG)
    return {
        "readings": long.height,
        "wide_mb": round((root / WIDE).stat().st_size / 2**20, 1),
        "long_mb": round((root / LONG).stat().st_size / 2**20, 1),
    }


def ingest(path: Path) -> dict:
    from orchestration.lib.ingest import IN_ORDER, _Parts
    from transforms.contracts import dataset
    from transforms.ingest.drops import validated_batches

    ds = dataset("meter_readings")
    rel = f"meter_readings/2025-12-31/{path.name}"
    parts = _Parts(path.with_suffix(".parts"), ds.schema, {IN_ORDER: "1"}, ds.keys)
    wall, cpu = time.perf_counter(), time.process_time()
    accepted = quarantined = 0
    fmt = ""
    for table, v, restart in validated_batches(ds, rel, path.read_bytes(), date(2025, 12, 31)):
        if restart:  # the file needs the row-by-row reader: the batches before are void
            parts.discard(rel)
            accepted = quarantined = 0
        accepted, quarantined = accepted + v.accepted.height, quarantined + v.quarantine.height
        fmt = f"{table.file_format}/{table.encoding}"
        parts.add(rel, v.accepted)
        del v
    parts.scan()  # the parts are written
    secs, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    parts.remove()
    readings = accepted + quarantined
    return {
        "readings": readings,
        "accepted": accepted,
        "quarantined": quarantined,
        "read_as": fmt,
        "seconds": round(secs, 2),
        "cpu_s": round(cpu_s, 2),
        "readings_per_s": round(readings / secs),
        "readings_per_cpu_s": round(readings / cpu_s),
    }


def read_csv(path: Path) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    frame = pl.read_csv(path, infer_schema=False)
    secs, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "rows": frame.height,
        "cells": frame.height * frame.width,
        "seconds": round(secs, 3),
        "cpu_s": round(cpu_s, 3),
    }


def run(work: Path, n_meters: int, days: int, scale: float | None = None) -> list:
    """Both files' steps as bench rows, `ratio_to_read_csv` = ingest ÷ read_csv of the same file, in wall and in
    CPU seconds, each as timed inside its child (the interpreter's start and imports left out). `make bench`
    (tests/bench/run.py) runs it per scale with one meter per scale unit, a year each."""
    import os

    from tests.bench.harness import measure

    size = f"{n_meters} meters × {days} d" + ("" if scale is None else f", scale {scale:g}")
    root = work / "meter_landing"
    rows = [
        measure(
            f"meter ingestion ({size}): write files",
            "tests.bench.meter_ingest_case",
            "make",
            str(root),
            str(n_meters),
            str(days),
        )
    ]
    for label, rel in (("PME wide CSV", WIDE), ("long CSV", LONG)):
        load = os.getloadavg()[0]
        ing = measure(
            f"meter ingestion, {label} ({size}): readings/s and ratio to read_csv",
            "tests.bench.meter_ingest_case",
            "ingest",
            str(root / rel),
        )
        ref = measure(
            f"meter ingestion, {label} ({size}): polars.read_csv",
            "tests.bench.meter_ingest_case",
            "read_csv",
            str(root / rel),
        )
        ing.info["ratio_to_read_csv"] = round(ing.info["seconds"] / ref.info["seconds"], 2)
        ing.info["ratio_to_read_csv_cpu"] = round(ing.info["cpu_s"] / ref.info["cpu_s"], 2)
        ing.info["load_1min"] = round(load, 1)
        rows += [ing, ref]
        (root / rel).unlink()
    return rows


def main() -> None:
    step = sys.argv[1]
    if step == "make":
        print(json.dumps(make(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
    elif step == "ingest":
        print(json.dumps(ingest(Path(sys.argv[2]))))
    elif step == "read_csv":
        print(json.dumps(read_csv(Path(sys.argv[2]))))
    else:
        from tests.bench.run import table

        print(table(run(Path(sys.argv[3]), int(sys.argv[1]), int(sys.argv[2]))))


if __name__ == "__main__":
    main()
