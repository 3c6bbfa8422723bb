"""What two runs must agree on, computed once for every test that compares runs (incremental vs full, killed vs
clean, UI launch vs `lingtan run`, two workers vs one process)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

RUN_FIELDS = ("run_id", "published_at", "manifest")  # report.json fields that name the run, not the content
PER_RUN_KINDS = ("run_manifest",)  # report kinds keyed by the run id


def mart_digests(warehouse: Path) -> dict[str, str]:
    """One hash per mart over its rows in a stable order (the file's bytes differ by DuckDB's layout), without
    the wall-clock column `processed_at` (when a file was read)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cols = con.execute(
            "select table_name, list(column_name order by ordinal_position) from information_schema.columns "
            "where table_schema = 'marts' group by 1 order by 1"
        ).fetchall()
        out = {}
        for name, columns in cols:
            keep = ", ".join(f'"{c}"' for c in columns if c != "processed_at")
            rows = con.execute(f'select {keep} from marts."{name}" order by all').fetchall()
            out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def report_files(reports: Path) -> dict[str, str]:
    """Relative path → content digest of every published report file (none under a hidden folder such as
    `.staging/`); report.json without the fields naming the run."""
    out = {}
    for p in sorted(reports.rglob("*")):
        rel = p.relative_to(reports).as_posix()
        parts = rel.split("/")
        # a hidden file or folder (`.staging/<run>/`: a run's documents not yet published) is no report file
        if not p.is_file() or parts[0] in PER_RUN_KINDS or any(part.startswith(".") for part in parts):
            continue
        data = p.read_bytes()
        if p.name == "report.json":
            meta = json.loads(data)
            data = json.dumps({k: v for k, v in meta.items() if k not in RUN_FIELDS}, sort_keys=True).encode()
        out[rel] = hashlib.sha256(data).hexdigest()
    return out
