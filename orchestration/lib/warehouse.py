"""Publishing and reading the warehouse: dbt builds into `warehouse/build/lingtan.duckdb`; readers use
`warehouse/lingtan.duckdb`, replaced in one atomic rename after a successful build.

An analyst's open read-only session keeps the file it opened (on POSIX a rename never touches an open file), so a
nightly build never waits for readers and readers never see a half-built database. Writers are serialised by the
`duckdb_warehouse` pool and the run tag limit (dagster_home/dagster.yaml).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from orchestration.lib.publish import promote, staging


def publish_warehouse(build: Path, published: Path) -> Path:
    if not build.exists():
        raise FileNotFoundError(f"no warehouse build at {build}; the dbt build did not run")
    con = duckdb.connect(str(build))
    try:
        con.execute("CHECKPOINT")  # fold the WAL into the file so the copy is complete on its own
    finally:
        con.close()
    # the copy is staged (a killed run's half copy is swept by the next run), then renamed into place
    with staging(published.parent / ".staging") as stage:
        shutil.copyfile(build, stage / published.name)
        promote(stage / published.name, published)  # the one atomic rename every stage publishes with
    return published


def read_marts(
    warehouse: Path, names: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, pl.DataFrame]:
    """The named marts of the published warehouse (schema `marts`) as polars frames, read-only; `optional`
    marts are read when the warehouse has them (a kind shows "no data" otherwise)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        have = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        out: dict[str, pl.DataFrame] = {}
        for name in dict.fromkeys(names):
            if name not in have:
                raise KeyError(f"mart {name!r} is not in {warehouse}")
            out[name] = con.execute(f'select * from marts."{name}"').pl()
        for name in dict.fromkeys(optional):
            if name in have and name not in out:
                out[name] = con.execute(f'select * from marts."{name}"').pl()
        return out
    finally:
        con.close()
