with

suppliers as (
    select * from {{ ref('stg_lake__suppliers') }}
),

countries as (
    select * from {{ ref('countries') }}
),

final as (
    select
        ---------- ids
        suppliers.supplier_id,
        ---------- names
        suppliers.name,
        ---------- location
        suppliers.country,
        countries.name_en as country_name_en,
        countries.is_eu_member as is_eu_supplier,
        ---------- production
        suppliers.installation_id,
        ---------- lineage
        suppliers._drop_date as source_drop_date,
        suppliers._source_row_id as source_row_id
    from suppliers
    left join countries on countries.iso2 = suppliers.country
)

select * from final
