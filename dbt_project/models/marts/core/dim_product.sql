-- Products with the CBAM classification the engine computed (computed table product_classification: the CN
-- code's longest prefix in cbam_cn_goods, by transforms.reference.cn_codes, the rule goods_see uses too).
-- dbt does not classify again: it joins the classification to the product's names and quantities.
with

products as (
    select * from {{ ref('stg_lake__products') }}
),

classification as (
    select * from {{ ref('stg_computed__product_classification') }}
),

final as (
    select
        ---------- ids
        products.product_id,
        products.installation_id,
        products.process_id,
        ---------- names
        products.name,
        products.name_en,
        ---------- customs codes
        products.cn_code,
        products.china_hs_code,
        ---------- CBAM classification (computed by the engine)
        classification.is_cbam_good,
        classification.goods_category,
        classification.cbam_sector,
        classification.annex_ii_direct_only,
        classification.functional_unit,
        classification.declaration_unit,
        classification.gases,
        classification.cn_match_prefix,
        classification.cn_ask_operator,
        classification.cn_exclusion_reason,
        classification.cn_list_version,
        classification.process_goods_category,
        ---------- quantities
        products.unit_mass_t,
        products.qualifying_parameters,
        ---------- lineage
        products._drop_date as source_drop_date,
        products._source_row_id as source_row_id
    from products
    -- inner: a product the engine has not classified yet (no computed run since its drop) waits for the next run
    inner join classification on classification.product_id = products.product_id
)

select * from final
