with

files as (
    select * from {{ ref('stg_lake__files') }}
),

quarantine as (
    select * from {{ ref('stg_lake__quarantine') }}
),

-- green_certificates rows the certificate ledger refuses after landing (claim outside validity, second claim)
downstream_per_file as (
    select
        dataset,
        drop_date,
        file,
        count(distinct row_number) as rows_rejected_downstream
    from {{ ref('stg_computed__gec_ledger_rejects') }}
    group by all
    union all by name
    -- meter readings the interval engine refuses: a row of a meter file is a reading (one issue each)
    select
        dataset,
        drop_date,
        file,
        count(*) as rows_rejected_downstream
    from {{ ref('stg_computed__meter_reading_issues') }}
    where kind = 'rejected'
    group by all
),

-- quarantine records per file (a row may be quarantined for several columns; a rejected file has one record)
quarantine_per_file as (
    select
        dataset,
        drop_date,
        file,
        count(*) as quarantine_records,
        count(*) filter (where row_number is null) as file_level_rejections
    from quarantine
    group by all
),

final as (
    select
        ---------- ids
        {{ surrogate_key(['files.dataset', 'files.drop_date', 'files.file']) }} as data_quality_file_id,
        files.dataset,
        files.drop_date,
        files.file,
        ---------- file
        files.file_format,
        files.encoding,
        files.size_bytes,
        files.sha256,
        ---------- row accounting
        files.rows_read,
        files.rows_accepted,
        files.rows_quarantined,
        files.file_status,
        files.reasons,
        coalesce(quarantine_per_file.quarantine_records, 0) as quarantine_records,
        coalesce(quarantine_per_file.file_level_rejections, 0) as file_level_rejections,
        coalesce(downstream_per_file.rows_rejected_downstream, 0) as rows_rejected_downstream,
        files.notes,
        ---------- gate
        files.gate_passed,
        files.gate_details,
        ---------- processing
        files.contract_version,
        files.processed_at
    from files
    left join quarantine_per_file
        on quarantine_per_file.dataset = files.dataset
        and quarantine_per_file.drop_date is not distinct from files.drop_date
        and quarantine_per_file.file = files.file
    left join downstream_per_file
        on downstream_per_file.dataset = files.dataset
        and downstream_per_file.drop_date is not distinct from files.drop_date
        and downstream_per_file.file = files.file
)

select * from final
