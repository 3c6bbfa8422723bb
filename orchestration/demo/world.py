"""The demo's fixed world: two Chinese plants exporting CBAM goods to the EU, their processes, monitoring plan,
products, purchased materials, suppliers, EU importers and the places their freight passes through.

A steel-fastener plant in Ningbo (Zhejiang) cold-heads wire rod into bolts, nuts and washers (P1), and heat
treats most of it (P2). It buys wire rod from a Jiangsu mill with verified actual emissions, from a Hebei mill
without any (so default values apply) and from a Vietnamese mill. An aluminium extrusion plant in Foshan
(Guangdong) turns billets from a Yunnan smelter (verified actual) and an Inner-Mongolian one (defaults) into
profiles, on grid power plus a wind PPA and park steam. Values are realistic, not real: names are invented.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

TODAY = dt.date(2026, 11, 24)
FIRST_MONTH = (2025, 1)
LAST_MONTH = (2026, 10)  # the October 2026 drop lands on 2026-11-03; November is not closed yet

MASTER_DROP_1 = dt.date(2025, 1, 5)  # every snapshot dataset
MASTER_DROP_PRODUCTS = dt.date(2025, 7, 5)  # products: a new 12.9 socket screw
MASTER_DROP_SUPPLIERS = dt.date(2026, 1, 5)  # suppliers: the Hebei mill renamed after a merger

ZJ = "CN-ZJ-001"
GD = "CN-GD-002"

# Physical constants used in the story (docs/methodology/ghg-logistics.md, docs/methodology/cbam.md).
NG_NCV_GJ_PER_1000NM3 = 38.931  # GB/T 32150: 389.31 GJ per 10^4 Nm3
NG_EF_TCO2_PER_TJ = 56.1
DIESEL_NCV_GJ_PER_KL = 36.12  # 43.0 GJ/t x 0.84 t/kL
DIESEL_EF_TCO2_PER_TJ = 74.1
METHANOL_EF_TCO2_PER_T = 1.374  # 0.375 tC/t x 3.664
GAS_M3_PER_NM3 = 293.15 / 273.15  # billing volume at 20 degC per normal m3
STEAM_EF_TCO2_PER_TJ = (
    105.1  # coal 94.6 tCO2/TJ at 90 % boiler efficiency (bought heat without supplier data)
)


def month_list() -> list[tuple[int, int]]:
    out, (y, m) = [], FIRST_MONTH
    while (y, m) <= LAST_MONTH:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_start(y: int, m: int) -> dt.date:
    return dt.date(y, m, 1)


def month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)) - dt.timedelta(days=1)


def drop_of_month(y: int, m: int) -> dt.date:
    """Monthly event drops land on the 3rd of the following month."""
    return dt.date(y + 1, 1, 3) if m == 12 else dt.date(y, m + 1, 3)


# Production seasonality (Chinese New Year in February, Golden Week in October) and 2026 growth.
SEASON = {
    1: 0.95,
    2: 0.66,
    3: 1.02,
    4: 1.05,
    5: 1.05,
    6: 1.03,
    7: 0.98,
    8: 0.97,
    9: 1.04,
    10: 0.93,
    11: 1.06,
    12: 1.07,
}
GROWTH = {2025: 1.0, 2026: 1.04}
SOLAR = {
    1: 0.62,
    2: 0.70,
    3: 0.88,
    4: 1.02,
    5: 1.12,
    6: 1.05,
    7: 1.30,
    8: 1.26,
    9: 1.08,
    10: 0.95,
    11: 0.78,
    12: 0.64,
}

INSTALLATIONS = [
    {
        "installation_id": ZJ,
        "name": "宁波甬坚紧固件有限公司",
        "name_en": "Ningbo Yongjian Fasteners Co., Ltd.",
        "country": "中国",
        "city": "宁波",
        "address": "浙江省宁波市北仑区大港工业城甬坚路88号",
        "postcode": "315800",
        "unlocode": "CNNGB",
        "latitude": 29.9035,
        "longitude": 121.8427,
        "operator_id": "91330206MA2H8Y3K5L",
        "operator_name": "宁波甬坚紧固件有限公司",
        "registry_installation_id": "CNCBAMI000117",
        "grid_region": "浙江",
    },
    {
        "installation_id": GD,
        "name": "佛山南粤铝型材有限公司",
        "name_en": "Foshan Nanyue Aluminium Profiles Co., Ltd.",
        "country": "CN",
        "city": "佛山",
        "address": "广东省佛山市南海区大沥镇铝型材产业园6号",
        "postcode": "528231",
        "unlocode": "CNFOS",
        "latitude": 23.0830,
        "longitude": 113.1060,
        "operator_id": "91440605MA4UQ2R71X",
        "operator_name": "佛山南粤铝型材有限公司",
        "registry_installation_id": "CNCBAMI000254",
        "grid_region": "South China",
    },
]

PROCESSES = [
    {
        "installation_id": ZJ,
        "process_id": "P1",
        "name": "拉丝冷镦 Wire drawing and cold heading",
        "goods_category": "Iron or steel products",
        "route": None,
    },
    {
        "installation_id": ZJ,
        "process_id": "P2",
        "name": "热处理及表面处理 Heat treatment and finishing",
        "goods_category": "Iron or steel products",
        "route": None,
    },
    {
        "installation_id": GD,
        "process_id": "P1",
        "name": "挤压及表面处理 Extrusion and surface treatment",
        "goods_category": "aluminium products",
        "route": None,
    },
]

SOURCE_STREAMS = [
    {
        "installation_id": ZJ,
        "stream_id": "S01",
        "name": "天然气 Natural gas (furnaces)",
        "method": "combustion",
        "unit": "1000Nm3",
        "ncv": NG_NCV_GJ_PER_1000NM3,
        "ncv_unit": "GJ/1000Nm3",
        "ef": NG_EF_TCO2_PER_TJ,
        "ef_unit": "tCO2/TJ",
        "oxidation_factor": 1.0,
        "biomass_fraction": 0.0,
        "gas": "CO2",
        "energy_carrier": "natural_gas",
        "gas_reference_c": 20.0,
        "default_process_id": "P2",
    },
    {
        "installation_id": ZJ,
        "stream_id": "S02",
        "name": "叉车柴油 Diesel (forklifts)",
        "method": "combustion",
        "unit": "kL",
        "ncv": DIESEL_NCV_GJ_PER_KL,
        "ncv_unit": "GJ/kL",
        "ef": DIESEL_EF_TCO2_PER_TJ,
        "ef_unit": "tCO2/TJ",
        "oxidation_factor": 1.0,
        "biomass_fraction": 0.0,
        "gas": "CO2",
        "energy_carrier": "diesel",
        "gas_reference_c": None,
        "default_process_id": "P1",
    },
    {
        "installation_id": ZJ,
        "stream_id": "S03",
        "name": "甲醇 Methanol (protective atmosphere)",
        "method": "process",
        "unit": "t",
        "ncv": None,
        "ncv_unit": None,
        "ef": METHANOL_EF_TCO2_PER_T,
        "ef_unit": "tCO2/t",
        "oxidation_factor": None,
        "biomass_fraction": 0.0,
        "gas": "CO2",
        "energy_carrier": None,
        "gas_reference_c": None,
        "default_process_id": "P2",
    },
    {
        "installation_id": GD,
        "stream_id": "S01",
        "name": "天然气 Natural gas (billet heating, ageing, curing)",
        "method": "combustion",
        "unit": "1000Nm3",
        "ncv": NG_NCV_GJ_PER_1000NM3,
        "ncv_unit": "GJ/1000Nm3",
        "ef": NG_EF_TCO2_PER_TJ,
        "ef_unit": "tCO2/TJ",
        "oxidation_factor": 1.0,
        "biomass_fraction": 0.0,
        "gas": "CO2",
        "energy_carrier": "natural_gas",
        "gas_reference_c": 20.0,
        "default_process_id": "P1",
    },
    {
        "installation_id": GD,
        "stream_id": "S02",
        "name": "叉车柴油 Diesel (forklifts)",
        "method": "combustion",
        "unit": "kL",
        "ncv": DIESEL_NCV_GJ_PER_KL,
        "ncv_unit": "GJ/kL",
        "ef": DIESEL_EF_TCO2_PER_TJ,
        "ef_unit": "tCO2/TJ",
        "oxidation_factor": 1.0,
        "biomass_fraction": 0.0,
        "gas": "CO2",
        "energy_carrier": "diesel",
        "gas_reference_c": None,
        "default_process_id": "P1",
    },
]


def _qp(**kw: float) -> str:
    return json.dumps(kw, sort_keys=True)


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    name_en: str
    cn_code: str  # as written in the master file (spaces allowed)
    china_hs_code: str
    installation_id: str
    process_id: str
    unit_mass_t: float | None  # sold in pieces when set
    qualifying_parameters: str | None
    share: float  # share of its process's output
    since: tuple[int, int] = FIRST_MONTH  # first production month


_STEEL_QP = {"carbon_content_pct": 0.22, "mn_pct": 0.85, "cr_pct": 0.0, "ni_pct": 0.0, "scrap_t_per_t": 0.0}
PRODUCTS = [
    Product(
        "ZJ-WSH-M10",
        "M10平垫圈",
        "Flat washer M10",
        "7318 22 00",
        "7318220000",
        ZJ,
        "P1",
        None,
        _qp(**_STEEL_QP),
        0.08,
    ),
    Product(
        "ZJ-BLT48-M10",
        "4.8级六角螺栓M10",
        "Hexagon bolt M10 grade 4.8",
        "7318 15 81",
        "7318150090",
        ZJ,
        "P1",
        None,
        _qp(**_STEEL_QP),
        0.17,
    ),
    Product(
        "ZJ-BLT88-M12",
        "8.8级六角螺栓M12×50",
        "Hexagon bolt M12x50 grade 8.8",
        "7318 15 89",
        "7318150001",
        ZJ,
        "P2",
        0.0000630,
        _qp(**{**_STEEL_QP, "carbon_content_pct": 0.35, "mn_pct": 0.75}),
        0.45,
    ),
    Product(
        "ZJ-BLT109-M16",
        "10.9级六角螺栓M16×60",
        "Hexagon bolt M16x60 grade 10.9",
        "7318 15 89",
        "7318150001",
        ZJ,
        "P2",
        0.0001450,
        _qp(**{**_STEEL_QP, "carbon_content_pct": 0.37, "mn_pct": 0.80, "cr_pct": 0.9}),
        0.25,
    ),
    Product(
        "ZJ-NUT8-M12",
        "8级六角螺母M12",
        "Hexagon nut M12 grade 8",
        "7318 16 91",
        "7318160000",
        ZJ,
        "P2",
        0.0000170,
        _qp(**_STEEL_QP),
        0.30,
    ),
    # New in the 2025-07-05 products drop; takes 8 % of P2 from July 2025.
    Product(
        "ZJ-SCR129-M8",
        "12.9级内六角圆柱头螺钉M8×30",
        "Hexagon socket cap screw M8x30 grade 12.9",
        "7318 15 69",
        "7318150001",
        ZJ,
        "P2",
        0.0000210,
        _qp(**{**_STEEL_QP, "carbon_content_pct": 0.40, "mn_pct": 0.75, "cr_pct": 1.0}),
        0.08,
        (2025, 7),
    ),
    Product(
        "GD-PRF-H6063",
        "6063-T5空心型材",
        "Hollow profile 6063-T5",
        "7604 21 00",
        "7604210000",
        GD,
        "P1",
        None,
        _qp(non_al_elements_pct=1.1, scrap_t_per_t=0.12, pre_consumer_scrap_pct=100.0),
        0.50,
    ),
    Product(
        "GD-PRF-S6063",
        "6063-T5实心型材",
        "Solid profile 6063-T5",
        "7604 29 90",
        "7604299000",
        GD,
        "P1",
        None,
        _qp(non_al_elements_pct=1.1, scrap_t_per_t=0.12, pre_consumer_scrap_pct=100.0),
        0.35,
    ),
    Product(
        "GD-BAR-6061",
        "6061-T6铝棒",
        "Bar 6061-T6",
        "7604 29 10",
        "7604291000",
        GD,
        "P1",
        None,
        _qp(non_al_elements_pct=2.4, scrap_t_per_t=0.05, pre_consumer_scrap_pct=100.0),
        0.15,
    ),
]
NEW_PRODUCT = "ZJ-SCR129-M8"


@dataclass(frozen=True)
class Material:
    material_id: str
    name: str
    kind: str  # precursor | fuel | material | service
    cn_code: str | None = None
    goods_category: str | None = None
    route: str | None = None
    installation_id: str | None = None
    process_id: str | None = None
    stream_id: str | None = None
    unit_mass_t: float | None = None
    pcf_kgco2e_per_unit: float | None = None
    pcf_unit: str | None = None
    # invoice line habits: unit symbol, typical quantity, price per unit (CNY)
    unit: str = "t"
    typical_qty: float = 1.0
    price: float = 1.0


MATERIALS = [
    Material(
        "WR-SWRCH22A",
        "冷镦钢盘条 SWRCH22A Ø10-16",
        "precursor",
        "7213 91 49",
        "Iron or steel products",
        "Blast furnace - basic oxygen furnace",
        ZJ,
        "P1",
        unit="t",
        typical_qty=33.0,
        price=3950.0,
    ),
    Material(
        "WR-SWRCH35K",
        "冷镦钢盘条 SWRCH35K Ø12-20",
        "precursor",
        "7213.91.70",
        "Iron or steel products",
        "Blast furnace - basic oxygen furnace",
        ZJ,
        "P1",
        unit="t",
        typical_qty=33.0,
        price=4120.0,
    ),
    Material(
        "AL-BIL-6063",
        "6063铝合金圆铸棒 Ø178",
        "precursor",
        "76012020",
        "Unwrought aluminium",
        "Primary (electrolysis)",
        GD,
        "P1",
        unit="t",
        typical_qty=60.0,
        price=20650.0,
    ),
    Material(
        "AL-BIL-6061",
        "6061铝合金圆铸棒 Ø203",
        "precursor",
        "7601 20 20",
        "Unwrought aluminium",
        "Primary (electrolysis)",
        GD,
        "P1",
        unit="t",
        typical_qty=60.0,
        price=21300.0,
    ),
    Material(
        "NG-ZJ",
        "管道天然气 Pipeline natural gas",
        "fuel",
        installation_id=ZJ,
        process_id="P2",
        stream_id="S01",
        unit="m3",
    ),
    Material(
        "NG-GD",
        "管道天然气 Pipeline natural gas",
        "fuel",
        installation_id=GD,
        process_id="P1",
        stream_id="S01",
        unit="m3",
    ),
    Material("DSL-0", "0号柴油 Diesel", "fuel", stream_id="S02", unit="L"),
    Material(
        "MEOH",
        "工业甲醇 Methanol",
        "material",
        installation_id=ZJ,
        process_id="P2",
        stream_id="S03",
        pcf_kgco2e_per_unit=0.74,
        pcf_unit="kg",
        unit="t",
        typical_qty=9.0,
        price=2450.0,
    ),
    Material(
        "ZN-INGOT",
        "0号锌锭 Zinc ingot",
        "material",
        installation_id=ZJ,
        process_id="P2",
        pcf_kgco2e_per_unit=3.4,
        pcf_unit="kg",
        unit="kg",
        typical_qty=850.0,
        price=23.5,
    ),
    Material(
        "PHOS-CHEM",
        "磷化液 Phosphating agent",
        "material",
        installation_id=ZJ,
        process_id="P1",
        pcf_kgco2e_per_unit=1.25,
        pcf_unit="kg",
        unit="kg",
        typical_qty=400.0,
        price=9.8,
    ),
    Material(
        "DRAW-LUB",
        "拉丝粉 Wire drawing lubricant",
        "material",
        installation_id=ZJ,
        process_id="P1",
        pcf_kgco2e_per_unit=1.6,
        pcf_unit="kg",
        unit="kg",
        typical_qty=250.0,
        price=12.0,
    ),
    Material(
        "QUENCH-OIL",
        "淬火油 Quenching oil",
        "material",
        installation_id=ZJ,
        process_id="P2",
        pcf_kgco2e_per_unit=0.95,
        pcf_unit="L",
        unit="L",
        typical_qty=200.0,
        price=14.5,
    ),
    Material(
        "CARTON-L",
        "五层瓦楞纸箱 Carton box",
        "material",
        unit_mass_t=0.00045,
        pcf_kgco2e_per_unit=0.40,
        pcf_unit="pcs",
        unit="pcs",
        typical_qty=600.0,
        price=4.2,
    ),
    Material(
        "PALLET-W",
        "熏蒸木托盘 Wooden pallet",
        "material",
        unit_mass_t=0.018,
        pcf_kgco2e_per_unit=3.1,
        pcf_unit="pcs",
        unit="pcs",
        typical_qty=40.0,
        price=65.0,
    ),
    Material(
        "STRAP-PET",
        "PET打包带 PET strapping",
        "material",
        pcf_kgco2e_per_unit=2.3,
        pcf_unit="kg",
        unit="kg",
        typical_qty=120.0,
        price=11.0,
    ),
    Material(
        "DIE-CARB",
        "硬质合金冷镦模 Carbide heading die",
        "material",
        installation_id=ZJ,
        process_id="P1",
        unit_mass_t=0.0012,
        pcf_kgco2e_per_unit=28.0,
        pcf_unit="pcs",
        unit="pcs",
        typical_qty=6.0,
        price=1850.0,
    ),
    Material("GLOVE", "劳保手套 Work gloves", "material", unit="pcs", typical_qty=300.0, price=2.1),
    Material(
        "H2SO4",
        "硫酸98% Sulphuric acid",
        "material",
        installation_id=GD,
        process_id="P1",
        pcf_kgco2e_per_unit=0.14,
        pcf_unit="kg",
        unit="kg",
        typical_qty=1800.0,
        price=0.9,
    ),
    Material(
        "NAOH",
        "液碱32% Caustic soda",
        "material",
        installation_id=GD,
        process_id="P1",
        pcf_kgco2e_per_unit=1.12,
        pcf_unit="kg",
        unit="kg",
        typical_qty=1500.0,
        price=1.1,
    ),
    Material(
        "POWDER-PE",
        "聚酯粉末涂料 Polyester powder coating",
        "material",
        installation_id=GD,
        process_id="P1",
        pcf_kgco2e_per_unit=4.6,
        pcf_unit="kg",
        unit="kg",
        typical_qty=500.0,
        price=26.0,
    ),
    Material(
        "FILM-PE",
        "型材保护膜 Protective film",
        "material",
        installation_id=GD,
        process_id="P1",
        pcf_kgco2e_per_unit=2.4,
        pcf_unit="kg",
        unit="kg",
        typical_qty=300.0,
        price=13.5,
    ),
    Material(
        "N2-LIQ",
        "液氮 Liquid nitrogen",
        "material",
        installation_id=GD,
        process_id="P1",
        pcf_kgco2e_per_unit=0.32,
        pcf_unit="kg",
        unit="t",
        typical_qty=4.0,
        price=780.0,
    ),
    Material(
        "SVC-ZNPLATE",
        "外协镀锌 Zinc plating (subcontracted)",
        "service",
        installation_id=ZJ,
        process_id="P2",
        pcf_kgco2e_per_unit=380.0,
        pcf_unit="t",
        unit="t",
        typical_qty=12.0,
        price=1300.0,
    ),
    Material(
        "SVC-MAINT", "设备维保 Equipment maintenance", "service", unit="pcs", typical_qty=1.0, price=4800.0
    ),
]
MATERIAL_BY_ID = {m.material_id: m for m in MATERIALS}


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    country: str  # as written in the master file (deliberately varied spellings)
    installation_id: str | None
    iso2: str
    materials: tuple[str, ...]
    plant: str | None = None  # the demo plant it serves (None: both)
    weight: float = 1.0  # share of that plant's consumable invoices


SUPPLIERS = [
    Supplier(
        "SUP-WR-01", "江苏华东特钢有限公司", "中国", "CN-JS-HDTG-01", "CN", ("WR-SWRCH22A", "WR-SWRCH35K"), ZJ
    ),
    Supplier(
        "SUP-WR-02", "河北冀北线材有限公司", "CHN", "CN-HE-JBXC-02", "CN", ("WR-SWRCH22A", "WR-SWRCH35K"), ZJ
    ),
    Supplier(
        "SUP-WR-03",
        "Saigon Coastal Steel JSC",
        "Vietnam",
        "VN-HP-SCS-01",
        "VN",
        ("WR-SWRCH22A", "WR-SWRCH35K"),
        ZJ,
    ),
    Supplier(
        "SUP-AL-01",
        "云南绿源铝业有限公司",
        "China",
        "CN-YN-LYAL-01",
        "CN",
        ("AL-BIL-6063", "AL-BIL-6061"),
        GD,
    ),
    Supplier(
        "SUP-AL-02", "内蒙古北方铝业有限公司", "CN", "CN-NM-BFAL-02", "CN", ("AL-BIL-6063", "AL-BIL-6061"), GD
    ),
    Supplier(
        "SUP-ZJ-PKG",
        "宁波恒丰包装材料有限公司",
        "中国",
        None,
        "CN",
        ("CARTON-L", "PALLET-W", "STRAP-PET"),
        ZJ,
        3.0,
    ),
    Supplier(
        "SUP-ZJ-CHEM",
        "浙江东辰化工有限公司",
        "中华人民共和国",
        "CN-ZJ-DCHG-01",
        "CN",
        ("PHOS-CHEM", "DRAW-LUB", "QUENCH-OIL", "MEOH"),
        ZJ,
        2.0,
    ),
    Supplier("SUP-ZJ-ZN", "宁波金锌贸易有限公司", "PRC", "CN-ZJ-JXMY-01", "CN", ("ZN-INGOT",), ZJ, 1.0),
    Supplier("SUP-ZJ-PLATE", "宁波北仑表面处理厂", "CN", None, "CN", ("SVC-ZNPLATE",), ZJ, 1.5),
    Supplier("SUP-JP-TOOL", "大阪精密超硬工具株式会社", "日本", None, "JP", ("DIE-CARB",), ZJ, 0.6),
    Supplier(
        "SUP-GD-PKG",
        "广州粤华包装有限公司",
        "China",
        None,
        "CN",
        ("CARTON-L", "PALLET-W", "FILM-PE"),
        GD,
        2.5,
    ),
    Supplier("SUP-GD-CHEM", "佛山南海化工原料有限公司", "中国", None, "CN", ("H2SO4", "NAOH"), GD, 2.0),
    Supplier(
        "SUP-HK-COAT", "Kam Yuen Coatings Trading Ltd.", "中国香港", None, "HK", ("POWDER-PE",), GD, 1.2
    ),
    Supplier(
        "SUP-GD-GAS",
        "东莞华粤工业气体有限公司",
        "People's Republic of China",
        None,
        "CN",
        ("N2-LIQ",),
        GD,
        0.8,
    ),
    Supplier(
        "SUP-MRO",
        "华南工业品超市（广州）有限公司",
        "CN",
        None,
        "CN",
        ("GLOVE", "STRAP-PET", "SVC-MAINT"),
        None,
        2.0,
    ),
]
SUPPLIER_BY_ID = {s.supplier_id: s for s in SUPPLIERS}
RENAMED_SUPPLIER = ("SUP-WR-02", "河北冀钢集团线材有限公司")  # merger announced late 2025
BAD_COUNTRY_SUPPLIER = (
    "SUP-GD-GAS",
    "中囯",
)  # typo (囯 for 国) in the 2026 drop: unresolvable, keeps old row

# Wire rod and billet purchasing: supplier shares and lot sizes (t per delivery).
WIRE_ROD_SUPPLY = [("SUP-WR-01", 0.50, 33.0), ("SUP-WR-02", 0.30, 60.0), ("SUP-WR-03", 0.20, 210.0)]
BILLET_SUPPLY = [("SUP-AL-01", 0.60, 60.0), ("SUP-AL-02", 0.40, 60.0)]
WIRE_ROD_PER_T_P1 = 1.055  # t wire rod per t P1 output (cut-offs, scale)
BILLET_PER_T = 1.17  # t billet per t profile (extrusion scrap returned to the smelter)


@dataclass(frozen=True)
class Importer:
    eori: str
    name: str
    country: str  # spelling used in the exports files
    destination: str  # spelling of the destination member state
    iso2: str
    plant: str
    route: str  # sea_rtm | sea_ham | rail_dui | sea_pir | sea_szx_rtm
    weight: float


IMPORTERS = [
    Importer(
        "DE123456789012345", "Rheinland Befestigungstechnik GmbH", "Germany", "DE", "DE", ZJ, "rail_dui", 3.0
    ),
    Importer("DE987650000012345", "Hanse Schrauben Handel GmbH", "德国", "DEU", "DE", ZJ, "sea_ham", 2.0),
    Importer("NL812345678", "Holland Fasteners B.V.", "NL", "荷兰", "NL", ZJ, "sea_rtm", 2.5),
    Importer("IT01234567890", "Bulloneria Padana S.r.l.", "Italy", "IT", "IT", ZJ, "sea_rtm", 1.5),
    Importer("PL5251234567", "Śruby Polska Sp. z o.o.", "POL", "Poland", "PL", ZJ, "rail_dui", 1.5),
    Importer("IT09876543210", "Alluminio Veneto S.p.A.", "IT", "意大利", "IT", GD, "sea_pir", 2.0),
    Importer("EL094123456", "Hellenic Profiles S.A.", "Greece", "GR", "GR", GD, "sea_pir", 1.5),
    Importer("DE555666777888999", "Fassadenbau Nord GmbH", "DE", "Germany", "DE", GD, "sea_szx_rtm", 2.0),
    Importer("PL8971234567", "Aluprofil Wrocław Sp. z o.o.", "PL", "波兰", "PL", GD, "sea_szx_rtm", 1.0),
]

# Places named by shipments. Legs between two of the LOCODE places may come without distance_km (the
# logistics engine computes it); every leg touching another place carries its distance.
PLACES = [
    {"locode": "CNNGB", "name_en": "Ningbo", "name_zh": "宁波", "country": "CN", "lat": 29.94, "lon": 121.86},
    {"locode": "CNFOS", "name_en": "Foshan", "name_zh": "佛山", "country": "CN", "lat": 23.02, "lon": 113.12},
    {"locode": "CNNSA", "name_en": "Nansha", "name_zh": "南沙", "country": "CN", "lat": 22.75, "lon": 113.60},
    {
        "locode": "CNSZX",
        "name_en": "Shenzhen",
        "name_zh": "深圳",
        "country": "CN",
        "lat": 22.54,
        "lon": 114.06,
    },
    {"locode": "CNYIW", "name_en": "Yiwu", "name_zh": "义乌", "country": "CN", "lat": 29.31, "lon": 120.08},
    {"locode": "CNXIY", "name_en": "Xi'an", "name_zh": "西安", "country": "CN", "lat": 34.34, "lon": 108.94},
    {
        "locode": "NLRTM",
        "name_en": "Rotterdam",
        "name_zh": "鹿特丹",
        "country": "NL",
        "lat": 51.95,
        "lon": 4.14,
    },
    {"locode": "DEHAM", "name_en": "Hamburg", "name_zh": "汉堡", "country": "DE", "lat": 53.54, "lon": 9.98},
    {
        "locode": "DEDUI",
        "name_en": "Duisburg",
        "name_zh": "杜伊斯堡",
        "country": "DE",
        "lat": 51.43,
        "lon": 6.76,
    },
    {
        "locode": "GRPIR",
        "name_en": "Piraeus",
        "name_zh": "比雷埃夫斯",
        "country": "GR",
        "lat": 37.94,
        "lon": 23.64,
    },
    {
        "locode": "VNHPH",
        "name_en": "Hai Phong",
        "name_zh": "海防",
        "country": "VN",
        "lat": 20.86,
        "lon": 106.68,
    },
]

# Typical distances (km) written on legs that carry one.
SEA_KM = {
    ("CNNGB", "NLRTM"): 19550.0,
    ("CNNGB", "DEHAM"): 20210.0,
    ("CNNSA", "GRPIR"): 14630.0,
    ("CNSZX", "NLRTM"): 18890.0,
    ("VNHPH", "CNNGB"): 2480.0,
}
RAIL_KM = {("CNYIW", "DEDUI"): 13050.0}
