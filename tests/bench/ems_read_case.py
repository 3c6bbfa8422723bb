"""Physical references for the EMS path, on the same synthetic readings as tests/bench/ems_case.py.

- `python -m tests.bench.ems_read_case [meters] [days]`: the readings written as one long CSV file, then
  `polars.read_csv` of it timed. Prints readings/s of the read; run.py sets it beside the engine's readings/s
  (same readings, same run).
- `python -m tests.bench.ems_read_case ingest [meters] [days]`: ingestion of meter files as they land. A child
  process writes a landing zone with the `meters` drop and the readings as one PME-style wide CSV (a `Timestamp`
  column, one `METER#Real Energy Into the Load#unit` column per meter, one line per 15 minutes). This process then
  times `ingest_dataset` for both datasets: read, reshape (transforms/ingest/meter_layouts.py), validate, promote
  to the raw lake. After that it times `polars.read_csv` of the same wide file (every column as text). Prints
  readings/s of each and `ratio_to_read_csv` = ingestion seconds ÷ read_csv seconds (same bytes).
- `python -m tests.bench.ems_read_case endtoend [meters] [days]`: issue 12's figure as one number. The same landing
  zone; then, each step in its own child process (so that each peak RSS is the step's own): the ingestion of
  `meters` and `meter_readings` as the nightly does it (`ingest_dataset`: read, validate, stage, history,
  current, raw gate, publish), then the interval engine on that raw lake as the nightly's `ems_engine` asset
  calls it (`load_raw`, `run_ems` batch by batch with meter_hourly appended to its file, the other tables
  collected), then `polars.read_csv` of
  the same wide file. Prints readings/s = readings ÷ (ingest wall + engine wall), CPU seconds and peak RSS
  per step, and `ratio_to_read_csv` = (ingest + engine) wall ÷ read_csv wall.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from tests.bench.ems_case import synthetic

WIDE_FILE = "meter_readings/2025-12-31/pme_export_2025.csv"
METERS_FILE = "meters/2025-01-01/meters.csv"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(n_meters: int, days: int) -> dict:
    _, readings = synthetic(n_meters, days)
    with tempfile.TemporaryDirectory(prefix="lingtan-ems-read-") as tmp:
        path = Path(tmp) / "meter_readings.csv"
        readings.write_csv(path)
        del readings
        start, cpu0 = time.perf_counter(), time.process_time()
        n = pl.read_csv(path).height
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
        mb = path.stat().st_size / 2**20
    return {
        "readings": n,
        "csv_mb": round(mb),
        "read_csv_s": round(seconds, 2),
        "read_csv_cpu_s": round(cpu, 2),
        "readings_per_s": round(n / seconds),
    }


def write_landing(root: Path, n_meters: int, days: int) -> None:
    """The `meters` drop and one PME wide export of the readings (empty cell = no reading, a gap)."""
    meters, readings = synthetic(n_meters, days)
    (root / METERS_FILE).parent.mkdir(parents=True, exist_ok=True)
    meters.write_csv(root / METERS_FILE)
    unit = dict(zip(meters["meter_id"], meters["unit"], strict=True))
    wide = (
        readings.select("meter_id", "interval_start", "value")
        .pivot(on="meter_id", index="interval_start", values="value", sort_columns=True)
        .sort("interval_start")
    )
    del readings
    wide = wide.select(
        pl.col("interval_start").dt.strftime("%Y-%m-%d %H:%M:%S").alias("Timestamp"),
        *(pl.col(m).alias(f"{m}#Real Energy Into the Load#{unit[m]}") for m in wide.columns[1:]),
    )
    (root / WIDE_FILE).parent.mkdir(parents=True, exist_ok=True)
    wide.write_csv(root / WIDE_FILE)


def ingest(n_meters: int, days: int) -> dict:
    from orchestration.lib.home import Home
    from orchestration.lib.ingest import ingest_dataset
    from orchestration.lib.storage import Landing

    with tempfile.TemporaryDirectory(prefix="lingtan-ems-ingest-") as tmp:
        root = Path(tmp) / "landing"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.bench.ems_read_case",
                "--write",
                str(root),
                str(n_meters),
                str(days),
            ],
            check=True,
        )
        landing, home = Landing.open(str(root)), Home(Path(tmp) / "home")
        listing = list(landing.files())
        t0, c0 = time.perf_counter(), _cpu()
        ingest_dataset(landing, home, "meters", listing=listing)
        result = ingest_dataset(landing, home, "meter_readings", listing=listing)
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        accepted, quarantined = result.rows_accepted, result.rows_quarantined
        wide = root / WIDE_FILE
        t1, c1 = time.perf_counter(), _cpu()
        frame = pl.read_csv(wide, infer_schema=False)
        read_s, read_cpu = time.perf_counter() - t1, _cpu() - c1
        cells = frame.height * (frame.width - 1)
        mb = wide.stat().st_size / 2**20
    readings = accepted + quarantined
    return {
        "readings": readings,
        "accepted": accepted,
        "quarantined": quarantined,
        "wide_csv_mb": round(mb, 1),
        "ingest_s": round(seconds, 2),
        "ingest_cpu_s": round(cpu, 2),
        "ingest_peak_mb": round(peak_mb),
        "readings_per_s": round(readings / seconds),
        "readings_per_cpu_s": round(readings / cpu),
        "read_csv_s": round(read_s, 2),
        "read_csv_cpu_s": round(read_cpu, 2),
        "read_csv_cells_per_s": round(cells / read_s),
        "ratio_to_read_csv": round(seconds / read_s, 1),
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(step: str, root: Path, home_dir: Path) -> dict:
    """One step of `endtoend`, in this (child) process: its wall, CPU and peak RSS."""
    t0, c0 = time.perf_counter(), _cpu()
    if step == "ingest":
        from orchestration.lib.home import Home
        from orchestration.lib.ingest import ingest_dataset
        from orchestration.lib.storage import Landing

        landing, home = Landing.open(str(root)), Home(home_dir)
        t0, c0 = time.perf_counter(), _cpu()  # imports are not the step's
        listing = list(landing.files())
        ingest_dataset(landing, home, "meters", listing=listing)
        r = ingest_dataset(landing, home, "meter_readings", listing=listing)
        out = {
            "readings": r.rows_accepted + r.rows_quarantined,
            "accepted": r.rows_accepted,
            "gate": r.gate.passed,
        }
    elif step == "engine":
        from datetime import date

        from orchestration.defs.compute.ems import _run
        from orchestration.lib.compute import load_raw
        from orchestration.lib.home import Home

        t0, c0 = time.perf_counter(), _cpu()
        # as the ems_engine asset runs it: batch by batch, meter_hourly appended to its staged parts as it comes
        run, hourly_rows = _run(load_raw(Home(home_dir)), date.today(), None, None, home_dir / "meter_hourly")
        pl.collect_all(list(run.tables.values()))
        out = {"hourly_rows": hourly_rows}
    else:  # the physical reference: the wide file's bytes, every column as text
        t0, c0 = time.perf_counter(), _cpu()
        frame = pl.read_csv(root / WIDE_FILE, infer_schema=False)
        out = {"cells": frame.height * (frame.width - 1)}
    return out | {"s": time.perf_counter() - t0, "cpu_s": _cpu() - c0, "peak_mb": _peak_mb()}


def endtoend(n_meters: int, days: int) -> dict:
    """Landing zone → raw lake → interval engine, each step timed in its own child process."""
    with tempfile.TemporaryDirectory(prefix="lingtan-ems-e2e-") as tmp:
        root, home_dir = Path(tmp) / "landing", Path(tmp) / "home"
        me = [sys.executable, "-m", "tests.bench.ems_read_case"]
        subprocess.run([*me, "--write", str(root), str(n_meters), str(days)], check=True)
        steps = {}
        for step in ("ingest", "engine", "read_csv"):
            done = subprocess.run(
                [*me, "--step", step, str(root), str(home_dir)], check=True, capture_output=True, text=True
            )
            steps[step] = json.loads(done.stdout.strip().splitlines()[-1])
        mb = (root / WIDE_FILE).stat().st_size / 2**20
    ing, eng, ref = steps["ingest"], steps["engine"], steps["read_csv"]
    n, wall, cpu = ing["readings"], ing["s"] + eng["s"], ing["cpu_s"] + eng["cpu_s"]
    return {
        "readings": n,
        "gate_passed": ing["gate"],
        "wide_csv_mb": round(mb, 1),
        "ingest_s": round(ing["s"], 2),
        "ingest_cpu_s": round(ing["cpu_s"], 2),
        "ingest_peak_mb": round(ing["peak_mb"]),
        "engine_s": round(eng["s"], 2),
        "engine_cpu_s": round(eng["cpu_s"], 2),
        "engine_peak_mb": round(eng["peak_mb"]),
        "endtoend_s": round(wall, 2),
        "endtoend_cpu_s": round(cpu, 2),
        "readings_per_s": round(n / wall),
        "readings_per_cpu_s": round(n / cpu),
        "peak_mb": round(max(ing["peak_mb"], eng["peak_mb"])),
        "read_csv_s": round(ref["s"], 2),
        "read_csv_cpu_s": round(ref["cpu_s"], 2),
        "ratio_to_read_csv": round(wall / ref["s"], 1),
        "ratio_to_read_csv_cpu": round(cpu / ref["cpu_s"], 1),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        write_landing(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["--step"]:
        print(json.dumps(_step(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))))
    elif sys.argv[1:2] == ["endtoend"]:
        args = [int(a) for a in sys.argv[2:]]
        print(json.dumps(endtoend(*(args or [500, 365]))))
    elif sys.argv[1:2] == ["ingest"]:
        args = [int(a) for a in sys.argv[2:]]
        print(json.dumps(ingest(*(args or [500, 365]))))
    else:
        args = [int(a) for a in sys.argv[1:]]
        print(json.dumps(main(*(args or [500, 365]))))
