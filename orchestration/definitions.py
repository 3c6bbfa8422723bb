"""Dagster entry point (`dg dev`, `dg check defs`): everything under defs/ is autoloaded. With
LINGTAN_EXECUTOR=celery (a code location serving Celery workers, docs/distributed.md) the same definitions run
on the Celery executor with the per-step synced home: orchestration/distributed/definitions.py."""

import os
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    if os.environ.get("LINGTAN_EXECUTOR", "").strip().lower() == "celery":
        from orchestration.distributed.definitions import distributed_defs

        return distributed_defs()
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=dg.in_process_executor),
    )
