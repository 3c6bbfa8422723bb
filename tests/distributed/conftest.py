"""Redis on 127.0.0.1 and Celery workers as subprocesses of the test (the distributed tests, docs/distributed.md).
Redis comes from Debian's `redis-server` (`make test-distributed` installs it when missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, _free_port

CELERY = Path(sys.prefix) / "bin" / "celery"


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            "redis-server not found: `make test-distributed` installs it (apt-get install redis-server)"
        )
    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "redis.log", "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            if client.ping():
                return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"redis-server did not answer on 127.0.0.1:{port}: {(workdir / 'redis.log').read_text()}")


def start_worker(name: str, queues: list[str], env: dict[str, str], workdir: Path) -> subprocess.Popen:
    """One Celery worker (concurrency 1) with the repo's interpreter; its own mirror of the S3 home
    ($LINGTAN_CACHE under `workdir`), as if on its own machine."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "orchestration.distributed.worker",
            "worker",
            "-Q",
            ",".join(queues),
            "-c",
            "1",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "LINGTAN_CACHE": str(workdir / "mirror")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for_workers(broker: str, names: list[str], timeout: float = 120.0) -> None:
    from celery import Celery

    app = Celery(broker=broker, backend=broker)
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        seen = {host.split("@")[0] for reply in replies for host in reply}
        if set(names) <= seen:
            return
        time.sleep(0.5)
    pytest.fail(f"celery workers {names} not ready after {timeout} s (answered: {sorted(seen)})")


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def redis_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    stop(proc)
