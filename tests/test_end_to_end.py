"""`lingtan demo` + `lingtan run` as a user runs them: the whole nightly job (ingest, engines, dbt, publish) on a
small demo, then the README's analyst queries against the published warehouse; a second run changes no raw data."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.lib.home import Home
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(demo_landing, demo_home, demo_outcome):
    """The session's shared demo (tests/conftest.py): `lingtan demo` + `lingtan run` through the CLI."""
    return demo_landing, demo_home.root, demo_outcome


def test_run_succeeds_and_prints_where_things_are(demo_run):
    _, home, run = demo_run
    assert run["run_exit_code"] == 0, run["output"]
    for needle in (
        "supplier_invoices",
        "quarantined",
        "CBAM specific embedded emissions per good",
        "warehouse:",
    ):
        assert needle in run["output"]
    assert Home(home).warehouse.exists()
    records = sorted(Home(home).runs.glob("*.json"))
    assert records and "run record:" in run["output"]
    rec = json.loads(records[-1].read_text())
    assert rec["success"] and rec["input_files"] and rec["reference_seeds"]["cbam_default_values.csv"]
    assert "computed/goods_see" in rec["materialized"]
    # dbt ran in the process `lingtan run` forked at its start (orchestration/lib/warm_dbt.py), and finished
    log = max(Home(home).root.joinpath("logs").glob("run-*.log"), key=lambda p: p.stat().st_mtime)
    text = log.read_text(encoding="utf-8")
    assert "dbt build: in the dbt process forked at the start of the run" in text
    assert "Completed successfully" in text


def readme_queries() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## For analysts.*?```sql\n(.*?)```", text, re.S).group(1)
    return [q.strip() for q in block.split(";") if "select" in q.lower()]


def test_readme_analyst_queries_answer(demo_run):
    _, home, _ = demo_run
    con = duckdb.connect(str(Home(home).warehouse), read_only=True)
    con.execute("use lingtan.marts")
    queries = readme_queries()
    assert len(queries) == 5
    for q in queries:
        assert con.execute(q).fetchall(), q  # every question has an answer on the demo data
    con.close()


def test_marts_trace_back_to_source_rows(demo_run):
    _, home, _ = demo_run
    con = duckdb.connect(str(Home(home).warehouse), read_only=True)
    row = con.execute("select source_row_id from lingtan.marts.fct_cbam_export_lines limit 1").fetchone()[0]
    dataset, drop, rest = row.split("/", 2)
    assert dataset == "exports" and re.match(r"\d{4}-\d{2}-\d{2}$", drop) and "#" in rest
    con.close()


def test_second_run_leaves_the_raw_lake_unchanged(demo_run, tmp_path):
    landing, shared_home, _ = demo_run
    home = tmp_path / "home"  # a copy: the shared demo home is read by other tests
    shutil.copytree(shared_home, home, symlinks=True)
    raw = Home(home).raw

    def fingerprint():
        return {p.as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in raw.rglob("*.parquet")}

    before = fingerprint()
    again = CliRunner().invoke(
        app, ["run", "--landing", str(landing), "--home", str(home), "--date", "2026-11-24"]
    )
    assert again.exit_code == 0, again.output
    assert fingerprint() == before
