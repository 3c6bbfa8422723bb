"""Staging folders (orchestration/lib/publish.py): owned by the process that stages (a `flock` the kernel drops when
that process dies), swept when their run died, removed with every folder they leave empty.

Issue 11 found "every run leaves 17 empty staging folders" and "staged computed Parquet files stayed behind for
good" after a kill -9; the end-to-end kill test is tests/reliability/test_kills.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.lib.home import Home
from orchestration.lib.publish import staging, sweep_orphans, sweep_staging


def _dirs(root: Path) -> list[str]:
    return (
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()) if root.exists() else []
    )


def test_every_run_leaves_no_empty_staging_folders(example_run):
    """The defect: a successful run left one empty folder per dataset under lake/staging, plus `computed`."""
    home = example_run("cement")[1]
    assert home.warehouse.exists() and any(home.reports.iterdir())  # the run staged, published and ended
    for area in (home.staging, home.reports_staging, home.warehouse_staging):
        assert not area.exists(), f"{area} left behind: {_dirs(area)[:10]}"


def test_staging_removes_its_folder_and_the_emptied_staging_folders(tmp_path):
    home = Home(tmp_path / "home")
    with staging(home.staging / "products", "run1") as stage:
        (stage / "history").mkdir()
        (stage / "history" / "a.parquet").write_bytes(b"x")
        with staging(home.staging / "computed") as other:  # another stage of the same home meanwhile
            assert other.parent == home.staging / "computed"
        assert _dirs(home.staging) == ["products", "products/run1", "products/run1/history"]
    assert not home.staging.exists() and home.lake.is_dir()  # the area goes, the lake stays


def _holder(root: Path, name: str) -> subprocess.Popen:
    """Another process that stages under `root/name` and stays inside the block until killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from orchestration.lib.publish import staging
        with staging(Path({str(root)!r}), {name!r}) as stage:
            (stage / "part.parquet").write_bytes(b"half")
            print("staged", flush=True)
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "staged"
    return proc


def test_a_live_run_s_staging_is_kept_and_a_killed_run_s_is_swept(tmp_path):
    root = tmp_path / "lake" / "staging" / "computed"
    live, dead = _holder(root, "live"), _holder(root, "dead")
    try:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(timeout=10)
        (root / ".current.parquet.x1.tmp").write_bytes(b"cut")  # a write cut short outside a run folder
        assert sorted(p.name for p in sweep_orphans(root)) == [".current.parquet.x1.tmp", "dead"]
        assert (root / "live" / "part.parquet").read_bytes() == b"half"  # its owner is alive: never swept
        with staging(root) as mine:  # a new stage sweeps too, and never takes the live one's folder
            assert mine.is_dir() and (root / "live").is_dir()
    finally:
        live.kill()
        live.wait(timeout=10)
    home = Home(tmp_path)
    assert [p.name for p in sweep_staging(home)] == ["live"] and not home.staging.exists()


def test_a_sweep_at_run_start_clears_every_staging_area_of_the_home(tmp_path):
    home = Home(tmp_path)
    for area in (home.staging / "exports" / "r1", home.staging / "computed" / "r2"):
        area.mkdir(parents=True)
        (area / "x.parquet").write_bytes(b"half")
    (home.reports_staging / "run" / "summary").mkdir(parents=True)
    home.warehouse_staging.mkdir(parents=True)
    (home.warehouse_staging / "w").mkdir()
    (home.warehouse_staging / "w" / "lingtan.duckdb").write_bytes(b"half a copy")
    removed = sweep_staging(home)
    assert len(removed) == 4
    assert (
        not home.staging.exists()
        and not home.reports_staging.exists()
        and not home.warehouse_staging.exists()
    )
    assert home.warehouse_dir.is_dir() and home.reports.is_dir()


def test_a_staged_folder_replaces_a_published_one_whole(tmp_path: Path, monkeypatch) -> None:
    """A table stored as parts is published by exchanging the staged folder with the published one (Linux
    `renameat2(RENAME_EXCHANGE)`, else two renames): the published folder then holds exactly the staged parts,
    and the old ones are gone with the stage."""
    from orchestration.lib import publish as pub

    for exchange in (pub._renameat2, None):
        monkeypatch.setattr(pub, "_renameat2", exchange)
        root = tmp_path / ("renameat2" if exchange else "renames")
        published, staged = root / "raw/exports/current", root / "stage/current"
        for folder, names in ((published, ["part-00000", "part-00001"]), (staged, ["part-00000"])):
            folder.mkdir(parents=True)
            for n in names:
                (folder / f"{n}.parquet").write_text(f"{folder.parent.name} {n}")
        pub.promote(staged, published)
        assert [p.name for p in published.iterdir()] == ["part-00000.parquet"]
        assert (published / "part-00000.parquet").read_text() == "stage part-00000"
        assert not staged.exists() and sorted(p.name for p in published.parent.iterdir()) == ["current"]
