"""A home on S3: the run works on a local mirror and pushes lake, reports and run records back."""

from __future__ import annotations

import boto3

from orchestration.lib.home import Home
from orchestration.lib.s3home import local_mirror, push


def test_push_then_mirror_round_trip(tmp_path, s3_bucket, monkeypatch):
    uri = f"s3://{s3_bucket}/homes/plant-a"
    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "cache1"))
    root = local_mirror(uri)
    (root / "lake/raw/suppliers").mkdir(parents=True)
    (root / "lake/raw/suppliers/current.parquet").write_bytes(b"PAR1 demo")
    (root / "reports/2026").mkdir(parents=True)
    (root / "reports/2026/summary.html").write_text("<html></html>")
    (root / "warehouse").mkdir()
    (root / "warehouse/lingtan.duckdb").write_bytes(b"local only")
    assert push(uri, root) == 2
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {
        "homes/plant-a/lake/raw/suppliers/current.parquet",
        "homes/plant-a/reports/2026/summary.html",
    }

    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "cache2"))  # another machine
    home = Home.open(uri)
    assert (home.raw_table("suppliers")).read_bytes() == b"PAR1 demo"
    assert not home.warehouse.exists()  # the DuckDB file always lives on local disk
