-- fct_meter_hourly holds exactly the rows of the computed meter_hourly it is built from: the same number of rows
-- and the same order-independent digest (the sum of each row's hash). The mart is rebuilt from a month on when the
-- interval engine says the hours before are unchanged (models/marts/zero_carbon/fct_meter_hourly.sql); this makes
-- a build fail, rather than publish stale hours, if that ever did not hold. Returns one row when they differ.
-- With LINGTAN_METER_HOURLY_SINCE set, the dbt step has found the parts of the months before it (meter_hourly is
-- stored by UTC month) to be the files the last build read and checked (orchestration/defs/warehouse/dbt.py
-- `hourly_since`): only the months from it on (and the rows without an hour) are compared.
{%- set columns = [
    'installation_id', 'meter_id', 'hour_start', 'hour_start_utc', 'role', 'carrier', 'process_id',
    'parent_meter_id', 'timezone', 'quantity', 'unit', 'multiplier', 'interval_minutes', 'interval_inferred',
    'intervals_expected', 'intervals_measured', 'intervals_estimated', 'intervals_missing', 'register_decreases',
    'source_row_id_first', 'source_row_id_last'
] %}
{%- set since = env_var('LINGTAN_METER_HOURLY_SINCE', '') -%}
{%- set scope = (
    "where hour_start_utc is null or hour_start_utc >= date_trunc('month', timestamp '" ~ since ~ "')"
    if since else ""
) %}
with

mart as (
    select
        count(*) as row_count,
        coalesce(sum(hash({{ columns | join(', ') }}, counted_in_balance, ppa_direct_line)::hugeint), 0) as digest
    from {{ ref('fct_meter_hourly') }}
    {{ scope }}
),

source as (
    select
        count(*) as row_count,
        coalesce(sum(hash({{ columns | join(', ') }}, counted, ppa_direct)::hugeint), 0) as digest
    from {{ ref('stg_computed__meter_hourly') }}
    {{ scope }}
)

select
    mart.row_count as mart_rows,
    source.row_count as source_rows
from mart, source
where mart.row_count <> source.row_count or mart.digest <> source.digest
