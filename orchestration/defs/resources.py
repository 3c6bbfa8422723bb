"""Resources shared by all assets (the only definitions function inside defs/)."""

import shutil
import sys
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging.version import Version

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


class LingtanDbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI resource without its two in-process start-up costs, neither of which lingtan uses:
    it asks the dbt executable for its version (one more dbt process) and builds a dbt adapter inside the
    run's process (imports dbt and the DuckDB adapter, ~17 s of CPU on this 2-core machine) only to fetch row
    counts and column metadata, which lingtan does not request. The executable is the dbt of this environment
    (`dbt_executable`), so its version is the installed dbt-core's."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None  # no adapter: dagster-dbt then reads nothing from the warehouse itself


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "lingtan": LingtanConfig(),
            "dbt": LingtanDbtCli(project_dir=lingtan_dbt_project, dbt_executable=dbt_executable()),
        }
    )
