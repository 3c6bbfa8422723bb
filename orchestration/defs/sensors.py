"""Landing-zone sensor: a new or changed file in a drop folder requests a run for that drop date.

The cursor holds the change token (S3 ETag or mtime+size) of every file already seen, so each change
requests one run; unchanged files never do. Declared running: it evaluates as soon as the Dagster daemon runs
(`make dev`); switch it off in the UI (Automation) to stop it.
"""

import json

import dagster as dg

from orchestration.defs.jobs import nightly_job
from orchestration.defs.partitions import run_tags
from orchestration.lib.config import LingtanConfig
from orchestration.lib.ingest import pending_drop_dates


@dg.sensor(job=nightly_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
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
    # A drop `lingtan run` already ingested into this home needs no run (the UI's first evaluation after
    # `make run` sees every file as new to its empty cursor).
    changed_dates &= {d.isoformat() for d in pending_drop_dates(lingtan.landing_zone(), lingtan.home_dir())}
    if not changed_dates:
        return dg.SensorResult(
            skip_reason="changed files are already in the lake (ingested by `lingtan run`)",
            cursor=json.dumps(current, sort_keys=True),
        )
    token = ",".join(sorted(f"{k}={v}" for k, v in current.items() if seen.get(k) != v))
    first, last = min(changed_dates), max(changed_dates)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"landing:{first}:{last}:{hash(token) & 0xFFFFFFFF:08x}",
                tags=run_tags(first, last),
            )
        ],
        cursor=json.dumps(current, sort_keys=True),
    )
