-- One row per quarantined row (or rejected file), from every lake/raw/<dataset>/_quarantine.parquet.
{%- set columns = {
    "dataset": "varchar",
    "drop_date": "date",
    "file": "varchar",
    "row_number": "bigint",
    "column": "varchar",
    "reason": "varchar",
    "raw": "varchar"
} %}

with source as (

    {{ lake_table(source('lake_quality', 'quarantine'), columns) }}

),

final as (

    select
        cast(dataset as varchar) as dataset,
        cast(drop_date as date) as drop_date,
        cast(file as varchar) as file,
        cast(row_number as bigint) as row_number,
        cast("column" as varchar) as "column",
        cast(reason as varchar) as reason,
        cast(raw as varchar) as raw
    from source

)

select * from final
