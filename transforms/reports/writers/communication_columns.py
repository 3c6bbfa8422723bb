"""Columns and labels of the operator communication workbook (writers/communication_xlsx.py): the template
v2.1.1 texts in English with Chinese alongside, the model field each column shows, and its number format."""

from __future__ import annotations

from typing import Any


def bi(en: str, zh: str) -> str:
    """A bilingual header: the template's English text, Chinese below it."""
    return f"{en}\n{zh}"


# --------------------------------------------------------------------------------- Summary_Communication
INSTALLATION_ROWS = (  # (template label, Chinese, installation field, format); rows 12..21, values in G
    ("Name of the installation (English name):", "装置名称（英文）", "name_en", "text"),
    ("Street, Number:", "街道、门牌号", "address", "text"),
    ("Economic activity:", "经济活动", "economic_activity", "text"),
    ("City:", "城市", "city", "text"),  # the template's formula shows the city on a row it labels "Country:"
    ("Country:", "国家", "country", "text"),
    ("UNLOCODE:", "联合国贸易和运输地点代码", "unlocode", "text"),
    ("Coordinates of the main emission source (latitude):", "主要排放源坐标（纬度）", "latitude", "coord"),
    ("Coordinates of the main emission source (longitude):", "主要排放源坐标（经度）", "longitude", "coord"),
    ("Reporting period start:", "报告期开始", "period_start", "date"),
    ("Reporting period end:", "报告期结束", "period_end", "date"),
)
FURTHER_ROWS = (  # label in AL, value in AM, rows 14..
    ("Installation name (as registered):", "装置名称", "name"),
    (
        "Unique installation identifier in the CBAM Registry:",
        "CBAM登记处装置编号",
        "registry_installation_id",
    ),
    ("Name of the operator:", "运营者名称", "operator_name"),
    ("Operator registration number:", "运营者登记号", "operator_id"),
    ("Postcode:", "邮编", "postcode"),
    ("Country name:", "国家名称", "country_name_zh"),
    ("lingtan installation id:", "灵碳装置编号", "installation_id"),
)
EMISSION_COLUMNS = (  # (column, template header, Chinese, emissions field); unit in row 12, value in row 13
    ("AA", "Calculation - based (excl. PFC emissions)", "基于计算（不含PFC）", "calculation_based_tco2e"),
    ("AC", "Total PFC emissions", "PFC排放合计", "pfc_tco2e"),
    ("AE", "Measurement - based", "基于测量", "measurement_based_tco2e"),
    ("AG", "Other", "其他", "other_tco2e"),
)
TOTAL_ROWS = (  # row, label, Chinese, field; unit in AH, value in AI
    (15, "Total direct emissions during reporting period:", "报告期直接排放总量", "direct_tco2e"),
    (16, "Total indirect emissions during reporting period:", "报告期间接排放总量", "indirect_tco2e"),
    (17, "Total emissions during reporting period:", "报告期排放总量", "total_tco2e"),
)
PRODUCT_HEADER_ROW = 25  # 1-based, as in the template
# (template header, Chinese, product field or ("qualifying", keys) or None for an empty carbon-price column, fmt)
QUALIFYING = (
    ("The main reducing agent of the precursor, if known", "前体主要还原剂", ("main_reducing_agent",)),
    ("Steel mill identification number", "钢厂识别号", ("steel_mill_id",)),
    ("% Mn", "锰含量", ("mn_pct",)),
    ("% Cr", "铬含量", ("cr_pct",)),
    ("% Ni", "镍含量", ("ni_pct",)),
    ("% other alloys", "其他合金含量", ("other_alloys_pct",)),
    ("% carbon", "碳含量", ("carbon_pct", "carbon_content_pct")),
    ("t scrap per t steel", "每吨钢废钢用量", ("scrap_t_per_t_steel", "scrap_t_per_t@steel")),
    ("% other materials", "其他材料含量", ("other_materials_pct",)),
    ("% pre-consumer scrap", "消费前废料比例", ("pre_consumer_scrap_pct",)),
    ("t scrap per t aluminium", "每吨铝废料用量", ("scrap_t_per_t_aluminium", "scrap_t_per_t@aluminium")),
    ("% non-aluminium elements", "非铝元素含量", ("non_aluminium_pct", "non_al_elements_pct")),
    ("Clinker factor", "熟料系数", ("clinker_factor",)),
    ("Calcined or not", "是否煅烧", ("calcined",)),
    ("Concentration, if hydrous solution", "浓度（水溶液）", ("concentration",)),
    ("% nitric acid", "硝酸含量", ("nitric_acid_pct",)),
    ("% urea", "尿素含量", ("urea_pct",)),
    ("% N contained", "含氮量", ("n_content", "n_pct")),
    ("% N as ammonium (NH4+)", "铵态氮比例", ("n_ammonium_pct",)),
    ("% N as nitrate (NO3–)", "硝态氮比例", ("n_nitrate_pct",)),
    ("% N as Urea", "尿素态氮比例", ("n_urea_pct",)),
    ("% N in other (organic) forms", "其他（有机）形态氮比例", ("n_organic_pct",)),
)
PRODUCT_COLUMNS: tuple[tuple[str | None, str, Any, str], ...] = (
    ("Production process from which the products arise", "产品所属生产过程", "process_name", "text"),
    ("Type of aggregated good or precursor", "汇总货物类别或前体", "goods_category", "text"),
    ("CN Codes", "CN编码", "cn_code", "text"),
    ("CN Name", "CN名称", "cn_name", "text"),
    (
        "Product name \n(used for communication with reporting declarant, e.g. on invoices)",
        "产品名称",
        "product_name",
        "text",
    ),
    ("SEE (direct)", "直接排放强度", "see_direct", "see"),
    ("SEE (indirect)", "间接排放强度", "see_indirect", "see"),
    ("SEE (total)", "总排放强度", "see_total", "see"),
    ("Unit", "单位", "unit", "text"),
    ("Share of emissions by default value", "默认值排放占比", "default_value_share", "share"),
    ("Source for electricity EF", "电力排放因子来源", "electricity_ef_source", "text"),
    ("Embedded electricity (MWh/t)", "隐含电力（MWh/t）", "embedded_electricity_mwh_per_t", "see"),
    ("Electricity EF (tCO2/MWh)", "电力排放因子（tCO2/MWh）", "electricity_ef_tco2_per_mwh", "see"),
    *((en, zh, ("qualifying", keys), "number") for en, zh, keys in QUALIFYING),
    ("Type of instrument (carbon pricing)", "碳定价工具类型", None, "text"),
    (
        "Share of total embedded emissions covered by the carbon price",
        "碳价覆盖的隐含排放比例",
        None,
        "share",
    ),
    ("Embedded emissions covered by the carbon price", "碳价覆盖的隐含排放", None, "see"),
    (None, "", None, "text"),  # unit
    ("Currency", "币种", None, "text"),
    ("Carbon price (CP) due (per produced t or MWh)", "应付碳价（每吨或每MWh）", None, "number"),
    (None, "", None, "text"),
    ("Type of rebate", "返还类型", None, "text"),
    ("Share of embedded emissions covered by the rebate", "返还覆盖的隐含排放比例", None, "share"),
    ("Embedded emissions covered by rebate", "返还覆盖的隐含排放", None, "see"),
    (None, "", None, "text"),
    ("Amount of rebate (per produced t or MWh)", "返还金额（每吨或每MWh）", None, "number"),
    (None, "", None, "text"),
    ("Result: Effective CP due (per produced t or MWh)", "实际应付碳价（每吨或每MWh）", None, "number"),
    (None, "", None, "text"),
    (None, "", None, "text"),  # gap before lingtan's own columns
    ("lingtan: product id", "产品编号", "product_id", "text"),
    ("lingtan: product name (as the plant writes it)", "产品名称（原文）", "product_name_local", "text"),
    ("lingtan: determination (actual/default)", "确定方式（实际/默认）", "determination", "text"),
    ("lingtan: why default", "使用默认值的原因", "default_value_reason", "text"),
    ("lingtan: SEE chargeable (tCO2e/t)", "应计费排放强度", "see_chargeable", "see"),
    ("lingtan: SEE status", "排放强度状态", "see_status", "text"),
    ("lingtan: functional unit", "功能单位", "functional_unit", "text"),
    ("lingtan: SEE total per functional unit", "每功能单位总排放强度", "see_total_per_fu", "see"),
    ("lingtan: produced (t)", "产量（吨）", "produced_t", "tonnes"),
    (
        "lingtan: other qualifying parameters (as entered)",
        "其他限定参数（原文）",
        ("qualifying_rest",),
        "text",
    ),
)
FIRST_PRODUCT_COL = 3  # column D


# ------------------------------------------------------------------------------------------ other sheets
PROCESS_COLUMNS = (
    ("Process id", "过程编号", "process_id", "text"),
    ("Production process", "生产过程", "name", "text"),
    ("Aggregated goods category", "汇总货物类别", "goods_category", "text"),
    ("Route", "生产路线", "route", "text"),
    ("SEE status", "排放强度状态", "see_status", "text"),
    ("Activity level (t)", "活动水平（吨）", "activity_level_t", "tonnes"),
    ("Attributed direct emissions (tCO2e)", "归属直接排放（tCO2e）", "attributed_direct_tco2e", "tonnes"),
    ("Attributed indirect emissions (tCO2e)", "归属间接排放（tCO2e）", "attributed_indirect_tco2e", "tonnes"),
    ("SE direct, without precursors (tCO2e/t)", "不含前体的直接排放强度", "own_see_direct", "see"),
    ("SE indirect, without precursors (tCO2e/t)", "不含前体的间接排放强度", "own_see_indirect", "see"),
    ("SEE (direct)", "直接排放强度", "see_direct", "see"),
    ("SEE (indirect)", "间接排放强度", "see_indirect", "see"),
    ("SEE (total)", "总排放强度", "see_total", "see"),
    ("Electricity consumed (MWh)", "耗电量（MWh）", "electricity_mwh", "tonnes"),
    ("Electricity EF (tCO2/MWh)", "电力排放因子", "electricity_ef_tco2_per_mwh", "see"),
    ("Source for electricity EF", "电力排放因子来源", "electricity_ef_source", "text"),
    ("Embedded electricity (MWh/t)", "隐含电力（MWh/t）", "embedded_electricity_mwh_per_t", "see"),
    ("Share of emissions by default value", "默认值排放占比", "default_value_share", "share"),
    ("Purchased precursors (t)", "外购前体（吨）", "purchased_precursor_t", "tonnes"),
    ("Internal precursors (t)", "自产前体（吨）", "internal_precursor_t", "tonnes"),
)
GOODS_COLUMNS = (
    ("lingtan: product id", "产品编号", "product_id", "text"),
    ("CN Codes", "CN编码", "cn_code", "text"),
    ("Product name", "产品名称", "product_name", "text"),
    ("Type of aggregated good", "汇总货物类别", "goods_category", "text"),
    ("Annex II good (direct emissions only)", "附件二货物（仅直接排放）", "annex_ii_direct_only", "bool"),
    ("SEE (direct)", "直接排放强度", "see_direct", "see"),
    (
        "Share of embedded emissions for which default values were used",
        "使用默认值的隐含排放占比",
        "default_value_share",
        "share",
    ),
    ("SEE (indirect), Art 9", "间接排放强度（第9条）", "see_indirect", "see"),
    (
        "Share of indirect emissions from actual values",
        "实际值间接排放占比",
        "indirect_actual_share",
        "share",
    ),
    (
        "Share of indirect emissions from default values",
        "默认值间接排放占比",
        "indirect_default_share",
        "share",
    ),
    ("Indirect from actual values (tCO2e/t)", "实际值间接排放强度", "indirect_actual_per_t", "see"),
    ("Indirect from default values (tCO2e/t)", "默认值间接排放强度", "indirect_default_per_t", "see"),
    ("Indirect split note", "间接排放拆分说明", "indirect_split_note", "text"),
    ("Specific embedded free allocation (tCO2e/t)", "特定隐含免费配额", "sefa_tco2e_per_t", "see"),
    ("Simple or complex good", "简单/复杂货物", "good_kind", "text"),
    ("Benchmark column (A actual / B default)", "基准列（A实际/B默认）", "benchmark_column", "text"),
    ("CBAM benchmark (tCO2e/t)", "CBAM基准值", "benchmark_tco2e_per_t", "see"),
    ("Benchmark route", "基准路线", "benchmark_route", "text"),
    ("CBAM factor", "CBAM系数", "cbam_factor", "share"),
    ("CBAM factor status", "CBAM系数状态", "cbam_factor_status", "text"),
    ("CSCF", "跨行业修正系数", "cscf", "number"),
    ("CSCF status", "跨行业修正系数状态", "cscf_status", "text"),
    ("SEFA method", "免费配额计算方法", "sefa_basis", "text"),
    ("Benchmark source", "基准来源", "benchmark_source", "text"),
)
PRECURSOR_COLUMNS = (
    ("Consuming process", "使用过程", "process_id", "text"),
    ("Source", "来源", "source", "text"),
    ("Material / supplying process", "物料/供应过程", "material_or_process", "text"),
    ("CN Codes", "CN编码", "cn_code", "text"),
    ("Supplier", "供应商", "supplier_id", "text"),
    ("Operator of origin (supplier name)", "原产运营者（供应商名称）", "supplier_name", "text"),
    ("Origin installation", "原产装置", "supplier_installation_id", "text"),
    ("Country of origin", "原产国", "origin_country", "text"),
    ("Mass consumed (t)", "消耗量（吨）", "mass_t", "tonnes"),
    ("Specific use m_i (t/t)", "单位消耗 m_i（t/t）", "mass_share_t_per_t", "see"),
    ("SEE used (direct)", "采用的直接排放强度", "see_direct", "see"),
    ("SEE used (indirect)", "采用的间接排放强度", "see_indirect", "see"),
    ("Embedded electricity (MWh/t)", "隐含电力（MWh/t）", "embedded_electricity_mwh_per_t", "see"),
    ("Actual or default", "实际或默认", "determination", "text"),
    ("SEE origin", "排放强度来源", "see_origin", "text"),
    ("Why", "原因", "why", "text"),
    ("Actual data not verified", "实际数据未核查", "actual_unverified", "bool"),
    ("Embedded direct (tCO2e)", "隐含直接排放（tCO2e）", "embedded_direct_tco2e", "tonnes"),
    ("Embedded indirect (tCO2e)", "隐含间接排放（tCO2e）", "embedded_indirect_tco2e", "tonnes"),
    ("Default-value mark-up", "默认值加成", "dv_markup", "share"),
    ("Supplier communication", "供应商通报", "document_ref", "text"),
)
