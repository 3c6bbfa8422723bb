-- shipment_emissions as the footprint engine writes it to lake/computed/shipment_emissions.parquet; columns and units:
-- docs/computed/footprint.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "shipment_id": "varchar",
    "leg_no": "bigint",
    "ship_date": "date",
    "direction": "varchar",
    "mode": "varchar",
    "sub_type": "varchar",
    "origin": "varchar",
    "destination": "varchar",
    "origin_place_id": "varchar",
    "destination_place_id": "varchar",
    "mass_t": "double",
    "mass_source": "varchar",
    "item_count": "bigint",
    "distance_km": "double",
    "distance_source": "varchar",
    "tonne_km": "double",
    "wtw_tco2e": "double",
    "ttw_tco2e": "double",
    "intensity_wtw_gco2e_per_tkm": "double",
    "intensity_ttw_gco2e_per_tkm": "double",
    "intensity_source": "varchar",
    "intensity_status": "varchar",
    "fuel_type": "varchar",
    "fuel_energy_gj": "double",
    "is_primary_data": "boolean",
    "data_quality_rating": "integer",
    "issues": "varchar",
    "factor_version": "varchar",
    "source_row_ids": "varchar"
} %}

with source as (

    {{ lake_table(source('computed', 'shipment_emissions'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
