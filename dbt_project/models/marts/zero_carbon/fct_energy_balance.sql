with

balance as (
    select * from {{ ref('stg_computed__energy_balance') }}
),

-- claimable certificates from the ledger (fct_gec_ledger): a month row has that month's claims, a year row the
-- year's claims and its months' (a year claim is never split into months)
claims as (
    select * from {{ ref('stg_computed__gec_claims') }}
),

claims_per_period as (
    select installation_id, period, 'month' as period_grain, {{ stable_sum('gec_claimable_mwh') }} as gec_claimed_mwh
    from claims
    where period_grain = 'month'
    group by all
    union all
    select installation_id, left(period, 4) as period, 'year' as period_grain, {{ stable_sum('gec_claimable_mwh') }} as gec_claimed_mwh
    from claims
    group by all
),

final as (
    select
        ---------- grain
        installation_id,
        period,
        period_grain,
        -- the engine marks provisional from the run date; without one, by the calendar
        coalesce(provisional, {{ is_provisional('period') }}) as is_provisional,
        ---------- bills vs meters
        electricity_billed_mwh,
        grid_import_metered_mwh,
        metered_basis,
        billed_minus_metered_mwh,
        ---------- flows
        grid_import_mwh,
        grid_export_mwh,
        onsite_generation_mwh,
        onsite_self_consumed_mwh,
        ppa_delivered_mwh,
        ppa_direct_line_mwh,
        storage_charge_mwh,
        storage_discharge_mwh,
        load_mwh,
        ---------- hourly matching
        load_hours_with_data_mwh,
        renewable_matched_hourly_mwh,
        renewable_share_hourly,
        ---------- annual (certificate) matching, never mixed with the hourly share
        coalesce(claims_per_period.gec_claimed_mwh, 0) as gec_claimed_mwh,
        least(coalesce(claims_per_period.gec_claimed_mwh, 0), load_mwh) / nullif(load_mwh, 0)
            as renewable_share_certificates,
        ---------- completeness
        hours_total,
        hours_with_data,
        intervals_expected,
        intervals_measured,
        intervals_estimated,
        intervals_missing,
        metering_completeness,
        ---------- notes
        issues
    from balance
    left join claims_per_period using (installation_id, period, period_grain)
)

select * from final
