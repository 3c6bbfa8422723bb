"""Locked periods: `lingtan period lock|unlock|list` (orchestration/cli_period.py) and the lock state.

A lock of installation × year keeps, under `<home>/locks/<installation>/<year>/`, the rows of that period of every
published mart with an installation and a period (transforms/restatement.py says which), as Parquet, with the
inputs behind them (landing files with content hashes, reference seed hashes and code version of the run that
published the warehouse) in `lock.json`. `<home>/locks/locks.json` holds the current locks and the append-only
history of lock and unlock events (who, when, why).

Every later publish (orchestration/lib/restatements.apply_locks, called by orchestration/defs/publish.py) compares the new
build's rows of each locked period with the snapshot, writes a restatement report when they differ
(`<home>/reports/restatements/<installation>-<year>/<run-id>.{json,csv,md}`) and replaces the rows by the
snapshot in the copy that is published: a locked period's marts, and so its reports, do not change. Unlock
moves the snapshot to `<home>/locks/archive/` (kept), and the next run publishes the new numbers.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml
from filelock import FileLock

from orchestration.lib.home import Home
from transforms.paths import DBT_DIR
from transforms.restatement import INSTALLATION_COLUMN, period_column

USER_ENV = "LINGTAN_USER"
STATE = "locks.json"
SNAPSHOT_META = "lock.json"
SCHEMA = "marts"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MIN_YEAR, MAX_YEAR = 2000, 2100


class LockError(Exception):
    """A lock request that cannot be carried out; the message says what to do."""


# --- where things are --------------------------------------------------------------------------------------
def locks_dir(home: Home) -> Path:
    return home.root / "locks"


def snapshot_dir(home: Home, installation: str, year: int) -> Path:
    return locks_dir(home) / installation / str(year)


def _period_id(installation: str, year: int) -> str:
    return f"{installation}/{year}"


def default_user() -> str:
    """Who acts: $LINGTAN_USER, else the OS user."""
    env = os.environ.get(USER_ENV, "").strip()
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --- state -------------------------------------------------------------------------------------------------
@contextmanager
def locked_state(home: Home, write: bool = True) -> Iterator[dict[str, Any]]:
    """locks.json under a file lock: `locks` (current, by `installation/year`), `history` (append-only)."""
    root = locks_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".locks.json.lock"), timeout=60):
        path = root / STATE
        state = (
            json.loads(path.read_text(encoding="utf-8"))
            if path.exists()
            else {"locks": {}, "history": [], "last_publish": None}
        )
        yield state
        if write:
            write_json(path, state)


def current_locks(home: Home) -> dict[str, dict[str, Any]]:
    if not (locks_dir(home) / STATE).exists():
        return {}
    with locked_state(home, write=False) as state:
        return dict(state["locks"])


def history(home: Home) -> list[dict[str, Any]]:
    if not (locks_dir(home) / STATE).exists():
        return []
    with locked_state(home, write=False) as state:
        return list(state["history"])


def locked_periods(home: Home) -> set[tuple[str, int]]:
    """(installation, year) of every current lock."""
    return {(r["installation_id"], int(r["year"])) for r in current_locks(home).values()}


def covered(locked: set[tuple[str, int]], installations: Iterable[str], year: Any) -> bool:
    """Whether a report of these installations and this year draws only on locked periods: it then keeps its
    published version even when a dimension it shows (a product name, an address) changes."""
    insts = set(installations)
    try:
        y = int(str(year)[:4])
    except (TypeError, ValueError):
        return False
    return bool(insts) and all((i, y) in locked for i in insts)


# --- marts -------------------------------------------------------------------------------------------------
def mart_keys(models: Path = DBT_DIR / "models" / "marts") -> dict[str, list[str]]:
    """Each mart's row key as declared in its dbt YAML (a `unique_combination` test, else a column `unique`)."""
    keys: dict[str, list[str]] = {}
    for path in sorted(models.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in doc.get("models") or []:
            for test in (model.get("data_tests") or []) + (model.get("tests") or []):
                if isinstance(test, dict) and "unique_combination" in test:
                    spec = test["unique_combination"] or {}
                    cols = (spec.get("arguments") or spec).get("columns")
                    if cols:
                        keys.setdefault(model["name"], list(cols))
            for col in model.get("columns") or []:
                tests = (col.get("data_tests") or []) + (col.get("tests") or [])
                if "unique" in tests:
                    keys.setdefault(model["name"], [col["name"]])
    return keys


def period_marts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Mart → its period column, for the fact marts with an installation and an installation period."""
    cols: dict[str, list[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ? "
        "order by table_name, ordinal_position",
        [SCHEMA],
    ).fetchall():
        cols.setdefault(table, []).append(column)
    out = {}
    for table, names in sorted(cols.items()):
        pcol = period_column(names) if table.startswith("fct_") else None
        if pcol:
            out[table] = pcol
    return out


def period_where(period_col: str) -> str:
    """SQL for transforms.restatement.in_locked_period (parameters: installation, year as text)."""
    return f'{INSTALLATION_COLUMN} = ? and left(cast("{period_col}" as varchar), 4) = ?'


def ignored_columns(df: pl.DataFrame) -> list[str]:
    """Build timestamps (`*_at`) differ on every run without any number changing: not compared."""
    return [c for c, t in df.schema.items() if c.endswith("_at") and isinstance(t, pl.Datetime)]


# --- provenance --------------------------------------------------------------------------------------------
def current_inputs(home: Home) -> dict[str, Any]:
    from orchestration.lib.runrecord import code_version, input_files, reference_versions

    return {
        "input_files": {f["file"]: f["sha256"] for f in input_files(home)},
        "reference_seeds": reference_versions(),
        "code_version": code_version(),
    }


def _published_inputs(home: Home) -> dict[str, Any]:
    """Inputs of the run that published the current warehouse (the newest run record that materialised it,
    written after the publish), else the home's inputs now (published by a run without a record)."""
    published_at = datetime.fromtimestamp(home.warehouse.stat().st_mtime, UTC)
    for path in sorted(home.runs.glob("*.json"), reverse=True) if home.runs.exists() else []:
        rec = json.loads(path.read_text(encoding="utf-8"))
        if "warehouse/lingtan_duckdb" in rec.get("materialized", []):
            if datetime.fromisoformat(rec["finished_at"]) < published_at:
                break  # a later run without a record (launched from the UI) published it: use the home now
            return {
                "source": f"run record {path.name}",
                "run_id": rec.get("run_id"),
                "input_files": {f["file"]: f["sha256"] for f in rec.get("input_files", [])},
                "reference_seeds": rec.get("reference_seeds", {}),
                "code_version": rec.get("code_version"),
            }
    return {
        "source": "the home at lock time (no run record published this warehouse)",
        **current_inputs(home),
    }


# --- lock / unlock -----------------------------------------------------------------------------------------
def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise LockError(f"year must be a reporting year like 2025, got {year}")


def _installations_with_rows(con: duckdb.DuckDBPyConnection, marts: dict[str, str], year: int) -> list[str]:
    found: set[str] = set()
    for mart, pcol in marts.items():
        rows = con.execute(
            f'select distinct {INSTALLATION_COLUMN} from {SCHEMA}."{mart}" '
            f'where {INSTALLATION_COLUMN} is not null and left(cast("{pcol}" as varchar), 4) = ?',
            [str(year)],
        ).fetchall()
        found.update(r[0] for r in rows)
    return sorted(found)


def lock(home: Home, installation: str, year: int, by: str, reason: str = "") -> list[dict[str, Any]]:
    """Lock `installation` (or `all` with rows in `year`) for `year`: snapshot its rows of the published marts.
    Returns the new lock records; periods already locked are skipped when `all`, an error otherwise."""
    _check_year(year)
    if not home.warehouse.exists():
        raise LockError(f"no published warehouse at {home.warehouse}; run `lingtan run` first")
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        marts = period_marts(con)
        present = _installations_with_rows(con, marts, year)
        if installation == "all":
            targets = present
            if not targets:
                raise LockError(f"the published warehouse has no rows for {year}; nothing to lock")
        else:
            if installation not in present:
                raise LockError(
                    f"installation {installation!r} has no rows for {year} in the published warehouse; "
                    f"installations with {year} rows: {', '.join(present) or 'none'}"
                )
            targets = [installation]
        with locked_state(home) as state:
            done = []
            for inst in targets:
                pid = _period_id(inst, year)
                if pid in state["locks"]:
                    if installation == "all":
                        continue
                    held = state["locks"][pid]
                    raise LockError(
                        f"{inst} {year} is already locked (since {held['locked_at']} by {held['locked_by']}); "
                        f"`lingtan period unlock {inst} {year} --reason …` first"
                    )
                record = _snapshot(home, con, marts, inst, year, by, reason)
                state["locks"][pid] = record
                state["history"].append({"action": "lock", **record})
                done.append(record)
            return done
    finally:
        con.close()


def _snapshot(
    home: Home,
    con: duckdb.DuckDBPyConnection,
    marts: dict[str, str],
    inst: str,
    year: int,
    by: str,
    reason: str,
) -> dict[str, Any]:
    if not _SAFE_ID.fullmatch(inst):
        raise LockError(f"installation id {inst!r} cannot name a folder; only letters, digits, '.', '_', '-'")
    target = snapshot_dir(home, inst, year)
    if target.exists():  # a snapshot without a lock (a crash between the two): replaced
        shutil.rmtree(target)
    tmp = target.with_name(f".{year}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    keys = mart_keys()
    tables: dict[str, Any] = {}
    try:
        for mart, pcol in marts.items():
            rows = con.execute(
                f'select * from {SCHEMA}."{mart}" where {period_where(pcol)}', [inst, str(year)]
            ).pl()
            path = tmp / f"{mart}.parquet"
            rows.write_parquet(path)
            tables[mart] = {
                "rows": rows.height,
                "period_column": pcol,
                "key": keys.get(mart, []),
                "sha256": sha256_file(path),
            }
        record = {
            "installation_id": inst,
            "year": year,
            "locked_at": now_iso(),
            "locked_by": by,
            "reason": reason,
            "snapshot": target.relative_to(home.root).as_posix(),
            "marts": tables,
            "inputs": _published_inputs(home),
        }
        write_json(tmp / SNAPSHOT_META, record)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: v for k, v in record.items() if k not in ("marts", "inputs")} | {
        "rows": sum(t["rows"] for t in tables.values()),
        "inputs_from": record["inputs"]["source"],
    }


def unlock(home: Home, installation: str, year: int, by: str, reason: str) -> list[dict[str, Any]]:
    """Remove the lock(s); the snapshot moves to `<home>/locks/archive/` and the history keeps the event."""
    _check_year(year)
    if not reason.strip():
        raise LockError("unlocking needs a reason: --reason '…' (kept in the lock history)")
    with locked_state(home) as state:
        pids = (
            sorted(p for p, r in state["locks"].items() if r["year"] == year)
            if installation == "all"
            else [_period_id(installation, year)]
        )
        missing = [p for p in pids if p not in state["locks"]]
        held_now = ", ".join(sorted(state["locks"])) or "none"
        if not pids:
            raise LockError(f"no period of {year} is locked; locked: {held_now}")
        if missing:
            raise LockError(f"{missing[0]} is not locked; locked: {held_now}")
        done = []
        for pid in pids:
            held = state["locks"].pop(pid)
            snap = home.root / held["snapshot"]
            archived = locks_dir(home) / "archive" / held["installation_id"] / str(year)
            archived = archived / held["locked_at"].replace(":", "")
            if snap.exists():
                archived.parent.mkdir(parents=True, exist_ok=True)
                os.replace(snap, archived)
            event = {
                "action": "unlock",
                "installation_id": held["installation_id"],
                "year": year,
                "unlocked_at": now_iso(),
                "unlocked_by": by,
                "reason": reason,
                "locked_at": held["locked_at"],
                "locked_by": held["locked_by"],
                "snapshot_archived": archived.relative_to(home.root).as_posix(),
            }
            state["history"].append(event)
            done.append(event)
        return done
