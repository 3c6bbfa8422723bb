-- product_footprint as the footprint engine writes it to lake/computed/product_footprint.parquet; columns and units:
-- docs/computed/footprint.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "product_id": "varchar",
    "installation_id": "varchar",
    "process_id": "varchar",
    "cn_code": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "activity_level_t": "double",
    "own_direct_tco2e_per_t": "double",
    "own_indirect_tco2e_per_t": "double",
    "precursors_tco2e_per_t": "double",
    "purchased_materials_tco2e_per_t": "double",
    "inbound_transport_tco2e_per_t": "double",
    "cradle_to_gate_tco2e_per_t": "double",
    "unit_mass_t": "double",
    "cradle_to_gate_kgco2e_per_piece": "double",
    "outbound_transport_tco2e_per_t": "double",
    "outbound_shipped_t": "double",
    "cradle_to_customer_tco2e_per_t": "double",
    "biogenic_co2_tco2e_per_t": "double",
    "precursor_default_tco2e_per_t": "double",
    "electricity_basis": "varchar",
    "electricity_factor_kgco2e_per_kwh": "double",
    "electricity_factor_data_year": "integer",
    "electricity_factor_rule": "varchar",
    "renewable_electricity_share": "double",
    "primary_data_share": "double",
    "data_quality_score": "double",
    "has_gap": "boolean",
    "gap_materials": "varchar",
    "internal_inputs": "boolean",
    "issues": "varchar",
    "factor_version": "varchar"
} %}

with source as (

    {{ lake_table(source('computed', 'product_footprint'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
