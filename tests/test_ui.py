"""The Dagster UI and `lingtan run` are one product (issue 10, item 1):

- after `lingtan run`, the UI (`dg dev`, as `make dev` starts it) on the same home lists that run, successful,
  and shows its pages: screenshots saved in headless Chromium under <home>/ui/;
- the nightly job launched from the UI (GraphQL `launchRun`, what the launchpad's button sends; the run
  executes in Dagster's run worker process, not in the test) gives the same marts, row for row, and
  byte-identical report files as `lingtan run` (report.json without the
  fields naming the run: tests/outputs.py) on the same landing zone.

The landing zone is the Commission's cement example (one installation, a few dozen rows).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from orchestration.defs.partitions import run_tags, run_window
from orchestration.lib.home import Home
from orchestration.lib.storage import Landing
from orchestration.pipeline import INSTANCE_TEMPLATE
from tests.conftest import EXAMPLE_DROP as DROP
from tests.outputs import mart_digests, report_files
from tools import ui

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ui.CHROMIUM.exists(), reason="no /usr/bin/chromium (make browser installs it)"),
]


@pytest.fixture(scope="module")
def landing(example_run) -> Path:
    return example_run("cement")[0]


@pytest.fixture(scope="module")
def cli_home(example_run) -> Home:
    """The cement example after `lingtan run` (shared with the other end-to-end tests; only read here, the UI
    adds its own sensor and schedule state to the instance)."""
    return example_run("cement")[1]


def test_the_ui_shows_the_run_lingtan_run_recorded(landing: Path, cli_home: Home) -> None:
    instance = cli_home.root / "dagster"
    # the sensor (running in `dg dev`) looks at this landing zone and home: all ingested, it requests nothing
    env = {"LINGTAN_HOME": str(cli_home.root), "LINGTAN_LANDING": str(landing)}
    with ui.dagster_ui(instance, env=env) as url:
        # named by pyproject's [tool.dg.project], not by the folder the repository was cloned into
        assert [loc for loc, _ in ui.locations(url)] == ["lingtan"]
        runs = ui.runs(url)
        assert [(r["jobName"], r["status"]) for r in runs] == [("nightly", "SUCCESS")]
        tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
        assert tags["lingtan/origin"] == "lingtan run"
        saved = ui.screenshots(url, cli_home.root / "ui", runs[0]["runId"])
    assert [p.name for p in saved] == ["runs.png", "run.png", "catalog.png", "lineage.png"]
    for p in saved:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 20_000, p


def test_a_ui_launch_gives_the_same_marts_and_reports_as_lingtan_run(
    landing: Path, cli_home: Home, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home")
    instance = home.root / "dagster"
    instance.mkdir(parents=True)
    # The committed instance settings, with runs launched at once by the webserver (no daemon: no sensor or
    # schedule tick may start a second run of this landing zone while the test waits for its own).
    (instance / "dagster.yaml").write_text(
        INSTANCE_TEMPLATE.read_text(encoding="utf-8")
        + "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n",
        encoding="utf-8",
    )
    tags = run_tags(*run_window(Landing.open(str(landing)), home, date.fromisoformat(DROP)))
    env = {"LINGTAN_HOME": str(home.root), "LINGTAN_LANDING": str(landing)}
    with ui.dagster_ui(instance, env=env, daemon=False) as url:
        run_id = ui.launch_nightly(url, tags)
        status = ui.wait_for_run(url, run_id)
        assert status == "SUCCESS", f"UI-launched run {run_id}: {status} (see {instance})"
    cli_build = cli_home.root / "warehouse" / "lingtan.duckdb"  # the published warehouse
    ui_build = home.root / "warehouse" / "lingtan.duckdb"
    assert mart_digests(ui_build) == mart_digests(cli_build)
    assert report_files(home.root / "reports") == report_files(cli_home.root / "reports")
