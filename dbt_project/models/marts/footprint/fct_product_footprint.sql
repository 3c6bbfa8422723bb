with

product_footprint as (
    select * from {{ ref('stg_computed__product_footprint') }}
),

final as (
    select
        ---------- grain
        product_id,
        period,
        period_grain,
        {{ is_provisional('period') }} as is_provisional,
        installation_id,
        process_id,
        {{ surrogate_key(['installation_id', 'process_id']) }} as process_key,
        cn_code,
        activity_level_t,
        ---------- cradle-to-gate and its parts, per tonne of product
        cradle_to_gate_tco2e_per_t,
        own_direct_tco2e_per_t,
        own_indirect_tco2e_per_t,
        precursors_tco2e_per_t,
        purchased_materials_tco2e_per_t,
        inbound_transport_tco2e_per_t,
        ---------- beyond the gate
        outbound_transport_tco2e_per_t,
        outbound_shipped_t,
        cradle_to_customer_tco2e_per_t,
        ---------- per piece and memo items
        unit_mass_t,
        cradle_to_gate_kgco2e_per_piece,
        biogenic_co2_tco2e_per_t,
        precursor_default_tco2e_per_t,
        ---------- electricity
        electricity_basis,
        electricity_factor_kgco2e_per_kwh,
        electricity_factor_data_year,
        electricity_factor_rule,
        renewable_electricity_share,
        ---------- data quality
        primary_data_share,
        data_quality_score,
        has_gap,
        gap_materials,
        internal_inputs,
        issues,
        factor_version
    from product_footprint
)

select * from final
