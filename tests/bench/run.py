"""`make bench`: speed and memory figures, reported as ratios against baselines measured in the same run.

Cases (each in its own process): fixed costs (tests/bench/tiny_case.py: a tiny nightly run beside an empty
Dagster run and a no-change `dbt build`), demo generation and ingestion at scale 10 (rows/s, peak memory), and the
engines where present (their own bench modules register below).
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tests.bench import tiny_case
from tests.bench.harness import measure

# `python -m tests.bench.run fixed`: only the fixed-cost cases (tiny run and framework floors).
FIXED_ONLY = sys.argv[1:] == ["fixed"]
SCALES = [] if FIXED_ONLY else [int(s) for s in sys.argv[1:]] or [10]
EXTRA_CASES = [
    "tests.bench.engine_cases",
    "tests.bench.reports_case",  # the whole nightly job, then the report stage alone (all published; no change)
]  # optional: modules with `run(workdir, scale) -> list[Measurement]`


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="lingtan-bench-") as tmp:
        results.extend(tiny_case.run(Path(tmp)))  # fixed costs: a tiny nightly run beside the floors
        for scale in SCALES:
            work = Path(tmp) / f"s{scale}"
            landing, home = work / "landing", work / "home"
            results.append(
                measure(f"demo generate (scale {scale})", "tests.bench.demo_case", str(landing), str(scale))
            )
            results.append(
                measure(
                    f"ingest all datasets (scale {scale})", "tests.bench.ingest_case", str(landing), str(home)
                )
            )
            for mod in EXTRA_CASES:
                try:
                    cases = importlib.import_module(mod)
                except ModuleNotFoundError:
                    continue
                results.extend(cases.run(work, scale))
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'case':<40}{'wall':>11}{'peak':>13}")
    for r in results:
        print(r.line())
    out = Path("bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps([r.__dict__ for r in results], indent=2))
    print(f"written to {out / 'results.json'}")


if __name__ == "__main__":
    main()
