"""The dbt project's files agree with the landing contracts (no dbt run needed)."""

from __future__ import annotations

import importlib.util

import yaml

from transforms.contracts import datasets
from transforms.paths import DBT_DIR

SOURCES = DBT_DIR / "models" / "staging" / "lake" / "_lake__sources.yml"


def test_staging_models_match_the_contracts() -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_staging", DBT_DIR / "scripts" / "generate_staging.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stale = [str(p.relative_to(DBT_DIR)) for p in module.stale_files()]
    assert not stale, f"run `uv run python dbt_project/scripts/generate_staging.py`; stale: {stale}"


def test_every_dataset_has_a_source_keyed_to_its_raw_asset() -> None:
    doc = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))
    lake = next(s for s in doc["sources"] if s["name"] == "lake")
    keys = {t["name"]: t["config"]["meta"]["dagster"]["asset_key"] for t in lake["tables"]}
    assert keys == {name: ["raw", name] for name in datasets()}


def test_generic_tests_use_arguments() -> None:
    """dbt 1.11 form (`arguments:`); the old form is fatal through warn_error_options in dbt_project.yml."""
    project = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert (
        "MissingArgumentsPropertyInGenericTestDeprecation" in project["flags"]["warn_error_options"]["error"]
    )
