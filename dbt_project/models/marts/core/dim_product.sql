with

products as (
    select * from {{ ref('int_products_classified') }}
),

final as (
    select
        ---------- ids
        product_id,
        installation_id,
        process_id,
        ---------- names
        name,
        name_en,
        ---------- customs codes
        cn_code,
        china_hs_code,
        ---------- CBAM classification (longest CN prefix in cbam_cn_goods)
        is_cbam_good,
        goods_category,
        cbam_sector,
        annex_ii_direct_only,
        functional_unit,
        declaration_unit,
        gases,
        cn_match_prefix,
        cn_ask_operator,
        cn_exclusion_reason,
        cn_list_version,
        process_goods_category,
        ---------- quantities
        unit_mass_t,
        qualifying_parameters,
        ---------- lineage
        _drop_date as source_drop_date,
        _source_row_id as source_row_id
    from products
)

select * from final
