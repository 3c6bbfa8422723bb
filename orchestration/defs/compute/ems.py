"""Interval engine stage (transforms/ems): one thin multi-asset around `compute_ems`.

Reads the raw `meters`, `meter_readings` and `energy_bills`, publishes meter_hourly, energy_balance and
meter_reading_issues write-audit-publish through the computed gate (expectations/ems.py, blocking), with the named
checks `interval_counts` (blocking: intervals_expected = measured + estimated + missing on every hourly row) and
`bills_match_meters` (WARN: bills and meters legitimately differ — another meter, billing periods, losses).
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from expectations.computed import COMPUTED_GATE, audit_computed
from orchestration.lib.compute import load_raw, publish_computed
from orchestration.lib.config import LingtanConfig
from transforms.ems import EMS_TABLES

GROUP = "ems"
RAW_DEPS = ["meters", "meter_readings", "energy_bills"]
DESCRIPTIONS = {
    "meter_hourly": "Hourly aggregates per EMS meter: quantity (kWh for electricity) and interval counts.",
    "energy_balance": "Energy balance per site × period: billed vs metered, load, hourly-matched renewable share.",
    "meter_reading_issues": "Meter readings rejected by the interval engine, register decreases, with reasons.",
}
COUNTS_CHECK, BILLS_CHECK = "interval_counts", "bills_match_meters"


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
    from expectations.ems import bills_disagreement, interval_count_problems, reconcile_ems
    from transforms.computed import conform_all
    from transforms.ems import compute_ems

    home = lingtan.home_dir()
    lazy = compute_ems(load_raw(home), as_of=date.today())
    tables = conform_all(dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True)))
    gate = publish_computed(home, tables, lambda staged: audit_computed(staged, reconcile_ems))
    for name in tables:
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(["computed", name]),
            check_name=COMPUTED_GATE,
            passed=gate.passed,
            metadata={"details": gate.details[:2000]},
        )
    counts = interval_count_problems(tables["meter_hourly"])
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["computed", "meter_hourly"]),
        check_name=COUNTS_CHECK,
        passed=not counts,
        metadata={"details": "\n".join(counts) or "ok"},
    )
    if not gate.passed:
        raise dg.Failure(description=f"EMS gate failed: {gate.details[:500]}")
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
