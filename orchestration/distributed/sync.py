"""Step-level sync of an S3 home with a worker's local mirror (distributed runs).

`lingtan run` with an S3 home pulls the home once and pushes it when the run ends (orchestration/lib/s3home.py):
one process, one mirror. Under a distributed executor every step runs in its own process, possibly on another
machine, so each step pulls what other steps published before it starts and pushes what it wrote when it ends:

- `pull`: every object under the synced folders whose ETag differs from the one this mirror last saw is
  downloaded; local files under those folders that are no longer on S3 (deleted by another step) are removed.
  A changed object of the same size is downloaded again (the whole-run mirror compares sizes only).
- `push`: every file written or changed since the pull is uploaded (each PUT is atomic), every file the step
  deleted is deleted on S3. Only the step's own changes travel, so steps running side by side on two workers
  never overwrite each other's outputs.

The index (key → ETag, local size and mtime) lives in the mirror as `.lingtan-sync.json`; one mirror serves one
step at a time (`StepSync` holds an exclusive lock on it from pull to push).

The warehouse is not pulled: it has one writer, the worker of the warehouse queue, which keeps its build on its
own disk (docs/distributed.md). Its published file `warehouse/lingtan.duckdb` is pushed, so readers elsewhere
can fetch the last published warehouse.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.s3home import SYNCED, mirror_dir
from orchestration.lib.storage import s3_client, split_s3

PUBLISHED_WAREHOUSE = "warehouse/lingtan.duckdb"
INDEX = ".lingtan-sync.json"
LOCK = ".lingtan-sync.lock"


def _local_state(p: Path) -> list[int]:
    st = p.stat()
    return [st.st_size, st.st_mtime_ns]


def _synced(rel: str) -> bool:
    parts = rel.split("/")
    return (
        rel.startswith(tuple(f"{s}/" for s in SYNCED))
        and ".." not in parts
        and not any(x.startswith(".") for x in parts)
    )


@dataclass
class StepSync:
    """Pull before a step, push after it: `uri` is the S3 home, the mirror is $LINGTAN_CACHE/<bucket>/<prefix>."""

    uri: str
    root: Path = field(init=False)
    index: dict[str, dict] = field(default_factory=dict)  # rel → {"etag": str, "local": [size, mtime_ns]}
    _lock: int | None = None

    def __post_init__(self) -> None:
        self.root = mirror_dir(self.uri)
        self.bucket, self.prefix = split_s3(self.uri)
        self.client = s3_client()

    def _key(self, rel: str) -> str:
        return "/".join(x for x in (self.prefix, rel) if x)

    def _load_index(self) -> None:
        path = self.root / INDEX
        self.index = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def _save_index(self) -> None:
        tmp = self.root / f"{INDEX}.tmp"
        tmp.write_text(json.dumps(self.index, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.root / INDEX)

    def _remote(self) -> dict[str, str]:
        """rel → ETag of every synced object of the home."""
        start = f"{self.prefix}/" if self.prefix else ""
        out: dict[str, str] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for obj in page.get("Contents", []):
                rel = obj["Key"][len(start) :]
                if _synced(rel):
                    out[rel] = obj["ETag"]
        return out

    def _local(self) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for sub in SYNCED:
            base = self.root / sub
            if base.exists():
                for p in base.rglob("*"):
                    rel = p.relative_to(self.root).as_posix()
                    if p.is_file() and _synced(rel):
                        out[rel] = p
        return out

    def lock(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock = fd

    def unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def pull(self) -> tuple[int, int]:
        """Bring the mirror to the home's current state; returns (files downloaded, local files removed)."""
        self._load_index()
        remote, local = self._remote(), self._local()
        got = removed = 0
        for rel, etag in sorted(remote.items()):
            seen = self.index.get(rel)
            path = self.root / rel
            if seen and seen["etag"] == etag and rel in local and _local_state(path) == seen["local"]:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.part")
            self.client.download_file(self.bucket, self._key(rel), str(tmp))
            os.replace(tmp, path)
            self.index[rel] = {"etag": etag, "local": _local_state(path)}
            got += 1
        for rel, path in local.items():
            if rel not in remote:
                path.unlink()
                removed += 1
        for rel in [r for r in self.index if _synced(r) and r not in remote]:
            del self.index[rel]
        self._save_index()
        return got, removed

    def push(self) -> tuple[int, int]:
        """Upload what the step wrote or changed, delete what it deleted; returns (uploaded, deleted)."""
        local = self._local()
        published = self.root / PUBLISHED_WAREHOUSE
        if published.exists():
            local[PUBLISHED_WAREHOUSE] = published
        sent = deleted = 0
        for rel, path in sorted(local.items()):
            seen = self.index.get(rel)
            state = _local_state(path)
            if seen and seen["local"] == state:
                continue
            self.client.upload_file(str(path), self.bucket, self._key(rel))
            etag = self.client.head_object(Bucket=self.bucket, Key=self._key(rel))["ETag"]
            self.index[rel] = {"etag": etag, "local": state}
            sent += 1
        for rel in sorted(r for r in self.index if r not in local):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(rel))
            del self.index[rel]
            deleted += 1
        self._save_index()
        return sent, deleted
