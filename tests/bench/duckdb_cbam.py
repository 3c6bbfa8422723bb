"""The CBAM calculation written in DuckDB SQL, kept only as the benchmark's second reference (issue 13).

Same path and same numbers as tests/bench/pandas_cbam.py (checked by tests/bench/test_duckdb_baseline.py):
every row-level step runs in SQL over the raw lake Parquet (`read_parquet`), in one DuckDB connection:
calendar-month splitting of dated rows, laboratory means, readings-over-bills, Eq 55 attribution, electricity
(bill factor or the country's grid default, unassigned consumption by activity share), purchased precursors
(invoice mix, supplier match by latest period, default values by longest CN prefix with the mark-up), goods and
export lines.

What stays in Python is what is not per row: the monitoring plan's unit resolution (one row per source stream,
shared with the pandas reference), unit factors and country/category spellings of the *distinct* values met,
the reference tables registered as relations, and the (I − A) solve per installation and period on the
aggregated process table (a few processes each; numpy, shared with the pandas reference).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tests.bench.pandas_cbam import (
    ANNEX_IV,
    DATASETS,
    FIRST_MARKUP_YEAR,
    GWP_GASES,
    LAST_MARKUP_STEP,
    OTHER,
    RHS,
    PandasReference,
    solve_see,
    stream_plan,
)
from transforms import units
from transforms.paths import table_glob
from transforms.reference.countries import to_iso2
from transforms.reference.goods import ANNEX_II_CATEGORIES, to_category
from transforms.units import factor_with_note

PROC = "installation_id, process_id"
GROUP = "installation_id, period, period_grain"
KEYS = "installation_id, period, period_grain, process_id"


# --- SQL builders -----------------------------------------------------------------------------------------------


def month_parts(source: str, start: str = "period_start", end: str = "period_end") -> str:
    """SQL: one row per row of `source` and calendar month it overlaps, with `month` ('YYYY-MM') and the
    `fraction` of its days in that month (an open end counts as one day)."""
    return f"""
        select * exclude (_s, _e, _m),
            strftime(_m, '%Y-%m') as month,
            (date_diff('day', greatest(_s, _m), least(_e, last_day(_m))) + 1)::double
                / (date_diff('day', _s, _e) + 1) as fraction
        from (
            select *, unnest(generate_series(date_trunc('month', _s)::timestamp, _e::timestamp,
                                             interval 1 month))::date as _m
            from (select *, {start} as _s, coalesce({end}, {start}) as _e from ({source}))
        )"""


def with_years(monthly: str, keys: str, sums: Iterable[str]) -> str:
    """SQL: month rows (`period` YYYY-MM, grain month) plus their yearly sums (grain year)."""
    sums = list(sums)
    cols = ", ".join(sums)
    agg = ", ".join(f"sum({c}) as {c}" for c in sums)
    return f"""
        select {keys}, left(period, 4) as period, 'year' as period_grain, {agg}
        from ({monthly}) group by all
        union all by name
        select {keys}, period, 'month' as period_grain, {cols} from ({monthly})"""


# digits of a CN code, NULL unless 4, 6 or 8 of them
_DIGITS = """case when length(regexp_replace(cn_code, '\\D', '', 'g')) in (4, 6, 8)
                 then regexp_replace(cn_code, '\\D', '', 'g') end"""


def _clip0(x: str) -> str:
    """max(x, 0) keeping NULL (DuckDB's greatest() would turn NULL into 0)."""
    return f"(case when {x} < 0 then 0.0 else {x} end)"


# --- the connection and its reference relations -----------------------------------------------------------------


class DuckCbam:
    """A DuckDB connection with the raw lake tables as views and the reference tables registered."""

    def __init__(self, home_root: Path, ref: PandasReference | None = None, threads: int | None = None):
        self.ref = ref if ref is not None else PandasReference.from_seeds()
        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"set threads = {int(threads)}")
        for name in DATASETS:
            path = home_root / "lake" / "raw" / name / "current"
            self.con.execute(f"create view {name} as select * from read_parquet('{table_glob(path)}')")
        self._register_reference()

    def sql(self, q: str) -> duckdb.DuckDBPyRelation:
        return self.con.sql(q)

    def table(self, name: str, q: str) -> None:
        self.con.execute(f"create or replace temp table {name} as {q}")

    def df(self, q: str) -> pd.DataFrame:
        return self.con.sql(q).df()

    def _register_reference(self) -> None:
        r = self.ref
        dv = r.default_values.reset_index(drop=True)
        dv = dv.assign(row_id=np.arange(len(dv)))[
            ["row_id", "tbl", "cn_code", "table_kind", "sector", "value_status", "direct", "total"]
        ]
        self.con.register("ref_dv", dv)
        mk = pd.DataFrame(
            [(s, lab, v) for (s, lab), v in r.markups.items()], columns=["sector", "year_label", "markup"]
        )
        self.con.register("ref_markups", mk)
        self.con.register("ref_listed", pd.DataFrame({"iso2": sorted(r.listed_countries)}))
        self.con.register("ref_exempt", pd.DataFrame({"iso2": sorted(r.exempt_origins)}))
        self.con.register(
            "ref_cn_goods", r.cn_goods[["cn_prefix", "prefix_digits", "annex_ii_direct_only"]].copy()
        )
        self.con.register("ref_grid", pd.DataFrame({"iso2": list(r.grid), "ef": list(r.grid.values())}))
        gwp = pd.DataFrame({"gas": list(GWP_GASES.values()), "gwp": [r.gwp[g] for g in GWP_GASES.values()]})
        self.con.register("ref_gwp", gwp)

    # lookups over the distinct values met (reference rules in Python, applied by joins) ---------------------

    def unit_factors(self, name: str, q: str, target: str) -> None:
        """Relation `name`(unit, factor): multiplier from each distinct unit of query `q` to `target`."""
        met = [
            u for (u,) in self.con.sql(f"select distinct unit from ({q}) where unit is not null").fetchall()
        ]

        def one(u: str) -> float | None:
            if units.lookup(u) is None:
                return None
            try:
                return units.factor(u, target)
            except ValueError:
                return None

        self.con.register(
            name, pd.DataFrame({"unit": met, "factor": pd.Series([one(u) for u in met], dtype=float)})
        )

    def iso2_of(self, name: str, q: str) -> None:
        """Relation `name`(country, iso2) for the distinct country spellings in column `country` of `q`."""
        met = [
            c
            for (c,) in self.con.sql(
                f"select distinct country from ({q}) where country is not null"
            ).fetchall()
        ]
        self.con.register(
            name, pd.DataFrame({"country": met, "iso2": [to_iso2(c) for c in met]}, dtype=object)
        )

    def annex_ii(self, name: str, q: str) -> None:
        """Relation `name`(cn_code, annex): the Annex II flag of each distinct `cn_code` of query `q` by its
        longest cbam_cn_goods prefix (NULL when no heading matches or the code has not 4, 6 or 8 digits)."""
        self.table(
            name,
            f"""
            with c as (
                select distinct cn_code, {_DIGITS} as digits from ({q}) where cn_code is not null
            )
            select c.cn_code, arg_max(g.annex_ii_direct_only, g.prefix_digits) as annex
            from c left join ref_cn_goods g on g.prefix_digits in (4, 6, 8)
                and g.prefix_digits <= length(c.digits) and g.cn_prefix = left(c.digits, g.prefix_digits)
            group by c.cn_code""",
        )

    def default_values(self, name: str, keys: str) -> None:
        """Relation `name`(cn_code, country, year, dv_direct_marked_up, dv_total_marked_up, dv_markup,
        dv_used_table) for the distinct (cn_code, country, year) rows of query `keys` (DVR lookup: the
        country's table by longest CN prefix, else 'other countries' — Annex IV when the country is
        unknown — with the year's mark-up from FIRST_MARKUP_YEAR)."""
        self.table(f"{name}_keys", f"select distinct cn_code, country, year from ({keys})")
        self.iso2_of(f"{name}_iso2", f"select country from {name}_keys")

        def longest(tbl: str, alias: str) -> str:
            """Row of ref_dv in table `tbl` with the longest CN prefix (4, 6 or 8 digits) of the key's digits."""
            return f"""(select k.kid, arg_max(d.row_id, length(d.cn_code)) as {alias}
                        from k left join ref_dv d on d.tbl = {tbl} and length(d.cn_code) in (4, 6, 8)
                            and length(d.cn_code) <= length(k.digits)
                            and d.cn_code = left(k.digits, length(d.cn_code))
                        group by all)"""

        self.table(
            name,
            f"""
            with k as (
                select k.*, i.iso2, {_DIGITS} as digits, row_number() over () as kid
                from {name}_keys k left join {name}_iso2 i on i.country = k.country
            ), own as (
                select k.*, a.own_row, b.other_row, c.annex_row
                from k
                join {longest("k.iso2", "own_row")} a using (kid)
                join {longest(f"'{OTHER}'", "other_row")} b using (kid)
                join {longest(f"'{ANNEX_IV}'", "annex_row")} c using (kid)
            ), picked as (
                select o.*, od.value_status as own_status,
                    case when o.iso2 is null then 'country_unknown'
                         when o.iso2 not in (select iso2 from ref_listed) then 'country_not_listed'
                         when o.own_row is null then 'cn_not_in_country_table'
                         when od.value_status = 'value' then ''
                         else coalesce(od.value_status, '') end as reason
                from own o left join ref_dv od on od.row_id = o.own_row
            ), hit as (
                select p.*, d.value_status = 'value' as found, d.sector, d.direct, d.total, d.table_kind,
                    case when p.year >= {LAST_MARKUP_STEP} then '2028+'
                         else coalesce(p.year, 0)::bigint::varchar end as year_label
                from picked p left join ref_dv d on d.row_id = case when p.reason = '' then p.own_row
                    when p.reason = 'country_unknown' then p.annex_row else p.other_row end
            ), marked as (
                select h.*, case when h.found and h.year is not null then
                        case when h.year >= {FIRST_MARKUP_YEAR} then m.markup else 0.0 end end as dv_markup
                from hit h left join ref_markups m on m.sector = h.sector and m.year_label = h.year_label
            )
            select cn_code, country, year,
                case when found then direct end * (1 + dv_markup) as dv_direct_marked_up,
                case when found then total end * (1 + dv_markup) as dv_total_marked_up,
                dv_markup, case when found then table_kind end as dv_used_table
            from marked""",
        )


# --- the calculation --------------------------------------------------------------------------------------------


def stream_emissions(db: DuckCbam) -> None:
    """Table `streams`: fossil tCO2e per installation × stream × process × month."""
    ref = db.ref
    plan = stream_plan(db.df("select * from source_streams"))
    keys = "installation_id, stream_id"
    db.con.register(
        "plan",
        plan[
            [
                "installation_id",
                "stream_id",
                "method",
                "gas",
                "unit",
                "gas_reference_c",
                "default_process_id",
                "ncv",
                "ef",
                "carbon_content",
                "oxidation_factor",
                "conversion_factor",
                "biomass_fraction",
                "ncv_factor",
                "ef_factor",
                "ef_basis",
                "carrier_key",
            ]
        ],
    )
    db.table(
        "readings",
        f"select *, abs(coalesce(quantity, 0.0) * fraction) as w from ({month_parts('select * from stream_readings')})",
    )
    lab = ", ".join(
        f"""case when sum(w) filter ({c} is not null) > 0
                 then sum(w * {c}) / sum(w) filter ({c} is not null) else avg({c}) end as lab_{c}_month"""
        for c in ("ncv", "carbon_content", "ef")
    )
    db.table("lab", f"select {keys}, month, {lab} from readings group by all")
    bills = month_parts("select *, lower(trim(carrier)) as carrier_key from energy_bills")
    db.table(
        "parts",
        f"""
        select {keys}, process_id, month, fraction, quantity, unit, ncv, carbon_content, ef, emissions_t
        from readings
        union all
        select b.installation_id, p.stream_id, b.process_id, b.month, b.fraction, b.quantity, b.unit,
            null, null, null, null
        from ({bills}) b join plan p on p.installation_id = b.installation_id and p.carrier_key = b.carrier_key
        where p.carrier_key is not null and not exists (
            select 1 from readings r where r.installation_id = b.installation_id
              and r.stream_id = p.stream_id and r.month = b.month)""",
    )
    triples = db.df(
        """select distinct pa.unit, pl.unit as activity_unit, pl.gas_reference_c
           from parts pa join plan pl using (installation_id, stream_id)"""
    )
    triples["ad_factor"] = [
        factor_with_note(u, a, None if pd.isna(t) else t)[0]
        for u, a, t in zip(triples["unit"], triples["activity_unit"], triples["gas_reference_c"], strict=True)
    ]
    db.con.register("ad_factors", triples)
    c = ref.constants["f_co2_per_c"]
    db.table(
        "streams",
        f"""
        with x as (
            select pa.installation_id, pa.stream_id, coalesce(pa.process_id, pl.default_process_id) as process_id,
                pa.month, pa.fraction, pa.emissions_t, pl.method, pl.ef_basis, pl.oxidation_factor,
                pl.conversion_factor, pl.biomass_fraction, g.gwp,
                pa.quantity * pa.fraction * f.ad_factor as ad,
                coalesce(pa.ncv, l.lab_ncv_month, pl.ncv) * pl.ncv_factor as ncv,
                coalesce(pa.ef, l.lab_ef_month, pl.ef) * pl.ef_factor as ef,
                coalesce(pa.carbon_content, l.lab_carbon_content_month, pl.carbon_content) as cc
            from parts pa
            join plan pl using (installation_id, stream_id)
            left join lab l using (installation_id, stream_id, month)
            left join ad_factors f on f.unit is not distinct from pa.unit
                and f.activity_unit is not distinct from pl.unit
                and f.gas_reference_c is not distinct from pl.gas_reference_c
            left join ref_gwp g on g.gas = pl.gas
        ), y as (
            select *, case when ef_basis = 'energy' then ad * ncv * ef else ad * ef end as by_basis from x
        ), z as (
            select *, case method
                when 'combustion' then by_basis * coalesce(oxidation_factor, 1.0)
                when 'process' then by_basis * coalesce(conversion_factor, 1.0)
                when 'mass_balance' then case when cc is not null then {c} * ad * cc else by_basis end
                else emissions_t * fraction end * gwp * (1.0 - coalesce(biomass_fraction, 0.0)) as fossil_tco2e
            from y
        )
        select installation_id, stream_id, process_id, month, sum(fossil_tco2e) as fossil_tco2e
        from z where fossil_tco2e is not null and not isnan(fossil_tco2e) group by all""",
    )


def process_attribution(db: DuckCbam) -> None:
    """Table `attribution`: activity level and attributed direct emissions per process and period (Eq 55)."""
    ef_ng = db.ref.constants["ef_natural_gas_tco2_per_tj"]
    corr = db.ref.constants["corr_eta_waste_gas"]
    prod = month_parts("select *, product_id is null as is_total from production")
    monthly = f"""
        with p as (
            select * from ({prod})
            qualify is_total = bool_or(is_total) over (partition by {PROC}, month)
        ), pm as (
            select {PROC}, month,
                sum(produced_t * fraction) as activity_level_t,
                sum(direct_emissions_t * fraction) as dirEm_plant_tco2e,
                sum(coalesce(heat_imported_tj * fraction * heat_imported_ef, 0.0)
                    - coalesce(heat_exported_tj * fraction * heat_exported_ef, 0.0)) as heat_term_tco2e,
                sum(coalesce(waste_gas_imported_tj * fraction * {ef_ng}, 0.0)
                    - coalesce(waste_gas_exported_tj * fraction * {ef_ng} * {corr}, 0.0)) as waste_gas_term_tco2e,
                sum(coalesce(electricity_exported_mwh * fraction * electricity_exported_ef, 0.0)) as el_prod_tco2e
            from p group by all
        ), st as (
            select {PROC}, month, sum(fossil_tco2e) as dirEm_streams_tco2e
            from streams where process_id is not null group by all
        )
        select installation_id, process_id, month as period,
            coalesce(pm.activity_level_t, 0.0) as activity_level_t,
            coalesce(pm.dirEm_plant_tco2e, coalesce(st.dirEm_streams_tco2e, 0.0)) as dirEm_tco2e,
            coalesce(pm.heat_term_tco2e, 0.0) as heat_term_tco2e,
            coalesce(pm.waste_gas_term_tco2e, 0.0) as waste_gas_term_tco2e,
            coalesce(pm.el_prod_tco2e, 0.0) as el_prod_tco2e
        from pm full join st using (installation_id, process_id, month)"""
    both = with_years(
        monthly,
        PROC,
        ["activity_level_t", "dirEm_tco2e", "heat_term_tco2e", "waste_gas_term_tco2e", "el_prod_tco2e"],
    )
    raw = "dirEm_tco2e + heat_term_tco2e + waste_gas_term_tco2e - el_prod_tco2e"
    db.table(
        "attribution",
        f"select {KEYS}, activity_level_t, {_clip0(raw)} as attributed_direct_tco2e from ({both})",
    )


def process_electricity(db: DuckCbam) -> None:
    """Table `electricity`: MWh and indirect tCO2e per process and period (Eq 56)."""
    el = month_parts("select * from energy_bills where lower(trim(carrier)) = 'electricity'")
    db.unit_factors("mwh_factors", "select unit from energy_bills", "MWh")
    db.iso2_of("inst_iso2", "select country from installations")
    other = db.ref.grid_other
    monthly = f"""
        with inst as (
            select installation_id, any_value(country) as country from installations group by all
        ), e as (
            select b.installation_id, b.process_id, b.month,
                case when b.ef_tco2_per_mwh is not null then coalesce(b.ef_source, 'unspecified')
                     else 'D.4(a)' end as ef_source,
                b.quantity * b.fraction * f.factor as electricity_mwh,
                coalesce(b.ef_tco2_per_mwh, g.ef, {other}) as ef
            from ({el}) b
            left join mwh_factors f on f.unit = b.unit
            left join inst using (installation_id)
            left join inst_iso2 i on i.country = inst.country
            left join ref_grid g on g.iso2 = i.iso2
        )
        select installation_id, process_id, ef_source, month as period,
            sum(electricity_mwh) as electricity_mwh, sum(electricity_mwh * ef) as indirect_tco2e
        from e group by all"""
    db.table(
        "el_lines",
        with_years(monthly, "installation_id, process_id, ef_source", ["electricity_mwh", "indirect_tco2e"]),
    )
    db.table(
        "electricity",
        f"""
        with al as (
            select {KEYS}, activity_level_t / sum(activity_level_t) over (partition by {GROUP}) as share
            from attribution where activity_level_t > 0
        ), parts as (
            select {KEYS}, electricity_mwh, indirect_tco2e from el_lines where process_id is not null
            union all by name
            select l.installation_id, l.period, l.period_grain, al.process_id,
                l.electricity_mwh * al.share as electricity_mwh, l.indirect_tco2e * al.share as indirect_tco2e
            from el_lines l join al using (installation_id, period, period_grain)
            where l.process_id is null
        )
        select {KEYS}, sum(electricity_mwh) as electricity_mwh, sum(indirect_tco2e) as attributed_indirect_tco2e
        from parts group by all""",
    )


def purchased_precursors(db: DuckCbam) -> None:
    """Table `purchased`: per process and period, precursor mass and the emissions and electricity in it."""
    db.table(
        "mats",
        """select material_id, cn_code as material_cn_code, goods_category as material_goods_category,
               consumed_in_process_id, unit_mass_t
           from materials where lower(trim(kind)) = 'precursor'""",
    )
    db.unit_factors("t_factors", "select unit from supplier_invoices union select unit from exports", "t")
    db.table(
        "inv",
        """
        select i.installation_id, i.material_id, i.supplier_id,
            case when i.unit = 'pcs' then i.quantity * m.unit_mass_t else i.quantity * f.factor end as mass_t,
            coalesce(i.supplier_installation_id, s.installation_id) as supplier_installation_id,
            coalesce(i.country_of_origin, s.country) as origin_country,
            coalesce(i.cn_code, m.material_cn_code) as cn_code,
            m.consumed_in_process_id as process_id, i.invoice_date as applies_on,
            strftime(i.invoice_date, '%Y-%m') as month, left(strftime(i.invoice_date, '%Y-%m'), 4) as year,
            m.material_goods_category
        from supplier_invoices i join mats m using (material_id)
        left join suppliers s on s.supplier_id = i.supplier_id
        left join t_factors f on f.unit = i.unit""",
    )
    cons = month_parts("select * from precursor_consumption")
    db.table(
        "cons",
        f"""select c.*, m.material_cn_code, m.material_goods_category, left(c.month, 4) as year
            from ({cons}) c join mats m using (material_id)""",
    )
    cols = (
        "installation_id, process_id, material_id, month, mass_t, cn_code, supplier_installation_id, "
        "origin_country, applies_on, material_goods_category"
    )
    db.table(
        "pparts",
        f"""
        with mix as (
            select installation_id, material_id, year, cn_code, supplier_id, supplier_installation_id,
                origin_country, sum(mass_t) as mass_t
            from inv group by all having sum(mass_t) > 0
        ), share as (
            select *, mass_t / sum(mass_t) over (partition by installation_id, material_id, year) as share
            from mix
        )
        select {cols} from inv i
        where not exists (select 1 from cons c where c.installation_id = i.installation_id
                          and c.material_id = i.material_id and c.month = i.month)
        union all by name
        select c.installation_id, c.process_id, c.material_id, c.month,
            c.mass_t * c.fraction * coalesce(s.share, 1.0) as mass_t,
            coalesce(s.cn_code, c.material_cn_code) as cn_code, s.supplier_installation_id, s.origin_country,
            c.period_start as applies_on, c.material_goods_category
        from cons c left join share s using (installation_id, material_id, year)""",
    )
    # supplier match: same material or CN code, date within its period (a year when open), latest start
    db.table(
        "se_match",
        """
        with wanted as (
            select distinct supplier_installation_id, material_id, cn_code, applies_on
            from pparts where supplier_installation_id is not null
        )
        select w.*, se._source_row_id as se_row_id, se.see_direct, se.see_indirect,
            se.embedded_electricity_mwh_per_t, se.electricity_ef_tco2_per_mwh, se.determination
        from wanted w join supplier_emissions se using (supplier_installation_id)
        where (se.material_id is null or se.material_id = w.material_id)
          and (se.cn_code is null or se.cn_code = w.cn_code)
          and (se.material_id is not null or se.cn_code is not null)
          and w.applies_on between se.period_start
              and coalesce(se.period_end, se.period_start + interval 1 year - interval 1 day)
        qualify row_number() over (partition by w.supplier_installation_id, w.material_id, w.cn_code,
            w.applies_on order by se.period_start desc, se._source_row_id desc) = 1""",
    )
    db.table(
        "pmatched",
        """
        select p.*, m.se_row_id, m.see_direct, m.see_indirect, m.embedded_electricity_mwh_per_t,
            m.electricity_ef_tco2_per_mwh, m.determination,
            case when p.origin_country in (select iso2 from ref_exempt) then 'exempt_origin'
                 when m.se_row_id is not null and lower(m.determination) = 'default' then 'supplier_default'
                 when m.se_row_id is not null then 'supplier_actual'
                 else 'default_value' end as see_origin,
            left(p.month, 4)::bigint as year
        from pparts p left join se_match m
            on m.supplier_installation_id is not distinct from p.supplier_installation_id
            and m.material_id is not distinct from p.material_id
            and m.cn_code is not distinct from p.cn_code and m.applies_on is not distinct from p.applies_on""",
    )
    db.default_values(
        "precursor_dv",
        "select cn_code, origin_country as country, year from pmatched where see_origin = 'default_value'",
    )
    db.annex_ii("pannex", "select cn_code from pmatched")
    cats = db.df(
        "select distinct material_goods_category as c from pmatched where material_goods_category is not null"
    )
    cats["annex"] = [to_category(c) in ANNEX_II_CATEGORIES for c in cats["c"]]
    db.con.register("cat_annex", cats)
    db.table(
        "pvalues",
        f"""
        with v as (
            select p.*, p.see_origin in ('supplier_actual', 'supplier_default') as supplier,
                p.see_origin = 'exempt_origin' as exempt,
                case when p.see_origin = 'default_value' then
                    coalesce(d.dv_direct_marked_up, d.dv_total_marked_up) end as dv_direct,
                case when p.see_origin = 'default_value' then d.dv_total_marked_up end as dv_total,
                coalesce(an.annex, ca.annex, false) as annex_ii
            from pmatched p
            left join pannex an on an.cn_code = p.cn_code
            left join precursor_dv d on d.cn_code is not distinct from p.cn_code
                and d.country is not distinct from p.origin_country and d.year = p.year
            left join cat_annex ca on ca.c = p.material_goods_category
        ), w as (
            select *,
                case when exempt then 0.0 when supplier then see_direct else dv_direct end as s_direct,
                case when exempt then 0.0 when supplier then coalesce(see_indirect, 0.0)
                     else {_clip0("dv_total - dv_direct")} end as s_indirect,
                case when supplier then coalesce(embedded_electricity_mwh_per_t,
                    case when electricity_ef_tco2_per_mwh > 0 then see_indirect / electricity_ef_tco2_per_mwh end,
                    0.0) else 0.0 end as s_el
            from v
        )
        select *, mass_t * s_direct as embedded_direct_tco2e, mass_t * s_indirect as embedded_indirect_tco2e,
            mass_t * s_el as embedded_electricity_mwh
        from w""",
    )
    missing = db.sql("select count(*) from pvalues where embedded_direct_tco2e is null").fetchone()
    if missing and missing[0]:
        raise ValueError("purchased precursor without SEE: no supplier value and no default value")
    monthly = """
        select installation_id, process_id, month as period, sum(mass_t) as mass_t,
            sum(embedded_direct_tco2e) as embedded_direct_tco2e,
            sum(embedded_indirect_tco2e) as embedded_indirect_tco2e,
            sum(case when annex_ii then 0.0 else embedded_indirect_tco2e end) as embedded_indirect_non_annex_ii_tco2e,
            sum(case when see_origin in ('supplier_default', 'default_value') then embedded_direct_tco2e
                     else 0.0 end) as default_direct_tco2e,
            sum(embedded_electricity_mwh) as embedded_electricity_mwh
        from pvalues where process_id is not null group by all"""
    sums = [
        "mass_t",
        "embedded_direct_tco2e",
        "embedded_indirect_tco2e",
        "embedded_indirect_non_annex_ii_tco2e",
        "default_direct_tco2e",
        "embedded_electricity_mwh",
    ]
    db.table("purchased", with_years(monthly, PROC, sums))


def internal_flows(db: DuckCbam) -> None:
    monthly = f"""select installation_id, from_process_id, to_process_id, month as period,
                        sum(mass_t * fraction) as mass_t
                 from ({month_parts("select * from process_flows")}) group by all"""
    db.table("flows", with_years(monthly, "installation_id, from_process_id, to_process_id", ["mass_t"]))


def process_see(db: DuckCbam) -> pd.DataFrame:
    """The process table assembled in SQL (b = own emissions per t + purchased per t), solved per group."""
    annex = ", ".join(f"'{c}'" for c in sorted(ANNEX_II_CATEGORIES))
    table = db.df(
        f"""
        with procs as (
            select {GROUP}, from_process_id as process_id from flows
            union select {GROUP}, to_process_id from flows
            union select {KEYS} from attribution
            union select {KEYS} from electricity
            union select {KEYS} from purchased
        ), outflow as (
            select {GROUP}, from_process_id as process_id, sum(mass_t) as internal_output_t
            from flows group by all
        ), pr as (
            select installation_id, process_id, any_value(goods_category) as goods_category
            from processes group by all
        ), t as (
            select k.installation_id, k.period, k.period_grain, k.process_id, pr.goods_category,
                coalesce(a.activity_level_t, 0.0) as activity_level_t,
                coalesce(a.attributed_direct_tco2e, 0.0) as attributed_direct_tco2e,
                coalesce(e.electricity_mwh, 0.0) as electricity_mwh,
                coalesce(e.attributed_indirect_tco2e, 0.0) as attributed_indirect_tco2e,
                coalesce(p.mass_t, 0.0) as purchased_precursor_t,
                coalesce(p.embedded_direct_tco2e, 0.0) as ext_direct,
                coalesce(p.embedded_indirect_tco2e, 0.0) as ext_indirect,
                coalesce(p.embedded_indirect_non_annex_ii_tco2e, 0.0) as ext_indirect_na2,
                coalesce(p.default_direct_tco2e, 0.0) as ext_default_direct,
                coalesce(p.embedded_electricity_mwh, 0.0) as ext_electricity_mwh,
                coalesce(o.internal_output_t, 0.0) as internal_output_t
            from procs k
            left join attribution a using (installation_id, period, period_grain, process_id)
            left join electricity e using (installation_id, period, period_grain, process_id)
            left join purchased p using (installation_id, period, period_grain, process_id)
            left join outflow o using (installation_id, period, period_grain, process_id)
            left join pr using (installation_id, process_id)
        )
        select *,
            (attributed_direct_tco2e + ext_direct) / al as b_see_direct,
            (attributed_indirect_tco2e + ext_indirect) / al as b_see_indirect,
            ((case when goods_category in ({annex}) then 0.0 else attributed_indirect_tco2e end)
                + ext_indirect_na2) / al as b_see_indirect_non_annex_ii,
            ext_default_direct / al as b_default_direct_per_t,
            (electricity_mwh + ext_electricity_mwh) / al as b_embedded_electricity_mwh_per_t,
            attributed_direct_tco2e > 0 or attributed_indirect_tco2e > 0 or purchased_precursor_t != 0
                or internal_output_t != 0 as loaded
        from (select *, case when activity_level_t > 0 then activity_level_t end as al from t)"""
    )
    flows = db.df("select * from flows")
    psee = solve_see(table, flows)
    db.con.register("psee_df", psee[[*KEYS.split(", "), "goods_category", "see_status", *RHS]])
    db.table("psee", "select * from psee_df")
    return psee


def goods_and_exports(db: DuckCbam) -> tuple[pd.DataFrame, pd.DataFrame]:
    annex = ", ".join(f"'{c}'" for c in sorted(ANNEX_II_CATEGORIES))
    db.annex_ii("gannex", "select cn_code from products")
    db.table(
        "goods",
        f"""
        select p.installation_id, p.product_id, s.period, s.period_grain, p.process_id, s.see_status,
            s.see_direct, s.see_indirect, s.see_direct + s.see_indirect as see_total,
            s.see_direct + s.see_indirect_non_annex_ii as see_chargeable,
            coalesce(an.annex, s.goods_category in ({annex}), false) as annex_ii_direct_only
        from products p join psee s using (installation_id, process_id)
        left join gannex an on an.cn_code = p.cn_code""",
    )
    db.iso2_of("exp_iso2", "select country from installations")
    db.table(
        "lines",
        """
        with prods as (
            select * from products qualify row_number() over (partition by product_id) = 1
        ), inst as (
            select installation_id, any_value(country) as country from installations group by all
        )
        select e.export_id, e.line_no, e.product_id,
            coalesce(e.cn_code, p.cn_code) as cn_code,
            coalesce(e.installation_id, p.installation_id) as installation_id,
            year(e.declaration_date) as declaration_year,
            coalesce(e.production_period, year(e.declaration_date)::varchar) as production_period,
            case when e.unit = 'pcs' then e.quantity * p.unit_mass_t else e.quantity * f.factor end as net_mass_t
        from exports e left join prods p using (product_id) left join t_factors f on f.unit = e.unit""",
    )
    db.table(
        "lines2",
        """
        select l.*, case when length(l.production_period) = 7 then 'month' else 'year' end as period_grain,
            i.country as origin_country
        from lines l left join (select installation_id, any_value(country) as country from installations
                                group by all) i using (installation_id)""",
    )
    db.table(
        "lines3",
        """
        select l.*, g.see_direct as g_direct, g.see_indirect as g_indirect, g.see_chargeable as g_chargeable,
            g.annex_ii_direct_only as g_annex
        from lines2 l left join goods g on g.installation_id = l.installation_id
            and g.product_id = l.product_id and g.period = l.production_period
            and g.period_grain = l.period_grain""",
    )
    db.default_values(
        "export_dv",
        "select cn_code, origin_country as country, declaration_year as year from lines3 where g_direct is null",
    )
    db.annex_ii("lannex", "select cn_code from lines3")
    lines = db.df(
        f"""
        with v as (
            select l.*, l.g_direct is not null as actual,
                coalesce(d.dv_direct_marked_up, d.dv_total_marked_up) as dv_direct, d.dv_total_marked_up as dv_total,
                coalesce(an.annex, l.g_annex, false) as annex
            from lines3 l left join lannex an on an.cn_code = l.cn_code left join export_dv d on d.cn_code is not distinct from l.cn_code
                and d.country is not distinct from l.origin_country and d.year = l.declaration_year
        ), s as (
            select *,
                case when actual then g_direct else dv_direct end as see_direct,
                case when actual then g_indirect else {_clip0("dv_total - dv_direct")} end as see_indirect,
                case when actual then g_chargeable when annex then dv_direct else dv_total end as see_chargeable_per_t
            from v
        )
        select export_id, line_no, product_id, installation_id, production_period, period_grain, net_mass_t,
            see_direct, see_indirect, see_chargeable_per_t,
            net_mass_t * see_direct as embedded_direct_tco2e, net_mass_t * see_indirect as embedded_indirect_tco2e,
            net_mass_t * see_chargeable_per_t as embedded_chargeable_tco2e,
            case when actual then 'actual' else 'default' end as determination
        from s order by export_id, line_no"""
    )
    return db.df("select * from goods"), lines


def compute_cbam_duckdb(
    home_root: Path, ref: PandasReference | None = None, threads: int | None = None
) -> dict[str, pd.DataFrame]:
    """process_see, goods_see (both grains) and export_lines from a home's raw lake, in DuckDB SQL."""
    db = DuckCbam(home_root, ref, threads)
    stream_emissions(db)
    process_attribution(db)
    process_electricity(db)
    purchased_precursors(db)
    internal_flows(db)
    psee = process_see(db)
    goods, lines = goods_and_exports(db)
    return {"process_see": psee, "goods_see": goods, "export_lines": lines}
