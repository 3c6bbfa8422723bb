"""The dbt project as Dagster sees it. Module-level and without @dbt_assets, so that
`dagster-dbt project prepare-and-package --file orchestration/dbt_project.py` can prepare its manifest.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from transforms.paths import DBT_DIR

DEFAULT_HOME = "./data"

# Captured at import: the warehouse file chosen by the user's environment (the dbt step unsets it for dbt).
_WAREHOUSE_PATH_FROM_ENV = os.environ.get("LINGTAN_WAREHOUSE_PATH")


def warehouse_env(home_root: Path | str) -> dict[str, str]:
    """The environment dbt reads for a local home folder (macro lake_table and profiles.yml): LINGTAN_HOME
    absolute, so the lake resolves the same from any working directory, and LINGTAN_WAREHOUSE_PATH, the DuckDB
    file the build writes (`dbt_env` leaves it out when dbt runs in that file's folder): $LINGTAN_WAREHOUSE_PATH when set, else <home>/warehouse/build/lingtan.duckdb (orchestration
    publishes it to <home>/warehouse/lingtan.duckdb for readers)."""
    home = Path(home_root).resolve()
    warehouse = _WAREHOUSE_PATH_FROM_ENV or home / "warehouse" / "build" / "lingtan.duckdb"
    return {"LINGTAN_HOME": str(home), "LINGTAN_WAREHOUSE_PATH": str(Path(warehouse).resolve())}


# LINGTAN_HOME for a process that has not set it (`dg dev` without .env, CI's prepare-and-package). Never
# overrides. Parsing reads neither variable (the sources hold a placeholder, profiles.yml a relative default).
_home_from_env = os.environ.get("LINGTAN_HOME", "")
os.environ.setdefault(
    "LINGTAN_HOME",
    warehouse_env(
        DEFAULT_HOME if _home_from_env.startswith("s3://") or not _home_from_env else _home_from_env
    )["LINGTAN_HOME"],
)
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# dagster-dbt's manifest preparation runs plain `dbt`: when the venv is not activated (`.venv/bin/lingtan` on a
# fresh clone), put this interpreter's bin folder, which holds dbt, on PATH so that it is found.
_VENV_BIN = Path(sys.prefix) / "bin"
if shutil.which("dbt") is None and (_VENV_BIN / "dbt").exists():
    os.environ["PATH"] = f"{_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's parse state in a target folder
PROFILE_DUCKDB_FILE = "lingtan.duckdb"  # dbt_project/profiles.yml's path when LINGTAN_WAREHOUSE_PATH is unset


@contextmanager
def environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (None: unset) variables for the dbt subprocess started inside the block (it copies os.environ), then
    restore them."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dbt_env(home_root: Path | str, in_build_folder: bool) -> dict[str, str | None]:
    """The variables of a dbt build for a home (None: unset). `in_build_folder`: dbt runs with the build file's
    folder as working directory (`lingtan-dbt`, orchestration.lib.child.CWD_ENV). Then, for the default file
    name, LINGTAN_WAREHOUSE_PATH is unset and profiles.yml's relative `lingtan.duckdb` names the build file:
    the profile dbt hashes into its parse state is the same in every home, so a new home's build reuses the
    project's partial parse (`ensure_manifest`) instead of parsing the whole project again."""
    env: dict[str, str | None] = dict(warehouse_env(home_root))
    build_file = Path(env["LINGTAN_WAREHOUSE_PATH"] or "")
    if in_build_folder and build_file.name == PROFILE_DUCKDB_FILE:
        env["LINGTAN_WAREHOUSE_PATH"] = None
    return env


class _Preparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (`dbt parse` into the project's target folder), with two changes so that the
    partial parse it writes is valid in every home (a new home's build copies it: `seed_partial_parse` in
    orchestration/defs/warehouse/dbt.py):
    - it parses with the profile of a home's build: LINGTAN_WAREHOUSE_PATH unset (`dbt_env`; dbt hashes the
      profile's connection info into the parse state). Parsing opens no database.
    - it keeps the seeds. dagster-dbt marks them changed there (their parsed root_path is absolute, wrong once
      a packaged project moves); this project is parsed and built in place, and with the seeds marked changed
      each new home re-parsed them and the 27 files that read them (≈ 4 of a home's first 9 CPU-s of parse)."""

    def prepare(self, project: DbtProject) -> None:
        with environ({"LINGTAN_WAREHOUSE_PATH": None}):
            super().prepare(project)

    def prepare_if_dev(self, project: DbtProject) -> None:
        """Under `dagster dev` / `dg dev`: only when a project file is newer than the manifest (each code location
        load parsed again before, rewriting the manifest other processes were reading)."""
        if self.using_dagster_dev() and manifest_is_stale(project.manifest_path):
            super().prepare_if_dev(project)

    def _prepare_manifest(self, project: DbtProject) -> None:
        """`dbt parse` into a folder of its own (seeded with the current partial parse), then each artifact renamed
        into the target folder, the manifest last: a process reading the manifest meanwhile (a run, a test, the
        UI) reads the old one or the new one whole, never half a file."""
        target = project.project_dir / project.target_path
        work = target.parent / f".{target.name}.{os.getpid()}.parse"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            if (target / PARTIAL_PARSE).exists():
                shutil.copyfile(target / PARTIAL_PARSE, work / PARTIAL_PARSE)
            from dagster_dbt.core.resource import DbtCliResource

            DbtCliResource(project_dir=project).cli(self._prepare_project_cli_args, target_path=work).wait()
            target.mkdir(parents=True, exist_ok=True)
            for name in (PARTIAL_PARSE, "semantic_manifest.json", "manifest.json"):
                if (work / name).exists():
                    os.replace(work / name, target / name)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _invalidate_seeds_in_partial_parse(self, project: DbtProject) -> None:
        return None


# Dagster's manifest and the partial parse every home starts from, in a folder of their own: a dbt command run
# by hand in dbt_project/ (README) writes target/ with another profile, which no home's build could reuse.
lingtan_dbt_project = DbtProject(
    project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=Path("target") / "dagster"
)
lingtan_dbt_project.preparer.__class__ = _Preparer  # DbtProject takes no preparer argument


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


lingtan_dbt_project.prepare_if_dev()


def ensure_manifest() -> Path:
    """Parse the project when its manifest is missing (a fresh clone run outside `dg dev`) or older than a project
    file (a pulled or edited model); returns its path."""
    if manifest_is_stale(lingtan_dbt_project.manifest_path):
        lingtan_dbt_project.preparer.prepare(lingtan_dbt_project)
    return lingtan_dbt_project.manifest_path
