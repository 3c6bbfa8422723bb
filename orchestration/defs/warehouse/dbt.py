"""The warehouse: one @dbt_assets over the whole dbt project (staging views, intermediate views, marts
tables, reference seeds), built with `dbt build` so every dbt data test runs as an asset check right after its
model and a failing test (the marts gate) stops everything downstream.

Unpartitioned and incremental: the build file persists (<home>/warehouse/build/lingtan.duckdb) and a build
runs only the models downstream of the lake/computed tables whose content changed since its last successful
build (orchestration/lib/incremental.py); the others are reported with `lingtan/no_change` metadata. Needs
resources `dbt` (DbtCliResource) and `lingtan` (the home to read).
"""

import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import (
    PARTIAL_PARSE,
    dbt_env,
    ensure_manifest,
    environ,
    lingtan_dbt_project,
    warehouse_env,
)
from orchestration.defs.warehouse.translator import LingtanTranslator
from orchestration.lib import warm_dbt
from orchestration.lib.child import CWD_ENV, PARENT_ENV, WARM_ENV
from orchestration.lib.config import LingtanConfig
from orchestration.lib.dbt_build import BUILD_FLAGS, BUILD_ONLY
from orchestration.lib.home import Home
from orchestration.lib.incremental import (
    dbt_selection,
    forget_build_state,
    home_moved,
    last_build_parts,
    last_build_sources,
    not_downstream,
    save_build_state,
    sha256_file,
    sources_state,
    unchanged_before,
)
from orchestration.lib.warehouse import separate_build
from transforms.computed import computed_table
from transforms.contracts import dataset, datasets
from transforms.paths import NO_MONTH, month_of, table_parts

WAREHOUSE_POOL = "duckdb_warehouse"  # DuckDB has one writer: every warehouse writer takes this pool
TARGETS_KEPT = 3  # dagster-dbt writes each build to target/lingtan_dbt-<run>-<id> (~12 MB): keep the newest


def prune_targets(target_dir: Path, keep: int = TARGETS_KEPT) -> list[Path]:
    """Delete all but the `keep` newest per-build target folders (artifacts of older builds nobody reads)."""
    builds = sorted(
        (p for p in target_dir.glob("lingtan_dbt-*") if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    old = builds[:-keep] if keep > 0 else builds
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return old


@cache
def manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest().read_text(encoding="utf-8"))


def manifest_sources() -> list[tuple[str, str]]:
    """(source, table) of every dbt source in the project's manifest."""
    return sorted((s["source_name"], s["name"]) for s in manifest()["sources"].values())


def _keys_in_order(names: set[str] | None) -> list[dg.AssetKey]:
    """Asset keys of the project's models, seeds and snapshots named in `names` (None: all), parents first."""
    m = manifest()
    nodes = {
        uid: n
        for uid, n in m["nodes"].items()
        if n["resource_type"] in ("model", "seed", "snapshot") and (names is None or n["name"] in names)
    }
    graph = {uid: [p for p in m["parent_map"].get(uid, []) if p in nodes] for uid in nodes}
    translator = LingtanTranslator()
    return [
        translator.get_asset_spec(m, uid, lingtan_dbt_project).key
        for uid in TopologicalSorter(graph).static_order()
    ]


def _no_change(context: dg.AssetExecutionContext, key: dg.AssetKey, why: str) -> dg.Output:
    return dg.Output(
        None,
        output_name=context.assets_def.get_output_name_for_asset_key(key),
        metadata={"lingtan/no_change": why},
    )


def seed_partial_parse(target: Path) -> bool:
    """Give a home's dbt target folder the project's partial parse when it has none yet (a new home), so its
    first build parses only what changed since (nothing, usually) instead of the whole project: the parse is
    the same in every home (profiles.yml, orchestration.dbt_project.dbt_env). Copied under a temporary name and
    renamed, so a concurrent reader never sees half a file. False when there was nothing to copy."""
    source = Path(lingtan_dbt_project.project_dir) / lingtan_dbt_project.target_path / PARTIAL_PARSE
    dest = target / PARTIAL_PARSE
    if dest.exists() or not source.exists():
        return False
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f".{PARTIAL_PARSE}.{os.getpid()}.tmp"
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return True


# read by models/marts/zero_carbon/fct_meter_hourly.sql and the key tests of meter_hourly (its contract names it)
HOURLY_SINCE_ENV = computed_table("meter_hourly").since_env


HOURLY_KEY = "computed.meter_hourly"


def hourly_parts(home: Home) -> dict[str, str]:
    """meter_hourly's parts (stored by UTC month), name → sha256: the build state keeps them (`hourly_since`)."""
    return {p.name: sha256_file(p) for p in table_parts(home.computed_table("meter_hourly"))}


def hourly_since(
    home: Home,
    build_dir: Path,
    select: list[str] | None,
    state: dict[str, str],
    parts: dict[str, str] | None = None,
) -> datetime | None:
    """Where this build may rebuild fct_meter_hourly from (its hours before are as last built), or None: whole.
    Only when the build keeps what did not change (`select` a list), the interval engine published only
    incremental versions of meter_hourly since the table was last built (orchestration/lib/incremental.py), and
    the parts of the months before are the files that build read (`parts`, name → sha256, against the build
    state's). The last makes the hours before a file-level fact, so the test comparing the mart with its source
    (tests/assert_fct_meter_hourly_equals_its_source.sql) reads the months from `since` on only."""
    if not select or f"source:{HOURLY_KEY}+" not in select:
        return None
    since = unchanged_before(
        home, "meter_hourly", last_build_sources(build_dir).get(HOURLY_KEY), state[HOURLY_KEY]
    )
    if since is None:
        return None
    first = since.year * 100 + since.month

    def kept(files: dict[str, str]) -> dict[str, str]:
        return {n: h for n, h in files.items() if NO_MONTH < month_of(Path(n)) < first}

    now = hourly_parts(home) if parts is None else parts
    return since if kept(now) == kept(last_build_parts(build_dir, HOURLY_KEY)) else None


def keys_since(
    home: Home, build_dir: Path, select: list[str] | None, state: dict[str, str]
) -> dict[str, datetime | None]:
    """For each raw event table whose key holds a time (`Dataset.key_time`), the time from which this build's
    key and not-null tests of its staging model read the rows (None: every row). Set when the build keeps what did not
    change, rebuilds that table's models, and every version of the table published since the last successful
    build extended the one before (orchestration/lib/ingest.py lists them): the rows before it are those that
    build's test checked."""
    built = last_build_sources(build_dir)
    out: dict[str, datetime | None] = {}
    for ds in datasets().values():
        if ds.key_time:
            key = f"lake.{ds.name}"
            rebuilt = select is not None and f"source:{key}+" in select and key in state
            out[ds.name] = (
                unchanged_before(home, ds.name, built.get(key), state[key], source="lake")
                if rebuilt
                else None
            )
    return out


@dbt_assets(
    manifest=ensure_manifest(),
    project=lingtan_dbt_project,
    dagster_dbt_translator=LingtanTranslator(),
    name="lingtan_dbt",
    pool=WAREHOUSE_POOL,
)
def lingtan_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lingtan: LingtanConfig
) -> Iterator[Any]:
    home_root = lingtan.home_dir().root
    build_file = Path(warehouse_env(home_root)["LINGTAN_WAREHOUSE_PATH"])
    build_file.parent.mkdir(parents=True, exist_ok=True)
    # `lingtan-dbt` runs dbt in the build folder, where profiles.yml's relative path names the build file
    in_build_folder = Path(dbt.dbt_executable).name == "lingtan-dbt"
    env = dbt_env(home_root, in_build_folder)
    context.log.info(f"dbt build: lake {env['LINGTAN_HOME']}/lake → {build_file}")
    # dbt's log lines go to the run's log (and the step's stdout in the UI): plain text, no colour codes.
    child = {"DBT_USE_COLORS": "false", PARENT_ENV: str(os.getpid())}
    if in_build_folder:
        child[CWD_ENV] = str(build_file.parent)
        if warm := warm_dbt.address():  # `lingtan run` forked a dbt ahead: the first dbt command goes to it
            child[WARM_ENV] = warm
            context.log.info("dbt build: in the dbt process forked at the start of the run")
    with environ({**env, **child}):
        # A stable target folder per home: dbt reuses its partial parse there; a new home starts from the
        # project's (the parse does not depend on the home).
        target = build_file.parent / "dbt-target"
        if seed_partial_parse(target):
            context.log.info("dbt build: partial parse seeded from the project's")
        # Incremental: only the models downstream of lake/computed tables whose content changed since the
        # last successful build into this (persistent) build file; nothing when none changed.
        state = sources_state(lingtan.home_dir(), manifest_sources())
        parts = hourly_parts(lingtan.home_dir())
        select, why = dbt_selection(build_file.parent, build_file, state)
        if select != [] and (moved := separate_build(build_file, lingtan.home_dir().warehouse)):
            context.log.info(f"dbt build: {moved}")  # readers hold the build file: dbt writes another
            select, why = dbt_selection(build_file.parent, build_file, state)
        context.log.info(f"dbt build: {why}")
        since = hourly_since(lingtan.home_dir(), build_file.parent, select, state, parts)
        if since is not None:
            context.log.info(
                f"dbt build: fct_meter_hourly from {since:%Y-%m-%d %H:%M} UTC on (the hours before kept)"
            )
        key_tests = {}
        for table, at in keys_since(lingtan.home_dir(), build_file.parent, select, state).items():
            key_tests[dataset(table).keys_since_env] = at.isoformat(sep=" ") if at else ""
            if at:
                context.log.info(
                    f"dbt build: key test of raw {table} from {at} on (the rows before as checked)"
                )
        if select is not None and home_moved(build_file.parent, state):
            # a copied or moved home: its staging views still read the old home's lake (absolute paths, macro
            # lake_table); made again over this home's files before anything is built or kept (same content)
            context.log.info("dbt build: the home was copied or moved: staging views made again")
            dbt.cli(["run", "--select", "path:models/staging", *BUILD_FLAGS], target_path=target).wait()
        skip = not_downstream(manifest(), select) if select else []
        # Models not rebuilt are current in the build file: reported "no change" (so the publish step runs),
        # before the build and in dependency order (Dagster wants a multi-asset's outputs in topological order).
        done: set[dg.AssetKey] = set()
        # select None: a full build (nothing kept); []: nothing built (all kept); else: the excluded nodes
        same = [] if select is None else _keys_in_order(set(skip) if select else None)
        for key in [k for k in same if k in context.selected_asset_keys]:
            done.add(key)
            yield _no_change(context, key, why)
        if select != []:
            forget_build_state(build_file.parent)  # a failed or killed build leaves no state: next is full
            args = ["build", *BUILD_FLAGS, *BUILD_ONLY, *(["--exclude", " ".join(skip)] if skip else [])]
            with environ({HOURLY_SINCE_ENV: since.isoformat(sep=" ") if since else "", **key_tests}):
                for event in dbt.cli(args, context=context, target_path=target).stream():
                    if isinstance(event, dg.Output):
                        done.add(context.asset_key_for_output(event.output_name))
                    yield event
            save_build_state(build_file.parent, state, {HOURLY_KEY: parts})
        for key in sorted(context.selected_asset_keys - done, key=lambda k: k.to_user_string()):
            yield _no_change(context, key, why)
    removed = prune_targets(lingtan_dbt_project.project_dir / "target")
    if removed:
        context.log.info(f"pruned {len(removed)} old dbt target folder(s); kept the newest {TARGETS_KEPT}")
