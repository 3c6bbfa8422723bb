"""Shared fixtures: quiet telemetry, moto's S3 server on 127.0.0.1, and one demo home per test session (built
once under a file lock and shared by every xdist worker: `lingtan demo --scale 0.1` + `lingtan run`)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from filelock import FileLock

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared reference files not present")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback; yields its endpoint URL and sets the AWS env for boto3 and polars."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_ALLOW_HTTP",
        )
    }
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "AWS_ALLOW_HTTP": "true",
        }
    )
    yield endpoint
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def s3_bucket(s3_server):
    import uuid

    import boto3

    name = f"lt-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    return name


DEMO_DATE = "2026-11-24"


def _build_demo(root: Path) -> None:
    """`lingtan demo` + `lingtan run` through the CLI, as a user runs them; the outcome (exit codes and the run's
    console output) is kept for the end-to-end tests."""
    from typer.testing import CliRunner

    from orchestration.cli import app

    runner = CliRunner()
    landing, home = root / "landing", root / "home"
    demo = runner.invoke(app, ["demo", "--landing", str(landing), "--scale", "0.1", "--seed", "7"])
    run = None
    if demo.exit_code == 0:
        run = runner.invoke(app, ["run", "--landing", str(landing), "--home", str(home), "--date", DEMO_DATE])
    outcome = {
        "success": demo.exit_code == 0 and run is not None and run.exit_code == 0,
        "demo_exit_code": demo.exit_code,
        "run_exit_code": run.exit_code if run else None,
        "output": run.output if run else demo.output,
    }
    (root / "outcome.json").write_text(json.dumps(outcome))


def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared demo folder (landing/, home/, outcome.json), built on first use."""
    base = tmp_path_factory.getbasetemp()
    # xdist workers' basetemps (pytest-N/popen-gwK) share pytest-N: one build per session, never across sessions
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "lingtan-demo-home"
    with FileLock(str(shared) + ".lock"):
        if not (shared / "outcome.json").exists():
            shared.mkdir(exist_ok=True)
            _build_demo(shared)
    return shared


EXAMPLE_DROP = "2024-02-01"  # the drop date the Commission's worked examples land on


def _build_example(root: Path, name: str) -> None:
    """The worked example `name` as a landing zone through `lingtan run` (CLI, DAGSTER_HOME unset: the instance is
    <home>/dagster), as a user runs it."""
    from typer.testing import CliRunner

    from orchestration.cli import app
    from tests.pipeline.test_examples_through_pipeline import write_landing
    from tools.refbuild.examples.fixtures import load_fixture
    from tools.refbuild.examples.landing import fixture_to_landing_rows

    landing, home = root / "landing", root / "home"
    write_landing(fixture_to_landing_rows(load_fixture(name)), landing, EXAMPLE_DROP)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("DAGSTER_HOME", "LINGTAN_HOME", "LINGTAN_LANDING"):
            mp.delenv(var, raising=False)
        run = CliRunner().invoke(
            app, ["run", "--landing", str(landing), "--home", str(home), "--date", EXAMPLE_DROP]
        )
    (root / "outcome.json").write_text(json.dumps({"exit_code": run.exit_code, "output": run.output}))


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory):
    """`example_run(name)` → (landing, home) of the worked example after one `lingtan run`, built once per session
    and shared across workers (the end-to-end tests of reports, the pipeline, faults and the UI read it; never
    write to it)."""
    from orchestration.lib.home import Home

    def get(name: str) -> tuple[Path, Home]:
        base = tmp_path_factory.getbasetemp()
        shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"lingtan-example-{name}"
        with FileLock(str(shared) + ".lock"):
            if not (shared / "outcome.json").exists():
                shared.mkdir(exist_ok=True)
                _build_example(shared, name)
        outcome = json.loads((shared / "outcome.json").read_text())
        assert outcome["exit_code"] == 0, outcome["output"][-3000:]
        return shared / "landing", Home(shared / "home")

    return get


@pytest.fixture(scope="session")
def demo_outcome(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """How the shared demo build went: exit codes and `lingtan run`'s console output."""
    return json.loads((demo_root(tmp_path_factory) / "outcome.json").read_text())


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's landing zone (read it, never write to it)."""
    return demo_root(tmp_path_factory) / "landing"


@pytest.fixture(scope="session")
def demo_home(demo_outcome: dict, tmp_path_factory: pytest.TempPathFactory):
    """The demo's home after one nightly run (shared across workers; read it, never write to it)."""
    from orchestration.lib.home import Home

    assert demo_outcome["success"], demo_outcome["output"][-3000:]
    return Home(demo_root(tmp_path_factory) / "home")


# The longest modules first, so that xdist's two workers (`make test`: `--dist loadfile --no-loadscope-reorder`)
# finish together instead of one running the last end-to-end module alone while the other idles (by default xdist
# queues the modules with the most tests first, which put these one- to three-test modules at the very end).
# Longest first from a durations run of the whole suite (a clone of 57ad8a9, `--durations=60`, each module's
# setup + call summed); the first two need different shared builds (the demo, the cement example), so neither
# worker starts by waiting on the other's lock. xdist hands a worker its next module once it has two tests or
# fewer pending, so the first four modules start at once. Order only: nothing is skipped.
LONGEST_FIRST = (
    "tests/reports/test_run_reports.py",
    "tests/reliability/test_kills.py",
    "tests/test_ui.py",
    "tests/test_isolation.py",
    "tests/test_incremental.py",
    "tests/reliability/test_disk_full.py",
    "tests/test_determinism.py",
    "tests/dbt/test_dagster_warehouse.py",
    "tests/test_period_lock.py",
    "tests/test_instance.py",
    "tests/reliability/test_faults.py",
    "tests/bench/test_bench_runs.py",
    "tests/reports/test_communication_examples.py",
    "tests/ingest/test_dagster_ingest.py",
    "tests/reports/test_declaration_marts.py",
    "tests/dbt/test_warehouse.py",
    "tests/ingest/test_demo_ingest.py",
    "tests/ingest/test_fast_path_json.py",
    "tests/ingest/test_fast_path.py",
    "tests/demo/test_generate.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(
        key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank))
    )  # stable: order kept within
