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
from transforms.contracts import datasets
from transforms.paths import REPO_ROOT
from transforms.reference.seeds import REFERENCE_DIR


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
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    return path
