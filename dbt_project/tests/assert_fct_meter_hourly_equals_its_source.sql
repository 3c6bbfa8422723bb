-- fct_meter_hourly holds exactly the rows of the computed meter_hourly it is built from: the same number of rows
-- and the same order-independent digest (the sum of each row's hash). The mart is rebuilt from a month on when the
-- interval engine says the hours before are unchanged (models/marts/zero_carbon/fct_meter_hourly.sql); this makes
-- a build fail, rather than publish stale hours, if that ever did not hold. Returns one row when they differ.
{%- set columns = [
    'installation_id', 'meter_id', 'hour_start', 'hour_start_utc', 'role', 'carrier', 'process_id',
    'parent_meter_id', 'timezone', 'quantity', 'unit', 'multiplier', 'interval_minutes', 'interval_inferred',
    'intervals_expected', 'intervals_measured', 'intervals_estimated', 'intervals_missing', 'register_decreases',
    'source_row_id_first', 'source_row_id_last'
] %}
with

mart as (
    select
        count(*) as row_count,
        coalesce(sum(hash({{ columns | join(', ') }}, counted_in_balance, ppa_direct_line)::hugeint), 0) as digest
    from {{ ref('fct_meter_hourly') }}
),

source as (
    select
        count(*) as row_count,
        coalesce(sum(hash({{ columns | join(', ') }}, counted, ppa_direct)::hugeint), 0) as digest
    from {{ ref('stg_computed__meter_hourly') }}
)

select
    mart.row_count as mart_rows,
    source.row_count as source_rows
from mart, source
where mart.row_count <> source.row_count or mart.digest <> source.digest
