-- precursor_inputs as the CBAM engine writes it to lake/computed/precursor_inputs.parquet; columns and units:
-- docs/computed/cbam.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "installation_id": "varchar",
    "process_id": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "source": "varchar",
    "from_process_id": "varchar",
    "material_id": "varchar",
    "cn_code": "varchar",
    "supplier_id": "varchar",
    "supplier_installation_id": "varchar",
    "origin_country": "varchar",
    "quantity_source": "varchar",
    "mass_t": "double",
    "mass_share_t_per_t": "double",
    "see_direct": "double",
    "see_indirect": "double",
    "embedded_electricity_mwh_per_t": "double",
    "see_origin": "varchar",
    "determination": "varchar",
    "is_default": "boolean",
    "actual_unverified": "boolean",
    "precursor_annex_ii": "boolean",
    "document_ref": "varchar",
    "supplier_data_status": "varchar",
    "fallback_reason": "varchar",
    "dv_used_table": "varchar",
    "dv_fallback_reason": "varchar",
    "dv_markup": "double",
    "dv_workbook_version": "varchar",
    "electricity_note": "varchar",
    "embedded_direct_tco2e": "double",
    "embedded_indirect_tco2e": "double",
    "embedded_electricity_mwh": "double",
    "default_direct_tco2e": "double",
    "embedded_indirect_non_annex_ii_tco2e": "double",
    "process_missing_reason": "varchar",
    "activity_level_t": "double",
    "_source_row_ids": "varchar[]",
    "supplier_emissions_row_ids": "varchar[]"
} %}

with source as (

    {{ lake_table(source('computed', 'precursor_inputs'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
