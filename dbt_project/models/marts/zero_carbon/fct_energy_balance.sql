with

balance as (
    select * from {{ ref('stg_computed__energy_balance') }}
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
)

select * from final
