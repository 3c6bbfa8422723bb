"""Launch the nightly job on the Celery workers (docs/distributed.md):

    python -m orchestration.distributed.launch --landing s3://… --home s3://bucket/prefix --date 2026-11-24

The run process orchestrates (plans, submits each step to Celery, records events in the Dagster instance
$DAGSTER_HOME, which the workers must reach: a shared folder on one machine, Postgres across machines); the
steps run on the workers. The run window and tags are those of `lingtan run` (orchestration/defs/partitions.py).
"""

from __future__ import annotations

import argparse
import os
import socket
from datetime import date
from typing import Any

import dagster as dg

from orchestration.defs.partitions import run_tags, run_window
from orchestration.distributed.definitions import nightly_job
from orchestration.distributed.executor import backend_url, broker_url
from orchestration.distributed.sync import StepSync
from orchestration.lib.home import Home, home_uri, landing_uri
from orchestration.lib.ingest import ensure_empty_tables
from orchestration.lib.storage import Landing
from orchestration.pipeline import TAG_HOST, TAG_ORIGIN, TAG_PID, dagster_home

ORIGIN = "lingtan distributed launch"


def prepare(landing: str, home: str, up_to: date | None) -> tuple[str, str]:
    """The run window (first and last drop date), after giving every dataset its empty tables (as `lingtan
    run` does); with an S3 home both happen on a synced mirror and the new tables are pushed."""
    if not home.startswith("s3://"):
        h = Home.open(home)
        ensure_empty_tables(h)
        return run_window(Landing.open(landing), h, up_to)
    sync = StepSync(home)
    sync.lock()
    try:
        sync.pull()
        h = Home(sync.root)
        ensure_empty_tables(h)
        window = run_window(Landing.open(landing), h, up_to)
        sync.push()
        return window
    finally:
        sync.unlock()


def launch(
    instance: dg.DagsterInstance,
    landing: str | None = None,
    home: str | None = None,
    up_to: date | None = None,
    certificate_price: float | None = None,
    broker: str | None = None,
    backend: str | None = None,
) -> dg.ExecuteJobResult:
    """Run the nightly job over the pending drops up to `up_to` with the Celery executor; returns Dagster's
    result (the run's events are in `instance`)."""
    landing_u, home_u = landing_uri(landing), home_uri(home)
    start, end = prepare(landing_u, home_u, up_to)
    # the home as given (an S3 URI: every step syncs it, resource.py), a local one as an absolute path
    config: dict[str, Any] = {
        "landing": landing_u,
        "home": home_u if home_u.startswith("s3://") else str(Home.open(home_u).root),
    }
    if certificate_price is not None:
        config["certificate_price"] = certificate_price
    return dg.execute_job(
        dg.reconstructable(nightly_job),
        instance=instance,
        run_config={
            "execution": {"config": {"broker": broker or broker_url(), "backend": backend or backend_url()}},
            "resources": {"lingtan": {"config": config}},
        },
        tags={
            **run_tags(start, end),
            TAG_ORIGIN: ORIGIN,
            TAG_PID: str(os.getpid()),
            TAG_HOST: socket.gethostname(),
        },
        raise_on_error=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the nightly job on the Celery workers.")
    parser.add_argument("--landing", default=None, help="landing zone (default $LINGTAN_LANDING)")
    parser.add_argument("--home", default=None, help="home, s3://bucket/prefix (default $LINGTAN_HOME)")
    parser.add_argument("--date", default=None, help="last drop date (default today)")
    parser.add_argument("--certificate-price", type=float, default=None)
    args = parser.parse_args(argv)
    up_to = date.fromisoformat(args.date) if args.date else None
    with dg.DagsterInstance.from_config(str(dagster_home())) as instance:
        result = launch(instance, args.landing, args.home, up_to, args.certificate_price)
    print(f"run {result.run_id}: {'success' if result.success else 'FAILED'}")
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
