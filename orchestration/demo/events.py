"""Event datasets of the demo as canonical polars frames (columns = contract names, helper columns start with
`_`: `_plant`, `_m` month index, `_drop` drop date). The big ones (invoices, exports, shipments) are generated
with numpy arrays and polars expressions, never row by row (integer codes, strings by lookup at the end);
the small monthly ones (bills, readings, production) row by row.

Physical volumes scale with `scale` (a plant `scale` times as big), so intensities — t wire rod per t of
bolts, MWh per t, tCO2 per t — stay the same at every scale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from orchestration.demo import world as w

_TAGS = {
    "production": 1,
    "energy": 2,
    "readings": 3,
    "precursors": 4,
    "consumables": 5,
    "exports": 6,
    "shipments": 7,
    "consumption": 8,
}


def rng_for(seed: int, tag: str) -> np.random.Generator:
    """An independent, reproducible stream per purpose (adding a dataset never shifts another's numbers)."""
    return np.random.default_rng([seed, _TAGS[tag]])


@dataclass
class Calendar:
    months: list[tuple[int, int]]
    starts: np.ndarray  # datetime64[D] first day of each month
    days: np.ndarray  # days in month
    drops: list[dt.date]  # drop date of each month's events
    load: np.ndarray  # seasonality x growth

    @classmethod
    def build(cls) -> Calendar:
        months = w.month_list()
        starts = np.array([np.datetime64(w.month_start(y, m)) for y, m in months], dtype="datetime64[D]")
        days = np.array([w.month_end(y, m).day for y, m in months])
        load = np.array([w.SEASON[m] * w.GROWTH[y] for y, m in months])
        return cls(months, starts, days, [w.drop_of_month(y, m) for y, m in months], load)

    def ym(self, i: int) -> str:
        y, m = self.months[i]
        return f"{y}-{m:02d}"

    def frame(self) -> pl.DataFrame:
        """Month index → period_start, period_end, _drop (for joins instead of per-row lookups)."""
        return pl.DataFrame(
            {
                "_m": list(range(len(self.months))),
                "period_start": [w.month_start(y, m) for y, m in self.months],
                "period_end": [w.month_end(y, m) for y, m in self.months],
                "_drop": self.drops,
            }
        )


def _noise(rng: np.random.Generator, size: int | tuple[int, ...], sd: float) -> np.ndarray:
    return 1.0 + rng.normal(0.0, sd, size)


def _lognormal(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """Multiplicative noise with mean 1 (the generator's own lognormal: libm exp, not a CPU-specific SIMD one,
    so the same seed gives the same bytes on every machine)."""
    return rng.lognormal(-sigma * sigma / 2, sigma, size)


def _drop_expr(date_col: str) -> pl.Expr:
    """Drop date (3rd of the following month) of the month a date falls in."""
    return pl.col(date_col).dt.month_start().dt.offset_by("1mo").dt.offset_by("2d")


# --------------------------------------------------------------------------------------------- production


@dataclass
class Output:
    """Monthly physical output (t) that every other dataset is derived from."""

    p1: np.ndarray  # ZJ wire drawing / cold heading
    flow: np.ndarray  # ZJ P1 -> P2
    p2: np.ndarray  # ZJ heat treatment
    gd: np.ndarray  # GD extrusion
    product: dict[str, np.ndarray]  # product_id -> t per month
    heat_tj: np.ndarray  # GD steam imported


def _product_shares(cal: Calendar, process_products: list[w.Product]) -> np.ndarray:
    """Share of each product in its process output per month (a product counts from its first month)."""
    shares = np.array(
        [[p.share if (y, m) >= p.since else 0.0 for (y, m) in cal.months] for p in process_products]
    )
    return shares / shares.sum(axis=0)


def production(cal: Calendar, scale: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, Output]:
    rng = rng_for(seed, "production")
    n = len(cal.months)
    p1 = np.round(2000.0 * scale * cal.load * _noise(rng, n, 0.02), 3)
    p1_products = [p for p in w.PRODUCTS if p.installation_id == w.ZJ and p.process_id == "P1"]
    p2_products = [p for p in w.PRODUCTS if p.installation_id == w.ZJ and p.process_id == "P2"]
    gd_products = [p for p in w.PRODUCTS if p.installation_id == w.GD]
    sold_p1 = sum(p.share for p in p1_products)
    flow = np.round(p1 * (1 - sold_p1) * _noise(rng, n, 0.004), 3)
    gd = np.round(1500.0 * scale * cal.load * _noise(rng, n, 0.025), 3)
    product: dict[str, np.ndarray] = {}
    for p in p1_products:
        product[p.product_id] = np.round(p1 * p.share, 3)
    p2_split = _product_shares(cal, p2_products) * (flow * 0.992)
    for p, row in zip(p2_products, p2_split, strict=True):
        product[p.product_id] = np.round(row, 3)
    for p, row in zip(gd_products, _product_shares(cal, gd_products) * gd, strict=True):
        product[p.product_id] = np.round(row, 3)
    p2 = np.sum([product[p.product_id] for p in p2_products], axis=0)
    gd = np.sum([product[p.product_id] for p in gd_products], axis=0)  # GD total row = sum of its products
    heat_tj = np.round(0.52 * scale * cal.load * _noise(rng, n, 0.05), 4)

    rows, flows = [], []
    for i, (y, m) in enumerate(cal.months):
        start, end, drop = w.month_start(y, m), w.month_end(y, m), cal.drops[i]
        base = {"period_start": start, "period_end": end, "_m": i, "_drop": drop}
        rows.append(
            {
                **base,
                "installation_id": w.ZJ,
                "process_id": "P1",
                "product_id": None,
                "produced_t": float(p1[i]),
                "_plant": w.ZJ,
            }
        )
        for p in p1_products + p2_products:
            if (y, m) >= p.since:
                rows.append(
                    {
                        **base,
                        "installation_id": w.ZJ,
                        "process_id": p.process_id,
                        "product_id": p.product_id,
                        "produced_t": float(product[p.product_id][i]),
                        "_plant": w.ZJ,
                    }
                )
        rows.append(
            {
                **base,
                "installation_id": w.GD,
                "process_id": "P1",
                "product_id": None,
                "produced_t": float(round(gd[i], 3)),
                "heat_imported_tj": float(heat_tj[i]),
                "heat_imported_ef": w.STEAM_EF_TCO2_PER_TJ,
                "_plant": w.GD,
            }
        )
        for p in gd_products:
            rows.append(
                {
                    **base,
                    "installation_id": w.GD,
                    "process_id": "P1",
                    "product_id": p.product_id,
                    "produced_t": float(product[p.product_id][i]),
                    "_plant": w.GD,
                }
            )
        flows.append(
            {
                **base,
                "installation_id": w.ZJ,
                "from_process_id": "P1",
                "to_process_id": "P2",
                "mass_t": float(flow[i]),
                "_plant": w.ZJ,
            }
        )
    schema = {
        "installation_id": pl.String,
        "process_id": pl.String,
        "product_id": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "produced_t": pl.Float64,
        "electricity_exported_mwh": pl.Float64,
        "heat_imported_tj": pl.Float64,
        "heat_imported_ef": pl.Float64,
        "_m": pl.Int64,
        "_drop": pl.Date,
        "_plant": pl.String,
    }
    prod_df = pl.DataFrame(rows, schema=schema)
    flows_df = pl.DataFrame(flows).select(
        "installation_id",
        "from_process_id",
        "to_process_id",
        "period_start",
        "period_end",
        "mass_t",
        "_m",
        "_drop",
        "_plant",
    )
    return prod_df, flows_df, Output(p1, flow, p2, gd, product, heat_tj)


# ------------------------------------------------------------------------------------ energy and readings


def energy_bills(cal: Calendar, out: Output, scale: float, seed: int) -> pl.DataFrame:
    rng = rng_for(seed, "energy")
    rows = []
    for i, (y, m) in enumerate(cal.months):
        ym = f"{y}{m:02d}"
        base = {
            "period_start": w.month_start(y, m),
            "period_end": w.month_end(y, m),
            "_m": i,
            "_drop": cal.drops[i],
        }
        nz = _noise(rng, 12, 0.02)
        # Ningbo: sub-metered grid supply per process, site utilities, rooftop PV, gas in m3 at 20 degC, diesel
        p1_kwh = round(out.p1[i] * 185.0 * nz[0])
        p2_kwh = round(out.p2[i] * 262.0 * nz[1])
        office_kwh = round(38000.0 * scale * nz[2])
        pv_kwh = round(92000.0 * scale * w.SOLAR[m] * nz[3])
        gec = round(100.0 * scale, 3) if (y, m) >= (2025, 10) else None
        zj_gas_nm3 = out.p2[i] * 66.0 * nz[4] + 2000.0 * scale
        zj_gas_m3 = round(zj_gas_nm3 * w.GAS_M3_PER_NM3)
        zj = {**base, "installation_id": w.ZJ, "_plant": w.ZJ, "currency": "CNY"}
        rows += [
            {
                **zj,
                "bill_id": f"ZJ-EL-P1-{ym}",
                "meter_id": "ZJ-M-EL-01",
                "carrier": "electricity",
                "quantity": float(p1_kwh),
                "unit": "kWh",
                "process_id": "P1",
                "supply_type": "grid",
                "amount": round(p1_kwh * 0.682, 2),
            },
            {
                **zj,
                "bill_id": f"ZJ-EL-P2-{ym}",
                "meter_id": "ZJ-M-EL-02",
                "carrier": "electricity",
                "quantity": float(p2_kwh),
                "unit": "kWh",
                "process_id": "P2",
                "supply_type": "grid",
                "gec_mwh": gec,
                "amount": round(p2_kwh * 0.682, 2),
            },
            {
                **zj,
                "bill_id": f"ZJ-EL-SITE-{ym}",
                "meter_id": "ZJ-M-EL-00",
                "carrier": "electricity",
                "quantity": float(office_kwh),
                "unit": "kWh",
                "supply_type": "grid",
                "amount": round(office_kwh * 0.701, 2),
            },
            {
                **zj,
                "bill_id": f"ZJ-PV-{ym}",
                "meter_id": "ZJ-M-PV-01",
                "carrier": "electricity",
                "quantity": float(pv_kwh),
                "unit": "kWh",
                "supply_type": "onsite",
                "ef_tco2_per_mwh": 0.0,
                "ef_source": "D.4.1",
                "currency": None,
            },
            {
                **zj,
                "bill_id": f"ZJ-NG-{ym}",
                "meter_id": "ZJ-M-NG-01",
                "carrier": "natural_gas",
                "quantity": float(zj_gas_m3),
                "unit": "m3",
                "amount": round(zj_gas_m3 * 4.12, 2),
            },
            {
                **zj,
                "bill_id": f"ZJ-DSL-{ym}",
                "carrier": "diesel",
                "quantity": float(round(3800.0 * scale * nz[5])),
                "unit": "L",
                "amount": round(3800.0 * scale * nz[5] * 7.62, 2),
            },
        ]
        # Foshan: grid + wind PPA (physical delivery claimed, D.4.3.2), GECs in 2026, gas, diesel, park steam
        total_mwh = out.gd[i] * 0.62 * nz[6]
        ppa_mwh = round(min(280.0 * scale * nz[7], total_mwh * 0.5), 3)
        grid_mwh = round(total_mwh - ppa_mwh, 3)
        gd_gas_m3 = round(out.gd[i] * 92.0 * nz[8] * w.GAS_M3_PER_NM3)
        gd = {**base, "installation_id": w.GD, "_plant": w.GD, "currency": "CNY", "process_id": "P1"}
        rows += [
            {
                **gd,
                "bill_id": f"GD-EL-GRID-{ym}",
                "meter_id": "GD-M-EL-01",
                "carrier": "electricity",
                "quantity": grid_mwh,
                "unit": "MWh",
                "supply_type": "grid",
                "gec_mwh": round(150.0 * scale, 3) if y == 2026 else None,
                "amount": round(grid_mwh * 655.0, 2),
            },
            {
                **gd,
                "bill_id": f"GD-EL-PPA-{ym}",
                "meter_id": "GD-M-EL-02",
                "carrier": "electricity",
                "quantity": ppa_mwh,
                "unit": "MWh",
                "supply_type": "ppa",
                "ef_tco2_per_mwh": 0.0,
                "ef_source": "D.4.3.2",
                "amount": round(ppa_mwh * 452.0, 2),
            },
            {
                **gd,
                "bill_id": f"GD-NG-{ym}",
                "meter_id": "GD-M-NG-01",
                "carrier": "natural_gas",
                "quantity": float(gd_gas_m3),
                "unit": "m3",
                "amount": round(gd_gas_m3 * 3.95, 2),
            },
            {
                **gd,
                "bill_id": f"GD-DSL-{ym}",
                "carrier": "diesel",
                "quantity": float(round(3000.0 * scale * nz[9])),
                "unit": "L",
                "amount": round(3000.0 * scale * nz[9] * 7.55, 2),
            },
            {
                **gd,
                "bill_id": f"GD-STM-{ym}",
                "meter_id": "GD-M-STM-01",
                "carrier": "steam",
                "quantity": round(float(out.heat_tj[i]) * 1000.0, 1),
                "unit": "GJ",
                "amount": round(float(out.heat_tj[i]) * 1000.0 * 218.0, 2),
            },
        ]
    schema = {
        "bill_id": pl.String,
        "installation_id": pl.String,
        "meter_id": pl.String,
        "carrier": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "quantity": pl.Float64,
        "unit": pl.String,
        "process_id": pl.String,
        "supply_type": pl.String,
        "ef_tco2_per_mwh": pl.Float64,
        "ef_source": pl.String,
        "gec_mwh": pl.Float64,
        "amount": pl.Float64,
        "currency": pl.String,
        "_m": pl.Int64,
        "_drop": pl.Date,
        "_plant": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


ZJ_GAS_READING_MONTHS = {(2025, 4), (2025, 5), (2025, 6), (2026, 1), (2026, 2), (2026, 3)}
GD_GAS_READING_MONTHS = {(2025, 7), (2025, 8), (2025, 9)}


def stream_readings(cal: Calendar, out: Output, bills: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Gas meter readings with laboratory NCV in some months (they replace the bills there), methanol monthly."""
    rng = rng_for(seed, "readings")
    gas = {
        (r["installation_id"], r["_m"]): r["quantity"]
        for r in bills.filter(pl.col("carrier") == "natural_gas").iter_rows(named=True)
    }
    rows = []
    for i, (y, m) in enumerate(cal.months):
        base = {
            "period_start": w.month_start(y, m),
            "period_end": w.month_end(y, m),
            "_m": i,
            "_drop": cal.drops[i],
            "process_id": None,
        }
        for plant, months in ((w.ZJ, ZJ_GAS_READING_MONTHS), (w.GD, GD_GAS_READING_MONTHS)):
            if (y, m) in months:
                knm3 = gas[(plant, i)] / w.GAS_M3_PER_NM3 / 1000.0 * (1 + rng.normal(0, 0.004))
                rows.append(
                    {
                        **base,
                        "installation_id": plant,
                        "stream_id": "S01",
                        "quantity": round(knm3, 3),
                        "unit": "1000Nm3",
                        "ncv": round(38.6 + rng.random() * 0.7, 3),
                        "_plant": plant,
                    }
                )
        meoh = out.p2[i] * 0.0061 * (1 + rng.normal(0, 0.03))
        rows.append(
            {
                **base,
                "installation_id": w.ZJ,
                "stream_id": "S03",
                "quantity": round(meoh, 3),
                "unit": "t",
                "ncv": None,
                "_plant": w.ZJ,
            }
        )
    schema = {
        "installation_id": pl.String,
        "stream_id": pl.String,
        "process_id": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "quantity": pl.Float64,
        "unit": pl.String,
        "ncv": pl.Float64,
        "_m": pl.Int64,
        "_drop": pl.Date,
        "_plant": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


# ------------------------------------------------------------------------------------------ invoices

# Monthly use of consumables per t of the plant's output (cartons, chemicals, ...): invoices spread it over lines.
CONSUMABLE_INTENSITY = {
    w.ZJ: {
        "CARTON-L": 40.0,
        "PALLET-W": 1.0,
        "STRAP-PET": 0.25,
        "PHOS-CHEM": 2.0,
        "DRAW-LUB": 1.2,
        "QUENCH-OIL": 0.5,
        "MEOH": 0.0061,
        "ZN-INGOT": 1.5,
        "SVC-ZNPLATE": 0.12,
        "DIE-CARB": 0.01,
        "GLOVE": 1.5,
        "SVC-MAINT": 0.004,
    },
    w.GD: {
        "CARTON-L": 2.0,
        "PALLET-W": 0.8,
        "FILM-PE": 3.0,
        "H2SO4": 8.0,
        "NAOH": 12.0,
        "POWDER-PE": 6.0,
        "N2-LIQ": 0.004,
        "GLOVE": 1.0,
        "STRAP-PET": 0.3,
        "SVC-MAINT": 0.003,
    },
}
CONSUMABLE_LINES = {
    w.ZJ: 915.0,
    w.GD: 700.0,
}  # invoice lines a month at scale 1 (≈ 20,000 a year with precursors)
PROVINCE = {w.ZJ: "33", w.GD: "44"}
INVOICE_COLUMNS = [
    "invoice_id",
    "line_no",
    "invoice_date",
    "supplier_id",
    "supplier_installation_id",
    "installation_id",
    "material_id",
    "cn_code",
    "country_of_origin",
    "quantity",
    "unit",
    "net_amount",
    "currency",
]


# Integer codes for the big frames (strings only at the end, by lookup): material, supplier, invoice unit.
MAT_IDS = [m.material_id for m in w.MATERIALS]
MAT_INDEX = {m: i for i, m in enumerate(MAT_IDS)}
SUP_IDS = [s.supplier_id for s in w.SUPPLIERS]
SUP_INDEX = {s: i for i, s in enumerate(SUP_IDS)}
INVOICE_UNITS = ("t", "kg", "pcs", "L")
_MAT_UNIT = np.array([INVOICE_UNITS.index(m.unit) if m.unit in INVOICE_UNITS else 0 for m in w.MATERIALS])
_MAT_PRICE = np.array([m.price for m in w.MATERIALS])


def _codes(expr: pl.Expr, names: list[str] | tuple[str | None, ...]) -> pl.Expr:
    """Integer code → its text (a small lookup table, vectorised)."""
    return expr.replace_strict(list(range(len(names))), list(names), return_dtype=pl.String)


def _round_by_unit(qty: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Pieces and litres whole (at least 1), kilograms to 0.1, tonnes to the kilogram."""
    whole = (unit == INVOICE_UNITS.index("pcs")) | (unit == INVOICE_UNITS.index("L"))
    kg = unit == INVOICE_UNITS.index("kg")
    return np.where(whole, np.maximum(1.0, np.rint(qty)), np.where(kg, np.round(qty, 1), np.round(qty, 3)))


def _consumable_lines(
    cal: Calendar, out: Output, scale: float, rng: np.random.Generator, plant: str
) -> pl.DataFrame:
    plant_out = out.p1 if plant == w.ZJ else out.gd
    precursor_suppliers = {s for s, _, _ in w.WIRE_ROD_SUPPLY + w.BILLET_SUPPLY}
    sups = [s for s in w.SUPPLIERS if s.plant in (plant, None) and s.supplier_id not in precursor_suppliers]
    intensity = CONSUMABLE_INTENSITY[plant]
    # A supplier shared by both plants only sells this plant what it uses.
    mats_of = [tuple(MAT_INDEX[m] for m in s.materials if m in intensity) for s in sups]
    weights = np.array([s.weight for s in sups])
    weights = weights / weights.sum()
    mat_intensity = np.zeros(len(MAT_IDS))
    mat_share = np.ones(len(MAT_IDS))  # expected share of this plant's lines per material
    for m, value in intensity.items():
        mat_intensity[MAT_INDEX[m]] = value
        mat_share[MAT_INDEX[m]] = sum(
            wt / len(ms) for wt, ms in zip(weights, mats_of, strict=True) if MAT_INDEX[m] in ms
        )
    flat = np.array([m for ms in mats_of for m in ms], dtype=np.int64)
    counts = np.array([len(ms) for ms in mats_of])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sup_codes = np.array([SUP_INDEX[s.supplier_id] for s in sups])

    lam = CONSUMABLE_LINES[plant] * scale * cal.load
    lines = rng.poisson(lam)
    invoices = np.maximum(1, np.rint(lines / 4.5)).astype(np.int64)
    g = np.repeat(np.arange(len(lines)), lines)
    n = g.size
    inv_offset = np.concatenate([[0], np.cumsum(invoices)[:-1]])
    inv = inv_offset[g] + np.floor(rng.random(n) * invoices[g]).astype(np.int64)
    inv_month = np.repeat(np.arange(len(lines)), invoices)
    inv_sup = rng.choice(len(sups), size=invoices.sum(), p=weights)
    inv_day = np.floor(rng.random(invoices.sum()) * cal.days[inv_month]).astype(np.int64)
    sup = inv_sup[inv]
    mat = flat[offsets[sup] + np.floor(rng.random(n) * counts[sup]).astype(np.int64)]
    qty_mean = mat_intensity[mat] * plant_out[g] / (lam[g] * mat_share[mat])
    unit = _MAT_UNIT[mat]
    qty = _round_by_unit(qty_mean * _lognormal(rng, n, 0.5), unit)
    credit = rng.random(n) < 0.002  # a few credit notes (returns): negative quantity and amount
    qty = np.where(credit, -qty, qty)
    amount = np.round(qty * _MAT_PRICE[mat] * _lognormal(rng, n, 0.06), 2)
    return pl.DataFrame(
        {
            "_plant": plant,
            "_m": g,
            "_inv": inv,
            "invoice_date": cal.starts[g] + inv_day[inv].astype("timedelta64[D]"),
            "_sup": sup_codes[sup],
            "_mat": mat,
            "quantity": qty,
            "_unit": unit,
            "net_amount": amount,
            "_true_quantity_t": np.full(n, np.nan),
        }
    ).with_columns(pl.col("invoice_date").cast(pl.Date))


def _precursor_lines(
    cal: Calendar, out: Output, scale: float, rng: np.random.Generator, plant: str, inv_base: int
) -> pl.DataFrame:
    """One delivery = one invoice line: a truck (33 t), a rail wagon (60 t) or a sea lot (210 t)."""
    supply = w.WIRE_ROD_SUPPLY if plant == w.ZJ else w.BILLET_SUPPLY
    need = (out.p1 * w.WIRE_ROD_PER_T_P1) if plant == w.ZJ else (out.gd * w.BILLET_PER_T)
    grades, grade_p = (
        (("WR-SWRCH22A", "WR-SWRCH35K"), (0.6, 0.4))
        if plant == w.ZJ
        else (("AL-BIL-6063", "AL-BIL-6061"), (0.85, 0.15))
    )
    grade_codes = np.array([MAT_INDEX[m] for m in grades])
    frames = []
    for supplier_id, share, lot in supply:
        sup_need = need * share * _noise(rng, need.size, 0.04)
        deliveries = np.maximum(1, np.rint(sup_need / lot)).astype(np.int64)
        g = np.repeat(np.arange(need.size), deliveries)
        qty_t = np.round(sup_need[g] / deliveries[g] * _noise(rng, g.size, 0.03), 3)
        day = np.floor(rng.random(g.size) * cal.days[g]).astype(np.int64)
        mat = grade_codes[rng.choice(2, size=g.size, p=grade_p)]
        frames.append(
            pl.DataFrame(
                {
                    "_plant": plant,
                    "_m": g,
                    "_inv": inv_base + len(frames) * 10_000_000 + np.arange(g.size),
                    "invoice_date": cal.starts[g] + day.astype("timedelta64[D]"),
                    "_sup": SUP_INDEX[supplier_id],
                    "_mat": mat,
                    "quantity": qty_t,
                    "_unit": INVOICE_UNITS.index("t"),
                    "net_amount": np.round(qty_t * _MAT_PRICE[mat], 2),
                    "_true_quantity_t": qty_t,
                }
            ).with_columns(pl.col("invoice_date").cast(pl.Date))
        )
    return pl.concat(frames)


def supplier_invoices(cal: Calendar, out: Output, scale: float, seed: int) -> pl.DataFrame:
    """All invoice lines of both plants, with invoice numbers in date order (20-digit e-invoice numbers for
    Chinese suppliers, the suppliers' own numbering for the Vietnamese mill and the Japanese toolmaker)."""
    rng_p, rng_c = rng_for(seed, "precursors"), rng_for(seed, "consumables")
    frames = []
    for plant in (w.ZJ, w.GD):
        lines = pl.concat(
            [
                _precursor_lines(cal, out, scale, rng_p, plant, 1 << 40),
                _consumable_lines(cal, out, scale, rng_c, plant),
            ],
            how="vertical_relaxed",
        )
        lines = lines.sort("_m", "invoice_date", "_inv", "_mat", "quantity", maintain_order=True)
        new_invoice = (pl.col("_inv") != pl.col("_inv").shift(1)).fill_null(True)
        row = pl.int_range(pl.len())
        lines = lines.with_columns(
            _seq=new_invoice.cum_sum(),
            line_no=row - pl.when(new_invoice).then(row).forward_fill() + 1,  # no window over 10^6 groups
        )
        frames.append(lines)
    df = pl.concat(frames, rechunk=False)
    del frames
    sup, jpy_code = pl.col("_sup"), SUP_INDEX["SUP-JP-TOOL"]
    usd = sup == SUP_INDEX["SUP-WR-03"]
    jpy = sup == jpy_code
    yy = pl.col("invoice_date").dt.year().cast(pl.String)
    seq = pl.col("_seq").cast(pl.String)
    cn_invoice = pl.concat_str(
        [yy.str.slice(2, 2), pl.col("_plant").replace_strict(PROVINCE), pl.lit("2"), seq.str.zfill(15)]
    )
    iso2 = _codes(sup, [s.iso2 for s in w.SUPPLIERS])
    df = df.with_columns(
        invoice_id=pl.when(usd)
        .then(pl.concat_str([pl.lit("SCS-"), yy, pl.lit("-"), seq.str.zfill(6)]))
        .when(jpy)
        .then(pl.concat_str([pl.lit("OST"), yy.str.slice(2, 2), pl.lit("-"), seq.str.zfill(7)]))
        .otherwise(cn_invoice),
        supplier_id=_codes(sup, SUP_IDS),
        installation_id=pl.col("_plant"),
        material_id=_codes(pl.col("_mat"), MAT_IDS),
        # the Yunnan smelter's invoices name its installation
        supplier_installation_id=pl.when(sup == SUP_INDEX["SUP-AL-01"]).then(
            _codes(sup, [s.installation_id for s in w.SUPPLIERS])
        ),
        cn_code=_codes(pl.col("_mat"), [m.cn_code for m in w.MATERIALS]),
        country_of_origin=pl.when(iso2 != "CN").then(iso2),
        net_amount=pl.when(usd)
        .then((pl.col("net_amount") / 7.18).round(2))
        .when(jpy)
        .then((pl.col("net_amount") * 20.6).round(0))
        .otherwise(pl.col("net_amount")),
        currency=pl.when(usd).then(pl.lit("USD")).when(jpy).then(pl.lit("JPY")).otherwise(pl.lit("CNY")),
        # The Hebei mill invoices in kilograms.
        quantity=pl.when(sup == SUP_INDEX["SUP-WR-02"])
        .then((pl.col("quantity") * 1000).round(0))
        .otherwise("quantity"),
        unit=pl.when(sup == SUP_INDEX["SUP-WR-02"])
        .then(pl.lit("kg"))
        .otherwise(_codes(pl.col("_unit"), INVOICE_UNITS)),
        _drop=_drop_expr("invoice_date"),
    )
    return df.select(*INVOICE_COLUMNS, "_plant", "_m", "_drop", "_true_quantity_t")


def precursor_consumption(invoices: pl.DataFrame, cal: Calendar, seed: int) -> pl.DataFrame:
    """Ningbo weighs wire rod into P1 from January to June 2026 (replacing the invoices for those months)."""
    rng = rng_for(seed, "consumption")
    months = [i for i, ym in enumerate(cal.months) if (2026, 1) <= ym <= (2026, 6)]
    rows = invoices.filter(
        pl.col("_plant") == w.ZJ, pl.col("_m").is_in(months), pl.col("material_id").str.starts_with("WR-")
    )
    grades, grade = np.unique(rows["material_id"].to_numpy(), return_inverse=True)
    cell = rows["_m"].to_numpy() * len(grades) + grade
    total = np.bincount(cell, weights=rows["_true_quantity_t"].to_numpy())  # fixed summation order
    used = np.flatnonzero(total)
    bought = pl.DataFrame(
        {
            "_m": used // len(grades),
            "material_id": grades[used % len(grades)],
            "_true_quantity_t": total[used],
        }
    )
    noise = _noise(rng, bought.height, 0.012)
    return (
        bought.with_columns(
            installation_id=pl.lit(w.ZJ),
            process_id=pl.lit("P1"),
            mass_t=(pl.col("_true_quantity_t") * pl.Series(noise)).round(3),
            _plant=pl.lit(w.ZJ),
        )
        .join(cal.frame(), on="_m", how="left", maintain_order="left")
        .select(
            "installation_id",
            "process_id",
            "material_id",
            "period_start",
            "period_end",
            "mass_t",
            "_m",
            "_drop",
            "_plant",
        )
    )


# ------------------------------------------------------------------------------------------ exports

EXPORT_SHARE = {w.ZJ: 0.62, w.GD: 0.55}
EXPORT_LINE_T = {w.ZJ: 11.0, w.GD: 17.0}
CUSTOMS = {w.ZJ: "3104", w.GD: "5198"}  # Ningbo Beilun, Guangzhou Nansha customs
EXPORT_COLUMNS = [
    "export_id",
    "line_no",
    "declaration_date",
    "product_id",
    "cn_code",
    "quantity",
    "unit",
    "importer_eori",
    "importer_name",
    "importer_country",
    "destination_country",
    "installation_id",
    "production_period",
]


def exports(cal: Calendar, out: Output, scale: float, seed: int) -> pl.DataFrame:
    rng = rng_for(seed, "exports")
    frames = []
    for plant in (w.ZJ, w.GD):
        prods = [p for p in w.PRODUCTS if p.installation_id == plant]
        imps = [i for i in w.IMPORTERS if i.plant == plant]
        imp_w = np.array([i.weight for i in imps])
        imp_w = imp_w / imp_w.sum()
        mass = np.array([out.product[p.product_id] for p in prods]) * EXPORT_SHARE[plant]  # product x month
        mass = mass * _noise(rng, mass.shape, 0.05)
        n_lines = np.where(mass > 0, np.maximum(1, np.rint(mass / EXPORT_LINE_T[plant])), 0).astype(np.int64)
        flat_n = n_lines.ravel()  # product-major
        cell = np.repeat(np.arange(flat_n.size), flat_n)
        prod_idx, month = cell // mass.shape[1], cell % mass.shape[1]
        line_mass = mass.ravel()[cell] / flat_n[cell] * _lognormal(rng, cell.size, 0.2)
        # lines of a month go onto declarations of ~2.2 lines, each for one importer; one line per product
        per_month = np.bincount(month, minlength=mass.shape[1])
        decls = np.maximum(1, np.rint(per_month / 2.2)).astype(np.int64)
        decl_offset = np.concatenate([[0], np.cumsum(decls)[:-1]])
        decl = decl_offset[month] + np.floor(rng.random(cell.size) * decls[month]).astype(np.int64)
        decl_month = np.repeat(np.arange(decls.size), decls)
        decl_imp = rng.choice(len(imps), size=decls.sum(), p=imp_w)
        decl_day = np.floor(rng.random(decls.sum()) * (cal.days[decl_month] - 3)).astype(np.int64)
        # merge lines of one product on one declaration (numpy: float sums in a fixed order, same bytes on
        # every machine)
        order = np.lexsort((prod_idx, decl))
        key = decl[order] * len(prods) + prod_idx[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, np.int64)
        line_mass = np.add.reduceat(line_mass[order], starts) if key.size else line_mass
        month, decl, prod_idx = month[order][starts], decl[order][starts], prod_idx[order][starts]
        unit_mass = np.array([p.unit_mass_t or np.nan for p in prods])[prod_idx]
        pieces = ~np.isnan(unit_mass)
        in_kg = (~pieces) & (rng.random(month.size) < (0.3 if plant == w.GD else 0.0))
        quantity = np.where(
            pieces,
            np.rint(line_mass / np.where(pieces, unit_mass, 1.0)),
            np.where(in_kg, np.round(line_mass * 1000, 1), np.round(line_mass, 3)),
        )
        mass_t = np.where(
            pieces, quantity * np.where(pieces, unit_mass, 0.0), np.where(in_kg, quantity / 1000, quantity)
        )
        unit = np.where(pieces, "pcs", np.where(in_kg, "kg", "t"))
        frames.append(
            pl.DataFrame(
                {
                    "_plant": plant,
                    "_m": month,
                    "_decl": decl,
                    "_imp": np.array([i.eori for i in imps])[decl_imp[decl]],
                    "declaration_date": cal.starts[month] + decl_day[decl].astype("timedelta64[D]"),
                    "product_id": np.array([p.product_id for p in prods])[prod_idx],
                    "quantity": quantity,
                    "unit": unit,
                    "_mass_t": mass_t,
                    "_decl_mass_t": np.bincount(decl, weights=mass_t, minlength=decls.sum())[decl],
                }
            ).with_columns(pl.col("declaration_date").cast(pl.Date))
        )
    df = pl.concat(frames).sort(
        "_plant", "_m", "declaration_date", "_decl", "product_id", maintain_order=True
    )
    df = df.with_columns(
        _seq=(pl.col("_decl") != pl.col("_decl").shift(1)).fill_null(True).cum_sum().over("_plant")
    )
    imps = pl.DataFrame(
        {
            "_imp": [i.eori for i in w.IMPORTERS],
            "importer_name": [i.name for i in w.IMPORTERS],
            "importer_country": [i.country for i in w.IMPORTERS],
            "destination_country": [i.destination for i in w.IMPORTERS],
        }
    )
    cn = {p.product_id: p.cn_code.replace(" ", ".") for p in w.PRODUCTS}
    df = df.join(imps, on="_imp", how="left", maintain_order="left").with_columns(
        export_id=pl.concat_str(
            [
                pl.col("_plant").replace_strict(CUSTOMS),
                pl.col("declaration_date").dt.year().cast(pl.String),
                pl.lit("1"),
                pl.col("_seq").cast(pl.String).str.zfill(9),
            ]
        ),
        line_no=pl.int_range(1, pl.len() + 1).over("_plant", "_seq"),
        importer_eori=pl.col("_imp"),
        installation_id=pl.col("_plant"),
        cn_code=pl.when(pl.col("_plant") == w.GD).then(pl.col("product_id").replace_strict(cn, default=None)),
        production_period=pl.when(pl.col("_plant") == w.GD).then(
            pl.col("declaration_date").dt.strftime("%Y-%m")
        ),
        _drop=_drop_expr("declaration_date"),
    )
    return df.select(*EXPORT_COLUMNS, "_plant", "_m", "_drop", "_mass_t", "_decl_mass_t")


# ------------------------------------------------------------------------------------------ shipments

SHIPMENT_COLUMNS = [
    "shipment_id",
    "leg_no",
    "ship_date",
    "direction",
    "mode",
    "origin",
    "destination",
    "distance_km",
    "mass_t",
    "product_id",
    "material_id",
    "export_id",
    "invoice_id",
    "carrier",
    "fuel_type",
    "fuel_quantity",
    "fuel_unit",
]
ZJ_GATE, GD_GATE = "宁波北仑厂区", "佛山南海厂区"
_ROAD_CN, _ROAD_EU, _SEA, _RAIL = (
    "宁波顺路物流 Shunlu Logistics",
    "Rhenus Road",
    "COSCO Shipping",
    "中欧班列 CR Express",
)

# legs per importer: (mode, origin, destination, km, km may be left out, days after the first leg, carrier)
OUTBOUND_LEGS: dict[str, list[tuple[str, str, str, float, bool, int, str]]] = {
    "DE123456789012345": [
        ("road", ZJ_GATE, "CNYIW", 292.0, False, 0, _ROAD_CN),
        ("rail", "CNYIW", "DEDUI", w.RAIL_KM[("CNYIW", "DEDUI")], True, 2, _RAIL),
        ("road", "DEDUI", "Köln", 68.0, False, 20, _ROAD_EU),
    ],
    "DE987650000012345": [
        ("road", ZJ_GATE, "CNNGB", 38.0, False, 0, _ROAD_CN),
        ("sea", "CNNGB", "DEHAM", w.SEA_KM[("CNNGB", "DEHAM")], True, 2, _SEA),
        ("road", "DEHAM", "Bremen", 121.0, False, 38, _ROAD_EU),
    ],
    "NL812345678": [
        ("road", ZJ_GATE, "CNNGB", 38.0, False, 0, _ROAD_CN),
        ("sea", "CNNGB", "NLRTM", w.SEA_KM[("CNNGB", "NLRTM")], True, 2, _SEA),
        ("road", "NLRTM", "Tilburg", 86.0, False, 36, _ROAD_EU),
    ],
    "IT01234567890": [
        ("road", ZJ_GATE, "CNNGB", 38.0, False, 0, _ROAD_CN),
        ("sea", "CNNGB", "NLRTM", w.SEA_KM[("CNNGB", "NLRTM")], True, 2, _SEA),
        ("road", "NLRTM", "Milano", 1080.0, False, 36, _ROAD_EU),
    ],
    "PL5251234567": [
        ("rail", ZJ_GATE, "CNXIY", 1650.0, False, 0, _RAIL),
        ("rail", "CNXIY", "DEDUI", 9900.0, True, 3, _RAIL),
        ("road", "DEDUI", "Wrocław", 1010.0, False, 19, _ROAD_EU),
    ],
    "IT09876543210": [
        ("road", GD_GATE, "CNNSA", 62.0, False, 0, "佛山通达运输"),
        ("sea", "CNNSA", "GRPIR", w.SEA_KM[("CNNSA", "GRPIR")], True, 2, _SEA),
        ("sea", "GRPIR", "Venezia", 1390.0, False, 27, _SEA),
    ],
    "EL094123456": [
        ("road", GD_GATE, "CNNSA", 62.0, False, 0, "佛山通达运输"),
        ("sea", "CNNSA", "GRPIR", w.SEA_KM[("CNNSA", "GRPIR")], True, 2, _SEA),
    ],
    "DE555666777888999": [
        ("road", GD_GATE, "CNSZX", 136.0, False, 0, "佛山通达运输"),
        ("sea", "CNSZX", "NLRTM", w.SEA_KM[("CNSZX", "NLRTM")], True, 2, _SEA),
        ("road", "NLRTM", "DEDUI", 228.0, True, 34, _ROAD_EU),
    ],
    "PL8971234567": [
        ("road", GD_GATE, "CNSZX", 136.0, False, 0, "佛山通达运输"),
        ("sea", "CNSZX", "NLRTM", w.SEA_KM[("CNSZX", "NLRTM")], True, 2, _SEA),
        ("road", "NLRTM", "Wrocław", 1105.0, False, 34, _ROAD_EU),
    ],
}
INBOUND_LEGS: dict[str, list[tuple[str, str, str, float, bool, int, str]]] = {
    "SUP-WR-01": [("road", "张家港", ZJ_GATE, 331.0, False, 0, "江苏华运物流")],
    "SUP-WR-02": [
        ("rail", "唐山", "CNNGB", 1462.0, False, -4, "中国铁路 China Railway"),
        ("road", "CNNGB", ZJ_GATE, 38.0, False, 0, _ROAD_CN),
    ],
    "SUP-WR-03": [
        ("sea", "VNHPH", "CNNGB", w.SEA_KM[("VNHPH", "CNNGB")], True, -6, "Vinaship"),
        ("road", "CNNGB", ZJ_GATE, 38.0, False, 0, _ROAD_CN),
    ],
    "SUP-AL-01": [
        ("rail", "昆明", "CNFOS", 1338.0, False, -3, "中国铁路 China Railway"),
        ("road", "CNFOS", GD_GATE, 24.0, False, 0, "佛山通达运输"),
    ],
    "SUP-AL-02": [
        ("rail", "包头", "CNFOS", 2655.0, False, -5, "中国铁路 China Railway"),
        ("road", "CNFOS", GD_GATE, 24.0, False, 0, "佛山通达运输"),
    ],
}


def _legs_frame(
    table: dict[str, list[tuple[str, str, str, float, bool, int, str]]], key: str
) -> pl.DataFrame:
    rows = [
        {
            key: k,
            "leg_no": n,
            "mode": mode,
            "origin": o,
            "destination": d,
            "_km": km,
            "_may_omit": omit,
            "_offset": off,
            "carrier": carrier,
        }
        for k, legs in table.items()
        for n, (mode, o, d, km, omit, off, carrier) in enumerate(legs, start=1)
    ]
    return pl.DataFrame(rows)


def shipments(invoices: pl.DataFrame, exp: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Inbound legs per precursor delivery (invoice), outbound legs per export declaration; each leg lands in
    the drop of the month it was shipped in, and legs not shipped by today are not reported yet."""
    rng = rng_for(seed, "shipments")
    inbound = (
        invoices.filter(pl.col("_true_quantity_t").is_not_null() & pl.col("_true_quantity_t").is_not_nan())
        .select(
            "invoice_id",
            "invoice_date",
            "supplier_id",
            "material_id",
            "_plant",
            mass_t=pl.col("_true_quantity_t"),
        )
        .join(
            _legs_frame(INBOUND_LEGS, "supplier_id"),
            on="supplier_id",
            how="inner",
            maintain_order="left_right",
        )
        .with_columns(
            ship_date=pl.max_horizontal(
                pl.col("invoice_date").dt.offset_by(pl.format("{}d", pl.col("_offset"))),
                pl.col("invoice_date").dt.month_start(),
            ),
            direction=pl.lit("inbound"),
            product_id=pl.lit(None, pl.String),
            export_id=pl.lit(None, pl.String),
            _sid=pl.concat_str([pl.lit("IN"), pl.col("invoice_id")]),
        )
    )
    decl = (
        exp.group_by("_plant", "export_id")
        .agg(
            pl.col("declaration_date").first(),
            pl.col("importer_eori").first(),
            pl.col("_decl_mass_t").first(),
            pl.col("product_id").unique().sort().alias("_products"),
        )
        .sort("_plant", "export_id")
        .with_columns(
            mass_t=pl.col("_decl_mass_t").round(3),
            product_id=pl.when(pl.col("_products").list.len() == 1).then(pl.col("_products").list.first()),
        )
    )
    outbound = decl.join(
        _legs_frame(OUTBOUND_LEGS, "importer_eori"),
        on="importer_eori",
        how="inner",
        maintain_order="left_right",
    ).with_columns(
        ship_date=pl.col("declaration_date").dt.offset_by(pl.format("{}d", pl.col("_offset") + 1)),
        direction=pl.lit("outbound"),
        material_id=pl.lit(None, pl.String),
        invoice_id=pl.lit(None, pl.String),
        _sid=pl.concat_str([pl.lit("OUT"), pl.col("export_id")]),
    )
    cols = [
        "_sid",
        "leg_no",
        "ship_date",
        "direction",
        "mode",
        "origin",
        "destination",
        "_km",
        "_may_omit",
        "mass_t",
        "product_id",
        "material_id",
        "export_id",
        "invoice_id",
        "carrier",
        "_plant",
    ]
    legs = pl.concat([inbound.select(cols), outbound.select(cols)]).sort("ship_date", "_sid", "leg_no")
    n = legs.height
    omit = legs["_may_omit"].to_numpy() & (rng.random(n) < 0.5)
    fuel = (legs["carrier"] == "江苏华运物流").to_numpy() & (rng.random(n) < 0.12)
    fuel_l = np.round(legs["_km"].to_numpy() * 0.36 * _noise(rng, n, 0.05), 1)
    legs = legs.with_columns(
        distance_km=pl.when(pl.Series(omit)).then(None).otherwise(pl.col("_km")),
        fuel_type=pl.when(pl.Series(fuel)).then(pl.lit("diesel")),
        fuel_quantity=pl.when(pl.Series(fuel)).then(pl.Series(fuel_l)),
        fuel_unit=pl.when(pl.Series(fuel)).then(pl.lit("L")),
        _drop=_drop_expr("ship_date"),
    )
    # One waybill per transport chain: numbered from the chain's first leg.
    first = (
        legs.group_by("_sid")
        .agg(pl.col("ship_date").min())
        .sort("ship_date", "_sid")
        .with_columns(
            shipment_id=pl.concat_str(
                [
                    pl.lit("WB"),
                    pl.col("ship_date").dt.strftime("%y%m"),
                    pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(7),
                ]
            )
        )
        .select("_sid", "shipment_id")
    )
    legs = legs.join(first, on="_sid", how="left", maintain_order="left").filter(pl.col("_drop") <= w.TODAY)
    return legs.sort("_drop", "ship_date", "shipment_id", "leg_no").select(
        *SHIPMENT_COLUMNS, "_plant", "_drop"
    )
