-- Specific embedded free allocation (SEFA) per good and year (docs/methodology/cbam.md (e); FAR IR (EU) 2025/2620, whose
-- text is not in the folder: UNCONFIRMED). SEFA = CBAM_y × CSCF_y × B, with B the benchmark part:
--   electricity: B = 0 (no free allocation);
--   default data (the good's SEE is a default value): B = Column B benchmark of the CN code, route letter from the
--     DVR table of the installation's country;
--   actual data: B = Column A benchmark of the good's CN code (its own production step) + Σ m_i × B_i over the
--     process's precursors (Eq 61 m_i from fct_precursor_inputs): purchased precursor i → its Column B benchmark
--     (route letter from the DVR table of its country of production: the supplier's own SEFA is not in the
--     inputs), internal precursor from process j → j's Column A benchmark (lowest over j's products) + j's
--     purchased precursors' Σ m_k × B_k (one internal step: a deeper chain is named in sefa_basis).
with

goods as (
    select * from {{ ref('fct_goods_see') }}
    where period_grain = 'year'
),

processes as (
    select installation_id, process_id, route from {{ ref('dim_process') }}
),

installations as (
    select installation_id, country from {{ ref('dim_installation') }}
),

precursors as (
    select * from {{ ref('fct_precursor_inputs') }}
    where period_grain = 'year' and process_id is not null and coalesce(mass_t, 0) > 0
),

goods_ctx as (
    select
        goods.*,
        cast(left(goods.period, 4) as integer) as year,
        installations.country as origin_country,
        starts_with(goods.cn_code, '2716') as is_electricity,
        -- the process's own route, when the processes file gives a route letter A-L ('(C)', 'C')
        case
            when regexp_full_match(trim(coalesce(processes.route, '')), '\(?[A-L]\)?')
                then [regexp_extract(processes.route, '[A-L]')]
        end as process_route_letters
    from goods
    left join processes using (installation_id, process_id)
    left join installations using (installation_id)
),

---------- DVR route letters: of the installation's country (default goods) and of each precursor's origin
route_pairs as (
    select distinct cn_code || '|' || coalesce(origin_country, '') as pair_key, cn_code, origin_country as country
    from goods_ctx
    where cn_code is not null
    union
    select distinct cn_code || '|' || coalesce(origin_country, ''), cn_code, origin_country
    from precursors
    where source = 'purchased' and cn_code is not null
),

dvr_routes as {{ cbam_dvr_route('route_pairs') }},

---------- benchmark requests: each good (its column) and each purchased precursor (Column B)
bm_requests as (
    select
        'g|' || goods_ctx.installation_id || '|' || goods_ctx.product_id || '|' || goods_ctx.period as req_key,
        goods_ctx.cn_code,
        case when goods_ctx.determination = 'default' then 'B' else 'A' end as bm_column,
        case when goods_ctx.determination = 'default' then dvr_routes.route_letters
            else goods_ctx.process_route_letters end as route_letters,
        goods_ctx.year
    from goods_ctx
    left join dvr_routes on dvr_routes.pair_key = goods_ctx.cn_code || '|' || coalesce(goods_ctx.origin_country, '')
    where goods_ctx.cn_code is not null and not goods_ctx.is_electricity
    union all
    select distinct
        'p|' || precursors.cn_code || '|' || coalesce(precursors.origin_country, '') || '|' || precursors.period,
        precursors.cn_code,
        'B',
        dvr_routes.route_letters,
        cast(left(precursors.period, 4) as integer)
    from precursors
    left join dvr_routes on dvr_routes.pair_key = precursors.cn_code || '|' || coalesce(precursors.origin_country, '')
    where precursors.source = 'purchased' and precursors.cn_code is not null
),

benchmarks as {{ cbam_benchmark_lookup('bm_requests') }},

---------- purchased precursors: Σ m_i × B_i per consuming process and year
purchased_terms as (
    select
        precursors.installation_id,
        precursors.process_id,
        precursors.period,
        {{ stable_sum('precursors.mass_share_t_per_t * coalesce(benchmarks.benchmark_tco2e_per_t, 0)') }} as purchased_bm_tco2e_per_t,
        count(*) filter (where benchmarks.req_key is null) as purchased_without_benchmark,
        string_agg(distinct case when benchmarks.req_key is null then coalesce(precursors.cn_code, precursors.material_id) end, ', '
            order by case when benchmarks.req_key is null then coalesce(precursors.cn_code, precursors.material_id) end)
            as purchased_without_benchmark_codes
    from precursors
    left join benchmarks
        on benchmarks.req_key = 'p|' || precursors.cn_code || '|' || coalesce(precursors.origin_country, '') || '|' || precursors.period
    where precursors.source = 'purchased'
    group by all
),

---------- own Column A benchmark of each process: lowest over its products (a process has one production step)
process_own as (
    select
        goods_ctx.installation_id,
        goods_ctx.process_id,
        goods_ctx.period,
        min(benchmarks.benchmark_tco2e_per_t) as own_bm_tco2e_per_t
    from goods_ctx
    inner join benchmarks
        on benchmarks.req_key = 'g|' || goods_ctx.installation_id || '|' || goods_ctx.product_id || '|' || goods_ctx.period
    where goods_ctx.determination = 'actual'
    group by all
),

internal_inputs as (
    select installation_id, process_id, period, count(*) as internal_inputs
    from precursors
    where source = 'internal'
    group by all
),

---------- internal precursors: Σ m_j × (own_j + purchased_j) per consuming process and year
internal_terms as (
    select
        precursors.installation_id,
        precursors.process_id,
        precursors.period,
        {{ stable_sum(
            'precursors.mass_share_t_per_t
            * (coalesce(process_own.own_bm_tco2e_per_t, 0) + coalesce(purchased_terms.purchased_bm_tco2e_per_t, 0))'
        ) }} as internal_bm_tco2e_per_t,
        string_agg(distinct case when process_own.own_bm_tco2e_per_t is null then precursors.from_process_id end, ', '
            order by case when process_own.own_bm_tco2e_per_t is null then precursors.from_process_id end)
            as internal_without_benchmark,
        string_agg(distinct case when deeper.internal_inputs > 0 then precursors.from_process_id end, ', '
            order by case when deeper.internal_inputs > 0 then precursors.from_process_id end)
            as internal_deeper_chain
    from precursors
    left join process_own
        on process_own.installation_id = precursors.installation_id
        and process_own.process_id = precursors.from_process_id
        and process_own.period = precursors.period
    left join purchased_terms
        on purchased_terms.installation_id = precursors.installation_id
        and purchased_terms.process_id = precursors.from_process_id
        and purchased_terms.period = precursors.period
    left join internal_inputs as deeper
        on deeper.installation_id = precursors.installation_id
        and deeper.process_id = precursors.from_process_id
        and deeper.period = precursors.period
    where precursors.source = 'internal'
    group by all
),

factors as {{ cbam_year_factors('goods_ctx') }},

computed as (
    select
        goods_ctx.*,
        benchmarks.benchmark_tco2e_per_t as own_benchmark,
        benchmarks.benchmark_route,
        benchmarks.benchmark_match,
        benchmarks.benchmark_source,
        purchased_terms.purchased_bm_tco2e_per_t,
        purchased_terms.purchased_without_benchmark,
        purchased_terms.purchased_without_benchmark_codes,
        internal_terms.internal_bm_tco2e_per_t,
        internal_terms.internal_without_benchmark,
        internal_terms.internal_deeper_chain,
        factors.cbam_factor,
        factors.cbam_factor_status,
        factors.cscf,
        factors.cscf_status,
        factors.cscf_source,
        (purchased_terms.installation_id is not null or internal_terms.installation_id is not null)
            and goods_ctx.determination = 'actual' as is_complex
    from goods_ctx
    left join benchmarks
        on benchmarks.req_key = 'g|' || goods_ctx.installation_id || '|' || goods_ctx.product_id || '|' || goods_ctx.period
    left join purchased_terms using (installation_id, process_id, period)
    left join internal_terms using (installation_id, process_id, period)
    left join factors using (year)
),

benchmark_parts as (
    select
        *,
        case
            when is_electricity then 0.0
            when own_benchmark is null then null
            when is_complex then own_benchmark + coalesce(purchased_bm_tco2e_per_t, 0) + coalesce(internal_bm_tco2e_per_t, 0)
            else own_benchmark
        end as sefa_before_factors
    from computed
),

final as (
    select
        ---------- grain
        installation_id,
        product_id,
        period,
        period_grain,
        is_provisional,
        ---------- good
        cn_code,
        goods_category,
        origin_country,
        determination,
        case when is_electricity then null when is_complex then 'complex' else 'simple' end as good_kind,
        ---------- benchmark of the good itself
        case when is_electricity then null when determination = 'default' then 'B' else 'A' end as benchmark_column,
        case when is_electricity then null else own_benchmark end as benchmark_tco2e_per_t,
        case when is_electricity then null else nullif(benchmark_route, '') end as benchmark_route,
        case when is_electricity then null else benchmark_match end as benchmark_match,
        case when is_electricity then null else benchmark_source end as benchmark_source,
        ---------- precursors (complex goods, actual data)
        case when is_complex then coalesce(purchased_bm_tco2e_per_t, 0) end as purchased_precursor_benchmark_tco2e_per_t,
        case when is_complex then coalesce(internal_bm_tco2e_per_t, 0) end as internal_precursor_benchmark_tco2e_per_t,
        sefa_before_factors as sefa_before_factors_tco2e_per_t,
        ---------- factors of the year
        cbam_factor,
        cbam_factor_status,
        cscf,
        cscf_status,
        cscf_source,
        ---------- result
        sefa_before_factors * cbam_factor * cscf as sefa_tco2e_per_t,
        concat_ws('; ',
            case
                when is_electricity then 'electricity: no free allocation, SEFA = 0'
                when own_benchmark is null then 'no benchmark for CN ' || coalesce(cn_code, '(none)') || ' in the benchmarks workbook: SEFA unknown'
                when determination = 'default' then 'default data: CBAM_y × CSCF × Column B benchmark of the good (route from the DVR table of ' || coalesce(origin_country, 'an unknown country') || ')'
                when is_complex then 'complex good, actual data: CBAM_y × CSCF × (Column A benchmark of the good + Σ m_i × benchmark of each precursor: purchased → Column B, route from the DVR table of its country; internal → the supplying process''s Column A + its purchased precursors)'
                else 'simple good, actual data: CBAM_y × CSCF × Column A benchmark'
            end,
            case when cbam_factor is null then 'no CBAM factor for ' || year || ' (transitional period before 2026): SEFA null' end,
            case when purchased_without_benchmark > 0 then 'purchased precursors without a benchmark count 0: ' || purchased_without_benchmark_codes end,
            case when internal_without_benchmark is not null then 'internal precursors from processes without a Column A benchmark count 0: ' || internal_without_benchmark end,
            case when internal_deeper_chain is not null then 'internal inputs of supplying process(es) ' || internal_deeper_chain || ' not followed (one internal step)' end
        ) as sefa_basis,
        ---------- lineage
        source_row_ids
    from benchmark_parts
)

select * from final
