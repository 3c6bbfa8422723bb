-- stream_emissions as the CBAM engine writes it to lake/computed/stream_emissions.parquet; columns and units:
-- docs/computed/cbam.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "installation_id": "varchar",
    "process_id": "varchar",
    "stream_id": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "stream_name": "varchar",
    "method": "varchar",
    "gas": "varchar",
    "activity_data": "double",
    "activity_unit": "varchar",
    "energy_tj": "double",
    "ncv_tj_per_unit": "double",
    "ef_value": "double",
    "ef_unit_canonical": "varchar",
    "carbon_content_tc_per_unit": "double",
    "oxidation_factor": "double",
    "biomass_fraction": "double",
    "gas_t": "double",
    "tco2e": "double",
    "fossil_tco2e": "double",
    "biomass_tco2e": "double",
    "activity_origin": "varchar",
    "factor_origin": "varchar[]",
    "ncv_unit_assumed": "boolean",
    "unit_conversions": "varchar[]",
    "_source_row_ids": "varchar[]"
} %}

with source as (

    {{ lake_table(source('computed', 'stream_emissions'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
