"""Report stage: one step after the published warehouse builds every report kind from the marts, stages each
document, runs the report gate (a blocking check per kind) and publishes what passed as a new immutable
version (orchestration/lib/reports.py). A blocked report fails its check, so the run exits 2, while the other
reports and the warehouse stay published."""

from collections.abc import Iterator
from datetime import date

import dagster as dg

from orchestration.lib.config import LingtanConfig
from orchestration.lib.home import home_uri
from orchestration.lib.reports import presign_published, run_report_stage
from transforms.reports import KINDS

WAREHOUSE = dg.AssetKey(["warehouse", "lingtan_duckdb"])

DESCRIPTIONS = {
    "operator_communication": "Operator emissions communication per installation × year (XLSX, template layout).",
    "declaration_pack": "Importer's annual declaration data pack per EORI × year (CSV, XLSX, JSON + schema).",
    "summary": "Bilingual summary page per year (self-contained HTML with charts).",
}


def _key(kind: str) -> dg.AssetKey:
    return dg.AssetKey(["reports", kind])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            _key(k.name),
            deps=[WAREHOUSE],
            group_name="reports",
            description=DESCRIPTIONS.get(k.name, k.name),
            kinds={"python"},
            tags={"lingtan/stage": "reports"},
        )
        for k in KINDS
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "report_gate",
            asset=_key(k.name),
            blocking=True,
            description="Schemas valid, totals reconcile with the marts, every exported good has an SEE, "
            "values finite, files re-read equal what was meant",
        )
        for k in KINDS
    ],
    name="reports",
)
def reports(context: dg.AssetExecutionContext, lingtan: LingtanConfig) -> Iterator:
    end = context.run.tags.get("dagster/asset_partition_range_end")
    run_date = date.fromisoformat(end) if end else date.today()
    home = lingtan.home_dir()
    result = run_report_stage(home, KINDS, lingtan.report_config(run_date), context.run_id)
    links = presign_published(home_uri(lingtan.home or None), home, result) if lingtan.home_is_s3() else {}
    for kind in KINDS:
        part = result.by_kind(kind.name)
        lines = [line for fails in part.blocked.values() for line in fails]
        yield dg.AssetCheckResult(
            asset_key=_key(kind.name),
            check_name="report_gate",
            passed=not part.blocked,
            metadata={
                "blocked": dg.MetadataValue.json(part.blocked),
                "details": "\n".join(lines)[:4000] if lines else "ok",  # one line per failure
            },
        )
    for kind in KINDS:
        part = result.by_kind(kind.name)
        md = {
            "published": dg.MetadataValue.json([v.id for v in part.published]),
            "unchanged": len(part.unchanged),
            "blocked": len(part.blocked),
            "files": dg.MetadataValue.json(
                {v.id: sorted(v.meta["files"]) for v in part.published + part.unchanged}
            ),
            "path": dg.MetadataValue.path(str(home.reports / kind.name)),
        }
        if result.manifest:
            md["run_manifest"] = dg.MetadataValue.path(str(result.manifest.path / "manifest.json"))
        md.update(
            {f"download {name}": dg.MetadataValue.url(u) for name, u in links.get(kind.name, {}).items()}
        )
        yield dg.MaterializeResult(asset_key=_key(kind.name), metadata=md)
