"""A plain pandas implementation of the CBAM calculation, kept only as the benchmark's baseline.

It follows the engine's core path (docs/computed/cbam.md) the way an analyst would write it in pandas:
source-stream emissions from readings and carrier-linked bills (unit conversions, laboratory values), DirEm*
per process and Eq 55 terms, electricity indirect emissions (bill factor or the country's default, unassigned
consumption allocated by activity level), purchased precursors (supplier SEE, else the DVR default value with
the mark-up), internal flows through the (I − A) solve, SEE per process and good, and export-line embedded
emissions. Every dated row is split into calendar months pro rata to days; a year is the sum of its months.

Validation (the engine's errors) and lineage columns are left out: this only has to give the same numbers on
the demo data (tests/bench/test_pandas_baseline.py) and be timed against the polars engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from transforms import units
from transforms.reference import default_values, seeds
from transforms.reference.countries import countries, to_iso2
from transforms.reference.goods import ANNEX_II_CATEGORIES, to_category
from transforms.units import factor_with_note, per_dimension

DATASETS = (
    "installations",
    "processes",
    "source_streams",
    "stream_readings",
    "energy_bills",
    "production",
    "process_flows",
    "materials",
    "suppliers",
    "supplier_invoices",
    "supplier_emissions",
    "precursor_consumption",
    "products",
    "exports",
)
DATE_COLUMNS = ("period_start", "period_end", "invoice_date", "declaration_date")
GWP_GASES = {"co2": "CO2", "n2o": "N2O", "cf4": "CF4", "c2f6": "C2F6", "co2e": "CO2e"}
FIRST_MARKUP_YEAR, LAST_MARKUP_STEP = default_values.FIRST_MARKUP_YEAR, default_values.LAST_MARKUP_STEP
OTHER, ANNEX_IV = default_values.OTHER_KEY, default_values.ANNEX_IV_KEY


# --- loading ----------------------------------------------------------------------------------------------------


def load_raw(home_root: Path, names: Iterable[str] = DATASETS) -> dict[str, pd.DataFrame]:
    """The raw lake tables of a home (`<home>/lake/raw/<dataset>/current/`, Parquet parts) as pandas frames."""
    return {name: read_table(home_root / "lake" / "raw" / name / "current") for name in names}


def read_table(path: Path) -> pd.DataFrame:
    return with_dates(pd.read_parquet(path))


def with_dates(df: pd.DataFrame) -> pd.DataFrame:
    """Date columns (datetime.date objects from parquet) as datetime64."""
    for c in DATE_COLUMNS:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    return df


# --- reference data ---------------------------------------------------------------------------------------------


@dataclass
class PandasReference:
    """The committed CBAM reference tables (transforms/reference/) as pandas frames and dicts."""

    default_values: pd.DataFrame
    listed_countries: set[str]
    markups: dict[tuple[str, str], float]
    cn_goods: pd.DataFrame
    grid: dict[str, float]
    grid_other: float
    gwp: dict[str, float]
    constants: dict[str, float]
    exempt_origins: set[str] = field(default_factory=set)

    @classmethod
    def from_seeds(cls) -> PandasReference:
        dv = seeds.default_values().to_pandas()
        dv = dv[
            (dv["value_status"] != "see_below")
            & ~dv["status_reason"].fillna("").str.startswith("not_cbam_good")
        ]
        dv = dv.assign(
            tbl=np.select(
                [dv["table_kind"] == "country", dv["table_kind"] == "other"],
                [dv["country_iso2"], OTHER],
                ANNEX_IV,
            )
        )
        variants = dv["route_key"].notna().groupby([dv["tbl"], dv["cn_code"]]).transform("any")
        # a request without a route takes the only row, or the grey (route A) one of a grey/white pair
        dv = dv[~variants | (dv["route_key"] == "A")].drop_duplicates(["tbl", "cn_code"])
        mk = seeds.markups().to_pandas()
        cn = seeds.cn_goods().to_pandas()
        grid = seeds.grid_factor_cbam().to_pandas()
        ctry = countries().to_pandas()
        return cls(
            default_values=dv,
            listed_countries=set(dv.loc[dv["table_kind"] == "country", "country_iso2"]),
            markups={(r.sector, r.year_label): r.markup_fraction for r in mk.itertuples()},
            cn_goods=cn,
            grid=dict(
                zip(
                    grid.loc[grid["table_kind"] == "country", "iso2"],
                    grid.loc[grid["table_kind"] == "country", "value_tco2_per_mwh"],
                    strict=True,
                )
            ),
            grid_other=float(grid.loc[grid["table_kind"] == "other", "value_tco2_per_mwh"].iloc[0]),
            gwp=seeds.gwp(),
            constants={
                n: seeds.constant(n)
                for n in ("f_co2_per_c", "ef_natural_gas_tco2_per_tj", "corr_eta_waste_gas")
            },
            exempt_origins=set(ctry.loc[ctry["is_eu_member"] | ctry["cbam_exempt_origin"], "iso2"]),
        )

    # CN scope ------------------------------------------------------------------------------------------------

    def annex_ii_of(self, cn_codes: pd.Series) -> pd.Series:
        """Annex II flag (direct emissions only) of each CN code by its longest cbam_cn_goods prefix; NaN when
        no heading matches."""
        digits = _cn_digits(cn_codes)
        goods = self.cn_goods.set_index("cn_prefix")
        out = pd.Series(np.nan, index=cn_codes.index, dtype=object)
        for n in (8, 6, 4):
            prefix = digits.where(digits.str.len() >= n).str[:n]
            out = out.fillna(prefix.map(goods.loc[goods["prefix_digits"] == n, "annex_ii_direct_only"]))
        return out

    # default values ------------------------------------------------------------------------------------------

    def lookup_default_values(self, keys: pd.DataFrame) -> pd.DataFrame:
        """For distinct (cn_code, country, year) rows: dv_direct/total marked up, dv_markup, dv_used_table."""
        k = keys[["cn_code", "country", "year"]].drop_duplicates().reset_index(drop=True)
        k["iso2"] = k["country"].map(lambda c: to_iso2(c) if isinstance(c, str) else None)
        k["digits"] = _cn_digits(k["cn_code"])
        dv = self.default_values.reset_index(drop=True)
        own = self._longest_prefix(k["iso2"], k["digits"])
        own_status = own.map(dv["value_status"])
        reason = np.select(
            [
                k["iso2"].isna(),
                ~k["iso2"].isin(self.listed_countries),
                own.isna(),
                own_status == "value",
            ],
            ["country_unknown", "country_not_listed", "cn_not_in_country_table", ""],
            own_status.fillna(""),
        )
        other = self._longest_prefix(pd.Series(OTHER, index=k.index), k["digits"])
        annex = self._longest_prefix(pd.Series(ANNEX_IV, index=k.index), k["digits"])
        row = own.where(reason == "", other.where(reason != "country_unknown", annex))
        hit = dv.reindex(row.fillna(-1).astype(int).to_numpy()).reset_index(drop=True)
        found = hit["value_status"] == "value"
        year = k["year"].astype(float)
        label = np.where(year >= LAST_MARKUP_STEP, "2028+", year.fillna(0).astype(int).astype(str))
        markup = pd.Series(
            [self.markups.get((s, lab)) for s, lab in zip(hit["sector"], label, strict=True)], dtype=float
        )
        markup = markup.where(year >= FIRST_MARKUP_YEAR, 0.0).where(found & year.notna())
        direct = hit["direct"].where(found)
        total = hit["total"].where(found)
        k["dv_direct_marked_up"] = direct * (1 + markup)
        k["dv_total_marked_up"] = total * (1 + markup)
        k["dv_markup"] = markup
        k["dv_used_table"] = hit["table_kind"].where(found)
        return k.drop(columns=["iso2", "digits"])

    def _longest_prefix(self, table: pd.Series, digits: pd.Series) -> pd.Series:
        """Row number in default_values of the longest CN prefix of `digits` in `table` (ISO2 or a key)."""
        dv = self.default_values.reset_index(drop=True)
        index = pd.Series(dv.index, index=pd.MultiIndex.from_arrays([dv["tbl"], dv["cn_code"]]))
        out = pd.Series(np.nan, index=digits.index)
        for n in (8, 6, 4):
            prefix = digits.where(digits.str.len() >= n).str[:n]
            wanted = pd.MultiIndex.from_arrays([table, prefix])
            out = out.fillna(pd.Series(index.reindex(wanted).values, index=digits.index))
        return out

    def grid_factor(self, country: pd.Series) -> pd.Series:
        return (
            country.map(lambda c: to_iso2(c) if isinstance(c, str) else None)
            .map(self.grid)
            .fillna(self.grid_other)
        )


def _cn_digits(cn: pd.Series) -> pd.Series:
    """Digits of a CN code; NaN unless 4, 6 or 8 digits."""
    digits = cn.astype(str).str.replace(r"\D", "", regex=True)
    return digits.where(digits.str.len().isin([4, 6, 8]) & cn.notna())


def _unit_factor(unit: pd.Series, target: str) -> pd.Series:
    """Multiplier from each row's unit to `target` (same dimension), NaN when not convertible."""

    def one(u: object) -> float:
        if not isinstance(u, str) or units.lookup(u) is None:
            return np.nan
        try:
            return units.factor(u, target)
        except ValueError:
            return np.nan

    return unit.map({u: one(u) for u in unit.dropna().unique()})


# --- periods ----------------------------------------------------------------------------------------------------


def month_parts(df: pd.DataFrame, start: str = "period_start", end: str = "period_end") -> pd.DataFrame:
    """One row per input row and calendar month it overlaps: `month` ('YYYY-MM') and the `fraction` of its
    days that fall in that month."""
    if df.empty:
        return df.assign(month=pd.Series(dtype=str), fraction=pd.Series(dtype=float))
    df = df.copy()
    df["_s"] = df[start]
    df["_e"] = df[end].fillna(df[start])
    df["_m"] = df.apply(
        lambda r: list(pd.date_range(r["_s"].to_period("M").to_timestamp(), r["_e"], freq="MS")), axis=1
    )
    df = df.explode("_m")
    df["_m"] = pd.to_datetime(df["_m"])
    month_end = df["_m"] + pd.offsets.MonthEnd(0)
    overlap = (np.minimum(df["_e"], month_end) - np.maximum(df["_s"], df["_m"])).dt.days + 1
    days = (df["_e"] - df["_s"]).dt.days + 1
    df["month"] = df["_m"].dt.strftime("%Y-%m")
    df["fraction"] = overlap.astype(float) / days.astype(float)
    return df.drop(columns=["_s", "_e", "_m"]).reset_index(drop=True)


def with_years(monthly: pd.DataFrame, keys: list[str], sums: list[str]) -> pd.DataFrame:
    """Month rows (`period` YYYY-MM, grain month) plus their yearly sums (grain year)."""
    months = monthly[[*keys, "period", *sums]].assign(period_grain="month")
    years = (
        monthly.assign(period=monthly["period"].str[:4])
        .groupby([*keys, "period"], as_index=False, dropna=False)[sums]
        .sum(min_count=1)
        .assign(period_grain="year")
    )
    return pd.concat([years, months], ignore_index=True)


# --- source streams ---------------------------------------------------------------------------------------------


def stream_plan(streams: pd.DataFrame) -> pd.DataFrame:
    """The monitoring plan with its units resolved: NCV to TJ per activity unit, EF per energy or per unit."""
    plan = streams.copy()
    plan["method"] = plan["method"].str.strip().str.lower().str.replace(r"[\s-]+", "_", regex=True)
    plan["gas"] = plan["gas"].fillna("co2").str.strip().str.lower().map(GWP_GASES)
    plan["carrier_key"] = plan["energy_carrier"].str.strip().str.lower()

    def resolve(r: pd.Series) -> pd.Series:
        unit = r["unit"]
        ref_c = None if pd.isna(r["gas_reference_c"]) else r["gas_reference_c"]
        ncv_unit = r["ncv_unit"] if isinstance(r["ncv_unit"], str) else f"GJ/{unit}"
        ef_unit = r["ef_unit"]
        if not isinstance(ef_unit, str):
            with_ncv = r["method"] == "combustion" and pd.notna(r["ncv"])
            ef_unit = "tCO2/TJ" if with_ncv else f"tCO2/{unit}"
        basis = "energy" if per_dimension(ef_unit) == "energy" else "activity"
        ef_target = "tCO2/TJ" if basis == "energy" else f"tCO2/{unit}"
        return pd.Series(
            {
                "ncv_factor": factor_with_note(ncv_unit, f"TJ/{unit}", ref_c)[0],
                "ef_factor": factor_with_note(ef_unit, ef_target, ref_c)[0],
                "ef_basis": basis,
            }
        )

    return pd.concat([plan, plan.apply(resolve, axis=1)], axis=1)


def stream_emissions_monthly(raw: dict[str, pd.DataFrame], ref: PandasReference) -> pd.DataFrame:
    """Fossil tCO2e per installation × stream × process × month (readings, else the carrier's bills)."""
    plan = stream_plan(raw["source_streams"])
    keys = ["installation_id", "stream_id"]
    readings = month_parts(raw["stream_readings"])
    readings["w"] = (readings["quantity"].fillna(0.0) * readings["fraction"]).abs()

    # laboratory values: a reading's own, else the activity-weighted mean of the month's analyses
    lab = readings[[*keys, "month"]].drop_duplicates()
    for c in ("ncv", "carbon_content", "ef"):
        has = readings[readings[c].notna()].assign(wv=lambda d, c=c: d["w"] * d[c])
        g = has.groupby([*keys, "month"], as_index=False).agg(
            w=("w", "sum"), wv=("wv", "sum"), mean=(c, "mean")
        )
        g[f"lab_{c}_month"] = np.where(g["w"] > 0, g["wv"] / g["w"], g["mean"])
        lab = lab.merge(g[[*keys, "month", f"lab_{c}_month"]], on=[*keys, "month"], how="left")

    bills = month_parts(raw["energy_bills"])
    bills["carrier_key"] = bills["carrier"].str.strip().str.lower()
    linked = plan.loc[plan["carrier_key"].notna(), ["installation_id", "stream_id", "carrier_key"]]
    bills = bills.merge(linked, on=["installation_id", "carrier_key"])
    read_months = readings[[*keys, "month"]].drop_duplicates().assign(_read=True)
    bills = bills.merge(read_months, on=[*keys, "month"], how="left")
    bills = bills[bills["_read"].isna()]  # readings win in the months they cover

    cols = [*keys, "process_id", "month", "fraction", "quantity", "unit"]
    parts = pd.concat(
        [
            readings[[*cols, "ncv", "carbon_content", "ef", "emissions_t"]],
            bills[cols].assign(ncv=np.nan, carbon_content=np.nan, ef=np.nan, emissions_t=np.nan),
        ],
        ignore_index=True,
    )
    parts = parts.merge(lab, on=[*keys, "month"], how="left")
    p = plan[
        [
            *keys,
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
        ]
    ].rename(
        columns={
            "unit": "activity_unit",
            "ncv": "plan_ncv",
            "ef": "plan_ef",
            "carbon_content": "plan_cc",
        }
    )
    parts = parts.merge(p, on=keys)

    pairs = parts[["unit", "activity_unit", "gas_reference_c"]].drop_duplicates()
    pairs["ad_factor"] = [
        factor_with_note(u, a, None if pd.isna(t) else t)[0]
        for u, a, t in zip(pairs["unit"], pairs["activity_unit"], pairs["gas_reference_c"], strict=True)
    ]
    parts = parts.merge(pairs, on=["unit", "activity_unit", "gas_reference_c"], how="left")

    parts["process_id"] = parts["process_id"].fillna(parts["default_process_id"])
    ad = parts["quantity"] * parts["fraction"] * parts["ad_factor"]
    ncv = parts["ncv"].fillna(parts["lab_ncv_month"]).fillna(parts["plan_ncv"]) * parts["ncv_factor"]
    ef = parts["ef"].fillna(parts["lab_ef_month"]).fillna(parts["plan_ef"]) * parts["ef_factor"]
    cc = parts["carbon_content"].fillna(parts["lab_carbon_content_month"]).fillna(parts["plan_cc"])
    energy = ad * ncv
    by_basis = np.where(parts["ef_basis"] == "energy", energy * ef, ad * ef)
    method = parts["method"]
    mass_balance = np.where(cc.notna(), ref.constants["f_co2_per_c"] * ad * cc, by_basis)
    gas_t = np.select(
        [method == "combustion", method == "process", method == "mass_balance"],
        [
            by_basis * parts["oxidation_factor"].fillna(1.0),
            by_basis * parts["conversion_factor"].fillna(1.0),
            mass_balance,
        ],
        parts["emissions_t"] * parts["fraction"],
    )
    tco2e = gas_t * parts["gas"].map(ref.gwp)
    parts["fossil_tco2e"] = tco2e * (1.0 - parts["biomass_fraction"].fillna(0.0))
    parts = parts[parts["fossil_tco2e"].notna()]
    return parts.groupby([*keys, "process_id", "month"], as_index=False, dropna=False)["fossil_tco2e"].sum()


# --- attribution (Eq 55) ----------------------------------------------------------------------------------------


FLOW_TERMS = ["heat_term_tco2e", "waste_gas_term_tco2e", "el_prod_tco2e"]
PROC = ["installation_id", "process_id"]
GROUP = ["installation_id", "period", "period_grain"]
KEYS = [*GROUP, "process_id"]


def process_attribution(
    raw: dict[str, pd.DataFrame], streams: pd.DataFrame, ref: PandasReference
) -> pd.DataFrame:
    """Activity level and attributed direct emissions per process and period (month and year)."""
    prod = month_parts(raw["production"])
    prod["is_total"] = prod["product_id"].isna()
    has_total = prod.groupby([*PROC, "month"])["is_total"].transform("any")
    prod = prod[prod["is_total"] == has_total]  # the process's total row, else its product rows
    f = prod["fraction"]
    ef_ng = ref.constants["ef_natural_gas_tco2_per_tj"]
    corr = ref.constants["corr_eta_waste_gas"]
    prod = prod.assign(
        activity_level_t=prod["produced_t"] * f,
        dirEm_plant_tco2e=prod["direct_emissions_t"] * f,
        heat_term_tco2e=(prod["heat_imported_tj"] * f * prod["heat_imported_ef"]).fillna(0.0)
        - (prod["heat_exported_tj"] * f * prod["heat_exported_ef"]).fillna(0.0),
        waste_gas_term_tco2e=(prod["waste_gas_imported_tj"] * f * ef_ng).fillna(0.0)
        - (prod["waste_gas_exported_tj"] * f * ef_ng * corr).fillna(0.0),
        el_prod_tco2e=(prod["electricity_exported_mwh"] * f * prod["electricity_exported_ef"]).fillna(0.0),
    )
    prod_m = prod.groupby([*PROC, "month"], as_index=False).agg(
        activity_level_t=("activity_level_t", "sum"),
        dirEm_plant_tco2e=("dirEm_plant_tco2e", lambda s: s.sum(min_count=1)),
        heat_term_tco2e=("heat_term_tco2e", "sum"),
        waste_gas_term_tco2e=("waste_gas_term_tco2e", "sum"),
        el_prod_tco2e=("el_prod_tco2e", "sum"),
    )
    st = (
        streams[streams["process_id"].notna()]
        .groupby([*PROC, "month"], as_index=False)["fossil_tco2e"]
        .sum()
        .rename(columns={"fossil_tco2e": "dirEm_streams_tco2e"})
    )
    monthly = prod_m.merge(st, on=[*PROC, "month"], how="outer").rename(columns={"month": "period"})
    zero = ["activity_level_t", "dirEm_streams_tco2e", *FLOW_TERMS]
    monthly[zero] = monthly[zero].fillna(0.0)
    monthly["dirEm_tco2e"] = monthly["dirEm_plant_tco2e"].fillna(monthly["dirEm_streams_tco2e"])
    both = with_years(monthly, PROC, ["activity_level_t", "dirEm_tco2e", *FLOW_TERMS])
    raw_attr = (
        both["dirEm_tco2e"] + both["heat_term_tco2e"] + both["waste_gas_term_tco2e"] - both["el_prod_tco2e"]
    )
    both["attributed_direct_tco2e"] = raw_attr.clip(lower=0.0)
    return both[[*KEYS, "activity_level_t", "attributed_direct_tco2e"]]


# --- electricity (Eq 56) ----------------------------------------------------------------------------------------


def process_electricity(
    raw: dict[str, pd.DataFrame], activity: pd.DataFrame, ref: PandasReference
) -> pd.DataFrame:
    """MWh and indirect tCO2e per process and period: sub-metered bills plus the process's share (by activity
    level) of consumption metered for the whole installation."""
    bills = raw["energy_bills"]
    el = month_parts(bills[bills["carrier"].str.strip().str.lower() == "electricity"])
    country = raw["installations"].drop_duplicates("installation_id").set_index("installation_id")["country"]
    grid_ef = ref.grid_factor(el["installation_id"].map(country))
    from_bill = el["ef_tco2_per_mwh"].notna()
    el["electricity_mwh"] = el["quantity"] * el["fraction"] * _unit_factor(el["unit"], "MWh")
    el["ef"] = el["ef_tco2_per_mwh"].where(from_bill, grid_ef)
    el["ef_source"] = np.where(from_bill, el["ef_source"].fillna("unspecified"), "D.4(a)")
    el["indirect_tco2e"] = el["electricity_mwh"] * el["ef"]
    keys = ["installation_id", "process_id", "ef_source"]
    monthly = el.groupby([*keys, "month"], as_index=False, dropna=False)[
        ["electricity_mwh", "indirect_tco2e"]
    ].sum()
    lines = with_years(
        monthly.rename(columns={"month": "period"}), keys, ["electricity_mwh", "indirect_tco2e"]
    )

    al = activity[activity["activity_level_t"] > 0].copy()
    al["share"] = al["activity_level_t"] / al.groupby(GROUP)["activity_level_t"].transform("sum")
    metered = lines[lines["process_id"].notna()]
    unassigned = lines[lines["process_id"].isna()].drop(columns="process_id")
    allocated = unassigned.merge(al[[*KEYS, "share"]], on=GROUP)
    allocated["electricity_mwh"] = allocated["electricity_mwh"] * allocated["share"]
    allocated["indirect_tco2e"] = allocated["indirect_tco2e"] * allocated["share"]
    return (
        pd.concat([metered, allocated], ignore_index=True)
        .groupby(KEYS, as_index=False)[["electricity_mwh", "indirect_tco2e"]]
        .sum()
        .rename(columns={"indirect_tco2e": "attributed_indirect_tco2e"})
    )


# --- purchased precursors ---------------------------------------------------------------------------------------


def purchased_precursors(raw: dict[str, pd.DataFrame], ref: PandasReference) -> pd.DataFrame:
    """Per process and period: precursor mass and the emissions and electricity embedded in it."""
    mats = raw["materials"]
    mats = mats[mats["kind"].str.strip().str.lower() == "precursor"][
        ["material_id", "cn_code", "goods_category", "consumed_in_process_id", "unit_mass_t"]
    ].rename(columns={"cn_code": "material_cn_code", "goods_category": "material_goods_category"})
    sup = raw["suppliers"][["supplier_id", "country", "installation_id"]].rename(
        columns={"country": "supplier_country", "installation_id": "sup_inst"}
    )

    inv = raw["supplier_invoices"].merge(mats, on="material_id").merge(sup, on="supplier_id", how="left")
    inv["mass_t"] = np.where(
        inv["unit"] == "pcs",
        inv["quantity"] * inv["unit_mass_t"],
        inv["quantity"] * _unit_factor(inv["unit"], "t"),
    )
    inv["supplier_installation_id"] = inv["supplier_installation_id"].fillna(inv["sup_inst"])
    inv["origin_country"] = inv["country_of_origin"].fillna(inv["supplier_country"])
    inv["cn_code"] = inv["cn_code"].fillna(inv["material_cn_code"])
    inv["process_id"] = inv["consumed_in_process_id"]
    inv["applies_on"] = inv["invoice_date"]
    inv["month"] = inv["invoice_date"].dt.strftime("%Y-%m")  # invoices are points in time: one month
    inv["year"] = inv["month"].str[:4]

    cons = month_parts(raw["precursor_consumption"]).merge(mats, on="material_id")
    cons["year"] = cons["month"].str[:4]
    replaced = cons[["installation_id", "material_id", "month"]].drop_duplicates().assign(_replaced=True)
    from_invoices = inv.merge(replaced, on=["installation_id", "material_id", "month"], how="left")
    from_invoices = from_invoices[from_invoices["_replaced"].isna()].assign(quantity_source="invoice")

    # consumption rows take the supplier / origin mix of the same year's invoices of the material
    mix_keys = ["installation_id", "material_id", "year"]
    mix = inv.groupby(
        [*mix_keys, "cn_code", "supplier_id", "supplier_installation_id", "origin_country"],
        as_index=False,
        dropna=False,
    )["mass_t"].sum()
    mix = mix[mix["mass_t"] > 0]
    mix["share"] = mix["mass_t"] / mix.groupby(mix_keys)["mass_t"].transform("sum")
    cons = cons.merge(mix.drop(columns="mass_t"), on=mix_keys, how="left")
    cons["mass_t"] = cons["mass_t"] * cons["fraction"] * cons["share"].fillna(1.0)
    cons["cn_code"] = cons["cn_code"].fillna(cons["material_cn_code"])
    cons["applies_on"] = cons["period_start"]
    cons["quantity_source"] = "precursor_consumption"

    cols = [
        "installation_id",
        "process_id",
        "material_id",
        "month",
        "mass_t",
        "cn_code",
        "supplier_installation_id",
        "origin_country",
        "applies_on",
        "material_goods_category",
    ]
    parts = pd.concat([from_invoices[cols], cons[cols]], ignore_index=True)
    parts = parts.merge(supplier_match(parts, raw["supplier_emissions"]), on=MATCH_KEYS, how="left")

    origin = np.select(
        [
            parts["origin_country"].isin(ref.exempt_origins),
            parts["se_row_id"].notna() & (parts["determination"].str.lower() == "default"),
            parts["se_row_id"].notna(),
        ],
        ["exempt_origin", "supplier_default", "supplier_actual"],
        "default_value",
    )
    parts["see_origin"] = origin
    parts["year"] = parts["month"].str[:4].astype(int)
    need_dv = parts["see_origin"] == "default_value"
    dv_keys = parts.loc[need_dv, ["cn_code", "origin_country", "year"]].rename(
        columns={"origin_country": "country"}
    )
    dv = ref.lookup_default_values(dv_keys).rename(columns={"country": "origin_country"})
    parts = parts.merge(dv, on=["cn_code", "origin_country", "year"], how="left")
    parts.loc[~need_dv, ["dv_direct_marked_up", "dv_total_marked_up"]] = np.nan

    supplier = parts["see_origin"].isin(["supplier_actual", "supplier_default"])
    exempt = parts["see_origin"] == "exempt_origin"
    dv_direct = parts["dv_direct_marked_up"].fillna(parts["dv_total_marked_up"])
    dv_indirect = (parts["dv_total_marked_up"] - dv_direct).clip(lower=0.0)
    ee_supplier = parts["embedded_electricity_mwh_per_t"].fillna(
        (parts["see_indirect"] / parts["electricity_ef_tco2_per_mwh"]).where(
            parts["electricity_ef_tco2_per_mwh"] > 0
        )
    )
    see_direct = np.where(exempt, 0.0, np.where(supplier, parts["see_direct"], dv_direct))
    see_indirect = np.where(exempt, 0.0, np.where(supplier, parts["see_indirect"].fillna(0.0), dv_indirect))
    parts["embedded_electricity_mwh_per_t"] = np.where(supplier, ee_supplier.fillna(0.0), 0.0)
    annex = ref.annex_ii_of(parts["cn_code"])
    category_annex = parts["material_goods_category"].map(
        lambda c: to_category(c) in ANNEX_II_CATEGORIES if isinstance(c, str) else False
    )
    annex_ii = annex.fillna(category_annex).astype(bool)

    w = parts["mass_t"]
    parts["embedded_direct_tco2e"] = w * see_direct
    parts["embedded_indirect_tco2e"] = w * see_indirect
    parts["embedded_electricity_mwh"] = w * parts["embedded_electricity_mwh_per_t"]
    is_default = parts["see_origin"].isin(["supplier_default", "default_value"])
    parts["default_direct_tco2e"] = parts["embedded_direct_tco2e"].where(is_default, 0.0)
    parts["embedded_indirect_non_annex_ii_tco2e"] = parts["embedded_indirect_tco2e"].where(~annex_ii, 0.0)
    if parts["embedded_direct_tco2e"].isna().any():
        raise ValueError("purchased precursor without SEE: no supplier value and no default value")

    sums = [
        "mass_t",
        "embedded_direct_tco2e",
        "embedded_indirect_tco2e",
        "embedded_indirect_non_annex_ii_tco2e",
        "default_direct_tco2e",
        "embedded_electricity_mwh",
    ]
    monthly = (
        parts[parts["process_id"].notna()]
        .groupby([*PROC, "month"], as_index=False)[sums]
        .sum()
        .rename(columns={"month": "period"})
    )
    return with_years(monthly, PROC, sums)


MATCH_KEYS = ["supplier_installation_id", "material_id", "cn_code", "applies_on"]


def supplier_match(parts: pd.DataFrame, supplier_em: pd.DataFrame) -> pd.DataFrame:
    """The supplier_emissions row applying to each (supplier installation, material, CN code, date): same
    material or CN code, date within its period (one year without an end), latest period_start."""
    wanted = parts[MATCH_KEYS].drop_duplicates()
    wanted = wanted[wanted["supplier_installation_id"].notna()]
    se = supplier_em.rename(
        columns={
            "cn_code": "se_cn_code",
            "material_id": "se_material_id",
            "period_start": "se_start",
            "_source_row_id": "se_row_id",
        }
    )
    se["se_end"] = se["period_end"].fillna(se["se_start"] + pd.DateOffset(years=1) - pd.Timedelta(days=1))
    cand = wanted.merge(se, on="supplier_installation_id")
    cand = cand[
        (cand["se_material_id"].isna() | (cand["se_material_id"] == cand["material_id"]))
        & (cand["se_cn_code"].isna() | (cand["se_cn_code"] == cand["cn_code"]))
        & (cand["se_material_id"].notna() | cand["se_cn_code"].notna())
        & cand["applies_on"].between(cand["se_start"], cand["se_end"])
    ]
    best = cand.sort_values(["se_start", "se_row_id"]).drop_duplicates(MATCH_KEYS, keep="last")
    return best[
        [
            *MATCH_KEYS,
            "se_row_id",
            "see_direct",
            "see_indirect",
            "embedded_electricity_mwh_per_t",
            "electricity_ef_tco2_per_mwh",
            "determination",
        ]
    ]


# --- internal flows and the input-output solve ------------------------------------------------------------------


def internal_flows(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    flows = month_parts(raw["process_flows"])
    flows["mass_t"] = flows["mass_t"] * flows["fraction"]
    keys = ["installation_id", "from_process_id", "to_process_id"]
    monthly = (
        flows.groupby([*keys, "month"], as_index=False)["mass_t"].sum().rename(columns={"month": "period"})
    )
    return with_years(monthly, keys, ["mass_t"])


RHS = [
    "see_direct",
    "see_indirect",
    "see_indirect_non_annex_ii",
    "default_direct_per_t",
    "embedded_electricity_mwh_per_t",
]


def process_see(
    attribution: pd.DataFrame,
    electricity: pd.DataFrame,
    purchased: pd.DataFrame,
    flows: pd.DataFrame,
    processes: pd.DataFrame,
) -> pd.DataFrame:
    """SEE per process and period: b = own emissions per t + purchased precursors per t, SEE = (I − A)⁻¹ b."""
    flow_procs = pd.concat(
        [
            flows[[*GROUP, "from_process_id"]].rename(columns={"from_process_id": "process_id"}),
            flows[[*GROUP, "to_process_id"]].rename(columns={"to_process_id": "process_id"}),
        ]
    ).drop_duplicates()
    outflow = (
        flows.groupby([*GROUP, "from_process_id"], as_index=False)["mass_t"]
        .sum()
        .rename(columns={"from_process_id": "process_id", "mass_t": "internal_output_t"})
    )
    ext = purchased.rename(
        columns={
            "mass_t": "purchased_precursor_t",
            "embedded_direct_tco2e": "ext_direct",
            "embedded_indirect_tco2e": "ext_indirect",
            "embedded_indirect_non_annex_ii_tco2e": "ext_indirect_na2",
            "default_direct_tco2e": "ext_default_direct",
            "embedded_electricity_mwh": "ext_electricity_mwh",
        }
    )
    table = (
        attribution.merge(electricity, on=KEYS, how="outer")
        .merge(ext, on=KEYS, how="outer")
        .merge(flow_procs, on=KEYS, how="outer")
        .merge(outflow, on=KEYS, how="left")
        .merge(
            processes[["installation_id", "process_id", "goods_category"]].drop_duplicates(PROC),
            on=PROC,
            how="left",
        )
    )
    numbers = [c for c in table.columns if c not in KEYS and c != "goods_category"]
    table[numbers] = table[numbers].fillna(0.0)
    al = table["activity_level_t"]
    per_t = table[numbers].div(al.where(al > 0), axis=0)
    own_annex_ii = table["goods_category"].isin(ANNEX_II_CATEGORIES)
    table["b_see_direct"] = per_t["attributed_direct_tco2e"] + per_t["ext_direct"]
    table["b_see_indirect"] = per_t["attributed_indirect_tco2e"] + per_t["ext_indirect"]
    table["b_see_indirect_non_annex_ii"] = (
        per_t["attributed_indirect_tco2e"].where(~own_annex_ii, 0.0) + per_t["ext_indirect_na2"]
    )
    table["b_default_direct_per_t"] = per_t["ext_default_direct"]
    table["b_embedded_electricity_mwh_per_t"] = per_t["electricity_mwh"] + per_t["ext_electricity_mwh"]
    table["loaded"] = (
        (table["attributed_direct_tco2e"] > 0)
        | (table["attributed_indirect_tco2e"] > 0)
        | (table["purchased_precursor_t"] != 0)
        | (table["internal_output_t"] != 0)
    )
    return solve_see(table, flows)


def solve_see(table: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    """`table` (one row per process and period: activity_level_t, loaded, b_<RHS>) with see_status and the
    solved SEE columns: x = (I − A)⁻¹ b per installation and period, A from the internal flows."""
    flow_groups = dict(tuple(flows.groupby(GROUP)))

    def solve(g: pd.DataFrame) -> pd.DataFrame:
        g = g.reset_index(drop=True)
        f = flow_groups.get(tuple(g[GROUP].iloc[0]), flows.iloc[:0])
        idx = {p: i for i, p in enumerate(g["process_id"])}
        al = g["activity_level_t"].to_numpy()
        ok = al > 0
        status = np.where(ok, "ok", np.where(g["loaded"], "zero_production", "no_production")).astype(object)
        edges = [
            (idx[a], idx[b], m)
            for a, b, m in zip(f["from_process_id"], f["to_process_id"], f["mass_t"], strict=True)
        ]
        changed = True  # a process fed by one without production has no SEE either
        while changed:
            changed = False
            for a, b, m in edges:
                if m != 0 and not ok[a] and ok[b]:
                    ok[b], status[b], changed = False, "precursor_without_production", True
        sel = np.flatnonzero(ok)
        pos = {i: j for j, i in enumerate(sel)}
        a_mat = np.zeros((len(sel), len(sel)))
        for a, b, m in edges:
            if a in pos and b in pos:
                a_mat[pos[b], pos[a]] += m / al[b]
        x = np.full((len(g), len(RHS)), np.nan)
        if len(sel):
            rhs = g.loc[sel, [f"b_{c}" for c in RHS]].to_numpy()
            sol = np.linalg.solve(np.eye(len(sel)) - a_mat, rhs)
            if (sol < -1e-12 * max(1.0, np.abs(sol).max())).any():
                raise ValueError(f"negative embedded emissions in {tuple(g[GROUP].iloc[0])}")
            x[sel] = np.maximum(sol, 0.0)
        out = pd.DataFrame(x, columns=RHS)
        out.insert(0, "see_status", status)
        return pd.concat([g[KEYS], out], axis=1)

    solved = pd.concat([solve(g) for _, g in table.groupby(GROUP, sort=False)], ignore_index=True)
    return table.merge(solved, on=KEYS, how="left")


# --- goods and export lines -------------------------------------------------------------------------------------


def goods_see(products: pd.DataFrame, psee: pd.DataFrame, ref: PandasReference) -> pd.DataFrame:
    """Each product carries its process's SEE; chargeable = direct + indirect from non-Annex-II sources."""
    goods = products[["product_id", "cn_code", "installation_id", "process_id"]].merge(psee, on=PROC)
    goods["annex_ii_direct_only"] = (
        ref.annex_ii_of(goods["cn_code"])
        .fillna(goods["goods_category"].isin(ANNEX_II_CATEGORIES))
        .astype(bool)
    )
    goods["see_total"] = goods["see_direct"] + goods["see_indirect"]
    goods["see_chargeable"] = goods["see_direct"] + goods["see_indirect_non_annex_ii"]
    cols = ["see_status", "see_direct", "see_indirect", "see_total", "see_chargeable", "annex_ii_direct_only"]
    return goods[["installation_id", "product_id", "period", "period_grain", "process_id", *cols]]


def export_lines(raw: dict[str, pd.DataFrame], goods: pd.DataFrame, ref: PandasReference) -> pd.DataFrame:
    """Net mass × the good's SEE for its installation and production period, else the DVR default value."""
    prods = raw["products"].drop_duplicates("product_id")[
        ["product_id", "cn_code", "installation_id", "unit_mass_t"]
    ]
    lines = raw["exports"].merge(prods, on="product_id", how="left", suffixes=("", "_product"))
    lines["cn_code"] = lines["cn_code"].fillna(lines["cn_code_product"])
    lines["installation_id"] = lines["installation_id"].fillna(lines["installation_id_product"])
    lines["declaration_year"] = lines["declaration_date"].dt.year
    lines["production_period"] = lines["production_period"].fillna(lines["declaration_year"].astype(str))
    lines["period_grain"] = np.where(lines["production_period"].str.len() == 7, "month", "year")
    lines["net_mass_t"] = np.where(
        lines["unit"] == "pcs",
        lines["quantity"] * lines["unit_mass_t"],
        lines["quantity"] * _unit_factor(lines["unit"], "t"),
    )
    country = raw["installations"].drop_duplicates("installation_id").set_index("installation_id")["country"]
    lines["origin_country"] = lines["installation_id"].map(country)
    g = goods.rename(
        columns={
            "period": "production_period",
            "see_direct": "g_direct",
            "see_indirect": "g_indirect",
            "see_chargeable": "g_chargeable",
            "annex_ii_direct_only": "g_annex",
        }
    )[
        [
            "installation_id",
            "product_id",
            "production_period",
            "period_grain",
            "g_direct",
            "g_indirect",
            "g_chargeable",
            "g_annex",
        ]
    ]
    lines = lines.merge(
        g, on=["installation_id", "product_id", "production_period", "period_grain"], how="left"
    )

    actual = lines["g_direct"].notna()
    dv_keys = lines.loc[~actual, ["cn_code", "origin_country", "declaration_year"]].set_axis(
        ["cn_code", "country", "year"], axis=1
    )
    dv = ref.lookup_default_values(dv_keys).set_axis(
        [
            "cn_code",
            "origin_country",
            "declaration_year",
            "dv_direct",
            "dv_total",
            "dv_markup",
            "dv_used_table",
        ],
        axis=1,
    )
    lines = lines.merge(dv, on=["cn_code", "origin_country", "declaration_year"], how="left")
    dv_direct = lines["dv_direct"].fillna(lines["dv_total"])
    dv_indirect = (lines["dv_total"] - dv_direct).clip(lower=0.0)
    annex = ref.annex_ii_of(lines["cn_code"]).fillna(lines["g_annex"]).fillna(False).astype(bool)
    lines["determination"] = np.where(actual, "actual", "default")
    lines["see_direct"] = lines["g_direct"].where(actual, dv_direct)
    lines["see_indirect"] = lines["g_indirect"].where(actual, dv_indirect)
    lines["see_chargeable_per_t"] = lines["g_chargeable"].where(
        actual, dv_direct.where(annex, lines["dv_total"])
    )
    lines["embedded_direct_tco2e"] = lines["net_mass_t"] * lines["see_direct"]
    lines["embedded_indirect_tco2e"] = lines["net_mass_t"] * lines["see_indirect"]
    lines["embedded_chargeable_tco2e"] = lines["net_mass_t"] * lines["see_chargeable_per_t"]
    cols = [
        "export_id",
        "line_no",
        "product_id",
        "installation_id",
        "production_period",
        "period_grain",
        "net_mass_t",
        "see_direct",
        "see_indirect",
        "see_chargeable_per_t",
        "embedded_direct_tco2e",
        "embedded_indirect_tco2e",
        "embedded_chargeable_tco2e",
        "determination",
    ]
    return lines[cols].sort_values(["export_id", "line_no"]).reset_index(drop=True)


# --- all together -----------------------------------------------------------------------------------------------


def compute_cbam_pandas(
    raw: dict[str, pd.DataFrame], ref: PandasReference | None = None
) -> dict[str, pd.DataFrame]:
    """process_see, goods_see (both grains) and export_lines from the raw lake tables as pandas frames."""
    ref = ref if ref is not None else PandasReference.from_seeds()
    streams = stream_emissions_monthly(raw, ref)
    attribution = process_attribution(raw, streams, ref)
    electricity = process_electricity(raw, attribution, ref)
    purchased = purchased_precursors(raw, ref)
    flows = internal_flows(raw)
    psee = process_see(attribution, electricity, purchased, flows, raw["processes"])
    goods = goods_see(raw["products"], psee, ref)
    return {"process_see": psee, "goods_see": goods, "export_lines": export_lines(raw, goods, ref)}
