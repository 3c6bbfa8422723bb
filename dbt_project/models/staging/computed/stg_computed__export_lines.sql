-- export_lines as the CBAM engine writes it to lake/computed/export_lines.parquet; columns and units:
-- docs/computed/cbam.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "export_id": "varchar",
    "line_no": "bigint",
    "declaration_date": "date",
    "importer_eori": "varchar",
    "importer_name": "varchar",
    "importer_country": "varchar",
    "destination_country": "varchar",
    "product_id": "varchar",
    "cn_code": "varchar",
    "installation_id": "varchar",
    "origin_country": "varchar",
    "production_period": "varchar",
    "period_grain": "varchar",
    "quantity": "double",
    "unit": "varchar",
    "net_mass_t": "double",
    "net_mass_note": "varchar",
    "see_direct": "double",
    "see_indirect": "double",
    "see_chargeable_per_t": "double",
    "annex_ii_direct_only": "boolean",
    "embedded_direct_tco2e": "double",
    "embedded_indirect_tco2e": "double",
    "embedded_chargeable_tco2e": "double",
    "default_value_share": "double",
    "determination": "varchar",
    "default_value_reason": "varchar",
    "dv_used_table": "varchar",
    "dv_fallback_reason": "varchar",
    "dv_markup": "double",
    "dv_workbook_version": "varchar",
    "_source_row_id": "varchar"
} %}

with source as (

    {{ lake_table(source('computed', 'export_lines'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
