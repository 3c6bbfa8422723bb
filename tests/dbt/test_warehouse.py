"""The warehouse built by dbt over a tiny lake: layers, schemas, contracts, data-quality marts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import yaml

from tests.dbt.conftest import NEVER_DROPPED, Warehouse, failures, run_dbt
from transforms.contracts import datasets
from transforms.paths import DBT_DIR

REQUIRED_MARTS = (
    "dim_installation",
    "dim_product",
    "dim_supplier",
    "dim_emission_factor",
    "fct_data_quality",
    "quarantine",
)


def _marts(wh: Warehouse) -> set[str]:
    return {
        r[0]
        for r in wh.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE'"
        )
    }


def test_marts_are_tables_in_schema_marts(warehouse: Warehouse) -> None:
    built = _marts(warehouse)
    missing = [m for m in REQUIRED_MARTS if m not in built]
    assert not missing, f"marts not built: {missing}; built: {sorted(built)}"
    assert not {r[0] for r in warehouse.query("select schema_name from information_schema.schemata")} & {
        "main_marts",
        "main_staging",
    }, "custom schemas must be used as is (generate_schema_name)"


def test_staging_keeps_rows_and_lineage(warehouse: Warehouse) -> None:
    for name, rows in warehouse.rows.items():
        ((n, with_lineage),) = warehouse.query(
            f"select count(*), count(_source_row_id) from staging.stg_lake__{name}"
        )
        assert (n, with_lineage) == (rows, rows), name


def test_dataset_never_dropped_stages_empty_with_its_columns(warehouse: Warehouse) -> None:
    for name in NEVER_DROPPED:
        assert warehouse.query(f"select count(*) from staging.stg_lake__{name}") == [(0,)]
        cols = [
            r[0]
            for r in warehouse.query(
                f"select column_name from information_schema.columns where table_name = 'stg_lake__{name}' "
                "order by ordinal_position"
            )
        ]
        assert cols[: len(datasets()[name].columns)] == datasets()[name].column_names


def test_dim_installation_carries_country_and_lineage(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "select installation_id, country, country_name_en, unlocode, source_row_id "
        "from marts.dim_installation order by installation_id"
    )
    assert [r[0] for r in rows] == ["INST1", "INST2"]
    assert all(r[1] == "CN" and r[2] == "China" and r[3] == "CNNGB" for r in rows)
    assert rows[0][4].startswith("installations/2026-01-05/")


def test_data_quality_accounts_for_every_file(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "select dataset, file, rows_read, rows_accepted, rows_quarantined, file_status, "
        "quarantine_records, file_level_rejections from marts.fct_data_quality"
    )
    assert len(rows) == len(warehouse.rows) + 1  # one file per dataset written + the rejected products file
    broken = [r for r in rows if r[1].endswith("broken.csv")]
    assert broken == [("products", "products/2026-01-05/broken.csv", 0, 0, 0, "rejected", 1, 1)]
    assert all(r[2] == r[3] + r[4] for r in rows)
    (unmatched,) = warehouse.query(
        "select count(*) from marts.quarantine q left join marts.fct_data_quality f "
        "using (data_quality_file_id) where f.file is null"
    )[0]
    assert unmatched == 0
    assert warehouse.query(
        "select \"column\", row_number from marts.quarantine where file like '%broken.csv'"
    ) == [(None, None)]


def test_materializations_by_layer(warehouse: Warehouse) -> None:
    """Typos such as `+materialzied` pass silently: assert what dbt would build, per folder."""
    result = run_dbt(
        [
            "ls",
            "--resource-type",
            "model",
            "--output",
            "json",
            "--output-keys",
            "name",
            "original_file_path",
            "config",
        ],
        warehouse.env(),
        warehouse.work,
    )
    assert result.success, failures(result)
    nodes = [json.loads(line) for line in result.result]
    assert nodes
    expected = {
        "staging": ("view", "staging"),
        "intermediate": ("view", "intermediate"),
        "marts": ("table", "marts"),
    }
    for node in nodes:
        layer = Path(node["original_file_path"]).parts[1]
        materialized, schema = expected[layer]
        assert (node["config"]["materialized"], node["config"]["schema"]) == (materialized, schema), node[
            "name"
        ]
        if layer == "marts":
            assert node["config"]["contract"]["enforced"], f"{node['name']}: contract not enforced"


def test_every_mart_column_is_typed_and_described() -> None:
    for yml in (DBT_DIR / "models" / "marts").rglob("*.yml"):
        for model in yaml.safe_load(yml.read_text(encoding="utf-8")).get("models", []):
            assert model.get("description"), model["name"]
            for col in model["columns"]:
                assert col.get("data_type") and col.get("description"), f"{model['name']}.{col['name']}"


def test_contract_violation_fails_the_build_readably(warehouse: Warehouse, tmp_path: Path) -> None:
    """A mart whose SQL no longer matches its contract (latitude as text instead of double) must not build."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = project / "models" / "marts" / "core" / "dim_installation.sql"
    sql = model.read_text(encoding="utf-8")
    model.write_text(
        sql.replace("installations.latitude,", "cast(installations.latitude as varchar) as latitude,"),
        encoding="utf-8",
    )
    copy = tmp_path / "lingtan.duckdb"  # DuckDB names the catalog after the file: keep it
    shutil.copyfile(warehouse.path, copy)
    result = run_dbt(
        ["run", "--select", "dim_installation"], warehouse.env(copy), tmp_path, project_dir=project
    )
    assert not result.success
    message = "\n".join(failures(result))
    assert (
        re.search(r"contract", message, re.I) and "latitude" in message and "data type mismatch" in message
    ), message
    # the failed build left the previous table in place
    with duckdb.connect(str(copy), read_only=True) as con:
        (dtype,) = con.sql(
            "select data_type from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'dim_installation' and column_name = 'latitude'"
        ).fetchone()
    assert dtype == "DOUBLE"


def test_unit_tests_ran(warehouse: Warehouse) -> None:
    run_results = json.loads(
        (warehouse.work / "target-build" / "run_results.json").read_text(encoding="utf-8")
    )
    unit = [r for r in run_results["results"] if r["unique_id"].startswith("unit_test.")]
    assert unit and all(r["status"] == "pass" for r in unit)
