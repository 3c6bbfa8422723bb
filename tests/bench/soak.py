"""`make soak`: nightly runs in sequence on one home (30 by default), recording per night the run time (wall and
CPU), the peak memory of the run, the exit status, the input that night and in all so far, and the size (bytes and
files) of each part of the home: lake, warehouse (without dbt's target), dbt target and dbt log, reports, run
records, run logs, the Dagster instance (sqlite databases and the rest), plus the repository's dbt_project/target.
A leak or an unbounded store shows as a column that keeps rising faster than the input.

Nights: the demo's drop dates in order (each drop folder is one night's delivery), then quiet nights with nothing
new after the last drop until N are run. Each night's results are appended to <work>/soak.jsonl and the whole
table rewritten to <work>/soak.json as soon as the night ends, so a stopped soak keeps every night it finished.

`python -m tests.bench.soak [SCALE] [NIGHTS] [WORKDIR]` (defaults 10, 30, a temporary folder);
`python -m tests.bench.soak summary WORKDIR`: the table and growth lines of the nights written so far. An existing
<WORKDIR>/landing is reused (same scale and seed give the same bytes); the home <WORKDIR>/home is started afresh.

Peak memory is `ru_maxrss` from wait4 on the `lingtan run` process: the largest resident set of that process or of
any descendant it waited for (Dagster's step processes, dbt), not the sum of processes alive at the same time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from transforms.paths import DBT_DIR

SIZE_COLS = (
    "lake",
    "warehouse",
    "dbt_target",
    "dbt_log",
    "reports",
    "runs",
    "logs",
    "dagster_db",
    "dagster_other",
    "repo_dbt_target",
)


def _tree(p: Path) -> tuple[int, int, int]:
    """(bytes, files, empty folders) under p, a file with several names (hard links: the published warehouse,
    the EMS carry) counted once; a missing p is (0, 0, 0)."""
    size = files = empty = 0
    if not p.exists():
        return 0, 0, 0
    seen: set[tuple[int, int]] = set()
    for root, dirs, names in os.walk(p):
        if not dirs and not names:
            empty += 1
        for n in names:
            f = Path(root, n)
            if f.is_file() and not f.is_symlink():
                st = f.stat()
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    size += st.st_size
                    files += 1
    return size, files, empty


def home_parts(home: Path) -> dict[str, tuple[int, int, int]]:
    """Each part of the home, disjoint: the warehouse without its dbt-target folder, dbt's log files apart from
    the rest of the target, the Dagster instance's sqlite files apart from its other files."""
    wh = home / "warehouse"
    # dbt's target (and its dbt.log) is beside the build file: orchestration/defs/warehouse/dbt.py, with the
    # build file at <home>/warehouse/build/lingtan.duckdb (orchestration/dbt_project.py: warehouse_env)
    target = wh / "build" / "dbt-target"
    dagster = home / "dagster"

    def minus(a, b):
        return tuple(x - y for x, y in zip(a, b, strict=True))

    def files_like(folder: Path, pattern: str) -> tuple[int, int, int]:
        fs = [f for f in folder.rglob(pattern) if f.is_file()] if folder.exists() else []
        return sum(f.stat().st_size for f in fs), len(fs), 0

    dbt_log = files_like(target, "dbt.log*")
    dagster_db = files_like(dagster, "*.db*")
    return {
        "lake": _tree(home / "lake"),
        "warehouse": minus(_tree(wh), _tree(target)),
        "dbt_target": minus(_tree(target), dbt_log),
        "dbt_log": dbt_log,
        "reports": _tree(home / "reports"),
        "runs": _tree(home / "runs"),
        "logs": _tree(home / "logs"),
        "dagster_db": dagster_db,
        "dagster_other": minus(_tree(dagster), dagster_db),
        "repo_dbt_target": _tree(DBT_DIR / "target"),
    }


def _drop_date(folder: Path) -> dt.date | None:
    try:
        return dt.date.fromisoformat(folder.name)
    except ValueError:
        return None


def _drops(landing: Path) -> dict[dt.date, list[Path]]:
    """Drop folders (<dataset>/<YYYY-MM-DD>/) by date."""
    out: dict[dt.date, list[Path]] = {}
    for d in landing.glob("*/*"):
        day = _drop_date(d)
        if d.is_dir() and day is not None:
            out.setdefault(day, []).append(d)
    return out


def nights(landing: Path, n: int) -> list[dt.date]:
    """One run per drop date, then quiet nights (nothing new) after the last drop, n in all."""
    drops = sorted(_drops(landing))[:n]
    last = drops[-1] if drops else dt.date(2026, 1, 1)
    quiet = [last + dt.timedelta(days=i) for i in range(1, n - len(drops) + 1)]
    return drops + quiet


def landing_input(landing: Path, after: dt.date | None, up_to: dt.date) -> dict[str, int]:
    """Bytes and files delivered in drop folders dated after `after` up to `up_to` (the night's new input) and
    up to `up_to` in all."""
    new_b = new_f = all_b = all_f = 0
    for day, folders in _drops(landing).items():
        if day > up_to:
            continue
        b = f = 0
        for folder in folders:
            s, n, _ = _tree(folder)
            b, f = b + s, f + n
        all_b, all_f = all_b + b, all_f + f
        if after is None or day > after:
            new_b, new_f = new_b + b, new_f + f
    return {"input_new_bytes": new_b, "input_new_files": new_f, "input_bytes": all_b, "input_files": all_f}


def _rows_this_run(home: Path, before: set[Path]) -> dict:
    """Rows read, accepted and quarantined by this night's ingestion, from the run record it wrote (None: no
    record was written)."""
    keys = ("rows_read", "rows_accepted", "rows_quarantined")
    new = sorted(set((home / "runs").glob("*.json")) - before)
    if not new:
        return {k: None for k in keys} | {"run_record": ""}
    try:
        rec = json.loads(new[-1].read_text(encoding="utf-8"))
        ingested = [v for v in (rec.get("ingested_this_run") or {}).values() if isinstance(v, dict)]
        return {k: sum(int(v.get(k, 0)) for v in ingested) for k in keys} | {"run_record": new[-1].name}
    except (ValueError, TypeError, AttributeError, OSError) as e:  # a record we cannot read: said, not fatal
        return {k: None for k in keys} | {"run_record": f"{new[-1].name}: unreadable ({e})"}


def _lingtan() -> str:
    return str(Path(sys.executable).with_name("lingtan"))


def run_night(landing: Path, home: Path, day: dt.date, after: dt.date | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINGTAN_", "DAGSTER_"))}
    cmd = [_lingtan(), "run", "--landing", str(landing), "--home", str(home), "--date", day.isoformat()]
    before = set((home / "runs").glob("*.json"))
    load_start = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    load_end = os.getloadavg()
    row = {
        "date": day.isoformat(),
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "load_start": load_start[0],
        "load_end": load_end[0],
        **landing_input(landing, after, day),
        **_rows_this_run(home, before),
    }
    for k, (size, files, empty) in home_parts(home).items():
        row[f"{k}_mb"] = size / 2**20
        row[f"{k}_files"] = files
        row[f"{k}_empty_dirs"] = empty
    row["home_empty_dirs"] = _tree(home)[2]
    lines = out.strip().splitlines()
    row["output"] = lines[-12:]
    return row


TABLE = (
    ("date", "{}"),
    ("exit", "{}"),
    ("seconds", "{:.1f}"),
    ("cpu_s", "{:.1f}"),
    ("peak_mb", "{:.0f}"),
    ("load_start", "{:.1f}"),
    ("input_new_bytes", "{:,}"),
    ("rows_read", "{:,}"),
    *((f"{k}_mb", "{:.2f}") for k in SIZE_COLS),
    ("dagster_other_files", "{}"),
    ("home_empty_dirs", "{}"),
)


def _fmt(row: dict) -> str:
    return "  ".join(f"{'-' if row.get(c) is None else f.format(row[c]):>12}" for c, f in TABLE)


def _header() -> str:
    short = {
        "input_new_bytes": "new_bytes",
        "dagster_other_files": "dagster_n",
        "home_empty_dirs": "empty_dirs",
    }
    return "  ".join(f"{short.get(c, c.removesuffix('_mb'))[:12]:>12}" for c, _ in TABLE)


GROWTH = ("seconds", "cpu_s", "peak_mb", *(f"{k}_mb" for k in SIZE_COLS), "dagster_other_files")


def growth(rows: list[dict]) -> list[str]:
    """Each measured column at a quarter, half, three quarters and all of the nights run, beside the cumulative
    input, and its mean change per night over the second half: a part that keeps rising faster than the input
    (or rises while the input does not) is the growth to explain."""
    if len(rows) < 4:
        return []
    n = len(rows)
    at = sorted({n // 4 - 1, n // 2 - 1, 3 * n // 4 - 1, n - 1})
    half = rows[n // 2 - 1 :]
    lines = [f"{'night':>20}" + "".join(f"{i + 1:>14}" for i in at) + f"{'per night, 2nd half':>22}"]

    def line(name: str, vals: list[float], step: float) -> str:
        return f"{name:>20}" + "".join(f"{v:>14.3f}" for v in vals) + f"{step:>22.3f}"

    mb = [r["input_bytes"] / 2**20 for r in rows]
    lines.append(line("input_mb (in all)", [mb[i] for i in at], (mb[-1] - mb[n // 2 - 1]) / (len(half) - 1)))
    for c in GROWTH:
        v = [float(r[c] or 0) for r in rows]
        lines.append(line(c, [v[i] for i in at], (v[-1] - v[n // 2 - 1]) / (len(half) - 1)))
    return lines


def main(argv: list[str]) -> int:
    scale = float(argv[0]) if argv else 10.0
    n = int(argv[1]) if len(argv) > 1 else 30
    work = Path(argv[2]) if len(argv) > 2 else Path(tempfile.mkdtemp(prefix="lingtan-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    landing, home = work / "landing", work / "home"
    if not landing.exists():
        t0 = time.perf_counter()
        subprocess.run([_lingtan(), "demo", "--landing", str(landing), "--scale", str(scale)], check=True)
        print(f"landing zone generated in {time.perf_counter() - t0:.1f} s", flush=True)
    if home.exists():
        shutil.rmtree(home)
    jsonl, out = work / "soak.jsonl", work / "soak.json"
    jsonl.unlink(missing_ok=True)
    rows: list[dict] = []
    print(_header(), flush=True)
    after: dt.date | None = None
    for day in nights(landing, n):
        r = run_night(landing, home, day, after)
        after = day
        rows.append(r)
        with jsonl.open("a", encoding="utf-8") as f:
            f.write(json.dumps(r) + "\n")
        out.write_text(json.dumps({"scale": scale, "nights_planned": n, "nights": rows}, indent=1))
        print(_fmt(r), flush=True)
        if r["exit"] not in (0, 2):
            print("\n".join("    " + line for line in r["output"]), flush=True)
    print("\n".join(growth(rows)))
    failed = [r for r in rows if r["exit"] != 0]
    print(f"{len(rows)} nights, {len(failed)} not exit 0; written to {out}")
    return 1 if failed else 0


def summary(work: Path) -> int:
    """The table and growth lines of a soak, also of one stopped early (from the nights it wrote)."""
    rows = [
        json.loads(line) for line in (work / "soak.jsonl").read_text(encoding="utf-8").splitlines() if line
    ]
    print(_header())
    print("\n".join(_fmt(r) for r in rows))
    print("\n".join(growth(rows)))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["summary"]:
        raise SystemExit(summary(Path(sys.argv[2])))
    raise SystemExit(main(sys.argv[1:]))
