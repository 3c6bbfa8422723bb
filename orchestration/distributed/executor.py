"""dagster-celery's executor with one routing rule: the steps that write or read the DuckDB warehouse (dbt, the
publish, the reports) go to the warehouse queue, which one worker consumes (the single writer, with the
warehouse on its disk); every other step (ingest by dataset, the engines) goes to the shared queue that every
worker consumes, so those steps spread over the workers.

Broker and result backend: the executor config (`broker`, `backend`), else $LINGTAN_CELERY_BROKER /
$LINGTAN_CELERY_BACKEND (backend defaults to the broker), else Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from dagster_celery.config import DEFAULT_CONFIG, dict_wrapper
from dagster_celery.core_execution_loop import core_celery_execution_loop
from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor, _submit_task
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from orchestration.pipeline import stage_of

BROKER_ENV, BACKEND_ENV = "LINGTAN_CELERY_BROKER", "LINGTAN_CELERY_BACKEND"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
SHARED_QUEUE = "dagster"  # dagster-celery's default queue
WAREHOUSE_QUEUE = "lingtan-warehouse"
WAREHOUSE_STAGES = ("dbt", "publish", "reports")  # stages of orchestration.pipeline.stage_of


def broker_url() -> str:
    return os.environ.get(BROKER_ENV) or DEFAULT_BROKER


def backend_url() -> str:
    return os.environ.get(BACKEND_ENV) or broker_url()


def queue_for(step_key: str, step_tags: dict[str, str] | None = None) -> str:
    """The Celery queue of a step: an explicit `dagster-celery/queue` op tag wins; warehouse stages go to the
    warehouse queue; everything else to the shared queue."""
    tagged = (step_tags or {}).get(DAGSTER_CELERY_QUEUE_TAG)
    if tagged:
        return tagged
    return WAREHOUSE_QUEUE if stage_of(step_key) in WAREHOUSE_STAGES else SHARED_QUEUE


def app_args(broker: str | None = None, backend: str | None = None) -> dict[str, Any]:
    """The Celery app's arguments, the same for the run's executor and the workers (worker.py)."""
    return {
        "broker": broker or broker_url(),
        "backend": backend or backend_url(),
        "include": [],
        "config_source": dict_wrapper(dict(DEFAULT_CONFIG)),
    }


def _submit_routed(app, plan_context, step, _queue, priority, known_state):
    return _submit_task(app, plan_context, step, queue_for(step.key, step.tags), priority, known_state)


class LingtanCeleryExecutor(CeleryExecutor):
    def execute(self, plan_context, execution_plan):
        return core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=_submit_routed)


CONFIG = {
    **CELERY_CONFIG,
    "backend": dg.Field(
        dg.Noneable(dg.StringSource),
        is_required=False,
        description=f"Celery result backend; default ${BACKEND_ENV}, else the broker.",
    ),
}


@dg.executor(
    name="lingtan_celery",
    config_schema=CONFIG,
    requirements=dg.multiple_process_executor_requirements(),
)
def lingtan_celery_executor(init_context: dg.InitExecutorContext) -> LingtanCeleryExecutor:
    """dagster-celery's executor, warehouse steps routed to the warehouse queue (module docstring)."""
    from dagster._core.execution.retries import RetryMode

    cfg = init_context.executor_config
    return LingtanCeleryExecutor(
        broker=cfg.get("broker") or broker_url(),
        backend=cfg.get("backend") or backend_url(),
        config_source=cfg.get("config_source"),
        include=cfg.get("include"),
        retries=RetryMode.from_config(cfg["retries"]),  # type: ignore[arg-type]
    )
