"""Benchmark case: the DuckDB SQL reference on an ingested home (python -m tests.bench.cbam_duckdb_case HOME).

Times `compute_cbam_duckdb` (reading the raw lake Parquet in DuckDB plus the calculation, all threads) and
prints one JSON line with the same figures as cbam_polars_case, so engine_cases.py can compare the three."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.bench.duckdb_cbam import compute_cbam_duckdb
from tests.bench.harness import child_clock
from tests.bench.pandas_cbam import PandasReference


def main() -> None:
    clock = child_clock()
    ref = PandasReference.from_seeds()  # timed, as the other two build their reference tables in their time
    out = compute_cbam_duckdb(Path(sys.argv[1]), ref)
    times = clock()
    lines, goods = out["export_lines"], out["goods_see"]
    goods = goods[goods["period_grain"] == "year"]
    print(
        json.dumps(
            {
                **times,
                "export_lines": len(lines),
                "export_direct_tco2e": float(lines["embedded_direct_tco2e"].sum()),
                "export_indirect_tco2e": float(lines["embedded_indirect_tco2e"].sum()),
                "goods_see_direct_sum": float(goods["see_direct"].sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
