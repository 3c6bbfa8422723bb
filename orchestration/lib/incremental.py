"""Content addressing for the incremental nightly: what a stage read last time, by content hash, so that a
stage whose inputs did not change is skipped and a run with nothing new recomputes nothing.

Three levels, each comparing sha256 of files (never timestamps):
- the run: `run_fingerprint` (code, reference seeds, contracts, lock state, report settings, the raw lake's
  tables and ledgers, the visible factor set) beside the pending landing drops. Equal to the last successful
  run's fingerprint with no pending drop: the run is recorded in Dagster with its ingest assets only ("no
  change"), nothing else executes.
- an engine: `Stamp` of its input tables + the code fingerprint, kept beside its outputs in lake/computed;
  equal → the engine is not run and its tables stay as published.
- the dbt build: the hash of every dbt source's files at the last successful build (beside the build file,
  which persists); only the models downstream of changed sources are built (`--select source:…+`), nothing
  when none changed, everything when the code or seeds changed or the last build did not finish.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from orchestration.lib.home import Home
from transforms.paths import DBT_DIR, REPO_ROOT, table_parts

# What the code fingerprint covers: everything a run executes or reads from the repository.
CODE_DIRS = ("transforms", "orchestration", "expectations", "data_contracts", "dbt_project")
CODE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".csv", ".json", ".jinja", ".j2", ".html", ".toml"}
SKIP_PARTS = {"target", "dbt_packages", "logs", "__pycache__", ".pytest_cache"}
FINGERPRINT_KEY = "fingerprint"
SOURCES_STATE = "_dbt_sources.json"  # beside the dbt build file: source hashes at its last successful build


# A file's sha256 is kept on the file itself (an extended attribute) with the size and mtime it was computed
# for: lake files are never changed in place (each write is a new file renamed into place), and a raw table's
# parts kept from night to night are the same files (hard links), so a night hashes only what it wrote, not
# the history again (stamps, fingerprints and build states hash the same files several times per run).
HASH_XATTR = "user.lingtan.sha256"
# a file modified this recently could be modified again within the same mtime tick: hashed, never remembered
RACY_NS = 2_000_000_000


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        fd = f.fileno()
        st = os.fstat(fd)
        seen = f"{st.st_size}:{st.st_mtime_ns}:"
        try:
            kept = os.getxattr(fd, HASH_XATTR).decode()
        except OSError:  # no attribute yet, or a file system without user attributes
            kept = ""
        if kept.startswith(seen):
            return kept.removeprefix(seen)
        h = hashlib.sha256()
        while chunk := f.read(1 << 20):
            h.update(chunk)
        value = h.hexdigest()
        if time.time_ns() - st.st_mtime_ns > RACY_NS:
            with suppress(OSError):  # read-only or without user attributes: the hash is simply not kept
                os.setxattr(fd, HASH_XATTR, f"{seen}{value}".encode())
    return value


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@cache
def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """sha256 over the path and bytes of every source file a run uses (not git's dirty flag: an edit after an
    edit must count). Cached per process: the code does not change under a running process."""
    h = hashlib.sha256()
    for sub in CODE_DIRS:
        base = root / sub
        if not base.exists():
            continue
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and p.suffix in CODE_SUFFIXES and not SKIP_PARTS.intersection(rel.parts):
                h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def visible_factors(today: date) -> str:
    """The newest factor publication date on or before `today` (engines use only factors published by the
    run's date): the computed tables change when a day passes a publication date, not every day."""
    from transforms.reference.seeds import REFERENCE_DIR

    latest = ""
    for p in sorted(REFERENCE_DIR.glob("*.csv")):
        with p.open(encoding="utf-8") as f:
            rows = csv.DictReader(f)
            if "published_on" not in (rows.fieldnames or []):
                continue
            days = [
                r["published_on"]
                for r in rows
                if r["published_on"] and r["published_on"] <= today.isoformat()
            ]
            latest = max([latest, *days])
    return latest


def files_hash(paths: Iterable[Path], root: Path) -> dict[str, str]:
    """sha256 of each file, by its path relative to `root`; a table stored as parts (a folder) by its parts."""
    files = [f for p in paths for f in table_parts(p)]
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(files) if p.is_file()}


def raw_history(home: Home, dataset: str) -> dict[str, Path]:
    """An event dataset's history files, one per drop (`lake/raw/<dataset>/history/<drop>.parquet`, the drop's
    accepted rows), by name in drop order: a drop a run has not read before is a file whose name it does not
    know, a corrected drop one whose hash changed."""
    d = home.raw_dir(dataset) / "history"
    return {p.name: p for p in sorted(d.glob("*.parquet"))} if d.exists() else {}


def history_hashes(home: Home, dataset: str) -> dict[str, str]:
    """`raw_history` as name → sha256: what an incremental engine keeps of the drops its run read."""
    return {n: sha256_file(p) for n, p in raw_history(home, dataset).items()}


def new_drops(home: Home, dataset: str, known: Mapping[str, str]) -> list[Path] | None:
    """The history files of `dataset` that are not in `known` (name → sha256 of the drops a run read), or None
    when a drop it read changed or went (the earlier run's result no longer follows from the lake plus the new
    drops)."""
    history = raw_history(home, dataset)
    if any(name not in history or sha256_file(history[name]) != h for name, h in known.items()):
        return None
    return [p for n, p in history.items() if n not in known]


def raw_state(home: Home) -> dict[str, str]:
    """Hash of every raw lake file the engines and dbt read (current tables, file ledgers, quarantine)."""
    if not home.raw.exists():
        return {}
    tables = [p for d in home.raw.iterdir() if d.is_dir() for p in (*d.glob("*.parquet"), d / "current")]
    return files_hash(tables, home.root)


def locks_state(home: Home) -> str:
    """The period locks as published: a lock or unlock changes what the publish step writes."""
    from orchestration.lib.locks import STATE, locks_dir

    path = locks_dir(home) / STATE
    return sha256_file(path) if path.exists() else ""


def run_fingerprint(home: Home, today: date, settings: Mapping[str, Any]) -> dict[str, Any]:
    from orchestration.lib.runrecord import reference_versions
    from transforms.contracts import datasets

    return {
        "code": code_fingerprint(),
        "reference_seeds": digest(reference_versions()),
        "contracts": digest({n: d.contract_version for n, d in datasets().items()}),
        "locks": locks_state(home),
        "settings": digest(dict(settings)),
        "factors_visible": visible_factors(today),
        "year": today.year,  # marts flag the current year provisional (dbt macro is_provisional)
        "raw": digest(raw_state(home)),
        "warehouse": sha256_file(home.warehouse) if home.warehouse.exists() else "",
    }


def last_success(home: Home) -> dict[str, Any] | None:
    """The newest successful run record (None: none yet)."""
    if not home.runs.exists():
        return None
    for path in sorted(home.runs.glob("*.json"), reverse=True):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if rec.get("success"):
            return rec
    return None


def unchanged_since(home: Home, fingerprint: Mapping[str, Any], pending: list[date]) -> dict[str, Any] | None:
    """The last successful run record when nothing changed since it (no pending drop, same fingerprint)."""
    if pending:
        return None
    last = last_success(home)
    return last if last is not None and last.get(FINGERPRINT_KEY) == dict(fingerprint) else None


# --- engines ----------------------------------------------------------------------------------------------
def engine_stamp(home: Home, inputs: Iterable[Path], extra: Mapping[str, Any] | None = None) -> str:
    """Content key of an engine's run: its input files' hashes, the code and reference data, `extra`."""
    from orchestration.lib.runrecord import reference_versions

    return digest(
        {
            "inputs": files_hash(inputs, home.root),
            "code": code_fingerprint(),
            "seeds": reference_versions(),
            **dict(extra or {}),
        }
    )


def _stamp_path(home: Home, engine: str) -> Path:
    return home.computed / f"_{engine}.stamp.json"


def engine_unchanged(home: Home, engine: str, stamp: str, outputs: Iterable[str]) -> dict[str, Any] | None:
    """The saved verdicts of the engine's gate (table → {passed, details}) when it last published from inputs
    with this stamp and its tables are still there; else None (the engine must run)."""
    path = _stamp_path(home, engine)
    if not path.exists() or not all(home.computed_table(t).exists() for t in outputs):
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("checks") if saved.get("stamp") == stamp else None


def last_verdicts(home: Home, engine: str) -> dict[str, Any]:
    """The gate's verdicts (table → {passed, severity, details}) saved with the engine's last publication, whatever
    its inputs; {} when none is saved (never published, or the run stopped between publishing and saving)."""
    try:
        return dict(json.loads(_stamp_path(home, engine).read_text(encoding="utf-8")).get("checks") or {})
    except (OSError, ValueError, AttributeError):
        return {}


def save_engine_stamp(home: Home, engine: str, stamp: str, checks: Mapping[str, Any]) -> None:
    path = _stamp_path(home, engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stamp": stamp, "checks": dict(checks)}), encoding="utf-8")


def forget_engine_stamp(home: Home, engine: str) -> None:
    """Before an engine publishes: a crash between publish and stamp must not look like 'unchanged'."""
    _stamp_path(home, engine).unlink(missing_ok=True)


# --- dbt --------------------------------------------------------------------------------------------------
def source_files(home: Home, source: str, table: str) -> list[Path]:
    """The lake files behind a dbt source (staging/lake/_lake__sources.yml, staging/computed/…)."""
    if source == "lake":
        return [home.raw_table(table)]
    if source == "lake_quality":
        name = {"files": "_files.parquet", "quarantine": "_quarantine.parquet"}.get(table)
        return sorted(home.raw.glob(f"*/{name}")) if name and home.raw.exists() else []
    if source == "computed":
        return [home.computed_table(table)]
    raise KeyError(f"dbt source {source}.{table}: no lake location known (orchestration/lib/incremental.py)")


# The home a build state belongs to: the warehouse's staging views name its lake by absolute path.
HOME_KEY = "$LINGTAN_HOME"


def source_digest(home: Home, source: str, table: str) -> str:
    """The content digest of a dbt source's files (paths relative to the home): what a build state records."""
    return digest(files_hash(source_files(home, source, table), home.root))


def sources_state(home: Home, sources: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each source's content digest (paths relative to the home), and the home's absolute path under HOME_KEY."""
    return {
        HOME_KEY: str(Path(home.root).resolve()),
        **{f"{s}.{t}": source_digest(home, s, t) for s, t in sorted(set(sources))},
    }


def last_build_sources(build_dir: Path) -> dict[str, str]:
    """The source digests of the last successful build in `build_dir` ({} when none is recorded)."""
    try:
        return dict(json.loads((build_dir / SOURCES_STATE).read_text(encoding="utf-8")).get("sources", {}))
    except (OSError, ValueError):
        return {}


# A table published with a `since` (a time): its rows before that time are the rows of the version published
# before it, unchanged. The versions are listed beside the table, so that the dbt step can build what reads it
# from `since` on instead of whole (orchestration/defs/warehouse/dbt.py):
# - computed meter_hourly: an incremental interval engine run keeps the carry's hours before `since` (UTC);
#   fct_meter_hourly is rebuilt from it on;
# - a raw event table whose key holds a time (`Dataset.key_time`, meter_readings): a nightly that extends the
#   published current appends the new rows and replaces the rows whose key comes again, all at or after the
#   new rows' earliest key time; its key test then checks the rows from it on.
VERSIONS_KEPT = 60


def versions_path(home: Home, table: str, source: str = "computed") -> Path:
    if source == "lake":
        return home.raw_dir(table) / "_current.versions.json"
    return home.computed / f"_{table}.versions.json"


def record_version(home: Home, table: str, since: datetime | None, source: str = "computed") -> None:
    """Note the `table` of dbt source `source` just published: its digest (as `sources_state` names it) and
    `since` (None: any row may have changed). Written beside the table after it is published (renamed into
    place): a run killed in between leaves the list without the new digest, which makes the next build of what
    reads it whole."""
    path = versions_path(home, table, source)
    try:
        versions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        versions = []
    entry = {"digest": source_digest(home, source, table), "since": since.isoformat() if since else None}
    versions = [*versions, entry][-VERSIONS_KEPT:]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(versions, indent=1), encoding="utf-8")
    tmp.replace(path)


def unchanged_before(
    home: Home, table: str, built: str | None, now: str, source: str = "computed"
) -> datetime | None:
    """The time before which the `table`'s rows (digest `now`) are those of the version last built from (digest
    `built`): the earliest `since` of the versions published after `built` up to `now`. None when that is not
    known (no such chain of versions, or one of them may have changed any row)."""
    if built is None or built == now:
        return None
    try:
        versions = json.loads(versions_path(home, table, source).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digests = [v.get("digest") for v in versions]
    if now not in digests:
        return None
    j = len(digests) - 1 - digests[::-1].index(now)
    older = digests[:j]
    if built not in older:
        return None
    i = len(older) - 1 - older[::-1].index(built)
    sinces = [v.get("since") for v in versions[i + 1 : j + 1]]
    if not sinces or any(s is None for s in sinces):
        return None
    return min(datetime.fromisoformat(s) for s in sinces)


def dbt_selection(
    build_dir: Path, build_file: Path, state: Mapping[str, str]
) -> tuple[list[str] | None, str]:
    """(`--select` arguments, why): None = build everything, [] = nothing to build, else the changed sources
    and everything downstream of them."""
    path = build_dir / SOURCES_STATE
    if not build_file.exists() or not path.exists():
        return None, "first build in this home (or the last one did not finish)"
    try:
        last = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "no readable state of the last build"
    if last.get("code") != code_fingerprint() or last.get("dbt_dir") != str(DBT_DIR):
        return None, "code, seeds or dbt project changed since the last build"
    if last.get("year") != date.today().year:  # is_provisional(): the current year's rows change status
        return None, "a new calendar year since the last build"
    before = last.get("sources", {})
    changed = sorted(k for k in state if k != HOME_KEY and before.get(k) != state[k])
    if set(before) - set(state) - {HOME_KEY}:
        return None, "the project's sources changed"
    if not changed:
        return [], "no lake or computed table changed since the last build"
    return [f"source:{k}+" for k in changed], f"{len(changed)} changed source(s): {', '.join(changed)}"


def home_moved(build_dir: Path, state: Mapping[str, str]) -> bool:
    """Whether the last build in `build_dir` was for a home at another path (the home was copied or moved): its
    staging views name that home's lake files by absolute path and must be made again before a build that keeps
    anything (`dbt_selection` compares content only, relative to the home)."""
    try:
        last = json.loads((build_dir / SOURCES_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return last.get("sources", {}).get(HOME_KEY) != state.get(HOME_KEY)


def not_downstream(manifest: Mapping[str, Any], select: Iterable[str]) -> list[str]:
    """Names of the project's models, seeds and tests NOT downstream of the `source:<source>.<table>+`
    selections: passed to `dbt build --exclude` (dagster-dbt adds its own `--select fqn:*`, and dbt unions
    several --select flags, so a narrower --select alone would still build everything)."""
    wanted = {x.removeprefix("source:").removesuffix("+") for x in select}
    frontier = [uid for uid, s in manifest["sources"].items() if f"{s['source_name']}.{s['name']}" in wanted]
    children = manifest["child_map"]
    downstream: set[str] = set()
    while frontier:
        uid = frontier.pop()
        for child in children.get(uid, []):
            if child not in downstream:
                downstream.add(child)
                frontier.append(child)
    project = manifest["metadata"].get("project_name")
    return sorted(
        n["name"]
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "seed", "test", "snapshot")
        and n.get("package_name") == project
        and uid not in downstream
    )


def forget_build_state(build_dir: Path) -> None:
    (build_dir / SOURCES_STATE).unlink(missing_ok=True)


def last_build_parts(build_dir: Path, key: str) -> dict[str, str]:
    """The parts (name → sha256) of the source `key` (a table stored by month) at the last successful build in
    `build_dir` ({} when none are recorded)."""
    try:
        last = json.loads((build_dir / SOURCES_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(last.get("parts", {}).get(key, {}))


def save_build_state(
    build_dir: Path, state: Mapping[str, str], parts: Mapping[str, Mapping[str, str]] | None = None
) -> None:
    """After a successful build: its code, year and source digests, and the parts (name → sha256) of the
    sources stored by month named in `parts` (`last_build_parts`)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / SOURCES_STATE).write_text(
        json.dumps(
            {
                "code": code_fingerprint(),
                "dbt_dir": str(DBT_DIR),
                "year": date.today().year,
                "sources": dict(state),
                "parts": {k: dict(v) for k, v in (parts or {}).items()},
            },
            indent=1,
        ),
        encoding="utf-8",
    )
