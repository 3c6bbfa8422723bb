"""Disk full at several points of a run (issue 11, scope 3): the home on a small tmpfs, filled to the last byte
the moment a stage is seen at work (watched from outside, no hook in the product), one run per point, on one
home with a correcting drop pending:

- before the run starts, 256 kB left (whichever write of an output comes first fails);
- while the engines write computed Parquet (a table staged under `lake/staging/computed/<run>/`);
- while dbt writes the warehouse build (the dbt child running and its DuckDB file there);
- while the reports are written (the reports step started).

Each time the run fails with one `error:` line naming the full disk (no traceback); what the stages after the
full one publish is byte-identical to before the run; the full stage held its outputs back (each of its files is
the old one or the one the completed run publishes: its engines publish one by one); everything published is
readable. Then the disk is freed and one run completes, leaving no staging behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from tests.reliability.test_faults import LINGTAN, _env
from tests.reliability.test_kills import _leftovers, _state, _Watch

FIX_DATE = "2024-02-02"
# stage → what it publishes (a disk-full failure at a stage leaves these and every later stage's untouched)
PUBLISHED = {
    "ingest": ("lake/raw",),
    # the tables, a table stored by month as its folder of parts (an engine forgets its stamp before recomputing)
    "engines": ("lake/computed/*.parquet", "lake/computed/[!_]*/part-*.parquet"),
    "dbt": ("warehouse/lingtan.duckdb",),
    "reports": ("reports",),
}
ORDER = list(PUBLISHED)


def _bytes(home: Path, parts: tuple[str, ...]) -> dict[str, str]:
    files: list[Path] = []
    for part in parts:
        files += [q for q in home.glob(part) if q.is_file()] or [
            q for q in home.glob(f"{part}/**/*") if q.is_file()
        ]
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def _fill(disk: Path, keep: int = 0) -> None:
    """Write zeros until the file system refuses one more byte (or has only `keep` bytes left)."""
    fd = os.open(disk / "ballast", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        if keep:
            os.write(fd, b"\0" * max(shutil.disk_usage(disk).free - keep, 0))
            return
        for size in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(fd, chunk)
            except OSError:
                pass
    finally:
        os.close(fd)


class _DiskWatch(_Watch):
    def reached(self, point: str) -> bool:
        if point == "before":
            return True
        if point == "dbt":  # dbt is running and writing the warehouse build
            build = self.home / "warehouse" / "build" / "lingtan.duckdb"
            return super().reached("dbt") and build.exists()
        if point == "reports":
            return self._log_has('reports: Started execution of step "reports"')
        return super().reached(point)


def _run_filling(
    landing: Path, home: Path, disk: Path, point: str
) -> tuple[subprocess.CompletedProcess, bool]:
    """A run whose disk fills up the moment `point` is seen; returns the run and whether the point was seen."""
    cmd = [*LINGTAN, "run", "--landing", str(landing), "--home", str(home), "--date", FIX_DATE]
    if point == "before":
        _fill(disk, keep=256 * 1024)  # room for the run's first log lines, not for its outputs
    elif point == "engines":
        _fill(disk, keep=32 << 20)  # room for ingestion; the rest fills in a moment once the engines write
    proc = subprocess.Popen(cmd, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch, seen = _DiskWatch(home, psutil.Process(proc.pid)), point == "before"
    deadline = time.monotonic() + 600
    while not seen and proc.poll() is None and time.monotonic() < deadline:
        if watch.reached(point):
            _fill(disk)
            seen = True
        time.sleep(0.02)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), seen


def test_disk_full_at_each_stage_fails_in_one_line_and_keeps_the_published_state(example_run, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(disk)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {mount.stderr.decode().strip()}")
    try:
        clean_landing, clean_home = example_run("cement")
        landing, home = tmp_path / "landing", disk / "home"
        shutil.copytree(clean_landing, landing)
        # the clean run's home, but its dbt build made afresh here (the build's views name their home's files)
        shutil.copytree(clean_home.root, home, ignore=shutil.ignore_patterns("build"))
        # a correcting drop the next night: every stage has something to publish
        fix = landing / "production" / FIX_DATE / "production.csv"
        fix.parent.mkdir(parents=True)
        original = (landing / "production" / "2024-02-01" / "production.csv").read_text()
        fix.write_text(original.replace("1321052.6315789474", "1400000"))

        outcomes, seen_states = {}, []
        for point in ("before", "engines", "dbt", "reports"):
            before = {stage: _bytes(home, parts) for stage, parts in PUBLISHED.items()}
            run, seen = _run_filling(landing, home, disk, point)
            (disk / "ballast").unlink()
            assert seen, f"the run ended before {point} was seen: {run.stdout[-2000:]}{run.stderr[-2000:]}"
            said = run.stdout + run.stderr
            assert run.returncode == 1, f"disk full at {point}: exit {run.returncode}\n{said[-3000:]}"
            errors = [line for line in said.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and "Traceback" not in said, f"disk full at {point}:\n{said[-3000:]}"
            assert "no space left" in errors[0].lower() or "disk" in errors[0].lower(), errors[0]
            _state(home)  # everything published is readable (raw and computed Parquet, marts, report files)
            after = {stage: _bytes(home, parts) for stage, parts in PUBLISHED.items()}
            seen_states.append((point, before, after))
            outcomes[point] = errors[0]

        # the disk freed, the run completes and leaves no staging and no half-written file
        done = subprocess.run(
            [*LINGTAN, "run", "--landing", str(landing), "--home", str(home), "--date", FIX_DATE],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert not _leftovers(home), _leftovers(home)
        final = {stage: _bytes(home, parts) for stage, parts in PUBLISHED.items()}

        # After each failure: what the stages after the full one publish is byte-identical to before the run.
        # The full stage itself published nothing half-written: each of its files is the old one or the one the
        # completed run publishes (its engines publish one by one: one that finished before the disk filled
        # published whole), and it held something back.
        for point, before, after in seen_states:
            failed = ORDER.index("ingest" if point == "before" else point)
            for stage in ORDER[failed + 1 :]:
                assert after[stage] == before[stage], f"disk full at {point}: {stage} changed"
            stage = ORDER[failed]
            mixed = {
                k: v for k, v in after[stage].items() if v not in (before[stage].get(k), final[stage].get(k))
            }
            assert not mixed, f"disk full at {point}: {stage} neither old nor new: {sorted(mixed)[:5]}"
            assert after[stage] != final[stage], f"disk full at {point}: {stage} published all it had"
            if point == "before":
                assert after[stage] == before[stage], "disk full before the run: ingestion published"
        print("disk full:", outcomes)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _sqlite_full() -> Exception:
    try:
        raise sqlite3.OperationalError("database or disk is full")
    except sqlite3.Error as e:
        try:
            raise RuntimeError("could not store the event") from e
        except RuntimeError as wrapped:
            return wrapped


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device", "/home/x.parquet"), _sqlite_full()],
    ids=["ENOSPC", "sqlite-full-as-a-cause"],
)
def test_a_full_disk_anywhere_in_the_cause_chain_is_one_actionable_line(error, monkeypatch, tmp_path):
    import orchestration.demo as demo
    from orchestration.cli import app

    def full(*_a, **_k):
        raise error

    monkeypatch.setattr(demo, "generate", full)
    out = CliRunner().invoke(app, ["demo", "--landing", str(tmp_path / "l")])
    lines = out.output.strip().splitlines()
    assert out.exit_code == 1 and len(lines) == 1, out.output
    assert lines[0].startswith("error: the disk is full (no space left on device"), lines[0]
    assert "free space" in lines[0] and "Traceback" not in out.output
