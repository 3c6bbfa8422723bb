"""Distributed execution of the nightly job: the same Dagster definitions with dagster-celery's executor
(executor.py), the S3 home synced per step (sync.py, resource.py), the Celery app the workers run (worker.py)
and a launcher (launch.py). docs/distributed.md."""
