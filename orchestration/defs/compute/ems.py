"""Interval engine stage (transforms/ems): one thin multi-asset around `compute_ems`.

Reads the raw `meters`, `meter_readings` and `energy_bills`, publishes meter_hourly, energy_balance and
meter_reading_issues write-audit-publish through the computed gate (expectations/ems.py, blocking), with the named
checks `interval_counts` (blocking: intervals_expected = measured + estimated + missing on every hourly row) and
`bills_match_meters` (WARN: bills and meters legitimately differ — another meter, billing periods, losses).

No change, no work (issue 10): the asset is skipped when the content of its raw inputs, the code, the reference
data and the run year (it marks the run year's periods provisional) are those of its last publication; its tables
stand and the check results saved then are reported again (`replay_or_none`, also used by the zero-carbon assets).
"""

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from expectations.computed import COMPUTED_GATE
from orchestration.defs.compute.assets import gate_results
from orchestration.lib.compute import load_raw, publish_audited
from orchestration.lib.config import LingtanConfig
from orchestration.lib.home import Home
from orchestration.lib.incremental import engine_unchanged, forget_engine_stamp, save_engine_stamp
from transforms.ems import EMS_TABLES

GROUP = "ems"
RAW_DEPS = ["meters", "meter_readings", "energy_bills"]
DESCRIPTIONS = {
    "meter_hourly": "Hourly aggregates per EMS meter: quantity (kWh for electricity) and interval counts.",
    "energy_balance": "Energy balance per site × period: billed vs metered, load, hourly-matched renewable share.",
    "meter_reading_issues": "Meter readings rejected by the interval engine, register decreases, with reasons.",
}
COUNTS_CHECK, BILLS_CHECK = "interval_counts", "bills_match_meters"


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
    yield from recorded(home, "ems_engine", stamp, _compute(lingtan, today))


def _compute(lingtan: LingtanConfig, today: date) -> Iterator:
    from expectations.ems import bills_disagreement, interval_count_problems, reconcile_ems
    from transforms.computed import conform_all
    from transforms.ems import compute_ems

    home = lingtan.home_dir()
    lazy = compute_ems(load_raw(home), as_of=today)
    tables = conform_all(dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True)))
    audited = publish_audited(home, tables, reconcile_ems)  # row findings publish (docs/reliability.md)
    counts = interval_count_problems(tables["meter_hourly"])
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["computed", "meter_hourly"]),
        check_name=COUNTS_CHECK,
        passed=not counts,
        severity=dg.AssetCheckSeverity.WARN,  # per installation: the report gate blocks what depends on them
        metadata={"details": "\n".join(counts) or "ok"},
    )
    yield from gate_results(list(tables), audited, "EMS gate")
    bills = bills_disagreement(tables["energy_balance"])
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["computed", "energy_balance"]),
        check_name=BILLS_CHECK,
        passed=not bills,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"count": len(bills), "details": "\n".join(bills[:50]) or "ok"},
    )
    for name, df in tables.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["computed", name]),
            metadata={
                "dagster/row_count": df.height,
                "path": dg.MetadataValue.path(str(home.computed_table(name))),
            },
        )
