"""SIGKILL at every stage of a run (issue 11, scope 3), with no hook in the product: the test watches the home and
kills the `lingtan run` process (the parent only, as a user's `kill -9` would) the moment a stage is seen at work:

- ingest: a file staged under `lake/staging/<dataset>/<run>/`;
- engines: a file staged under `lake/staging/computed/<run>/`;
- dbt: the dbt child running (for a second);
- publish: the publish step started (its line in the run log) or the warehouse copy staged under
  `warehouse/.staging/`, whichever is seen first;
- reports: a document staged under `reports/.staging/<run>/`.

The points are chained on one home: each restart is killed at the next point, then one last run completes. After
every kill: no process of the run is left, and every published file (raw and computed Parquet, the warehouse,
report files) is readable and either the version before that run or the clean run's. After the last run: the marts
and report files equal those of one uninterrupted run of the same landing zone, the raw tables hold the clean
run's rows exactly (no duplicates, none lost), and no staging folder or half-written file is left anywhere.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import psutil

from orchestration.lib.home import Home
from tests.outputs import mart_digests, report_files
from tests.reliability.test_faults import DROP, LINGTAN, _env, _run

POINTS = ("ingest", "engines", "dbt", "publish", "reports")
WALL_CLOCK = ("processed_at",)  # when a file was read: differs between any two runs
POLL = 0.02
# what the stages after each point publish (dbt publishes nothing itself: its build is copied by publish)
LATER = {
    "ingest": ("lake/computed/", "warehouse", "reports/"),
    "engines": ("warehouse", "reports/"),
    "dbt": ("warehouse", "reports/"),
    "publish": ("reports/",),
    "reports": ("\0",),  # nothing after it
}


def _entries_under(folder: Path, depth: int) -> bool:
    """Anything (file or folder) `depth` levels below `folder` (1: its own entries)."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if depth == 1:
        return bool(entries)
    return any(e.is_dir(follow_symlinks=False) and _entries_under(Path(e.path), depth - 1) for e in entries)


class _Watch:
    """What a stage at work looks like from outside the process."""

    def __init__(self, home: Path, proc: psutil.Process):
        self.home, self.proc = home, proc
        self.log = home / "logs"
        self.log_pos: dict[Path, int] = {}
        self.dbt_seen: float | None = None
        self.next_dbt_check = 0.0

    def _log_has(self, needle: str) -> bool:
        for p in self.log.glob(f"run-*-{self.proc.pid}.log"):
            with p.open("rb") as f:
                f.seek(self.log_pos.get(p, 0))
                chunk = f.read()
            if needle.encode() in chunk:
                return True
            self.log_pos[p] = self.log_pos.get(p, 0) + max(len(chunk) - len(needle), 0)
        return False

    def reached(self, point: str) -> bool:
        staging = self.home / "lake" / "staging"
        if point == "ingest":
            try:
                roots = [Path(e.path) for e in os.scandir(staging) if e.name != "computed"]
            except FileNotFoundError:
                return False
            return any(_entries_under(r, 2) for r in roots)  # <dataset>/<run>/<file>
        if point == "engines":
            return _entries_under(staging / "computed", 2)  # computed/<run>/<table>
        if point == "dbt":
            now = time.monotonic()
            if now >= self.next_dbt_check:
                self.next_dbt_check = now + 0.2
                if _dbt_children(self.proc):
                    self.dbt_seen = self.dbt_seen or now
                else:
                    self.dbt_seen = None
            return self.dbt_seen is not None and now - self.dbt_seen >= 1.0
        if point == "publish":
            return _entries_under(self.home / "warehouse" / ".staging", 2) or self._log_has(
                "warehouse__lingtan_duckdb: Started execution of step"
            )
        if point == "reports":
            return _entries_under(self.home / "reports" / ".staging", 2)  # <run>/<kind>: a document
        raise ValueError(point)


def _dbt_children(proc: psutil.Process) -> list[psutil.Process]:
    found = []
    try:
        children = proc.children(recursive=True)
    except psutil.Error:
        return found
    for c in children:
        try:
            if any("dbt" in Path(part).name for part in c.cmdline()[:2]):
                found.append(c)
        except psutil.Error:
            pass
    return found


def _run_and_kill(landing: Path, home: Path, points: tuple[str, ...], out: Path) -> tuple[str | None, list]:
    """Start `lingtan run`; SIGKILL it at the first of `points` seen (in order: a point passed too fast falls
    through to the next one). Returns the point killed at (None: the run ended first) and the processes of the
    run at that moment."""
    cmd = [*LINGTAN, "run", "--landing", str(landing), "--home", str(home), "--date", DROP]
    with out.open("w") as sink:
        proc = subprocess.Popen(cmd, env=_env(home), stdout=sink, stderr=subprocess.STDOUT)
        parent = psutil.Process(proc.pid)
        watch = _Watch(home, parent)
        deadline = time.monotonic() + 600
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                for point in points:
                    if watch.reached(point):
                        family = parent.children(recursive=True)
                        os.kill(proc.pid, signal.SIGKILL)
                        proc.wait(timeout=30)
                        return point, family
                time.sleep(POLL)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    return None, []


def _frame(path: Path) -> pl.DataFrame:
    df = pl.read_parquet(path)
    return df.drop([c for c in WALL_CLOCK if c in df.columns])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(home: Path) -> dict[str, object]:
    """What a reader sees: raw tables (as frames, without wall-clock columns), computed tables (bytes), the
    marts, the report files."""
    h = Home(home)
    out: dict[str, object] = {}
    for p in sorted(h.raw.rglob("*.parquet")) if h.raw.exists() else []:
        out[p.relative_to(home).as_posix()] = _frame(p)
    for p in sorted(h.computed.glob("*.parquet")) if h.computed.exists() else []:
        out[p.relative_to(home).as_posix()] = _sha(p)
    if h.warehouse.exists():
        out["warehouse"] = mart_digests(h.warehouse)
    out |= {f"reports/{k}": v for k, v in report_files(h.reports).items()} if h.reports.exists() else {}
    return out


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, pl.DataFrame) or isinstance(b, pl.DataFrame):
        return isinstance(a, pl.DataFrame) and isinstance(b, pl.DataFrame) and a.equals(b)
    return a == b


def _leftovers(home: Path) -> list[str]:
    """Staging folders and half-written files (`*.tmp`, `.locked-*`) anywhere in the home but the Dagster
    instance's own folder."""
    h = Home(home)
    found = [str(p) for p in (h.staging, h.reports_staging, h.warehouse_staging) if p.exists()]
    for p in home.rglob("*"):
        rel = p.relative_to(home)
        if rel.parts[0] != "dagster" and (p.name.endswith(".tmp") or p.name.startswith(".locked-")):
            found.append(str(p))
    return found


def test_sigkill_at_every_stage_then_one_rerun_matches_the_clean_run(example_run, tmp_path):
    landing, clean_home = example_run("cement")
    clean = _state(clean_home.root)
    assert clean["warehouse"] and any(k.startswith("reports/") for k in clean)
    home = tmp_path / "killed"
    hits: list[str] = []
    left_by_kill: dict[str, list[str]] = {}

    remaining = list(POINTS)
    while remaining:
        before = _state(home)
        point, family = _run_and_kill(landing, home, tuple(remaining), tmp_path / f"run-{len(hits)}.out")
        assert point is not None, (
            f"the run ended before any of {remaining} was seen: "
            + (tmp_path / f"run-{len(hits)}.out").read_text()[-2000:]
        )
        hits.append(point)
        remaining = remaining[remaining.index(point) + 1 :]

        # every process of the run dies with it (dbt through PR_SET_PDEATHSIG)
        _, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, f"killed at {point}: {[(p.pid, p.name()) for p in alive]} outlived lingtan"

        # every published file is readable and either what was there before this run or the clean run's
        after = _state(home)
        for key, value in after.items():
            olds = [x for x in (before.get(key), clean.get(key)) if x is not None]
            if key not in before and key.startswith("lake/raw/"):  # the run's first step: every table exists
                olds.append(pl.DataFrame(schema=value.schema))  # (empty) before any drop is read
            assert any(_same(value, old) for old in olds), f"killed at {point}: {key} is neither old nor new"
        assert set(before) <= set(after), f"killed at {point}: published files vanished"
        # and what the stages after it publish did not change at all
        later = [k for k in {*before, *after} if k.startswith(LATER[point])]
        changed = [k for k in later if not _same(before.get(k), after.get(k))]
        assert not changed, f"killed at {point}: later stages' outputs changed: {changed[:5]}"
        left_by_kill[point] = _leftovers(home)

    rerun = _run(landing, home)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = _state(home)
    assert final["warehouse"] == clean["warehouse"]
    assert {k: v for k, v in final.items() if k.startswith("reports/")} == {
        k: v for k, v in clean.items() if k.startswith("reports/")
    }
    raw = sorted(k for k in clean if k.startswith("lake/raw/"))
    assert sorted(k for k in final if k.startswith("lake/raw/")) == raw  # no extra history file: no duplicate
    for key in raw:  # the same rows, each once: nothing lost, nothing doubled
        assert _same(final[key], clean[key]), key
    assert {k: v for k, v in final.items() if k.startswith("lake/computed/")} == {
        k: v for k, v in clean.items() if k.startswith("lake/computed/")
    }
    assert not _leftovers(home), _leftovers(home)
    # the kills hit the stages they aimed at (a point passed too fast falls through to the next one)
    assert hits[:3] == ["ingest", "engines", "dbt"], hits
    print(f"killed at: {hits}; left behind by each kill (swept by the next run): {left_by_kill}")


def test_staged_documents_are_no_published_report_files(tmp_path):
    """A kill during the reports step leaves `reports/.staging/<run>/…` behind (swept by the next run): what a
    reader sees, and what the kill test compares, are the published files only."""
    published = tmp_path / "summary" / "EX_2023" / "v1" / "summary.html"
    staged = tmp_path / ".staging" / "run" / "summary" / "EX_2023" / "summary.html"
    for p in (published, staged):
        p.parent.mkdir(parents=True)
        p.write_text("x")
    assert list(report_files(tmp_path)) == ["summary/EX_2023/v1/summary.html"]
