"""The product footprint calculation written in DuckDB SQL, kept only as the benchmark's second reference for
`compute_product_footprint` (issue 13, scope 2).

Same path and same numbers as tests/bench/pandas_footprint.py (checked by
tests/bench/test_footprint_references.py). Every row-level step runs in SQL on one DuckDB connection over the
raw lake Parquet (`read_parquet`) and the inputs the engine receives (the CBAM engine's process_see,
precursor_inputs and stream_emissions, the logistics allocations, the China grid factor table, registered as
relations): the life-cycle electricity factor by vintage, the purchased/internal split of precursors, the
invoice lines' supplier footprint match (material, else CN code, valid on the date, latest start first,
`qualify row_number()`), unit conversions by a join to the unit table, the per-day sums, both grains, the
spread by activity level, inbound and outbound transport, the internal flow matrix, the per-tonne parts and the
per-product rows.

What stays in Python is not per row: the (I − A) solve per installation and period and the gap closure along
internal flows (a few processes each; numpy, shared with the pandas reference).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from tests.bench.pandas_footprint import DQR, GAP_SCORE_FLOOR, RAW_COLUMNS, propagate
from transforms import units
from transforms.paths import table_glob, table_parts

KEYS = "installation_id, process_id, period, period_grain"
GROUP = "installation_id, period, period_grain"


def both_grains(q: str, date_col: str) -> str:
    """Each row of query `q` once with its year and once with its month (`period`, `period_grain`)."""
    return f"""(select *, strftime({date_col}, '%Y') as period, 'year' as period_grain from ({q})
        union all by name
        select *, strftime({date_col}, '%Y-%m') as period, 'month' as period_grain from ({q}))"""


def spread(q: str, values: list[str], others: list[str]) -> str:
    """Amounts of query `q` on a known process row stay there; the others go to the installation's processes of
    the period by activity level (without any: dropped)."""
    v = ", ".join(values)
    o = "".join(f", {c}" for c in others)
    shared = ", ".join(f"t.{c} * sh.share as {c}" for c in values)
    return f"""(
        with t as (
            select a.*, k.installation_id is not null as _known from ({q}) a
            left join ps k on a.installation_id = k.installation_id and a.process_id = k.process_id
                and a.period = k.period and a.period_grain = k.period_grain),
        sh as (
            select installation_id, period, period_grain, process_id,
                activity_level_t / nullif(sum(activity_level_t) over (partition by {GROUP}), 0) as share
            from ps)
        select {KEYS}, {v}{o} from t where _known
        union all
        select t.installation_id, sh.process_id, t.period, t.period_grain, {shared}{o.replace(", ", ", t.")}
        from t join sh using ({GROUP}) where not _known
    )"""


class DuckFootprint:
    """A DuckDB connection with the raw lake tables as views and the footprint's inputs registered."""

    def __init__(self, home_root: Path, inputs: dict[str, pd.DataFrame], threads: int | None = None):
        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"set threads = {int(threads)}")
        for name, cols in RAW_COLUMNS.items():
            path = home_root / "lake" / "raw" / name / "current"
            if table_parts(path):
                self.con.execute(f"create view {name} as select * from read_parquet('{table_glob(path)}')")
            else:  # an absent dataset reads as no rows
                self.con.execute(
                    f"create view {name} as select {', '.join(f'null::varchar as {c}' for c in cols)} limit 0"
                )
        for name, df in inputs.items():
            self.con.register(name, df)
        unit_table = pd.DataFrame(
            {"symbol": [u.symbol for u in units.UNITS], "dimension": [u.dimension for u in units.UNITS],
             "to_base": [float(u.to_base) for u in units.UNITS]}
        )  # fmt: skip
        self.con.register("unit_table", unit_table)

    def table(self, name: str, q: str) -> None:
        self.con.execute(f"create or replace temp table {name} as {q}")

    def df(self, q: str) -> pd.DataFrame:
        return self.con.sql(q).df()


def base(db: DuckFootprint) -> None:
    db.table(
        "ps",
        f"""select {KEYS}, activity_level_t, own_see_direct, own_see_indirect, own_electricity_mwh_per_t
        from process_see where period_grain in ('year', 'month')""",
    )
    db.table(
        "lc",
        """with years as (select distinct substr(period, 1, 4) as year from ps),
        f as (select data_year, value from china_grid_factors
              where series = 'lifecycle_footprint' and region = 'China')
        select year, value as lc from years, f
        qualify row_number() over (partition by year order by
            case when data_year <= cast(year as integer) then -data_year else 10000 + data_year end) = 1""",
    )
    db.table(
        "base",
        """select ps.*,
            case when own_electricity_mwh_per_t is not null and lc is not null
                then own_electricity_mwh_per_t * lc else coalesce(own_see_indirect, 0.0) end as own_indirect_raw,
            case when own_electricity_mwh_per_t is not null and lc is not null then lc end
                as electricity_factor_kgco2e_per_kwh
        from ps left join lc on substr(ps.period, 1, 4) = lc.year""",
    )


def precursors(db: DuckFootprint) -> None:
    db.table(
        "own_ids",
        """select distinct * from (
            select installation_id, product_id as material_id from products
            union all select installation_id, process_id from processes
            union all select installation_id, process_id from ps) where installation_id is not null
            and material_id is not null""",
    )
    internal = "(p.source = 'internal' or p.from_process_id is not null or o.material_id is not null)"
    db.table(
        "pi_split",
        f"""select p.*, {internal} as _internal from precursor_inputs p
        left join own_ids o on p.installation_id = o.installation_id and p.material_id = o.material_id""",
    )
    db.table(
        "prec",
        f"""with p as (
            select *, mass_t * (coalesce(see_direct, 0.0) + coalesce(see_indirect, 0.0)) as total,
                coalesce(is_default, source = 'default', determination = 'default', false) as d,
                coalesce(see_origin = 'exempt_origin', false) or (see_direct is null and see_indirect is null)
                    as gap
            from pi_split where not _internal)
        select {KEYS}, sum(total) as precursors_t,
            sum(case when d then total else 0.0 end) as precursor_default_t,
            sum(case when d then 0.0 else total end) as primary_t,
            sum(total * case when d then {DQR["cbam_default"]} else {DQR["supplier_specific"]} end)
                as dq_weighted_t,
            sum(gap::double) as prec_gap_count,
            list(distinct coalesce(material_id, cn_code)) filter (where gap and coalesce(material_id, cn_code)
                is not null) as prec_gap_names
        from p group by all""",
    )


def convert(q: str, unit: str, target: str, mass: str) -> str:
    """SQL: q in `unit` → in `target` (columns naming canonical symbols), via the unit table joined as
    `{unit}_u` and `{target}_u`; pieces ↔ mass via `mass` (t per piece)."""
    du, dt, bu, bt = (
        f"{unit}_u.dimension",
        f"{target}_u.dimension",
        f"{unit}_u.to_base",
        f"{target}_u.to_base",
    )
    return f"""case when {du} = {dt} then {q} * {bu} / {bt}
        when {du} = 'pieces' and {dt} = 'mass' then {q} * {bu} * {mass} / {bt}
        when {du} = 'mass' and {dt} = 'pieces' then {q} * {bu} / {mass} / {bt} end"""


def materials(db: DuckFootprint) -> None:
    db.table(
        "lines",
        """with m as (
            select material_id, cn_code as mat_cn, consumed_in_process_id as process_id,
                unit_mass_t as mat_unit_mass_t, pcf_kgco2e_per_unit as sec_pcf, pcf_unit as sec_unit
            from materials where kind in ('material', 'fuel')),
        s as (select supplier_id, installation_id as default_inst from suppliers
              qualify row_number() over (partition by supplier_id) = 1)
        select i.invoice_date, i.installation_id, m.process_id, i.material_id, i.quantity, i.unit,
            m.mat_unit_mass_t, m.sec_pcf, m.sec_unit,
            coalesce(i.supplier_installation_id, s.default_inst) as sup_inst,
            coalesce(i.cn_code, m.mat_cn) as line_cn
        from supplier_invoices i join m on i.material_id = m.material_id
        left join s on i.supplier_id = s.supplier_id""",
    )
    db.table(
        "best_pcf",
        """with k as (select distinct invoice_date, sup_inst, material_id, line_cn from lines),
        pcf as (
            select supplier_installation_id, material_id, cn_code, period_start, document_ref,
                coalesce(period_end, cast(period_start + interval 1 year - interval 1 day as date)) as period_end,
                pcf_kgco2e_per_unit as sup_pcf, pcf_unit as sup_unit
            from supplier_emissions where pcf_kgco2e_per_unit is not null),
        cand as (
            select k.*, pcf.period_start, pcf.period_end, pcf.document_ref, pcf.sup_pcf, pcf.sup_unit, 0 as rank
            from k join pcf on k.sup_inst = pcf.supplier_installation_id and k.material_id = pcf.material_id
            union all
            select k.*, pcf.period_start, pcf.period_end, pcf.document_ref, pcf.sup_pcf, pcf.sup_unit, 1
            from k join pcf on k.sup_inst = pcf.supplier_installation_id and k.line_cn = pcf.cn_code)
        select invoice_date, sup_inst, material_id, line_cn, sup_pcf, sup_unit from cand
        where period_start <= invoice_date and invoice_date <= period_end
        qualify row_number() over (partition by invoice_date, sup_inst, material_id, line_cn
            order by rank, period_start desc, document_ref nulls last) = 1""",
    )
    sup_qty = convert("l.quantity", "unit", "sup_unit", "l.mat_unit_mass_t")
    sec_qty = convert("l.quantity", "unit", "sec_unit", "l.mat_unit_mass_t")
    db.table(
        "per_day",
        f"""with q as (
            select l.installation_id, l.process_id, l.invoice_date, l.material_id, b.sup_pcf, l.sec_pcf,
                {sup_qty} as sup_qty, {sec_qty} as sec_qty
            from lines l
            left join best_pcf b on l.invoice_date = b.invoice_date and l.sup_inst is not distinct from b.sup_inst
                and l.material_id is not distinct from b.material_id and l.line_cn is not distinct from b.line_cn
            left join unit_table unit_u on l.unit = unit_u.symbol
            left join unit_table sup_unit_u on b.sup_unit = sup_unit_u.symbol
            left join unit_table sec_unit_u on l.sec_unit = sec_unit_u.symbol),
        s as (
            select *, case when sup_pcf is not null and sup_qty is not null then 'supplier_specific'
                when sec_pcf is not null and sec_qty is not null then 'secondary' else 'gap' end as src
            from q),
        t as (
            select *, coalesce(case src when 'supplier_specific' then sup_qty * sup_pcf
                when 'secondary' then sec_qty * sec_pcf end / 1000.0, 0.0) as tco2e
            from s)
        select installation_id, process_id, invoice_date, case when src = 'gap' then material_id end as gap_name,
            sum(tco2e) as materials_t,
            sum(case when src = 'supplier_specific' then tco2e else 0.0 end) as primary_t,
            sum(tco2e * case src when 'supplier_specific' then {DQR["supplier_specific"]}
                when 'secondary' then {DQR["secondary"]} else {DQR["gap"]} end) as dq_weighted_t,
            sum((src = 'gap')::double) as gap_count
        from t group by all""",
    )
    values = ["materials_t", "primary_t", "dq_weighted_t"]
    db.table(
        "mats",
        f"""select {KEYS}, sum(materials_t) as materials_t, sum(primary_t) as mat_primary_t,
            sum(dq_weighted_t) as mat_dq_t, sum(gap_count) as gap_count,
            list(distinct gap_name) filter (where gap_name is not null) as gap_names
        from {spread(both_grains("select * from per_day", "invoice_date"), values, ["gap_count", "gap_name"])}
        group by all""",
    )


def transport(db: DuckFootprint) -> None:
    legs = """select a.installation_id, m.process_id, a.ship_date, a.wtw_tco2e as inbound_transport_t,
            case when a.is_primary_data then a.wtw_tco2e else 0.0 end as primary_t,
            a.wtw_tco2e * a.data_quality_rating::double as dq_weighted_t
        from shipment_allocations a
        left join (select material_id, consumed_in_process_id as process_id from materials
                   qualify row_number() over (partition by material_id) = 1) m on a.material_id = m.material_id
        where a.direction = 'inbound' and a.installation_id is not null and a.wtw_tco2e is not null"""
    values = ["inbound_transport_t", "primary_t", "dq_weighted_t"]
    db.table(
        "inb",
        f"""select {KEYS}, sum(inbound_transport_t) as inbound_transport_t, sum(primary_t) as in_primary_t,
            sum(dq_weighted_t) as in_dq_t
        from {spread(both_grains(legs, "ship_date"), values, [])} group by all""",
    )
    per_shipment = """select shipment_id, product_id, min(ship_date) as ship_date,
            coalesce(sum(wtw_tco2e), 0.0) as wtw, max(mass_t) as shipped_t, bool_or(wtw_tco2e is null) as missing
        from shipment_allocations where direction = 'outbound' and product_id is not null group by all"""
    db.table(
        "outb",
        f"""select product_id, period, period_grain, sum(shipped_t) as outbound_shipped_t,
            sum(wtw) / nullif(sum(shipped_t), 0) as outbound_transport_tco2e_per_t
        from {both_grains(per_shipment, "ship_date")} group by all""",
    )
    db.table("bio", f"select {KEYS}, sum(biomass_tco2e) as biogenic_t from stream_emissions group by all")


def internal_matrix(db: DuckFootprint) -> None:
    cbam = """select installation_id, period, period_grain, from_process_id, process_id as to_process_id, mass_t
        from pi_split where _internal and from_process_id is not null"""
    has_cbam = db.con.sql(f"select count(*) from ({cbam})").fetchone()[0] > 0
    raw_flows = both_grains(
        "select installation_id, from_process_id, to_process_id, period_start, mass_t from process_flows",
        "period_start",
    )
    flows = cbam if has_cbam else f"select * from {raw_flows}"
    db.table(
        "matrix",
        f"""select f.installation_id, f.period, f.period_grain, f.to_process_id as process_id,
            f.from_process_id, f.mass_t / nullif(ps.activity_level_t, 0) as coef
        from (select installation_id, period, period_grain, from_process_id, to_process_id, sum(mass_t) as mass_t
              from ({flows}) group by all) f
        join ps on f.installation_id = ps.installation_id and f.period = ps.period
            and f.period_grain = ps.period_grain and f.to_process_id = ps.process_id
        where f.mass_t / nullif(ps.activity_level_t, 0) is not null""",
    )


def per_tonne(db: DuckFootprint) -> pd.DataFrame:
    z = lambda c: f"coalesce({c}, 0.0)"  # noqa: E731
    per_t = lambda c: f"{z(c)} / nullif(activity_level_t, 0)"  # noqa: E731
    valid = "activity_level_t is not null and activity_level_t > 0"
    return db.df(
        f"""with b as (
            select base.*, prec.* exclude ({KEYS}), mats.* exclude ({KEYS}), inb.* exclude ({KEYS}),
                bio.biogenic_t,
                case when {valid} then coalesce(own_see_direct, 0.0) end as own_direct,
                case when {valid} then own_indirect_raw end as own_indirect
            from base
            left join prec using ({KEYS}) left join mats using ({KEYS}) left join inb using ({KEYS})
            left join bio using ({KEYS}))
        select {KEYS}, activity_level_t, electricity_factor_kgco2e_per_kwh, own_direct, own_indirect,
            {per_t("precursors_t")} as precursors, {per_t("materials_t")} as materials,
            {per_t("inbound_transport_t")} as inbound_transport,
            {per_t("precursor_default_t")} as precursor_default, {per_t("biogenic_t")} as biogenic,
            own_direct + own_indirect
                + ({z("primary_t")} + {z("mat_primary_t")} + {z("in_primary_t")}) / nullif(activity_level_t, 0)
                as primary_amt,
            own_direct * {DQR["plant"]} + own_indirect * {DQR["plant_electricity"]}
                + ({z("dq_weighted_t")} + {z("mat_dq_t")} + {z("in_dq_t")}) / nullif(activity_level_t, 0)
                as dq_weighted,
            (({z("gap_count")} + {z("prec_gap_count")}) > 0)::double as gap_flag,
            list_distinct(list_concat(coalesce(gap_names, []), coalesce(prec_gap_names, []))) as gap_list
        from b"""
    )


def products(db: DuckFootprint, x: pd.DataFrame) -> pd.DataFrame:
    x = x.assign(gap_text=[",".join(sorted(s)) for s in x["gap_list"]]).drop(columns="gap_list")
    x = x.rename(columns={"primary": "primary_amt"})
    db.con.register("x", x)
    total = "(own_direct + own_indirect + precursors + materials + inbound_transport)"
    return db.df(
        f"""with p as (select product_id, installation_id, process_id, unit_mass_t from products
                       qualify row_number() over (partition by product_id) = 1),
        fed as (select distinct installation_id, period, period_grain, process_id from matrix),
        r as (
            select p.product_id, x.*, p.unit_mass_t, {total} as total,
                fed.process_id is not null as internal_inputs, outb.outbound_shipped_t,
                outb.outbound_transport_tco2e_per_t
            from x join p on p.installation_id = x.installation_id and p.process_id = x.process_id
            left join fed on fed.installation_id = x.installation_id and fed.process_id = x.process_id
                and fed.period = x.period and fed.period_grain = x.period_grain
            left join outb on outb.product_id = p.product_id and outb.period = x.period
                and outb.period_grain = x.period_grain)
        select product_id, installation_id, process_id, period, period_grain, activity_level_t,
            own_direct as own_direct_tco2e_per_t, own_indirect as own_indirect_tco2e_per_t,
            precursors as precursors_tco2e_per_t, materials as purchased_materials_tco2e_per_t,
            inbound_transport as inbound_transport_tco2e_per_t, total as cradle_to_gate_tco2e_per_t,
            total * unit_mass_t * 1000.0 as cradle_to_gate_kgco2e_per_piece,
            outbound_transport_tco2e_per_t, outbound_shipped_t,
            total + outbound_transport_tco2e_per_t as cradle_to_customer_tco2e_per_t,
            biogenic as biogenic_co2_tco2e_per_t, precursor_default as precursor_default_tco2e_per_t,
            electricity_factor_kgco2e_per_kwh,
            primary_amt / nullif(total, 0) as primary_data_share,
            case when gap_flag > 0 then greatest(dq_weighted / nullif(total, 0), {GAP_SCORE_FLOOR})
                else dq_weighted / nullif(total, 0) end as data_quality_score,
            gap_flag > 0 as has_gap, case when gap_flag > 0 then gap_text end as gap_materials,
            internal_inputs
        from r order by product_id, period, period_grain"""
    )


def compute_footprint_duckdb(
    home_root: Path, inputs: dict[str, pd.DataFrame], threads: int | None = None
) -> pd.DataFrame:
    """product_footprint's numbers per product × period, both grains. `inputs`: process_see, precursor_inputs,
    shipment_allocations, stream_emissions, china_grid_factors (the engine's inputs, as pandas frames)."""
    db = DuckFootprint(home_root, inputs, threads)
    base(db)
    precursors(db)
    materials(db)
    transport(db)
    internal_matrix(db)
    b = per_tonne(db)
    b = b.rename(columns={"primary_amt": "primary"})
    b["gap_list"] = [frozenset(s) for s in b["gap_list"]]
    a = db.df("select * from matrix")
    return products(db, propagate(b, a))
