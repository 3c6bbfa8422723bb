"""Warehouse fixtures: a tiny raw lake in a temporary home and one `dbt build` over it (in process, dbtRunner).

dbt writes its target/ and logs into the temporary folder, so tests never touch dbt_project/target (the
manifest Dagster loads) and parallel workers never share a partial-parse file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.dbt.lake import write_computed, write_tiny_lake
from transforms.paths import DBT_DIR

NEVER_DROPPED = ("carbon_prices",)  # an optional dataset with no file at all: its staging view must be empty


@dataclass(frozen=True)
class Warehouse:
    home: Path
    path: Path  # the DuckDB file
    work: Path  # dbt target/log folders
    rows: dict[str, int]  # rows written per raw dataset
    computed: dict[str, int]  # rows written per computed table (the real engines' output)

    def env(self, path: Path | None = None) -> dict[str, str]:
        return {
            "LINGTAN_HOME": str(self.home),
            "LINGTAN_WAREHOUSE_PATH": str(path or self.path),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).fetchall()


def run_dbt(args: list[str], env: dict[str, str], work: Path, project_dir: Path = DBT_DIR):
    """Runs a dbt command in process with `env` set for its duration; returns dbt's result object."""
    from dbt.cli.main import dbtRunner

    name = args[0]
    full = [
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(work / f"target-{name}"),
        "--log-path",
        str(work / f"logs-{name}"),
    ]
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        try:
            return dbtRunner().invoke(full)
        finally:
            _close_duckdb()


def _close_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB connection open in the process after dbtRunner returns; close it so the
    tests can open the file read-only (DuckDB refuses a second configuration in one process)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


def failures(result) -> list[str]:
    """Readable lines for the nodes that errored or failed (empty when dbt succeeded)."""
    if result.exception is not None:
        return [f"dbt raised: {result.exception}"]
    return [
        f"{r.node.unique_id}: {r.status}: {r.message}"
        for r in (result.result or [])
        if getattr(r.status, "value", r.status) in {"error", "fail", "runtime error"}
    ]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("dbt")
    rows = write_tiny_lake(home, skip=NEVER_DROPPED)
    computed = write_computed(home)
    path = home / "warehouse" / "build" / "lingtan.duckdb"
    path.parent.mkdir(parents=True)
    wh = Warehouse(home=home, path=path, work=work, rows=rows, computed=computed)
    result = run_dbt(["build"], wh.env(), work)
    assert result.success, "dbt build failed:\n" + "\n".join(failures(result))
    yield wh


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The manifest Dagster loads, prepared when older than a project file (stack.md: prepare in a session
    fixture). `make test` has just prepared it (`make defs`): each worker parsing it again cost ~13 CPU-s."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from orchestration.dbt_project import ensure_manifest

    return ensure_manifest()
