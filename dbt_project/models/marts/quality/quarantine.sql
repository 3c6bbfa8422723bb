with

quarantine as (
    select *, 'landing' as stage from {{ ref('stg_lake__quarantine') }}
),

-- rows the landing contract accepted but a later rule refuses (the certificate ledger: claim outside validity,
-- second claim); kept apart from the landing row accounting by `stage`
ledger_rejects as (
    select dataset, drop_date, file, row_number, "column", reason, raw, 'certificate_ledger' as stage
    from {{ ref('stg_computed__gec_ledger_rejects') }}
),

-- meter readings the interval engine refuses (unknown meter, off-grid time, two readings for one interval, ...)
meter_rejects as (
    select dataset, drop_date, file, row_number, "column", reason, raw, 'interval_engine' as stage
    from {{ ref('stg_computed__meter_reading_issues') }}
    where kind = 'rejected'
),

all_rejections as (
    select * from quarantine
    union all by name
    select * from ledger_rejects
    union all by name
    select * from meter_rejects
),

final as (
    select
        ---------- ids
        {{ surrogate_key(['dataset', 'drop_date', 'file']) }} as data_quality_file_id,
        dataset,
        drop_date,
        file,
        row_number,
        stage,
        ---------- why
        "column",
        reason,
        ---------- what was read
        raw
    from all_rejections
)

select * from final
