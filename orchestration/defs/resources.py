"""Resources shared by all assets (the only definitions function inside defs/)."""

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_project import lingtan_dbt_project
from orchestration.lib.config import LingtanConfig


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's .venv): works without `uv run` or an activated venv.
    `lingtan-dbt` is that dbt bound to its parent's lifetime (a killed run leaves no dbt writing on)."""
    for name in ("lingtan-dbt", "dbt"):
        here = Path(sys.prefix) / "bin" / name
        if here.exists():
            return str(here)
    return shutil.which("dbt") or "dbt"


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "lingtan": LingtanConfig(),
            "dbt": DbtCliResource(project_dir=lingtan_dbt_project, dbt_executable=dbt_executable()),
        }
    )
