"""A home on S3: the run works on a local mirror and pushes lake, reports and run records back."""

from __future__ import annotations

import boto3

from orchestration.lib.home import Home
from orchestration.lib.s3home import local_mirror, push


def test_push_then_mirror_round_trip(tmp_path, s3_bucket, monkeypatch):
    uri = f"s3://{s3_bucket}/homes/plant-a"
    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "cache1"))
    root = local_mirror(uri)
    (root / "lake/raw/suppliers/current").mkdir(parents=True)
    (root / "lake/raw/suppliers/current/part-00000.parquet").write_bytes(b"PAR1 demo")
    (root / "reports/2026").mkdir(parents=True)
    (root / "reports/2026/summary.html").write_text("<html></html>")
    (root / "warehouse").mkdir()
    (root / "warehouse/lingtan.duckdb").write_bytes(b"local only")
    assert push(uri, root) == 2
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {
        "homes/plant-a/lake/raw/suppliers/current/part-00000.parquet",
        "homes/plant-a/reports/2026/summary.html",
    }

    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "cache2"))  # another machine
    home = Home.open(uri)
    assert (home.raw_table("suppliers") / "part-00000.parquet").read_bytes() == b"PAR1 demo"
    assert not home.warehouse.exists()  # the DuckDB file always lives on local disk


def test_a_part_removed_by_one_machine_leaves_the_home_and_the_other_mirrors(
    tmp_path, s3_bucket, monkeypatch
):
    """A raw table rebuilt into fewer parts: the part it no longer has is deleted on S3 by the push and from
    another machine's mirror by its next pull, so no reader sees its rows twice."""
    uri = f"s3://{s3_bucket}/homes/plant-b"
    mirrors = []
    for n in (1, 2):
        monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / f"cache{n}"))
        mirrors.append(local_mirror(uri))
    a, b = mirrors
    parts = a / "lake/raw/exports/current"
    parts.mkdir(parents=True)
    for i in (0, 1):
        (parts / f"part-0000{i}.parquet").write_bytes(b"rows %d" % i)
    (a / "reports/2026").mkdir(parents=True)
    (a / "reports/2026/old.html").write_text("kept")
    push(uri, a)
    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "cache2"))
    assert sorted(p.name for p in (local_mirror(uri) / "lake/raw/exports/current").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    (parts / "part-00001.parquet").unlink()  # machine 1 rebuilds the table into one part
    (parts / "part-00000.parquet").write_bytes(b"all rows")
    (a / "reports/2026/old.html").unlink()  # only a table's parts are removed from the home
    push(uri, a)
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {
        "homes/plant-b/lake/raw/exports/current/part-00000.parquet",
        "homes/plant-b/reports/2026/old.html",
    }
    assert local_mirror(uri) == b
    assert [p.name for p in (b / "lake/raw/exports/current").iterdir()] == ["part-00000.parquet"]
    assert (b / "lake/raw/exports/current/part-00000.parquet").read_bytes() == b"all rows"
