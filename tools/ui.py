"""The Dagster UI on a lingtan instance, driven from a script: start it as `make dev` does, wait until it
answers, ask its GraphQL API, launch the nightly job the way the UI's "Materialize" / "Launch run" button
does, and save screenshots in headless Chromium.

`make dev-screenshot` (= `python -m tools.ui screenshot`) opens the UI on the instance of the home
`lingtan run` used (`$LINGTAN_HOME`, else ./data) and saves `<home>/ui/runs.png`, `<home>/ui/run.png` (the
newest run), `<home>/ui/catalog.png` and `<home>/ui/lineage.png`, then stops the UI: the picture a user sees after `make run` and
`make dev`. tests/test_ui.py uses the same functions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: Mapping[str, Any] | None = None, timeout: float = 60) -> dict:
    body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
    req = urllib.request.Request(f"{url}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        out = json.loads(resp.read())
    if out.get("errors"):
        raise RuntimeError(f"GraphQL error: {out['errors']}")
    return out["data"]


LOCATIONS = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } }
  ... on PythonError { message } } } } } }"""


def locations(url: str) -> list[tuple[str, str]]:
    """(location, repository) pairs the UI has loaded; raises with the load error when one failed."""
    out = []
    for entry in graphql(url, LOCATIONS)["workspaceOrError"].get("locationEntries", []):
        loc = entry["locationOrLoadError"]
        if loc is None:
            continue  # still loading
        if loc["__typename"] == "PythonError":
            raise RuntimeError(f"code location {entry['name']} failed to load: {loc['message']}")
        out += [(entry["name"], r["name"]) for r in loc["repositories"]]
    return out


@contextmanager
def dagster_ui(
    dagster_home: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    timeout: float = 600,
    daemon: bool = True,
) -> Iterator[str]:
    """`dg dev` (webserver and daemon, as `make dev` starts them) on `dagster_home`, or with `daemon=False` the
    webserver alone (no schedule or sensor ticks); yields its URL once the code location has loaded; stops it
    (whole process group) on exit. Its output goes to <dagster_home>/ui.log."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = (dagster_home / "ui.log").open("ab")
    bin_dir = Path(sys.prefix) / "bin"
    where = ["--host", "127.0.0.1", "--port", str(port)]
    command = (
        [str(bin_dir / "dg"), "dev", *where]
        if daemon
        else [str(bin_dir / "dagster-webserver"), "-m", "orchestration.definitions", *where]
    )
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **(env or {}), "DAGSTER_HOME": str(dagster_home)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dg dev exited with {proc.returncode}: see {dagster_home / 'ui.log'}")
            try:
                if locations(url):
                    break
            except (OSError, RuntimeError) as e:
                if isinstance(e, RuntimeError) and "failed to load" in str(e):
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the Dagster UI did not load in {timeout:.0f} s: see {dagster_home}/ui.log"
                )
            time.sleep(1)
        yield url
    finally:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
        log.close()


LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message }
  ... on UnauthorizedError { message } } }"""

RUNS = """query { runsOrError { __typename ... on Runs { results { runId status jobName
  tags { key value } } } } }"""

RUN = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""


def launch_nightly(url: str, tags: Mapping[str, str]) -> str:
    """Launch the `nightly` job as the UI's launchpad does (GraphQL `launchRun`); the run id."""
    location, repository = locations(url)[0]
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": repository, "jobName": "nightly"},
        "runConfigData": "{}",
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    out = graphql(url, LAUNCH, {"p": params})["launchRun"]
    if out["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launch refused: {out}")
    return out["run"]["runId"]


def wait_for_run(url: str, run_id: str, timeout: float = 1200) -> str:
    """The run's final status (SUCCESS, FAILURE, CANCELED)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = graphql(url, RUN, {"id": run_id})["runOrError"].get("status")
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(2)
    raise TimeoutError(f"run {run_id} not finished after {timeout:.0f} s")


def runs(url: str) -> list[dict]:
    return graphql(url, RUNS)["runsOrError"]["results"]


def screenshots(url: str, out_dir: Path, run_id: str | None = None) -> list[Path]:
    """Headless Chromium (Debian's) with Playwright: the runs list, one run's page and the asset lineage."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    # (file, path, text that shows once the page has loaded)
    pages = [("runs", "/runs", "text=nightly")]
    if run_id:
        pages.append(("run", f"/runs/{run_id}", "text=RUN_SUCCESS"))
    pages.append(("catalog", "/assets", "text=Materialized"))
    pages.append(("lineage", "/asset-groups", "text=Global asset lineage"))
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            for name, path, ready in pages:
                _open(page, url + path, ready)
                page.wait_for_timeout(1500)  # let the lists settle (they stream in)
                target = out_dir / f"{name}.png"
                page.screenshot(path=str(target), full_page=False)
                saved.append(target)
        finally:
            browser.close()
    return saved


def _open(page, address: str, ready: str, attempts: int = 3) -> None:
    """`page` at `address` once `ready` shows. A run's event log streams in over a subscription that, on a loaded
    machine, can stall before its first events (the run page then never shows RUN_SUCCESS): the page is loaded
    again, up to `attempts` times, before giving up."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, attempts + 1):
        page.goto(address, wait_until="networkidle", timeout=120_000)
        try:
            page.locator(ready).first.wait_for(timeout=60_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts:
                raise


def main(argv: list[str]) -> int:
    from orchestration.lib.home import Home
    from orchestration.pipeline import dagster_home

    if argv[:1] != ["screenshot"]:
        print("usage: python -m tools.ui screenshot", file=sys.stderr)
        return 2
    home = Home.open()
    instance = dagster_home(home)
    print(f"Dagster instance: {instance}")
    with dagster_ui(instance) as url:
        recorded = runs(url)
        if not recorded:
            print(f"no run in {instance}: run `make run` first", file=sys.stderr)
            return 1
        for r in recorded[:5]:
            print(f"  run {r['runId'][:8]}  {r['jobName']}  {r['status']}")
        for path in screenshots(url, home.root / "ui", recorded[0]["runId"]):
            print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
