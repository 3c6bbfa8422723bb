"""The interval engine batch by batch of meters (issue 13, bounded memory at scale 100): `run_ems` with small
batches gives the tables and carry of one run over every meter, row for row; the asset writes meter_hourly batch by
batch (rows without an hour first) and its gate reads it back in slices with the verdict and findings of the whole
table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.bench.ems_case import synthetic
from tests.ems.test_incremental_ems import _case, _saved
from transforms.computed import conform
from transforms.ems import EMS_TABLES, compute_ems_carry, incremental_since, run_ems
from transforms.ems.batched import plan_batches
from transforms.ems.meters import METERS_SCHEMA, normalise_meters, with_columns_of

CUT = datetime(2025, 3, 3)


def _hard_case() -> tuple[pl.DataFrame, pl.DataFrame]:
    """`test_incremental_ems._case` (a duplicate, a negative value, a cumulative register across a gap, a
    silent meter) plus: readings of a meter not in meters, of a meter that cannot be used (unknown unit), a
    meter whose interval is inferred (the hourly one), and a cumulative register with one reading on the
    hour (its window holds no hour: a row without an hour)."""
    meters, readings = _case()
    meters = pl.concat(
        [
            meters.with_columns(
                interval_minutes=pl.when(pl.col("meter_id") == "GROUP.METER0005")
                .then(None)
                .otherwise(pl.col("interval_minutes"))
            ),
            meters.head(2).with_columns(
                meter_id=pl.Series(["GROUP.METER0003A", "GROUP.METER0009B"]),
                register=pl.Series(["interval", "cumulative"]),
                unit=pl.Series(["furlongs", "kWh"]),
            ),
        ]
    )
    one = readings.head(2).with_columns(
        meter_id=pl.Series(["GROUP.METER0009B", "NOT.A.METER"]),
        interval_start=pl.lit(datetime(2025, 2, 1, 6)),
        _row_number=pl.col("_row_number") + 30_000_000,
    )
    bad_unit = readings.filter(pl.col("meter_id") == "GROUP.METER0004").head(3)
    bad_unit = bad_unit.with_columns(meter_id=pl.lit("GROUP.METER0003A"))
    hourly = readings.filter(
        (pl.col("meter_id") == "GROUP.METER0005") & (pl.col("interval_start").dt.minute() == 0)
    )
    readings = pl.concat([readings.filter(pl.col("meter_id") != "GROUP.METER0005"), hourly, one, bad_unit])
    return meters, readings


def _batched(raw: dict, batch_readings: int, **kw) -> tuple[dict[str, pl.DataFrame], dict, int]:
    parts: list[pl.DataFrame] = []
    run = run_ems(raw, parts.append, batch_readings=batch_readings, **kw)
    null = pl.col("hour_start_utc").is_null()  # a whole run puts the rows without an hour first
    hourly = pl.concat([p.filter(null) for p in parts] + [p.filter(~null) for p in parts])
    tables = {
        "meter_hourly": hourly,
        **dict(zip(run.tables, pl.collect_all(list(run.tables.values())), strict=True)),
    }
    carry = {k: v.lazy().collect() for k, v in run.carry._asdict().items() if v is not None}
    return tables, carry, run.batches


def _whole(raw: dict, **kw) -> tuple[dict[str, pl.DataFrame], dict]:
    lazy, carry = compute_ems_carry(raw, **kw)
    tables = dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))
    return tables, {k: v.lazy().collect() for k, v in carry._asdict().items() if k != "hourly"}


def _assert_same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    assert set(a) == set(b)
    for name in a:
        assert_frame_equal(a[name], b[name], check_exact=True), name


def test_batches_are_consecutive_meters_of_about_the_budget() -> None:
    meters, readings = _hard_case()
    m = normalise_meters(with_columns_of(meters.lazy(), METERS_SCHEMA)).collect()
    per = readings.group_by("meter_id").len()
    batches = plan_batches(readings.lazy(), m, 20_000)
    assert len(batches) > 3 and batches[0].first and not any(b.first for b in batches[1:])
    assert batches[0].lo == 0 and [b.lo for b in batches[1:]] == [b.hi for b in batches[:-1]]
    usable = m.filter(pl.col("_mi").is_not_null())
    assert batches[-1].hi == usable["_mi"].max() + 1
    for b in batches:
        assert b.ids is not None
        n = per.filter(pl.col("meter_id").is_in(b.ids.implode()))["len"].sum()
        assert n <= 20_000 or b.ids.len() == 1, (b, n)
    assert plan_batches(readings.lazy(), m, None)[0].ids is None  # one batch: nothing filtered
    assert plan_batches(readings.lazy(), m, readings.height)[0].ids is None


@pytest.mark.parametrize("budget", [7_000, 25_000])
def test_a_run_in_batches_equals_one_run_over_every_meter(budget: int) -> None:
    meters, readings = _hard_case()
    raw = {"meters": meters.lazy(), "meter_readings": readings.lazy()}
    whole, whole_carry = _whole(raw, as_of=date(2025, 6, 1))
    batched, batched_carry, n = _batched(raw, budget, as_of=date(2025, 6, 1))
    assert n > 2
    _assert_same(whole, batched)
    _assert_same(whole_carry, batched_carry)
    hourly, issues = whole["meter_hourly"], whole["meter_reading_issues"]
    assert hourly["hour_start_utc"][0] is None and hourly["meter_id"][0] == "GROUP.METER0009B"
    assert {"NOT.A.METER", "GROUP.METER0003A", "GROUP.METER0002"} <= set(issues["meter_id"])
    inferred = hourly.filter(pl.col("meter_id") == "GROUP.METER0005")
    assert inferred["interval_inferred"].all() and (inferred["interval_minutes"] == 60).all()


def test_an_incremental_run_in_batches_equals_one_over_every_meter(tmp_path: Path) -> None:
    meters, readings = _hard_case()
    before = readings.filter(pl.col("interval_start") < CUT)
    _, carry = compute_ems_carry({"meters": meters.lazy(), "meter_readings": before.lazy()})
    carry = _saved(carry, tmp_path / "carry")
    new = readings.filter(pl.col("interval_start") >= CUT)
    since = incremental_since(new.lazy(), meters.lazy(), carry.ranges)
    assert since is not None
    window = readings.filter(
        (pl.col("interval_start") >= since - timedelta(days=2)) | (pl.col("meter_id") == "GROUP.METER0005")
    )
    raw = {"meters": meters.lazy(), "meter_readings": window.lazy()}
    whole, whole_carry = _whole(raw, since=since, carry=carry)
    # the carry's hourly rows as the asset keeps them: the published file, in the contract's types
    conformed = tmp_path / "hourly.parquet"
    conform("meter_hourly", carry.hourly.collect()).write_parquet(conformed)
    carry = carry._replace(hourly=pl.scan_parquet(conformed))
    batched, batched_carry, n = _batched(raw, 6_000, since=since, carry=carry)
    assert n > 2
    # the batches hand over the hours from `since` on (the asset keeps the months before as published)
    t = pl.col("hour_start_utc")
    assert whole["meter_hourly"].filter(t < since).height > 0
    whole["meter_hourly"] = whole["meter_hourly"].filter(t.is_null() | (t >= since))
    _assert_same(whole, batched)
    _assert_same(whole_carry, batched_carry)


def _staged_hourly(folder: Path, rows: pl.DataFrame) -> Path:
    from orchestration.defs.compute.ems import HourlyParts

    out = HourlyParts(folder)
    for start in range(0, rows.height, 500):
        out(rows.slice(start, 500))
    assert out.close() == rows.height
    return folder


def test_the_hourly_parts_hold_each_month_and_the_rows_without_an_hour_first(tmp_path: Path) -> None:
    from transforms.paths import table_parts

    meters, readings = _hard_case()
    whole, _ = _whole({"meters": meters.lazy(), "meter_readings": readings.lazy()})
    hourly = conform("meter_hourly", whole["meter_hourly"])
    t = pl.col("hour_start_utc")
    # the row without an hour comes in a late batch: it still goes to the first part
    late = pl.concat([hourly.filter(t.is_not_null()), hourly.filter(t.is_null())])
    folder = _staged_hourly(tmp_path / "meter_hourly", late)
    months = hourly.select(t.dt.strftime("%Y%m").unique().sort().drop_nulls())["hour_start_utc"].to_list()
    assert len(months) >= 2
    assert [p.name for p in table_parts(folder)] == [
        "part-000000.parquet",
        *(f"part-{m}.parquet" for m in months),
    ]
    assert_frame_equal(pl.read_parquet(folder / "part-000000.parquet"), hourly.filter(t.is_null()))
    for m in months:  # each month's rows in the table's order (meter, then hour)
        part = pl.read_parquet(folder / f"part-{m}.parquet")
        assert_frame_equal(part, hourly.filter(t.dt.strftime("%Y%m") == m), check_exact=True)
    assert not list(tmp_path.glob(".*"))


def test_hourly_parts_of_an_incremental_run_keep_the_months_before_since(tmp_path: Path) -> None:
    """The months before `since` are the carry's parts, linked (not written); an hour of such a month handed
    over by the engine is an error."""
    from orchestration.defs.compute.ems import HourlyParts

    meters, readings = _hard_case()
    whole, _ = _whole({"meters": meters.lazy(), "meter_readings": readings.lazy()})
    hourly = conform("meter_hourly", whole["meter_hourly"])
    t = pl.col("hour_start_utc")
    kept = _staged_hourly(tmp_path / "carry", hourly)
    months = sorted(p.name for p in kept.iterdir())
    since = datetime(2025, 3, 1)
    out = HourlyParts(tmp_path / "staged", since, kept)
    out(hourly.filter(t.is_null() | (t >= since)))
    assert out.close() == hourly.height
    staged = tmp_path / "staged"
    assert sorted(p.name for p in staged.iterdir()) == months
    for name in months:
        same = (staged / name).stat().st_ino == (kept / name).stat().st_ino
        assert same == (name < "part-202503" and name != "part-000000.parquet"), name
    assert_frame_equal(pl.read_parquet(staged), pl.read_parquet(kept), check_exact=True)

    again = HourlyParts(tmp_path / "staged", since, kept)
    with pytest.raises(ValueError, match="a month the carry keeps"):
        again(hourly)
        again.close()
    again.abandon()
    assert not staged.exists()


def test_a_failed_hourly_write_fails_the_run_and_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    """The hourly batches are written on a thread of their own: an error there still ends the run, with its
    message, and the partial file is removed."""
    from orchestration.defs.compute import ems

    meters, readings = synthetic(6, 20)
    raw = {"meters": meters.lazy(), "meter_readings": readings.lazy()}
    written: list[int] = []

    def disk_full(self, part, month) -> None:  # the second batch's write fails
        if written:
            raise OSError(28, "No space left on device")
        written.append(part.height)
        original(self, part, month)

    original = ems.HourlyParts._write
    monkeypatch.setattr(ems.HourlyParts, "_write", disk_full)
    monkeypatch.setattr(ems, "BATCH_READINGS", 3_000)
    with pytest.raises(OSError, match="No space left"):
        ems._run(raw, date(2025, 6, 1), None, None, tmp_path / "meter_hourly")
    assert written and not list(tmp_path.iterdir())


def test_the_gate_in_slices_gives_the_verdict_and_findings_of_the_whole_table(tmp_path: Path) -> None:
    from expectations.computed import Parts, audit
    from expectations.ems import interval_count_problems, reconcile_ems

    meters, readings = synthetic(6, 20)
    raw = {"meters": meters.lazy(), "meter_readings": readings.lazy()}
    tables, _ = _whole(raw)
    h = tables["meter_hourly"]
    i = pl.int_range(pl.len())
    h = h.with_columns(  # failing rows of two meters, in different slices, and one key repeated
        intervals_missing=pl.when(i.is_in([3, 1500])).then(-1).otherwise("intervals_missing"),
        quantity=pl.when(i == 2000).then(-5.0).otherwise("quantity"),
    )
    h = pl.concat([h.head(1001), h.slice(1000, 1), h.slice(1001)])
    staged = {}
    for name, df in {**tables, "meter_hourly": h}.items():
        staged[name] = tmp_path / (name if name == "meter_hourly" else f"{name}.parquet")
        (
            _staged_hourly(staged[name], df)
            if name == "meter_hourly"
            else conform(name, df).write_parquet(staged[name])
        )
    whole = audit(staged, reconcile_ems)
    by_month = Parts("meter_id", ("meter_id", "hour_start_utc"), 700, "hour_start_utc")
    parted = audit(staged, reconcile_ems, {"meter_hourly": by_month})
    assert not whole.gate.passed and whole.gate.failures == parted.gate.failures
    assert any("1 rows repeat the key" in f for f in whole.gate.failures)
    assert_frame_equal(whole.found, parted.found)
    assert whole.found.height >= 2
    suspects = parted.suspects["meter_hourly"]
    assert suspects.height == 5 and suspects.columns == h.columns
    assert interval_count_problems(suspects) == interval_count_problems(
        pl.read_parquet(staged["meter_hourly"])
    )

    # a meter's rows apart: the gate cannot check its keys slice by slice, so it blocks
    apart = pl.concat([h.slice(0, 100), h.slice(2000, 100), h.slice(100, 50)])
    staged["meter_hourly"] = _staged_hourly(tmp_path / "apart", apart)
    small = Parts("meter_id", ("meter_id", "hour_start_utc"), 70, "hour_start_utc")
    parted = audit(staged, reconcile_ems, {"meter_hourly": small})
    assert any("are not together" in f and h["meter_id"][0] in f for f in parted.gate.failures)

    # a part holding an hour of another month: parts could then share a key, so it blocks
    folder = _staged_hourly(tmp_path / "moved", h.filter(pl.col("hour_start_utc").is_not_null()).head(50))
    part = max(folder.iterdir())
    moved = pl.read_parquet(part).with_columns(pl.col("hour_start_utc").dt.offset_by("-1mo"))
    moved.write_parquet(part)
    staged["meter_hourly"] = folder
    parted = audit(staged, reconcile_ems, {"meter_hourly": small})
    line = f"{moved.height} row(s) of {part.name} are not of its month"
    assert any(line in f for f in parted.gate.failures), parted.gate.failures
    # the suspects of a part it need not read (kept by an incremental run) are taken as given
    kept = {part.name: pl.DataFrame(schema=moved.schema)}
    parted = audit(staged, reconcile_ems, {"meter_hourly": small}, {"meter_hourly": kept})
    assert parted.gate.passed


def test_the_asset_in_batches_publishes_what_one_batch_does(tmp_path: Path, monkeypatch) -> None:
    """The `ems_engine` asset's work (stage, gate, publish, carry) on a raw lake, in batches of a few meters and
    in one; then a new drop, incremental in batches and in one."""
    import orchestration.defs.compute.ems as asset
    from orchestration.lib.config import LingtanConfig
    from orchestration.lib.home import Home

    meters, readings = _hard_case()
    cut = datetime(2025, 3, 16)

    def lake(home: Home, drops: list[pl.DataFrame]) -> None:
        for name, df in {"meters": meters, "meter_readings": pl.concat(drops)}.items():
            home.raw_table(name).parent.mkdir(parents=True, exist_ok=True)
            df.write_parquet(home.raw_table(name))
        hist = home.raw_dir("meter_readings") / "history"
        hist.mkdir(exist_ok=True)
        for k, d in enumerate(drops):
            d.write_parquet(hist / f"2025-0{k + 1}-01.parquet")

    def run(home: Home) -> dict[str, pl.DataFrame]:
        results = list(asset._compute(LingtanConfig(home=str(home.root)), date(2025, 6, 1)))
        assert all(getattr(r, "passed", True) for r in results)
        return {n: pl.read_parquet(home.computed_table(n)) for n in EMS_TABLES}

    one, many = Home(tmp_path / "one"), Home(tmp_path / "many")
    first = readings.filter(pl.col("interval_start") < cut)
    for drops in ([first], [first, readings.filter(pl.col("interval_start") >= cut)]):
        for home in (one, many):
            lake(home, drops)
        monkeypatch.setattr(asset, "BATCH_READINGS", None)
        whole = run(one)
        monkeypatch.setattr(asset, "BATCH_READINGS", 9_000)
        assert f"{len(drops) - 1} new drop" in asset.incremental_plan(many)[2] or len(drops) == 1
        _assert_same(whole, run(many))
    assert whole["meter_hourly"].height > 20_000 and whole["meter_reading_issues"].height > 3


def test_the_carry_and_the_new_hours_make_the_table_in_its_order_whether_the_carry_is_in_it_or_not() -> None:
    """`_after_carry` puts the carried hours before `split` and the new ones from it on in the table's order:
    slices of both, meter by meter, when each is in that order (the published file is), else by sorting on the
    hour key (a carry out of order); both give the whole table, row for row."""
    from transforms.ems.batched import _after_carry, _interleaved

    meters, readings = _hard_case()
    whole, _ = _whole({"meters": meters.lazy(), "meter_readings": readings.lazy()})
    table = whole["meter_hourly"]
    m = normalise_meters(with_columns_of(meters.lazy(), METERS_SCHEMA)).collect()
    split = CUT + timedelta(hours=1)
    kept = table.filter(pl.col("hour_start_utc") < split)
    new = table.filter(pl.col("hour_start_utc").is_null() | (pl.col("hour_start_utc") >= split))
    assert kept["meter_id"].n_unique() > 3 and new["meter_id"].n_unique() > 3
    assert _interleaved(kept, new.drop_nulls("hour_start_utc"), m) is not None
    assert_frame_equal(_after_carry(kept.lazy(), new, m, split), table, check_exact=True)
    shuffled = kept.sample(fraction=1.0, shuffle=True, seed=3)
    assert _interleaved(shuffled, new.drop_nulls("hour_start_utc"), m) is None
    assert_frame_equal(_after_carry(shuffled.lazy(), new, m, split), table, check_exact=True)
    # a meter's hours out of order within its run, the meters themselves in order: sorted as well
    swapped = pl.concat([kept.slice(1, 1), kept.slice(0, 1), kept.slice(2)])
    assert _interleaved(swapped, new.drop_nulls("hour_start_utc"), m) is None
    assert_frame_equal(_after_carry(swapped.lazy(), new, m, split), table, check_exact=True)
