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

all_rejections as (
    select * from quarantine
    union all by name
    select * from ledger_rejects
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
