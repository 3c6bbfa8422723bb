with

hourly as (
    select * from {{ ref('stg_computed__meter_hourly') }}
),

final as (
    select
        ---------- grain
        installation_id,
        meter_id,
        hour_start,
        hour_start_utc,
        ---------- meter
        role,
        carrier,
        process_id,
        parent_meter_id,
        timezone,
        counted as counted_in_balance,
        ppa_direct as ppa_direct_line,
        ---------- quantity
        quantity,
        unit,
        multiplier,
        interval_minutes,
        interval_inferred,
        ---------- completeness
        intervals_expected,
        intervals_measured,
        intervals_estimated,
        intervals_missing,
        register_decreases,
        ---------- lineage
        source_row_id_first,
        source_row_id_last
    from hourly
)

select * from final
