"""Where lingtan reads and writes: the landing zone (local folder or S3) and the home (lake, warehouse,
reports, run records).

Landing paths inside the zone are always `<dataset>/<YYYY-MM-DD>/<file>`; a key that does not stay inside the
zone (`..`, absolute, empty segments) is never read and is reported with a reason. Writes to the home are
atomic: a file is written next to its target and renamed over it, so a reader sees the old or the new file,
never half of one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

import polars as pl

from transforms.ingest.base import MAX_FILE_BYTES, too_large

DROP_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class LandingFile:
    dataset: str
    drop_date: date | None  # None when the file is not inside a YYYY-MM-DD folder
    rel_path: str  # path within the landing zone, "/"-separated
    size: int
    change_token: str  # cheap change detector (S3 ETag, or mtime+size locally)
    problem: str | None = None  # why the file cannot be taken (unsafe key, wrong layout)


def safe_rel_path(rel: str) -> str | None:
    """None when a relative key would escape the zone or is not a plain path."""
    if not rel or rel.startswith("/") or "\\" in rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return rel


def _classify(rel: str, size: int, token: str, problem: str | None = None) -> LandingFile | None:
    """What a listed path is: a file to read, an entry to record as rejected (`problem`), or nothing (hidden
    files, manifests). `problem` comes from the listing itself (a symbolic link, not a regular file)."""
    parts = rel.split("/")
    dataset = parts[0]
    if dataset.startswith(("_", ".")) or (len(parts) < 2 and problem is None):
        return None  # manifests, hidden files and files at the root are not data
    hidden = parts[-1].startswith((".", "~$")) and parts[-1] not in (".", "..")
    if problem is not None:
        return None if hidden else LandingFile(dataset, None, rel, size, token, problem)
    if safe_rel_path(rel) is None:
        return LandingFile(
            dataset,
            None,
            rel,
            size,
            token,
            "the object key leaves its folder ('..' or empty path segment); rename it under "
            "<dataset>/<YYYY-MM-DD>/",
        )
    if len(parts) != 3 or not DROP_DIR.match(parts[1]):
        return LandingFile(
            dataset,
            None,
            rel,
            size,
            token,
            "file is not inside a <dataset>/<YYYY-MM-DD>/ drop folder; move it into one",
        )
    try:
        d = date.fromisoformat(parts[1])
    except ValueError:
        return LandingFile(dataset, None, rel, size, token, f"drop folder '{parts[1]}' is not a real date")
    if hidden:
        return None  # editor lock files and hidden files inside a drop
    if (big := too_large(size)) is not None:
        return LandingFile(dataset, None, rel, size, token, big)
    return LandingFile(dataset, d, rel, size, token)


SYMLINK_PROBLEM = (
    "symbolic link: lingtan never follows links in the landing zone (it could point outside it); copy the "
    "file or folder itself into the drop folder"
)


class Landing:
    """A landing zone. `Landing.open(uri)` → local folder or S3 prefix."""

    uri: str

    @staticmethod
    def open(uri: str) -> Landing:
        if uri.startswith("s3://"):
            return S3Landing(uri)
        return LocalLanding(Path(uri))

    def files(self) -> Iterator[LandingFile]:
        raise NotImplementedError

    def read(self, rel_path: str) -> bytes:
        raise NotImplementedError

    def write(self, rel_path: str, data: bytes) -> None:
        raise NotImplementedError


class LocalLanding(Landing):
    def __init__(self, root: Path):
        self.root = root
        self.uri = str(root)

    def files(self) -> Iterator[LandingFile]:
        """Regular files under the root, walked without following symbolic links: a link (to a file or a
        folder) and any other non-regular entry (FIFO, socket, device) is listed with its problem, never
        opened."""
        if not self.root.exists():
            return
        found: list[tuple[str, os.stat_result, str | None]] = []
        stack = [self.root]
        while stack:
            folder = stack.pop()
            with os.scandir(folder) as it:
                for entry in it:
                    st = entry.stat(follow_symlinks=False)
                    rel = Path(entry.path).relative_to(self.root).as_posix()
                    if entry.is_symlink():
                        found.append((rel, st, SYMLINK_PROBLEM))
                    elif entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        found.append((rel, st, None))
                    else:
                        found.append((rel, st, "not a regular file (a pipe, socket or device); drop a file"))
        for rel, st, problem in sorted(found, key=lambda x: x[0]):
            f = _classify(rel, st.st_size, f"{st.st_mtime_ns}:{st.st_size}", problem)
            if f:
                yield f

    def read(self, rel_path: str) -> bytes:
        """The file's bytes; refuses a path through a symbolic link or to anything but a regular file (the
        listing already reports those; this guards against a link swapped in after listing)."""
        if safe_rel_path(rel_path) is None:
            raise ValueError(f"unsafe landing path {rel_path!r}")
        folder = self.root
        for part in rel_path.split("/")[:-1]:
            folder = folder / part
            if folder.is_symlink():
                raise ValueError(f"{rel_path}: {SYMLINK_PROBLEM}")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.root / rel_path, flags)
        except OSError as e:
            if (self.root / rel_path).is_symlink():
                raise ValueError(f"{rel_path}: {SYMLINK_PROBLEM}") from None
            raise ValueError(f"{rel_path}: cannot be opened ({e.strerror})") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ValueError(f"{rel_path}: not a regular file")
            data = f.read(MAX_FILE_BYTES + 1)  # bounded: the file may have grown since it was listed
            if (big := too_large(len(data))) is not None:
                raise ValueError(big)
            return data

    def write(self, rel_path: str, data: bytes) -> None:
        target = self.root / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)


S3_ATTEMPTS = 8  # per request: 500/503/throttling/connection errors retried with jittered exponential backoff
S3_READ_ATTEMPTS = 4  # a body cut short after the response started (connection reset) is fetched again


def s3_client():
    import boto3
    from botocore.config import Config

    # Standard retry mode retries HTTP 500/502/503/504, throttling and connection errors with backoff;
    # AWS_MAX_ATTEMPTS / AWS_RETRY_MODE in the environment still win (botocore reads them).
    retries = {
        "mode": os.environ.get("AWS_RETRY_MODE", "standard"),
        "total_max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS") or S3_ATTEMPTS),
    }
    config = Config(retries=retries, connect_timeout=10, read_timeout=60)  # type: ignore[arg-type]
    # boto3 honours AWS_ENDPOINT_URL itself; passing it explicitly keeps older clients working too.
    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None, config=config)


def s3_get_bytes(client, bucket: str, key: str) -> bytes:
    """GET an object's bytes; botocore retries the request, but not a body cut off mid-stream: retry that."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import IncompleteReadError, ReadTimeoutError
    from urllib3.exceptions import ProtocolError

    for attempt in range(1, S3_READ_ATTEMPTS + 1):
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (IncompleteReadError, ReadTimeoutError, BotoConnectionError, ProtocolError):
            if attempt == S3_READ_ATTEMPTS:
                raise
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


class S3Landing(Landing):
    def __init__(self, uri: str):
        self.uri = uri
        self.bucket, self.prefix = split_s3(uri)
        self.client = s3_client()

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def files(self) -> Iterator[LandingFile]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/"):
                    continue
                f = _classify(key[len(start) :], obj["Size"], obj["ETag"].strip('"'))
                if f:
                    yield f

    def read(self, rel_path: str) -> bytes:
        if safe_rel_path(rel_path) is None:
            raise ValueError(f"unsafe landing key {rel_path!r}")
        return s3_get_bytes(self.client, self.bucket, self._key(rel_path))

    def write(self, rel_path: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(rel_path), Body=data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_parquet(df: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.write_parquet(tmp, compression="zstd", statistics=True)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def posix(*parts: str) -> str:
    return str(PurePosixPath(*parts))
