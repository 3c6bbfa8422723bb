"""Zero-carbon stage (transforms/zero_carbon): two thin multi-assets around the pure functions.

- `certificate_ledger` (raw → computed, before the site inventory, whose market-based Scope 2 reads `gec_claims`):
  gec_ledger, gec_claims, gec_ledger_rejects (reach `quarantine` through dbt), gec_reconciliation, credits_retired;
- `zero_carbon_indicators` (after the inventory and the interval engine): zero_carbon_indicators,
  carbon_neutrality_claims.

Both publish write-audit-publish through the computed gate (expectations/zero_carbon.py: keys and home-wide
identities block; row findings per installation and year warn, docs/reliability.md "Isolation"), with a warning
check each: the ledger against the bills' gec_mwh, and the indicators' inputs complete.

No change, no work (issue 10): each asset is skipped when the content of the files it reads, the code, the
reference data (and for the ledger its run date) are those of its last publication (`ems.replay_or_none`).
"""

from collections.abc import Callable, Iterator
from datetime import date

import dagster as dg
import polars as pl

from expectations.computed import COMPUTED_GATE
from orchestration.defs.compute.assets import gate_results
from orchestration.defs.compute.ems import recorded, replay_or_none
from orchestration.lib.compute import load_computed, load_raw, publish_audited
from orchestration.lib.config import LingtanConfig
from orchestration.lib.incremental import engine_stamp
from orchestration.lib.meter_years import meter_years
from transforms.zero_carbon.compute import LEDGER_TABLES, ZERO_CARBON_TABLES

GROUP = "zero_carbon"
RAW_DEPS = ["green_certificates", "carbon_credits", "energy_bills"]
INDICATOR_DEPS = [
    "site_inventory", "scope2_lines", "stream_emissions", "product_footprint", "credits_retired", "energy_balance",
    "meter_hourly",
]  # fmt: skip
INDICATOR_RAW = ["parks", "meters", "energy_bills", "production"]
DESCRIPTIONS = {
    "gec_ledger": "Green-certificate ledger: one row per batch, validity, claim, expiry at the run date.",
    "gec_claims": "Claimable certificate MWh per consumer site × claimed period (read by market-based Scope 2).",
    "gec_ledger_rejects": "green_certificates rows the ledger rejects (outside validity, second claim), with reasons.",
    "gec_reconciliation": "Ledger claims vs energy_bills.gec_mwh per site × year.",
    "credits_retired": "Carbon credits retired per site or park × claimed period.",
    "zero_carbon_indicators": "P1–P6 per park and F1–F7 per site and year: value, threshold, pass, basis, evidence.",
    "carbon_neutrality_claims": "ISO 14068-1 claim view per site/park and year: gross, reductions, credits, residual.",
}
BILLS_CHECK, INPUTS_CHECK = "gec_bills_reconciled", "indicator_inputs_complete"


def _specs(tables: tuple[str, ...], deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            ["computed", t],
            deps=deps,
            group_name=GROUP,
            description=DESCRIPTIONS[t],
            kinds={"polars", "parquet"},
            tags={"lingtan/stage": "computed"},
        )
        for t in tables
    ]


def _checks(
    tables: tuple[str, ...], warn_table: str, warn_name: str, warn_text: str
) -> list[dg.AssetCheckSpec]:
    gate = [
        dg.AssetCheckSpec(
            COMPUTED_GATE, asset=["computed", t], blocking=True, description="zero-carbon gate rules"
        )
        for t in tables
    ]
    return [*gate, dg.AssetCheckSpec(warn_name, asset=["computed", warn_table], description=warn_text)]


def _publish(
    lingtan: LingtanConfig,
    tables: dict[str, pl.DataFrame],
    reconcile: Callable[[dict[str, pl.DataFrame]], list[str]],
    warning: tuple[str, str, list[str]],
) -> Iterator:
    from transforms.computed import conform_all

    home = lingtan.home_dir()
    tables = conform_all(tables)
    # row findings publish, attributed to their installation and year (docs/reliability.md, "Isolation")
    yield from gate_results(list(tables), publish_audited(home, tables, reconcile), "zero-carbon gate")
    table, check, problems = warning
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["computed", table]),
        check_name=check,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"count": len(problems), "details": "\n".join(problems[:50]) or "ok"},
    )
    for name, df in tables.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["computed", name]),
            metadata={
                "dagster/row_count": df.height,
                "path": dg.MetadataValue.path(str(home.computed_table(name))),
            },
        )


@dg.multi_asset(
    specs=_specs(LEDGER_TABLES, [dg.AssetKey(["raw", n]) for n in RAW_DEPS]),
    check_specs=_checks(LEDGER_TABLES, "gec_reconciliation", BILLS_CHECK, "ledger claims = bills' gec_mwh"),
    name="certificate_ledger",
    pool="lake",
)
def certificate_ledger(context: dg.AssetExecutionContext, lingtan: LingtanConfig):
    """Every accepted version of green_certificates (raw history) → the ledger at the run date (the run's last
    drop date, `lingtan run --date`, as the reports take it; else today)."""
    from expectations.zero_carbon import bills_disagreement, reconcile_ledger
    from transforms.contracts import dataset
    from transforms.zero_carbon.compute import compute_ledger

    home = lingtan.home_dir()
    schema = dataset("green_certificates").schema
    files = sorted((home.raw_dir("green_certificates") / "history").glob("*.parquet"))
    end = context.run.tags.get("dagster/asset_partition_range_end")
    run_date = date.fromisoformat(end) if end else date.today()
    # what compute_ledger reads: the certificates' history, the credits and the bills (raw), and the run date
    inputs = [*files, *(home.raw_table(n) for n in RAW_DEPS)]
    stamp = engine_stamp(home, inputs, {"run_date": run_date.isoformat()})
    if (same := replay_or_none(home, "certificate_ledger", stamp, list(LEDGER_TABLES))) is not None:
        context.log.info("certificate_ledger: inputs unchanged since its last publication, not recomputed")
        yield from same
        return
    history = pl.scan_parquet(files).match_to_schema(schema) if files else pl.LazyFrame(schema=schema)
    tables = compute_ledger(history, load_raw(home), run_date)
    warning = (BILLS_CHECK, bills_disagreement(tables["gec_reconciliation"]))
    published = _publish(lingtan, tables, reconcile_ledger, ("gec_reconciliation", *warning))
    yield from recorded(home, "certificate_ledger", stamp, published)


@dg.multi_asset(
    specs=_specs(
        ZERO_CARBON_TABLES,
        [dg.AssetKey(["computed", t]) for t in INDICATOR_DEPS]
        + [dg.AssetKey(["raw", n]) for n in INDICATOR_RAW],
    ),
    check_specs=_checks(
        ZERO_CARBON_TABLES, "zero_carbon_indicators", INPUTS_CHECK, "every indicator has its inputs"
    ),
    name="zero_carbon_indicators",
    pool="lake",
)
def zero_carbon_indicators(context: dg.AssetExecutionContext, lingtan: LingtanConfig):
    """Indicators P1–P6 / F1–F7 and the ISO 14068-1 claim view from the inventory, the ledger and the EMS."""
    from expectations.zero_carbon import missing_inputs, reconcile_zero_carbon
    from transforms.zero_carbon.compute import compute_zero_carbon
    from transforms.zero_carbon.refdata import load_reference

    home = lingtan.home_dir()
    inputs = [home.computed_table(t) for t in INDICATOR_DEPS] + [home.raw_table(n) for n in INDICATOR_RAW]
    stamp = engine_stamp(home, inputs)
    if (same := replay_or_none(home, "zero_carbon_indicators", stamp, list(ZERO_CARBON_TABLES))) is not None:
        context.log.info(
            "zero_carbon_indicators: inputs unchanged since their last publication, not recomputed"
        )
        yield from same
        return
    # meter_hourly is read as its summary per meter × year, kept by month part from run to run (the whole table,
    # 17.8 M hours at scale 100, took 4.3 GB when collected, and 1.1 s to aggregate every night)
    deps = [t for t in INDICATOR_DEPS if t != "meter_hourly"]
    computed: dict[str, pl.DataFrame] = {k: v.collect() for k, v in load_computed(home, deps).items()}
    years, parts_read = meter_years(home)
    if years is not None:
        computed["meter_years"] = years
        context.log.info(f"zero_carbon_indicators: meter_hourly summarised from {parts_read} new part(s)")
    missing = [
        t
        for t in ("site_inventory", "scope2_lines", "stream_emissions", "credits_retired")
        if t not in computed
    ]
    if missing:
        raise dg.Failure(
            description=f"zero-carbon indicators need computed tables not published yet: {missing}"
        )
    raw = load_raw(home)
    tables = compute_zero_carbon(raw, computed, load_reference())
    metered = set(raw["meters"].select(pl.col("installation_id").unique()).collect().to_series().drop_nulls())
    warning = (
        "zero_carbon_indicators",
        INPUTS_CHECK,
        missing_inputs(tables["zero_carbon_indicators"], metered),
    )
    published = _publish(lingtan, tables, reconcile_zero_carbon, warning)
    yield from recorded(home, "zero_carbon_indicators", stamp, published)
