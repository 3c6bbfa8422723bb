"""One asset per landing dataset: landing drop → staged → audited (blocking gate) → raw lake.

Partitioned by drop date; a backfill of many days runs as one run (BackfillPolicy.single_run) that processes
every new or changed drop in the window. The write-audit-publish happens inside the asset
(orchestration/lib/ingest.py: step `transforms.ingest.drops`, gate `expectations.raw`, publish
`orchestration.lib.publish`); the audit is reported as the blocking `raw_gate` check, so a failing gate
stops every downstream asset and leaves the raw lake as it was.
"""

from datetime import date, timedelta

import dagster as dg

from expectations.raw import RAW_GATE
from orchestration.defs.partitions import SINCE_TAG, daily_drops
from orchestration.lib.config import LingtanConfig
from orchestration.lib.ingest import ingest_dataset
from transforms.contracts import datasets


def build_ingest_asset(name: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", name])
    ds = datasets()[name]

    @dg.asset(
        key=key,
        group_name="ingest",
        partitions_def=daily_drops,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[
            dg.AssetCheckSpec(
                RAW_GATE,
                asset=key,
                blocking=True,
                description="row accounting, contract schema, keys and SQL rules",
            )
        ],
        description=f"{ds.description} Raw lake table of the `{name}` landing dataset ({ds.kind}); "
        f"contract data_contracts/{ds.contract_path.name}.",
        kinds={"polars", "parquet"},
        tags={"lingtan/stage": "raw"},
        pool="lake",
    )
    def _ingest(context: dg.AssetExecutionContext, lingtan: LingtanConfig) -> dg.MaterializeResult:
        window = context.partition_time_window
        first, last = window.start.date(), (window.end - timedelta(days=1)).date()
        if since := context.run.tags.get(SINCE_TAG):  # catch-up run recorded under its last day
            first = min(first, date.fromisoformat(since))
        home = lingtan.home_dir()
        result = ingest_dataset(lingtan.landing_zone(), home, name, up_to=last, since=first)
        context.log.info(
            f"{name}: {len(result.drops_processed)} drop(s), read {result.rows_read}, "
            f"accepted {result.rows_accepted}, quarantined {result.rows_quarantined}"
        )
        return dg.MaterializeResult(
            metadata={
                "drops_processed": dg.MetadataValue.json([d.isoformat() for d in result.drops_processed]),
                "rows_read": result.rows_read,
                "rows_accepted": result.rows_accepted,
                "rows_quarantined": result.rows_quarantined,
                "dagster/row_count": result.rows_current,
                "path": dg.MetadataValue.path(str(home.raw_table(name))),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=RAW_GATE,
                    passed=result.gate.passed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"details": result.gate.details, "files": len(result.files)},
                )
            ],
        )

    return _ingest


ingest_assets = [build_ingest_asset(name) for name in datasets()]
