"""The warehouse: one @dbt_assets over the whole dbt project (staging views, intermediate views, marts
tables, reference seeds), built with `dbt build` so every dbt data test runs as an asset check right after its
model and a failing test (the marts gate) stops everything downstream. Unpartitioned: each build reads the
whole current lake. Needs resources `dbt` (DbtCliResource) and `lingtan` (the home to read).
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import ensure_manifest, lingtan_dbt_project, warehouse_env
from orchestration.defs.warehouse.translator import LingtanTranslator
from orchestration.lib.child import PARENT_ENV
from orchestration.lib.config import LingtanConfig

WAREHOUSE_POOL = "duckdb_warehouse"  # DuckDB has one writer: every warehouse writer takes this pool
TARGETS_KEPT = 3  # dagster-dbt writes each build to target/lingtan_dbt-<run>-<id> (~12 MB): keep the newest


def prune_targets(target_dir: Path, keep: int = TARGETS_KEPT) -> list[Path]:
    """Delete all but the `keep` newest per-build target folders (artifacts of older builds nobody reads)."""
    import shutil

    builds = sorted(
        (p for p in target_dir.glob("lingtan_dbt-*") if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    old = builds[:-keep] if keep > 0 else builds
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return old


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the dbt subprocess started inside the block (it copies os.environ), then restore."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dbt_assets(
    manifest=ensure_manifest(),
    project=lingtan_dbt_project,
    dagster_dbt_translator=LingtanTranslator(),
    name="lingtan_dbt",
    pool=WAREHOUSE_POOL,
)
def lingtan_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lingtan: LingtanConfig
) -> Iterator[Any]:
    env = warehouse_env(lingtan.home_dir().root)
    Path(env["LINGTAN_WAREHOUSE_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    context.log.info(f"dbt build: lake {env['LINGTAN_HOME']}/lake → {env['LINGTAN_WAREHOUSE_PATH']}")
    # dbt's log lines go to the run's log (and the step's stdout in the UI): plain text, no colour codes.
    with _environ({**env, "DBT_USE_COLORS": "false", PARENT_ENV: str(os.getpid())}):
        # A stable target folder per home: dbt reuses its partial parse there (the profile's DuckDB path is
        # per home, so a fresh folder each run forced a full re-parse).
        target = Path(env["LINGTAN_WAREHOUSE_PATH"]).parent / "dbt-target"
        yield from dbt.cli(["build"], context=context, target_path=target).stream()
    removed = prune_targets(lingtan_dbt_project.project_dir / "target")
    if removed:
        context.log.info(f"pruned {len(removed)} old dbt target folder(s); kept the newest {TARGETS_KEPT}")
