"""A tiny raw lake for warehouse tests: every landing dataset's current table (one part), a few rows that satisfy
its contract (types from transforms.contracts, ids that reference each other), plus data-quality files.

Values are derived from the column's name and lingtan type, so a dataset added to data_contracts/ gets rows
without touching this file.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from transforms.contracts import Column, Dataset, datasets

DROP = date(2026, 1, 5)
ROWS = 2

# Id columns → value prefix: the same id in every dataset, so joins between datasets find each other.
ID_PREFIX = {
    "installation_id": "INST",
    "supplier_installation_id": "SINST",
    "consumed_in_installation_id": "INST",
    "process_id": "PROC",
    "from_process_id": "PROC",
    "to_process_id": "PROC",
    "consumed_in_process_id": "PROC",
    "default_process_id": "PROC",
    "product_id": "PROD",
    "material_id": "MAT",
    "supplier_id": "SUP",
    "stream_id": "STR",
    "bill_id": "BILL",
    "invoice_id": "INV",
    "export_id": "EXP",
    "shipment_id": "SHP",
    "meter_id": "MTR",
}
TEXT_VALUES = {
    "destination_country": "DE",
    "importer_country": "DE",
    "unlocode": "CNNGB",
    "cn_code": "72081000",
    "china_hs_code": "7208100000",
    "goods_category": "Iron or steel products",
    "unit": "t",
    "ncv_unit": "GJ/t",
    "ef_unit": "tCO2/t",
    "pcf_unit": "t",
    "fuel_unit": "L",
    "currency": "EUR",
    "carrier": "electricity",
    "production_period": "2026",
    "importer_eori": "DE123456789012345",
    "qualifying_parameters": "{}",
}
# Values that must make sense to the engines (they run on this lake in the warehouse tests).
OVERRIDES: dict[tuple[str, str], object] = {
    ("energy_bills", "unit"): "MWh",
    ("production", "produced_t"): 100.0,
    ("process_flows", "mass_t"): 10.0,  # a self-loop using 10 % of the output
}
FLOAT_VALUES = {
    "latitude": 29.9,
    "longitude": 121.8,
    "biomass_fraction": 0.0,
    "share_covered": 0.5,
    "rebate_share": 0.0,
}


def _value(ds: Dataset, c: Column, i: int) -> object:
    if (ds.name, c.name) in OVERRIDES:
        return OVERRIDES[ds.name, c.name]
    varying = bool(ds.keys) and c.name == ds.keys[-1]  # the last key column tells the rows apart
    n = i + 1 if varying else 1
    if c.kind == "date":
        return date(2026, i + 1, 28 if c.name == "period_end" else 1)  # row i lies in month i + 1
    if c.kind == "int":
        return n
    if c.kind == "timestamp":
        return datetime(2026, i + 1, 1, 0, 15)  # row i lies in month i + 1
    if c.kind == "month":
        return f"2026-{i + 1:02d}"
    if c.kind == "decimal":
        return FLOAT_VALUES.get(c.name, float(n))
    if c.kind == "bool":
        return True
    if c.kind == "enum":
        return c.allowed[0] if c.allowed else "x"
    if c.kind == "country":
        return TEXT_VALUES.get(c.name, "CN")
    if c.name in ID_PREFIX:
        return f"{ID_PREFIX[c.name]}{n}"
    if c.name in TEXT_VALUES:
        return TEXT_VALUES[c.name]
    return f"{c.name} {n}" if varying or c.required else None


def dataset_frame(ds: Dataset, rows: int = ROWS) -> pl.DataFrame:
    records = []
    for i in range(rows):
        rec = {c.name: _value(ds, c, i) for c in ds.columns}
        file = f"{ds.name}/{DROP.isoformat()}/{ds.name}.csv"
        rec |= {
            "_drop_date": DROP,
            "_file": file,
            "_row_number": i + 1,
            "_source_row_id": f"{ds.name}/{DROP.isoformat()}/{file}#{i + 1}",
        }
        records.append(rec)
    return pl.DataFrame({k: [r[k] for r in records] for k in ds.schema}, schema=ds.schema)


FILES_SCHEMA = pl.Schema({
    "dataset": pl.String, "drop_date": pl.Date, "file": pl.String, "sha256": pl.String, "change_token": pl.String,
    "size_bytes": pl.Int64, "file_format": pl.String, "encoding": pl.String, "rows_read": pl.Int64,
    "rows_accepted": pl.Int64, "rows_quarantined": pl.Int64, "file_status": pl.String, "reasons": pl.String,
    "notes": pl.String, "processed_at": pl.Datetime("us", "UTC"), "contract_version": pl.String,
    "gate_passed": pl.Boolean, "gate_details": pl.String,
})  # fmt: skip
QUARANTINE_SCHEMA = pl.Schema({
    "dataset": pl.String, "drop_date": pl.Date, "file": pl.String, "row_number": pl.Int64, "column": pl.String,
    "reason": pl.String, "raw": pl.String,
})  # fmt: skip


def quality_frames(ds: Dataset, rows: int = ROWS) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One accepted file per dataset (with one quarantined row), plus a rejected unreadable file for products."""
    now = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    good = f"{ds.name}/{DROP.isoformat()}/{ds.name}.csv"
    files = [
        {
            "dataset": ds.name,
            "drop_date": DROP,
            "file": good,
            "sha256": "0" * 64,
            "change_token": "t",
            "size_bytes": 100,
            "file_format": "csv",
            "encoding": "utf-8",
            "rows_read": rows + 1,
            "rows_accepted": rows,
            "rows_quarantined": 1,
            "file_status": "partial",
            "reasons": f"{ds.columns[0].name}: required (1)",
            "notes": None,
            "processed_at": now,
            "contract_version": ds.contract_version,
            "gate_passed": True,
            "gate_details": "ok",
        }
    ]
    quarantine = [
        {
            "dataset": ds.name,
            "drop_date": DROP,
            "file": good,
            "row_number": rows + 1,
            "column": ds.columns[0].name,
            "reason": "required value is empty",
            "raw": json.dumps({ds.columns[0].name: ""}, ensure_ascii=False),
        }
    ]
    if ds.name == "products":
        bad = f"products/{DROP.isoformat()}/broken.csv"
        files.append(
            files[0]
            | {
                "file": bad,
                "rows_read": 0,
                "rows_accepted": 0,
                "rows_quarantined": 0,
                "file_status": "rejected",
                "file_format": None,
                "encoding": None,
                "reasons": "file: not a table (1)",
            }
        )
        quarantine.append(
            {
                "dataset": ds.name,
                "drop_date": DROP,
                "file": bad,
                "row_number": None,
                "column": None,
                "reason": "file rejected: not a table",
                "raw": None,
            }
        )
    return pl.DataFrame(files, schema=FILES_SCHEMA), pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA)


def write_tiny_lake(home: Path, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Writes <home>/lake/raw/<dataset>/current/part-00000.parquet, _files.parquet and _quarantine.parquet;
    returns rows per dataset.
    Datasets in `skip` get no files at all (an optional dataset never dropped)."""
    written = {}
    for name, ds in datasets().items():
        if name in skip:
            continue
        folder = home / "lake" / "raw" / name
        folder.mkdir(parents=True, exist_ok=True)
        frame = dataset_frame(ds)
        (folder / "current").mkdir(exist_ok=True)
        frame.write_parquet(folder / "current" / "part-00000.parquet")
        files, quarantine = quality_frames(ds)
        files.write_parquet(folder / "_files.parquet")
        quarantine.write_parquet(folder / "_quarantine.parquet")
        written[name] = frame.height
    return written


def write_computed(home: Path) -> dict[str, int]:
    """Runs the real engines on the raw lake of `home` and writes lake/computed/<table>.parquet under the names the
    dbt sources read (as the Dagster compute assets do), so the warehouse is tested against the engines' actual
    columns. Returns rows per table."""
    from transforms.cbam.engine import compute_cbam
    from transforms.ghg.compute import compute_ghg
    from transforms.ghg.factors import load_factors

    raw = {
        name: pl.scan_parquet(path)
        if (path := home / "lake" / "raw" / name / "current").exists()
        else pl.LazyFrame(schema=ds.schema)
        for name, ds in datasets().items()
    }
    cbam = compute_cbam(raw)
    ghg = compute_ghg(
        raw, load_factors(), cbam["stream_emissions"], cbam["process_see"], cbam["precursor_inputs"]
    )
    tables = {**cbam, **ghg}
    folder = home / "lake" / "computed"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, frame in tables.items():
        df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        df.write_parquet(folder / f"{name}.parquet")
        written[name] = df.height
    return written
