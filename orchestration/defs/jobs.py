"""The nightly job (= `lingtan run`): every asset, in the order of the stages —
ingest (one asset per landing dataset, partitioned by drop date: the window of new or changed drops, see
partitions.py) → engines (`cbam_engine`, `certificate_ledger`, `footprint_engines`, `ems_engine`,
`zero_carbon_indicators`) → dbt (staging, marts and their tests) →
publish (the warehouse analysts read) → reports. Each stage writes, audits and publishes; a blocked gate stops
what depends on it."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="Ingest new drops, compute, build the warehouse, gate and publish reports (= `lingtan run`).",
    tags={"lingtan/warehouse": "writer"},
)
