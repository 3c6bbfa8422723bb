"""The warehouse publish: an analyst's read-only session (another process) keeps working while a new build is
written and published; new sessions see the new build; the SQL shell is read-only."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb

from orchestration.lib.incremental import SOURCES_STATE
from orchestration.lib.publish import promote
from orchestration.lib.sqlshell import shell_args
from orchestration.lib.warehouse import SPARE, SPARE_STATE, publish_warehouse, separate_build


def build(path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.fct_demo as select ? as v, range as i from range(100000)", [value]
    )
    con.close()


ANALYST = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select max(v) from marts.fct_demo").fetchone()[0], flush=True)
    sys.stdin.readline()  # the test publishes a new build meanwhile
    print(con.execute("select max(v), count(*) from marts.fct_demo").fetchone(), flush=True)
""")


def test_reader_keeps_working_while_a_new_build_is_published(tmp_path):
    build_file, published = tmp_path / "build" / "lingtan.duckdb", tmp_path / "lingtan.duckdb"
    build(build_file, 1)
    publish_warehouse(build_file, published)
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert analyst.stdout.readline().strip() == "1"
    separate_build(build_file, published)  # as the dbt step does: the build file made nobody's but its own
    build(build_file, 2)  # the nightly build writes its own file: no lock conflict with the reader
    publish_warehouse(build_file, published)
    out, _ = analyst.communicate("\n", timeout=60)
    assert out.strip() == "(1, 100000)"  # the open session still reads the complete old build
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("select max(v) from marts.fct_demo").fetchone()[0] == 2
    con.close()
    assert not list(tmp_path.glob(".*.tmp"))


def test_sql_shell_is_read_only(tmp_path):
    published = tmp_path / "lingtan.duckdb"
    build(published, 3)
    run = subprocess.run(
        shell_args(published),
        input="select max(v) from fct_demo;\ncreate table x(a int);\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "3" in run.stdout
    assert "read-only" in (run.stdout + run.stderr)


def _value(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select max(v) from marts.fct_demo").fetchone()[0]
    finally:
        con.close()


def _state(folder, value: int) -> None:
    """A build state beside the build file (what orchestration.lib.incremental.save_build_state writes)."""
    (folder / SOURCES_STATE).write_text(
        json.dumps({"sources": {"lake.x": f"digest-{value}"}}), encoding="utf-8"
    )


def _night(build_file, published, value: int) -> str | None:
    """One nightly's warehouse steps: the build file made its own, built (and its state saved), published."""
    done = separate_build(build_file, published)
    state = json.loads((build_file.parent / SOURCES_STATE).read_text(encoding="utf-8")) if done else None
    built_from = _value(build_file) if build_file.exists() else None
    if done and "published before" in done:  # the spare's state is the state of the warehouse it holds
        assert state["sources"]["lake.x"] == f"digest-{built_from}"
    build(build_file, value)
    _state(build_file.parent, value)
    publish_warehouse(build_file, published)
    return done


def test_publishing_links_the_build_and_the_next_build_starts_from_the_warehouse_before(tmp_path):
    build_file, published = tmp_path / "build" / "lingtan.duckdb", tmp_path / "lingtan.duckdb"
    spare = build_file.parent / SPARE
    # The home's first publish copies: the copy is the warehouse the build after next starts from.
    assert _night(build_file, published, 1) is None
    assert not published.samefile(build_file) and _value(published) == 1
    first = published.stat().st_ino

    # Second night: the build file is nobody's but the build's; published by a link, the first copy kept.
    assert _night(build_file, published, 2) is None
    assert published.samefile(build_file) and _value(published) == 2
    assert spare.stat().st_ino == first and _value(spare) == 1
    spare_state = json.loads((build_file.parent / SPARE_STATE).read_text(encoding="utf-8"))
    assert spare_state["sources"]["lake.x"] == "digest-1" and spare_state["file"] == first

    # Third night: readers may hold the build file, so the build goes into the spare (the first night's
    # warehouse, with its own state), and the second night's file is kept: no copy.
    second = published.stat().st_ino
    assert "published before" in _night(build_file, published, 3)
    assert published.stat().st_ino == first and _value(published) == 3
    assert spare.stat().st_ino == second and _value(spare) == 2
    assert json.loads((build_file.parent / SPARE_STATE).read_text(encoding="utf-8"))["sources"] == {
        "lake.x": "digest-2"
    }
    assert "published before" in _night(build_file, published, 4)
    assert _value(published) == 4 and _value(spare) == 3 and published.stat().st_ino == second
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        ["lingtan.duckdb", "lingtan.duckdb", SPARE, SOURCES_STATE, SPARE_STATE]
    )  # two files on disk (the published one is the build file): as many as with a copy


def test_a_spare_a_reader_holds_is_not_written_the_build_starts_from_a_copy(tmp_path):
    build_file, published = tmp_path / "build" / "lingtan.duckdb", tmp_path / "lingtan.duckdb"
    for value in (1, 2):
        _night(build_file, published, value)
    assert _value(build_file.parent / SPARE) == 1
    # an analyst opened the warehouse on the first night and is still reading it: that file is the spare now
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(build_file.parent / SPARE)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert analyst.stdout.readline().strip() == "1"
    assert "copy" in _night(build_file, published, 3)
    out, _ = analyst.communicate("\n", timeout=60)
    assert out.strip() == "(1, 100000)"
    assert _value(published) == 3 and _value(build_file.parent / SPARE) == 2


def test_a_build_file_a_reader_still_holds_is_copied_before_the_build(tmp_path):
    """A patched copy (locked periods) replaced the published build file, which an analyst still reads."""
    build_file, published = tmp_path / "build" / "lingtan.duckdb", tmp_path / "lingtan.duckdb"
    for value in (1, 2):
        _night(build_file, published, value)
    assert published.samefile(build_file)
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert analyst.stdout.readline().strip() == "2"
    patched = tmp_path / "patched.duckdb"
    build(patched, 9)
    promote(patched, published)
    assert (
        separate_build(build_file, published) == "readers may hold the build file: building into a copy of it"
    )
    build(build_file, 3)
    out, _ = analyst.communicate("\n", timeout=60)
    assert out.strip() == "(2, 100000)"
    assert separate_build(build_file, published) is None  # its own file, and nobody holds it


def test_a_state_that_names_another_file_is_not_the_spares(tmp_path):
    build_file, published = tmp_path / "build" / "lingtan.duckdb", tmp_path / "lingtan.duckdb"
    for value in (1, 2):
        _night(build_file, published, value)
    state = build_file.parent / SPARE_STATE
    state.write_text(
        json.dumps({**json.loads(state.read_text(encoding="utf-8")), "file": -1}), encoding="utf-8"
    )
    assert "copy" in _night(build_file, published, 3)  # never a build from a state that is not its file's
    assert not state.exists() or json.loads(state.read_text(encoding="utf-8"))["file"] != -1
