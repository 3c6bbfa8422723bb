"""Real Dagster runs of the ingestion assets: definitions load, the gate blocks, `lingtan run` on S3."""

from __future__ import annotations

import dagster as dg
import polars as pl
from typer.testing import CliRunner

from expectations.gate import Gate
from orchestration.lib.home import Home
from tests.ingest.helpers import drop

HEAD = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"


def ingest_job_result(landing, home, monkeypatch, end="2026-11-24"):
    from orchestration.definitions import defs
    from orchestration.lib.ingest import ensure_empty_tables

    monkeypatch.setenv("LINGTAN_LANDING", str(landing))
    monkeypatch.setenv("LINGTAN_HOME", str(home))
    ensure_empty_tables(Home(home))
    job = (
        defs()
        .resolve_implicit_global_asset_job_def()
        .get_subset(
            asset_selection={dg.AssetKey(["raw", "supplier_invoices"]), dg.AssetKey(["raw", "suppliers"])}
        )
    )
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": end},
    )


def test_definitions_load_with_one_asset_per_dataset():
    from orchestration.definitions import defs
    from transforms.contracts import datasets

    d = defs()
    keys = {s.key.to_user_string() for s in d.resolve_all_asset_specs()}
    assert {f"raw/{n}" for n in datasets()} <= keys
    assert d.resolve_job_def("nightly") is not None
    assert d.resolve_schedule_def("nightly_schedule") and d.resolve_sensor_def("landing_sensor")


def test_ingest_assets_materialize_with_row_counts(tmp_path, monkeypatch):
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\nx\n")
    result = ingest_job_result(landing, home, monkeypatch)
    assert result.success
    mats = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    md = mats["raw/supplier_invoices"]
    assert (md["rows_read"].value, md["rows_accepted"].value, md["rows_quarantined"].value) == (2, 1, 1)
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert checks and all(c.passed for c in checks)


def test_failing_gate_blocks_and_leaves_raw_untouched(tmp_path, monkeypatch):
    from orchestration.lib import ingest as ingest_mod

    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    monkeypatch.setattr(ingest_mod, "audit", lambda *a: Gate("raw_gate", ("forced failure for test",)))
    result = ingest_job_result(landing, home, monkeypatch)
    assert not result.success
    assert pl.read_parquet(Home(home).raw_table("supplier_invoices")).is_empty()
    f = pl.read_parquet(Home(home).raw_dir("supplier_invoices") / "_files.parquet")
    assert f["gate_passed"].to_list() == [False] and "forced failure" in f["gate_details"][0]


def test_sensor_requests_a_run_per_change(tmp_path, monkeypatch):
    from orchestration.defs.sensors import landing_sensor
    from orchestration.lib.config import LingtanConfig

    landing = tmp_path / "l"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\n")
    res = LingtanConfig(landing=str(landing), home=str(tmp_path / "h"))
    ctx = dg.build_sensor_context(resources={"lingtan": res})
    first = landing_sensor(ctx)
    assert len(first.run_requests) == 1
    assert first.run_requests[0].tags["lingtan/since"] == "2026-03-03"
    assert first.run_requests[0].tags["dagster/asset_partition_range_end"] == "2026-03-03"
    again = landing_sensor(dg.build_sensor_context(cursor=first.cursor, resources={"lingtan": res}))
    assert isinstance(again, dg.SkipReason)


def test_lingtan_run_exits_2_with_one_line_when_a_gate_blocks(tmp_path, monkeypatch):
    from orchestration.cli import app
    from orchestration.lib import ingest as ingest_mod

    landing = tmp_path / "l"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    monkeypatch.setattr(ingest_mod, "audit", lambda *a: Gate("raw_gate", ("rows read 2 != 1 + 0",)))
    out = CliRunner().invoke(
        app, ["run", "--landing", str(landing), "--home", str(tmp_path / "h"), "--date", "2026-11-24"]
    )
    assert out.exit_code == 2, out.output
    errors = [line for line in out.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "gate blocked publication" in errors[0] and "raw_gate" in errors[0]
    assert "Traceback" not in out.output


def test_run_window_spans_only_pending_drops(tmp_path):
    import datetime as dt

    from orchestration.defs.partitions import run_window
    from orchestration.lib.ingest import ingest_dataset
    from orchestration.lib.storage import Landing

    landing, home = tmp_path / "l", Home(tmp_path / "h")
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    drop(landing, "supplier_invoices", "2026-05-03", "a.csv", f"{HEAD}\nINV2,1,2026-05-01,S1,I1,WR1,5,t\n")
    zone = Landing.open(str(landing))
    assert run_window(zone, home, dt.date(2026, 11, 24)) == ("2026-03-03", "2026-11-24")
    ingest_dataset(zone, home, "supplier_invoices")
    assert run_window(zone, home, dt.date(2026, 11, 24)) == ("2026-11-24", "2026-11-24")  # nothing new
    drop(landing, "supplier_invoices", "2026-05-03", "b.csv", f"{HEAD}\nINV3,1,2026-05-01,S1,I1,WR1,5,t\n")
    assert run_window(zone, home, dt.date(2026, 11, 24)) == ("2026-05-03", "2026-11-24")


def test_schedule_requests_the_pending_window(tmp_path):
    from orchestration.defs.schedules import nightly_schedule
    from orchestration.lib.config import LingtanConfig

    landing = tmp_path / "l"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    import datetime as dt

    ctx = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 24, 2, 0),
        resources={"lingtan": LingtanConfig(landing=str(landing), home=str(tmp_path / "h"))},
    )
    req = nightly_schedule(ctx)
    assert req.tags["lingtan/since"] == "2026-03-03"  # every pending drop from here on is ingested
    assert req.tags["dagster/asset_partition_range_start"] == "2026-11-24"  # recorded as one partition
    assert req.tags["dagster/asset_partition_range_end"] == "2026-11-24"
