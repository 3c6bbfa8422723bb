with

installations as (
    select * from {{ ref('stg_lake__installations') }}
),

countries as (
    select * from {{ ref('countries') }}
),

final as (
    select
        ---------- ids
        installations.installation_id,
        installations.registry_installation_id,
        ---------- names
        installations.name,
        installations.name_en,
        ---------- location
        installations.country,
        countries.name_en as country_name_en,
        countries.name_zh as country_name_zh,
        installations.city,
        installations.address,
        installations.postcode,
        installations.unlocode,
        installations.latitude,
        installations.longitude,
        installations.grid_region,
        ---------- operator
        installations.operator_id,
        installations.operator_name,
        ---------- lineage
        installations._drop_date as source_drop_date,
        installations._source_row_id as source_row_id
    from installations
    left join countries on countries.iso2 = installations.country
)

select * from final
