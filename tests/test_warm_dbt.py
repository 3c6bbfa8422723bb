"""The dbt forked ahead of the nightly's dbt step (orchestration/lib/warm_dbt.py): `lingtan-dbt` hands it its
command and gets dbt's own output and exit code; signals reach it; a killed caller takes it down; an unused one
is stopped and reaped. (The nightly end to end uses it in every `lingtan run`: tests/test_end_to_end.py checks
its log line.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.lib import warm_dbt
from orchestration.lib.child import WARM_ENV

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux abstract sockets and fork"
)

BIN = Path(sys.executable).parent


def _client(args: list[str], address: str | None, tmp_path: Path, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != WARM_ENV}
    if address:
        env[WARM_ENV] = address
    return subprocess.Popen(
        [str(BIN / "lingtan-dbt"), *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kw,
    )


def _fork_status(pid: int, timeout: float = 20.0) -> int | None:
    """The fork's wait status once it ended (None: still running after `timeout`)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    return None


def test_the_command_runs_in_the_fork_with_dbts_output_and_exit_code(tmp_path: Path) -> None:
    plain = _client(["--version"], None, tmp_path)
    plain_out = plain.communicate(timeout=120)[0]
    with warm_dbt.ahead() as address:
        assert address is not None and warm_dbt.address() == address
        fork = warm_dbt._warm[1]  # type: ignore[index]
        warm = _client(["--version"], address, tmp_path)
        warm_out = warm.communicate(timeout=120)[0]
        assert warm.returncode == plain.returncode == 0
        assert warm_out == plain_out and b"Core:" in warm_out
        assert _fork_status(fork) is not None  # one command per fork: it ended with it
        assert warm_dbt.address() is None
        # a second command finds no warm dbt and starts dbt itself, with the same result
        again = _client(["--version"], address, tmp_path)
        assert again.communicate(timeout=120)[0] == plain_out


def test_a_failing_command_gives_dbts_exit_code(tmp_path: Path) -> None:
    args = ["parse", "--project-dir", str(tmp_path / "no-such-project")]
    plain = _client(args, None, tmp_path)
    plain.communicate(timeout=120)
    with warm_dbt.ahead() as address:
        warm = _client(args, address, tmp_path)
        out = warm.communicate(timeout=120)[0]
    assert plain.returncode == warm.returncode != 0, out


def _waiting_init(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """`dbt init` in the fork, blocked at its first question (its stdin is the caller's pipe)."""
    address = warm_dbt.start()
    assert address is not None
    fork = warm_dbt._warm[1]  # type: ignore[index]
    proc = _client(["init"], address, tmp_path, stdin=subprocess.PIPE)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen, end = b"", time.monotonic() + 60
    while b"name for your project" not in seen and time.monotonic() < end:
        seen += proc.stdout.read() or b""
        time.sleep(0.05)
    assert b"name for your project" in seen, seen
    return proc, fork


def test_an_interrupt_reaches_the_fork(tmp_path: Path) -> None:
    try:
        proc, fork = _waiting_init(tmp_path)
        proc.send_signal(signal.SIGINT)  # what dagster-dbt sends on a cancelled step
        assert proc.wait(timeout=30) != 0
        status = _fork_status(fork)
        assert status is not None and os.WIFEXITED(status)  # dbt ended by itself, after the interrupt
    finally:
        warm_dbt.stop()


def test_a_killed_caller_takes_the_fork_down(tmp_path: Path) -> None:
    try:
        proc, fork = _waiting_init(tmp_path)
        proc.kill()
        proc.wait(timeout=30)
        status = _fork_status(fork)
        assert status is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    finally:
        warm_dbt.stop()


def test_an_unused_fork_is_stopped_and_reaped() -> None:
    with warm_dbt.ahead() as address:
        assert address is not None
        fork = warm_dbt._warm[1]  # type: ignore[index]
    with pytest.raises(ChildProcessError):
        os.waitpid(fork, os.WNOHANG)  # reaped already: no zombie left
    assert warm_dbt.address() is None
    with warm_dbt.ahead(False) as none:
        assert none is None and warm_dbt.address() is None
