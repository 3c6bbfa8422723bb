"""Write-audit-publish, the one way a stage (raw, computed, reports) makes its outputs visible: write into a fresh
staging folder, run the stage's gate on what is staged, then promote each staged path into place with one
atomic rename. Nothing a reader can see changes before the gate has passed, and a killed run leaves only its
staging folder behind (removed at the end of the block, or by the next `staging(..., sweep=True)`).

The stage's own records of the gate (the raw lake's file ledger and quarantine) are promoted whatever the
verdict, so a blocked drop is visible with its reasons.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from expectations.gate import Gate

Move = tuple[Path, Path]  # (staged path, published path)


@contextmanager
def staging(root: Path, run: str | None = None, *, sweep: bool = False) -> Iterator[Path]:
    """A fresh folder `root/<run>` (a random name by default) to stage into; removed when the block ends.
    `sweep`: also remove what earlier runs left under `root` (a stage whose runs never overlap)."""
    if sweep:
        shutil.rmtree(root, ignore_errors=True)
    path = root / (run or uuid.uuid4().hex[:12])
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        shutil.rmtree(root if sweep else path, ignore_errors=True)


def promote(src: Path, dst: Path, *, replace: bool = True) -> Path:
    """One atomic rename from staging into the published tree (same file system). `replace=False` refuses
    to replace an existing non-empty folder (an immutable report version)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if replace:
        os.replace(src, dst)
    else:
        os.rename(src, dst)
    return dst


def publish(gate: Gate, moves: Iterable[Move], always: Iterable[Move] = (), *, replace: bool = True) -> Gate:
    """Promote `moves` only when `gate` passed, then `always` (the gate's records) whatever it says."""
    if gate.passed:
        for src, dst in moves:
            promote(src, dst, replace=replace)
    for src, dst in always:
        promote(src, dst, replace=replace)
    return gate
