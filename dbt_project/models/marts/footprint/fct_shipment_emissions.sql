with

shipment_emissions as (
    select * from {{ ref('stg_computed__shipment_emissions') }}
),

final as (
    select
        ---------- leg
        shipment_id,
        leg_no,
        ship_date,
        direction,
        mode,
        sub_type,
        ---------- route
        origin,
        destination,
        origin_place_id,
        destination_place_id,
        distance_km,
        distance_source,
        ---------- cargo
        mass_t,
        mass_source,
        item_count,
        tonne_km,
        ---------- emissions and intensity
        wtw_tco2e,
        ttw_tco2e,
        intensity_wtw_gco2e_per_tkm,
        intensity_ttw_gco2e_per_tkm,
        intensity_source,
        intensity_status,
        fuel_type,
        fuel_energy_gj,
        ---------- data quality
        is_primary_data,
        data_quality_rating,
        issues,
        factor_version,
        ---------- lineage (the engine joins the ids with '|')
        string_split(source_row_ids, '|') as source_row_ids
    from shipment_emissions
)

select * from final
