"""`lingtan run`: the nightly Dagster job executed in this process (same assets, checks and outputs as a
launch from the Dagster UI)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.lib.home import Home, home_uri, landing_uri
from orchestration.lib.ingest import ensure_empty_tables


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


class _Progress(logging.Handler):
    """Prints one line per step start/finish so that a long run shows where it is."""

    def __init__(self, echo):
        super().__init__(logging.INFO)
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        ev = getattr(record, "dagster_meta", {}).get("dagster_event")
        if ev is None:
            return
        kind = ev.event_type_value
        if kind == "STEP_START":
            self.echo(f"  … {ev.step_key}")
        elif kind == "STEP_FAILURE":
            self.echo(f"  ✗ {ev.step_key}")


def run_nightly(
    landing: str | None = None, home: str | None = None, up_to: date | None = None, echo=print
) -> RunOutcome:
    from orchestration.definitions import defs
    from orchestration.defs.partitions import daily_drops

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
    keys = daily_drops.get_partition_keys()
    end = min((up_to or date.today()).isoformat(), keys[-1])
    job = defs().resolve_job_def("nightly")
    progress = _Progress(echo)
    logging.getLogger("dagster").addHandler(progress)
    try:
        result = job.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": end},
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    finally:
        logging.getLogger("dagster").removeHandler(progress)
    if home_u.startswith("s3://"):
        from orchestration.lib.s3home import push

        echo(f"  … pushing the home to {home_u} ({push(home_u, h.root)} files)")
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
    return out
