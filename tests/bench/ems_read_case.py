"""Physical reference for the EMS interval engine (python -m tests.bench.ems_read_case [meters] [days]): the
same synthetic readings as tests/bench/ems_case.py written as one CSV file, then `polars.read_csv` of it timed.
Prints readings/s of the read; run.py sets it beside the engine's readings/s (same readings, same run)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from tests.bench.ems_case import synthetic


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


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*(args or [500, 365]))))
