"""`lingtan run`: the nightly Dagster job executed in this process, in the persistent Dagster instance the UI
reads (`$DAGSTER_HOME`, else `<home>/dagster`): same assets, checks and outputs as a launch from the UI, and
afterwards `dg dev` shows the run, every materialisation and every check evaluation.

The console gets one line per stage (ingest, engines, dbt, publish, reports) and one per blocked gate; dbt and
Dagster write to `<home>/logs/run-<timestamp>.log`.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.defs.partitions import run_tags, run_window
from orchestration.lib import warm_dbt
from orchestration.lib.config import CERTIFICATE_PRICE_ENV
from orchestration.lib.console import Console, bar, elapsed, now
from orchestration.lib.home import Home, home_uri, landing_uri
from orchestration.lib.incremental import run_fingerprint, unchanged_since
from orchestration.lib.ingest import ensure_empty_tables, pending_drop_dates
from orchestration.lib.publish import sweep_staging
from orchestration.lib.runrecord import write_run_record
from orchestration.lib.storage import Landing
from transforms.paths import REPO_ROOT

# The committed instance settings (telemetry off, warehouse pools, run queue): copied into a new instance.
INSTANCE_TEMPLATE = REPO_ROOT / "dagster_home" / "dagster.yaml"
LOGS_KEPT = 30  # run logs under <home>/logs (each a few hundred kB): older ones are deleted
# Finished runs kept in the instance (each ~5 MB of sqlite: events, asset index, step stdout). Every nightly run
# materialises every asset, so the latest materialisation of each asset is always in a kept run.
RUNS_KEPT = 60
STAGES = ("ingest", "engines", "dbt", "publish", "reports")
TAG_PID, TAG_HOST, TAG_ORIGIN = "lingtan/pid", "lingtan/host", "lingtan/origin"
TAG_NO_CHANGE = "lingtan/no_change_since"  # a run that found nothing new: only the ingest assets ran


class LandingMissing(Exception):
    """The landing zone given does not exist (a clear message, no traceback)."""


MAX_GATE_LINES = 20  # failure lines per blocked check on the console; the check's metadata has them all


@dataclass
class RunOutcome:
    success: bool
    home: Home
    landing: str
    ingest: dict[str, dict[str, int]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)  # blocking (ERROR) checks that failed
    warnings: list[str] = field(default_factory=list)  # failed advisory (WARN) checks: shown, not blocking
    failed_steps: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    run_record: Path | None = None
    run_id: str = ""
    log: Path | None = None
    dagster_home: Path | None = None
    no_change: str = (
        ""  # the run id of the last successful run when nothing changed since (nothing recomputed)
    )


# --- the Dagster instance -----------------------------------------------------------------------------------
def dagster_home(home: Home | None = None) -> Path:
    """The instance folder shared by `lingtan run` and `make dev`: $DAGSTER_HOME when set, else <home>/dagster.
    A folder without dagster.yaml gets the committed one (sqlite storage under the folder, Dagster's default;
    telemetry and the community pop-up off; pool limit 1 for the DuckDB writers)."""
    env = os.environ.get("DAGSTER_HOME")
    path = Path(env).expanduser().resolve() if env else (home or Home.open()).root / "dagster"
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphan_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs a killed `lingtan run` on this machine left 'started': mark them failed and free their pool slots,
    or the next run would wait forever for the warehouse pool."""
    records = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={TAG_HOST: socket.gethostname()},
        )
    )
    reaped = []
    for run in records:
        pid = run.tags.get(TAG_PID, "")
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            instance.report_run_failed(run, f"lingtan run process {pid} ended before the run finished")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    return reaped


def prune_runs(instance: dg.DagsterInstance, keep: int = RUNS_KEPT) -> list[str]:
    """Delete finished runs beyond the newest `keep` (their events and step logs go with them)."""
    finished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.SUCCESS,
                dg.DagsterRunStatus.FAILURE,
                dg.DagsterRunStatus.CANCELED,
            ]
        )
    )  # newest first
    old = [r.run_id for r in finished[keep:]]
    for run_id in old:
        instance.delete_run(run_id)  # rows; the instance class also removes the run's event file
        # the run's captured step output (Dagster keeps it after deleting the run)
        shutil.rmtree(Path(instance.storage_directory()) / run_id, ignore_errors=True)
    return old


# --- progress ----------------------------------------------------------------------------------------------
def stage_of(step_key: str) -> str:
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key == "lingtan_dbt":
        return "dbt"
    if step_key.startswith("warehouse__"):
        return "publish"
    if step_key.startswith("reports"):
        return "reports"
    return "engines"


@dataclass
class _Stage:
    name: str
    steps: set[str]
    started: float | None = None
    finished: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    events: int = 0
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset key → materialisation metadata
    checks_passed: int = 0
    checks_failed: int = 0
    reported: bool = False
    seconds: float = 0.0


class Progress:
    """Dagster event listener: one console line per stage when its last step ends, one per failed gate, a
    live status on a terminal; every event as a line in the run's log file."""

    def __init__(self, job: dg.JobDefinition, console: Console, log: Any) -> None:
        self.console, self.log = console, log
        self.stages: dict[str, _Stage] = {}
        for node in job.graph.node_defs:
            st = self.stages.setdefault(stage_of(node.name), _Stage(stage_of(node.name), set()))
            st.steps.add(node.name)
        self.current: _Stage | None = None
        self.idle = "skipped (an upstream gate blocked)"  # what a stage that never started says

    # Dagster calls this for every event of the run (same thread as the step).
    def __call__(self, entry: Any, *_args: Any) -> None:
        self._log(entry)
        ev = getattr(entry, "dagster_event", None)
        if ev is None or ev.step_key is None:
            return
        st = self.stages.get(stage_of(ev.step_key))
        if st is None:
            return
        kind = ev.event_type_value
        if kind == "STEP_START":
            if st.started is None:
                st.started = now()
            self.current = st
            self.console.live(self._status)
        elif kind == "ASSET_MATERIALIZATION":
            m = ev.event_specific_data.materialization
            st.assets[m.asset_key.to_user_string()] = {k: v.value for k, v in m.metadata.items()}
            st.events += 1
        elif kind == "ASSET_CHECK_EVALUATION":
            data = ev.event_specific_data
            st.events += 1
            if data.passed:
                st.checks_passed += 1
            else:
                st.checks_failed += 1
                details = data.metadata.get("details")
                # an advisory (WARN) check blocked nothing: its findings block only the reports reading them
                warn = getattr(data, "severity", None) == dg.AssetCheckSeverity.WARN
                where = f"  {'warning' if warn else 'gate blocked'}  {data.asset_key.to_user_string()}:{data.check_name}"
                lines = str(details.value).splitlines() if details else [""]
                for line in lines[:MAX_GATE_LINES]:  # one line per failure (the report gate lists each)
                    self.console.line(f"{where}  {line[:300]}".rstrip())
                if len(lines) > MAX_GATE_LINES:
                    self.console.line(
                        f"{where}  … {len(lines) - MAX_GATE_LINES} more: the check's metadata in the UI"
                    )
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            st.finished.add(ev.step_key)
            if kind == "STEP_FAILURE":
                st.failed.add(ev.step_key)
            if st.finished >= st.steps:
                self._report(st)

    def _log(self, entry: Any) -> None:
        ts = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%H:%M:%S")
        step = f" {entry.step_key}" if entry.step_key else ""
        msg = entry.user_message or (entry.dagster_event.message if entry.dagster_event else "") or ""
        self.log.write(f"{ts} {entry.level if isinstance(entry.level, str) else ''}{step}: {msg}\n")

    def _status(self) -> str:
        st = self.current
        if st is None:
            return ""
        secs = now() - (st.started or now())
        return (
            f"  {st.name:<8} {bar(len(st.finished), len(st.steps))} {len(st.finished)}/{len(st.steps)} steps"
            f"  {st.events} outputs  {elapsed(secs)}"
        )

    def _report(self, st: _Stage) -> None:
        if st.reported:
            return
        st.reported = True
        st.seconds = now() - st.started if st.started is not None else 0.0
        executed = st.started is not None
        what = summarise(st) if executed else self.idle
        checks = st.checks_passed + st.checks_failed
        gates = f"  checks {st.checks_passed}/{checks} passed" if checks else ""
        mark = "  FAILED" if st.failed and executed else ""
        self.console.line(f"  {st.name:<8} {what}{gates}{mark}  {elapsed(st.seconds).strip()}")

    def finish(self) -> None:
        self.console.live(None)
        for name in STAGES:
            st = self.stages.get(name)
            if st is not None and not st.reported:
                self._report(st)


def summarise(st: _Stage) -> str:
    """The counts a person wants for each stage, from the materialisation metadata."""

    def total(key: str) -> int:
        return sum(int(md.get(key) or 0) for md in st.assets.values())

    n = len(st.assets)
    same = sum("lingtan/no_change" in md for md in st.assets.values())  # not recomputed: inputs unchanged
    kept = f", {same} unchanged" if same else ""
    if st.name == "ingest":
        return (
            f"{n} datasets: {total('rows_read'):,} rows read, {total('rows_accepted'):,} accepted, "
            f"{total('rows_quarantined'):,} quarantined"
        )
    if st.name == "engines":
        return f"{n - same} tables, {total('dagster/row_count'):,} rows{kept}"
    if st.name == "dbt":
        return f"{n - same} models and seeds built{kept}"
    if st.name == "publish":
        sizes = [md.get("size_mb") for md in st.assets.values() if md.get("size_mb") is not None]
        return "warehouse published" + (f" ({sizes[0]} MB)" if sizes else "")
    if st.name == "reports":
        published = sum(len(md.get("published") or []) for md in st.assets.values())
        return f"{n} kinds: {published} published, {total('unchanged')} unchanged, {total('blocked')} blocked"
    return f"{n} assets"


# --- the run ------------------------------------------------------------------------------------------------
def new_log(home: Home, started: datetime) -> Path:
    """<home>/logs/run-<UTC timestamp>.log; keeps the newest LOGS_KEPT logs."""
    logs = home.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in sorted(logs.glob("run-*.log"))[: -(LOGS_KEPT - 1) or None]:
        old.unlink(missing_ok=True)
    return logs / f"run-{started.strftime('%Y%m%dT%H%M%S')}Z-{os.getpid()}.log"


def lingtan_config(landing: str, home: Home, certificate_price: float | None = None) -> dict[str, Any]:
    """The `lingtan` resource's configuration for one run: the landing zone as given, the home as its local
    folder (an S3 home works on its local mirror, pushed back when the run ends)."""
    config: dict[str, Any] = {"landing": landing, "home": str(home.root)}
    if certificate_price is not None:
        config["certificate_price"] = certificate_price
    return config


def run_nightly(
    landing: str | None = None,
    home: str | None = None,
    up_to: date | None = None,
    echo: Callable[[str], Any] | Console = print,
    record: bool = True,
    certificate_price: float | None = None,
) -> RunOutcome:
    """Run the nightly job. `echo` receives the progress lines (or pass a Console for a live terminal line).
    `record=False` runs in a throw-away in-memory Dagster instance: same outputs, nothing for the UI, no pool
    shared with other processes, and no sqlite write per event (tests that only read the outputs).

    `landing` and `home` (default $LINGTAN_LANDING / $LINGTAN_HOME, read here once) and `certificate_price`
    (default $LINGTAN_CERTIFICATE_PRICE, read by the resource) reach the assets as the run's configuration of
    the `lingtan` resource (LingtanConfig), never through the process environment."""
    from orchestration.definitions import defs

    console = echo if isinstance(echo, Console) else Console(echo=echo)
    landing_u, home_u = landing_uri(landing), home_uri(home)
    if not landing_u.startswith("s3://") and not Path(landing_u).is_dir():
        raise LandingMissing(
            f"landing zone {landing_u} does not exist; create it, or run `lingtan demo --landing "
            f"{landing_u}` for demo data"
        )
    h = Home.open(home_u)
    sweep_staging(h)  # what killed runs left in staging (their locks died with them)
    ensure_empty_tables(h)
    start, end = run_window(Landing.open(landing_u), h, up_to)
    started = datetime.now(UTC)
    # Content-addressed no-change run: nothing pending in the landing zone and the same code, reference data,
    # locks, settings and lake as the last successful run → only the ingest assets run (they confirm it).
    settings = _settings(certificate_price)
    pending = pending_drop_dates(Landing.open(landing_u), h, date.fromisoformat(end))
    same = unchanged_since(h, run_fingerprint(h, started.date(), settings), pending)
    log_path = new_log(h, started)
    instance_dir = dagster_home(h) if record else None
    console.line(f"lingtan run: drops up to {end} (pending from {start}), home {h.root}")
    if same is not None:
        console.line(f"  no new drop and nothing changed since run {same['run_id'][:8]}: nothing recomputed")
    console.line(f"  log      {log_path}")
    console.line(
        f"  dagster  {instance_dir}  (make dev shows this run)"
        if instance_dir
        else "  dagster  in-memory instance (not recorded)"
    )
    run_id = str(uuid.uuid4())
    with console.capture_output(log_path) as log:
        job = defs().resolve_job_def("nightly")
        progress = Progress(job, console, log)
        if same is not None:
            progress.idle = f"no change since run {same['run_id'][:8]}: not recomputed"
        # dbt forked now, before Dagster's threads exist: its start-up overlaps ingestion and the engines
        with warm_dbt.ahead(same is None):
            instance = (
                dg.DagsterInstance.from_config(str(instance_dir))
                if instance_dir
                else dg.DagsterInstance.ephemeral()
            )
            try:
                for orphan in reap_orphan_runs(instance):
                    log.write(f"marked orphaned run {orphan} failed and freed its pool slots\n")
                instance.add_event_listener(run_id, progress)
                result = job.execute_in_process(
                    instance=instance,
                    run_id=run_id,
                    tags={
                        **run_tags(start, end),
                        TAG_ORIGIN: "lingtan run",
                        TAG_PID: str(os.getpid()),
                        TAG_HOST: socket.gethostname(),
                        **({TAG_NO_CHANGE: same["run_id"]} if same is not None else {}),
                    },
                    asset_selection=_ingest_keys(job) if same is not None else None,
                    raise_on_error=False,
                    run_config={
                        "loggers": {"console": {"config": {"log_level": "INFO"}}},
                        "resources": {"lingtan": {"config": lingtan_config(landing_u, h, certificate_price)}},
                    },
                )
                for pruned in prune_runs(instance):
                    log.write(
                        f"deleted run {pruned} from the Dagster instance (keeping the newest {RUNS_KEPT})\n"
                    )
            finally:
                progress.finish()
                instance.dispose()
    out = RunOutcome(result.success, h, landing_u, run_id=run_id, log=log_path, dagster_home=instance_dir)
    out.no_change = same["run_id"] if same is not None else ""
    _collect(result, out)
    out.run_record = write_run_record(
        h,
        run_id,
        started,
        landing_u,
        end,
        out.success,
        out.ingest,
        out.materialized,
        out.failed_checks,
        out.failed_steps,
        fingerprint=run_fingerprint(h, started.date(), settings),
        no_change_since=out.no_change,
    )
    if home_u.startswith("s3://"):
        from orchestration.lib.s3home import push

        console.line(f"  … pushing the home to {home_u} ({push(home_u, h.root)} files)")
    return out


def _settings(certificate_price: float | None) -> dict[str, Any]:
    """Run settings that change outputs (part of the no-change fingerprint)."""
    return {
        "certificate_price": certificate_price,
        CERTIFICATE_PRICE_ENV: os.environ.get(CERTIFICATE_PRICE_ENV, ""),
    }


def _ingest_keys(job: dg.JobDefinition) -> list[dg.AssetKey]:
    return [k for k in job.asset_layer.executable_asset_keys if k.path[0] == "raw"]


def _collect(result: Any, out: RunOutcome) -> None:
    for ev in result.get_asset_materialization_events():
        m = ev.materialization
        key = m.asset_key.to_user_string()
        if key not in out.materialized:
            out.materialized.append(key)
        md = m.metadata
        if key.startswith("raw/") and "rows_read" in md:
            out.ingest[key.removeprefix("raw/")] = {
                k: md[k].value for k in ("rows_read", "rows_accepted", "rows_quarantined")
            }
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_CHECK_EVALUATION":
            data = ev.event_specific_data
            if not data.passed:
                details = data.metadata.get("details")
                warn = getattr(data, "severity", None) == dg.AssetCheckSeverity.WARN
                (out.warnings if warn else out.failed_checks).append(
                    f"{data.asset_key.to_user_string()}:{data.check_name}"
                    + (f" ({details.value})" if details else "")
                )
        elif ev.event_type_value == "STEP_FAILURE":
            out.failed_steps.append(f"{ev.step_key}: {_root_cause(ev.event_specific_data.error)}")


def _root_cause(err: Any) -> str:
    """The innermost error's first line ("KeyError: 'model.x'"), not Dagster's "Error occurred while …"."""
    while err is not None and getattr(err, "cause", None) is not None:
        err = err.cause
    if err is None:
        return "failed"
    lines = [ln for ln in err.message.strip().splitlines() if ln.strip()]
    return lines[0] if lines else err.cls_name or "failed"
