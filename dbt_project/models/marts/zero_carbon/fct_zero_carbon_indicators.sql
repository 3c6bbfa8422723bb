with

indicators as (
    select * from {{ ref('stg_computed__zero_carbon_indicators') }}
),

final as (
    select
        ---------- grain
        level,
        entity_id,
        installation_id,
        park_id,
        year,
        indicator_id,
        basis,
        ---------- indicator
        name_en,
        name_zh,
        value,
        unit,
        numerator,
        denominator,
        ---------- judgement
        threshold,
        comparison,
        passes,
        status,
        reason,
        ---------- standard
        standard,
        clause,
        threshold_status,
        threshold_source,
        ---------- provenance
        provisional as is_provisional,
        evidence,
        reference_version
    from indicators
)

select * from final
