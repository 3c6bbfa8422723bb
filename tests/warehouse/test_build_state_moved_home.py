"""A home copied or moved to another folder: its warehouse's staging views name the lake files by absolute path
(macro lake_table fills `$LINGTAN_HOME` at execution), so an incremental dbt build there would keep views that
still read the OLD home's lake for every source it does not rebuild. The build state records the home it was
built for; a build in another home is a full build."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.lib import incremental as inc
from orchestration.lib.home import Home

SOURCES = [("lake", "exports"), ("lake", "production")]


def _home(root: Path) -> Home:
    home = Home(root)
    for table, data in (("exports", b"one"), ("production", b"two")):
        home.raw_table(table).parent.mkdir(parents=True, exist_ok=True)
        home.raw_table(table).write_bytes(data)
    build = home.root / "warehouse" / "build"
    build.mkdir(parents=True)
    (build / "lingtan.duckdb").write_bytes(b"db")
    inc.save_build_state(build, inc.sources_state(home, SOURCES))
    return home


def test_a_copied_home_rebuilds_its_staging_views_once_then_is_incremental_again(tmp_path: Path) -> None:
    first = _home(tmp_path / "a")
    build = first.root / "warehouse" / "build"
    assert inc.dbt_selection(build, build / "lingtan.duckdb", inc.sources_state(first, SOURCES))[0] == []

    shutil.copytree(first.root, tmp_path / "b")
    copy = Home(tmp_path / "b")
    copy.raw_table("exports").write_bytes(b"one and a new drop")  # one source changed in the copy
    build_b = copy.root / "warehouse" / "build"
    select, why = inc.dbt_selection(build_b, build_b / "lingtan.duckdb", inc.sources_state(copy, SOURCES))
    # not only ["source:lake.exports+"]: production's view names a/… and is made again
    assert select == ["source:lake.exports+", "source:lake.production+1"] and "home" in why

    inc.save_build_state(build_b, inc.sources_state(copy, SOURCES))
    assert inc.dbt_selection(build_b, build_b / "lingtan.duckdb", inc.sources_state(copy, SOURCES))[0] == []
    shutil.copytree(copy.root, tmp_path / "c")  # a copy with nothing changed: only the views
    build_c = tmp_path / "c" / "warehouse" / "build"
    select, _ = inc.dbt_selection(
        build_c, build_c / "lingtan.duckdb", inc.sources_state(Home(tmp_path / "c"), SOURCES)
    )
    assert select == ["source:lake.exports+1", "source:lake.production+1"]
    # the original home is untouched by its copy
    assert inc.dbt_selection(build, build / "lingtan.duckdb", inc.sources_state(first, SOURCES))[0] == []


def test_plus_one_selects_a_sources_children_only() -> None:
    manifest = {
        "metadata": {"project_name": "p"},
        "sources": {
            "source.p.lake.a": {"source_name": "lake", "name": "a"},
            "source.p.lake.b": {"source_name": "lake", "name": "b"},
        },
        "child_map": {
            "source.p.lake.a": ["model.p.stg_a", "test.p.src_a_not_null"],
            "source.p.lake.b": ["model.p.stg_b"],
            "model.p.stg_a": ["model.p.fct_a"],
            "model.p.stg_b": ["model.p.fct_b", "model.p.fct_a"],
            "model.p.fct_a": [],
            "model.p.fct_b": ["test.p.fct_b_unique"],
        },
        "nodes": {
            uid: {"name": uid.split(".")[-1], "resource_type": uid.split(".")[0], "package_name": "p"}
            for uid in (
                "model.p.stg_a", "model.p.stg_b", "model.p.fct_a", "model.p.fct_b",
                "test.p.src_a_not_null", "test.p.fct_b_unique",
            )
        },
    }  # fmt: skip
    # a moved: its view and source test only; b changed: everything below it
    assert inc.not_downstream(manifest, ["source:lake.a+1"]) == ["fct_a", "fct_b", "fct_b_unique", "stg_b"]
    assert inc.not_downstream(manifest, ["source:lake.a+1", "source:lake.b+"]) == []
    assert inc.not_downstream(manifest, ["source:lake.b+"]) == ["src_a_not_null", "stg_a"]
