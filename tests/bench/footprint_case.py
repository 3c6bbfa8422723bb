"""Benchmark case: the product footprint engine on an ingested home
(python -m tests.bench.footprint_case HOME [INPUT_DIR]).

The CBAM engine and the logistics allocations it reads are computed first (not timed); then
`compute_product_footprint` (ISO 14067, every product × period, both grains, reading the raw lake it needs) and
the whole GHG stage `compute_ghg` (logistics, footprint, site inventory, Scope 2 lines, park progress, factor
catalogue) are timed in this process (wall and CPU of every thread). With INPUT_DIR, the footprint's inputs
(tests/bench/pandas_footprint.INPUTS) and its result are written there (not timed), for the pandas and DuckDB
references (footprint_ref_case.py) to start from the same inputs and be compared with the same result. One
JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestration.lib.compute import load_raw
from orchestration.lib.home import Home
from tests.bench.harness import child_clock
from tests.bench.pandas_footprint import INPUTS
from transforms.cbam.engine import compute_cbam
from transforms.footprint import load_factors
from transforms.footprint.engine import compute_product_footprint
from transforms.ghg.compute import compute_ghg
from transforms.logistics import compute_logistics
from transforms.reference.cbam import CbamReference


def _timed(f):
    clock = child_clock()
    out = f()
    return out, clock()


def main() -> None:
    raw = load_raw(Home(Path(sys.argv[1])))
    factors = load_factors()
    cbam = compute_cbam(raw, CbamReference.from_seeds())
    _, allocations = compute_logistics(raw, factors)
    fp, fp_times = _timed(
        lambda: compute_product_footprint(
            raw, factors, cbam["process_see"], cbam["precursor_inputs"], allocations, cbam["stream_emissions"]
        )
    )
    ghg, ghg_times = _timed(
        lambda: compute_ghg(
            raw, factors, cbam["stream_emissions"], cbam["process_see"], cbam["precursor_inputs"]
        )
    )
    if len(sys.argv) > 2:
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        frames = {
            **cbam,
            "shipment_allocations": allocations,
            "china_grid_factors": factors["china_grid_factors"],
        }
        for name in INPUTS:
            frames[name].write_parquet(out / f"{name}.parquet")
        fp.write_parquet(out / "engine_result.parquet")
    print(
        json.dumps(
            {
                **fp_times,
                "footprint_rows": fp.height,
                "ghg_stage_s": ghg_times["seconds"],
                "ghg_stage_cpu_s": ghg_times["cpu_s"],
                "site_inventory_rows": ghg["site_inventory"].height,
            }
        )
    )


if __name__ == "__main__":
    main()
