"""Reports on an S3 home (moto's server on 127.0.0.1): published versions are uploaded with time-limited
download links for the Dagster UI, and `lingtan reports list|get` work against the bucket from a fresh cache."""

from __future__ import annotations

import urllib.request

from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.lib.reports import PRESIGN_SECONDS, presign_published
from orchestration.lib.s3home import mirror_dir
from tests.reports.test_publication import export_line, make_home, stage


def test_s3_home_uploads_versions_with_presigned_links(s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "cache"))
    uri = f"s3://{s3_bucket}/lingtan"
    home = make_home(mirror_dir(uri), [export_line("I1", 1, 10.0)])
    result = stage(home)
    links = presign_published(uri, home, result)
    url = links["tiny"]["tiny/I1_2026/v1/tiny.json"]
    assert f"X-Amz-Expires={PRESIGN_SECONDS}" in url and url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as r:  # the link works without credentials
        assert r.read() == (home.reports / "tiny/I1_2026/v1/tiny.json").read_bytes()
    assert "run_manifest" in links and any(k.endswith("manifest.json") for k in links["run_manifest"])

    # a user elsewhere: empty cache, the bucket only
    monkeypatch.setenv("LINGTAN_CACHE", str(tmp_path / "other-cache"))
    runner = CliRunner()
    listed = runner.invoke(app, ["reports", "list", "--home", uri])
    assert listed.exit_code == 0 and "tiny/I1_2026/v1" in listed.output, listed.output
    got = runner.invoke(
        app, ["reports", "get", "tiny/I1_2026/v1", "--to", str(tmp_path / "out"), "--home", uri]
    )
    assert got.exit_code == 0, got.output
    assert (tmp_path / "out/tiny/I1_2026/v1/tiny.json").read_bytes() == (
        home.reports / "tiny/I1_2026/v1/tiny.json"
    ).read_bytes()
