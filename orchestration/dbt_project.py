"""The dbt project as Dagster sees it. Module-level and without @dbt_assets, so that
`dagster-dbt project prepare-and-package --file orchestration/dbt_project.py` can prepare its manifest.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from transforms.paths import DBT_DIR

DEFAULT_HOME = "./data"

# Captured before the parse-time defaults below, so a default never masks the home chosen at run time.
_WAREHOUSE_PATH_FROM_ENV = os.environ.get("LINGTAN_WAREHOUSE_PATH")


def warehouse_env(home_root: Path | str) -> dict[str, str]:
    """The environment dbt reads (sources and profiles.yml) for a local home folder: LINGTAN_HOME absolute, so
    the lake resolves the same from any working directory, and LINGTAN_WAREHOUSE_PATH, the DuckDB file the
    build writes: $LINGTAN_WAREHOUSE_PATH when set, else <home>/warehouse/build/lingtan.duckdb (orchestration
    publishes it to <home>/warehouse/lingtan.duckdb for readers)."""
    home = Path(home_root).resolve()
    warehouse = _WAREHOUSE_PATH_FROM_ENV or home / "warehouse" / "build" / "lingtan.duckdb"
    return {"LINGTAN_HOME": str(home), "LINGTAN_WAREHOUSE_PATH": str(Path(warehouse).resolve())}


# Parsing (manifest preparation) renders profiles.yml and the sources, which need both variables: default them
# for a process that has not set them (`dg dev` without .env, CI's prepare-and-package). Never overrides.
_home_from_env = os.environ.get("LINGTAN_HOME", "")
for _name, _value in warehouse_env(
    DEFAULT_HOME if _home_from_env.startswith("s3://") or not _home_from_env else _home_from_env
).items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# dagster-dbt's manifest preparation runs plain `dbt`: when the venv is not activated (`.venv/bin/lingtan` on a
# fresh clone), put this interpreter's bin folder, which holds dbt, on PATH so that it is found.
_VENV_BIN = Path(sys.prefix) / "bin"
if shutil.which("dbt") is None and (_VENV_BIN / "dbt").exists():
    os.environ["PATH"] = f"{_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

lingtan_dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
lingtan_dbt_project.prepare_if_dev()


_PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "snapshots", "analyses")


def manifest_is_stale(manifest: Path) -> bool:
    """A project file newer than the manifest: the assets would not match what `dbt build` runs."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    root = Path(lingtan_dbt_project.project_dir)
    files = [root / "dbt_project.yml", root / "profiles.yml", root / "packages.yml"]
    for sub in _PROJECT_SOURCES:
        files += [p for p in (root / sub).rglob("*") if p.is_file()]
    return any(p.exists() and p.stat().st_mtime > built for p in files)


def ensure_manifest() -> Path:
    """Parse the project when its manifest is missing (a fresh clone run outside `dg dev`) or older than a project
    file (a pulled or edited model); returns its path."""
    if manifest_is_stale(lingtan_dbt_project.manifest_path):
        lingtan_dbt_project.preparer.prepare(lingtan_dbt_project)
    return lingtan_dbt_project.manifest_path
