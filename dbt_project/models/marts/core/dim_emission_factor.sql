-- Every factor the engines can use, one row per factor and version, from the committed reference tables.
-- GHG kinds and keys are those of transforms.footprint.factor_catalog (the engines' own view of the same tables).
-- Tables without validity columns (the CBAM acts) leave valid_from/valid_to null: valid for the act's version.
with

cbam_default_values as (
    select * from {{ ref('cbam_default_values') }} where value_status = 'value'
),

cbam_markups as (
    select * from {{ ref('cbam_markups') }}
),

cbam_grid_factors as (
    select * from {{ ref('cbam_grid_factors') }}
),

cbam_fuel_factors as (
    select * from {{ ref('cbam_fuel_factors') }}
),

cbam_gwp as (
    select * from {{ ref('cbam_gwp') }}
),

cbam_constants as (
    select * from {{ ref('cbam_constants') }}
),

cbam_benchmarks as (
    select * from {{ ref('cbam_benchmarks') }}
),

ghg_china_grid_factors as (
    select * from {{ ref('ghg_china_grid_factors') }}
),

ghg_fuel_factors as (
    select * from {{ ref('ghg_fuel_factors') }}
),

ghg_transport_intensities as (
    select * from {{ ref('ghg_transport_intensities') }}
),

ghg_distance_adjustments as (
    select * from {{ ref('ghg_distance_adjustments') }}
),

---------- CBAM default values (DVR Annex I per country, "other countries", Annex IV), without mark-up
default_values as (
    {%- for part, unit_status in [("direct", "value_status"), ("indirect", "indirect_status"), ("total", "value_status")] %}
    select
        'cbam_default_see_{{ part }}' as kind,
        concat_ws('/', table_kind, country_iso2, cn_code, route_key) as key,
        {{ part }} as value,
        'tCO2e/t' as unit,
        concat_ws('; ', act, source, sheet_name || ' row ' || source_row) as source,
        {{ unit_status }} as status,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        workbook_version as version,
        'cbam_default_values' as reference_table,
        description as note
    from cbam_default_values
    where {{ part }} is not null and {{ unit_status }} = 'value'
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

markups as (
    select
        'cbam_default_markup' as kind,
        concat_ws('/', sector, year_label) as key,
        markup_fraction as value,
        '1' as unit,
        concat_ws('; ', act, source) as source,
        'published' as status,
        make_date(year_from, 1, 1) as valid_from,
        case when year_to is not null then make_date(year_to, 12, 31) end as valid_to,
        workbook_version as version,
        'cbam_markups' as reference_table,
        markup_label as note
    from cbam_markups
),

grid as (
    select
        'cbam_grid_ef' as kind,
        concat_ws('/', table_kind, iso2) as key,
        value_tco2_per_mwh as value,
        'tCO2/MWh' as unit,
        concat_ws('; ', act, annex, source_code) as source,
        'published' as status,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        source_version as version,
        'cbam_grid_factors' as reference_table,
        country_name as note
    from cbam_grid_factors
),

fuels as (
    {%- for column, kind, unit in [
        ("ef_tco2_per_tj", "cbam_fuel_ef_per_energy", "tCO2/TJ"),
        ("ncv_gj_per_t", "cbam_fuel_ncv", "GJ/t"),
        ("ef_tco2_per_t", "cbam_fuel_ef_per_mass", "tCO2/t"),
        ("carbon_content_tc_per_t", "cbam_fuel_carbon_content", "tC/t"),
    ] %}
    select
        '{{ kind }}' as kind,
        concat_ws('/', table_ref, material) as key,
        {{ column }} as value,
        '{{ unit }}' as unit,
        concat_ws('; ', act, source_code, factor_source) as source,
        case when preliminary then 'preliminary' else 'published' end as status,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        act as version,
        'cbam_fuel_factors' as reference_table,
        note
    from cbam_fuel_factors
    where {{ column }} is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

gwp as (
    select
        'gwp' as kind,
        gas as key,
        gwp as value,
        unit,
        concat_ws('; ', act, source_code) as source,
        'published' as status,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        coalesce(act, source_code) as version,
        'cbam_gwp' as reference_table,
        basis as note
    from cbam_gwp
),

constants as (
    select
        'cbam_constant' as kind,
        name as key,
        value,
        unit,
        source,
        status,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        'reference' as version,
        'cbam_constants' as reference_table,
        note
    from cbam_constants
),

benchmarks as (
    {%- for column in ["a", "b"] %}
    select
        'cbam_benchmark_{{ column }}' as kind,
        concat_ws('/', cn_code, variant_no) as key,
        bm_{{ column }}_tco2e_per_t as value,
        'tCO2e/t' as unit,
        concat_ws('; ', act, source, 'row ' || source_row) as source,
        'published' as status,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        workbook_version as version,
        'cbam_benchmarks' as reference_table,
        concat_ws('; ', description, route_{{ column }}) as note
    from cbam_benchmarks
    where bm_{{ column }}_tco2e_per_t is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

---------- GHG inventory, Scope 2 and logistics
china_grid as (
    select
        'electricity_' || series as kind,
        concat_ws('/', region_level, region, data_year) as key,
        value,
        unit,
        concat_ws('; ', notice, source) as source,
        status,
        valid_from,
        valid_to,
        version,
        'ghg_china_grid_factors' as reference_table,
        status_note as note
    from ghg_china_grid_factors
),

transport_fuels as (
    {%- for column, kind, unit in [
        ("ncv_gj_per_t", "fuel_ncv", "GJ/t"),
        ("ttw_tco2_per_tj", "fuel_ttw_ef", "tCO2/TJ"),
        ("wtt_tco2e_per_t", "fuel_wtt", "tCO2e/t"),
        ("wtt_tco2e_per_mwh", "fuel_wtt", "tCO2e/MWh"),
        ("density_t_per_m3", "fuel_density", "t/m3"),
    ] %}
    select
        '{{ kind }}' as kind,
        fuel_type as key,
        {{ column }} as value,
        '{{ unit }}' as unit,
        source,
        status,
        valid_from,
        valid_to,
        version,
        'ghg_fuel_factors' as reference_table,
        status_note as note
    from ghg_fuel_factors
    where {{ column }} is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

transport_intensities as (
    {%- for column, kind in [("wtw_gco2e_per_tkm", "transport_intensity_wtw"), ("ttw_gco2e_per_tkm", "transport_intensity_ttw")] %}
    select
        '{{ kind }}' as kind,
        concat_ws('/', mode, sub_type) as key,
        {{ column }} as value,
        'gCO2e/tkm' as unit,
        source,
        status,
        valid_from,
        valid_to,
        version,
        'ghg_transport_intensities' as reference_table,
        case when is_mode_default then 'mode default; ' else '' end || coalesce(status_note, '') as note
    from ghg_transport_intensities
    where {{ column }} is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

distance_adjustments as (
    {%- for column, kind, unit in [("gcd_multiplier", "distance_gcd_multiplier", "1"), ("gcd_addend_km", "distance_gcd_addend", "km")] %}
    select
        '{{ kind }}' as kind,
        mode as key,
        {{ column }} as value,
        '{{ unit }}' as unit,
        source,
        status,
        valid_from,
        valid_to,
        version,
        'ghg_distance_adjustments' as reference_table,
        flag as note
    from ghg_distance_adjustments
    where {{ column }} is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

unioned as (
    select * from default_values
    union all select * from markups
    union all select * from grid
    union all select * from fuels
    union all select * from gwp
    union all select * from constants
    union all select * from benchmarks
    union all select * from china_grid
    union all select * from transport_fuels
    union all select * from transport_intensities
    union all select * from distance_adjustments
),

final as (
    select
        {{ surrogate_key(['kind', 'key', 'unit', 'version', 'valid_from']) }} as emission_factor_id,
        kind,
        key,
        cast(value as double) as value,
        unit,
        source,
        status,
        valid_from,
        valid_to,
        version,
        reference_table,
        note
    from unioned
)

select * from final
