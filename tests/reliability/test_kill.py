"""SIGKILL in the middle of a run: the dbt child dies with its parent, nothing half-built is published, and a
rerun gives the same marts as an uninterrupted run.

One installation (the Commission cement example, a few dozen rows) keeps the three runs short: a clean run, a
run killed while dbt builds, and the rerun after the kill.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from tests.pipeline.test_examples_through_pipeline import write_landing
from tools.refbuild.examples.fixtures import load_fixture
from tools.refbuild.examples.landing import fixture_to_landing_rows

DROP = "2024-02-01"
LINGTAN = [str(Path(sys.executable).with_name("lingtan"))]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINGTAN_", "DAGSTER_"))}
    return {**env, "LINGTAN_HOME": str(home), "NO_COLOR": "1"}


def _run(landing: Path, home: Path) -> subprocess.CompletedProcess:
    cmd = [*LINGTAN, "run", "--landing", str(landing), "--home", str(home), "--date", DROP]
    return subprocess.run(cmd, env=_env(home), capture_output=True, text=True, timeout=600)


def marts_digest(warehouse: Path) -> dict[str, str]:
    """One hash per mart over its rows in a stable order (the file's bytes differ by DuckDB's layout)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        out = {}
        for n in names:
            rows = con.execute(f'select * from marts."{n}" order by all').fetchall()
            out[n] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def _dbt_children(proc: psutil.Process) -> list[psutil.Process]:
    found = []
    for c in proc.children(recursive=True):
        try:
            if any("dbt" in Path(part).name for part in c.cmdline()[:2]):
                found.append(c)
        except psutil.Error:
            pass
    return found


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("kill") / "landing"
    write_landing(fixture_to_landing_rows(load_fixture("cement")), landing, DROP)
    return landing


def test_sigkill_during_dbt_kills_dbt_and_publishes_nothing_then_rerun_matches(tiny_landing, tmp_path):
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    first = _run(tiny_landing, clean)
    assert first.returncode == 0, first.stdout + first.stderr

    cmd = [*LINGTAN, "run", "--landing", str(tiny_landing), "--home", str(killed), "--date", DROP]
    proc = subprocess.Popen(cmd, env=_env(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    deadline, dbt = time.monotonic() + 300, []
    while time.monotonic() < deadline and proc.poll() is None and not dbt:
        dbt = _dbt_children(parent)
        time.sleep(0.2)
    assert dbt, "the run ended before dbt started: nothing to kill"
    time.sleep(1.0)  # dbt is building now
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(dbt, timeout=10)
    assert not alive, f"dbt outlived its killed parent: {[p.pid for p in alive]}"
    assert not (killed / "warehouse" / "lingtan.duckdb").exists(), "a half-built warehouse was published"

    rerun = _run(tiny_landing, killed)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert marts_digest(killed / "warehouse" / "lingtan.duckdb") == marts_digest(
        clean / "warehouse" / "lingtan.duckdb"
    )
    leftovers = [p for p in (killed / "lake" / "staging").rglob("*") if p.is_file()]
    assert not leftovers, f"staged files left behind after the rerun: {leftovers[:5]}"
