"""Benchmark case: ingest a whole landing zone into a fresh home (python -m tests.bench.ingest_case LANDING HOME)."""

import json
import sys
import time
from pathlib import Path

from orchestration.lib.home import Home
from orchestration.lib.ingest import ingest_dataset
from orchestration.lib.storage import Landing
from transforms.contracts import datasets


def main() -> None:
    landing, home = Landing.open(sys.argv[1]), Home(Path(sys.argv[2]))
    listing = list(landing.files())
    start = time.perf_counter()
    rows = 0
    for name in datasets():
        rows += ingest_dataset(landing, home, name, listing=listing).rows_read
    secs = time.perf_counter() - start
    print(json.dumps({"rows": rows, "rows_per_s": round(rows / secs)}))


if __name__ == "__main__":
    main()
