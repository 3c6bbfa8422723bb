"""A plain pandas implementation of the product footprint calculation (`compute_product_footprint`, ISO 14067
cradle-to-gate per product × period), kept only as the benchmark's baseline (issue 13, scope 2).

It follows transforms/footprint/engine.py (docs/computed/footprint.md) the way an analyst would write it in
pandas, from the same inputs: the raw lake (read here, timed) and the results the engine receives from the
stages before it (the CBAM engine's process_see, precursor_inputs and stream_emissions, the logistics
allocations, the China grid factor table):

- own direct: CBAM `own_see_direct`; own indirect: `own_electricity_mwh_per_t` × the national life-cycle
  electricity factor (latest data year ≤ the period's year, else the earliest), else CBAM `own_see_indirect`;
- precursors: Σ mass × (SEE direct + indirect) of purchased CBAM precursors;
- purchased materials and fuels: invoice lines × the supplier's footprint (by material, else CN code, valid on
  the invoice date, latest start first) or the material's secondary factor, else a gap;
- inbound transport: WTW of inbound legs; outbound WTW per tonne shipped, per product;
- amounts without a process go to the installation's processes by activity level; internal flows pass on the
  whole footprint per tonne: x = b + A·x, solved as (I − A)⁻¹ b per installation and period (numpy).

Only the `lifecycle_grid` electricity method (the engine's default) is written out. Texts (issues, factor
versions) are left out: this only has to give the same numbers (tests/bench/test_footprint_references.py) and
be timed against the polars engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from tests.bench.pandas_cbam import with_dates
from transforms import units
from transforms.paths import table_parts

# the published numbers both references give, compared with the engine's product_footprint
NUMBERS = [
    "activity_level_t", "own_direct_tco2e_per_t", "own_indirect_tco2e_per_t", "precursors_tco2e_per_t",
    "purchased_materials_tco2e_per_t", "inbound_transport_tco2e_per_t", "cradle_to_gate_tco2e_per_t",
    "cradle_to_gate_kgco2e_per_piece", "outbound_transport_tco2e_per_t", "outbound_shipped_t",
    "cradle_to_customer_tco2e_per_t", "biogenic_co2_tco2e_per_t", "precursor_default_tco2e_per_t",
    "electricity_factor_kgco2e_per_kwh", "primary_data_share", "data_quality_score",
]  # fmt: skip
FLAGS = ["has_gap", "gap_materials", "internal_inputs"]
KEYS = ["product_id", "period", "period_grain"]
PROCESS_KEYS = ["installation_id", "process_id", "period", "period_grain"]
GROUP = ["installation_id", "period", "period_grain"]
ADDITIVE = ["own_direct", "own_indirect", "precursors", "materials", "inbound_transport", "primary",
            "dq_weighted", "precursor_default", "biogenic"]  # fmt: skip
DQR = {"plant": 1.0, "plant_electricity": 2.0, "supplier_specific": 2.0, "secondary": 3.0, "cbam_default": 4.0,
       "gap": 5.0}  # fmt: skip
GAP_SCORE_FLOOR = 3.0
RAW_COLUMNS = {
    "materials": ["material_id", "kind", "cn_code", "consumed_in_process_id", "unit_mass_t", "pcf_kgco2e_per_unit",
                  "pcf_unit"],
    "suppliers": ["supplier_id", "installation_id"],
    "supplier_emissions": ["supplier_installation_id", "material_id", "cn_code", "period_start", "period_end",
                           "pcf_kgco2e_per_unit", "pcf_unit", "document_ref"],
    "supplier_invoices": ["invoice_date", "supplier_id", "supplier_installation_id", "installation_id",
                          "material_id", "cn_code", "quantity", "unit"],
    "products": ["product_id", "installation_id", "process_id", "cn_code", "unit_mass_t"],
    "processes": ["installation_id", "process_id"],
    "process_flows": ["installation_id", "from_process_id", "to_process_id", "period_start", "mass_t"],
}  # fmt: skip
DIMENSION = {u.symbol: u.dimension for u in units.UNITS}
TO_BASE = {u.symbol: u.to_base for u in units.UNITS}


def load_raw(home_root: Path) -> dict[str, pd.DataFrame]:
    """The raw lake tables the footprint reads (only the columns it reads; dates as datetime64)."""
    out = {}
    for name, cols in RAW_COLUMNS.items():
        path = home_root / "lake" / "raw" / name / "current"
        df = pd.read_parquet(path, columns=cols) if table_parts(path) else pd.DataFrame(columns=cols)
        out[name] = with_dates(df)
    return out


# --- small helpers ----------------------------------------------------------------------------------------------


def safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN where den is NaN or 0."""
    return (num / den.where(den != 0)).astype(float)


def both_grains(df: pd.DataFrame, date_col: str) -> pd.DataFrame:
    """Each row once per grain: `period` YYYY (year) and YYYY-MM (month)."""
    d = pd.to_datetime(df[date_col])
    return pd.concat(
        [
            df.assign(period=d.dt.strftime("%Y"), period_grain="year"),
            df.assign(period=d.dt.strftime("%Y-%m"), period_grain="month"),
        ],
        ignore_index=True,
    )


def names(values: pd.Series) -> frozenset:
    return frozenset(v for v in values if isinstance(v, str))


def spread(amounts: pd.DataFrame, ps: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """Amounts on a known process row stay there; the others (no process, or one without a CBAM row in the
    period) go to the installation's processes of the period by activity level; without any: dropped."""
    known = ps[PROCESS_KEYS].assign(_known=True)
    tagged = amounts.merge(known, on=PROCESS_KEYS, how="left")
    direct = tagged[tagged["_known"].notna()].drop(columns="_known")
    shares = ps[[*PROCESS_KEYS, "activity_level_t"]].copy()
    shares["share"] = safe_div(
        shares["activity_level_t"], shares.groupby(GROUP)["activity_level_t"].transform("sum")
    )
    rest = tagged[tagged["_known"].isna()].drop(columns=["_known", "process_id"])
    rest = rest.merge(shares.drop(columns="activity_level_t"), on=GROUP, how="inner")
    for c in values:
        rest[c] = rest[c] * rest["share"]
    return pd.concat([direct, rest.drop(columns="share")], ignore_index=True)


def convert(qty: pd.Series, unit: pd.Series, target: pd.Series, unit_mass_t: pd.Series) -> pd.Series:
    """qty in `unit` → in `target`: same dimension by the unit table; pieces ↔ mass via unit_mass_t; else NaN."""
    du, dt = unit.map(DIMENSION), target.map(DIMENSION)
    base = qty * unit.map(TO_BASE).astype(float)
    tb = target.map(TO_BASE).astype(float)
    out = pd.Series(np.nan, index=qty.index)
    same = du.notna() & (du == dt)
    out[same] = base[same] / tb[same]
    p2m = (du == "pieces") & (dt == "mass")
    out[p2m] = base[p2m] * unit_mass_t[p2m] / tb[p2m]
    m2p = (du == "mass") & (dt == "pieces")
    out[m2p] = base[m2p] / unit_mass_t[m2p] / tb[m2p]
    return out


# --- the parts --------------------------------------------------------------------------------------------------


def lifecycle_factor(grid: pd.DataFrame, years: pd.Series) -> pd.Series:
    """The national life-cycle electricity factor for each year (text YYYY): the latest data year ≤ it, else the
    earliest data year on file."""
    lc = grid[(grid["series"] == "lifecycle_footprint") & (grid["region"] == "China")]
    lc = lc.sort_values("data_year", kind="stable").drop_duplicates("data_year")
    by_year = dict(zip(lc["data_year"], lc["value"], strict=True))
    out = {}
    for y in years.dropna().unique():
        eligible = [d for d in by_year if d <= int(y)]
        out[y] = by_year[max(eligible)] if eligible else (by_year[min(by_year)] if by_year else np.nan)
    return years.map(out).astype(float)


def precursor_split(pi: pd.DataFrame, raw: dict[str, pd.DataFrame], ps: pd.DataFrame) -> tuple:
    """(purchased, internal) rows of the CBAM precursor_inputs, as transforms/ghg/precursors.py splits them."""
    own = pd.concat(
        [
            raw["products"][["installation_id", "product_id"]].set_axis(["installation_id", "material_id"], axis=1),
            raw["processes"][["installation_id", "process_id"]].set_axis(["installation_id", "material_id"], axis=1),
            ps[["installation_id", "process_id"]].set_axis(["installation_id", "material_id"], axis=1),
        ]
    ).dropna().drop_duplicates()  # fmt: skip
    pi = pi.merge(own.assign(_own=True), on=["installation_id", "material_id"], how="left")
    own_flag = pi["_own"].notna()
    internal = (pi["source"] == "internal") | pi["from_process_id"].notna() | own_flag
    undecided = pi["source"].isna() & ~internal  # a null source is neither (SQL / polars three-valued logic)
    purchased = pi[~internal & ~undecided].copy()
    default = purchased["is_default"]
    default = default.where(
        default.notna(),
        purchased["source"].where(purchased["source"].isna(), purchased["source"] == "default"),
    )
    default = default.where(default.notna(), purchased["determination"].where(purchased["determination"].isna(), purchased["determination"] == "default"))  # fmt: skip
    purchased["is_default_value"] = default.fillna(False).astype(bool)
    purchased["footprint_gap"] = (purchased["see_origin"] == "exempt_origin") | (
        purchased["see_direct"].isna() & purchased["see_indirect"].isna()
    )
    return purchased, pi[internal]


def precursors(purchased: pd.DataFrame) -> pd.DataFrame:
    total = purchased["mass_t"] * (
        purchased["see_direct"].fillna(0.0) + purchased["see_indirect"].fillna(0.0)
    )
    d = purchased["is_default_value"]
    gap = purchased["footprint_gap"]
    parts = purchased[PROCESS_KEYS].assign(
        precursors_t=total,
        precursor_default_t=total.where(d, 0.0),
        primary_t=total.where(~d, 0.0),
        dq_weighted_t=total * np.where(d, DQR["cbam_default"], DQR["supplier_specific"]),
        prec_gap_count=gap.astype(float),
        prec_gap_name=purchased["material_id"].fillna(purchased["cn_code"]).where(gap),
    )
    g = parts.groupby(PROCESS_KEYS, dropna=False)
    out = g[["precursors_t", "precursor_default_t", "primary_t", "dq_weighted_t", "prec_gap_count"]].sum()
    out["prec_gap_names"] = g["prec_gap_name"].agg(names)
    return out.reset_index()


def material_lines(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Purchased material and fuel invoice lines with tco2e and footprint_source (transforms/ghg/materials.py)."""
    m = raw["materials"]
    m = m[m["kind"].isin(("material", "fuel"))].rename(
        columns={"cn_code": "mat_cn", "consumed_in_process_id": "process_id", "unit_mass_t": "mat_unit_mass_t",
                 "pcf_kgco2e_per_unit": "sec_pcf", "pcf_unit": "sec_unit"}
    )  # fmt: skip
    sup = raw["suppliers"].drop_duplicates("supplier_id")
    sup = sup.rename(columns={"installation_id": "supplier_default_installation"})
    inv = raw["supplier_invoices"]
    lines = inv.merge(m, on="material_id", how="inner").merge(sup, on="supplier_id", how="left")
    lines["sup_inst"] = lines["supplier_installation_id"].fillna(lines["supplier_default_installation"])
    lines["line_cn"] = lines["cn_code"].fillna(lines["mat_cn"])
    match = ["invoice_date", "sup_inst", "material_id", "line_cn"]
    keys = lines[match].drop_duplicates()
    pcf = raw["supplier_emissions"]
    pcf = pcf[pcf["pcf_kgco2e_per_unit"].notna()].copy()
    pcf["period_end"] = pcf["period_end"].fillna(
        pcf["period_start"] + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    )
    pcf = pcf.rename(columns={"supplier_installation_id": "sup_inst", "pcf_kgco2e_per_unit": "sup_pcf",
                              "pcf_unit": "sup_unit"})  # fmt: skip
    k = keys.dropna(subset=["sup_inst"])
    by_mat = (
        k.dropna(subset=["material_id"])
        .merge(pcf[pcf["material_id"].notna()].drop(columns="cn_code"), on=["sup_inst", "material_id"])
        .assign(rank=0)
    )
    by_cn = (
        k.dropna(subset=["line_cn"])
        .merge(
            pcf[pcf["cn_code"].notna()].drop(columns="material_id").rename(columns={"cn_code": "line_cn"}),
            on=["sup_inst", "line_cn"],
        )
        .assign(rank=1)
    )
    cand = pd.concat([by_mat, by_cn], ignore_index=True)
    cand = cand[(cand["period_start"] <= cand["invoice_date"]) & (cand["invoice_date"] <= cand["period_end"])]
    cand = cand.assign(_ps=-cand["period_start"].astype("int64"))
    best = cand.sort_values(["rank", "_ps", "document_ref"], na_position="last", kind="stable")
    best = best.drop_duplicates(match)[[*match, "sup_pcf", "sup_unit"]]
    lines = lines.merge(best, on=match, how="left")
    sup_qty = convert(lines["quantity"], lines["unit"], lines["sup_unit"], lines["mat_unit_mass_t"])
    sec_qty = convert(lines["quantity"], lines["unit"], lines["sec_unit"], lines["mat_unit_mass_t"])
    use_sup = lines["sup_pcf"].notna() & sup_qty.notna()
    use_sec = ~use_sup & lines["sec_pcf"].notna() & sec_qty.notna()
    qty = sup_qty.where(use_sup, sec_qty.where(use_sec))
    factor = lines["sup_pcf"].where(use_sup, lines["sec_pcf"].where(use_sec))
    return pd.DataFrame(
        {
            "installation_id": lines["installation_id"],
            "process_id": lines["process_id"],
            "invoice_date": lines["invoice_date"],
            "material_id": lines["material_id"],
            "footprint_source": np.select([use_sup, use_sec], ["supplier_specific", "secondary"], "gap"),
            "tco2e": (qty * factor / 1000.0).fillna(0.0),  # kgCO2 → tCO2
        }
    )


def materials(raw: dict[str, pd.DataFrame], ps: pd.DataFrame) -> pd.DataFrame:
    lines = material_lines(raw)
    src = lines["footprint_source"]
    lines = lines.assign(
        primary_t=lines["tco2e"].where(src == "supplier_specific", 0.0),
        dq_weighted_t=lines["tco2e"] * src.map({"supplier_specific": DQR["supplier_specific"],
                                                 "secondary": DQR["secondary"], "gap": DQR["gap"]}),
        gap_count=(src == "gap").astype(float),
        gap_name=lines["material_id"].where(src == "gap"),
    )  # fmt: skip
    per_day = (
        lines.groupby(["installation_id", "process_id", "invoice_date", "gap_name"], dropna=False)[
            ["tco2e", "primary_t", "dq_weighted_t", "gap_count"]
        ]
        .sum()
        .reset_index()
        .rename(columns={"tco2e": "materials_t"})
    )
    spread_ = spread(both_grains(per_day, "invoice_date"), ps, ["materials_t", "primary_t", "dq_weighted_t"])
    g = spread_.groupby(PROCESS_KEYS)
    out = g[["materials_t", "primary_t", "dq_weighted_t", "gap_count"]].sum()
    out["gap_names"] = g["gap_name"].agg(names)
    return out.reset_index()


def inbound(alloc: pd.DataFrame, raw: dict[str, pd.DataFrame], ps: pd.DataFrame) -> pd.DataFrame:
    mats = raw["materials"][["material_id", "consumed_in_process_id"]].drop_duplicates("material_id")
    legs = alloc[
        (alloc["direction"] == "inbound") & alloc["installation_id"].notna() & alloc["wtw_tco2e"].notna()
    ]
    legs = legs.merge(
        mats.rename(columns={"consumed_in_process_id": "process_id"}), on="material_id", how="left"
    )
    items = both_grains(legs, "ship_date")
    items = items[PROCESS_KEYS].assign(
        inbound_transport_t=items["wtw_tco2e"],
        primary_t=items["wtw_tco2e"].where(items["is_primary_data"].fillna(False).astype(bool), 0.0),
        dq_weighted_t=items["wtw_tco2e"] * items["data_quality_rating"].astype(float),
    )
    values = ["inbound_transport_t", "primary_t", "dq_weighted_t"]
    return spread(items, ps, values).groupby(PROCESS_KEYS)[values].sum().reset_index()


def outbound(alloc: pd.DataFrame) -> pd.DataFrame:
    out = alloc[(alloc["direction"] == "outbound") & alloc["product_id"].notna()]
    per = (
        out.assign(missing=out["wtw_tco2e"].isna())
        .groupby(["shipment_id", "product_id"])
        .agg(ship_date=("ship_date", "min"), wtw=("wtw_tco2e", "sum"), shipped_t=("mass_t", "max"),
             missing=("missing", "any"))
        .reset_index()
    )  # fmt: skip
    g = both_grains(per, "ship_date").groupby(["product_id", "period", "period_grain"])
    res = g.agg(
        outbound_tco2e=("wtw", "sum"), outbound_shipped_t=("shipped_t", "sum"), missing=("missing", "any")
    )
    res["outbound_transport_tco2e_per_t"] = safe_div(res["outbound_tco2e"], res["outbound_shipped_t"])
    return res.reset_index()


def internal_matrix(internal: pd.DataFrame, raw: dict[str, pd.DataFrame], ps: pd.DataFrame) -> pd.DataFrame:
    """Rows (installation, period, grain, process_id ← from_process_id, coef = t of upstream per t)."""
    flows = internal[internal["from_process_id"].notna()].rename(columns={"process_id": "to_process_id"})
    if flows.empty:
        flows = both_grains(raw["process_flows"], "period_start")
    flows = flows.groupby([*GROUP, "from_process_id", "to_process_id"])["mass_t"].sum().reset_index()
    al = ps[[*GROUP, "process_id", "activity_level_t"]].rename(columns={"process_id": "to_process_id"})
    a = flows.merge(al, on=[*GROUP, "to_process_id"], how="inner")
    a["coef"] = safe_div(a["mass_t"], a["activity_level_t"])
    a = a[a["coef"].notna()].rename(columns={"to_process_id": "process_id"})
    return a[[*GROUP, "process_id", "from_process_id", "coef"]]


def propagate(b: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    """x = b + A·x for the ADDITIVE columns, (I − A)⁻¹ b per installation and period (a process with a null
    part passes nothing on for it); gaps (flag and material names) travel downstream along every flow."""
    x = b.copy()
    if a.empty:
        return x
    x = x.reset_index(drop=True)
    for key, rows in x.groupby(GROUP, sort=False).groups.items():
        sub_a = a[(a["installation_id"] == key[0]) & (a["period"] == key[1]) & (a["period_grain"] == key[2])]
        if sub_a.empty:
            continue
        procs = list(x.loc[rows, "process_id"])
        pos = {p: i for i, p in enumerate(procs)}
        n = len(procs)
        m = np.zeros((n, n))
        edges = []
        for p, q, c in zip(sub_a["process_id"], sub_a["from_process_id"], sub_a["coef"], strict=True):
            if p in pos and q in pos:
                m[pos[p], pos[q]] += c
                edges.append((pos[p], pos[q]))
        for col in ADDITIVE:
            v = x.loc[rows, col].to_numpy(dtype=float)
            null = np.isnan(v)
            mm = m.copy()
            mm[null, :] = 0.0  # a null part stays null and passes on nothing
            sol = np.linalg.solve(np.eye(n) - mm, np.where(null, 0.0, v))
            x.loc[rows, col] = np.where(null, np.nan, sol)
        flags = list(x.loc[rows, "gap_flag"])
        lists = [set(s) for s in x.loc[rows, "gap_list"]]
        changed = True
        while changed:
            changed = False
            for p, q in edges:
                if flags[q] > flags[p] or not lists[q] <= lists[p]:
                    flags[p] = max(flags[p], flags[q])
                    lists[p] |= lists[q]
                    changed = True
        x.loc[rows, "gap_flag"] = flags
        x.loc[rows, "gap_list"] = pd.Series([frozenset(s) for s in lists], index=rows, dtype=object)
    return x


def base_table(ps: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """Process rows with own indirect per tonne (life-cycle factor × own MWh per tonne, else CBAM's)."""
    lc = lifecycle_factor(grid, ps["period"].str[:4])
    has_mwh = ps["own_electricity_mwh_per_t"].notna() & lc.notna()
    return ps.assign(
        own_indirect_raw=(ps["own_electricity_mwh_per_t"] * lc).where(has_mwh, ps["own_see_indirect"].fillna(0.0)),
        electricity_factor_kgco2e_per_kwh=lc.where(has_mwh),
    )  # fmt: skip


def per_tonne(b: pd.DataFrame) -> pd.DataFrame:
    """The process table's amounts per tonne of activity level, with gap flags and names."""
    al = b["activity_level_t"]
    valid = al.notna() & (al > 0)
    z = lambda c: b[c].fillna(0.0)  # noqa: E731
    b = b.assign(
        own_direct=b["own_see_direct"].fillna(0.0).where(valid),
        own_indirect=b["own_indirect_raw"].where(valid),
        precursors=safe_div(z("precursors_t"), al),
        materials=safe_div(z("materials_t"), al),
        inbound_transport=safe_div(z("inbound_transport_t"), al),
        precursor_default=safe_div(z("precursor_default_t"), al),
        biogenic=safe_div(z("biogenic_t"), al),
    )
    b["primary"] = (
        b["own_direct"]
        + b["own_indirect"]
        + safe_div(z("primary_t") + z("mat_primary_t") + z("in_primary_t"), al)
    )
    b["dq_weighted"] = (b["own_direct"] * DQR["plant"] + b["own_indirect"] * DQR["plant_electricity"]
                        + safe_div(z("dq_weighted_t") + z("mat_dq_t") + z("in_dq_t"), al))  # fmt: skip
    b["gap_flag"] = ((z("gap_count") + z("prec_gap_count")) > 0).astype(float)
    b["gap_list"] = [
        frozenset(m if isinstance(m, frozenset) else ()) | frozenset(p if isinstance(p, frozenset) else ())
        for m, p in zip(b["gap_names"], b["prec_gap_names"], strict=True)
    ]
    return b


def to_products(x: pd.DataFrame, a: pd.DataFrame, products: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """Propagated process rows → per product × period."""
    fed = a[[*GROUP, "process_id"]].drop_duplicates().assign(internal_inputs=True)
    prods = products.drop_duplicates("product_id")
    r = prods.merge(x, on=["installation_id", "process_id"], how="inner")
    r = r.merge(fed, on=PROCESS_KEYS, how="left").merge(out, on=KEYS, how="left")
    parts = r[["own_direct", "own_indirect", "precursors", "materials", "inbound_transport"]]
    total = parts.sum(axis=1, min_count=5).where(parts.notna().all(axis=1))
    score = safe_div(r["dq_weighted"], total)
    gap = r["gap_flag"] > 0
    return pd.DataFrame(
        {
            "product_id": r["product_id"], "installation_id": r["installation_id"], "process_id": r["process_id"],
            "period": r["period"], "period_grain": r["period_grain"], "activity_level_t": r["activity_level_t"],
            "own_direct_tco2e_per_t": r["own_direct"], "own_indirect_tco2e_per_t": r["own_indirect"],
            "precursors_tco2e_per_t": r["precursors"], "purchased_materials_tco2e_per_t": r["materials"],
            "inbound_transport_tco2e_per_t": r["inbound_transport"], "cradle_to_gate_tco2e_per_t": total,
            "cradle_to_gate_kgco2e_per_piece": total * r["unit_mass_t"] * 1000.0,
            "outbound_transport_tco2e_per_t": r["outbound_transport_tco2e_per_t"],
            "outbound_shipped_t": r["outbound_shipped_t"],
            "cradle_to_customer_tco2e_per_t": total + r["outbound_transport_tco2e_per_t"],
            "biogenic_co2_tco2e_per_t": r["biogenic"], "precursor_default_tco2e_per_t": r["precursor_default"],
            "electricity_factor_kgco2e_per_kwh": r["electricity_factor_kgco2e_per_kwh"],
            "primary_data_share": safe_div(r["primary"], total),
            "data_quality_score": score.where(~gap, np.fmax(score, GAP_SCORE_FLOOR)),
            "has_gap": gap,
            "gap_materials": [",".join(sorted(s)) if g else None for s, g in zip(r["gap_list"], gap, strict=True)],
            "internal_inputs": r["internal_inputs"].fillna(False).astype(bool),
        }
    ).sort_values(KEYS, ignore_index=True)  # fmt: skip


def compute_footprint_pandas(
    raw: dict[str, pd.DataFrame],
    process_see: pd.DataFrame,
    precursor_inputs: pd.DataFrame,
    shipment_allocations: pd.DataFrame,
    stream_emissions: pd.DataFrame,
    china_grid_factors: pd.DataFrame,
) -> pd.DataFrame:
    """product_footprint's numbers (NUMBERS, FLAGS) per product × period, both grains."""
    ps = process_see
    if "own_electricity_mwh_per_t" not in ps.columns:
        ps = ps.assign(own_electricity_mwh_per_t=np.nan)
    ps = ps[ps["period_grain"].isin(("year", "month"))][
        [*PROCESS_KEYS, "activity_level_t", "own_see_direct", "own_see_indirect", "own_electricity_mwh_per_t"]
    ]
    purchased, internal = precursor_split(precursor_inputs, raw, ps)
    bio = stream_emissions.groupby(PROCESS_KEYS)["biomass_tco2e"].sum().rename("biogenic_t").reset_index()
    mats = materials(raw, ps).rename(columns={"primary_t": "mat_primary_t", "dq_weighted_t": "mat_dq_t"})
    inb = inbound(shipment_allocations, raw, ps).rename(
        columns={"primary_t": "in_primary_t", "dq_weighted_t": "in_dq_t"}
    )
    b = (
        base_table(ps, china_grid_factors)
        .merge(precursors(purchased), on=PROCESS_KEYS, how="left")
        .merge(mats, on=PROCESS_KEYS, how="left")
        .merge(inb, on=PROCESS_KEYS, how="left")
        .merge(bio, on=PROCESS_KEYS, how="left")
    )
    a = internal_matrix(internal, raw, ps)
    return to_products(propagate(per_tonne(b), a), a, raw["products"], outbound(shipment_allocations))


INPUTS = ("process_see", "precursor_inputs", "shipment_allocations", "stream_emissions", "china_grid_factors")


def inputs_as_pandas(frames: dict) -> dict[str, pd.DataFrame]:
    """The engine's inputs (polars frames, INPUTS) as the references take them: pandas, without list columns
    (row lineage, which neither reference reads)."""
    out = {}
    for name in INPUTS:
        f = frames[name]
        keep = [c for c, t in f.schema.items() if not isinstance(t, pl.List)]
        out[name] = f.select(keep).to_pandas()
    return out


def same_numbers(engine: pd.DataFrame, ref: pd.DataFrame, rel: float = 1e-9) -> bool:
    """Same product × period rows, NUMBERS equal to `rel` relative (nulls where the other has nulls), FLAGS equal."""
    m = engine[KEYS + NUMBERS + FLAGS].merge(
        ref[KEYS + NUMBERS + FLAGS], on=KEYS, how="outer", indicator=True
    )
    if len(m) != len(engine) or len(m) != len(ref) or not (m["_merge"] == "both").all():
        return False
    for c in NUMBERS:
        a, b = m[f"{c}_x"].astype(float), m[f"{c}_y"].astype(float)
        close = (a - b).abs() <= rel * np.fmax(a.abs(), b.abs()) + 1e-12
        if not (close | (a.isna() & b.isna())).all():
            return False
    return all(
        ((m[f"{c}_x"] == m[f"{c}_y"]) | (m[f"{c}_x"].isna() & m[f"{c}_y"].isna())).all() for c in FLAGS
    )
