"""Benchmark case: ingest a whole landing zone into a fresh home (python -m tests.bench.ingest_case LANDING HOME).

Prints rows/s over every dataset, and for the biggest one (supplier_invoices, CSV only) its rows/s beside the
physical reference: `polars.read_csv` of the same files (every column as text, undecodable bytes replaced: the
files are GB18030 with Chinese headers, which polars' reader cannot decode), timed in the same process right
after. The dataset also lands as JSON Lines, Parquet and Excel files (the demo's mix of sources), so the ratio
compares rates: `ratio_to_read_csv` = read_csv rows/s ÷ ingestion rows/s (issue 13 target: within 3×)."""

import json
import sys
import time
from pathlib import Path

import polars as pl

from orchestration.lib.home import Home
from orchestration.lib.ingest import ingest_dataset
from orchestration.lib.storage import Landing
from transforms.contracts import datasets

BIG = "supplier_invoices"


def _read_csv_s(files: list[Path]) -> tuple[float, int]:
    start, rows = time.perf_counter(), 0
    for f in files:
        rows += pl.read_csv(f, encoding="utf8-lossy", infer_schema=False, truncate_ragged_lines=True).height
    return time.perf_counter() - start, rows


def main() -> None:
    landing, home = Landing.open(sys.argv[1]), Home(Path(sys.argv[2]))
    listing = list(landing.files())
    start = time.perf_counter()
    rows, per = 0, {}
    for name in datasets():
        t = time.perf_counter()
        n = ingest_dataset(landing, home, name, listing=listing).rows_read
        per[name] = (n, time.perf_counter() - t)
        rows += n
    secs = time.perf_counter() - start
    csvs = sorted((Path(sys.argv[1]) / BIG).rglob("*.csv"))
    others = [p for p in (Path(sys.argv[1]) / BIG).rglob("*") if p.is_file() and p.suffix != ".csv"]
    read_s, read_rows = _read_csv_s(csvs)
    big_rows, big_s = per[BIG]
    print(
        json.dumps(
            {
                "rows": rows,
                "rows_per_s": round(rows / secs),
                f"{BIG}_rows": big_rows,
                f"{BIG}_rows_per_s": round(big_rows / big_s),
                f"{BIG}_mb": round(sum(p.stat().st_size for p in csvs) / 2**20, 1),
                f"{BIG}_non_csv_files": len(others),
                "read_csv_rows_per_s": round(read_rows / read_s),
                "ratio_to_read_csv": round((read_rows / read_s) / (big_rows / big_s), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
