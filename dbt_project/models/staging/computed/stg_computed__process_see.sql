-- process_see as the CBAM engine writes it to lake/computed/process_see.parquet; columns and units:
-- docs/computed/cbam.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "installation_id": "varchar",
    "process_id": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "goods_category": "varchar",
    "annex_ii_process": "boolean",
    "see_status": "varchar",
    "activity_level_t": "double",
    "dirEm_source": "varchar",
    "heat_term_tco2e": "double",
    "waste_gas_term_tco2e": "double",
    "el_prod_tco2e": "double",
    "floor_applied": "boolean",
    "attributed_direct_tco2e": "double",
    "attributed_indirect_tco2e": "double",
    "electricity_mwh": "double",
    "electricity_ef_tco2_per_mwh": "double",
    "electricity_ef_source": "varchar",
    "purchased_precursor_t": "double",
    "internal_precursor_t": "double",
    "internal_output_t": "double",
    "ext_direct_tco2e": "double",
    "ext_indirect_tco2e": "double",
    "ext_default_direct_tco2e": "double",
    "ext_electricity_mwh": "double",
    "own_see_direct": "double",
    "own_see_indirect": "double",
    "precursor_see_direct": "double",
    "precursor_see_indirect": "double",
    "see_direct": "double",
    "see_indirect": "double",
    "see_total": "double",
    "see_indirect_non_annex_ii": "double",
    "own_electricity_mwh_per_t": "double",
    "embedded_electricity_mwh_per_t": "double",
    "default_direct_per_t": "double",
    "default_value_share": "double",
    "_source_row_ids": "varchar[]"
} %}

with source as (

    {{ lake_table(source('computed', 'process_see'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
