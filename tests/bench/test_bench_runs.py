"""`make bench` runs: the bench entry (tests/bench/run.py) at scale 1 — demo generation, ingestion with its
polars.read_csv reference, the CBAM engine and the footprint engine each with its pandas and DuckDB SQL
references, the logistics engine, and a small EMS interval case — prints its table and writes its JSON, every case succeeding
and both references giving the engine's numbers. Not a timed test: no figure is compared with a target. The
nightly and fixed-cost groups are left out here (LINGTAN_BENCH_SKIP): they run the whole pipeline, which the
pipeline tests cover."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from transforms.paths import REPO_ROOT

pytestmark = pytest.mark.slow
TIMEOUT_S = 900


def test_bench_runs_at_scale_1(tmp_path):
    out = tmp_path / "results.json"
    env = os.environ | {
        "LINGTAN_BENCH_OUT": str(out),
        "LINGTAN_BENCH_EMS": "20 7",
        "LINGTAN_BENCH_SKIP": "fixed,nightly",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.run", "1"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cbam engine (scale 1)" in proc.stdout and "written to" in proc.stdout
    doc = json.loads(out.read_text())
    rows = {r["name"]: r for r in doc["results"]}
    failed = {n: r["info"]["failed"] for n, r in rows.items() if "failed" in r["info"]}
    assert not failed, failed
    ingest = rows["ingest all datasets (scale 1)"]["info"]
    assert ingest["rows"] > 100_000 and ingest["read_csv_rows_per_s"] > 0
    engine = rows["cbam engine (scale 1)"]["info"]
    assert engine["invoices"] > 10_000 and engine["export_lines"] > 1_000
    assert rows["cbam pandas reference (scale 1)"]["info"]["same_numbers"] is True
    assert rows["cbam duckdb sql reference (scale 1)"]["info"]["same_numbers"] is True
    footprint = rows["footprint engine (scale 1)"]["info"]
    assert (
        footprint["footprint_rows"] > 0 and footprint["vs_pandas_cpu"] > 0 and footprint["vs_duckdb_cpu"] > 0
    )
    assert rows["footprint pandas reference (scale 1)"]["info"]["same_numbers"] is True
    assert rows["footprint duckdb reference (scale 1)"]["info"]["same_numbers"] is True
    assert rows["ems interval engine (20 meters × 7 d)"]["info"]["readings"] > 0
    assert all(r["cpu_s"] > 0 for r in doc["results"])


def test_results_go_under_the_home_unless_told(monkeypatch, tmp_path):
    from tests.bench.run import results_path

    monkeypatch.delenv("LINGTAN_BENCH_OUT", raising=False)
    monkeypatch.setenv("LINGTAN_HOME", str(tmp_path / "home"))
    assert results_path() == tmp_path / "home" / "bench" / "results.json"
    monkeypatch.delenv("LINGTAN_HOME")
    assert results_path().as_posix() == "data/bench/results.json"  # ./data, the CLI's default home
    monkeypatch.setenv("LINGTAN_BENCH_OUT", str(tmp_path / "b.json"))
    assert results_path() == tmp_path / "b.json"


def test_median_runs_alternate_the_cases_and_keep_each_ones_median_run(monkeypatch):
    from tests.bench import engine_cases
    from tests.bench.harness import Measurement

    seconds = {"a": iter([5.0, 1.0, 3.0]), "b": iter([2.0, 9.0, 4.0])}
    order = []

    def fake(name, module, *args):
        order.append(name)
        return Measurement(name, 0.0, 1.0, {"seconds": next(seconds[name])})

    monkeypatch.setattr(engine_cases, "measure", fake)
    a, b = engine_cases.median_runs([("a", "m", ()), ("b", "m", ())], 3)
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert (a.info["seconds"], a.info["runs_s"]) == (3.0, [5.0, 1.0, 3.0])
    assert (b.info["seconds"], b.info["runs_s"]) == (4.0, [2.0, 9.0, 4.0])


def test_one_day_target_is_judged_on_the_real_day_only():
    from tests.bench.harness import Measurement
    from tests.bench.run import against_scale_1

    rows = [
        Measurement(f"nightly {case} (scale {scale})", seconds, 0.0, {})
        for case in ("one new drop day", "one real day")
        for scale, seconds in (("1", 20.0), ("100", 45.0))
    ]
    against_scale_1(rows)
    month, day = rows[1].info, rows[3].info
    assert month == {"vs_scale_1": 2.25}  # a month of events, 56× the rows: no target
    assert day == {"vs_scale_1": 2.25, "target_2": "missed"}
