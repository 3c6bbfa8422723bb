-- Every file's rows_quarantined equals the distinct row numbers it has in `quarantine` (docs/landing-zone.md:
-- rows read = rows accepted + rows quarantined, each quarantined row listed with its reason).
-- Returns the files whose accounting and quarantine disagree.
with

files as (
    select * from {{ ref('fct_data_quality') }}
),

quarantined_rows as (
    select
        data_quality_file_id,
        count(distinct row_number) as quarantined_row_numbers
    from {{ ref('quarantine') }}
    where row_number is not null and stage = 'landing'  -- later refusals (ledger) are not landing accounting
    group by all
)

select
    files.dataset,
    files.drop_date,
    files.file,
    files.rows_quarantined,
    coalesce(quarantined_rows.quarantined_row_numbers, 0) as quarantined_row_numbers
from files
left join quarantined_rows using (data_quality_file_id)
where files.rows_quarantined <> coalesce(quarantined_rows.quarantined_row_numbers, 0)
