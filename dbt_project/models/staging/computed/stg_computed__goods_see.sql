-- goods_see as the CBAM engine writes it to lake/computed/goods_see.parquet; columns and units:
-- docs/computed/cbam.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "installation_id": "varchar",
    "process_id": "varchar",
    "product_id": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "product_name": "varchar",
    "cn_code": "varchar",
    "goods_category": "varchar",
    "annex_ii_direct_only": "boolean",
    "see_status": "varchar",
    "see_direct": "double",
    "see_indirect": "double",
    "see_total": "double",
    "see_chargeable": "double",
    "chargeable_rule": "varchar",
    "default_value_share": "double",
    "electricity_ef_source": "varchar",
    "embedded_electricity_mwh_per_t": "double",
    "determination": "varchar",
    "default_value_reason": "varchar",
    "functional_unit": "varchar",
    "fu_per_t": "double",
    "see_direct_per_fu": "double",
    "see_indirect_per_fu": "double",
    "see_total_per_fu": "double",
    "see_chargeable_per_fu": "double",
    "fu_note": "varchar",
    "produced_t": "double",
    "activity_level_t": "double",
    "_source_row_ids": "varchar[]"
} %}

with source as (

    {{ lake_table(source('computed', 'goods_see'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
