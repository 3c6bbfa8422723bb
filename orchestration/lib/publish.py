"""Write-audit-publish, the one way a stage (raw, computed, warehouse, reports) makes its outputs visible: write
into a fresh staging folder, run the stage's gate on what is staged, then promote each staged path into place with
one atomic rename. Nothing a reader can see changes before the gate has passed.

Staging folders are owned: the process that stages holds an exclusive `flock` on its folder for as long as it
uses it, and the kernel drops the lock when that process dies, SIGKILL included. So a folder whose lock can be
taken belongs to a run that died, and is removed: by every later `staging()` under the same root, and by
`sweep_staging(home)` when a run starts (orchestration/pipeline.py). A run that ends normally removes its own
folder, and every staging folder left empty (`lake/staging/<dataset>/`, `lake/staging/` itself) goes with it: a
home holds no staging at rest.

The stage's own records of the gate (the raw lake's file ledger and quarantine) are promoted whatever the
verdict, so a blocked drop is visible with its reasons.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from expectations.gate import Gate

if TYPE_CHECKING:
    from orchestration.lib.home import Home

Move = tuple[Path, Path]  # (staged path, published path)
STAGING_NAMES = (
    "staging",
    ".staging",
)  # the top of a staging area (Home.staging_areas): emptied folders stop there


class StagingBusy(Exception):
    """A staging folder of that name is held by a live process."""


def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _claim(path: Path) -> int:
    """Create `path` and hold its lock; returns the open folder (closing it releases the lock). A sweep may
    remove the folder between its creation and the lock: then the locked inode is no longer `path`, try again."""
    for _ in range(10):
        with suppress(FileNotFoundError):  # an emptied parent removed by another run's cleanup meanwhile
            path.mkdir(parents=True, exist_ok=True)
            fd = _open_dir(path)
            if not _try_lock(fd):
                os.close(fd)
                raise StagingBusy(f"staging folder {path} is in use by another process")
            try:
                if os.path.samestat(os.fstat(fd), os.stat(path)):
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)
    raise StagingBusy(f"staging folder {path} kept disappearing (another process sweeping it)")


def sweep_orphans(root: Path) -> list[Path]:
    """Remove the folders under `root` no live process holds (what killed runs left); returns them."""
    removed = []
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        path = Path(entry.path)
        if not entry.is_dir(follow_symlinks=False):
            if entry.name.endswith(".tmp"):  # a staged write cut short outside a run folder
                path.unlink(missing_ok=True)
                removed.append(path)
            continue
        try:
            fd = _open_dir(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            if _try_lock(fd):  # nobody holds it: its run died (or ended between listing and locking)
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


def remove_empty(root: Path) -> None:
    """Remove `root` and then its parents while they are empty, up to the top of the staging area (a folder
    named like `STAGING_NAMES`); a folder outside any staging area is removed only when empty itself."""
    for path in (root, *root.parents):
        try:
            path.rmdir()
        except OSError:  # not empty (another run stages there), or already gone
            if path.exists():
                return
        if path.name in STAGING_NAMES or not any(p.name in STAGING_NAMES for p in path.parents):
            return


def sweep_staging(home: Home) -> list[Path]:
    """At the start of a run: remove every staging folder of the home that no live process holds, and the
    staging folders left empty. Returns what was removed."""
    removed: list[Path] = []
    for root in home.staging_roots():
        removed += sweep_orphans(root)
        remove_empty(root)
    return removed


@contextmanager
def staging(root: Path, run: str | None = None, *, sweep: bool = True) -> Iterator[Path]:
    """A fresh folder `root/<run>` (a random name by default) to stage into, locked by this process; removed
    when the block ends, with `root` and its staging parents when they are left empty. `sweep` (the default):
    first remove the folders under `root` whose runs died."""
    if sweep:
        sweep_orphans(root)
    path = root / (run or uuid.uuid4().hex[:12])
    fd = _claim(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
        remove_empty(root)


def promote(src: Path, dst: Path, *, replace: bool = True) -> Path:
    """One atomic rename from staging into the published tree (same file system). A staged folder replaces a
    published one by exchanging the two (`_exchange`; a table stored as parts). `replace=False` refuses to
    replace an existing non-empty folder (an immutable report version)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not replace:
        os.rename(src, dst)
    elif src.is_dir() and dst.is_dir():
        _exchange(src, dst)
        shutil.rmtree(src)  # the published folder as it was, now at the staged path
    else:
        os.replace(src, dst)
    return dst


_RENAME_EXCHANGE, _AT_FDCWD = 2, -100
try:  # glibc ≥ 2.28; elsewhere (another libc, another system) the two renames below
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (AttributeError, OSError, TypeError):
    _renameat2 = None


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (Linux `renameat2(RENAME_EXCHANGE)`): a reader sees the old folder or the
    new one, never a mix of their files nor neither. Where the system has no such call, two renames: for an
    instant the published folder is missing (a reader finds no table rather than a mixed one)."""
    if (
        _renameat2 is not None
        and _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0
    ):
        return
    aside = b.with_name(f".{b.name}.{uuid.uuid4().hex[:8]}")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


def publish(gate: Gate, moves: Iterable[Move], always: Iterable[Move] = (), *, replace: bool = True) -> Gate:
    """Promote `moves` only when `gate` passed, then `always` (the gate's records) whatever it says."""
    if gate.passed:
        for src, dst in moves:
            promote(src, dst, replace=replace)
    for src, dst in always:
        promote(src, dst, replace=replace)
    return gate
