-- The importer's annual CBAM declaration quantities (CBAM Reg Art 6(2)) per importer × import year × installation ×
-- origin × CN code, from the export lines of the definitive period (import year 2026 on). Rules: docs/methodology/cbam.md (e).
--   E   = Σ embedded chargeable emissions of the export lines (actual / default split as applied);
--   FAA = Σ net mass × SEFA, SEFA with the CBAM factor of the import year: actual lines take the good's benchmark
--         part from fct_goods_free_allocation (installation × product × production year), default lines the
--         Column B benchmark of the CN code with the DVR route of the origin, electricity 0;
--   CP  = carbon price deduction (0 unless deductible, with the reason);
--   certificates due = max(0, E − FAA − CP) per row.
with

export_lines as (
    select
        *,
        coalesce(year(declaration_date), cast(left(production_period, 4) as integer)) as year
    from {{ ref('fct_cbam_export_lines') }}
),

lines as (
    select * from export_lines
    where year >= 2026
),

goods_fa as (
    select installation_id, product_id, period, sefa_before_factors_tco2e_per_t, sefa_basis
    from {{ ref('fct_goods_free_allocation') }}
),

carbon_prices as (
    select * from {{ ref('stg_lake__carbon_prices') }}
),

---------- DVR of the CN code and origin: route letter (Column B for default lines) and value without mark-up
dvr_pairs as (
    select distinct cn_code || '|' || coalesce(origin_country, '') as pair_key, cn_code, origin_country as country
    from lines
    where cn_code is not null
),

dvr as {{ cbam_dvr_route('dvr_pairs') }},

bm_requests as (
    select distinct
        'd|' || lines.cn_code || '|' || coalesce(lines.origin_country, '') || '|' || lines.year as req_key,
        lines.cn_code,
        'B' as bm_column,
        dvr.route_letters,
        lines.year
    from lines
    left join dvr on dvr.pair_key = lines.cn_code || '|' || coalesce(lines.origin_country, '')
    where lines.determination = 'default' and lines.cn_code is not null
),

default_benchmarks as {{ cbam_benchmark_lookup('bm_requests') }},

factors as {{ cbam_year_factors('lines') }},

---------- per export line: the benchmark part, the SEFA of the import year and the FAA
line_fa as (
    select
        lines.*,
        starts_with(coalesce(lines.cn_code, ''), '2716') as is_electricity,
        starts_with(coalesce(lines.cn_code, ''), '2716') or starts_with(coalesce(lines.cn_code, ''), '280410')
            as never_de_minimis,
        case
            when starts_with(coalesce(lines.cn_code, ''), '2716') then 0.0
            when lines.determination = 'default' then default_benchmarks.benchmark_tco2e_per_t
            else goods_fa.sefa_before_factors_tco2e_per_t
        end as sefa_before_factors,
        case
            when starts_with(coalesce(lines.cn_code, ''), '2716') then 'electricity: FAA 0'
            when lines.determination = 'default' and default_benchmarks.req_key is not null
                then 'default line: Column B benchmark ' || default_benchmarks.benchmark_tco2e_per_t
                    || ' tCO2e/t (' || default_benchmarks.benchmark_match || ')'
            when lines.determination = 'default'
                then 'default line: no Column B benchmark for CN ' || coalesce(lines.cn_code, '(none)') || ': FAA 0'
            when goods_fa.product_id is null
                then 'no free-allocation row for the good and production year: FAA 0'
            when goods_fa.sefa_before_factors_tco2e_per_t is null
                then 'no benchmark for the good (' || goods_fa.sefa_basis || '): FAA 0'
            else 'actual line: benchmark part of fct_goods_free_allocation ' || goods_fa.period
        end as faa_basis,
        dvr.dv_total_tco2e_per_t as dv_unmarked_tco2e_per_t,
        factors.cbam_factor,
        factors.cscf,
        factors.cscf_status
    from lines
    left join goods_fa
        on goods_fa.installation_id = lines.installation_id
        and goods_fa.product_id = lines.product_id
        and goods_fa.period = left(lines.production_period, 4)
    left join default_benchmarks
        on default_benchmarks.req_key = 'd|' || lines.cn_code || '|' || coalesce(lines.origin_country, '') || '|' || lines.year
    left join dvr on dvr.pair_key = lines.cn_code || '|' || coalesce(lines.origin_country, '')
    left join factors using (year)
),

line_amounts as (
    select
        *,
        net_mass_t * coalesce(sefa_before_factors * cbam_factor * cscf, 0) as faa_tco2e
    from line_fa
),

grouped as (
    select
        importer_eori,
        year,
        installation_id,
        origin_country,
        cn_code,
        max_by(importer_name, declaration_date || ' ' || coalesce(importer_name, '')) as importer_name,  -- a tie on the date: the greatest name
        bool_or(annex_ii_direct_only) as annex_ii_direct_only,
        bool_or(never_de_minimis) as never_de_minimis,
        count(*) as export_line_count,
        {{ stable_sum('net_mass_t') }} as net_mass_t,
        {{ stable_sum('embedded_chargeable_tco2e') }} as embedded_tco2e,
        coalesce({{ stable_sum('embedded_chargeable_tco2e', where="determination = 'actual'") }}, 0) as embedded_actual_tco2e,
        coalesce({{ stable_sum('embedded_chargeable_tco2e', where="determination = 'default'") }}, 0) as embedded_default_tco2e,
        {{ stable_sum('embedded_direct_tco2e') }} as embedded_direct_tco2e,
        {{ stable_sum('embedded_indirect_tco2e') }} as embedded_indirect_tco2e,
        bool_or(determination = 'actual') as has_actual,
        bool_or(determination = 'default') as has_default,
        {{ stable_sum('faa_tco2e') }} as free_allocation_adjustment_tco2e,
        string_agg(distinct faa_basis, ' | ' order by faa_basis) as faa_basis,
        any_value(cbam_factor) as cbam_factor,
        any_value(cscf) as cscf,
        any_value(cscf_status) as cscf_status,
        any_value(dv_unmarked_tco2e_per_t) as dv_unmarked_tco2e_per_t,
        {{ stable_sum('net_mass_t * dv_unmarked_tco2e_per_t') }} as holding_basis_default_unmarked_tco2e,
        string_agg(distinct net_mass_note, '; ' order by net_mass_note) as net_mass_note,
        list(source_row_id order by source_row_id) as source_row_ids
    from line_amounts
    group by importer_eori, year, installation_id, origin_country, cn_code
),

---------- carbon prices of the installation in force during the import year (evidence; see the deduction rule)
prices as (
    select
        grouped.importer_eori,
        cast(grouped.year as integer) as year,
        grouped.installation_id,
        grouped.origin_country,
        grouped.cn_code,
        string_agg(
            carbon_prices.instrument || ' ' || carbon_prices.price || ' ' || carbon_prices.currency || '/tCO2e, '
            || round(coalesce(carbon_prices.share_covered, 1) * 100, 2) || ' % covered, '
            || round(coalesce(carbon_prices.rebate_share, 0) * 100, 2) || ' % rebated ('
            || coalesce(carbon_prices.rebate_type, 'no rebate') || ')',
            '; ' order by carbon_prices.period_start
        ) as carbon_price_evidence,
        case when count(distinct carbon_prices.currency) = 1 then any_value(carbon_prices.currency) end
            as carbon_price_currency,
        -- a price in force for part of the year counts pro rata of its days in the year
        case when count(distinct carbon_prices.currency) = 1 then {{ stable_sum(
            "grouped.embedded_tco2e * coalesce(carbon_prices.share_covered, 1)
            * carbon_prices.price * (1 - coalesce(carbon_prices.rebate_share, 0))
            * (least(coalesce(carbon_prices.period_end, make_date(grouped.year, 12, 31)), make_date(grouped.year, 12, 31))
               - greatest(carbon_prices.period_start, make_date(grouped.year, 1, 1)) + 1)
            / (make_date(grouped.year, 12, 31) - make_date(grouped.year, 1, 1) + 1)"
        ) }} end as carbon_price_paid_amount,
        list(carbon_prices._source_row_id order by carbon_prices._source_row_id) as carbon_price_source_row_ids
    from grouped
    inner join carbon_prices
        on carbon_prices.installation_id = grouped.installation_id
        and carbon_prices.period_start <= make_date(grouped.year, 12, 31)
        and coalesce(carbon_prices.period_end, carbon_prices.period_start) >= make_date(grouped.year, 1, 1)
        and (carbon_prices.cn_code is null or starts_with(grouped.cn_code, carbon_prices.cn_code))
    group by 1, 2, 3, 4, 5
),

final as (
    select
        ---------- grain
        grouped.importer_eori,
        grouped.importer_name,
        cast(grouped.year as integer) as year,
        grouped.installation_id,
        grouped.origin_country,
        grouped.cn_code,
        grouped.annex_ii_direct_only,
        grouped.never_de_minimis,
        ---------- quantities
        grouped.export_line_count,
        grouped.net_mass_t,
        grouped.net_mass_note,
        grouped.embedded_tco2e,
        grouped.embedded_actual_tco2e,
        grouped.embedded_default_tco2e,
        grouped.embedded_direct_tco2e,
        grouped.embedded_indirect_tco2e,
        case
            when grouped.has_actual and grouped.has_default then 'mixed'
            when grouped.has_actual then 'actual'
            else 'default'
        end as determination,
        false as verified,
        case
            when grouped.has_actual
                then 'no input evidences verification: no dataset carries a verifier''s opinion on the installation''s emissions report (VER); actual values must be verified before they are declared (CBAM Reg Art 8(1))'
            else 'default values only: no verification required'
        end as verified_reason,
        ---------- free allocation
        grouped.cbam_factor,
        grouped.cscf,
        grouped.cscf_status,
        grouped.free_allocation_adjustment_tco2e / nullif(grouped.net_mass_t, 0) as sefa_tco2e_per_t,
        grouped.free_allocation_adjustment_tco2e,
        grouped.faa_basis,
        ---------- carbon price paid
        prices.carbon_price_evidence,
        prices.carbon_price_currency,
        prices.carbon_price_paid_amount,
        cast(0 as double) as carbon_price_deduction_tco2e,
        case
            when prices.carbon_price_evidence is null
                then 'no carbon_prices row for the installation in ' || grouped.year || ': no deduction'
            else 'carbon price evidenced (' || prices.carbon_price_evidence || '; about '
                || coalesce(round(prices.carbon_price_paid_amount, 2) || ' ' || prices.carbon_price_currency, 'an amount in several currencies')
                || ' effectively paid, net of rebates) but not deducted: the reduction needs the price certified by an independent person (CBAM Reg Art 9(2)), which no input evidences, and its conversion into certificates awaits the Art 9(4) implementing act'
        end as carbon_price_reason,
        ---------- certificates
        greatest(0.0, grouped.embedded_tco2e - grouped.free_allocation_adjustment_tco2e - 0.0) as certificates_due,
        ---------- Art 22(2) quarterly holding basis
        grouped.dv_unmarked_tco2e_per_t,
        grouped.holding_basis_default_unmarked_tco2e,
        ---------- lineage
        grouped.source_row_ids,
        prices.carbon_price_source_row_ids
    from grouped
    left join prices
        on prices.importer_eori is not distinct from grouped.importer_eori
        and prices.year = grouped.year
        and prices.installation_id is not distinct from grouped.installation_id
        and prices.origin_country is not distinct from grouped.origin_country
        and prices.cn_code is not distinct from grouped.cn_code
)

select * from final
