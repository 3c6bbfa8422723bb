-- fct_cbam_declaration_lines sums exactly to fct_cbam_export_lines per importer and import year (2026 on): net
-- mass, embedded emissions (chargeable, direct, indirect) and the number of export lines. Returns the importer-years
-- that disagree (tolerance: float summation order only, 1e-9 relative).
with

export_lines_with_year as (
    select
        *,
        coalesce(year(declaration_date), cast(left(production_period, 4) as integer)) as year
    from {{ ref('fct_cbam_export_lines') }}
),

export_lines as (
    select
        importer_eori,
        year,
        count(*) as line_count,
        sum(net_mass_t) as net_mass_t,
        sum(embedded_chargeable_tco2e) as embedded_tco2e,
        sum(embedded_direct_tco2e) as embedded_direct_tco2e,
        sum(embedded_indirect_tco2e) as embedded_indirect_tco2e
    from export_lines_with_year
    where year >= 2026
    group by importer_eori, year
),

declaration as (
    select
        importer_eori,
        year,
        cast(sum(export_line_count) as bigint) as line_count,
        sum(net_mass_t) as net_mass_t,
        sum(embedded_tco2e) as embedded_tco2e,
        sum(embedded_direct_tco2e) as embedded_direct_tco2e,
        sum(embedded_indirect_tco2e) as embedded_indirect_tco2e
    from {{ ref('fct_cbam_declaration_lines') }}
    group by importer_eori, year
)

select *
from export_lines
full outer join declaration using (importer_eori, year)
where export_lines.line_count is distinct from declaration.line_count
    or abs(coalesce(export_lines.net_mass_t, 0) - coalesce(declaration.net_mass_t, 0))
        > 1e-9 * greatest(1, abs(coalesce(export_lines.net_mass_t, 0)))
    or abs(coalesce(export_lines.embedded_tco2e, 0) - coalesce(declaration.embedded_tco2e, 0))
        > 1e-9 * greatest(1, abs(coalesce(export_lines.embedded_tco2e, 0)))
    or abs(coalesce(export_lines.embedded_direct_tco2e, 0) - coalesce(declaration.embedded_direct_tco2e, 0))
        > 1e-9 * greatest(1, abs(coalesce(export_lines.embedded_direct_tco2e, 0)))
    or abs(coalesce(export_lines.embedded_indirect_tco2e, 0) - coalesce(declaration.embedded_indirect_tco2e, 0))
        > 1e-9 * greatest(1, abs(coalesce(export_lines.embedded_indirect_tco2e, 0)))
