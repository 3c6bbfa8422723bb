"""`lingtan run`: the nightly Dagster job executed in this process (same assets, checks and outputs as a
launch from the Dagster UI)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from orchestration.lib.home import Home, home_uri, landing_uri
from orchestration.lib.ingest import ensure_empty_tables
from orchestration.lib.runrecord import write_run_record
from orchestration.lib.storage import Landing


class LandingMissing(Exception):
    """The landing zone given does not exist (a clear message, no traceback)."""


@dataclass
class RunOutcome:
    success: bool
    home: Home
    landing: str
    ingest: dict[str, dict[str, int]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    run_record: Path | None = None


def _progress(echo):
    """Event-log listener printing one line per step, so a long run shows where it is."""
    started: dict[str, float] = {}

    def on_event(entry, *_args) -> None:
        ev = getattr(entry, "dagster_event", None)
        if ev is None or ev.step_key is None:
            return
        kind = ev.event_type_value
        if kind == "STEP_START":
            started[ev.step_key] = time.perf_counter()
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            secs = time.perf_counter() - started.get(ev.step_key, time.perf_counter())
            mark = "ok" if kind == "STEP_SUCCESS" else "FAILED"
            echo(f"  {ev.step_key:<36} {mark:>6} {secs:6.1f} s")

    return on_event


def run_window(landing: Landing, home: Home, up_to: date | None = None) -> tuple[str, str]:
    """Partition range of a run: from the earliest drop with new or changed files to `up_to` (default today).
    Dagster records every partition of a range, so a run spans only the drops it needs (one day when nothing
    is new), not the whole history."""
    from orchestration.defs.partitions import daily_drops
    from orchestration.lib.ingest import pending_drop_dates

    keys = daily_drops.get_partition_keys()
    end = min((up_to or date.today()).isoformat(), keys[-1])
    pending = [d.isoformat() for d in pending_drop_dates(landing, home, date.fromisoformat(end))]
    start = max(min(pending[0], end) if pending else end, keys[0])
    return start, end


def run_nightly(
    landing: str | None = None, home: str | None = None, up_to: date | None = None, echo=print
) -> RunOutcome:
    from orchestration.definitions import defs

    landing_u, home_u = landing_uri(landing), home_uri(home)
    os.environ["LINGTAN_LANDING"], os.environ["LINGTAN_HOME"] = landing_u, home_u
    if not landing_u.startswith("s3://") and not Path(landing_u).is_dir():
        raise LandingMissing(
            f"landing zone {landing_u} does not exist; create it, or run `lingtan demo --landing "
            f"{landing_u}` for demo data"
        )
    h = Home.open(home_u)
    os.environ["LINGTAN_HOME"] = str(h.root)  # the local folder (an S3 home works on its local mirror)
    ensure_empty_tables(h)
    start, end = run_window(Landing.open(landing_u), h, up_to)
    job = defs().resolve_job_def("nightly")
    started = datetime.now(UTC)
    instance = dg.DagsterInstance.ephemeral()
    run_id = str(uuid.uuid4())
    instance.add_event_listener(run_id, _progress(echo))
    try:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    finally:
        instance.dispose()
    out = RunOutcome(result.success, h, landing_u)
    for ev in result.get_asset_materialization_events():
        m = ev.materialization
        key = m.asset_key.to_user_string()
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
                out.failed_checks.append(
                    f"{data.asset_key.to_user_string()}:{data.check_name}"
                    + (f" ({details.value})" if details else "")
                )
        elif ev.event_type_value == "STEP_FAILURE":
            err = ev.event_specific_data.error
            out.failed_steps.append(
                f"{ev.step_key}: {err.message.strip().splitlines()[0] if err else 'failed'}"
            )
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
    )
    if home_u.startswith("s3://"):
        from orchestration.lib.s3home import push

        echo(f"  … pushing the home to {home_u} ({push(home_u, h.root)} files)")
    return out
