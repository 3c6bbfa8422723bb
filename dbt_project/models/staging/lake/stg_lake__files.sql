-- One row per landing file ingestion processed, from every lake/raw/<dataset>/_files.parquet.
{%- set columns = {
    "dataset": "varchar",
    "drop_date": "date",
    "file": "varchar",
    "sha256": "varchar",
    "size_bytes": "bigint",
    "file_format": "varchar",
    "encoding": "varchar",
    "rows_read": "bigint",
    "rows_accepted": "bigint",
    "rows_quarantined": "bigint",
    "file_status": "varchar",
    "reasons": "varchar",
    "notes": "varchar",
    "processed_at": "timestamp with time zone",
    "contract_version": "varchar",
    "gate_passed": "boolean",
    "gate_details": "varchar"
} %}

with source as (

    {{ lake_table(source('lake_quality', 'files'), columns) }}

),

final as (

    select
        ---------- ids
        cast(dataset as varchar) as dataset,
        cast(drop_date as date) as drop_date,
        cast(file as varchar) as file,
        ---------- file
        cast(sha256 as varchar) as sha256,
        cast(size_bytes as bigint) as size_bytes,
        cast(file_format as varchar) as file_format,
        cast(encoding as varchar) as encoding,
        ---------- row accounting
        cast(rows_read as bigint) as rows_read,
        cast(rows_accepted as bigint) as rows_accepted,
        cast(rows_quarantined as bigint) as rows_quarantined,
        cast(file_status as varchar) as file_status,
        cast(reasons as varchar) as reasons,
        cast(notes as varchar) as notes,
        ---------- processing
        cast(processed_at as timestamp with time zone) as processed_at,
        cast(contract_version as varchar) as contract_version,
        cast(gate_passed as boolean) as gate_passed,
        cast(gate_details as varchar) as gate_details
    from source

)

select * from final
