"""Nightly at 02:00 factory time: process every drop up to yesterday's date (and today's so far)."""

from datetime import datetime

import dagster as dg

from orchestration.defs.jobs import nightly_job
from orchestration.defs.partitions import DROP_TIMEZONE, daily_drops


@dg.schedule(job=nightly_job, cron_schedule="0 2 * * *", execution_timezone=DROP_TIMEZONE)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    run_day = (context.scheduled_execution_time or datetime.now()).date()
    keys = daily_drops.get_partition_keys()
    start = keys[0]
    end = min(run_day.isoformat(), keys[-1])
    return dg.RunRequest(
        run_key=f"nightly:{run_day.isoformat()}",
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
    )
