"""The publish of a home with locked periods: the patched copy lives in a held staging folder, so a run killed
while it patches leaves nothing in the warehouse folders once the next run has swept (it used to leave a
`.locked-*.duckdb` beside the build, never removed)."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestration.lib import locks, restatements
from orchestration.lib.home import Home
from orchestration.lib.publish import staging, sweep_staging
from tests.test_period_lock import _warehouse


@pytest.fixture
def locked_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Home, Path]:
    home = Home(tmp_path / "home")
    _warehouse(home.warehouse)
    no_inputs = {"source": "test", "input_files": {}, "reference_seeds": {}}
    monkeypatch.setattr(locks, "_published_inputs", lambda h: no_inputs)
    locks.lock(home, "A", 2025, "alice", "verified")
    build = home.warehouse_dir / "build" / "lingtan.duckdb"
    _warehouse(build, scale=2.0)
    return home, build


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_patched_copy_is_made_in_the_stage(locked_home: tuple[Home, Path]) -> None:
    home, build = locked_home
    before = _files(build.parent)
    with staging(home.warehouse_staging) as stage:
        published, [done] = restatements.apply_locks(home, build, "run-1", stage)
        assert published.parent == stage and done.values_changed == 2
    assert _files(build.parent) == before  # nothing beside the build
    assert not home.warehouse_staging.exists() or not any(home.warehouse_staging.iterdir())


def test_a_kill_while_patching_is_swept_by_the_next_run(locked_home: tuple[Home, Path]) -> None:
    home, build = locked_home
    before = _files(build.parent)
    # A child patches the locked periods in a held stage and is killed before the rename (SIGKILL: no cleanup).
    child = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from orchestration.lib import locks, restatements
        from orchestration.lib.home import Home
        from orchestration.lib.publish import staging
        locks._published_inputs = lambda h: {{"source": "test", "input_files": {{}}, "reference_seeds": {{}}}}
        home = Home(Path({str(home.root)!r}))
        with staging(home.warehouse_staging) as stage:
            restatements.apply_locks(home, Path({str(build)!r}), "run-k", stage)
            print(stage, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=Path(__file__).parents[2]
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    stage = Path(proc.stdout.strip())
    assert any(stage.glob("locked-*")), "the child did not get as far as the copy"
    removed = sweep_staging(home)
    assert stage in removed and not stage.exists()
    assert _files(build.parent) == before
    assert not any(p.name.startswith(("locked-", ".locked-")) for p in home.root.rglob("*.duckdb"))
