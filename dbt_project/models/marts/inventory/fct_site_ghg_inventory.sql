with

site_inventory as (
    select * from {{ ref('stg_computed__site_inventory') }}
),

final as (
    select
        ---------- grain
        installation_id,
        park_id,
        period,
        period_grain,
        -- the engine marks provisional only when given an as-of date; otherwise by the calendar
        coalesce(provisional, {{ is_provisional('period') }}) as is_provisional,
        ---------- scope 1
        scope1_tco2e,
        scope1_biogenic_memo_tco2e,
        scope1_basis,
        ---------- electricity
        electricity_mwh,
        purchased_electricity_mwh,
        onsite_renewable_mwh,
        ppa_renewable_mwh,
        gec_mwh,
        gec_covered_mwh,
        gec_unused_mwh,
        renewable_electricity_mwh,
        renewable_electricity_share,
        ---------- scope 2
        scope2_location_tco2e,
        scope2_market_tco2e,
        scope2_heat_tco2e,
        grid_factor_tco2_per_mwh,
        grid_factor_region,
        grid_factor_level,
        grid_factor_data_year,
        grid_factor_notice,
        grid_factor_status,
        grid_factor_rule,
        residual_factor_tco2_per_mwh,
        residual_factor_data_year,
        residual_factor_rule,
        ---------- scope 3
        scope3_cat1_tco2e,
        scope3_cat1_precursors_tco2e,
        scope3_cat1_materials_tco2e,
        cast(scope3_cat1_gap_lines as bigint) as scope3_cat1_gap_lines,
        scope3_cat3_fuel_upstream_tco2e,
        scope3_cat4_tco2e,
        scope3_cat9_tco2e,
        ---------- totals after instruments
        gross_tco2e,
        gec_instrument_tco2e,
        offsets_tco2e,
        net_tco2e,
        net_tco2e_ytd,
        ---------- notes
        issues,
        factor_version
    from site_inventory
)

select * from final
