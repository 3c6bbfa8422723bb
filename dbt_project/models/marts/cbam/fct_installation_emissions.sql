with

installation_emissions as (
    select * from {{ ref('stg_computed__installation_emissions') }}
),

final as (
    select
        ---------- grain
        installation_id,
        period,
        period_grain,
        {{ is_provisional('period') }} as is_provisional,
        ---------- totals
        direct_tco2e,
        biomass_tco2e,
        indirect_tco2e,
        total_tco2e,
        ---------- direct by monitoring method
        combustion_tco2e,
        process_tco2e,
        mass_balance_tco2e,
        measured_tco2e,
        ---------- direct by gas
        co2_tco2e,
        n2o_tco2e,
        pfc_tco2e,
        other_co2e_tco2e,
        n2o_t,
        cf4_t,
        c2f6_t,
        ---------- energy
        energy_tj,
        electricity_mwh,
        gec_mwh,
        unassigned_electricity_mwh,
        unallocated_electricity_mwh,
        ---------- reconciliation with the processes
        unattributed_stream_tco2e,
        "sum_dirEm_tco2e" as sum_process_dir_em_tco2e,
        sum_attributed_direct_tco2e,
        heat_term_tco2e,
        waste_gas_term_tco2e,
        reconciliation_diff_tco2e,
        ---------- lineage
        _source_row_ids as source_row_ids
    from installation_emissions
)

select * from final
