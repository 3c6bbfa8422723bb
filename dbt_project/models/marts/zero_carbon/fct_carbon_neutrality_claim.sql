with

claims as (
    select * from {{ ref('stg_computed__carbon_neutrality_claims') }}
),

final as (
    select
        ---------- grain
        level,
        entity_id,
        year,
        ---------- boundary and base year
        boundary,
        base_year,
        base_year_gross_tco2e,
        ---------- reduce → remove → offset
        gross_tco2e,
        scope1_tco2e,
        scope2_market_tco2e,
        reductions_tco2e,
        removals_tco2e,
        credits_retired_tco2e,
        removal_credits_tco2e,
        avoidance_credits_tco2e,
        credits_other_periods_tco2e,
        residual_tco2e,
        ---------- claim
        provisional as is_provisional,
        claim_allowed,
        why,
        ---------- provenance
        members,
        credit_ids
    from claims
)

select * from final
