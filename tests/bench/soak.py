"""`make soak`: 30 simulated nightly runs in sequence on one home, recording per night the run time, the peak
memory of the run (its process and children: ru_maxrss via wait4), exit status, and the size of each part of the
home (lake, warehouse, reports, run records, logs, Dagster instance, dbt target). A leak or unbounded growth shows
as a column that keeps rising while the data does not.

Nights: the demo's drop dates in order (a month of data each), then nights with nothing new until 30 are run.
`python -m tests.bench.soak [SCALE] [NIGHTS] [WORKDIR]` (defaults 10, 30, a temporary folder). Results are printed
as a table and written to <home>/bench/soak.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARTS = {
    "lake": "lake",
    "warehouse": "warehouse",
    "reports": "reports",
    "runs": "runs",
    "logs": "logs",
    "dagster": "dagster",
}


def _size_mb(p: Path) -> float:
    if not p.exists():
        return 0.0
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20


def _drop_dates(landing: Path) -> list[dt.date]:
    dates = set()
    for d in landing.glob("*/*"):
        try:
            dates.add(dt.date.fromisoformat(d.name))
        except ValueError:
            continue
    return sorted(dates)


def nights(landing: Path, n: int) -> list[dt.date]:
    """One run per drop date, then quiet nights (nothing new) after the last drop, n in all."""
    drops = _drop_dates(landing)[:n]
    last = drops[-1] if drops else dt.date(2026, 1, 1)
    quiet = [last + dt.timedelta(days=i) for i in range(1, n - len(drops) + 1)]
    return drops + quiet


def _lingtan() -> str:
    return str(Path(sys.executable).with_name("lingtan"))


def run_night(landing: Path, home: Path, day: dt.date) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINGTAN_", "DAGSTER_"))}
    cmd = [_lingtan(), "run", "--landing", str(landing), "--home", str(home), "--date", day.isoformat()]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    return {
        "date": day.isoformat(),
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": round(time.perf_counter() - start, 1),
        "peak_mb": round(usage.ru_maxrss / 1024),
        **{f"{k}_mb": round(_size_mb(home / v), 1) for k, v in PARTS.items()},
        "dbt_target_mb": round(_size_mb(Path("dbt_project/target")), 1),
        "last_line": out.strip().splitlines()[-1] if out.strip() else "",
    }


def main(argv: list[str]) -> int:
    scale = float(argv[0]) if argv else 10.0
    n = int(argv[1]) if len(argv) > 1 else 30
    work = Path(argv[2]) if len(argv) > 2 else Path(tempfile.mkdtemp(prefix="lingtan-soak-"))
    landing, home = work / "landing", work / "home"
    if not landing.exists():
        subprocess.run([_lingtan(), "demo", "--landing", str(landing), "--scale", str(scale)], check=True)
    rows = []
    cols = ["date", "exit", "seconds", "peak_mb", *(f"{k}_mb" for k in PARTS), "dbt_target_mb"]
    print("  ".join(f"{c:>12}" for c in cols), flush=True)
    for day in nights(landing, n):
        r = run_night(landing, home, day)
        rows.append(r)
        print("  ".join(f"{r[c]!s:>12}" for c in cols), flush=True)
    out = home / "bench" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"scale": scale, "nights": rows}, indent=2))
    failed = [r for r in rows if r["exit"] != 0]
    print(f"{len(rows)} nights, {len(failed)} failed; written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
