"""Run records: one JSON file per `lingtan run` under `<home>/runs/`, saying what a run read, with which
reference data and code, what it produced and which gates passed; the audit trail between two nightly runs."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from orchestration.lib.home import Home
from orchestration.lib.storage import atomic_write_bytes
from transforms.contracts import datasets
from transforms.paths import REPO_ROOT
from transforms.reference.seeds import REFERENCE_DIR

# Run records kept under <home>/runs (as many as Dagster runs kept: orchestration/pipeline.py RUNS_KEPT).
RECORDS_KEPT = 60


def code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version

    return version("lingtan")


def reference_versions() -> dict[str, str]:
    """sha256 of every committed reference seed table: a factor change shows up as a different hash."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(REFERENCE_DIR.glob("*.csv"))
    }


def input_files(home: Home) -> list[dict]:
    """One record per landing file the lake knows: dataset, drop, file, sha256, row accounting, gate result."""
    files: list[dict] = []
    for name in datasets():
        log = home.raw_dir(name) / "_files.parquet"
        if log.exists():
            files += (
                pl.read_parquet(log)
                .select(
                    "dataset",
                    "drop_date",
                    "file",
                    "sha256",
                    "rows_read",
                    "rows_accepted",
                    "rows_quarantined",
                    "file_status",
                    "gate_passed",
                )
                .to_dicts()
            )
    return files


def write_run_record(
    home: Home,
    run_id: str,
    started: datetime,
    landing: str,
    up_to: str,
    success: bool,
    ingest: dict,
    materialized: list[str],
    failed_checks: list[str],
    failed_steps: list[str],
    fingerprint: dict | None = None,
    no_change_since: str = "",
) -> Path:
    files = input_files(home)
    outputs = (
        {
            p.relative_to(home.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.computed.glob("*.parquet"))
        }
        if home.computed.exists()
        else {}
    )
    record = {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "landing": landing,
        "up_to": up_to,
        "success": success,
        "code_version": code_version(),
        "reference_seeds": reference_versions(),
        "contracts": {n: d.contract_version for n, d in datasets().items()},
        "ingested_this_run": ingest,
        "input_files": files,
        "computed_outputs": outputs,
        "materialized": sorted(materialized),
        "failed_checks": failed_checks,
        "failed_steps": failed_steps,
        # orchestration/lib/incremental.py: the next run compares its own to this one's (no change → skip)
        "fingerprint": fingerprint or {},
        "no_change_since": no_change_since,
    }
    home.runs.mkdir(parents=True, exist_ok=True)
    path = home.runs / f"{started:%Y%m%dT%H%M%SZ}-{run_id[:8]}.json"
    # whole or not at all: the next run and `period lock` read the newest records
    atomic_write_bytes(path, json.dumps(record, indent=1, ensure_ascii=False, default=str).encode())
    prune_records(home)
    return path


def prune_records(home: Home, keep: int = RECORDS_KEPT) -> list[Path]:
    """Delete run records beyond the newest `keep`, except the newest successful one (the next run compares its
    fingerprint with it) and the newest that published the warehouse (`period lock` names its inputs). Each
    record lists every input file so far, so keeping them all would grow with the square of the drops."""
    records = sorted(home.runs.glob("*.json"), reverse=True) if home.runs.exists() else []
    old = records[keep:]
    if not old:
        return []
    needed: set[Path] = set()
    for flag in ("success", "published"):
        for path in records:
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            found = (
                rec.get("success")
                if flag == "success"
                else "warehouse/lingtan_duckdb" in rec.get("materialized", [])
            )
            if found:
                needed.add(path)
                break
    removed = [p for p in old if p not in needed]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
