"""The warehouse built by dbt over a tiny lake: layers, schemas, contracts, data-quality marts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import yaml

from tests.dbt.conftest import NEVER_DROPPED, Warehouse, failures, run_dbt
from transforms.contracts import datasets
from transforms.paths import DBT_DIR

REQUIRED_MARTS = (  # docs/outputs.md, Warehouse
    "dim_installation", "dim_product", "dim_supplier", "dim_emission_factor", "fct_installation_emissions",
    "fct_process_see", "fct_goods_see", "fct_cbam_export_lines", "fct_product_footprint", "fct_shipment_emissions",
    "fct_site_ghg_inventory", "fct_data_quality", "quarantine", "fct_gec_ledger", "fct_zero_carbon_indicators",
    "fct_carbon_neutrality_claim",
)  # fmt: skip
# fact mart → the computed table it publishes (one row each)
FACT_SOURCES = {
    "fct_installation_emissions": "installation_emissions", "fct_process_see": "process_see",
    "fct_goods_see": "goods_see", "fct_cbam_export_lines": "export_lines", "fct_stream_emissions": "stream_emissions",
    "fct_precursor_inputs": "precursor_inputs", "fct_product_footprint": "product_footprint",
    "fct_shipment_emissions": "shipment_emissions", "fct_site_ghg_inventory": "site_inventory",
}  # fmt: skip


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
    # built whole unless the dbt step names the hour it may rebuild from (test_meter_hourly_incremental.py)
    incremental = {"fct_meter_hourly"}
    for node in nodes:
        layer = Path(node["original_file_path"]).parts[1]
        materialized, schema = expected[layer]
        if node["name"] in incremental:
            materialized = "incremental"
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


def test_fact_marts_publish_every_computed_row(warehouse: Warehouse) -> None:
    """The tiny lake went through the real engines: the marts read their actual columns, row for row."""
    for mart, table in FACT_SOURCES.items():
        assert warehouse.computed[table] > 0, f"the engines computed no {table} rows on the tiny lake"
        assert warehouse.query(f"select count(*) from marts.{mart}") == [(warehouse.computed[table],)], mart


def test_goods_see_joins_its_dimensions_and_lineage(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "select g.see_direct, p.annex_ii_direct_only, i.country, len(g.source_row_ids) "
        "from marts.fct_goods_see g join marts.dim_product p using (product_id) "
        "join marts.dim_installation i on i.installation_id = g.installation_id where g.period_grain = 'year'"
    )
    assert rows and all(r[1] is True and r[2] == "CN" and r[3] > 0 for r in rows)


def test_dims_publish_the_engines_classification_and_factor_catalog(warehouse: Warehouse) -> None:
    """dim_emission_factor and dim_product add nothing to the engines' factor_catalog and product_classification
    (the rules run once, in Python): same rows, same values."""
    cols = "kind, key, value, unit, source, status, valid_from, valid_to, version, reference_table, note"
    catalog = pl.read_parquet(warehouse.home / "lake" / "computed" / "factor_catalog.parquet")
    mart = warehouse.query(f"select {cols} from marts.dim_emission_factor order by all")
    assert catalog.height == warehouse.computed["factor_catalog"] > 1000
    assert sorted(catalog.select(cols.split(", ")).rows(), key=repr) == sorted(mart, key=repr)
    (cbam_grid_cn,) = warehouse.query(
        "select value from marts.dim_emission_factor where kind = 'cbam_grid_ef' and key = 'country/CN'"
    )
    assert cbam_grid_cn == (0.605,)
    classified = pl.read_parquet(warehouse.home / "lake" / "computed" / "product_classification.parquet")
    dim = warehouse.query(
        "select product_id, is_cbam_good, goods_category, cn_match_prefix, process_goods_category "
        "from marts.dim_product order by product_id"
    )
    assert (
        dim
        == classified.select(
            "product_id", "is_cbam_good", "goods_category", "cn_match_prefix", "process_goods_category"
        )
        .sort("product_id")
        .rows()
    )
