"""Report-stage cases of `make bench` (tests/bench/run.py): the whole nightly job on the scale's demo landing
zone (ingest, engines, dbt, publish, reports), then the report stage alone twice on the built warehouse — from
an empty reports folder (every installation, importer and year written, gated and published) and again with
nothing changed (must publish nothing, in under 2 s). Targets (issue 8): the report stage adds at most 30 s at
scale 100; a no-change report stage under 2 s.

Child: python -m tests.bench.reports_case nightly LANDING HOME | stage HOME
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from tests.bench.harness import Measurement, measure

TARGET_STAGE_S, TARGET_NOCHANGE_S = 30.0, 2.0


def run(workdir: Path, scale: int) -> list[Measurement]:
    landing, home = workdir / "landing", workdir / "nightly-home"
    nightly = measure(
        f"nightly job (scale {scale})", "tests.bench.reports_case", "nightly", str(landing), str(home)
    )
    stage = measure(f"report stage (scale {scale})", "tests.bench.reports_case", "stage", str(home))
    stage.info["target_s"] = TARGET_STAGE_S
    stage.info["nochange_target_s"] = TARGET_NOCHANGE_S
    return [nightly, stage]


def _nightly(landing: str, home: str) -> dict:
    from orchestration.pipeline import run_nightly

    out = run_nightly(landing, home, date(2026, 11, 24), echo=lambda *_: None)
    return {"success": out.success}


def _stage(home_dir: str) -> dict:
    from orchestration.lib.home import Home
    from orchestration.lib.reports import run_report_stage
    from transforms.reports import KINDS
    from transforms.reports.base import ReportConfig

    home = Home(Path(home_dir))
    shutil.rmtree(home.reports, ignore_errors=True)
    config = ReportConfig(date(2026, 11, 24), 80.0, "bench")
    t0 = time.perf_counter()
    first = run_report_stage(home, KINDS, config, "bench-1")
    t1 = time.perf_counter()
    second = run_report_stage(home, KINDS, config, "bench-2")
    t2 = time.perf_counter()
    return {
        "stage_s": round(t1 - t0, 2),
        "published": len(first.published),
        "blocked": len(first.blocked),
        "nochange_s": round(t2 - t1, 2),
        "nochange_published": len(second.published),
    }


def main() -> None:
    if sys.argv[1] == "nightly":
        print(json.dumps(_nightly(sys.argv[2], sys.argv[3])))
    else:
        print(json.dumps(_stage(sys.argv[2])))


if __name__ == "__main__":
    main()
