"""The nightly job: every asset, ingestion (a window of drop dates) through engines, marts and reports."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="Ingest new drops, compute, build the warehouse, gate and publish reports (= `lingtan run`).",
    tags={"lingtan/warehouse": "writer"},
)
