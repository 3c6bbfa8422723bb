"""Benchmark case: the CBAM engine on an ingested home (python -m tests.bench.cbam_polars_case HOME).

Times reading the raw lake plus `compute_cbam` (all eight tables, both grains) and prints one JSON line: the
seconds, the sizes, and totals that tests/bench/engine_cases.py checks against the pandas baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from orchestration.lib.compute import load_raw
from orchestration.lib.home import Home
from tests.bench.harness import child_clock
from transforms.cbam.engine import compute_cbam
from transforms.reference.cbam import CbamReference


def main() -> None:
    clock = child_clock()
    raw = load_raw(Home(Path(sys.argv[1])))
    out = compute_cbam(raw, CbamReference.from_seeds())
    times = clock()
    lines = out["export_lines"]
    goods = out["goods_see"].filter(pl.col("period_grain") == "year")
    invoices = raw["supplier_invoices"].select(pl.len()).collect().item()
    print(
        json.dumps(
            {
                **times,
                "invoices": invoices,
                "export_lines": lines.height,
                "export_direct_tco2e": lines["embedded_direct_tco2e"].sum(),
                "export_indirect_tco2e": lines["embedded_indirect_tco2e"].sum(),
                "goods_see_direct_sum": goods["see_direct"].sum(),
            }
        )
    )


if __name__ == "__main__":
    main()
