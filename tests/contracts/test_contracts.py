"""The landing contracts (data_contracts/*.odcs.yaml) against docs/landing-zone.md, transcribed here by hand so a
contract edit that drifts from the spec fails: datasets, columns in order, required columns, business keys, Chinese
aliases, at-least-one-of groups. Plus ODCS validity (datacontract-cli lint), internal consistency, and the SQL rules
run by `datacontract test` on a raw-lake table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from datacontract.data_contract import DataContract
from datacontract.model.run import ResultEnum

from transforms.contracts import Dataset, datasets, load_contract
from transforms.paths import CONTRACTS_DIR
from transforms.reference import goods
from transforms.text import norm_key
from transforms.units import BASE

KEY = "*"  # column marker: business key (as in the spec)
REQ = "!"  # column marker: required


def _spec(kind: str, *cols: str, aliases: dict[str, list[str]] | None = None, one_of=()) -> dict:
    """Columns in spec order, `!` required, `*` business key (key order = column order)."""
    names = [c.rstrip(KEY + REQ) for c in cols]
    return {
        "kind": kind,
        "columns": names,
        "required": {n for n, c in zip(names, cols, strict=True) if REQ in c},
        "keys": [n for n, c in zip(names, cols, strict=True) if KEY in c],
        "aliases": aliases or {},
        "one_of": [[list(alt) for alt in group] for group in one_of],
    }


SPEC: dict[str, dict] = {
    "installations": _spec(
        "snapshot", "installation_id*!", "name!", "name_en", "country!", "city", "address", "postcode", "unlocode",
        "latitude", "longitude", "operator_id", "operator_name", "registry_installation_id", "grid_region",
        aliases={"installation_id": ["装置编号"], "name": ["名称"], "country": ["国家"], "city": ["城市"],
                 "address": ["地址"], "postcode": ["邮编"], "operator_id": ["经营者编号"], "operator_name": ["经营者"],
                 "grid_region": ["电网区域"]}),
    "processes": _spec(
        "snapshot", "installation_id*!", "process_id*!", "name", "goods_category!", "route",
        aliases={"process_id": ["工序编号"], "name": ["工序名称"], "goods_category": ["货物类别"],
                 "route": ["生产路线"]}),
    "source_streams": _spec(
        "snapshot", "installation_id*!", "stream_id*!", "name", "method!", "unit!", "ncv", "ncv_unit", "ef",
        "ef_unit", "carbon_content", "oxidation_factor", "conversion_factor", "biomass_fraction", "gas",
        "energy_carrier", "gas_reference_c", "default_process_id",
        aliases={"stream_id": ["排放源编号"], "name": ["名称"], "method": ["方法"]}),
    "products": _spec(
        "snapshot", "product_id*!", "name!", "name_en", "cn_code!", "china_hs_code", "installation_id!",
        "process_id!", "unit_mass_t", "qualifying_parameters",
        aliases={"product_id": ["产品编号"], "name": ["产品名称"], "cn_code": ["商品编码"],
                 "china_hs_code": ["海关编码"]}),
    "materials": _spec(
        "snapshot", "material_id*!", "name!", "kind!", "cn_code", "goods_category", "route",
        "consumed_in_installation_id", "consumed_in_process_id", "stream_id", "unit_mass_t", "pcf_kgco2e_per_unit",
        "pcf_unit",
        aliases={"material_id": ["物料编号"], "name": ["物料名称"], "kind": ["类型"]}),
    "suppliers": _spec(
        "snapshot", "supplier_id*!", "name!", "country!", "installation_id",
        aliases={"supplier_id": ["供应商编号"], "name": ["供应商名称"]}),
    "supplier_invoices": _spec(
        "event", "invoice_id*!", "line_no*!", "invoice_date!", "supplier_id!", "supplier_installation_id",
        "installation_id!", "material_id!", "cn_code", "country_of_origin", "quantity!", "unit!", "net_amount",
        "currency",
        aliases={"invoice_id": ["发票号码"], "line_no": ["行号"], "invoice_date": ["开票日期"],
                 "supplier_id": ["供应商编号"], "installation_id": ["收货装置"], "material_id": ["物料编号"],
                 "cn_code": ["商品编码"], "country_of_origin": ["原产国"], "quantity": ["数量"], "unit": ["单位"],
                 "net_amount": ["金额"], "currency": ["币种"]}),
    "supplier_emissions": _spec(
        "event", "supplier_installation_id*!", "cn_code*", "material_id*", "period_start*!", "period_end",
        "see_direct", "see_indirect", "embedded_electricity_mwh_per_t", "electricity_ef_tco2_per_mwh",
        "electricity_ef_source", "determination", "verified", "pcf_kgco2e_per_unit", "pcf_unit", "document_ref",
        aliases={"determination": ["数据来源"], "document_ref": ["文件编号"]},
        one_of=[[["cn_code"], ["material_id"]]]),
    "energy_bills": _spec(
        "event", "bill_id*!", "installation_id!", "meter_id", "carrier!", "period_start!", "period_end!",
        "quantity!", "unit!", "process_id", "supply_type", "ef_tco2_per_mwh", "ef_source", "gec_mwh", "amount",
        "currency",
        aliases={"bill_id": ["账单编号"], "meter_id": ["表计编号"], "carrier": ["能源类型"], "quantity": ["用量"],
                 "unit": ["单位"], "gec_mwh": ["绿证"]}),
    "stream_readings": _spec(
        "event", "installation_id*!", "stream_id*!", "process_id*", "period_start*!", "period_end", "quantity",
        "unit", "ncv", "carbon_content", "ef", "emissions_t",
        one_of=[[["quantity", "unit"], ["emissions_t"]]]),
    "production": _spec(
        "event", "installation_id*!", "process_id*!", "product_id*", "period_start*!", "period_end", "produced_t!",
        "electricity_exported_mwh", "electricity_exported_ef", "heat_imported_tj", "heat_imported_ef",
        "heat_exported_tj", "heat_exported_ef", "waste_gas_imported_tj", "waste_gas_exported_tj",
        "direct_emissions_t",
        aliases={"produced_t": ["产量"]}),
    "process_flows": _spec(
        "event", "installation_id*!", "from_process_id*!", "to_process_id*!", "period_start*!", "period_end!",
        "mass_t!"),
    # `quantity` + `unit` are named in the spec's mass_t note and required-alternative, not in its table.
    "shipments": _spec(
        "event", "shipment_id*!", "leg_no*!", "ship_date!", "direction!", "mode!", "origin", "destination",
        "distance_km", "mass_t", "quantity", "unit", "product_id", "material_id", "export_id", "invoice_id",
        "carrier", "fuel_type", "fuel_quantity", "fuel_unit",
        aliases={"shipment_id": ["运单号"], "ship_date": ["发运日期"], "mode": ["运输方式"]},
        one_of=[[["mass_t"], ["quantity", "unit"]]]),
    "exports": _spec(
        "event", "export_id*!", "line_no*!", "declaration_date!", "product_id!", "cn_code", "quantity!", "unit!",
        "importer_eori!", "importer_name", "importer_country", "destination_country!", "installation_id",
        "production_period",
        aliases={"export_id": ["报关单号"], "declaration_date": ["申报日期"], "product_id": ["产品编号"],
                 "importer_eori": ["进口商EORI"], "importer_name": ["进口商"]}),
    "precursor_consumption": _spec(
        "event", "installation_id*!", "process_id*!", "material_id*!", "period_start*!", "period_end", "mass_t!"),
    "carbon_prices": _spec(
        "event", "installation_id*!", "period_start*!", "period_end", "instrument*!", "legal_act", "price!",
        "currency!", "share_covered", "rebate_type", "rebate_share", "cn_code", "product_id"),
    "parks": _spec(
        "snapshot", "park_id*!", "installation_id*!", "park_name", "province", "park_level",
        aliases={"park_id": ["园区编号"], "park_name": ["园区名称"], "province": ["省份"]}),
    "meters": _spec(
        "snapshot", "meter_id*!", "installation_id!", "process_id", "carrier!", "role!", "parent_meter_id",
        "register", "stamp", "interval_minutes", "unit", "multiplier", "timezone", "description",
        aliases={"meter_id": ["表计编号"], "carrier": ["能源类型"], "role": ["用途"]}),
    # the long layout's columns; the trend log's point_name [点位名称] and timestamp [时间], value [数值] are
    # spellings of the same columns (a wide file is reshaped to them)
    "meter_readings": _spec(
        "event", "meter_id*!", "interval_start*!", "value!", "unit", "quality", "method", "stamp",
        aliases={"meter_id": ["表计编号", "point_name", "点位名称"], "interval_start": ["时间", "timestamp"],
                 "value": ["读数", "数值"]}),
    "green_certificates": _spec(
        "event", "certificate_batch_id*!", "scheme", "mwh!", "generation_month!", "technology", "project_id",
        "project_province", "status!", "cancelled_for_installation_id", "cancelled_for_period", "cancelled_on",
        "bundled",
        aliases={"certificate_batch_id": ["绿证编号"], "mwh": ["电量"], "generation_month": ["生产年月"],
                 "status": ["状态"]}),
    "carbon_credits": _spec(
        "event", "credit_id*!", "standard", "vintage", "tco2e!", "project_type", "retired_for_installation_id!",
        "retired_for_period!"),
}  # fmt: skip

EF_SOURCES = ["D.4(a)", "D.4(b)", "D.4.1", "D.4.2", "D.4.3.1", "D.4.3.2", "Mix"]
ENUMS = {
    ("source_streams", "method"): ["combustion", "process", "mass_balance", "measured"],
    ("source_streams", "gas"): ["CO2", "N2O", "CF4", "C2F6", "CO2e"],
    ("materials", "kind"): ["precursor", "fuel", "material", "service"],
    ("supplier_emissions", "electricity_ef_source"): EF_SOURCES,
    ("supplier_emissions", "determination"): ["actual", "default"],
    ("energy_bills", "supply_type"): ["grid", "ppa", "direct_line", "onsite"],
    ("energy_bills", "ef_source"): EF_SOURCES,
    ("shipments", "direction"): ["inbound", "outbound"],
    ("shipments", "mode"): ["road", "rail", "sea", "inland_waterway", "air"],
    ("meters", "role"): [
        "grid_import", "grid_export", "onsite_generation", "ppa_delivery", "storage_charge", "storage_discharge",
        "sub_meter", "consumption",
    ],
    ("meters", "register"): ["interval", "cumulative"],
    ("meters", "stamp"): ["start", "end", "midpoint"],
    ("meter_readings", "quality"): ["measured", "estimated"],
    ("meter_readings", "stamp"): ["start", "end", "midpoint"],
    ("meter_readings", "layout"): ["long", "wide", "trend_log"],
    ("green_certificates", "status"): ["held", "cancelled", "transferred"],
    ("carbon_credits", "project_type"): ["removal", "avoidance"],
}  # fmt: skip
# Optional columns added beyond the spec ("extra optional columns are welcome"), each read by an engine.
EXTRA_COLUMNS = {
    "shipments": {"sub_type", "paid_by_company"},
    # filled by ingestion from the file's layout (docs/ingestion.md, meter readings)
    "meter_readings": {"stamped_at", "utc_offset_minutes", "source_column", "layout"},
}
CASED_ENUMS = {"gas", "ef_source", "electricity_ef_source"}  # gas formulas and CBAM codes keep their case
DEFAULTS = {
    ("source_streams", "oxidation_factor"): 1.0,
    ("source_streams", "conversion_factor"): 1.0,
    ("source_streams", "biomass_fraction"): 0.0,
    ("source_streams", "gas"): "CO2",
    ("source_streams", "gas_reference_c"): 20.0,
    ("energy_bills", "supply_type"): "grid",
    ("meters", "register"): "interval",
    ("meters", "stamp"): "start",
    ("meters", "multiplier"): 1.0,
    ("meters", "timezone"): "Asia/Shanghai",
    ("meter_readings", "quality"): "measured",
    ("green_certificates", "scheme"): "GEC",
}
UNIT_DIMENSIONS = {  # unit column → accepted dimensions; a unit column absent here accepts any dimension
    ("supplier_invoices", "unit"): {"mass", "pieces", "energy", "volume", "gas_normal"},
    ("energy_bills", "unit"): {"energy", "volume", "gas_normal", "mass"},
    ("shipments", "unit"): {"mass", "pieces"},
    ("shipments", "fuel_unit"): {"mass", "volume", "energy", "gas_normal"},
    ("exports", "unit"): {"mass", "pieces"},
    ("meters", "unit"): {"energy", "volume", "gas_normal", "mass"},
    ("meter_readings", "unit"): {"energy", "volume", "gas_normal", "mass"},
}
SHARES = {
    ("source_streams", "biomass_fraction"),
    ("carbon_prices", "share_covered"),
    ("carbon_prices", "rebate_share"),
}
MAY_BE_NEGATIVE = {  # quantities whose sign carries meaning
    ("supplier_invoices", "quantity"),  # credit notes
    ("stream_readings", "quantity"),  # mass-balance outputs
    ("production", "direct_emissions_t"),  # the plant's own attribution; not constrained by the spec
}
PATTERNED = {"country", "currency", "cn_code", "hs_code", "period", "month", "unlocode"}
LINTABLE = sorted(CONTRACTS_DIR.glob("*.odcs.yaml"))


def _doc(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _props(path: Path) -> dict[str, dict]:
    return {p["name"]: p for p in _doc(path)["schema"][0]["properties"]}


def test_datasets_are_the_spec_datasets() -> None:
    assert set(datasets()) == set(SPEC)
    assert {p.name for p in LINTABLE} == {f"{name}.odcs.yaml" for name in SPEC}


@pytest.mark.parametrize("path", LINTABLE, ids=lambda p: p.name)
def test_contract_lints(path: Path) -> None:
    run = DataContract(data_contract_file=str(path)).lint()
    bad = [(c.name, c.reason) for c in run.checks if c.result != ResultEnum.passed]
    assert not bad
    assert run.result == ResultEnum.passed


@pytest.mark.parametrize("path", LINTABLE, ids=lambda p: p.name)
def test_contract_loads_and_follows_conventions(path: Path) -> None:
    d = load_contract(path)
    name = path.name.removesuffix(".odcs.yaml")
    doc = _doc(path)
    assert d.name == name == doc["name"]
    assert doc["apiVersion"] == "v3.1.0"
    assert doc["id"] == f"lingtan-landing-{name.replace('_', '-')}"
    assert doc["servers"][0]["path"] == f"./data/lake/raw/{name}/current/part-*.parquet"
    assert d.schema.names()[: len(d.columns)] == d.column_names  # every lingtanType maps to a polars type
    positions = [
        p.get("primaryKeyPosition")
        or next(c["value"] for c in p["customProperties"] if c["property"] == "businessKeyPosition")
        for p in doc["schema"][0]["properties"]
        if p.get("primaryKey")
        or any(c["property"] == "businessKeyPosition" for c in p.get("customProperties", []))
    ]
    assert positions == list(range(1, len(positions) + 1))  # key order = column order, 1-based
    assert all(p.get("required") for p in doc["schema"][0]["properties"] if p.get("primaryKey"))


@pytest.mark.parametrize("name", sorted(SPEC))
def test_contract_matches_spec(name: str) -> None:
    want, d = SPEC[name], datasets()[name]
    assert d.kind == want["kind"]
    extra = EXTRA_COLUMNS.get(name, set())
    assert [c for c in d.column_names if c not in extra] == want["columns"]  # spec columns, in spec order
    assert not any(d.column(c).required or d.column(c).key for c in extra)  # additions are optional
    assert set(d.required) == want["required"]
    assert d.keys == want["keys"]
    assert {c.name: list(c.aliases) for c in d.columns if c.aliases} == want["aliases"]
    assert [[list(alt) for alt in group] for group in d.require_one_of] == want["one_of"]
    in_one_of = {col for group in d.require_one_of for alt in group for col in alt}
    assert not in_one_of & set(d.required)


@pytest.mark.parametrize("name", sorted(SPEC))
def test_header_spellings_unique(name: str) -> None:
    spellings = [norm_key(s) for c in datasets()[name].columns for s in (c.name, *c.aliases)]
    assert len(spellings) == len(set(spellings))


@pytest.mark.parametrize("name", sorted(SPEC))
def test_units_and_quantities(name: str) -> None:
    d = datasets()[name]
    dims = set(BASE) - {"emissions", "nitrogen"}  # dimensions a landing quantity may have
    for c in d.columns:
        if c.unit_column:
            assert c.kind == "decimal"
            assert d.column(c.unit_column).kind in {"unit", "compound_unit"}
        if c.unit_dimensions:
            assert c.kind == "unit" and set(c.unit_dimensions) <= dims
    got = {(name, c.name): set(c.unit_dimensions) for c in d.columns if c.unit_dimensions}
    assert got == {k: v for k, v in UNIT_DIMENSIONS.items() if k[0] == name}
    # every plain unit column serves a quantity of its row (source_streams.unit describes the stream's activity
    # data, meters.unit the meter's readings; a reading's own unit is optional: empty = the meter's)
    served = {c.unit_column for c in d.columns if c.unit_column} | (
        {"unit"} if name in ("source_streams", "meters", "meter_readings") else set()
    )
    assert {c.name for c in d.columns if c.kind == "unit"} <= served


@pytest.mark.parametrize("name", sorted(SPEC))
def test_row_rules(name: str) -> None:
    for c in datasets()[name].columns:
        key = (name, c.name)
        if key in SHARES:
            assert (c.minimum, c.maximum) == (0, 1)
        elif key in MAY_BE_NEGATIVE:
            assert c.minimum is None and c.exclusive_minimum is None
        elif c.kind == "decimal" and (c.name == "quantity" or c.name.endswith(("_t", "_mwh", "_tj", "_km"))):
            assert 0 in (c.minimum, c.exclusive_minimum), c.name
        if c.kind == "int" and c.name in {"line_no", "leg_no"}:
            assert c.minimum == 1
        assert (c.pattern is not None) == (c.kind in PATTERNED), c.name


@pytest.mark.parametrize("name", sorted(SPEC))
def test_enums_and_defaults(name: str) -> None:
    d = datasets()[name]
    props = _props(d.contract_path)
    for c in d.columns:
        assert bool(c.allowed) == (c.kind == "enum"), c.name
        if c.kind == "enum":
            assert list(c.allowed) == ENUMS[(name, c.name)]
            assert all(v == v.lower() for v in c.allowed) or c.name in CASED_ENUMS
        valid = {"enum": list(c.allowed), "goods_category": list(goods.CATEGORIES)}.get(c.kind, [])
        rules = [q for q in props[c.name].get("quality", []) if q.get("metric") == "invalidValues"]
        assert [q["arguments"]["validValues"] for q in rules] == ([valid] if valid else [])
        assert c.default == DEFAULTS.get((name, c.name)), c.name
        if c.default is not None and c.allowed:
            assert c.default in c.allowed
    assert {k for k in ENUMS if k[0] == name} == {(name, c.name) for c in d.columns if c.kind == "enum"}


# --- `datacontract test` on a raw-lake table (the contract's checks and SQL rules are valid DuckDB) ---------------

_VALUE = {
    "text": "x", "decimal": 1.0, "int": 1, "date": dt.date(2025, 1, 1), "bool": True, "country": "CN", "unit": "t",
    "compound_unit": "GJ/t", "currency": "CNY", "cn_code": "72081000", "hs_code": "7208100000",
    "goods_category": "Crude steel", "json": "{}", "period": "2025", "unlocode": "CNNGB", "month": "2025-01",
    "timestamp": dt.datetime(2025, 1, 1, 0, 15),
}  # fmt: skip


def _valid_rows(d: Dataset, n: int = 2) -> pl.DataFrame:
    """n valid rows with distinct business keys. Optional key columns and the columns of every at-least-one-of
    alternative but the first are left empty (they may be), so the first alternative is what satisfies the rule."""
    first_alternatives = {col for group in d.require_one_of for col in group[0]}
    other_alternatives = {col for group in d.require_one_of for alt in group[1:] for col in alt}
    empty = (
        {c.name for c in d.columns if c.key and not c.required} | other_alternatives
    ) - first_alternatives
    rows = []
    for i in range(n):
        row: dict = {c.name: (c.allowed[0] if c.kind == "enum" else _VALUE[c.kind]) for c in d.columns}
        row |= dict.fromkeys(empty)
        row[d.keys[0]] = f"k{i}"  # the first key is a required text column in every dataset
        row |= {"_drop_date": dt.date(2025, 1, 2), "_file": "f.csv", "_row_number": i + 1,
                "_source_row_id": f"{d.name}/2025-01-02/f.csv#{i + 1}"}  # fmt: skip
        rows.append(row)
    return pl.DataFrame(rows, schema=d.schema)


def _failures(d: Dataset, frame: pl.DataFrame, root: Path) -> list[str]:
    target = root / "data" / "lake" / "raw" / d.name / "current" / "part-00000.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(target)
    run = DataContract(data_contract_file=str(d.contract_path), server="local").test()
    return [c.name for c in run.checks if c.result in (ResultEnum.failed, ResultEnum.error)]


def _optional_key_checks(d: Dataset, frame: pl.DataFrame) -> set[str]:
    """Optional key columns are marked `businessKeyPosition`, not `primaryKey` (which ODCS reads as NOT NULL), so
    valid rows with an empty optional key part pass: no failure is expected."""
    return set()


@pytest.mark.parametrize("name", sorted(SPEC))
def test_raw_table_passes_its_contract(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    d = datasets()[name]
    frame = _valid_rows(d)
    assert set(_failures(d, frame, tmp_path)) == _optional_key_checks(d, frame)


def test_sql_rules_catch_bad_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    d = datasets()["stream_readings"]
    ok = _valid_rows(d)
    base = _optional_key_checks(d, ok)
    dup = ok.with_columns(pl.lit("k0").alias("installation_id"))  # same key, empty process_id on both
    assert set(_failures(d, dup, tmp_path)) - base == {
        "No two current rows share a business key (installation_id, stream_id, process_id, period_start); "
        "an empty process_id counts as one value."
    }
    backwards = ok.with_columns(pl.lit(dt.date(2024, 12, 31)).alias("period_end"))
    assert set(_failures(d, backwards, tmp_path)) - base == {"A period does not end before it starts."}
    neither = ok.with_columns(
        pl.lit(None, pl.Float64).alias("emissions_t"), pl.lit(None, pl.Float64).alias("quantity")
    )
    assert set(_failures(d, neither, tmp_path)) - base == {
        "At least one of quantity + unit or emissions_t is given."
    }
    no_unit = ok.with_columns(pl.lit(None, pl.String).alias("unit"), pl.lit(1.0).alias("emissions_t"))
    assert set(_failures(d, no_unit, tmp_path)) - base == {"`quantity` is given with its unit `unit`."}

    p = datasets()["products"]
    wrong_hs = _valid_rows(p).with_columns(pl.lit("7209100000").alias("china_hs_code"))
    assert _failures(p, wrong_hs, tmp_path) == [
        "The Chinese customs code shares its first 6 digits with the CN code."
    ]
    bad_enum = _valid_rows(datasets()["materials"]).with_columns(pl.lit("Fuel").alias("kind"))
    assert _failures(datasets()["materials"], bad_enum, tmp_path) == [
        "Check that field kind has invalid_count = 0"
    ]
