"""Benchmark case: a reference implementation of the product footprint on an ingested home
(python -m tests.bench.footprint_ref_case pandas|duckdb HOME INPUT_DIR).

INPUT_DIR holds the engine's inputs and result, written by footprint_case.py. The inputs are read first (not
timed, as the engine receives them in memory); then reading the raw lake plus the calculation is timed, wall
and CPU of every thread: tests/bench/pandas_footprint.py (pandas) or tests/bench/duckdb_footprint.py (DuckDB
SQL). `same_numbers`: every product × period row equals the engine's (pandas_footprint.same_numbers). One JSON
line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import polars as pl

from tests.bench.duckdb_footprint import compute_footprint_duckdb
from tests.bench.harness import child_clock
from tests.bench.pandas_footprint import (
    INPUTS,
    compute_footprint_pandas,
    inputs_as_pandas,
    load_raw,
    same_numbers,
)


def main() -> None:
    which, home, inputs_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    inputs = inputs_as_pandas({name: pl.read_parquet(inputs_dir / f"{name}.parquet") for name in INPUTS})
    clock = child_clock()
    if which == "pandas":
        out = compute_footprint_pandas(load_raw(home), **inputs)
    else:
        out = compute_footprint_duckdb(home, inputs)
    times = clock()
    engine = pd.read_parquet(inputs_dir / "engine_result.parquet")
    print(
        json.dumps(
            {
                **times,
                "footprint_rows": len(out),
                "same_numbers": same_numbers(engine, out),
            }
        )
    )


if __name__ == "__main__":
    main()
