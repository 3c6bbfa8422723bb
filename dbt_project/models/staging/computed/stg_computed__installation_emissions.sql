-- installation_emissions as the CBAM engine writes it to lake/computed/installation_emissions.parquet; columns and units:
-- docs/computed/cbam.md. Casts only (an absent file stages as an empty relation with these columns).
{%- set columns = {
    "installation_id": "varchar",
    "period": "varchar",
    "period_grain": "varchar",
    "direct_tco2e": "double",
    "biomass_tco2e": "double",
    "indirect_tco2e": "double",
    "total_tco2e": "double",
    "combustion_tco2e": "double",
    "process_tco2e": "double",
    "mass_balance_tco2e": "double",
    "measured_tco2e": "double",
    "co2_tco2e": "double",
    "n2o_tco2e": "double",
    "pfc_tco2e": "double",
    "other_co2e_tco2e": "double",
    "n2o_t": "double",
    "cf4_t": "double",
    "c2f6_t": "double",
    "energy_tj": "double",
    "unattributed_stream_tco2e": "double",
    "electricity_mwh": "double",
    "gec_mwh": "double",
    "unassigned_electricity_mwh": "double",
    "unallocated_electricity_mwh": "double",
    "sum_dirEm_tco2e": "double",
    "sum_attributed_direct_tco2e": "double",
    "heat_term_tco2e": "double",
    "waste_gas_term_tco2e": "double",
    "reconciliation_diff_tco2e": "double",
    "_source_row_ids": "varchar[]"
} %}

with source as (

    {{ lake_table(source('computed', 'installation_emissions'), columns) }}

),

final as (

    select
        {{ cast_columns(columns) }}
    from source

)

select * from final
