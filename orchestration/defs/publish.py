"""Publish stage: the warehouse analysts read, replaced atomically after a passing dbt build."""

from pathlib import Path

import dagster as dg

from orchestration.dbt_project import warehouse_env
from orchestration.defs.warehouse.dbt import WAREHOUSE_POOL, lingtan_dbt
from orchestration.lib.config import LingtanConfig
from orchestration.lib.publish import promote, staging
from orchestration.lib.restatements import apply_locks
from orchestration.lib.warehouse import publish_warehouse


@dg.asset(
    key=["warehouse", "lingtan_duckdb"],
    deps=[lingtan_dbt],
    group_name="publish",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="The published warehouse (<home>/warehouse/lingtan.duckdb, schema `marts`): the last build "
    "whose dbt contracts and tests passed (a hard link of the build file), swapped in atomically.",
)
def published_warehouse(context: dg.AssetExecutionContext, lingtan: LingtanConfig) -> dg.MaterializeResult:
    home = lingtan.home_dir()
    build = Path(warehouse_env(home.root)["LINGTAN_WAREHOUSE_PATH"])
    # Locked periods keep their rows (orchestration/lib/restatements.py): then `source` is a patched copy in a
    # held staging folder, renamed into place as it is (a kill leaves it to the next run's sweep).
    with staging(home.warehouse_staging) as stage:
        source, locked = apply_locks(home, build, context.run_id, stage)
        target = (
            publish_warehouse(build, home.warehouse) if source == build else promote(source, home.warehouse)
        )
    for r in locked:
        if r.values_changed:
            context.log.warning(f"locked {r.installation_id} {r.year} kept; restatement {r.report}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "size_mb": round(target.stat().st_size / 2**20, 1),
            "locked_periods": len(locked),
            "restated_periods": dg.MetadataValue.json(
                {f"{r.installation_id}/{r.year}": str(r.report) for r in locked if r.values_changed}
            ),
        }
    )
