"""The raw-lake columns the CBAM engine reads, and how it gets them into shape.

The raw lake holds exactly the contract columns (spec/landing-zone.md) plus lineage. Optional columns may be
absent in frames built by hand (tests, the lead's experiments), so `prepare` adds every column the engine
reads, typed, as nulls, and gives rows without lineage a synthetic `_source_row_id` (`<dataset>#<n>`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

S, F, INT, D, B = pl.String, pl.Float64, pl.Int64, pl.Date, pl.Boolean

# dataset → column → polars type (the raw lake's types for the contract's lingtanType).
INPUT_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "installations": {"installation_id": S, "name": S, "name_en": S, "country": S, "city": S, "unlocode": S},
    "processes": {"installation_id": S, "process_id": S, "name": S, "goods_category": S, "route": S},
    "source_streams": {
        "installation_id": S,
        "stream_id": S,
        "name": S,
        "method": S,
        "unit": S,
        "ncv": F,
        "ncv_unit": S,
        "ef": F,
        "ef_unit": S,
        "carbon_content": F,
        "oxidation_factor": F,
        "conversion_factor": F,
        "biomass_fraction": F,
        "gas": S,
        "energy_carrier": S,
        "gas_reference_c": F,
        "default_process_id": S,
    },
    "stream_readings": {
        "installation_id": S,
        "stream_id": S,
        "process_id": S,
        "period_start": D,
        "period_end": D,
        "quantity": F,
        "unit": S,
        "ncv": F,
        "carbon_content": F,
        "ef": F,
        "emissions_t": F,
    },
    "energy_bills": {
        "bill_id": S,
        "installation_id": S,
        "meter_id": S,
        "carrier": S,
        "period_start": D,
        "period_end": D,
        "quantity": F,
        "unit": S,
        "process_id": S,
        "supply_type": S,
        "ef_tco2_per_mwh": F,
        "ef_source": S,
        "gec_mwh": F,
    },
    "production": {
        "installation_id": S,
        "process_id": S,
        "product_id": S,
        "period_start": D,
        "period_end": D,
        "produced_t": F,
        "electricity_exported_mwh": F,
        "electricity_exported_ef": F,
        "heat_imported_tj": F,
        "heat_imported_ef": F,
        "heat_exported_tj": F,
        "heat_exported_ef": F,
        "waste_gas_imported_tj": F,
        "waste_gas_exported_tj": F,
        "direct_emissions_t": F,
    },
    "process_flows": {
        "installation_id": S,
        "from_process_id": S,
        "to_process_id": S,
        "period_start": D,
        "period_end": D,
        "mass_t": F,
    },
    "materials": {
        "material_id": S,
        "name": S,
        "kind": S,
        "cn_code": S,
        "goods_category": S,
        "route": S,
        "consumed_in_installation_id": S,
        "consumed_in_process_id": S,
        "stream_id": S,
        "unit_mass_t": F,
    },
    "suppliers": {"supplier_id": S, "name": S, "country": S, "installation_id": S},
    "supplier_invoices": {
        "invoice_id": S,
        "line_no": INT,
        "invoice_date": D,
        "supplier_id": S,
        "supplier_installation_id": S,
        "installation_id": S,
        "material_id": S,
        "cn_code": S,
        "country_of_origin": S,
        "quantity": F,
        "unit": S,
    },
    "supplier_emissions": {
        "supplier_installation_id": S,
        "cn_code": S,
        "material_id": S,
        "period_start": D,
        "period_end": D,
        "see_direct": F,
        "see_indirect": F,
        "embedded_electricity_mwh_per_t": F,
        "electricity_ef_tco2_per_mwh": F,
        "electricity_ef_source": S,
        "determination": S,
        "verified": B,
        "document_ref": S,
    },
    "precursor_consumption": {
        "installation_id": S,
        "process_id": S,
        "material_id": S,
        "period_start": D,
        "period_end": D,
        "mass_t": F,
    },
    "products": {
        "product_id": S,
        "name": S,
        "cn_code": S,
        "installation_id": S,
        "process_id": S,
        "unit_mass_t": F,
        "qualifying_parameters": S,
    },
    "exports": {
        "export_id": S,
        "line_no": INT,
        "declaration_date": D,
        "product_id": S,
        "cn_code": S,
        "quantity": F,
        "unit": S,
        "importer_eori": S,
        "importer_name": S,
        "importer_country": S,
        "destination_country": S,
        "installation_id": S,
        "production_period": S,
    },
}

LINEAGE_COL = "_source_row_id"


def prepare(raw: Mapping[str, pl.LazyFrame | pl.DataFrame], dataset: str) -> pl.LazyFrame:
    """The dataset with every column the engine reads (missing ones as typed nulls) and a `_source_row_id`."""
    schema = INPUT_SCHEMAS[dataset]
    frame = raw.get(dataset)
    if frame is None:
        return pl.LazyFrame(schema={**schema, LINEAGE_COL: S})
    lf = frame.lazy()
    have = lf.collect_schema()
    lf = lf.with_columns(
        [pl.col(c).cast(t) if c in have else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()]
    )
    if LINEAGE_COL not in have:
        lf = lf.with_row_index("_n", offset=1).with_columns(
            (pl.lit(f"{dataset}#") + pl.col("_n").cast(S)).alias(LINEAGE_COL)
        )
    return lf.select([*schema, LINEAGE_COL])


def _coerce(value: Any, dtype: pl.DataType) -> Any:
    if value is None or value == "":
        return None
    if dtype == D and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if dtype == F:
        return float(value)
    if dtype == INT:
        return int(value)
    if dtype == B:
        return value.strip().lower() in ("true", "1", "yes", "y") if isinstance(value, str) else bool(value)
    if dtype == S:
        return value if isinstance(value, str) else str(value)
    return value


def frames_from_rows(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, pl.LazyFrame]:
    """In-memory raw frames from landing-style rows (spec column names; countries ISO2, units canonical):
    what tests and quick experiments feed `compute_cbam`, with a `_source_row_id` of `<dataset>#<row>`."""
    out: dict[str, pl.LazyFrame] = {}
    for dataset, items in rows.items():
        schema = INPUT_SCHEMAS.get(dataset)
        if schema is None:
            continue
        extra = sorted({k for r in items for k in r} - set(schema) - {LINEAGE_COL})
        full = {**schema, **dict.fromkeys(extra, S)}
        data = {c: [_coerce(r.get(c), t) for r in items] for c, t in full.items()}
        df = pl.DataFrame(data, schema=full)
        ids = [r.get(LINEAGE_COL) or f"{dataset}#{i}" for i, r in enumerate(items, start=1)]
        out[dataset] = df.with_columns(pl.Series(LINEAGE_COL, ids, dtype=S)).lazy()
    return out
