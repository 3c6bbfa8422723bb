-- For analysts (`dbt compile` renders it; or paste into `lingtan sql`): files, rows and quarantine per dataset,
-- newest drop first.
select
    dataset,
    max(drop_date) as latest_drop,
    count(*) as files,
    count(*) filter (where file_status = 'rejected') as files_rejected,
    sum(rows_read) as rows_read,
    sum(rows_accepted) as rows_accepted,
    sum(rows_quarantined) as rows_quarantined,
    round(sum(rows_quarantined) / nullif(sum(rows_read), 0), 4) as quarantined_share
from {{ ref('fct_data_quality') }}
group by dataset
order by latest_drop desc nulls last, dataset
