"""`interval_steps` (the trend-log layout's change-of-value check and the row stamps' interval length) against a
plain per-meter calculation: the most common step between distinct timestamps (ties: the shorter), whether every
step is a whole multiple of it on whole minutes, and the earliest step that is not."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import polars as pl

from transforms.ingest.meter_layouts import interval_steps


def _plain(
    rows: list[tuple[str | None, datetime | None]],
) -> dict[str, tuple[timedelta, bool, timedelta | None]]:
    out = {}
    for m in sorted({m for m, t in rows if m is not None and t is not None}):
        times = sorted({t for mm, t in rows if mm == m and t is not None})
        steps = [b - a for a, b in zip(times, times[1:], strict=False)]
        if not steps:
            continue
        counts = Counter(steps)
        step = min(counts, key=lambda d: (-counts[d], d))
        odd = [d for d in steps if d % step]
        whole_minutes = step % timedelta(minutes=1) == timedelta(0)
        out[m] = (step, not odd and whole_minutes, odd[0] if odd else None)
    return out


def _steps(
    rows: list[tuple[str | None, datetime | None]],
) -> dict[str, tuple[timedelta, bool, timedelta | None]]:
    frame = pl.DataFrame(rows, schema={"__m": pl.String, "__t": pl.Datetime("us")}, orient="row")
    got = interval_steps(frame, "__m", "__t")
    assert got["__m"].to_list() == sorted(got["__m"].to_list())
    return {r["__m"]: (r["__step"], r["__regular"], r["__odd"]) for r in got.iter_rows(named=True)}


def test_hand_case_ties_repeats_and_the_earliest_odd_step():
    t0 = datetime(2025, 1, 1)
    at = [t0 + timedelta(minutes=m) for m in (0, 15, 15, 30, 37, 60, 90, 120)]  # a repeat, then 7, 23 and 30s
    rows = [("A", t) for t in reversed(at)] + [("B", t0), ("B", None), (None, t0), ("C", t0)]
    rows += [("D", t0), ("D", t0 + timedelta(minutes=30, seconds=30))]
    got = _steps(rows)
    # A: steps 15, 15, 7, 23, 30, 30 → 15 and 30 tie twice each: the shorter; 7 is the earliest odd one
    assert got["A"] == (timedelta(minutes=15), False, timedelta(minutes=7))
    # one step of 30 min 30 s: its own mode, but not on whole minutes
    assert got["D"] == (timedelta(minutes=30, seconds=30), False, None)
    assert set(got) == {"A", "D"}  # B and C: one timestamp each, no step
    assert got == _plain(rows)


def test_random_meters_equal_the_plain_calculation():
    for seed in range(200):
        r = random.Random(seed)
        rows: list[tuple[str | None, datetime | None]] = []
        for m in range(r.randint(0, 5)):
            t = datetime(2025, 1, 1) + timedelta(minutes=r.randint(0, 90))
            for _ in range(r.randint(0, 30)):
                rows.append((f"M{m}" if r.random() > 0.03 else None, t if r.random() > 0.03 else None))
                t += timedelta(minutes=r.choice([15, 15, 15, 30, 0, 7, 60]), seconds=r.choice([0, 0, 0, 30]))
        r.shuffle(rows)
        assert _steps(rows) == _plain(rows), seed
