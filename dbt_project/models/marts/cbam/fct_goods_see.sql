with

goods_see as (
    select * from {{ ref('stg_computed__goods_see') }}
),

final as (
    select
        ---------- grain
        installation_id,
        product_id,
        period,
        period_grain,
        {{ is_provisional('period') }} as is_provisional,
        ---------- good
        process_id,
        product_name,
        cn_code,
        goods_category,
        annex_ii_direct_only,
        ---------- specific embedded emissions, per tonne
        see_status,
        see_direct,
        see_indirect,
        see_total,
        see_chargeable,
        chargeable_rule,
        default_value_share,
        electricity_ef_source,
        embedded_electricity_mwh_per_t,
        determination,
        default_value_reason,
        ---------- per functional unit
        functional_unit,
        fu_per_t,
        see_direct_per_fu,
        see_indirect_per_fu,
        see_total_per_fu,
        see_chargeable_per_fu,
        fu_note,
        ---------- quantities
        produced_t,
        activity_level_t,
        ---------- lineage
        _source_row_ids as source_row_ids
    from goods_see
)

select * from final
