"""Nightly and report-stage cases of `make bench` (tests/bench/run.py), on one home, in this order:

1. full nightly: every drop of the scale's demo landing zone but the last month's (ingest, engines, dbt,
   publish, reports) into an empty home: a full computation of 11 of the 12 months;
2. no-change nightly: the same run again, nothing new in the landing zone;
3. one-day incremental nightly: the run up to the last drop date (one new drop day: a month of invoices,
   exports, readings, bills); issue 13: its time over the no-change time (and the full time) should stay small
   — cost grows with new data, not history;
4. the report stage alone twice on the built warehouse — from an empty reports folder (every installation,
   importer and year written, gated and published) and again with nothing changed (must publish nothing);
5. one real day (tests/bench/day_drop.py): a second home takes the same drops but the last, then a last drop
   cut to the rows of its month's first day (invoices, exports, legs and meter readings of that day; the month's
   bills and other monthly files whole). A plant's nightly brings a day, where the demo drops a month; issue 13's
   ratio (scale 100 ÷ scale 1 ≤ 2) is read on this row, beside the month's.
Targets: full nightly at scale 100 < 5 min and peak RSS < 6 GB (issue 13); report stage ≤ 30 s at scale 100 and
no-change report stage < 2 s (issue 8).

Child: python -m tests.bench.reports_case nightly LANDING HOME UP_TO | stage HOME
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from tests.bench.harness import Measurement, measure

TARGET_STAGE_S, TARGET_NOCHANGE_S = 30.0, 2.0
TARGET_FULL_S, TARGET_FULL_PEAK_MB = 300.0, 6144.0


def drop_dates(landing: Path) -> list[date]:
    """The landing zone's drop dates (`<dataset>/<YYYY-MM-DD>/`), sorted."""
    out = set()
    for d in landing.glob("*/*"):
        try:
            out.add(date.fromisoformat(d.name))
        except ValueError:
            continue
    return sorted(out)


def run(workdir: Path, scale: float) -> list[Measurement]:
    landing, home = workdir / "landing", workdir / "nightly-home"
    last = drop_dates(landing)[-1]
    held_back = str(last - timedelta(days=1))
    args = ("tests.bench.reports_case", "nightly", str(landing), str(home))
    full = measure(f"nightly full, all but last drop (scale {scale:g})", *args, held_back)
    nochange = measure(f"nightly no change (scale {scale:g})", *args, held_back)
    incremental = measure(f"nightly one new drop day (scale {scale:g})", *args, str(last))
    stage = measure(f"report stage (scale {scale:g})", "tests.bench.reports_case", "stage", str(home))
    day = measure_day(workdir, home, scale, last, held_back)
    if scale >= 100:
        full.info["target_5min"] = "met" if full.seconds < TARGET_FULL_S else "missed"
        full.info["peak_under_6gb"] = "met" if full.peak_mb < TARGET_FULL_PEAK_MB else "missed"
    incremental.info["vs_nochange"] = round(incremental.seconds / nochange.seconds, 2)
    incremental.info["vs_full"] = round(incremental.seconds / full.seconds, 2)
    stage.info["target_s"] = TARGET_STAGE_S
    stage.info["nochange_target_s"] = TARGET_NOCHANGE_S
    day.info["vs_month"] = round(day.seconds / incremental.seconds, 2)
    for row in (full, nochange, incremental):
        row.info.pop("accepted", None)  # rows per dataset: what the day case checks, noise in the table
    return [full, nochange, incremental, stage, day]


def measure_day(workdir: Path, home: Path, scale: float, last: date, held_back: str) -> Measurement:
    """Case 5: the day landing built from `home`'s raw lake (it has ingested the last drop), a second home
    brought up to `held_back` (not measured: case 1 measures that run), then the day's nightly, measured."""
    from orchestration.lib.home import Home
    from tests.bench.day_drop import DAY_COLUMNS, day_landing

    landing, day_home = workdir / "day-landing", workdir / "day-home"
    for folder in (landing, day_home):  # a home that took the day drop already would find nothing new
        shutil.rmtree(folder, ignore_errors=True)
    first = last.replace(day=1) - timedelta(days=1)  # the demo's drop on the 3rd holds the month before it
    summary = day_landing(workdir / "landing", Home(home), landing, last, first.replace(day=1))
    args = ("tests.bench.reports_case", "nightly", str(landing), str(day_home))
    before = measure(f"nightly before the real day (scale {scale:g})", *args, held_back)
    day = measure(f"nightly one real day (scale {scale:g})", *args, str(last))
    split = [
        ds for ds in DAY_COLUMNS if not any(f.startswith(f"{ds}/") for f in summary["files_linked_whole"])
    ]
    got, want = (
        {ds: rows.get(ds, 0) for ds in split} for rows in (day.info["accepted"], summary["rows_kept"])
    )
    if got != want:  # the cut files must give exactly the day's rows
        raise RuntimeError(f"the day drop's rows: accepted {got}, the day holds {want}")
    day.info.pop("accepted")
    day.info |= {"day": summary["day"], "day_rows": want, "files_linked_whole": summary["files_linked_whole"]}
    day.info["history_run_s"] = round(before.seconds, 1)
    shutil.rmtree(day_home, ignore_errors=True)
    shutil.rmtree(landing, ignore_errors=True)
    return day


def _nightly(landing: str, home: str, up_to: str) -> dict:
    from orchestration.pipeline import run_nightly

    start = time.perf_counter()
    out = run_nightly(landing, home, date.fromisoformat(up_to), echo=lambda *_: None)
    if not out.success:
        raise SystemExit(f"nightly run failed: {out.failed_checks + out.failed_steps}")
    return {
        "run_s": round(time.perf_counter() - start, 2),
        "rows_read": sum(v["rows_read"] for v in out.ingest.values()),
        "up_to": up_to,
        "accepted": {ds: v["rows_accepted"] for ds, v in sorted(out.ingest.items()) if v["rows_accepted"]},
    }


def _stage(home_dir: str) -> dict:
    from orchestration.lib.home import Home
    from orchestration.lib.reports import run_report_stage
    from transforms.reports import KINDS
    from transforms.reports.base import ReportConfig

    home = Home(Path(home_dir))
    shutil.rmtree(home.reports, ignore_errors=True)
    config = ReportConfig(date(2026, 11, 24), 80.0, "bench")
    t0 = time.perf_counter()
    first = run_report_stage(home, KINDS, config, "bench-1")
    t1 = time.perf_counter()
    second = run_report_stage(home, KINDS, config, "bench-2")
    t2 = time.perf_counter()
    return {
        "stage_s": round(t1 - t0, 2),
        "published": len(first.published),
        "blocked": len(first.blocked),
        "nochange_s": round(t2 - t1, 2),
        "nochange_published": len(second.published),
    }


def main() -> None:
    if sys.argv[1] == "nightly":
        print(json.dumps(_nightly(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        print(json.dumps(_stage(sys.argv[2])))


if __name__ == "__main__":
    main()
