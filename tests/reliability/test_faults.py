"""Faults during a run, against one clean run of the same landing zone:

- SIGKILL while dbt builds: the dbt child dies with its parent, nothing half-built is published, and a rerun gives
  the same marts as the clean run;
- S3 answering 500/503, late, or cutting connections (a fault-injecting proxy in front of moto's server): the run
  retries and gives the same marts; when S3 keeps failing, the run fails in one line and publishes nothing;
- a planted secret (the AWS secret key) appears in no log, run record or Dagster event;
- disk full while a run writes: the previously published state stays intact.

One installation (the Commission cement example, a few dozen rows) keeps the runs short.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.outputs import mart_digests

DROP = "2024-02-01"
LINGTAN = [str(Path(sys.executable).with_name("lingtan"))]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINGTAN_", "DAGSTER_"))}
    return {**env, "LINGTAN_HOME": str(home), "NO_COLOR": "1"}


def _run(landing: Path, home: Path) -> subprocess.CompletedProcess:
    cmd = [*LINGTAN, "run", "--landing", str(landing), "--home", str(home), "--date", DROP]
    return subprocess.run(cmd, env=_env(home), capture_output=True, text=True, timeout=600)


def _dbt_children(proc: psutil.Process) -> list[psutil.Process]:
    found = []
    for c in proc.children(recursive=True):
        try:
            if any("dbt" in Path(part).name for part in c.cmdline()[:2]):
                found.append(c)
        except psutil.Error:
            pass
    return found


@pytest.fixture(scope="module")
def tiny_landing(example_run) -> Path:
    """The cement example's landing zone (one installation, a few dozen rows; shared, read-only)."""
    return example_run("cement")[0]


@pytest.fixture(scope="module")
def clean_digest(example_run) -> dict[str, str]:
    """The marts of an uninterrupted `lingtan run` of the same landing zone on a local home."""
    return mart_digests(example_run("cement")[1].warehouse)


def test_sigkill_during_dbt_kills_dbt_and_publishes_nothing_then_rerun_matches(
    tiny_landing, clean_digest, tmp_path
):
    killed = tmp_path / "killed"

    cmd = [*LINGTAN, "run", "--landing", str(tiny_landing), "--home", str(killed), "--date", DROP]
    proc = subprocess.Popen(cmd, env=_env(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    deadline, dbt = time.monotonic() + 300, []
    while time.monotonic() < deadline and proc.poll() is None and not dbt:
        dbt = _dbt_children(parent)
        time.sleep(0.2)
    assert dbt, "the run ended before dbt started: nothing to kill"
    time.sleep(1.0)  # dbt is building now
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(dbt, timeout=10)
    assert not alive, f"dbt outlived its killed parent: {[p.pid for p in alive]}"
    assert not (killed / "warehouse" / "lingtan.duckdb").exists(), "a half-built warehouse was published"

    rerun = _run(tiny_landing, killed)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert mart_digests(killed / "warehouse" / "lingtan.duckdb") == clean_digest
    leftovers = [p for p in (killed / "lake" / "staging").rglob("*") if p.is_file()]
    assert not leftovers, f"staged files left behind after the rerun: {leftovers[:5]}"


PLANTED_SECRET = "lingtanPlantedSecret0123456789abcdefXYZ"


def _upload(client, bucket: str, landing: Path) -> None:
    for p in sorted(landing.rglob("*")):
        if p.is_file():
            client.put_object(
                Bucket=bucket, Key=f"landing/{p.relative_to(landing).as_posix()}", Body=p.read_bytes()
            )


def _s3_run(bucket: str, endpoint: str, cache: Path, extra: dict[str, str] | None = None):
    env = {
        **_env(cache / "unused"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "lingtan-test",
        "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET,
        "LINGTAN_CACHE": str(cache),
        **(extra or {}),
    }
    env.pop("LINGTAN_HOME", None)
    cmd = [
        *LINGTAN,
        "run",
        "--landing",
        f"s3://{bucket}/landing",
        "--home",
        f"s3://{bucket}/home",
        "--date",
        DROP,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def test_s3_faults_are_retried_to_the_same_marts_and_no_secret_leaks(
    tiny_landing, clean_digest, s3_server, s3_bucket, tmp_path
):
    import boto3

    from tests.reliability.faultproxy import FaultProxy

    client = boto3.client("s3", endpoint_url=s3_server)
    _upload(client, s3_bucket, tiny_landing)
    rates = {"503": 0.08, "500": 0.05, "reset": 0.05, "slow": 0.05}
    with FaultProxy(s3_server, rates=rates, seed=3) as proxy:
        run = _s3_run(s3_bucket, proxy.url, tmp_path / "cache")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sum(proxy.injected.values()) >= 5 and set(proxy.injected) >= {"503", "500"}, proxy.injected
    mirror = tmp_path / "cache" / s3_bucket / "home"
    assert mart_digests(mirror / "warehouse" / "lingtan.duckdb") == clean_digest
    pushed = [o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket, Prefix="home/").get("Contents", [])]
    assert any(k.startswith("home/reports/") for k in pushed) and any(
        k.startswith("home/runs/") for k in pushed
    )

    # The secret is in the environment of the run: it must not be in anything the run wrote.
    secret = PLANTED_SECRET.encode()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in written) and any("dagster" in p.parts for p in written)
    leaked = [str(p) for p in written if secret in p.read_bytes()]
    leaked += [k for k in pushed if secret in client.get_object(Bucket=s3_bucket, Key=k)["Body"].read()]
    assert not leaked and secret not in (run.stdout + run.stderr).encode(), leaked


def test_s3_that_keeps_failing_fails_the_run_in_one_line_and_publishes_nothing(
    tiny_landing, s3_server, s3_bucket, tmp_path
):
    import boto3

    from tests.reliability.faultproxy import FaultProxy

    client = boto3.client("s3", endpoint_url=s3_server)
    _upload(client, s3_bucket, tiny_landing)
    with FaultProxy(s3_server, rates={"503": 1.0}) as proxy:
        run = _s3_run(s3_bucket, proxy.url, tmp_path / "cache", {"AWS_MAX_ATTEMPTS": "3"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert proxy.injected["503"] >= 3
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stdout + run.stderr
    assert not client.list_objects_v2(Bucket=s3_bucket, Prefix="home/").get("Contents")


def _published_state(home: Path) -> dict[str, str]:
    """Hashes of everything a user or the next stage reads: the published warehouse, reports, raw and computed lake."""
    files = [home / "warehouse" / "lingtan.duckdb"]
    for part in ("reports", "lake/raw", "lake/computed"):
        files += [p for p in (home / part).rglob("*") if p.is_file()]
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def test_disk_full_during_a_run_keeps_the_published_state(tiny_landing, tmp_path):
    import shutil

    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(disk)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {mount.stderr.decode().strip()}")
    try:
        landing, home = tmp_path / "landing", disk / "home"
        shutil.copytree(tiny_landing, landing)
        first = _run(landing, home)
        assert first.returncode == 0, first.stdout + first.stderr
        before = _published_state(home)

        # A correcting drop the next night, on a disk with almost no room left.
        fix = landing / "production" / "2024-02-02" / "production.csv"
        fix.parent.mkdir(parents=True)
        original = (landing / "production" / DROP / "production.csv").read_text()
        fix.write_text(original.replace("1321052.6315789474", "1400000"))
        free = shutil.disk_usage(disk).free
        with (disk / "ballast").open("wb") as f:
            f.truncate(0)
            f.write(b"\0" * max(free - 256 * 1024, 0))
        cmd = [*LINGTAN, "run", "--landing", str(landing), "--home", str(home), "--date", "2024-02-02"]
        full = subprocess.run(cmd, env=_env(home), capture_output=True, text=True, timeout=600)
        assert full.returncode == 1, full.stdout + full.stderr
        errors = [line for line in (full.stdout + full.stderr).splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in full.stderr, full.stdout + full.stderr
        assert "space" in errors[0].lower() or "disk" in errors[0].lower(), errors[0]
        assert _published_state(home) == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
