"""A home copied or moved to another folder: its warehouse's staging views name the lake files by absolute path
(macro lake_table fills `$LINGTAN_HOME` at execution), so an incremental dbt build there would keep views that
still read the OLD home's lake for every source it does not rebuild. The build state records the home it was
built for; a build in another home makes the staging views again first (orchestration/defs/warehouse/dbt.py),
then builds what changed as usual."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.lib import incremental as inc
from orchestration.lib.home import Home
from transforms.paths import part_name

SOURCES = [("lake", "exports"), ("lake", "production")]


def _home(root: Path) -> Home:
    home = Home(root)
    for table, data in (("exports", b"one"), ("production", b"two")):
        home.raw_table(table).mkdir(parents=True, exist_ok=True)
        (home.raw_table(table) / part_name(0)).write_bytes(data)
    build = home.root / "warehouse" / "build"
    build.mkdir(parents=True)
    (build / "lingtan.duckdb").write_bytes(b"db")
    inc.save_build_state(build, inc.sources_state(home, SOURCES))
    return home


def test_a_copied_home_is_seen_as_moved_once(tmp_path: Path) -> None:
    first = _home(tmp_path / "a")
    build = first.root / "warehouse" / "build"
    assert inc.dbt_selection(build, build / "lingtan.duckdb", inc.sources_state(first, SOURCES))[0] == []

    shutil.copytree(first.root, tmp_path / "b")
    copy = Home(tmp_path / "b")
    (copy.raw_table("exports") / part_name(0)).write_bytes(
        b"one and a new drop"
    )  # one source changed in the copy
    build_b = copy.root / "warehouse" / "build"
    select, _ = inc.dbt_selection(build_b, build_b / "lingtan.duckdb", inc.sources_state(copy, SOURCES))
    assert select == ["source:lake.exports+"]  # content decides what is built …
    assert inc.home_moved(build_b, inc.sources_state(copy, SOURCES))  # … the views are made again first
    assert not inc.home_moved(build, inc.sources_state(first, SOURCES))

    inc.save_build_state(build_b, inc.sources_state(copy, SOURCES))
    assert inc.dbt_selection(build_b, build_b / "lingtan.duckdb", inc.sources_state(copy, SOURCES))[0] == []
    assert not inc.home_moved(build_b, inc.sources_state(copy, SOURCES))
    # the original home is untouched by its copy
    assert inc.dbt_selection(build, build / "lingtan.duckdb", inc.sources_state(first, SOURCES))[0] == []
