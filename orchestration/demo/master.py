"""Small datasets written row by row: master data snapshots, supplier communications, the carbon price."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from orchestration.demo import formats as fm
from orchestration.demo import world as w
from orchestration.demo.manifest import BadRow, Correction, TrickyCell

if TYPE_CHECKING:
    from orchestration.demo.generator import _Recorder

INSTALLATION_HEADERS = {
    "installation_id": "装置编号",
    "name": "名称",
    "country": "国家",
    "city": "城市",
    "address": "地址",
    "postcode": "邮编",
    "operator_id": "经营者编号",
    "operator_name": "经营者",
    "grid_region": "电网区域",
}
PROCESS_HEADERS = {"process_id": "工序编号", "name": "工序名称", "goods_category": "货物类别"}
PRODUCT_HEADERS = {
    "product_id": "产品编号",
    "name": "产品名称",
    "cn_code": "商品编码",
    "china_hs_code": "海关编码",
}
MATERIAL_HEADERS = {"material_id": "物料编号", "name": "物料名称", "kind": "类型"}
SUPPLIER_HEADERS = {"supplier_id": "供应商编号", "name": "供应商名称"}
EMISSION_HEADERS = {"determination": "数据来源", "document_ref": "文件编号"}


def _frame(rows: list[dict], schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, infer_schema_length=None)


def write_master(rec: _Recorder, tricky: list[TrickyCell], changes: list[Correction]) -> None:
    d0 = w.MASTER_DROP_1

    inst = _frame(w.INSTALLATIONS)
    # Ningbo's postcode typed with full-width digits (text column: NFKC gives "315800")
    inst = inst.with_columns(
        postcode=pl.when(pl.col("installation_id") == w.ZJ)
        .then(pl.lit(fm.fullwidth("315800")))
        .otherwise("postcode")
    )
    title = ["甬坚集团 装置主数据 Installations master data", "导出 Export: ERP 2025-01-05 08:00"]
    rec.put(
        "installations",
        d0,
        "installations.xlsx",
        inst,
        lambda p: fm.write_xlsx(
            inst, p, created=d0, sheet="装置", headers=INSTALLATION_HEADERS, title_rows=title
        ),
        fmt="xlsx",
        header_row=len(title) + 1,
        note="two title rows above the header",
    )
    tricky.append(
        TrickyCell(f"installations/{d0}/installations.xlsx", 1, "postcode", fm.fullwidth("315800"), "315800")
    )

    proc = _frame(
        w.PROCESSES,
        {
            "installation_id": pl.String,
            "process_id": pl.String,
            "name": pl.String,
            "goods_category": pl.String,
            "route": pl.String,
        },
    )
    rec.put(
        "processes",
        d0,
        "processes.csv",
        proc,
        lambda p: fm.write_csv(proc, p, headers=PROCESS_HEADERS),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
    )

    streams = _frame(w.SOURCE_STREAMS)
    readme = {
        "说明": [
            "监测计划 Monitoring plan (source streams)",
            "数据在工作表 source_streams / data on sheet source_streams",
            "天然气按20°C计费 gas billed in m3 at 20 degC",
        ]
    }
    rec.put(
        "source_streams",
        d0,
        "monitoring_plan.xlsx",
        streams,
        lambda p: fm.write_xlsx(streams, p, created=d0, sheet="source_streams", sheets_before=readme),
        fmt="xlsx",
        header_row=1,
        note="data on the sheet named like the dataset, not the first sheet",
    )

    def products(upto: tuple[int, int]) -> pl.DataFrame:
        return _frame(
            [
                {
                    "product_id": p.product_id,
                    "name": p.name,
                    "name_en": p.name_en,
                    "cn_code": p.cn_code,
                    "china_hs_code": p.china_hs_code,
                    "installation_id": p.installation_id,
                    "process_id": p.process_id,
                    "unit_mass_t": p.unit_mass_t,
                    "qualifying_parameters": p.qualifying_parameters,
                }
                for p in w.PRODUCTS
                if p.since <= upto
            ],
            {
                "product_id": pl.String,
                "name": pl.String,
                "name_en": pl.String,
                "cn_code": pl.String,
                "china_hs_code": pl.String,
                "installation_id": pl.String,
                "process_id": pl.String,
                "unit_mass_t": pl.Float64,
                "qualifying_parameters": pl.String,
            },
        )

    for drop, upto in ((d0, (2025, 6)), (w.MASTER_DROP_PRODUCTS, (2026, 12))):
        df = products(upto)
        entry = rec.put(
            "products",
            drop,
            "products.xlsx",
            df,
            lambda p, f=df, d=drop: fm.write_xlsx(f, p, created=d, sheet="products", headers=PRODUCT_HEADERS),
            fmt="xlsx",
            header_row=1,
        )
    new_row = df["product_id"].to_list().index(w.NEW_PRODUCT) + 1
    changes.append(
        Correction(
            "products",
            {"product_id": w.NEW_PRODUCT},
            "product_id",
            None,
            w.NEW_PRODUCT,
            None,
            None,
            entry.file,
            new_row,
            "new product in the 2025-07-05 snapshot",
        )
    )

    mats = _frame(
        [
            {
                "material_id": m.material_id,
                "name": m.name,
                "kind": m.kind,
                "cn_code": m.cn_code,
                "goods_category": m.goods_category,
                "route": m.route,
                "consumed_in_installation_id": m.installation_id,
                "consumed_in_process_id": m.process_id,
                "stream_id": m.stream_id,
                "unit_mass_t": m.unit_mass_t,
                "pcf_kgco2e_per_unit": m.pcf_kgco2e_per_unit,
                "pcf_unit": m.pcf_unit,
            }
            for m in w.MATERIALS
        ],
        {
            "material_id": pl.String,
            "name": pl.String,
            "kind": pl.String,
            "cn_code": pl.String,
            "goods_category": pl.String,
            "route": pl.String,
            "consumed_in_installation_id": pl.String,
            "consumed_in_process_id": pl.String,
            "stream_id": pl.String,
            "unit_mass_t": pl.Float64,
            "pcf_kgco2e_per_unit": pl.Float64,
            "pcf_unit": pl.String,
        },
    )
    rec.put(
        "materials",
        d0,
        "materials.csv",
        mats,
        lambda p: fm.write_csv(mats, p, headers=MATERIAL_HEADERS, separator=";", bom=True),
        fmt="csv",
        encoding="utf-8-sig",
        separator=";",
        header_row=1,
    )

    def suppliers(renamed: bool) -> pl.DataFrame:
        rows = []
        for s in w.SUPPLIERS:
            name, country = s.name, s.country
            if renamed and s.supplier_id == w.RENAMED_SUPPLIER[0]:
                name = w.RENAMED_SUPPLIER[1]
            if renamed and s.supplier_id == w.BAD_COUNTRY_SUPPLIER[0]:
                country = w.BAD_COUNTRY_SUPPLIER[1]
            rows.append(
                {
                    "supplier_id": s.supplier_id,
                    "name": name,
                    "country": country,
                    "installation_id": s.installation_id,
                }
            )
        return _frame(
            rows,
            {"supplier_id": pl.String, "name": pl.String, "country": pl.String, "installation_id": pl.String},
        )

    s0 = suppliers(False)
    rec.put(
        "suppliers",
        d0,
        "suppliers.csv",
        s0,
        lambda p: fm.write_csv(s0, p, headers=SUPPLIER_HEADERS, encoding="gb18030", crlf=True),
        fmt="csv",
        encoding="gb18030",
        separator=",",
        header_row=1,
    )
    s1 = suppliers(True)
    d1 = w.MASTER_DROP_SUPPLIERS
    bad_row = s1["supplier_id"].to_list().index(w.BAD_COUNTRY_SUPPLIER[0]) + 1
    entry = rec.put(
        "suppliers",
        d1,
        "suppliers.csv",
        s1,
        lambda p: fm.write_csv(s1, p, headers=SUPPLIER_HEADERS, encoding="gb18030", crlf=True),
        fmt="csv",
        encoding="gb18030",
        separator=",",
        header_row=1,
        bad=[
            BadRow(
                bad_row,
                "country",
                "unresolvable_country",
                w.BAD_COUNTRY_SUPPLIER[1],
                "typo 囯 for 国; the supplier keeps its 2025-01-05 row",
            )
        ],
    )
    renamed_row = s1["supplier_id"].to_list().index(w.RENAMED_SUPPLIER[0]) + 1
    old = w.SUPPLIER_BY_ID[w.RENAMED_SUPPLIER[0]]
    changes.append(
        Correction(
            "suppliers",
            {"supplier_id": old.supplier_id},
            "name",
            old.name,
            w.RENAMED_SUPPLIER[1],
            f"suppliers/{d0}/suppliers.csv",
            s0["supplier_id"].to_list().index(old.supplier_id) + 1,
            entry.file,
            renamed_row,
            "renamed after a merger",
        )
    )
    changes.append(
        Correction(
            "suppliers",
            {"supplier_id": w.BAD_COUNTRY_SUPPLIER[0]},
            "country",
            w.SUPPLIER_BY_ID[w.BAD_COUNTRY_SUPPLIER[0]].country,
            w.BAD_COUNTRY_SUPPLIER[1],
            f"suppliers/{d0}/suppliers.csv",
            s0["supplier_id"].to_list().index(w.BAD_COUNTRY_SUPPLIER[0]) + 1,
            entry.file,
            bad_row,
            "quarantined in the new snapshot: the previous valid row stays current",
        )
    )


# ------------------------------------------------------------------------------------------ supplier emissions

_SE_SCHEMA = {
    "supplier_installation_id": pl.String,
    "cn_code": pl.String,
    "material_id": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "see_direct": pl.Float64,
    "see_indirect": pl.Float64,
    "embedded_electricity_mwh_per_t": pl.Float64,
    "electricity_ef_tco2_per_mwh": pl.Float64,
    "electricity_ef_source": pl.String,
    "determination": pl.String,
    "verified": pl.Boolean,
    "pcf_kgco2e_per_unit": pl.Float64,
    "pcf_unit": pl.String,
    "document_ref": pl.String,
}


def _see(
    inst: str,
    cn: str,
    year: int,
    direct: float,
    mwh: float | None,
    determination: str,
    verified: bool,
    ref: str,
    end: dt.date | None = None,
) -> dict:
    indirect = None if mwh is None else round(mwh * 0.605, 4)
    return {
        "supplier_installation_id": inst,
        "cn_code": cn,
        "material_id": None,
        "period_start": dt.date(year, 1, 1),
        "period_end": end or dt.date(year, 12, 31),
        "see_direct": direct,
        "see_indirect": indirect,
        "embedded_electricity_mwh_per_t": mwh,
        "electricity_ef_tco2_per_mwh": None if mwh is None else 0.605,
        "electricity_ef_source": None if mwh is None else "D.4(a)",
        "determination": determination,
        "verified": verified,
        "pcf_kgco2e_per_unit": None,
        "pcf_unit": None,
        "document_ref": ref,
    }


def _pcf(
    inst: str, material: str, start: dt.date, value: float, unit: str, ref: str, end: dt.date | None = None
) -> dict:
    return {
        "supplier_installation_id": inst,
        "cn_code": None,
        "material_id": material,
        "period_start": start,
        "period_end": end,
        "see_direct": None,
        "see_indirect": None,
        "embedded_electricity_mwh_per_t": None,
        "electricity_ef_tco2_per_mwh": None,
        "electricity_ef_source": None,
        "determination": None,
        "verified": False,
        "pcf_kgco2e_per_unit": value,
        "pcf_unit": unit,
        "document_ref": ref,
    }


def write_supplier_emissions(rec: _Recorder, corrections: list[Correction]) -> None:
    """Communications as they arrive: the Jiangsu mill's preliminary 2025 values (unverified), replaced by
    the verified ones in March 2026; the Vietnamese mill passes on default values for 2025 and sends unverified
    actuals for 2026; the Yunnan smelter sends verified values; two material footprints (PCF)."""
    mill, vn, al = "CN-JS-HDTG-01", "VN-HP-SCS-01", "CN-YN-LYAL-01"
    lo, mid = "7213 91 49", "7213 91 70"
    prelim = _frame(
        [
            _see(mill, lo, 2025, 2.118, 0.516, "actual", False, "HDTG-CBAM-2025-P"),
            _see(mill, mid, 2025, 2.140, 0.526, "actual", False, "HDTG-CBAM-2025-P"),
        ],
        _SE_SCHEMA,
    )
    verified = _frame(
        [
            _see(mill, lo, 2025, 2.061, 0.516, "actual", True, "HDTG-CBAM-2025-V"),
            _see(mill, mid, 2025, 2.084, 0.526, "actual", True, "HDTG-CBAM-2025-V"),
        ],
        _SE_SCHEMA,
    )
    drops = [
        (dt.date(2025, 5, 20), "hdtg_communication_2025_preliminary.csv", prelim, "csv"),
        (
            dt.date(2025, 6, 30),
            "lyal_cbam_communication_2025.xlsx",
            _frame(
                [_see(al, "7601 20 20", 2025, 1.62, 13.57, "actual", True, "LYAL-2025-COMM-01")], _SE_SCHEMA
            ),
            "xlsx",
        ),
        (
            dt.date(2025, 6, 30),
            "pcf_declarations_2025.json",
            _frame(
                [
                    _pcf(
                        "CN-ZJ-JXMY-01",
                        "ZN-INGOT",
                        dt.date(2025, 1, 1),
                        3.1,
                        "kg",
                        "EPD-ZN-2024-117",
                        dt.date(2025, 12, 31),
                    ),
                    _pcf("CN-ZJ-DCHG-01", "MEOH", dt.date(2025, 1, 1), 0.71, "kg", "DCHG-PCF-2025"),
                ],
                _SE_SCHEMA,
            ),
            "json",
        ),
        (
            dt.date(2025, 9, 12),
            "scs_default_values_2025.csv",
            _frame(
                [
                    _see(vn, lo, 2025, 2.35, None, "default", False, "SCS/CBAM/2025/DV"),
                    _see(vn, mid, 2025, 2.35, None, "default", False, "SCS/CBAM/2025/DV"),
                ],
                _SE_SCHEMA,
            ),
            "csv",
        ),
        (dt.date(2026, 3, 12), "hdtg_communication_2025_verified.xlsx", verified, "xlsx"),
        (
            dt.date(2026, 4, 15),
            "lyal_cbam_communication_2026.xlsx",
            _frame(
                [_see(al, "7601 20 20", 2026, 1.58, 13.42, "actual", True, "LYAL-2026-COMM-01")], _SE_SCHEMA
            ),
            "xlsx",
        ),
        (
            dt.date(2026, 5, 6),
            "scs_communication_2026.csv",
            _frame(
                [
                    _see(vn, lo, 2026, 2.21, 0.48, "actual", False, "SCS/CBAM/2026/01"),
                    _see(vn, mid, 2026, 2.24, 0.49, "actual", False, "SCS/CBAM/2026/01"),
                ],
                _SE_SCHEMA,
            ),
            "csv",
        ),
        (
            dt.date(2026, 8, 10),
            "hdtg_communication_2026.xlsx",
            _frame(
                [
                    _see(mill, lo, 2026, 2.032, 0.509, "actual", True, "HDTG-CBAM-2026-V"),
                    _see(mill, mid, 2026, 2.055, 0.519, "actual", True, "HDTG-CBAM-2026-V"),
                ],
                _SE_SCHEMA,
            ),
            "xlsx",
        ),
        (
            dt.date(2026, 8, 10),
            "pcf_declarations_2026.json",
            _frame(
                [
                    _pcf(
                        "CN-ZJ-JXMY-01",
                        "ZN-INGOT",
                        dt.date(2026, 1, 1),
                        2.9,
                        "kg",
                        "EPD-ZN-2025-088",
                        dt.date(2026, 12, 31),
                    )
                ],
                _SE_SCHEMA,
            ),
            "json",
        ),
    ]
    for drop, name, df, fmt in drops:
        if fmt == "csv":
            rec.put(
                "supplier_emissions",
                drop,
                name,
                df,
                lambda p, f=df: fm.write_csv(f, p, headers=EMISSION_HEADERS),
                fmt="csv",
                encoding="utf-8",
                separator=",",
                header_row=1,
            )
        elif fmt == "xlsx":
            title = ["CBAM Communication - summary of products (extract)"]
            rec.put(
                "supplier_emissions",
                drop,
                name,
                df,
                lambda p, f=df, d=drop, t=title: fm.write_xlsx(
                    f, p, created=d, sheet="supplier_emissions", title_rows=t
                ),
                fmt="xlsx",
                header_row=len(title) + 1,
            )
        else:
            rec.put(
                "supplier_emissions",
                drop,
                name,
                df,
                lambda p, f=df: fm.write_json_array(f, p),
                fmt="json",
                encoding="utf-8",
            )
    for row in range(2):
        corrections.append(
            Correction(
                "supplier_emissions",
                {
                    "supplier_installation_id": mill,
                    "cn_code": prelim["cn_code"][row],
                    "material_id": None,
                    "period_start": "2025-01-01",
                },
                "see_direct",
                prelim["see_direct"][row],
                verified["see_direct"][row],
                f"supplier_emissions/2025-05-20/{drops[0][1]}",
                row + 1,
                f"supplier_emissions/2026-03-12/{drops[4][1]}",
                row + 1,
                "verified communication replaces the preliminary unverified one (verified false -> true)",
            )
        )


def write_carbon_prices(rec: _Recorder) -> None:
    drop = dt.date(2025, 4, 3)
    df = _frame(
        [
            {
                "installation_id": w.GD,
                "period_start": dt.date(2025, 1, 1),
                "period_end": dt.date(2025, 12, 31),
                "instrument": "regional ETS",
                "legal_act": "ILLUSTRATIVE DEMO ROW, not a real obligation of this plant: 广东省碳排放管理试行办法 "
                "(Guangdong pilot ETS). China's national ETS does not cover extrusion in 2025.",
                "price": 42.5,
                "currency": "CNY",
                "share_covered": 0.35,
                "rebate_type": "free allocation",
                "rebate_share": 0.95,
            }
        ]
    )
    rec.put(
        "carbon_prices",
        drop,
        "carbon_price_gd_illustrative.csv",
        df,
        lambda p: fm.write_csv(df, p),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        note="illustrative only",
    )
