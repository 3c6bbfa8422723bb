with

precursor_inputs as (
    select * from {{ ref('stg_computed__precursor_inputs') }}
),

final as (
    select
        ---------- consuming process and period
        installation_id,
        process_id,
        period,
        period_grain,
        {{ is_provisional('period') }} as is_provisional,
        ---------- what is consumed
        source,
        from_process_id,
        material_id,
        cn_code,
        supplier_id,
        supplier_installation_id,
        origin_country,
        quantity_source,
        ---------- quantities
        mass_t,
        mass_share_t_per_t,
        activity_level_t,
        ---------- SEE used
        see_direct,
        see_indirect,
        embedded_electricity_mwh_per_t,
        see_origin,
        determination,
        is_default,
        actual_unverified,
        precursor_annex_ii,
        ---------- embedded
        embedded_direct_tco2e,
        embedded_indirect_tco2e,
        embedded_electricity_mwh,
        default_direct_tco2e,
        embedded_indirect_non_annex_ii_tco2e,
        ---------- supplier data and fallbacks
        document_ref,
        supplier_data_status,
        fallback_reason,
        dv_used_table,
        dv_fallback_reason,
        dv_markup,
        dv_workbook_version,
        electricity_note,
        process_missing_reason,
        ---------- lineage
        _source_row_ids as source_row_ids,
        supplier_emissions_row_ids
    from precursor_inputs
)

select * from final
