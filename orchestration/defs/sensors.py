"""Landing-zone sensor: a new or changed file in a drop folder requests a run for that drop date.

The cursor holds the change token (S3 ETag or mtime+size) of every file already seen, so each change
requests one run; unchanged files never do.
"""

import json

import dagster as dg

from orchestration.defs.jobs import nightly_job
from orchestration.lib.config import LingtanConfig


@dg.sensor(job=nightly_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext, lingtan: LingtanConfig):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    changed_dates: set[str] = set()
    current: dict[str, str] = {}
    for f in lingtan.landing_zone().files():
        if f.drop_date is None:
            continue
        current[f.rel_path] = f.change_token
        if seen.get(f.rel_path) != f.change_token:
            changed_dates.add(f.drop_date.isoformat())
    if not changed_dates:
        return dg.SkipReason("no new or changed files in the landing zone")
    token = ",".join(sorted(f"{k}={v}" for k, v in current.items() if seen.get(k) != v))
    first, last = min(changed_dates), max(changed_dates)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"landing:{first}:{last}:{hash(token) & 0xFFFFFFFF:08x}",
                tags={
                    "dagster/asset_partition_range_start": first,
                    "dagster/asset_partition_range_end": last,
                },
            )
        ],
        cursor=json.dumps(current, sort_keys=True),
    )
