{#-
    CBAM free-allocation helpers (IR (EU) 2025/2620 benchmarks; docs/methodology/cbam.md (e)), shared by
    fct_goods_free_allocation and fct_cbam_declaration_lines so each rule lives in one place.
-#}

{#-
    Benchmark lookup. `requests` is a CTE name with columns req_key (unique), cn_code (8 digits), bm_column
    ('A' = process benchmark for actual data, 'B' = whole good incl. precursors for default data), route_letters
    (varchar[] of route letters A-L, or null when unknown) and year (integer). Returns one row per request that
    found a benchmark: req_key, benchmark_tco2e_per_t, benchmark_route, benchmark_match (words), benchmark_source.
    Rules, in order:
      1. CN code: exact 8-digit match; a code absent from the workbook (CN codes change every 1 January) falls
         back to the codes sharing its first 6, then 4 digits, and says so;
      2. period markers (1)/(2): (1) for 2026-2027, (2) for 2028 on (seed description: UNCONFIRMED);
      3. route: when the request's route letters match some candidates, only those; else all candidates;
      4. when the remaining candidates still differ (route unknown or ambiguous), the lowest value: an estimate
         of the importer's liability must never overstate the adjustment. Every step taken is in benchmark_match.
-#}
{% macro cbam_benchmark_lookup(requests) -%}
    (
    with
    bm_req as (select * from {{ requests }}),
    bm_rows as (
        select cn_code, 'A' as bm_column, bm_a_tco2e_per_t as bm_value, route_letter_a as route_letter,
               period_marker_a as period_marker, route_a as route_printed, source_row, act, workbook_version
        from {{ ref('cbam_benchmarks') }}
        where bm_a_tco2e_per_t is not null
        union all
        select cn_code, 'B', bm_b_tco2e_per_t, route_letter_b, period_marker_b, route_b, source_row, act,
               workbook_version
        from {{ ref('cbam_benchmarks') }}
        where bm_b_tco2e_per_t is not null
    ),
    bm_cand as (
        select
            bm_req.req_key,
            bm_req.cn_code as requested_cn,
            bm_req.route_letters,
            bm_req.year,
            bm_rows.*,
            case
                when bm_rows.cn_code = bm_req.cn_code then 8
                when left(bm_rows.cn_code, 6) = left(bm_req.cn_code, 6) then 6
                else 4
            end as match_digits
        from bm_req
        inner join bm_rows
            on bm_rows.bm_column = bm_req.bm_column
            and left(bm_rows.cn_code, 4) = left(bm_req.cn_code, 4)
    ),
    bm_level as (
        select * from bm_cand
        qualify match_digits = max(match_digits) over (partition by req_key)
    ),
    bm_period as (
        select * from bm_level
        where period_marker is null or period_marker = case when year <= 2027 then '1' else '2' end
    ),
    bm_route as (
        select
            *,
            coalesce(list_contains(route_letters, route_letter), false) as route_matches,
            bool_or(coalesce(list_contains(route_letters, route_letter), false))
                over (partition by req_key) as any_route_matches
        from bm_period
    ),
    bm_pick as (
        select * from bm_route where route_matches or not any_route_matches
    )
    select
        req_key,
        min(bm_value) as benchmark_tco2e_per_t,
        -- ties on the value broken by the workbook row, so the same inputs always name the same row
        arg_min(coalesce(route_printed, ''), (bm_value, source_row)) as benchmark_route,
        concat_ws('; ',
            case max(match_digits)
                when 8 then 'CN ' || any_value(requested_cn) || ' found'
                else 'CN ' || any_value(requested_cn) || ' not in the benchmarks workbook: codes sharing its first '
                    || max(match_digits) || ' digits used'
            end,
            case
                when bool_or(any_route_matches) then 'route ' || array_to_string(any_value(route_letters), '/') || ' selected'
                when count(distinct coalesce(route_letter, '')) > 1 then 'route unknown'
            end,
            case when count(distinct bm_value) > 1
                then count(distinct bm_value) || ' candidate values ' || min(bm_value) || '..' || max(bm_value)
                    || ': the lowest taken (never overstates the adjustment)'
            end
        ) as benchmark_match,
        any_value(act) || ', benchmarks workbook ' || any_value(workbook_version) || ', Column '
            || any_value(bm_column) || ' row ' || arg_min(source_row, (bm_value, source_row)) as benchmark_source
    from bm_pick
    group by req_key
    )
{%- endmacro %}

{#-
    DVR route letters of a CN code in a country's default-value table (the route that selects the Column B
    benchmark for default data). `pairs` is a CTE with columns pair_key, cn_code, country; returns pair_key,
    route_letters (varchar[], null when the table prints no route) and route_table ('country' or 'other' when
    the country has no row for the code). Longest CN prefix within the table, as the default-value lookup.
-#}
{% macro cbam_dvr_route(pairs) -%}
    (
    with
    dvr_pairs as (select * from {{ pairs }}),
    dvr_rows as (
        select table_kind, country_iso2, cn_code, route, total, value_status
        from {{ ref('cbam_default_values') }}
        where table_kind in ('country', 'other')
    ),
    dvr_cand as (
        select
            dvr_pairs.pair_key,
            dvr_rows.table_kind,
            dvr_rows.route,
            dvr_rows.total,
            dvr_rows.value_status,
            length(dvr_rows.cn_code) as prefix_len
        from dvr_pairs
        inner join dvr_rows
            on starts_with(dvr_pairs.cn_code, dvr_rows.cn_code)
            and (
                (dvr_rows.table_kind = 'country' and dvr_rows.country_iso2 = dvr_pairs.country)
                or dvr_rows.table_kind = 'other'
            )
        where dvr_rows.value_status = 'value'
    ),
    dvr_best as (
        select * from dvr_cand
        -- the origin's own table first (only rows with a value: a dash falls back to 'other'), longest prefix
        qualify dense_rank() over (
            partition by pair_key order by (table_kind = 'country') desc, prefix_len desc
        ) = 1
    )
    select
        pair_key,
        any_value(table_kind) as route_table,
        nullif(list_sort(list_distinct(flatten(list(regexp_extract_all(coalesce(route, ''), '[A-L]'))))), []) as route_letters,
        -- several rows (white/grey clinker or cement): the highest total, so an estimate never understates
        max(total) as dv_total_tco2e_per_t,
        count(*) as dv_rows
    from dvr_best
    group by pair_key
    )
{%- endmacro %}

{#-
    CBAM factor and CSCF per year. `years` is a CTE with an integer column `year`; returns year, cbam_factor,
    cbam_factor_status, cbam_factor_source, cscf, cscf_status, cscf_source. Both come from the cbam_constants
    seed (one place: `cbam_factor_<year>`, 0 from 2034; `cscf`, provisional). The CSCF is configurable: the
    environment variable LINGTAN_CSCF (a fraction, e.g. 0.9) replaces the seed's provisional 1.0 and the status
    says `configured`. Years before 2026 (transitional period: no certificates) have no factor (null).
-#}
{% macro cbam_year_factors(years) -%}
    {%- set cscf_env = env_var('LINGTAN_CSCF', '') | trim -%}
    (
    select
        yf_years.year,
        cf.value as cbam_factor,
        cf.status as cbam_factor_status,
        cf.source as cbam_factor_source,
        {% if cscf_env %}
        cast({{ cscf_env | float }} as double) as cscf,
        'configured' as cscf_status,
        'LINGTAN_CSCF={{ cscf_env | float }} (configured for this build; the seed value ' || cs.value || ' is ' || cs.status || ')' as cscf_source
        {% else %}
        cs.value as cscf,
        cs.status as cscf_status,
        cs.source || ': ' || cs.note as cscf_source
        {% endif %}
    from (select distinct year from {{ years }}) as yf_years
    left join {{ ref('cbam_constants') }} as cf
        on yf_years.year >= 2026 and cf.name = 'cbam_factor_' || least(yf_years.year, 2034)
    cross join (select * from {{ ref('cbam_constants') }} where name = 'cscf') as cs
    )
{%- endmacro %}
