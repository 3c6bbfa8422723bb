"""Shared helpers of the CBAM engine tests: a small synthetic reference and a builder for hand-made plants."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import polars as pl

from transforms.cbam import CbamReference, compute_cbam, frames_from_rows

REL = 1e-9

# Synthetic reference in the schema of the seeds (dbt_project/seeds/reference/cbam_*.csv; columns left out are
# null): a few CN codes, default values, mark-ups and grid factors (values invented for the tests).
CN_GOODS = pl.DataFrame(
    {
        "cn_prefix": [
            "2523",
            "25231000",
            "2601",
            "7201",
            "7202",
            "7206",
            "7207",
            "7208",
            "7218",
            "7219",
            "7221",
            "7304",
            "3102",
        ],
        "goods_category": [
            "Cement",
            "Cement clinker",
            "Sintered ore",
            "Pig iron",
            "FeMn",
            "Crude steel",
            "Crude steel",
            "Iron or steel products",
            "Crude steel",
            "Iron or steel products",
            "Iron or steel products",
            "Iron or steel products",
            "Mixed fertilisers",
        ],
        "annex_ii_direct_only": [
            False,
            False,
            False,
            True,
            True,
            True,
            True,
            True,
            True,
            True,
            True,
            True,
            False,
        ],
        "functional_unit": [
            "t clinker",
            "t clinker",
            "t",
            "t",
            "t",
            "t",
            "t",
            "t",
            "t",
            "t",
            "t",
            "t",
            "kg N",
        ],
        "in_scope": [True] * 13,
    }
)
# The CN table has 72031000 as '–' (falls back to 'other'); HK, BR, ... have no table of their own.
DEFAULT_VALUES = pl.DataFrame(
    {
        "table_kind": ["country", "country", "country", "other", "other", "annex_iv", "country", "country"],
        "country_iso2": ["CN", "CN", "CN", None, None, None, "TR", "CN"],
        "sector": [
            "iron_steel",
            "iron_steel",
            "cement",
            "iron_steel",
            "iron_steel",
            "iron_steel",
            "cement",
            "iron_steel",
        ],
        "cn_code": [
            "72021100",
            "72071100",
            "25232900",
            "72021100",
            "72071100",
            "72021100",
            "25232900",
            "72031000",
        ],
        "direct": [2.0, 1.8, 0.8, 3.0, 2.5, 4.0, 0.7, None],
        "indirect": [None, None, 0.1, None, None, None, 0.12, None],
        "total": [2.0, 1.8, 0.9, 3.0, 2.5, 4.0, 0.82, None],
        "value_status": ["value"] * 7 + ["marker_dash"],
        "indirect_status": [
            "not_applicable",
            "not_applicable",
            "value",
            "not_applicable",
            "not_applicable",
            "not_applicable",
            "value",
            "marker_dash",
        ],
        "workbook_version": ["test-v1"] * 8,
    }
)
MARKUPS = pl.DataFrame(
    {
        "sector": ["iron_steel"] * 3 + ["cement"] * 3,
        "year_label": ["2026", "2027", "2028+"] * 2,
        "markup_fraction": [0.1, 0.2, 0.3] * 2,
    }
)
GRID_FACTORS = pl.DataFrame(
    {
        "table_kind": ["country", "country", "country", "country", "other"],
        "iso2": ["CN", "HK", "TR", "US", None],
        "value_tco2_per_mwh": [0.605, 0.663, 0.7, 0.4, 0.465],
    }
)


def reference() -> CbamReference:
    return CbamReference.from_frames(CN_GOODS, DEFAULT_VALUES, MARKUPS, GRID_FACTORS)


def run(rows: dict[str, list[dict]], ref: CbamReference | None = None, **kw: Any) -> dict[str, pl.DataFrame]:
    return compute_cbam(frames_from_rows(rows), ref or reference(), **kw)


def close(a: float | None, b: float | None, rel: float = REL, abs_: float = 1e-12) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def one(df: pl.DataFrame, **where: Any) -> dict[str, Any]:
    """The single row of `df` matching `where` (asserts exactly one)."""
    sub = df
    for k, v in where.items():
        sub = sub.filter(pl.col(k).is_null() if v is None else pl.col(k) == v)
    assert sub.height == 1, f"expected one row for {where}, got {sub.height}"
    return sub.row(0, named=True)


class Plant:
    """Builder of landing rows for a hand-made installation (defaults: China, reporting year 2026)."""

    def __init__(self, iid: str = "I1", country: str = "CN", year: int = 2026) -> None:
        self.iid, self.year = iid, year
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.rows["installations"].append(
            {"installation_id": iid, "name": f"Plant {iid}", "country": country}
        )

    @property
    def start(self) -> str:
        return f"{self.year}-01-01"

    @property
    def end(self) -> str:
        return f"{self.year}-12-31"

    def process(self, pid: str, category: str) -> Plant:
        self.rows["processes"].append(
            {"installation_id": self.iid, "process_id": pid, "goods_category": category}
        )
        return self

    def stream(self, sid: str, method: str, unit: str = "t", **kw: Any) -> Plant:
        self.rows["source_streams"].append(
            {"installation_id": self.iid, "stream_id": sid, "method": method, "unit": unit, **kw}
        )
        return self

    def reading(
        self,
        sid: str,
        quantity: float | None,
        unit: str = "t",
        start: str | None = None,
        end: str | None = None,
        **kw: Any,
    ) -> Plant:
        self.rows["stream_readings"].append(
            {
                "installation_id": self.iid,
                "stream_id": sid,
                "period_start": start or self.start,
                "period_end": end or self.end,
                "quantity": quantity,
                "unit": unit,
                **kw,
            }
        )
        return self

    def produce(
        self, pid: str, t: float, start: str | None = None, end: str | None = None, **kw: Any
    ) -> Plant:
        self.rows["production"].append(
            {
                "installation_id": self.iid,
                "process_id": pid,
                "period_start": start or self.start,
                "period_end": end or self.end,
                "produced_t": t,
                **kw,
            }
        )
        return self

    def electricity(
        self,
        pid: str | None,
        mwh: float,
        unit: str = "MWh",
        start: str | None = None,
        end: str | None = None,
        **kw: Any,
    ) -> Plant:
        n = len(self.rows["energy_bills"]) + 1
        self.rows["energy_bills"].append(
            {
                "bill_id": f"{self.iid}-B{n}",
                "installation_id": self.iid,
                "carrier": "electricity",
                "period_start": start or self.start,
                "period_end": end or self.end,
                "quantity": mwh,
                "unit": unit,
                "process_id": pid,
                **kw,
            }
        )
        return self

    def bill(
        self,
        carrier: str,
        quantity: float,
        unit: str,
        start: str | None = None,
        end: str | None = None,
        **kw: Any,
    ) -> Plant:
        n = len(self.rows["energy_bills"]) + 1
        self.rows["energy_bills"].append(
            {
                "bill_id": f"{self.iid}-B{n}",
                "installation_id": self.iid,
                "carrier": carrier,
                "period_start": start or self.start,
                "period_end": end or self.end,
                "quantity": quantity,
                "unit": unit,
                **kw,
            }
        )
        return self

    def flow(self, frm: str, to: str, t: float) -> Plant:
        self.rows["process_flows"].append(
            {
                "installation_id": self.iid,
                "from_process_id": frm,
                "to_process_id": to,
                "period_start": self.start,
                "period_end": self.end,
                "mass_t": t,
            }
        )
        return self

    def material(self, mid: str, pid: str, cn: str | None, category: str | None = None, **kw: Any) -> Plant:
        self.rows["materials"].append(
            {
                "material_id": mid,
                "name": mid,
                "kind": "precursor",
                "cn_code": cn,
                "goods_category": category,
                "consumed_in_installation_id": self.iid,
                "consumed_in_process_id": pid,
                **kw,
            }
        )
        return self

    def supplier(self, sup: str, country: str, sup_inst: str | None = None) -> Plant:
        self.rows["suppliers"].append(
            {"supplier_id": sup, "name": sup, "country": country, "installation_id": sup_inst}
        )
        return self

    def invoice(
        self, mid: str, sup: str, t: float, date: str | None = None, unit: str = "t", **kw: Any
    ) -> Plant:
        n = len(self.rows["supplier_invoices"]) + 1
        self.rows["supplier_invoices"].append(
            {
                "invoice_id": f"{self.iid}-INV{n}",
                "line_no": 1,
                "invoice_date": date or f"{self.year}-03-15",
                "supplier_id": sup,
                "installation_id": self.iid,
                "material_id": mid,
                "quantity": t,
                "unit": unit,
                **kw,
            }
        )
        return self

    def communication(
        self, sup_inst: str, start: str, see_direct: float, see_indirect: float | None = None, **kw: Any
    ) -> Plant:
        self.rows["supplier_emissions"].append(
            {
                "supplier_installation_id": sup_inst,
                "period_start": start,
                "see_direct": see_direct,
                "see_indirect": see_indirect,
                **kw,
            }
        )
        return self

    def consumption(
        self, pid: str, mid: str, t: float, start: str | None = None, end: str | None = None
    ) -> Plant:
        self.rows["precursor_consumption"].append(
            {
                "installation_id": self.iid,
                "process_id": pid,
                "material_id": mid,
                "period_start": start or self.start,
                "period_end": end or self.end,
                "mass_t": t,
            }
        )
        return self

    def product(self, prid: str, pid: str, cn: str, **kw: Any) -> Plant:
        self.rows["products"].append(
            {
                "product_id": prid,
                "name": prid,
                "cn_code": cn,
                "installation_id": self.iid,
                "process_id": pid,
                **kw,
            }
        )
        return self

    def export(
        self, prid: str, quantity: float, unit: str = "t", date: str | None = None, **kw: Any
    ) -> Plant:
        n = len(self.rows["exports"]) + 1
        self.rows["exports"].append(
            {
                "export_id": f"{self.iid}-X{n}",
                "line_no": 1,
                "declaration_date": date or f"{self.year}-11-30",
                "product_id": prid,
                "quantity": quantity,
                "unit": unit,
                "importer_eori": "DE1",
                "destination_country": "DE",
                **kw,
            }
        )
        return self

    def run(self, **kw: Any) -> dict[str, pl.DataFrame]:
        kw.setdefault("years", [self.year])
        return run(dict(self.rows), **kw)


def chain() -> Plant:
    """A sinter (non-Annex-II) → B pig iron → C crude steel, C feeding back 50 t into itself; C buys FeMn with
    verified supplier data and 50 t of semi-finished steel on the Chinese default value."""
    p = Plant().process("A", "Sintered ore").process("B", "Pig iron").process("C", "Crude steel")
    for pid, ef, ad, t, mwh in (
        ("A", 0.5, 1000.0, 1000.0, 100.0),
        ("B", 1.0, 1200.0, 800.0, 80.0),
        ("C", 1.0, 100.0, 500.0, 250.0),
    ):
        p.stream(f"S{pid}", "process", ef=ef, ef_unit="tCO2/t", default_process_id=pid).reading(f"S{pid}", ad)
        p.produce(pid, t).electricity(pid, mwh, ef_tco2_per_mwh=0.6, ef_source="D.4(b)")
    p.flow("A", "B", 1000.0).flow("B", "C", 600.0).flow("C", "C", 50.0)
    p.material("FEMN", "C", "72021100", "FeMn").supplier("S1", "CN", "SI1")
    p.communication(
        "SI1",
        "2026-01-01",
        2.0,
        0.5,
        embedded_electricity_mwh_per_t=1.0,
        determination="actual",
        verified=True,
        material_id="FEMN",
    )
    p.invoice("FEMN", "S1", 100.0)
    p.material("SEMI", "C", "72071100", "Crude steel").supplier("S2", "CN", "SI2").invoice("SEMI", "S2", 50.0)
    p.product("PA", "A", "26011200").product("PB", "B", "72011011").product("PC", "C", "72071100")
    return p


def year_rows(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("period_grain") == "year")
