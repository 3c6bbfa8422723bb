"""A home on S3 (`--home s3://bucket/prefix`): the run works on a local mirror (DuckDB and dbt need local
files) and pushes the lake, reports and run records back when it ends. The warehouse DuckDB file stays local.

Mirror folder: $LINGTAN_CACHE (default ./data/.s3home/<bucket>/<prefix>).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from orchestration.lib.storage import s3_client, split_s3

SYNCED = ("lake/raw", "lake/computed", "reports", "runs")


def mirror_dir(uri: str) -> Path:
    bucket, prefix = split_s3(uri)
    base = Path(os.environ.get("LINGTAN_CACHE", "./data/.s3home"))
    return (base / bucket / prefix).resolve()


# A table's parts (a raw table's `lake/raw/<dataset>/current/part-*.parquet`, a computed table stored by month
# `lake/computed/<table>/part-*.parquet`, the interval engine's carry of it): the folder must hold exactly the
# home's parts, or a part another run removed (a table rebuilt into fewer parts) would be read twice over.
_PART = re.compile(r"^lake/(?:.+/)?part-[^/]+\.parquet$")


def local_mirror(uri: str) -> Path:
    """Download what the home holds (lake, reports, runs) into the mirror; returns the mirror folder. A raw
    table's part the home no longer holds is removed from the mirror."""
    root = mirror_dir(uri)
    bucket, prefix = split_s3(uri)
    client = s3_client()
    start = f"{prefix}/" if prefix else ""
    remote_parts = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=start):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(start) :]
            if not rel.startswith(SYNCED) or ".." in rel.split("/"):
                continue
            if _PART.match(rel):
                remote_parts.add(rel)
            target = root / rel
            if target.exists() and target.stat().st_size == obj["Size"]:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, obj["Key"], str(target))
    for rel in set(_local_parts(root)) - remote_parts:
        (root / rel).unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _local_parts(root: Path) -> list[str]:
    found = (root / "lake").rglob("part-*.parquet") if (root / "lake").is_dir() else []
    return [rel for p in found if p.is_file() and _PART.match(rel := p.relative_to(root).as_posix())]


def push(uri: str, root: Path) -> int:
    """Upload the mirror's lake, reports and run records (each object PUT is atomic on S3), then delete the
    tables' parts the mirror no longer holds."""
    bucket, prefix = split_s3(uri)
    client = s3_client()
    n = 0
    start = f"{prefix}/" if prefix else ""
    remote_parts = {
        obj["Key"][len(start) :]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{start}lake/")
        for obj in page.get("Contents", [])
        if _PART.match(obj["Key"][len(start) :])
    }
    for sub in SYNCED:
        for p in sorted((root / sub).rglob("*")) if (root / sub).exists() else []:
            if p.is_file() and not p.name.startswith("."):
                key = "/".join(x for x in (prefix, p.relative_to(root).as_posix()) if x)
                client.upload_file(str(p), bucket, key)
                n += 1
    for rel in sorted(remote_parts - set(_local_parts(root))):
        client.delete_object(Bucket=bucket, Key=f"{start}{rel}")
    return n
