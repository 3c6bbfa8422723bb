with

quarantine as (
    select * from {{ ref('stg_lake__quarantine') }}
),

final as (
    select
        ---------- ids
        {{ surrogate_key(['dataset', 'drop_date', 'file']) }} as data_quality_file_id,
        dataset,
        drop_date,
        file,
        row_number,
        ---------- why
        "column",
        reason,
        ---------- what was read
        raw
    from quarantine
)

select * from final
