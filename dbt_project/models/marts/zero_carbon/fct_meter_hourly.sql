{#- Incremental by time (orchestration/defs/warehouse/dbt.py sets LINGTAN_METER_HOURLY_SINCE, a UTC time): when
    the interval engine's incremental runs kept every hour before it as last built, only the hours from it on (and
    the rows without an hour) are deleted and inserted again. Unset or empty: the table is built whole. -#}
{%- set since = env_var('LINGTAN_METER_HOURLY_SINCE', '') -%}
{%- set changed = "hour_start_utc is null or hour_start_utc >= timestamp '" ~ since ~ "'" -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    full_refresh=(since == ''),
    pre_hook="{% if is_incremental() %}delete from {{ this }} where " ~ changed ~ "{% endif %}"
) }}

with

hourly as (
    select * from {{ ref('stg_computed__meter_hourly') }}
    {%- if is_incremental() %}
    where {{ changed }}
    {%- endif %}
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
