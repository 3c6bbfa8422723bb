"""Faults during a run, against one clean run of the same landing zone:

- S3 answering 500/503, late, or cutting connections (a fault-injecting proxy in front of moto's server): the run
  retries and gives the same marts; when S3 keeps failing, the run fails in one line and publishes nothing;
- a planted secret (the AWS secret key) appears in no log, run record or Dagster event.

SIGKILL at every stage: tests/reliability/test_kills.py; disk full at every stage: tests/reliability/test_disk_full.py.

One installation (the Commission cement example, a few dozen rows) keeps the runs short.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="module")
def tiny_landing(example_run) -> Path:
    """The cement example's landing zone (one installation, a few dozen rows; shared, read-only)."""
    return example_run("cement")[0]


@pytest.fixture(scope="module")
def clean_digest(example_run) -> dict[str, str]:
    """The marts of an uninterrupted `lingtan run` of the same landing zone on a local home."""
    return mart_digests(example_run("cement")[1].warehouse)


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
