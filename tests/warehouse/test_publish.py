"""The warehouse publish: an analyst's read-only session (another process) keeps working while a new build is
written and published; new sessions see the new build; the SQL shell is read-only."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb

from orchestration.lib.sqlshell import shell_args
from orchestration.lib.warehouse import publish_warehouse


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
