"""The nightly definitions for distributed runs: the same assets, checks, jobs, schedules and sensors as
orchestration/definitions.py, with the Celery executor (executor.py) and the per-step synced `lingtan` resource
(resource.py). `nightly_job` is the reconstructable target the run process and the Celery workers load; `defs`
the code location of a Celery deployment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.distributed.executor import lingtan_celery_executor
from orchestration.distributed.resource import StepSyncedLingtan

PROJECT_MODULE_DIR = Path(
    __file__
).parent.parent  # orchestration/ (unresolved: a symlinked package stays in its checkout)


def distributed_defs() -> dg.Definitions:
    base = dg.load_from_defs_folder(path_within_project=PROJECT_MODULE_DIR)
    return dg.Definitions(
        assets=base.assets,
        asset_checks=base.asset_checks,
        jobs=base.jobs,
        schedules=base.schedules,
        sensors=base.sensors,
        loggers=base.loggers,
        resources={**(base.resources or {}), "lingtan": StepSyncedLingtan()},
        executor=lingtan_celery_executor,
    )


def nightly_job() -> dg.JobDefinition:
    """The nightly job on the Celery executor (pass `dg.reconstructable(nightly_job)` to `dg.execute_job`)."""
    return distributed_defs().resolve_job_def("nightly")


@dg.definitions
def defs() -> dg.Definitions:
    """Code location of the Celery deployment: `dg dev -m orchestration.distributed.definitions`, the Helm
    chart's `--module-name orchestration.distributed.definitions` (docs/distributed.md)."""
    return distributed_defs()
