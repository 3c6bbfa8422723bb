"""Interval engine stage (transforms/ems): one thin multi-asset around `compute_ems`.

Reads the raw `meters`, `meter_readings` and `energy_bills`, publishes meter_hourly, energy_balance and
meter_reading_issues write-audit-publish through the computed gate (expectations/ems.py: keys repeated block; row
findings per installation and year warn, docs/reliability.md "Isolation"), with the named checks
`interval_counts` (WARN: intervals_expected = measured + estimated + missing on every hourly row) and
`bills_match_meters` (WARN: bills and meters legitimately differ — another meter, billing periods, losses).

No change, no work (issue 10): the asset is skipped when the content of its raw inputs, the code, the reference
data and the run year (it marks the run year's periods provisional) are those of its last publication; its tables
stand and the check results saved then are reported again (`replay_or_none`, also used by the zero-carbon assets).

A nightly drop does not re-read the year (issue 12): the engine keeps a carry beside its tables (lake/computed/
_ems_carry) and, when only new drops came, reads the readings from the month before the new ones on and
continues from it (`incremental_plan`, `transforms.ems.compute_ems_carry`); the tables equal a run over every
reading (tests/ems/test_incremental_ems.py).

Bounded memory at scale 100 (issue 13): the engine runs batch by batch of meters (`BATCH_READINGS`), each batch's
hourly rows appended to the staged meter_hourly parts as they come (`HourlyParts`), and the gate reads them back
part by part in slices of whole meters (`HOURLY_PARTS`).

History-bound work avoided (issue 13): meter_hourly is stored by UTC month (lake/computed/meter_hourly/
part-YYYYMM.parquet, the contract's `partedBy`). An incremental run hands over the hours from `since` on only;
the months before are the carry's links to the published parts (`_ems_carry/hourly/`), linked again into the
stage, and the gate takes the suspects it kept of them when it read them (`_ems_carry/hourly_suspects/`). A night
writes and checks the months it recomputed, not the year.
"""

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from expectations.computed import COMPUTED_GATE, Parts, audit
from orchestration.defs.compute.assets import gate_results
from orchestration.lib.compute import load_raw
from orchestration.lib.config import LingtanConfig
from orchestration.lib.home import Home
from orchestration.lib.incremental import (
    code_fingerprint,
    digest,
    engine_unchanged,
    files_hash,
    forget_engine_stamp,
    history_hashes,
    new_drops,
    record_version,
    save_engine_stamp,
)
from orchestration.lib.publish import publish, staging
from orchestration.lib.storage import atomic_write_parquet
from transforms.ems import EMS_TABLES
from transforms.paths import NO_MONTH, month_of, month_part_name, table_parts

GROUP = "ems"
RAW_DEPS = ["meters", "meter_readings", "energy_bills"]
DESCRIPTIONS = {
    "meter_hourly": "Hourly aggregates per EMS meter: quantity (kWh for electricity) and interval counts.",
    "energy_balance": "Energy balance per site × period: billed vs metered, load, hourly-matched renewable share.",
    "meter_reading_issues": "Meter readings rejected by the interval engine, register decreases, with reasons.",
}
COUNTS_CHECK, BILLS_CHECK = "interval_counts", "bills_match_meters"
CARRY_DIR = "_ems_carry"  # in lake/computed: what an incremental run continues (`incremental_plan`)


def check_record(result: dg.AssetCheckResult) -> tuple[str, dict[str, Any]]:
    """A check result as saved beside the engine's stamp (`<table>/<check>` → passed, severity, details)."""
    key = f"{result.asset_key.path[-1]}/{result.check_name}"
    details = result.metadata.get("details")
    text = details.value if isinstance(details, dg.TextMetadataValue) else str(details or "")
    return key, {"passed": result.passed, "severity": result.severity.value, "details": text}


def replay_or_none(home: Home, engine: str, stamp: str, tables: list[str]) -> Iterator | None:
    """When the engine last published from inputs with this `stamp` and its tables are there: its saved check
    results and a materialization per table marked 'no change' (nothing recomputed); else None."""
    checks: Mapping[str, Any] | None = engine_unchanged(home, engine, stamp, tables)
    if checks is None:
        return None

    def replay() -> Iterator:
        for key, c in sorted(checks.items()):
            table, check = key.split("/", 1)
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(["computed", table]),
                check_name=check,
                passed=bool(c["passed"]),
                severity=dg.AssetCheckSeverity(c["severity"]),
                metadata={"details": c["details"], "lingtan/no_change": "inputs unchanged"},
            )
        for name in tables:
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey(["computed", name]),
                metadata={
                    "lingtan/no_change": "inputs, code and reference data unchanged: not recomputed",
                    "path": dg.MetadataValue.path(str(home.computed_table(name))),
                },
            )

    return replay()


def recorded(home: Home, engine: str, stamp: str, results: Iterator) -> Iterator:
    """Pass the asset's results through; once all went through (the tables published, no failure raised), save
    the stamp with its check results. The stamp is removed first: a crash in between must not read as 'no
    change'."""
    forget_engine_stamp(home, engine)
    checks: dict[str, Any] = {}
    for r in results:
        if isinstance(r, dg.AssetCheckResult):
            checks.update([check_record(r)])
        yield r
    save_engine_stamp(home, engine, stamp, checks)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["computed", t],
            deps=[dg.AssetKey(["raw", n]) for n in RAW_DEPS],
            group_name=GROUP,
            description=DESCRIPTIONS[t],
            kinds={"polars", "parquet"},
            tags={"lingtan/stage": "computed"},
        )
        for t in EMS_TABLES
    ],
    check_specs=[
        *[
            dg.AssetCheckSpec(
                COMPUTED_GATE, asset=["computed", t], blocking=True, description="EMS gate rules"
            )
            for t in EMS_TABLES
        ],
        dg.AssetCheckSpec(
            COUNTS_CHECK,
            asset=["computed", "meter_hourly"],
            blocking=True,
            description="intervals_expected = measured + estimated + missing on every hourly row",
        ),
        dg.AssetCheckSpec(
            BILLS_CHECK,
            asset=["computed", "energy_balance"],
            description="bills within 2 % of the grid-import meters they name (months with complete metering)",
        ),
    ],
    name="ems_engine",
    pool="lake",
)
def ems_engine(context: dg.AssetExecutionContext, lingtan: LingtanConfig) -> Iterator:
    """Meter readings → intervals → hourly aggregates → energy balance (pure polars, one collect)."""
    from orchestration.lib.incremental import engine_stamp

    home = lingtan.home_dir()
    today = date.today()
    stamp = engine_stamp(home, [home.raw_table(n) for n in RAW_DEPS], {"year": today.year})
    if (same := replay_or_none(home, "ems_engine", stamp, list(EMS_TABLES))) is not None:
        context.log.info("ems_engine: inputs unchanged since its last publication, not recomputed")
        yield from same
        return
    yield from recorded(home, "ems_engine", stamp, _compute(lingtan, today, context.log))


def _carry_dir(home: Home) -> Path:
    return home.computed / CARRY_DIR


def incremental_plan(home: Home) -> tuple[datetime | None, Any, str]:
    """(since, carry, why): where an incremental run of the interval engine starts and the carry it continues,
    or (None, None, why) for a run over every reading. Incremental only when the last run left a carry, the code
    and the meters are the same, and no drop it read changed or went (the raw lake keeps one history file per
    drop: new files are the new drops). A meter whose interval length is inferred continues from the carry's
    step counts (`transforms.ems.inference`); `_compute` runs over every reading if its inference changed."""
    from transforms.ems import EmsCarry, incremental_since

    d = _carry_dir(home)
    try:
        state = json.loads((d / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None, "no carry from a previous run: every reading"
    meters_file = home.raw_table("meters")
    if state.get("code") != code_fingerprint():
        return None, None, "code changed: every reading"
    if state.get("meters") != _meters_digest(home):
        return None, None, "meters changed: every reading"
    new = new_drops(home, "meter_readings", state.get("history", {}))
    if new is None:
        return None, None, "a drop read before changed or is gone: every reading"
    if any(not table_parts(_carried(d, n)) for n in EmsCarry._fields):
        return None, None, "the carry is incomplete (left by an older version): every reading"
    meters = pl.scan_parquet(meters_file)
    carry = EmsCarry(**{n: pl.scan_parquet(_carried(d, n)) for n in EmsCarry._fields})
    since = incremental_since(
        pl.scan_parquet(new) if new else pl.LazyFrame(schema={"meter_id": pl.String}), meters, carry.ranges
    )
    if since is None:  # no new reading (bills or the year changed): every hourly row is the carry's
        last = carry.ranges.select(pl.col("_last").max()).collect().item()
        if last is None:
            return None, None, "no reading yet: every reading"
        since = datetime(last.year + last.month // 12, last.month % 12 + 1, 1)
    return since, carry, f"{len(new)} new drop(s): readings from {since:%Y-%m} on (UTC) and the carry"


def _meters_digest(home: Home) -> str:
    """The meters table's content (its parts' hashes): a change of any meter recomputes every reading."""
    return digest(files_hash([home.raw_table("meters")], home.root))


def _carried(d: Path, name: str) -> Path:
    """Where the carry keeps `name` (an `EmsCarry` field): a file, or for `hourly` a folder of links to the
    published meter_hourly's parts."""
    return d / "hourly" if name == "hourly" else d / f"{name}.parquet"


def _save_carry(home: Home, carry: Any, hourly: Path, suspects: Mapping[str, pl.DataFrame]) -> None:
    """The carry for the next run, then its state (written last: a partial carry is never read). `hourly`: the
    published meter_hourly folder, its parts linked (the carry keeps them when the table is published again);
    `suspects`: what the gate kept of each part (`expectations.computed.month_parts_suspects`), so the next
    run's gate need not read the parts it keeps."""
    d = _carry_dir(home)
    for name, frame in carry._asdict().items():
        if name != "hourly":
            atomic_write_parquet(frame.lazy().collect(), _carried(d, name))
    (d / "hourly.parquet").unlink(missing_ok=True)  # (a carry of one file, before parts by month)
    for folder, files in (("hourly", table_parts(hourly)), ("hourly_suspects", [])):
        fresh = d / f".{folder}.new"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        for p in files:
            _copy(p, fresh / p.name)
        if folder == "hourly_suspects":
            for part, rows in suspects.items():
                rows.write_parquet(fresh / part)
        shutil.rmtree(d / folder, ignore_errors=True)
        fresh.rename(d / folder)
    state = {
        "code": code_fingerprint(),
        "meters": _meters_digest(home),
        "history": history_hashes(home, "meter_readings"),
    }
    (d / "state.json").write_text(json.dumps(state, indent=1), encoding="utf-8")


def _kept_suspects(home: Home, staged: Path, since: datetime | None) -> dict[str, pl.DataFrame]:
    """The suspects the gate kept, in the run that wrote them, of the parts an incremental run from `since` kept
    (file name → rows); a part whose suspects the carry lacks is read again."""
    if since is None:
        return {}
    d = _carry_dir(home) / "hourly_suspects"
    kept = [p.name for p in table_parts(staged) if NO_MONTH < month_of(p) < _month(since)]
    return {n: pl.read_parquet(d / n) for n in kept if (d / n).exists()}


def _copy(src: Path, target: Path) -> None:
    """`src` copied to `target` (beside it first, then renamed). A hard link when the file system allows it: a
    published table is never written in place (a new version is renamed over it), so the link keeps this
    version's bytes, and 200 MB of meter_hourly at scale 100 are not written twice."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    finally:  # (renaming a link over another link of the same file leaves both names: POSIX rename)
        tmp.unlink(missing_ok=True)


# Readings per batch of meters (`transforms.ems.batched`): a year of 71 M readings (scale 100) in 12 batches.
# Memory grows with it (about 0.2 KB a reading at the batch's peak), and so does nothing else much.
BATCH_READINGS = int(os.environ.get("LINGTAN_EMS_BATCH_READINGS", 6_000_000))
# meter_hourly is read back by the gate meter by meter, in slices of about this many rows (`Parts`)
HOURLY_PARTS = Parts(group="meter_id", key=("meter_id", "hour_start_utc"), month_of="hour_start_utc")
HOURLY_ROW_GROUP = 512**2  # rows per row group of meter_hourly (polars' `write_parquet` default)


class HourlyParts:
    """meter_hourly written as the engine hands it over, batch by batch (`transforms.ems.run_ems`'s sink), into
    the folder of its parts by UTC month (`transforms.paths.month_part_name`; the contract's `partedBy`): each
    batch conformed to the contract and its rows appended to their month's part (zstd, statistics; pyarrow's
    writer, as `atomic_write_parquet` gives polars' columns). The rows without an hour (a meter whose window holds
    no hour) go to `part-000000`, written at `close` (an empty one when there are none: the folder always has a
    part). Batches come in meter order, so each part holds its meters' rows together, in meter then hour order.

    Incremental (`since`, a UTC month start, and the `kept` folder: the carry's copy of the published parts): the
    months before `since` are linked from `kept` (the engine hands over the hours from `since` on only), so a
    night writes the months it recomputed, not the history. A row of a kept month handed over is an error.

    A batch is conformed and written on a thread of its own while the engine computes the next one (pyarrow
    and polars release the GIL; mostly compressing the lineage texts, off the critical path); one batch at most
    is held for writing, so memory stays at two batches' hours."""

    def __init__(self, folder: Path, since: datetime | None = None, kept: Path | None = None) -> None:
        shutil.rmtree(folder, ignore_errors=True)  # (a run over every reading after an incremental attempt)
        folder.mkdir(parents=True)
        self.folder = folder
        self.first = _month(since) if since is not None else 0  # the first month written, when incremental
        self.kept: list[Path] = []
        if since is not None and kept is not None:
            for p in table_parts(kept):
                if NO_MONTH < month_of(p) < self.first:
                    _copy(p, folder / p.name)
                    self.kept.append(folder / p.name)
        self.head: list[pl.DataFrame] = []
        self.writers: dict[int, Any] = {}
        self.rows = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="meter-hourly")
        self._pending: Future[None] | None = None

    def __call__(self, part: pl.DataFrame) -> None:
        self._wait()  # the previous batch written (its error raised here)
        self._pending = self._pool.submit(self._append, part)

    def _append(self, part: pl.DataFrame) -> None:
        from transforms.computed import conform

        part = conform("meter_hourly", part)
        hour = pl.col("hour_start_utc")
        month = (hour.dt.year() * 100 + hour.dt.month()).fill_null(NO_MONTH).alias("_month")
        for (m,), df in (
            part.with_columns(month).partition_by("_month", as_dict=True, maintain_order=True).items()
        ):
            rows = df.drop("_month")
            if m == NO_MONTH:
                self.head.append(rows)
            elif m < self.first:
                raise ValueError(
                    f"meter_hourly: the engine handed over hours of {m}, a month the carry keeps"
                )
            else:
                self._write(rows, int(m))

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def abandon(self) -> None:
        """After a failed run: the batch being written finished (its error dropped), the partial folder removed."""
        with suppress(Exception):
            self._wait()
        self._pool.shutdown()
        for w in self.writers.values():
            with suppress(Exception):
                w.close()
        self.writers.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self, part: pl.DataFrame, month: int) -> None:
        import pyarrow.parquet as pq

        # text as string_view: no copy (large_string copied every text: 4 s of 17 M hours), the same Parquet bytes
        table = part.to_arrow(compat_level=pl.CompatLevel.newest())
        writer = self.writers.get(month)
        if writer is None:
            writer = self.writers[month] = pq.ParquetWriter(
                self.folder / month_part_name(month),
                table.schema,
                compression="zstd",
                write_statistics=True,
                store_schema=False,
                # a lineage id per hour is nearly unique: no dictionary tried for it
                use_dictionary=[c for c in table.column_names if not c.startswith("source_row_id")],
            )
        writer.write_table(table, row_group_size=HOURLY_ROW_GROUP)
        self.rows += table.num_rows

    def close(self) -> int:
        """The parts in place; the table's row count (the kept months' included)."""
        import pyarrow.parquet as pq

        from transforms.computed import computed_table

        self._wait()
        self._pool.shutdown()
        empty = pl.DataFrame(schema=computed_table("meter_hourly").schema)
        self._write(pl.concat(self.head) if self.head else empty, NO_MONTH)
        for w in self.writers.values():
            w.close()
        self.writers.clear()
        return self.rows + sum(pq.ParquetFile(p).metadata.num_rows for p in self.kept)


def write_hourly(frame: pl.DataFrame, folder: Path) -> int:
    """meter_hourly rows (the table's order) written to `folder` as the engine writes them (`HourlyParts`)."""
    parts = HourlyParts(folder)
    parts(frame)
    return parts.close()


def _month(t: datetime) -> int:
    return t.year * 100 + t.month


def _run(
    raw: dict, today: date, since: datetime | None, carry: Any, folder: Path, kept: Path | None = None
) -> tuple[Any, int]:
    """The interval engine batch by batch, meter_hourly written to `folder` as it goes (`HourlyParts`; the
    months before `since` linked from `kept`): (its run, hourly rows)."""
    from transforms.ems import run_ems

    hourly = HourlyParts(folder, since, kept)
    try:
        run = run_ems(raw, hourly, as_of=today, since=since, carry=carry, batch_readings=BATCH_READINGS)
        return run, hourly.close()
    except BaseException:
        hourly.abandon()
        raise


def _compute(lingtan: LingtanConfig, today: date, log: Any = None) -> Iterator:
    from expectations.ems import bills_disagreement, interval_count_problems, reconcile_ems
    from transforms.computed import conform_all
    from transforms.ems import incremental_readings, inferred_interval_changed

    home = lingtan.home_dir()
    raw = load_raw(home)
    since, carry, why = incremental_plan(home)
    if log is not None:
        log.info(f"ems_engine: {why}")
    readings = raw["meter_readings"]
    if since is not None:  # the readings written from two days before (earlier row groups are not read)
        raw["meter_readings"] = incremental_readings(readings, since)
    (_carry_dir(home) / "state.json").unlink(missing_ok=True)  # a failure below must not leave a stale carry
    # write-audit-publish (orchestration/lib/publish.py), meter_hourly staged batch by batch and read back by
    # the gate in slices (`HOURLY_PARTS`): its 17.8 M rows at scale 100 are never held whole
    with staging(home.staging / "computed") as stage:
        staged = {n: stage / home.computed_table(n).name for n in EMS_TABLES}
        kept = _carry_dir(home) / "hourly"
        run, hourly_rows = _run(raw, today, since, carry, staged["meter_hourly"], kept)
        if carry is not None and inferred_interval_changed(carry.ranges, run.carry.ranges):
            if log is not None:
                log.info(
                    "ems_engine: an inferred interval length changed with the new readings: every reading"
                )
            raw["meter_readings"] = readings
            since = None
            run, hourly_rows = _run(raw, today, None, None, staged["meter_hourly"])
        tables = conform_all(dict(zip(run.tables, pl.collect_all(list(run.tables.values())), strict=True)))
        for name, df in tables.items():
            atomic_write_parquet(df, staged[name])
        known = _kept_suspects(home, staged["meter_hourly"], since)
        audited = audit(staged, reconcile_ems, {"meter_hourly": HOURLY_PARTS}, {"meter_hourly": known})
        publish(audited.gate, [(p, home.computed_table(n)) for n, p in staged.items()])
    if audited.gate.passed:  # row findings publish (docs/reliability.md)
        # an incremental run's hours before `since` are the carry's, i.e. the last published table's: the dbt
        # step then rebuilds fct_meter_hourly from `since` on only
        record_version(home, "meter_hourly", since)
        (home.computed / "meter_hourly.parquet").unlink(missing_ok=True)  # (one file, before parts by month)
        _save_carry(
            home, run.carry, home.computed_table("meter_hourly"), audited.part_suspects["meter_hourly"]
        )
    if log is not None:
        log.info(f"ems_engine: {run.batches} batch(es) of meters, {hourly_rows} hourly rows")
    counts = interval_count_problems(audited.suspects["meter_hourly"])
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["computed", "meter_hourly"]),
        check_name=COUNTS_CHECK,
        passed=not counts,
        severity=dg.AssetCheckSeverity.WARN,  # per installation: the report gate blocks what depends on them
        metadata={"details": "\n".join(counts) or "ok"},
    )
    yield from gate_results(list(EMS_TABLES), audited, "EMS gate")
    bills = bills_disagreement(tables["energy_balance"])
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["computed", "energy_balance"]),
        check_name=BILLS_CHECK,
        passed=not bills,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"count": len(bills), "details": "\n".join(bills[:50]) or "ok"},
    )
    rows = {"meter_hourly": hourly_rows, **{n: df.height for n, df in tables.items()}}
    for name in EMS_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["computed", name]),
            metadata={
                "dagster/row_count": rows[name],
                "path": dg.MetadataValue.path(str(home.computed_table(name))),
            },
        )
