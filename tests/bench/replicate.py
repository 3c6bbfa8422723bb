"""A larger raw lake for the engine cases without ingesting a larger landing zone:
`python -m tests.bench.replicate SRC_HOME DST_HOME [N]` copies SRC_HOME's raw lake and repeats the tables that
grow with the scale in the CBAM engine's input — supplier_invoices and exports — N times (default 10), each copy
with its ids and `_source_row_id` suffixed `-<k>` so no two rows collide. Scale 10 × 10 gives the engine the
invoice and export volumes of scale 100 (3.7 M invoice lines, 267 k export lines); the plant data (streams,
production, bills, flows) is the same at every demo scale. Used when ingesting the scale-100 landing zone does not
fit the machine (docs/performance.md)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import polars as pl

GROWING = {"supplier_invoices": "invoice_id", "exports": "export_id"}


def replicate(src: Path, dst: Path, n: int) -> dict[str, int]:
    rows = {}
    for table in sorted((src / "lake" / "raw").iterdir()):
        out = dst / "lake" / "raw" / table.name
        out.mkdir(parents=True, exist_ok=True)
        current = table / "current.parquet"
        if not current.exists():
            continue
        if table.name in GROWING:
            lf = pl.scan_parquet(current)
            copies = [
                lf.with_columns(pl.col(GROWING[table.name]) + f"-{k}", pl.col("_source_row_id") + f"-{k}")
                for k in range(n)
            ]
            pl.concat(copies).sink_parquet(out / "current.parquet")
            rows[table.name] = pl.scan_parquet(out / "current.parquet").select(pl.len()).collect().item()
        else:
            shutil.copy(current, out / "current.parquet")
    return rows


if __name__ == "__main__":
    print(replicate(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 10))
