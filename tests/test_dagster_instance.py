"""The instance class of dagster_home/dagster.yaml (orchestration/lib/dagster_instance.py): it stores runs and
events in Dagster's own sqlite files, so an instance folder written through it opens with Dagster's default
storage and shows the same runs, events and asset records (and the other way round); every engine it keeps is
bounded."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.lib import dagster_instance as di
from orchestration.pipeline import INSTANCE_TEMPLATE


@dg.asset
def upstream() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset(deps=[upstream])
def downstream(context) -> dg.MaterializeResult:
    context.log.info("downstream ran")
    return dg.MaterializeResult(metadata={"rows": 4})


@dg.asset_check(asset=downstream)
def downstream_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


JOB = dg.Definitions(assets=[upstream, downstream], asset_checks=[downstream_has_rows])


def _run(instance: dg.DagsterInstance) -> str:
    result = JOB.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    assert result.success
    return result.run_id


def _default_yaml(folder: Path) -> None:
    text = INSTANCE_TEMPLATE.read_text(encoding="utf-8")
    assert "class: LingtanInstance" in text  # the committed settings use the instance class
    kept = [ln for ln in text.splitlines() if not ln.startswith(("instance_class:", "  module:", "  class:"))]
    (folder / "dagster.yaml").write_text("\n".join(kept) + "\n", encoding="utf-8")


def test_the_committed_settings_load_the_instance_class(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert isinstance(instance, di.LingtanInstance)
        assert isinstance(instance.event_log_storage, di.LingtanEventLogStorage)
        assert isinstance(instance.run_storage, di.LingtanRunStorage)
        assert instance.event_log_storage.supports_global_concurrency_limits  # the pools still work
    finally:
        instance.dispose()


def test_files_written_through_it_open_with_dagsters_default_storage_and_back(tmp_path: Path) -> None:
    fast, plain = tmp_path / "fast", tmp_path / "plain"
    fast.mkdir()
    plain.mkdir()
    (fast / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    _default_yaml(plain)
    ours = dg.DagsterInstance.from_config(str(fast))
    run_id = _run(ours)
    events = [e.dagster_event_type for e in ours.all_logs(run_id) if e.dagster_event_type]
    ours.dispose()
    # the same folder opened with Dagster's defaults (as an older lingtan or a plain `dagster dev` would)
    (fast / "dagster.yaml").write_text((plain / "dagster.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    default = dg.DagsterInstance.from_config(str(fast))
    try:
        assert not isinstance(default, di.LingtanInstance)
        assert [r.run_id for r in default.get_runs()] == [run_id]
        assert [e.dagster_event_type for e in default.all_logs(run_id) if e.dagster_event_type] == events
        mat = default.get_latest_materialization_event(dg.AssetKey("downstream"))
        assert mat is not None and mat.asset_materialization.metadata["rows"].value == 4
        check = default.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("downstream"), "downstream_has_rows")]
        )
        assert check, "the check evaluation is in the index"
        second = _run(default)  # and Dagster's own storage writes on where ours left off
    finally:
        default.dispose()
    (fast / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    again = dg.DagsterInstance.from_config(str(fast))
    try:
        assert {r.run_id for r in again.get_runs()} == {run_id, second}
    finally:
        again.dispose()


def test_kept_engines_are_bounded_and_share_one_per_file(tmp_path: Path) -> None:
    engines = di._Engines()
    first, new = engines.get(f"sqlite:///{tmp_path}/a.db")
    again, new_again = engines.get(f"sqlite:///{tmp_path}/a.db")
    assert new and not new_again and first is again
    for i in range(di.ENGINES_KEPT + 5):
        engines.get(f"sqlite:///{tmp_path}/r{i}.db")
    assert len(engines._engines) == di.ENGINES_KEPT
    with (
        first.connect() as conn
    ):  # a disposed engine still opens on demand; the kept one is synchronous=NORMAL
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1


def test_engines_reuse_their_sqlite_connections_and_close_them_when_disposed(tmp_path: Path) -> None:
    engines = di._Engines()
    engine, _ = engines.get(f"sqlite:///{tmp_path}/a.db")
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
    with engine.connect() as conn:  # the same sqlite connection again, still synchronous=NORMAL
        assert conn.connection.dbapi_connection is first
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    with engine.connect() as a, engine.connect() as b:  # two at once never wait for each other
        assert a.connection.dbapi_connection is not b.connection.dbapi_connection
    assert engine.pool.checkedin() == 2
    engines.dispose()
    assert engine.pool.checkedin() == 0 and not engines._engines


def test_tables_found_are_remembered_and_a_missing_one_asked_again(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        storage = instance.event_log_storage
        asked: list[str] = []
        parent = di.SqliteEventLogStorage.has_table
        monkeypatch.setattr(
            di.SqliteEventLogStorage, "has_table", lambda self, name: asked.append(name) or parent(self, name)
        )
        assert storage.supports_asset_checks and storage.supports_asset_checks
        assert asked == ["asset_check_executions"]  # asked once, then remembered
        assert not storage.has_table("no_such_table") and not storage.has_table("no_such_table")
        assert asked.count("no_such_table") == 2  # a missing table is asked again
        _run(instance)  # a run with an asset check evaluated and an asset materialised
        _run(instance)
        assert asked.count("asset_check_executions") == 1
        assert all(asked.count(name) == 1 for name in set(asked) - {"no_such_table"}), asked
        records = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("downstream"), "downstream_has_rows"), limit=5
        )
        assert [r.status.value for r in records] == ["SUCCEEDED", "SUCCEEDED"]
    finally:
        instance.dispose()
