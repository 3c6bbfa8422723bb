with

process_see as (
    select * from {{ ref('stg_computed__process_see') }}
),

final as (
    select
        ---------- grain
        {{ surrogate_key(['installation_id', 'process_id']) }} as process_key,
        installation_id,
        process_id,
        period,
        period_grain,
        {{ is_provisional('period') }} as is_provisional,
        ---------- process
        goods_category,
        annex_ii_process,
        see_status,
        activity_level_t,
        ---------- attribution (Eq 55, 56)
        "dirEm_source" as dir_em_source,
        attributed_direct_tco2e,
        attributed_indirect_tco2e,
        heat_term_tco2e,
        waste_gas_term_tco2e,
        el_prod_tco2e,
        floor_applied,
        ---------- electricity
        electricity_mwh,
        electricity_ef_tco2_per_mwh,
        electricity_ef_source,
        ---------- precursors
        purchased_precursor_t,
        internal_precursor_t,
        internal_output_t,
        ext_direct_tco2e as purchased_precursor_direct_tco2e,
        ext_indirect_tco2e as purchased_precursor_indirect_tco2e,
        ext_default_direct_tco2e as purchased_precursor_default_direct_tco2e,
        ---------- specific embedded emissions (Eq 57-63)
        own_see_direct,
        own_see_indirect,
        precursor_see_direct,
        precursor_see_indirect,
        see_direct,
        see_indirect,
        see_total,
        see_indirect_non_annex_ii,
        own_electricity_mwh_per_t,
        embedded_electricity_mwh_per_t,
        default_direct_per_t,
        default_value_share,
        ---------- lineage
        _source_row_ids as source_row_ids
    from process_see
)

select * from final
