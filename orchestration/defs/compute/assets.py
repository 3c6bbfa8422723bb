"""Computed stage: the pure engines (transforms/) over the raw lake, written write-audit-publish.

Each engine group is one multi-asset (its tables come from one calculation); the computed gate (Great
Expectations, row rules, reconciliations) runs on the staged tables before they are published to lake/computed/,
where dbt reads (docs/reliability.md, "Isolation"). What no installation can be blamed for (a table or column
missing) fails the step, so nothing downstream runs. A row finding names its installation and year: it is a
warning, the tables are published, and the report gate blocks only the documents that depend on those rows. The
footprint engines' gate is advisory as a whole.
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from expectations.computed import COMPUTED_GATE, Audit, audit
from expectations.gate import Gate
from orchestration.lib.compute import load_computed, load_raw, publish_computed
from orchestration.lib.config import LingtanConfig
from orchestration.lib.incremental import (
    engine_stamp,
    engine_unchanged,
    forget_engine_stamp,
    last_verdicts,
    save_engine_stamp,
    visible_factors,
)
from transforms.cbam.engine import TABLES as CBAM_ENGINE_TABLES
from transforms.contracts import datasets
from transforms.ghg.compute import GHG_TABLES

CBAM_TABLES = list(CBAM_ENGINE_TABLES)
FOOTPRINT_TABLES = list(GHG_TABLES)
# computed tables the footprint engines read (the CBAM engine's and the certificate ledger's claims)
FOOTPRINT_INPUTS = ("stream_emissions", "process_see", "precursor_inputs", "gec_claims")
RAW_KEYS = [dg.AssetKey(["raw", n]) for n in datasets()]

DESCRIPTIONS = {
    "stream_emissions": "Emissions per source stream × process × period (tCO2e; fossil and biomass memo).",
    "installation_emissions": "Installation totals per period: direct by method and gas, indirect, reconciliation.",
    "process_attribution": "Eq 55/56 terms per process × period: DirEm*, heat, waste gas, electricity produced.",
    "process_electricity": "Electricity consumed per process × period with its emission factor and source code.",
    "precursor_inputs": "Precursors consumed per process × period: mass, SEE used, origin, default/actual, reason.",
    "process_see": "SEE per process × period (own and incl. precursors), default share, embedded electricity.",
    "goods_see": "SEE per installation × product × period: direct, indirect, total, chargeable, per FU.",
    "export_lines": "Embedded emissions per export line (direct, indirect, chargeable) and determination.",
    "product_classification": "Each product's CN classification as the engine applies it (CBAM good, scope).",
    "shipment_emissions": "Logistics per shipment leg: tonne-km, WTW/TTW emissions, intensity and its source.",
    "shipment_allocations": "Leg emissions allocated to the products/materials carried, by mass.",
    "product_footprint": "ISO 14067 cradle-to-gate footprint per product × period, its parts and data quality.",
    "site_inventory": "GHG inventory per installation × period: Scope 1, Scope 2 (both), Scope 3 cat 1/4/9, net.",
    "scope2_lines": "Scope 2 per energy bill × month, both methods, with factor and basis.",
    "park_progress": "Zero-carbon progress per park × period.",
    "factor_catalog": "Every factor × version of the committed reference tables (kind, key, value, unit, source).",
}


def _specs(tables: list[str], group: str, deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            ["computed", t],
            deps=deps,
            group_name=group,
            description=DESCRIPTIONS[t],
            kinds={"polars", "parquet"},
            tags={"lingtan/stage": "computed"},
        )
        for t in tables
    ]


def _checks(tables: list[str], blocking: bool = True) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            COMPUTED_GATE,
            asset=["computed", t],
            blocking=blocking,
            description="Great Expectations suite + reconciliations on the staged tables"
            + ("" if blocking else " (advisory: a warning; the report gate blocks what reads failing rows)"),
        )
        for t in tables
    ]


def _of_table(failures: tuple[str, ...], tables: list[str]) -> dict[str, list[str]]:
    """Each failure line under the table it names (a suite's summary starts with it, a row-rule line says
    `of <table> (see …)`), else under the first table: every line is shown once."""
    out: dict[str, list[str]] = {t: [] for t in tables}
    for line in failures:
        t = next((t for t in tables if line.startswith(f"{t}:") or f" of {t} (see " in line), tables[0])
        out[t].append(line)
    return out


def _unchanged(engine: str, home, stamp: str, tables: list[str], advisory: bool) -> Iterator | None:
    """The engine's inputs (content hashes), code and reference data are those of its last publication: its
    tables stand, the gate's saved verdicts are reported again, nothing is computed (None: run the engine)."""
    checks = engine_unchanged(home, engine, stamp, tables)
    if checks is None:
        return None

    def replay() -> Iterator:
        for name in tables:
            verdict = checks.get(name, {"passed": True, "details": ""})
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(["computed", name]),
                check_name=COMPUTED_GATE,
                passed=bool(verdict["passed"]),
                severity=dg.AssetCheckSeverity(verdict.get("severity", "WARN" if advisory else "ERROR")),
                metadata={"details": verdict["details"], "lingtan/no_change": "inputs unchanged"},
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


def gate_results(
    names: list[str], audited: Audit, engine: str, advisory: bool = False
) -> Iterator[dg.AssetCheckResult]:
    """The computed gate's result per table. A blocking failure (what no installation can be blamed for) fails
    every table's check with ERROR and then the step; row findings (`expectations/isolation.py`) fail their
    table's check with WARN, the tables being published: the report gate blocks what depends on those rows.
    `advisory` (footprint engines): blocking failures are warnings too."""
    gate = audited.gate
    blocked = not gate.passed and not advisory
    per_table = _of_table(gate.failures, names) if advisory else {n: [] for n in names}
    for name in names:
        lines = list(gate.failures) if blocked else per_table[name] + audited.of_table(name)
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(["computed", name]),
            check_name=COMPUTED_GATE,
            passed=not lines,
            severity=dg.AssetCheckSeverity.WARN
            if advisory or (lines and not blocked)
            else dg.AssetCheckSeverity.ERROR,
            metadata={"details": "\n".join(lines)[:2000] or "ok"},
        )
    if blocked:
        raise dg.Failure(description=f"{engine}: computed gate failed: {gate.details[:500]}")


def _publish(
    context,
    lingtan: LingtanConfig,
    tables: dict[str, pl.DataFrame],
    reconcile,
    advisory: bool = False,
    stamp: tuple[str, str] | None = None,
    suite_rows: dict[str, pl.Expr] | None = None,
) -> Iterator:
    """`stamp`: (engine, input stamp) saved with the gate's verdicts once the tables are published; `suite_rows`:
    the rows of a table its Great Expectations suite reads (`expectations.computed.audit`)."""
    home = lingtan.home_dir()
    audits: list[Audit] = []
    if stamp:
        forget_engine_stamp(home, stamp[0])

    def check(staged):
        audits.append(audit(staged, reconcile, suite_rows=suite_rows))
        # advisory: the findings are reported below, and the tables are published all the same
        return Gate(COMPUTED_GATE) if advisory else audits[0].gate

    publish_computed(home, tables, check)
    results = list(
        gate_results(list(tables), audits[0], stamp[0] if stamp else "computed stage", advisory)
    )  # raises on a blocking failure: nothing was published
    yield from results
    if stamp:
        save_engine_stamp(
            home,
            *stamp,
            {
                r.asset_key.path[-1]: {
                    "passed": r.passed,
                    "severity": r.severity.value,
                    "details": r.metadata["details"].value,
                }
                for r in results
            },
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
    specs=_specs(CBAM_TABLES, "cbam", RAW_KEYS),
    check_specs=_checks(CBAM_TABLES),
    name="cbam_engine",
    pool="lake",
)
def cbam_engine(context: dg.AssetExecutionContext, lingtan: LingtanConfig):
    """CBAM methodology (IR 2025/2547): source streams → attribution → SEE of processes and goods → exports."""
    from transforms.cbam.engine import compute_cbam
    from transforms.cbam.errors import CbamError
    from transforms.reference.cbam import CbamReference

    home = lingtan.home_dir()
    stamp = engine_stamp(home, [home.raw_table(n) for n in datasets()])
    if (same := _unchanged("cbam_engine", home, stamp, CBAM_TABLES, advisory=False)) is not None:
        context.log.info("cbam_engine: inputs unchanged since its last publication, not recomputed")
        yield from same
        return
    raw = load_raw(home)
    try:
        tables = compute_cbam(raw, CbamReference.from_seeds())
    except CbamError as e:
        raise dg.Failure(
            description=f"CBAM engine: {e}",
            metadata={
                "problems": dg.MetadataValue.json(
                    [{k: str(v) for k, v in p.items()} for p in getattr(e, "problems", [])][:50]
                )
            },
        ) from None
    yield from _publish(
        context,
        lingtan,
        {t: tables[t] for t in CBAM_TABLES},
        lambda _: [],  # the CBAM rules are row rules and reconciliations per installation (isolation.py)
        stamp=("cbam_engine", stamp),
    )


@dg.multi_asset(
    specs=_specs(
        FOOTPRINT_TABLES,
        "footprint",
        RAW_KEYS + [dg.AssetKey(["computed", t]) for t in FOOTPRINT_INPUTS],
    ),
    check_specs=_checks(FOOTPRINT_TABLES, blocking=False),
    name="footprint_engines",
    pool="lake",
)
def footprint_engines(context: dg.AssetExecutionContext, lingtan: LingtanConfig):
    """Logistics (ISO 14083), product footprints (ISO 14067) and site inventories (GHG Protocol)."""
    from expectations.suites.computed import reconcile_footprint
    from orchestration.defs.compute.logistics import carried_logistics, logistics_plan, save_logistics_carry
    from transforms.footprint import load_factors
    from transforms.ghg.compute import compute_ghg

    home = lingtan.home_dir()
    today = date.today()
    inputs = [home.raw_table(n) for n in datasets()] + [home.computed_table(t) for t in FOOTPRINT_INPUTS]
    stamp = engine_stamp(home, inputs, {"factors_visible": visible_factors(today)})
    if (same := _unchanged("footprint_engines", home, stamp, FOOTPRINT_TABLES, advisory=True)) is not None:
        context.log.info("footprint_engines: inputs unchanged since their last publication, not recomputed")
        yield from same
        return
    cbam = {
        k: v.collect()
        for k, v in load_computed(home, ["stream_emissions", "process_see", "precursor_inputs"]).items()
    }
    claims = load_computed(home, ["gec_claims"]).get("gec_claims")  # certificate ledger (zero_carbon.py)
    raw, factors = load_raw(home), load_factors()
    # only the shipments the new drops touch are computed again (orchestration/defs/compute/logistics.py)
    plan = logistics_plan(home)
    carried = carried_logistics(home, plan, raw, factors)
    context.log.info(f"footprint_engines: logistics: {carried.why}")
    suite_rows = carried.suite_rows(last_verdicts(home, "footprint_engines"))  # before _publish forgets them
    tables = compute_ghg(
        raw,
        factors,
        cbam["stream_emissions"],
        cbam["process_see"],
        cbam["precursor_inputs"],
        inventory_as_of=today,
        gec_claims=claims.collect() if claims is not None else None,
        logistics=carried.tables,
    )

    def reconcile(t: dict[str, pl.DataFrame]) -> list[str]:
        return reconcile_footprint(t, cbam)

    yield from _publish(
        context,
        lingtan,
        tables,
        reconcile,
        advisory=True,
        stamp=("footprint_engines", stamp),
        suite_rows=suite_rows,
    )
    save_logistics_carry(home, plan)
