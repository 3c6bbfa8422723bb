"""A new home's dbt build starts from the project's parse (docs/performance.md, "Fixed costs, fourth pass"): the
profile and the sources do not depend on the home, the dbt step runs dbt in the home's build folder, and the
project's partial parse is copied into the home's target folder before its first build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.dbt_project import dbt_env, lingtan_dbt_project
from orchestration.defs.warehouse.dbt import PARTIAL_PARSE, seed_partial_parse
from orchestration.lib.child import CWD_ENV
from transforms.paths import DBT_DIR


def test_dbt_env_leaves_the_path_to_the_profile_in_the_build_folder(tmp_path, monkeypatch):
    import orchestration.dbt_project as project

    monkeypatch.setattr(project, "_WAREHOUSE_PATH_FROM_ENV", None)
    env = dbt_env(tmp_path / "home", in_build_folder=True)
    assert env == {"LINGTAN_HOME": str((tmp_path / "home").resolve()), "LINGTAN_WAREHOUSE_PATH": None}
    # dbt started elsewhere (plain `dbt`, no chdir): the absolute path, as the profile cannot name the file
    elsewhere = dbt_env(tmp_path / "home", in_build_folder=False)
    assert elsewhere["LINGTAN_WAREHOUSE_PATH"] == str(
        (tmp_path / "home" / "warehouse" / "build" / "lingtan.duckdb").resolve()
    )


def test_dbt_env_keeps_a_warehouse_file_of_another_name(tmp_path, monkeypatch):
    import orchestration.dbt_project as project

    monkeypatch.setattr(project, "_WAREHOUSE_PATH_FROM_ENV", str(tmp_path / "other.duckdb"))
    env = dbt_env(tmp_path / "home", in_build_folder=True)
    assert env["LINGTAN_WAREHOUSE_PATH"] == str(tmp_path / "other.duckdb")


def test_seed_partial_parse_copies_once_and_never_overwrites(tmp_path, dbt_manifest):
    source = Path(lingtan_dbt_project.project_dir) / lingtan_dbt_project.target_path / PARTIAL_PARSE
    target = tmp_path / "dbt-target"
    assert seed_partial_parse(target)
    assert (target / PARTIAL_PARSE).read_bytes() == source.read_bytes()
    assert [p.name for p in target.iterdir()] == [PARTIAL_PARSE]  # no temporary file left
    (target / PARTIAL_PARSE).write_bytes(b"the home's own")
    assert not seed_partial_parse(target)
    assert (target / PARTIAL_PARSE).read_bytes() == b"the home's own"


def test_a_new_home_parses_nothing_again(tmp_path, dbt_manifest):
    """`dbt parse` as the dbt step starts it (lingtan-dbt, in a new home's build folder, the home's variables)
    re-parses none of the project's files. Fails when a profile or YAML value depends on the home again."""
    home = tmp_path / "home"
    build = home / "warehouse" / "build"
    target = build / "dbt-target"
    assert seed_partial_parse(target)
    env = {k: v for k, v in os.environ.items() if k != "LINGTAN_WAREHOUSE_PATH"}
    env |= {k: v for k, v in dbt_env(home, in_build_folder=True).items() if v is not None}
    env |= {CWD_ENV: str(build), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PROJECT_DIR": str(DBT_DIR)}
    env |= {"DBT_PROFILES_DIR": str(DBT_DIR), "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target)}
    dbt = Path(sys.prefix) / "bin" / "lingtan-dbt"
    subprocess.run([str(dbt), "parse", "--log-level-file", "debug"], env=env, cwd=DBT_DIR, check=True)
    log = (target / "dbt.log").read_text(encoding="utf-8")
    assert "Unable to do partial parsing" not in log
    perf = json.loads((target / "perf_info.json").read_text(encoding="utf-8"))
    assert perf["is_partial_parse_enabled"] and perf["path_count"] > 300
    assert perf["parsed_path_count"] == 0, log[-3000:]
