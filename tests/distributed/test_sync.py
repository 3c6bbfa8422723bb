"""The per-step sync of an S3 home (orchestration/distributed/sync.py) between two workers' mirrors, on moto's
S3 server: what one step writes, changes or deletes reaches the next step on another worker, a step pushes only
its own changes, and a changed file of the same size is downloaded again. Fast: part of `make test`."""

from __future__ import annotations

import os

import pytest

from orchestration.distributed.sync import PUBLISHED_WAREHOUSE, StepSync


@pytest.fixture
def two_mirrors(s3_bucket, tmp_path, monkeypatch):
    uri = f"s3://{s3_bucket}/home"

    def worker(name: str) -> StepSync:
        monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / name))
        return StepSync(uri)

    return worker("w1"), worker("w2")


def _step(sync: StepSync, write: dict[str, bytes] | None = None, delete: tuple[str, ...] = ()) -> tuple:
    sync.lock()
    try:
        pulled = sync.pull()
        for rel, data in (write or {}).items():
            path = sync.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for rel in delete:
            (sync.root / rel).unlink()
        return pulled, sync.push()
    finally:
        sync.unlock()


def test_steps_on_two_workers_see_each_others_outputs_and_push_only_their_own(two_mirrors):
    w1, w2 = two_mirrors
    assert w1.root != w2.root
    assert _step(w1, {"lake/raw/a/current.parquet": b"A1", "reports/x/v1/r.csv": b"r"}) == ((0, 0), (2, 0))
    # w2 pulls w1's outputs, writes its own dataset: only that one is pushed
    assert _step(w2, {"lake/raw/b/current.parquet": b"B1"}) == ((2, 0), (1, 0))
    # a file rewritten with the same size on w1 reaches w2 (compared by ETag, not by size)
    assert _step(w1, {"lake/raw/a/current.parquet": b"A2"}) == ((1, 0), (1, 0))
    (_, _), pushed = _step(w2)
    assert (w2.root / "lake/raw/a/current.parquet").read_bytes() == b"A2" and pushed == (0, 0)
    # a deletion on one worker deletes the object and, at the next pull, the other mirror's copy
    assert _step(w1, delete=("reports/x/v1/r.csv",))[1] == (0, 1)
    assert _step(w2)[0] == (0, 1) and not (w2.root / "reports/x/v1/r.csv").exists()


def test_what_is_not_the_home_stays_local_and_the_published_warehouse_is_pushed(two_mirrors):
    w1, w2 = two_mirrors
    _step(
        w1,
        {
            "lake/staging/a/part.parquet": b"staged",  # staging: never synced
            "warehouse/build/lingtan.duckdb": b"build",  # the writer's build: stays on its disk
            PUBLISHED_WAREHOUSE: b"published",
            "lake/raw/a/.tmp": b"hidden",
        },
    )
    client = w1.client
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=w1.bucket).get("Contents", [])}
    assert keys == {f"home/{PUBLISHED_WAREHOUSE}"}
    _step(w2)
    assert not (w2.root / "warehouse").exists()  # compute workers do not fetch the warehouse
    assert _step(w1)[1] == (0, 0)  # unchanged published warehouse: not uploaded again
    os.utime(w1.root / PUBLISHED_WAREHOUSE, ns=(1, 1))
    assert _step(w1)[1] == (1, 0)
