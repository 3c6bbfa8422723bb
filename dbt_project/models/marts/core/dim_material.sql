with

materials as (
    select * from {{ ref('stg_lake__materials') }}
),

final as (
    select
        ---------- ids
        materials.material_id,
        ---------- attributes
        materials.name,
        materials.kind,
        materials.cn_code,
        materials.goods_category,
        materials.route,
        ---------- where it is used
        materials.consumed_in_installation_id,
        materials.consumed_in_process_id,
        materials.stream_id,
        ---------- quantities
        materials.unit_mass_t,
        materials.pcf_kgco2e_per_unit,
        materials.pcf_unit,
        ---------- lineage
        materials._drop_date as source_drop_date,
        materials._source_row_id as source_row_id
    from materials
)

select * from final
