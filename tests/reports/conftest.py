"""One demo home per test session, shared by every xdist worker: `lingtan demo --scale 0.1` + the nightly run
(ingest, engines, dbt, publish), built once under a file lock; report tests read its published marts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock

from orchestration.lib.home import Home
from orchestration.lib.reports import read_marts

DEMO_DATE = "2026-11-24"


def _build(root: Path) -> None:
    from orchestration.demo import generate
    from orchestration.pipeline import run_nightly

    generate(root / "landing", scale=0.1, seed=7)
    out = run_nightly(str(root / "landing"), str(root / "home"), _date(DEMO_DATE), echo=lambda *_: None)
    (root / "outcome.json").write_text(
        json.dumps({"success": out.success, "failed": out.failed_checks + out.failed_steps})
    )


def _date(s: str):
    from datetime import date

    return date.fromisoformat(s)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The demo's home after one nightly run (shared across workers; read it, never write to it)."""
    base = tmp_path_factory.getbasetemp()
    # xdist workers' basetemps (pytest-N/popen-gwK) share pytest-N: one build per session, never across sessions
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "lingtan-demo-home"
    with FileLock(str(shared) + ".lock"):
        if not (shared / "outcome.json").exists():
            shared.mkdir(exist_ok=True)
            _build(shared)
    outcome = json.loads((shared / "outcome.json").read_text())
    assert outcome["success"], outcome["failed"]
    return Home(shared / "home")


@pytest.fixture(scope="session")
def demo_marts(demo_home: Home):
    """Every mart of the demo warehouse, as polars frames."""
    import duckdb

    con = duckdb.connect(str(demo_home.warehouse), read_only=True)
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    ]
    con.close()
    return read_marts(demo_home.warehouse, names)
