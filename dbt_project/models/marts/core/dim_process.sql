with

processes as (
    select * from {{ ref('stg_lake__processes') }}
),

final as (
    select
        ---------- ids
        {{ surrogate_key(['processes.installation_id', 'processes.process_id']) }} as process_key,
        processes.installation_id,
        processes.process_id,
        ---------- attributes
        processes.name,
        processes.goods_category,
        processes.route,
        ---------- lineage
        processes._drop_date as source_drop_date,
        processes._source_row_id as source_row_id
    from processes
)

select * from final
