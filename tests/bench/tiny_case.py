"""Fixed costs of `make bench`: a tiny nightly run (the Commission cement example as a landing zone: one
installation, a few dozen rows) beside the framework floors it cannot go under:

- an empty Dagster run: `import dagster` + one no-op asset executed in process on an ephemeral instance;
- `dbt build` of the lingtan project over the tiny run's lake with nothing changed (partial parse reused).

Each case runs in its own process (harness.measure): wall time includes interpreter start-up and imports, as a
user sees them. `python -m tests.bench.tiny_case run|nochange|empty|dbt <workdir>` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.harness import Measurement, measure

EXAMPLE = "cement"
DROP = "2024-02-01"


def _tiny_run(work: Path) -> dict:
    from datetime import date

    from orchestration.pipeline import run_nightly
    from tests.pipeline.test_examples_through_pipeline import write_landing
    from tools.refbuild.examples.fixtures import load_fixture
    from tools.refbuild.examples.landing import fixture_to_landing_rows

    write_landing(fixture_to_landing_rows(load_fixture(EXAMPLE)), work / "landing", DROP)
    start = time.perf_counter()
    out = run_nightly(
        str(work / "landing"), str(work / "home"), date.fromisoformat(DROP), echo=lambda *_: None
    )
    if not out.success:
        raise SystemExit(f"tiny run failed: {out.failed_checks + out.failed_steps}")
    return {
        "run_s": round(time.perf_counter() - start, 2),
        "rows": sum(v["rows_read"] for v in out.ingest.values()),
    }


def _tiny_nochange(work: Path) -> dict:
    """The tiny run again with nothing new: content-addressed, only the ingest assets run (recorded)."""
    from datetime import date

    from orchestration.pipeline import run_nightly

    start = time.perf_counter()
    out = run_nightly(
        str(work / "landing"), str(work / "home"), date.fromisoformat(DROP), echo=lambda *_: None
    )
    if not out.success or not out.no_change:
        raise SystemExit(f"tiny no-change run recomputed or failed: {out.failed_checks + out.failed_steps}")
    return {"run_s": round(time.perf_counter() - start, 2), "no_change_since": out.no_change[:8]}


def _empty_dagster() -> dict:
    import dagster as dg

    @dg.asset
    def nothing() -> None:
        return None

    start = time.perf_counter()
    result = dg.materialize([nothing], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return {"run_s": round(time.perf_counter() - start, 2)}


def _dbt_nothing_changed(work: Path) -> dict:
    """`dbt build` twice over the tiny run's lake into a scratch DuckDB file; the second one is the floor."""
    from orchestration.dbt_project import warehouse_env
    from orchestration.lib.dbt_build import BUILD_FLAGS, BUILD_ONLY
    from transforms.paths import DBT_DIR

    env = os.environ | warehouse_env(work / "home")
    env["LINGTAN_WAREHOUSE_PATH"] = str(work / "dbt-floor" / "lingtan.duckdb")
    Path(env["LINGTAN_WAREHOUSE_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    target = work / "dbt-floor" / "target"
    # the flags the nightly's dbt step uses (orchestration/lib/dbt_build.py)
    args = [
        "dbt",
        "build",
        *BUILD_FLAGS,
        *BUILD_ONLY,
        "--quiet",
        "--target-path",
        str(target),
        "--log-path",
        str(target),
    ]
    args += ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    dbt = Path(sys.executable).with_name("dbt")
    args[0] = str(dbt) if dbt.exists() else "dbt"
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return {"second_build_s": round(time.perf_counter() - start, 2)}


def run(workdir: Path) -> list[Measurement]:
    """The tiny run first (the dbt floor builds over its lake), then the two floors."""
    work = workdir / "tiny"
    tiny = measure(f"tiny nightly run ({EXAMPLE} example)", "tests.bench.tiny_case", "run", str(work))
    same = measure("tiny nightly run again, no change", "tests.bench.tiny_case", "nochange", str(work))
    empty = measure("floor: empty Dagster run", "tests.bench.tiny_case", "empty", str(work))
    dbt = measure("floor: dbt build, nothing changed", "tests.bench.tiny_case", "dbt", str(work))
    floors = empty.seconds + dbt.info["second_build_s"]
    tiny.info["over_floors_s"] = round(tiny.seconds - floors, 1)
    return [tiny, same, empty, dbt]


if __name__ == "__main__":
    what, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    if what == "run":
        info = _tiny_run(work)
    elif what == "nochange":
        info = _tiny_nochange(work)
    elif what == "empty":
        info = _empty_dagster()
    else:
        info = _dbt_nothing_changed(work)
    print(json.dumps(info))
