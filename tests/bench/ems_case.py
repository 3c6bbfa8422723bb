"""Interval-engine benchmark: a year of 15-minute readings for N meters (500 → 17.5 M readings) aggregated by
`transforms.ems.compute_ems` into meter_hourly, energy_balance and the issues, from a raw-lake Parquet file.

Not a timed test: `python -m tests.bench.ems_case [meters] [days]` prints the figures and a JSON line (the harness
measures wall time and peak memory of the process); `... ems_case batched [meters] [days] [batch readings]` runs
the nightly asset's way, batch by batch of meters with meter_hourly written as it goes and the gate's read-back. The synthetic frame is built by polars expressions (no
per-row Python) with the raw lake's columns, lineage ids included; 1 meter in 10 is a cumulative register, 1 in 5
in MWh with a multiplier, with a few resets and gaps so every path of the engine runs.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import polars as pl

from transforms.ems import compute_ems

ROLES = ["grid_import", "onsite_generation", "grid_export", "sub_meter", "sub_meter", "consumption"]


def synthetic(n_meters: int, days: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(meters, readings) like the raw lake holds them."""
    meters = pl.DataFrame({"i": range(n_meters)}).select(
        meter_id=pl.format("GROUP.METER{}", pl.col("i").cast(pl.String).str.zfill(4)),
        installation_id=pl.format("CN-SITE-{}", (pl.col("i") // 20).cast(pl.String)),
        carrier=pl.lit("electricity"),
        role=pl.col("i").map_elements(lambda i: ROLES[i % 20 % len(ROLES)], return_dtype=pl.String),
        parent_meter_id=pl.when(pl.col("i") % 20 % len(ROLES) >= 3).then(
            pl.format("GROUP.METER{}", (pl.col("i") // 20 * 20).cast(pl.String).str.zfill(4))
        ),
        register=pl.when(pl.col("i") % 10 == 7).then(pl.lit("cumulative")).otherwise(pl.lit("interval")),
        interval_minutes=pl.lit(15, dtype=pl.Int64),
        unit=pl.when(pl.col("i") % 5 == 1).then(pl.lit("MWh")).otherwise(pl.lit("kWh")),
        multiplier=pl.when(pl.col("i") % 5 == 1).then(pl.lit(40.0)).otherwise(pl.lit(1.0)),
    )
    per = days * 96
    n = n_meters * per
    file = "meter_readings/2025-12-31/pme_export_2025.csv"
    idx = pl.int_range(0, n, dtype=pl.Int64)
    m, k = idx // per, idx % per
    base = (k % 96).cast(pl.Float64).sin().abs() * 10.0 + 1.0  # a daily shape, kWh per interval
    cum = (m % 10) == 7
    readings = (
        pl.select(_m=m, _k=k, _base=base, _cum=cum)
        .with_columns(
            # cumulative registers count up, and reset to 0 on the 1st of each month at 00:00 (a drop)
            value=pl.when(pl.col("_cum"))
            .then(pl.col("_base").cum_sum().over("_m") % 5000.0)
            .otherwise(pl.col("_base") / pl.when(pl.col("_m") % 5 == 1).then(40_000.0).otherwise(1.0))
        )
        .filter(pl.col("_k") % 9973 != 5)  # a few gaps
        .select(
            meter_id=pl.format("GROUP.METER{}", pl.col("_m").cast(pl.String).str.zfill(4)),
            interval_start=pl.lit(datetime(2025, 1, 1)) + pl.duration(minutes=pl.col("_k") * 15),
            value="value",
            unit=pl.lit(None, dtype=pl.String),
            quality=pl.when(pl.col("_k") % 4999 == 3).then(pl.lit("estimated")),
            method=pl.lit(None, dtype=pl.String),
            stamp=pl.lit(None, dtype=pl.String),
            _drop_date=pl.lit(datetime(2025, 12, 31).date()),
            _file=pl.lit(file),
            _row_number=pl.col("_k") + 1,
            _source_row_id=pl.format("{}#{}", pl.lit(file), pl.col("_k") + 1),
        )
    )
    return meters, readings


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_synthetic(path: Path, n_meters: int, days: int) -> None:
    meters, readings = synthetic(n_meters, days)
    # in the order a PME wide export lands: line by line (time), every meter of the line
    readings.sort("_row_number", "meter_id").write_parquet(path)
    meters.write_parquet(path.with_name("meters.parquet"))


def main(n_meters: int, days: int) -> dict:
    """Synthetic files written by a child process (its memory is not the engine's), then the engine here."""
    with tempfile.TemporaryDirectory(prefix="lingtan-ems-bench-") as tmp:
        path = Path(tmp) / "meter_readings.parquet"
        subprocess.run(
            [sys.executable, "-m", "tests.bench.ems_case", "--write", str(path), str(n_meters), str(days)],
            check=True,
        )
        raw = {
            "meters": pl.scan_parquet(path.with_name("meters.parquet")),
            "meter_readings": pl.scan_parquet(path),
        }
        n = pl.scan_parquet(path).select(pl.len()).collect().item()
        t0, c0 = time.perf_counter(), _cpu()
        out = compute_ems(raw)
        frames = pl.collect_all(list(out.values()))
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        del frames
        t1 = time.perf_counter()
        pl.read_parquet(path)  # the physical floor: reading the same bytes
        read_s = time.perf_counter() - t1
    return {
        "readings": n,
        "engine_s": round(seconds, 2),
        "engine_cpu_s": round(cpu, 2),  # user + system: the figure that holds on a shared machine
        "readings_per_cpu_s": round(n / cpu),
        "readings_per_s": round(n / seconds),
        "engine_peak_mb": round(peak_mb),
        "read_parquet_s": round(read_s, 2),
        "ratio_to_read": round(seconds / read_s, 1),
    }


def incremental(n_meters: int, days: int) -> dict:
    """A nightly drop of one day, the nightly asset's way (orchestration/defs/compute/ems.py): the engine batch by
    batch over every reading but the last day's, meter_hourly written to its parts by month (`HourlyParts`) and
    the carry kept; then the incremental run when that day's drop lands: from the UTC month the new readings
    start in (`incremental_since`), over the readings written from two days before it (earlier row groups are
    not read), the months before linked from the parts already written. Both timed here, without the gate."""
    from orchestration.defs.compute.ems import BATCH_READINGS, HourlyParts
    from transforms.ems import EmsCarry, incremental_readings, incremental_since, run_ems

    with tempfile.TemporaryDirectory(prefix="lingtan-ems-bench-") as tmp:
        path = Path(tmp) / "meter_readings.parquet"
        subprocess.run(
            [sys.executable, "-m", "tests.bench.ems_case", "--write", str(path), str(n_meters), str(days)],
            check=True,
        )
        meters = pl.scan_parquet(path.with_name("meters.parquet"))
        readings = pl.scan_parquet(path)
        last_day = readings.select(pl.col("interval_start").max().dt.truncate("1d")).collect().item()
        t0, c0 = time.perf_counter(), _cpu()
        before = readings.filter(pl.col("interval_start") < last_day)
        published = HourlyParts(Path(tmp) / "published")
        prior = run_ems(
            {"meters": meters, "meter_readings": before}, published, batch_readings=BATCH_READINGS
        )
        published.close()
        pl.collect_all(list(prior.tables.values()))
        prior_s, prior_cpu = time.perf_counter() - t0, _cpu() - c0
        saved = {}
        for name, frame in prior.carry._asdict().items():
            if frame is not None:
                frame.lazy().collect().write_parquet(Path(tmp) / f"carry_{name}.parquet")
                saved[name] = pl.scan_parquet(Path(tmp) / f"carry_{name}.parquet")
        del prior
        t1, c1 = time.perf_counter(), _cpu()
        new = readings.filter(pl.col("interval_start") >= last_day)
        kept = EmsCarry(hourly=None, **saved)
        since = incremental_since(new, meters, kept.ranges)
        window = incremental_readings(readings, since)
        hourly = HourlyParts(Path(tmp) / "staged", since, Path(tmp) / "published")
        run = run_ems(
            {"meters": meters, "meter_readings": window}, hourly, since=since, carry=kept,
            batch_readings=BATCH_READINGS,
        )  # fmt: skip
        hourly_rows = hourly.close()  # the table's rows, the kept months' included
        pl.collect_all(list(run.tables.values()))
        seconds, cpu = time.perf_counter() - t1, _cpu() - c1
        n_new = new.select(pl.len()).collect().item()
        n_window = window.select(pl.len()).collect().item()
        n_all = readings.select(pl.len()).collect().item()
    return {
        "readings": n_all,
        "new_readings": n_new,
        "since": since.isoformat(),
        "readings_recomputed": n_window,
        "hourly_rows": hourly_rows,
        "incremental_s": round(seconds, 2),
        "incremental_cpu_s": round(cpu, 2),
        "run_before_drop_s": round(prior_s, 2),
        "run_before_drop_cpu_s": round(prior_cpu, 2),
        "cpu_ratio_incremental_to_full": round(cpu / prior_cpu, 3),
    }


def batched(n_meters: int, days: int, batch_readings: int | None = None) -> dict:
    """The nightly asset's way at scale (issue 13): `run_ems` batch by batch of meters (the asset's
    `BATCH_READINGS` unless given), meter_hourly written to its parts by month as it goes (`HourlyParts`), then
    read back by the computed gate part by part in slices (`expectations.computed.month_parts_suspects`). 2,000 meters × 365 days is a scale-100 year
    (70 M readings)."""
    from expectations.computed import month_parts_suspects
    from orchestration.defs.compute.ems import BATCH_READINGS, HOURLY_PARTS, HourlyParts
    from transforms.ems import run_ems

    with tempfile.TemporaryDirectory(prefix="lingtan-ems-bench-") as tmp:
        path = Path(tmp) / "meter_readings.parquet"
        subprocess.run(
            [sys.executable, "-m", "tests.bench.ems_case", "--write", str(path), str(n_meters), str(days)],
            check=True,
        )
        raw = {
            "meters": pl.scan_parquet(path.with_name("meters.parquet")),
            "meter_readings": pl.scan_parquet(path),
        }
        n = pl.scan_parquet(path).select(pl.len()).collect().item()
        t0, c0 = time.perf_counter(), _cpu()
        hourly = HourlyParts(Path(tmp) / "meter_hourly")
        run = run_ems(raw, hourly, batch_readings=batch_readings or BATCH_READINGS)
        rows = hourly.close()
        pl.collect_all(list(run.tables.values()))
        engine_s, engine_cpu = time.perf_counter() - t0, _cpu() - c0
        by_part, problems = month_parts_suspects(hourly.folder, "meter_hourly", HOURLY_PARTS)
        kept = pl.concat(by_part.values(), how="vertical_relaxed")
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "readings": n,
        "batches": run.batches,
        "hourly_rows": rows,
        "gate_rows_kept": kept.height,
        "gate_blocking": problems,
        "engine_and_write_s": round(engine_s, 2),
        "engine_and_write_cpu_s": round(engine_cpu, 2),
        "with_gate_s": round(seconds, 2),
        "with_gate_cpu_s": round(cpu, 2),
        "readings_per_cpu_s": round(n / cpu),
        "peak_mb": round(peak_mb),
    }


def run(workdir: Path, scale: int) -> list:
    """`make bench` hook: 500 meters × a year, whatever the scale (the issue's target case)."""
    from tests.bench.harness import measure

    return [measure("ems interval engine (500 meters × 1 year)", "tests.bench.ems_case", "500", "365")]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        write_synthetic(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["batched"]:
        args = [int(a) for a in sys.argv[2:]]
        print(json.dumps(batched(*(args or [2000, 365]))))
    elif sys.argv[1:2] == ["incremental"]:
        args = [int(a) for a in sys.argv[2:]]
        print(json.dumps(incremental(*(args or [500, 365]))))
    else:
        args = [int(a) for a in sys.argv[1:]]
        print(json.dumps(main(*(args or [500, 365]))))
