"""Publishing and reading the warehouse: dbt builds into `warehouse/build/lingtan.duckdb`; readers use
`warehouse/lingtan.duckdb`, replaced in one atomic rename after a successful build.

An analyst's open read-only session keeps the file it opened (on POSIX a rename never touches an open file), so a
nightly build never waits for readers and readers never see a half-built database. Writers are serialised by the
`duckdb_warehouse` pool and the run tag limit (dagster_home/dagster.yaml).

Publishing links the build file into place (a hard link): no night copies a warehouse that grows with the
history. Readers may then hold the build file, so before the next build writes, `separate_build` gives it a file
of its own: the spare, the warehouse published before (its build state beside it, so dbt brings it up to date
from there, incrementally), or else a copy. A home's first publish copies, so that a spare exists from then on.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from orchestration.lib.incremental import SOURCES_STATE
from orchestration.lib.publish import promote, staging

# Beside the build file: the warehouse published before the current one, and its build state. The published
# file's own build state waits under PUBLISHED_STATE until a publish makes that file the spare. Each spare or
# published state names its file's inode ("file"), so a state never describes another file.
SPARE = "lingtan.spare.duckdb"
SPARE_STATE = "_dbt_sources.spare.json"
PUBLISHED_STATE = "_dbt_sources.published.json"


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def checkpoint(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")  # fold the WAL into the file, so that the file is complete on its own
    finally:
        con.close()


def _state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_state(path: Path, state: dict, file: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({**state, "file": file.stat().st_ino}, indent=1), encoding="utf-8")
    tmp.replace(path)


def _state_of(path: Path, file: Path) -> dict | None:
    """The state at `path` when it describes `file` (the inode it names is the file's)."""
    state = _state(path)
    try:
        return state if state is not None and state.get("file") == file.stat().st_ino else None
    except OSError:
        return None


def _held(path: Path) -> bool:
    """Whether another process has the DuckDB file open (a reader's shared lock refuses a writer)."""
    try:
        duckdb.connect(str(path)).close()
    except duckdb.Error:
        return True
    return False


def separate_build(build: Path, published: Path) -> str | None:
    """Before dbt writes into `build`, make it a file no reader can hold. When it is the published file (linked
    by `publish_warehouse`), the spare takes its place (the warehouse published before, with its build state:
    dbt catches it up from that state); the published file's state is kept as PUBLISHED_STATE, for the publish
    that makes it the spare. Without a usable spare, or when a reader still holds a build file published
    before (a patched copy replaced it), the build file is replaced by a copy of itself (same content, same
    state). Renames only, each leaving a state that is true or none (then the next build is whole). Returns what
    was done (None: nothing to do)."""
    if not build.exists():
        return None
    linked = same_file(build, published)
    if not linked and not _held(build):
        return None
    folder = build.parent
    spare, spare_state = folder / SPARE, folder / SPARE_STATE
    if linked and (current := _state(folder / SOURCES_STATE)) is not None:
        _write_state(folder / PUBLISHED_STATE, current, published)
    if linked and spare.exists() and _state_of(spare_state, spare) is not None and not _held(spare):
        (folder / SOURCES_STATE).unlink(missing_ok=True)  # the build file is about to become another file
        os.replace(spare, build)
        spare_state.replace(folder / SOURCES_STATE)  # its "file" is the build file's inode now
        return "the build file is the published one: building into the warehouse published before it"
    tmp = folder / f".{build.name}.{os.getpid()}.tmp"
    try:
        shutil.copyfile(build, tmp)
        os.replace(tmp, build)
    finally:
        tmp.unlink(missing_ok=True)
    if linked:  # the spare was unusable (no state, or held): drop it
        spare.unlink(missing_ok=True)
        spare_state.unlink(missing_ok=True)
    return "readers may hold the build file: building into a copy of it"


def _keep_spare(build: Path, published: Path) -> None:
    """The published file becomes the spare (it is about to be replaced) when its build state is known."""
    folder = build.parent
    state = _state_of(folder / PUBLISHED_STATE, published)
    (folder / PUBLISHED_STATE).unlink(missing_ok=True)
    if state is None:
        return
    tmp = folder / f".{SPARE}.{os.getpid()}.tmp"
    try:
        os.link(published, tmp)
        os.replace(tmp, folder / SPARE)
    except OSError:  # no hard links here: no spare (the next build copies)
        tmp.unlink(missing_ok=True)
        return
    _write_state(folder / SPARE_STATE, state, folder / SPARE)


def _link(src: Path, dst: Path) -> bool:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or one without hard links
        return False
    return True


def publish_warehouse(build: Path, published: Path) -> Path:
    """Put the checkpointed `build` in place of `published`, in one rename. Linked when a spare exists (the
    next build starts from it, `separate_build`); otherwise copied (a home's first publish), and the copy's build
    state is kept, so that the next publish makes it the spare: from then on no night copies the warehouse."""
    if not build.exists():
        raise FileNotFoundError(f"no warehouse build at {build}; the dbt build did not run")
    if same_file(build, published):
        return published  # nothing was built since it was published
    checkpoint(build)
    _keep_spare(build, published)
    folder = build.parent
    spare = _state_of(folder / SPARE_STATE, folder / SPARE) is not None
    # staged (a killed run's leftovers are swept by the next run), then renamed into place
    with staging(published.parent / ".staging") as stage:
        staged = stage / published.name
        linked = spare and _link(build, staged)
        if not linked:
            shutil.copyfile(build, staged)
        promote(staged, published)  # the one atomic rename every stage publishes with
    if not linked and (current := _state(folder / SOURCES_STATE)) is not None:
        _write_state(folder / PUBLISHED_STATE, current, published)
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
