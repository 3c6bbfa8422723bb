"""The Celery app the workers run:

    celery -A orchestration.distributed.worker worker -Q dagster -c 1            # a compute worker
    celery -A orchestration.distributed.worker worker -Q dagster,lingtan-warehouse -c 1   # the warehouse writer

Broker and backend from $LINGTAN_CELERY_BROKER / $LINGTAN_CELERY_BACKEND (executor.py). Exactly one worker may
consume the warehouse queue (docs/distributed.md)."""

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from orchestration.distributed.executor import app_args

app = make_app(app_args())
execute_plan = create_task(app)
