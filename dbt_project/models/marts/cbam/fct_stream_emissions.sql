with

stream_emissions as (
    select * from {{ ref('stg_computed__stream_emissions') }}
),

final as (
    select
        ---------- grain
        installation_id,
        stream_id,
        process_id,
        period,
        period_grain,
        {{ is_provisional('period') }} as is_provisional,
        ---------- monitoring plan
        stream_name,
        method,
        gas,
        ---------- activity data and factors
        activity_data,
        activity_unit,
        energy_tj,
        ncv_tj_per_unit,
        ef_value,
        ef_unit_canonical,
        carbon_content_tc_per_unit,
        oxidation_factor,
        biomass_fraction,
        ---------- emissions
        gas_t,
        tco2e,
        fossil_tco2e,
        biomass_tco2e,
        ---------- provenance
        activity_origin,
        factor_origin,
        ncv_unit_assumed,
        unit_conversions,
        _source_row_ids as source_row_ids
    from stream_emissions
)

select * from final
