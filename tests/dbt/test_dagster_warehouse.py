"""The warehouse as Dagster assets: keys, lineage to the raw lake, checks, and one materialisation."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.dbt.lake import write_tiny_lake
from transforms.contracts import datasets


@pytest.fixture(scope="module")
def dbt_defs(dbt_manifest: Path):
    from dagster_dbt import DbtCliResource

    from orchestration.dbt_project import lingtan_dbt_project
    from orchestration.defs.warehouse.dbt import lingtan_dbt

    return lingtan_dbt, DbtCliResource(project_dir=lingtan_dbt_project)


def test_asset_keys_groups_and_lineage(dbt_defs) -> None:
    assets, _ = dbt_defs
    specs = {s.key.to_user_string(): s for s in assets.specs}
    assert {
        "marts/dim_installation",
        "marts/fct_data_quality",
        "marts/quarantine",
        "staging/stg_lake__installations",
        "reference/countries",
    } <= set(specs)
    assert {s.group_name for s in specs.values()} == {"warehouse"}
    raw = {f"raw/{name}" for name in datasets()}
    assert {d.asset_key.to_user_string() for d in specs["staging/stg_lake__installations"].deps} == {
        "raw/installations"
    }
    # ingestion writes the data-quality files of every dataset: their readers depend on every raw asset
    assert {d.asset_key.to_user_string() for d in specs["staging/stg_lake__files"].deps} == raw
    assert not any(
        k.startswith("raw/data_quality")
        for s in specs.values()
        for k in (d.asset_key.to_user_string() for d in s.deps)
    )
    assert {d.asset_key.to_user_string() for d in specs["staging/stg_computed__goods_see"].deps} == {
        "computed/goods_see"
    }
    checks = {c.asset_key.to_user_string() for c in assets.check_specs}
    assert "marts/fct_data_quality" in checks and "marts/dim_installation" in checks
    assert not assets.partitions_def


def test_materialize_builds_the_warehouse_of_the_configured_home(
    dbt_defs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.lib.config import LingtanConfig

    assets, dbt = dbt_defs
    write_tiny_lake(tmp_path)
    monkeypatch.delenv("LINGTAN_WAREHOUSE_PATH", raising=False)
    import orchestration.dbt_project as dbt_project

    monkeypatch.setattr(dbt_project, "_WAREHOUSE_PATH_FROM_ENV", None)
    result = dg.materialize(
        [assets], resources={"dbt": dbt, "lingtan": LingtanConfig(home=str(tmp_path))}, raise_on_error=False
    )
    assert result.success
    built = tmp_path / "warehouse" / "build" / "lingtan.duckdb"
    with duckdb.connect(str(built), read_only=True) as con:
        assert con.sql("select count(*) from marts.dim_installation").fetchone() == (2,)
    checks = result.get_asset_check_evaluations()
    failed = [c.check_name for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    assert checks and not failed, failed
