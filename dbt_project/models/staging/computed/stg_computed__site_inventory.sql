-- site_inventory as the footprint engine writes it to lake/computed/site_inventory.parquet; columns and units:
-- docs/computed/footprint.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "installation_id": "varchar",
    "park_id": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "provisional": "boolean",
    "scope1_tco2e": "double",
    "scope1_biogenic_memo_tco2e": "double",
    "scope1_basis": "varchar",
    "electricity_mwh": "double",
    "purchased_electricity_mwh": "double",
    "onsite_renewable_mwh": "double",
    "ppa_renewable_mwh": "double",
    "gec_mwh": "double",
    "gec_covered_mwh": "double",
    "gec_unused_mwh": "double",
    "renewable_electricity_mwh": "double",
    "renewable_electricity_share": "double",
    "scope2_location_tco2e": "double",
    "scope2_market_tco2e": "double",
    "scope2_heat_tco2e": "double",
    "grid_factor_tco2_per_mwh": "double",
    "grid_factor_region": "varchar",
    "grid_factor_level": "varchar",
    "grid_factor_data_year": "integer",
    "grid_factor_notice": "varchar",
    "grid_factor_status": "varchar",
    "grid_factor_rule": "varchar",
    "residual_factor_tco2_per_mwh": "double",
    "residual_factor_data_year": "integer",
    "residual_factor_rule": "varchar",
    "scope3_cat1_tco2e": "double",
    "scope3_cat1_precursors_tco2e": "double",
    "scope3_cat1_materials_tco2e": "double",
    "scope3_cat1_gap_lines": "double",
    "scope3_cat3_fuel_upstream_tco2e": "double",
    "scope3_cat4_tco2e": "double",
    "scope3_cat9_tco2e": "double",
    "gross_tco2e": "double",
    "gec_instrument_tco2e": "double",
    "offsets_tco2e": "double",
    "net_tco2e": "double",
    "net_tco2e_ytd": "double",
    "issues": "varchar",
    "factor_version": "varchar"
} %}

with source as (

    {{ lake_table(source('computed', 'site_inventory'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
