"""Benchmark case: the logistics engine on an ingested home (python -m tests.bench.logistics_case HOME).

Times reading the raw lake plus `compute_logistics` (legs and their allocations, one streaming plan) and
prints one JSON line: seconds, legs, legs per second, allocation rows."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from orchestration.lib.compute import load_raw
from orchestration.lib.home import Home
from transforms.footprint import load_factors
from transforms.logistics import compute_logistics


def main() -> None:
    start = time.perf_counter()
    raw = load_raw(Home(Path(sys.argv[1])))
    legs, allocations = compute_logistics(raw, load_factors())
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "legs": legs.height,
                "legs_per_s": round(legs.height / seconds),
                "allocations": allocations.height,
                "wtw_tco2e": legs["wtw_tco2e"].sum(),
            }
        )
    )


if __name__ == "__main__":
    main()
