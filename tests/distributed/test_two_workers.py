"""The nightly job on two Celery workers with the home on S3 gives the same marts and reports as `lingtan run`
in one process (issue 13, scope 3).

Redis (Debian's redis-server) and moto's S3 server run on 127.0.0.1; two Celery workers (concurrency 1, each
with its own mirror of the S3 home, as if on two machines) run the steps; the first also consumes the warehouse
queue (dbt, publish, reports: the single writer). The run is the backfill of the demo: every drop of the demo
landing zone up to DEMO_DATE (nothing ingested yet), in one run as the ingest assets' single-run backfill policy
and `lingtan run` do; the session's in-process demo run of the same window (tests/conftest.py) is the reference.

Compared: every mart, row for row, without the file-read timestamp `processed_at` (as tests/test_incremental.py);
every computed table, same schema and same rows in the same order, to the bit (not the Parquet bytes: the EMS
engine's streamed `meter_hourly` file cuts its row groups where the threads did, run to run); every report file, byte for byte, and each report's metadata without the
fields naming the run (`run_id`, `published_at`, `manifest`); the run manifest itself names the run and is left
out. `make test-distributed` runs this (it takes minutes: `-m distributed`, excluded from `make test`).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import DEMO_DATE
from tests.distributed.conftest import start_worker, stop, wait_for_workers
from tests.outputs import mart_digests, report_files

pytestmark = pytest.mark.distributed


def computed_tables(computed: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in sorted(computed.glob("*.parquet"))}


def download(client, bucket: str, prefix: str, target: Path) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        for obj in page.get("Contents", []):
            path = target / obj["Key"][len(prefix) + 1 :]
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, obj["Key"], str(path))


def workers_of(result) -> dict[str, str]:
    """Step key → the Celery worker (its node name) that executed it, from the run's engine events."""
    out = {}
    for ev in result.all_events:
        if ev.event_type_value == "ENGINE_EVENT" and "in celery worker" in (ev.message or ""):
            out[ev.step_key] = str(ev.event_specific_data.metadata["Celery worker"].value).split("@")[0]
    return out


@pytest.fixture(scope="module")
def distributed_run(demo_landing, redis_broker, s3_server, tmp_path_factory):
    """The nightly job over the demo landing zone on two Celery workers, home on S3; yields (result, home
    downloaded from S3)."""
    import boto3
    import dagster as dg

    from orchestration.distributed.executor import BROKER_ENV, SHARED_QUEUE, WAREHOUSE_QUEUE
    from orchestration.distributed.launch import launch
    from orchestration.pipeline import INSTANCE_TEMPLATE

    root = tmp_path_factory.mktemp("distributed")
    bucket = "lt-distributed"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    # the Dagster instance the run process and the workers share (sqlite on one machine; Postgres on several)
    instance_dir = root / "dagster"
    instance_dir.mkdir()
    (instance_dir / "dagster.yaml").write_text(
        INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8"
    )
    env = {BROKER_ENV: redis_broker, "DAGSTER_HOME": str(instance_dir)}
    workers = [
        start_worker("w1", [SHARED_QUEUE, WAREHOUSE_QUEUE], env, root / "w1"),
        start_worker("w2", [SHARED_QUEUE], env, root / "w2"),
    ]
    saved = {k: os.environ.get(k) for k in (BROKER_ENV, "LINGTAN_CACHE")}
    os.environ.update({BROKER_ENV: redis_broker, "LINGTAN_CACHE": str(root / "launcher")})
    try:
        wait_for_workers(redis_broker, ["w1", "w2"])
        with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
            # the lake pool admits one step per worker: ingest and engines spread over both
            instance.event_log_storage.set_concurrency_slots("lake", 2)
            result = launch(instance, str(demo_landing), f"s3://{bucket}/home", date.fromisoformat(DEMO_DATE))
        home = root / "from-s3"
        download(client, bucket, "home", home)
        yield result, home, root
    finally:
        for w in workers:
            stop(w)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _failures(result) -> list[str]:
    return [
        f"{ev.step_key}: {ev.event_specific_data.error.to_string()[-1500:]}"
        for ev in result.all_events
        if ev.event_type_value == "STEP_FAILURE"
    ]


def test_two_workers_share_the_steps_and_one_writes_the_warehouse(distributed_run):
    result, _, root = distributed_run
    assert result.success, _failures(result) or (root / "w1" / "worker.log").read_text()[-3000:]
    ran = workers_of(result)
    assert set(ran.values()) == {"w1", "w2"}, ran  # the steps spread over both workers
    from orchestration.distributed.executor import WAREHOUSE_STAGES
    from orchestration.pipeline import stage_of

    writer = {k: w for k, w in ran.items() if stage_of(k) in WAREHOUSE_STAGES}
    assert set(writer) >= {"lingtan_dbt", "reports"} and set(writer.values()) == {"w1"}, writer
    assert {w for k, w in ran.items() if k.startswith("raw__")} == {"w1", "w2"}, ran


def test_marts_computed_tables_and_reports_identical_to_the_in_process_run(distributed_run, demo_home):
    result, home, _ = distributed_run
    assert result.success, _failures(result)
    marts = mart_digests(home / "warehouse" / "lingtan.duckdb")
    assert len(marts) > 10
    reference = mart_digests(demo_home.warehouse)
    assert sorted(marts) == sorted(reference)
    assert [m for m in marts if marts[m] != reference[m]] == []

    computed = computed_tables(home / "lake" / "computed")
    expected = computed_tables(demo_home.computed)
    assert len(computed) > 10 and sorted(computed) == sorted(expected)
    differ = [t for t in computed if not computed[t].equals(expected[t], null_equal=True)]
    assert differ == [] and all(computed[t].schema == expected[t].schema for t in computed)

    reports = report_files(home / "reports")
    want = report_files(demo_home.reports)
    assert len(reports) > 20 and sorted(reports) == sorted(want)
    assert [f for f in reports if reports[f] != want[f]] == []
