with

export_lines as (
    select * from {{ ref('stg_computed__export_lines') }}
),

final as (
    select
        ---------- declaration line
        export_id,
        line_no,
        declaration_date,
        importer_eori,
        importer_name,
        importer_country,
        destination_country,
        ---------- good
        product_id,
        cn_code,
        installation_id,
        origin_country,
        production_period,
        period_grain,
        annex_ii_direct_only,
        ---------- quantity
        quantity,
        unit,
        net_mass_t,
        net_mass_note,
        ---------- SEE applied and embedded emissions
        see_direct,
        see_indirect,
        see_chargeable_per_t,
        embedded_direct_tco2e,
        embedded_indirect_tco2e,
        embedded_chargeable_tco2e,
        default_value_share,
        determination,
        default_value_reason,
        ---------- default value used
        dv_used_table,
        dv_fallback_reason,
        dv_markup,
        dv_workbook_version,
        ---------- lineage
        _source_row_id as source_row_id
    from export_lines
)

select * from final
