"""`lingtan run` records into the persistent Dagster instance the UI reads (<home>/dagster): the run, every
asset materialisation with its metadata and every check evaluation; and its console is quiet — one line per
stage, no dbt lines, no escape codes, the log file named."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.lib.home import Home

pytestmark = pytest.mark.slow

SUPPLIERS = "supplier_id,name,country\nS1,Mill,中国\nS2,Mill2,Atlantis\n"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, s3_server):
    """A tiny landing zone on S3 (moto's server: one suppliers file with one bad row) through the whole nightly
    job, as a user runs it, into a local home; DAGSTER_HOME unset so the instance is <home>/dagster."""
    import boto3

    bucket = f"lt-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    client.put_object(Bucket=bucket, Key="landing/suppliers/2026-01-05/s.csv", Body=SUPPLIERS.encode())
    home = tmp_path_factory.mktemp("instance") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        out = CliRunner().invoke(
            app, ["run", "--landing", f"s3://{bucket}/landing", "--home", str(home), "--date", "2026-11-24"]
        )
    return Home(home), out


def test_an_s3_landing_zone_is_ingested_into_the_local_lake(tiny_run):
    home, out = tiny_run
    assert out.exit_code == 0, out.output
    assert "suppliers" in out.output and "lake:" in out.output, out.output
    assert pl.read_parquet(home.raw_table("suppliers"))["supplier_id"].to_list() == ["S1"]


def _instance(home: Home) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home.root / "dagster"))


def test_the_home_instance_holds_the_run_materialisations_and_checks(tiny_run):
    from orchestration.definitions import defs

    home, out = tiny_run
    assert out.exit_code == 0, out.output
    job = defs().resolve_job_def("nightly")
    assets = {k for k in job.asset_layer.asset_graph.get_all_asset_keys() if job.asset_layer.has(k)}
    checks = set(job.asset_layer.asset_graph.asset_check_keys)
    instance = _instance(home)
    try:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        run = runs[0]
        assert run.tags["lingtan/origin"] == "lingtan run" and run.tags["lingtan/since"] == "2026-01-05"
        events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
        materialised = {
            e.event_specific_data.materialization.asset_key
            for e in events
            if e.event_type_value == "ASSET_MATERIALIZATION"
        }
        evaluated = {
            dg.AssetCheckKey(e.event_specific_data.asset_key, e.event_specific_data.check_name)
            for e in events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
        assert materialised == assets  # every asset the job declares, as the UI lists them
        assert evaluated == checks  # every check evaluated
        # the metadata the UI shows with the latest materialisation (row accounting of the suppliers drop)
        latest = instance.get_latest_materialization_event(dg.AssetKey(["raw", "suppliers"]))
        md = latest.asset_materialization.metadata
        assert (md["rows_read"].value, md["rows_accepted"].value, md["rows_quarantined"].value) == (2, 1, 1)
        assert latest.asset_materialization.partition == "2026-11-24"  # the run's one partition
    finally:
        instance.dispose()


def test_the_instance_is_configured_for_the_ui(tiny_run):
    home, _ = tiny_run
    config = (home.root / "dagster" / "dagster.yaml").read_text()
    assert re.search(r"telemetry:\n\s+enabled: false", config)
    assert re.search(r"nux:\n\s+enabled: false", config)
    instance = _instance(home)
    try:
        assert instance.event_log_storage.supports_global_concurrency_limits
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1  # one DuckDB writer at a time across UI and CLI runs
        assert not instance.telemetry_enabled and not instance.nux_enabled
    finally:
        instance.dispose()


def test_console_is_one_line_per_stage_and_tool_output_goes_to_the_log(tiny_run):
    home, out = tiny_run
    text = out.output
    assert "\x1b[" not in text and "\r" not in text  # not a terminal: no escape codes, no live line
    stage_lines = [
        ln.split()[0] for ln in text.splitlines() if re.match(r"  (ingest|engines|dbt|publish) ", ln)
    ]
    assert stage_lines == ["ingest", "engines", "dbt", "publish"], text
    assert re.search(r"ingest\s+21 datasets: 2 rows read, 1 accepted, 1 quarantined", text), text
    assert not re.search(r"\d+ of \d+ (START|OK|PASS)", text)  # dbt's own lines stay off the console
    log = re.search(r"^log:\s+(\S+)$", text, re.M)
    assert log, text
    body = Path(log.group(1)).read_text(encoding="utf-8")
    assert re.search(r"\d+ of \d+ (START|OK|PASS)", body)  # … they are in the log whose path was printed
    assert "\x1b[" not in body
    assert os.path.dirname(log.group(1)) == str(home.root / "logs")


def test_a_killed_run_is_reaped_so_the_pool_is_free_again(tmp_path, monkeypatch):
    import socket

    from orchestration.pipeline import TAG_HOST, TAG_PID, dagster_home, reap_orphan_runs

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = dg.DagsterInstance.from_config(str(dagster_home(Home(tmp_path))))
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        run_id = str(uuid.uuid4())
        instance.add_run(
            dg.DagsterRun(
                job_name="nightly",
                run_id=run_id,
                status=dg.DagsterRunStatus.STARTED,
                tags={TAG_PID: str(dead.pid), TAG_HOST: socket.gethostname()},
            )
        )
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("duckdb_warehouse")
        assert storage.claim_concurrency_slot("duckdb_warehouse", run_id, "lingtan_dbt").is_claimed
        assert reap_orphan_runs(instance) == [run_id]
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert storage.get_concurrency_info("duckdb_warehouse").active_slot_count == 0
        assert reap_orphan_runs(instance) == []  # once
    finally:
        instance.dispose()


def test_old_runs_are_pruned_newest_kept(tmp_path, monkeypatch):
    from orchestration.pipeline import dagster_home, prune_runs

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = dg.DagsterInstance.from_config(str(dagster_home(Home(tmp_path))))
    try:
        ids = [str(uuid.uuid4()) for _ in range(3)]
        for run_id in ids:  # oldest first
            instance.add_run(
                dg.DagsterRun(job_name="nightly", run_id=run_id, status=dg.DagsterRunStatus.SUCCESS)
            )
        running = str(uuid.uuid4())
        instance.add_run(
            dg.DagsterRun(job_name="nightly", run_id=running, status=dg.DagsterRunStatus.STARTED)
        )
        storage = Path(instance.storage_directory())
        events = Path(instance.event_log_storage.path_for_shard(ids[0])).parent
        for run_id in [*ids, running]:  # each run: its event file and its captured step output
            instance.report_engine_event("step output", instance.get_run_by_id(run_id))
            (storage / run_id / "compute_logs").mkdir(parents=True)
            (storage / run_id / "compute_logs" / "step.out").write_text("x")
        assert sorted(prune_runs(instance, keep=1)) == sorted(ids[:2])
        assert {r.run_id for r in instance.get_runs()} == {
            ids[2],
            running,
        }  # a run in progress is never pruned
        # nothing of a pruned run stays on disk (Dagster alone leaves its event file and step output)
        assert {p.stem for p in events.glob("*.db")} == {"index", ids[2], running}
        assert {p.name for p in storage.iterdir()} == {ids[2], running}
    finally:
        instance.dispose()


def test_dbt_target_folders_and_run_logs_are_pruned(tmp_path):
    from datetime import UTC, datetime

    from orchestration.defs.warehouse.dbt import prune_targets
    from orchestration.pipeline import LOGS_KEPT, new_log

    target = tmp_path / "target"
    for i in range(5):
        d = target / f"lingtan_dbt-run{i}"
        d.mkdir(parents=True)
        os.utime(d, (1_000_000 + i, 1_000_000 + i))  # run0 oldest
    (target / "manifest.json").write_text("{}")
    removed = prune_targets(target, keep=3)
    assert sorted(p.name for p in removed) == ["lingtan_dbt-run0", "lingtan_dbt-run1"]
    assert sorted(p.name for p in target.iterdir()) == [
        "lingtan_dbt-run2",
        "lingtan_dbt-run3",
        "lingtan_dbt-run4",
        "manifest.json",
    ]
    home = Home(tmp_path / "home")
    logs = home.root / "logs"
    logs.mkdir(parents=True)
    for i in range(LOGS_KEPT + 5):
        (logs / f"run-20260101T0000{i:02d}Z-1.log").write_text("x")
    path = new_log(home, datetime(2026, 12, 2, tzinfo=UTC))
    path.write_text("new")
    kept = sorted(p.name for p in logs.glob("run-*.log"))
    assert len(kept) == LOGS_KEPT and kept[-1] == path.name
