"""Computed tables are described once (data_contracts/computed/): the engines conform to the contracts, and the
dbt staging, its sources and docs/computed are what the generator writes from them (no dbt run needed)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
import yaml
from datacontract.data_contract import DataContract
from datacontract.model.run import ResultEnum

from transforms.cbam.engine import TABLES as CBAM_TABLES
from transforms.computed import (
    COMPUTED_CONTRACTS_DIR,
    ComputedSchemaError,
    computed_table,
    computed_tables,
    conform,
)
from transforms.contracts import datasets
from transforms.dtypes import LINGTAN_TYPES, PHYSICAL_TYPES
from transforms.ghg.compute import GHG_TABLES
from transforms.paths import DBT_DIR

MARTS = DBT_DIR / "models" / "marts"
# mart columns that deliberately retype a computed column of the same name, and why
RETYPED = {
    ("fct_shipment_emissions", "source_row_ids"): "the engine's '|'-joined text, split into a list",
    ("fct_site_ghg_inventory", "scope3_cat1_gap_lines"): "a count the engine sums as a double",
}
CONTRACTS = sorted(COMPUTED_CONTRACTS_DIR.glob("*.odcs.yaml"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_computed", DBT_DIR / "scripts" / "generate_computed.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_staging_sources_and_docs_match_the_contracts() -> None:
    gen = _generator()
    stale = [str(p.relative_to(DBT_DIR.parent)) for p in gen.stale_files() + gen.orphans()]
    assert not stale, f"run `uv run python dbt_project/scripts/generate_computed.py`; stale: {stale}"
    assert not gen.undocumented(), f"no column table in docs/computed for {gen.undocumented()}"


def test_every_engine_table_has_a_contract_naming_its_engine() -> None:
    for engine, tables in (("cbam", CBAM_TABLES), ("ghg", GHG_TABLES)):
        for name in tables:
            assert computed_table(name).engine == engine, name
    assert {"product_classification", "factor_catalog"} <= set(computed_tables())


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_contract_lints_and_follows_conventions(path: Path) -> None:
    run = DataContract(data_contract_file=str(path)).lint()
    assert run.result == ResultEnum.passed, [(c.name, c.reason) for c in run.checks]
    table = computed_table(path.name.removesuffix(".odcs.yaml"))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["id"] == f"lingtan-computed-{table.name.replace('_', '-')}"
    assert doc["servers"][0]["path"] == f"./data/{table.lake_path}"
    assert table.grain and all(c.description for c in table.columns), table.name
    assert len(set(table.column_names)) == len(table.column_names)
    assert {c.physical for c in table.columns} <= set(PHYSICAL_TYPES)


def test_conform_orders_casts_and_refuses_undeclared_columns() -> None:
    table = computed_table("product_classification")
    frame = pl.DataFrame({c.name: [None] for c in reversed(table.columns)}).with_columns(
        is_cbam_good=pl.lit(True)
    )
    out = conform("product_classification", frame)
    assert out.columns == table.column_names and out.schema == table.schema
    with pytest.raises(ComputedSchemaError, match=r"undeclared columns \['surprise'\]"):
        conform("product_classification", frame.with_columns(surprise=pl.lit(1)))
    with pytest.raises(
        ComputedSchemaError, match=r"product_classification.odcs.yaml; missing columns \['gases'\]"
    ):
        conform("product_classification", frame.drop("gases"))
    with pytest.raises(pl.exceptions.InvalidOperationError):  # a cast that would lose the value
        conform("product_classification", frame.with_columns(is_cbam_good=pl.lit("maybe")))
    legs = pl.DataFrame({c.name: [None] for c in computed_table("shipment_emissions").columns})
    counted = conform("shipment_emissions", legs.with_columns(item_count=pl.lit(3.0)))
    assert counted["item_count"].dtype == pl.Int64 and counted["item_count"].item() == 3
    with pytest.raises(ComputedSchemaError, match=r"\['item_count'\] hold fractions"):
        conform("shipment_emissions", legs.with_columns(item_count=pl.lit(2.5)))


def test_marts_type_computed_columns_as_the_contract() -> None:
    """A mart column named like a column of a computed table the mart reads has that column's type."""
    checked, wrong = 0, []
    for sql in sorted(MARTS.rglob("*.sql")):
        reads = set(re.findall(r"ref\('stg_computed__(\w+)'\)", sql.read_text(encoding="utf-8")))
        yml = sql.with_suffix(".yml")
        if not reads or not yml.exists():
            continue
        (model,) = yaml.safe_load(yml.read_text(encoding="utf-8"))["models"]
        types: dict[str, set[str]] = {}
        for name in reads:
            for c in computed_table(name).columns:
                types.setdefault(c.name, set()).add(c.physical)
        for col in model["columns"]:
            if col["name"] in types and (model["name"], col["name"]) not in RETYPED:
                if col["data_type"] not in types[col["name"]]:
                    wrong.append(
                        f"{model['name']}.{col['name']}: {col['data_type']} in the mart, "
                        f"{sorted(types[col['name']])} in the contract of {sorted(reads)}"
                    )
                checked += 1
    assert not wrong, wrong
    assert checked > 100


def test_no_intermediate_reclassification() -> None:
    """The CN classification and the factor catalogue are computed once, by the engines: dbt only stages them."""
    dim_product = (MARTS / "core" / "dim_product.sql").read_text(encoding="utf-8")
    dim_factor = (MARTS / "core" / "dim_emission_factor.sql").read_text(encoding="utf-8")
    assert "stg_computed__product_classification" in dim_product and "ref('cbam_cn_goods')" not in dim_product
    assert "stg_computed__factor_catalog" in dim_factor and "ref('cbam_" not in dim_factor
    assert not list((DBT_DIR / "models").rglob("int_products_classified*"))


def test_landing_contracts_physical_types_follow_the_one_type_map() -> None:
    """A landing column's ODCS physicalType is what its lingtanType maps to (transforms/dtypes.py), so the raw
    lake, the engines' input schemas and the lake staging casts cannot disagree."""
    wrong = []
    for ds in datasets().values():
        doc = yaml.safe_load(ds.contract_path.read_text(encoding="utf-8"))
        for prop in doc["schema"][0]["properties"]:
            c = ds.column(prop["name"])
            if (
                prop.get("physicalType") != LINGTAN_TYPES[c.kind]
                or c.dtype != PHYSICAL_TYPES[LINGTAN_TYPES[c.kind]]
            ):
                wrong.append((ds.name, c.name, prop.get("physicalType"), c.kind))
    assert not wrong, wrong
