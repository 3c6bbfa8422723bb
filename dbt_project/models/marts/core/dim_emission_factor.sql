-- Every factor the engines can use, one row per factor and version: the computed table factor_catalog
-- (transforms.ghg.factors.emission_factor_catalog over the committed reference tables). dbt adds the surrogate
-- key only; kinds, keys, units and validity are the engine's.
with

catalog as (
    select * from {{ ref('stg_computed__factor_catalog') }}
),

final as (
    select
        {{ surrogate_key(['kind', 'key', 'unit', 'version', 'valid_from']) }} as emission_factor_id,
        kind,
        key,
        value,
        unit,
        source,
        status,
        valid_from,
        valid_to,
        version,
        reference_table,
        note
    from catalog
)

select * from final
