"""The raw-lake columns the CBAM engine reads, and how it gets them into shape.

The raw lake holds exactly the contract columns (data_contracts/) plus lineage. Optional columns may be
absent in frames built by hand (tests, the lead's experiments), so `prepare` adds every column the engine
reads, typed, as nulls, and gives rows without lineage a synthetic `_source_row_id` (`<dataset>#<n>`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from transforms.contracts import dataset as contract

S, F, INT, D, B = pl.String, pl.Float64, pl.Int64, pl.Date, pl.Boolean

# dataset → the contract columns the CBAM engine reads. Their types are the contract's (data_contracts/, through
# transforms.contracts), never spelled out here.
ENGINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "installations": ("installation_id", "name", "name_en", "country", "city", "unlocode"),
    "processes": ("installation_id", "process_id", "name", "goods_category", "route"),
    "source_streams": (
        "installation_id", "stream_id", "name", "method", "unit", "ncv", "ncv_unit", "ef", "ef_unit",
        "carbon_content", "oxidation_factor", "conversion_factor", "biomass_fraction", "gas", "energy_carrier",
        "gas_reference_c", "default_process_id",
    ),
    "stream_readings": (
        "installation_id", "stream_id", "process_id", "period_start", "period_end", "quantity", "unit", "ncv",
        "carbon_content", "ef", "emissions_t",
    ),
    "energy_bills": (
        "bill_id", "installation_id", "meter_id", "carrier", "period_start", "period_end", "quantity", "unit",
        "process_id", "supply_type", "ef_tco2_per_mwh", "ef_source", "gec_mwh",
    ),
    "production": (
        "installation_id", "process_id", "product_id", "period_start", "period_end", "produced_t",
        "electricity_exported_mwh", "electricity_exported_ef", "heat_imported_tj", "heat_imported_ef",
        "heat_exported_tj", "heat_exported_ef", "waste_gas_imported_tj", "waste_gas_exported_tj",
        "direct_emissions_t",
    ),
    "process_flows": (
        "installation_id", "from_process_id", "to_process_id", "period_start", "period_end", "mass_t",
    ),
    "materials": (
        "material_id", "name", "kind", "cn_code", "goods_category", "route", "consumed_in_installation_id",
        "consumed_in_process_id", "stream_id", "unit_mass_t",
    ),
    "suppliers": ("supplier_id", "name", "country", "installation_id"),
    "supplier_invoices": (  # not invoice_id and line_no: 3.7 M ids decoded at scale 100 for nothing
        "invoice_date", "supplier_id", "supplier_installation_id", "installation_id", "material_id", "cn_code",
        "country_of_origin", "quantity", "unit",
    ),
    "supplier_emissions": (
        "supplier_installation_id", "cn_code", "material_id", "period_start", "period_end", "see_direct",
        "see_indirect", "embedded_electricity_mwh_per_t", "electricity_ef_tco2_per_mwh", "electricity_ef_source",
        "determination", "verified", "document_ref",
    ),
    "precursor_consumption": (
        "installation_id", "process_id", "material_id", "period_start", "period_end", "mass_t",
    ),
    "products": (
        "product_id", "name", "cn_code", "installation_id", "process_id", "unit_mass_t", "qualifying_parameters",
    ),
    "exports": (
        "export_id", "line_no", "declaration_date", "product_id", "cn_code", "quantity", "unit", "importer_eori",
        "importer_name", "importer_country", "destination_country", "installation_id", "production_period",
    ),
}  # fmt: skip


def _schema(name: str, columns: tuple[str, ...]) -> dict[str, pl.DataType]:
    ds = contract(name)
    unknown = [c for c in columns if c not in ds.column_names]
    if unknown:  # the engine would read a column no contract lands
        raise KeyError(f"CBAM engine reads {name}.{unknown}, not in {ds.contract_path.name}")
    return {c: ds.column(c).dtype for c in columns}


# dataset → column → polars type of the raw lake column
INPUT_SCHEMAS: dict[str, dict[str, pl.DataType]] = {n: _schema(n, cols) for n, cols in ENGINE_COLUMNS.items()}

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
