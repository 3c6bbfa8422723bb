"""The publish step's side of locked periods (orchestration/lib/locks.py): keep each locked period's rows in
the warehouse that is published and write a restatement report when the new build would change them.

`apply_locks` is called by orchestration/defs/publish.py before the swap: for every locked period it compares the
build's rows with the snapshot (transforms/restatement.py), writes
`<home>/reports/restatements/<installation>-<year>/<run-id>.{json,csv,md}` when they differ, and replaces the rows
by the snapshot's in a copy of the build, which is what gets published.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from orchestration.lib import locks
from orchestration.lib.home import Home
from orchestration.lib.warehouse import checkpoint, same_file
from transforms.restatement import (
    CHANGE_COLUMNS,
    diff_rows,
    lineage_files,
    mart_summary,
    restatement_causes,
    restatement_markdown,
)


@dataclass(frozen=True)
class Restated:
    """What the publish step did for one locked period."""

    installation_id: str
    year: int
    values_changed: int
    report: (
        Path | None
    )  # the restatement written this run (or the earlier identical one); None when no change
    new_report: bool


def restatements_dir(home: Home) -> Path:
    return home.reports / "restatements"


# --- the publish hook --------------------------------------------------------------------------------------
def apply_locks(
    home: Home, build: Path, run_id: str, stage: Path | None = None
) -> tuple[Path, list[Restated]]:
    """The warehouse to publish: `build` itself when nothing is locked, else a copy in `stage` (a held staging
    folder, so a killed run's copy is swept by the next run; without one, next to the build and the caller
    removes it) in which every locked period's rows are the
    snapshot's. Writes a restatement report per locked period the build would change."""
    held = locks.current_locks(home)
    if not held:
        return build, []
    if not same_file(build, home.warehouse):  # a published file is complete, and readers may hold it
        checkpoint(build)  # the copy must hold everything the build wrote
    locked = (stage or build.parent) / f"locked-{run_id[:8]}-{build.name}"
    shutil.copyfile(build, locked)
    now_inputs = locks.current_inputs(home)
    results: list[Restated] = []
    try:
        con = duckdb.connect(str(locked))
        try:
            have = locks.period_marts(con)
            for pid in sorted(held):
                results.append(_apply_one(home, con, have, held[pid], run_id, now_inputs))
            con.execute("CHECKPOINT")
        finally:
            con.close()
    except BaseException:
        locked.unlink(missing_ok=True)
        raise
    with locks.locked_state(home) as state:
        state["last_publish"] = {
            "run_id": run_id,
            "at": locks.now_iso(),
            "periods": [
                {
                    "installation_id": r.installation_id,
                    "year": r.year,
                    "values_changed": r.values_changed,
                    "report": r.report.relative_to(home.root).as_posix() if r.report else None,
                    "new_report": r.new_report,
                }
                for r in results
            ],
        }
    return locked, results


def _apply_one(
    home: Home,
    con: duckdb.DuckDBPyConnection,
    have: dict[str, str],
    held: dict[str, Any],
    run_id: str,
    now_inputs: dict[str, Any],
) -> Restated:
    inst, year = held["installation_id"], int(held["year"])
    snap = home.root / held["snapshot"]
    meta_path = snap / locks.SNAPSHOT_META
    if not meta_path.exists():
        raise locks.LockError(
            f"the snapshot of locked period {inst} {year} is missing ({meta_path}); restore it from a backup "
            f"or `lingtan period unlock {inst} {year} --reason …`"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    summaries: dict[str, Any] = {}
    changes: list[pl.DataFrame] = []
    frames: list[pl.DataFrame] = []
    for mart, spec in meta["marts"].items():
        path = snap / f"{mart}.parquet"
        if not path.exists() or locks.sha256_file(path) != spec["sha256"]:
            raise locks.LockError(
                f"snapshot {path} of locked period {inst} {year} is missing or was altered since the lock; "
                f"restore it or unlock the period"
            )
        old = pl.read_parquet(path)
        if mart not in have:
            summaries[mart] = {
                "rows_locked": old.height,
                "note": "mart not in this build; locked rows not kept",
            }
            continue
        where = locks.period_where(spec["period_column"])
        new = con.execute(f'select * from {locks.SCHEMA}."{mart}" where {where}', [inst, str(year)]).pl()
        diff = diff_rows(mart, old, new, spec["key"], ignore=locks.ignored_columns(old))
        summaries[mart] = mart_summary(old, new, diff)
        changes.append(diff)
        frames += [old, new]
        # Replace the build's rows by the locked ones; columns the mart no longer has cannot be kept.
        common = [c for c in old.columns if c in new.columns]
        cols = ", ".join(f'"{c}"' for c in common)
        con.execute(f'delete from {locks.SCHEMA}."{mart}" where {where}', [inst, str(year)])
        con.execute(
            f'insert into {locks.SCHEMA}."{mart}" by name select {cols} from read_parquet(?)', [str(path)]
        )
    for mart in sorted(set(have) - set(meta["marts"])):
        summaries[mart] = {"note": "mart added since the lock; its rows of the period are published as built"}
    all_changes = (
        pl.concat(changes) if changes else pl.DataFrame(schema={"mart": pl.String, **CHANGE_COLUMNS})
    )
    if all_changes.is_empty():
        return Restated(inst, year, 0, None, False)
    report = {
        "installation_id": inst,
        "year": year,
        "run_id": run_id,
        "written_at": locks.now_iso(),
        "lock": {k: held.get(k) for k in ("locked_at", "locked_by", "reason", "snapshot")},
        "kept": "the locked rows were published; the numbers below are what this run would have published",
        "causes": restatement_causes(meta["inputs"], now_inputs, lineage_files(frames)),
        "inputs_at_lock": meta["inputs"].get("source"),
        "marts": summaries,
        "values_changed": all_changes.height,
        "changes": all_changes.to_dicts(),
    }
    path, new_report = _write_restatement(home, inst, year, run_id, report, all_changes)
    return Restated(inst, year, all_changes.height, path, new_report)


def _write_restatement(
    home: Home, inst: str, year: int, run_id: str, report: dict[str, Any], changes: pl.DataFrame
) -> tuple[Path, bool]:
    """`<run-id>.json`, `.csv` (one line per changed value) and `.md`; a run whose restatement says the same
    as the period's latest one (same changes, same causes) writes nothing new and points at that one."""
    folder = restatements_dir(home) / f"{inst}-{year}"
    folder.mkdir(parents=True, exist_ok=True)
    fingerprint = hashlib.sha256(
        json.dumps([report["causes"], report["changes"]], sort_keys=True, default=str).encode()
    ).hexdigest()
    report["fingerprint"] = fingerprint
    previous = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if previous:
        last = json.loads(previous[-1].read_text(encoding="utf-8"))
        if last.get("fingerprint") == fingerprint:
            return previous[-1], False
    base = folder / run_id
    changes.write_csv(base.with_suffix(".csv"))
    base.with_suffix(".md").write_text(restatement_markdown(report, changes), encoding="utf-8")
    locks.write_json(base.with_suffix(".json"), report)  # last: the JSON marks a complete restatement
    return base.with_suffix(".json"), True


def publish_lines(home: Home, run_id: str) -> list[str]:
    """One console line per locked period for the run `run_id` (after its publish step)."""
    if not (locks.locks_dir(home) / locks.STATE).exists():
        return []
    with locks.locked_state(home, write=False) as state:
        last = state.get("last_publish") or {}
    if last.get("run_id") != run_id:
        return []
    lines = []
    for p in last["periods"]:
        what = f"{p['installation_id']} {p['year']}"
        if not p["values_changed"]:
            lines.append(f"locked:     {what} kept; this run changes none of its numbers")
        else:
            seen = "" if p["new_report"] else " (same as the last restatement)"
            lines.append(
                f"locked:     {what} kept; this run would change {p['values_changed']} values: "
                f"restatement {home.root / p['report']}{seen}"
            )
    return lines
