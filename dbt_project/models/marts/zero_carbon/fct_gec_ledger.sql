with

ledger as (
    select * from {{ ref('stg_computed__gec_ledger') }}
),

final as (
    select
        ---------- grain
        certificate_batch_id,
        ---------- certificate
        scheme,
        mwh,
        generation_month,
        valid_until,
        technology,
        project_id,
        project_province,
        bundled,
        ---------- state and claim
        status,
        claimed_installation_id,
        claimed_period,
        claimed_period_grain,
        cancelled_on,
        claimed_mwh,
        unused_mwh,
        claimable,
        expired,
        run_date,
        notes,
        ---------- provenance
        versions,
        source_row_id,
        source_row_ids
    from ledger
)

select * from final
