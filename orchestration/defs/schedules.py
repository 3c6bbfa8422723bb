"""Nightly at 02:00 factory time: the drops that are new or changed since the last run, up to today. Declared
running: it fires whenever the Dagster daemon runs (`make dev`); switch it off in the UI (Automation)."""

from datetime import datetime

import dagster as dg

from orchestration.defs.jobs import nightly_job
from orchestration.defs.partitions import DROP_TIMEZONE, run_tags, run_window
from orchestration.lib.config import LingtanConfig


@dg.schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone=DROP_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, lingtan: LingtanConfig) -> dg.RunRequest:
    run_day = (context.scheduled_execution_time or datetime.now()).date()
    start, end = run_window(lingtan.landing_zone(), lingtan.home_dir(), run_day)
    return dg.RunRequest(
        run_key=f"nightly:{run_day.isoformat()}",
        tags=run_tags(start, end),
    )
