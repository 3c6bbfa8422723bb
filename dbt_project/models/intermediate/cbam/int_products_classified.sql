-- Each product's CN code matched to the CBAM goods list by longest prefix (8, 6 or 4 digits, cbam_cn_goods),
-- with the category of the process that makes it for comparison. A CN code that matches no prefix is not a
-- CBAM good (is_cbam_good false, no category); an excluded prefix (in_scope false) wins over a shorter one.
with

products as (
    select * from {{ ref('stg_lake__products') }}
),

cn_goods as (
    select * from {{ ref('cbam_cn_goods') }}
),

processes as (
    select * from {{ ref('stg_lake__processes') }}
),

longest_prefix as (
    select
        products.product_id,
        cn_goods.*
    from products
    inner join cn_goods on starts_with(products.cn_code, cn_goods.cn_prefix)
    qualify row_number() over (partition by products.product_id order by cn_goods.prefix_digits desc) = 1
),

final as (
    select
        products.*,
        longest_prefix.cn_prefix as cn_match_prefix,
        coalesce(longest_prefix.in_scope, false) as is_cbam_good,
        longest_prefix.goods_category,
        longest_prefix.sector as cbam_sector,
        longest_prefix.annex_ii_direct_only,
        longest_prefix.functional_unit,
        longest_prefix.declaration_unit,
        longest_prefix.gases,
        longest_prefix.ask_operator as cn_ask_operator,
        longest_prefix.exclusion_reason as cn_exclusion_reason,
        longest_prefix.workbook_version as cn_list_version,
        processes.goods_category as process_goods_category
    from products
    left join longest_prefix on longest_prefix.product_id = products.product_id
    left join processes
        on processes.installation_id = products.installation_id
        and processes.process_id = products.process_id
)

select * from final
