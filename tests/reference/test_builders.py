"""The builders on small synthetic sources shaped like the Commission's files (runs without ../shared).

Each irregularity the real sources have (docs/methodology/cbam.md (d)) appears here once:
integer and spaced CN codes, '–' / '_' / '-' markers, N/A spellings, 'see below' with '#VALUE!', a shifted row,
white/grey duplicates without route, a missing mark-up label, stray cells, a 7615 row, OJ page furniture,
decimal commas, descriptions over several lines, a section header glued to a value line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from tools.refbuild import benchmarks, cn_goods, default_values, grid_factors, methodology
from tools.refbuild._common import SourceError, read_oj_text, write_csv

HEADER = [
    "Product CN Code", "Description", "Default Value\n(direct emissions)", "Default Value\n(indirect emissions)",
    "Default Value\n(total emissions)", "2026\nDefault Value\n(including mark-up)",
    "2027\nDefault Value\n(including mark-up)", "2028 and onwards\nDefault Value\n(including mark-up)",
    "Underlying production route determining CBAM BM",
]  # fmt: skip
CEMENT = ["Cement", None, None, None, None, "10% mark-up", "20% mark-up", "30% mark-up", "\xa0"]
FERT = ["Fertilisers", None, None, None, None, "1% mark-up", "1% mark-up", "1% mark-up", None]
H2 = ["Hydrogen", None, None, None, None, "10% mark-up", "20% mark-up", "30% mark-up", None]
STEEL = ["Iron and steel", None, None, None, None, "10% mark-up", "20% mark-up", "30% mark-up", None]
ALU = ["Aluminium", None, None, None, None, "10% mark-up", "20% mark-up", "30% mark-up", None]
D = "\u2013"

SHEETS = {
    "China": [
        CEMENT,
        ["2523 10 00", "White clinker", 1.24, 0.06, 1.3, 1.43, 1.56, 1.69, "(B)"],
        ["2523 10 00", "Grey clinker", 1.35, 0.04, 1.39, 1.529, 1.668, 1.807, "(A)"],
        ["2523 21 00", "White Portland cement", D, D, D, 1.23, 0.14, 1.37, None],  # shifted row
        FERT,
        [28141000, "Anhydrous ammonia", 4.17, 0.19, 4.36, 4.36 * 1.01, 4.36 * 1.01, 4.36 * 1.01, "\xa0"],
        [3102, "Nitrogenous", "see below", "see below", "see below", "#VALUE!", "#VALUE!", "#VALUE!", None],
        ["3102 10 12", "Urea", 0.9, 0.05, 0.94, 0.94 * 1.01, 0.94 * 1.01, 0.94 * 1.01, None],
        H2,
        ["2804 10 00", "Hydrogen", 26.64, "N.A.", 26.64, 26.64 * 1.1, 26.64 * 1.2, 26.64 * 1.3, None],
        STEEL,
        ["7203", "DRI", D, "N/A", D, "_", "_", "_", None],
        [
            "7208",
            "Flat",
            3.186892655,
            "N/(A",
            3.186892655,
            3.5055819205,
            3.186892655 * 1.2,
            3.186892655 * 1.3,
            "(C)",
        ],
        ["7202 11", "FeMn", "_", "_", "_", "-", "-", "-", "N/A"],
        ALU,
        [76151010, "Cast", 1.44, "N/A", 1.44, 1.584, 1.728, 1.44 * 1.3, "(L)", None, None, 7612, 4.5],
    ],
    "Hong Kong": [
        ["Cement", None, None, None, None, "10% mark-up", None, None, None],  # labels missing (Tanzania-like)
        ["2523 10 00", "White clinker", D, D, D, D, D, D, None],
        ["2523 10 00", "Grey clinker", 0.87, 0.05, 0.91, 1.001, 1.092, 1.183, "(A)"],
    ],
    "_Other Countries and Territorie": [
        CEMENT,
        ["2523 10 00", "White clinker", 1.32, 0.06, 1.37, 1.37 * 1.1, 1.37 * 1.2, 1.37 * 1.3, "(B)"],
        ["2523 10 00", "Grey clinker", 1.37, 0.05, 1.41, 1.41 * 1.1, 1.41 * 1.2, 1.41 * 1.3, "(A)"],
        H2,
        ["2804 10 00", "Hydrogen", 17.74, "N/A", 17.74, 17.74 * 1.1, 17.74 * 1.2, 17.74 * 1.3, "\xa0"],
        STEEL,
        ["7203", "DRI", 1.325, "N/A", 1.325, 1.325 * 1.1, 1.325 * 1.2, 1.325 * 1.3, None],
    ],
}
ANNEX_IV = """ANNEX IV \r
Default values for precursor for which the country of production cannot be identified \r
(A) grey clinker / cement\r
OJ L, 31.12.2025 EN \r
ELI: http://data.europa.eu/eli/reg_impl/2025/2621/oj 2355/2400\r
\f\r
Product CN Code Description Highest default value 2026 Default Value (including mark-up) 2027 Default Value (including mark-up) 2028 and onwards Default Value (including mark-up) Underlying production route determining CBAM BM\r
Cement 10% mark-up 20% mark-up 30% mark-up\r
2523 10 00 White clinker 1,410 1,551 1,692 1,833 (B)\r
2523 10 00 Grey clinker 1,440 1,584 1,728 1,872 (A)Hydrogen 10% mark-up 20% mark-up 30% mark-up\r
2804 10 00 Hydrogen 26,640 29,304 31,968 34,632\r
EN OJ L, 31.12.2025 \r
2364/2400 ELI: http://data.europa.eu/eli/reg_impl/2025/2621/oj\r
\f\r
Product CN Code Description Highest default value 2026 Default \r
Value\r
(including mark-up)\r
2027\r
Default \r
Value\r
(including mark-up)\r
2028 and onwards\r
Default \r
Value\r
(including mark-up)\r
Underlying production \r
route determining CBAM \r
BM\r
Iron and steel 10% mark-up 20% mark-up 30% mark-up\r
7203 Ferrous products obtained by direct reduction \r
of iron ore, in lumps\r
4,200 4,620 5,040 5,460\r
"""
ANNEX_II = """ANNEX II \r
Default values for indirect emissions \r
Country or territory Emission factor (tCO2eq/MWh)\r
China 0,605\r
Congo, Democratic Republic of 0\r
EN OJ L, 31.12.2025 \r
2350/2400 ELI: http://data.europa.eu/eli/reg_impl/2025/2621/oj\r
\f\r
Country or territory Emission factor (tCO2eq/MWh)\r
Hong Kong 0,663\r
Other countries and territories 0,465\r
ANNEX III \r
"""


def write_dvr_sources(root: Path, sheets: dict = SHEETS, annex_iv: str = ANNEX_IV) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Overview"
    vh = wb.create_sheet("Version History")
    vh.append(["Version History - Annex I"])
    vh.append(["Version", "Date", "Version Notes"])
    vh.append(
        [
            1,
            dt.datetime(2026, 2, 4),
            "Default values based on Implementing Regulation (EU) 2025/2621 published",
        ]
    )
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(["Other Countries and Territories" if name.startswith("_Other") else name])
        ws.append(HEADER)
        for row in rows:
            ws.append(row)
    wb.save(root / "default_values.xlsx")
    (root / "legal").mkdir(exist_ok=True)
    text = (
        "COMMISSION IMPLEMENTING REGULATION (EU) 2025/2621 \r\nof 16 December 2025\r\n" + ANNEX_II + annex_iv
    )
    (root / "legal" / "ir-2025-2621-default-values.txt").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def dvr(tmp_path: Path) -> default_values.Derived:
    return default_values.derive(write_dvr_sources(tmp_path))


def rows(derived: default_values.Derived, **where) -> list[dict]:
    return [r for r in derived.records if all(r[k] == v for k, v in where.items())]


def test_versions_from_the_workbook_and_text(dvr):
    assert (dvr.act, dvr.workbook_version) == ("IR (EU) 2025/2621", "v1 2026-02-04")


def test_sheets_resolve_and_other_is_its_own_table(dvr):
    assert {(r["table_kind"], r["country_iso2"]) for r in dvr.records} == {
        ("country", "CN"), ("country", "HK"), ("other", None), ("annex_iv", None)}  # fmt: skip


def test_unresolvable_sheet_stops_the_build(tmp_path):
    with pytest.raises(SourceError, match="resolves to no country"):
        default_values.derive(write_dvr_sources(tmp_path, {**SHEETS, "Atlantis": SHEETS["Hong Kong"]}))


def test_statuses(dvr):
    (ammonia,) = rows(dvr, country_iso2="CN", cn_code="28141000")
    assert ammonia["value_status"] == "value" and ammonia["total"] == 4.36 and ammonia["cn_digits"] == 8
    (heading,) = rows(dvr, country_iso2="CN", cn_code="3102")
    assert heading["value_status"] == "see_below" and "#VALUE!" in heading["status_reason"]
    (shifted,) = rows(dvr, country_iso2="CN", cn_code="25232100")
    assert shifted["value_status"] == "quarantined" and shifted["status_reason"].startswith("shifted row")
    (dri,) = rows(dvr, country_iso2="CN", cn_code="7203")
    assert (dri["value_status"], dri["indirect_status"], dri["total"]) == (
        "marker_dash",
        "not_applicable",
        None,
    )
    (femn,) = rows(dvr, country_iso2="CN", cn_code="720211")
    assert (
        femn["value_status"] == "marker_dash"
        and femn["route"] is None
        and "route cell" in femn["status_reason"]
    )
    (h2,) = rows(dvr, country_iso2="CN", cn_code="28041000")
    assert h2["indirect_status"] == "not_applicable" and "N.A." in h2["status_reason"]
    (flat,) = rows(dvr, country_iso2="CN", cn_code="7208")
    assert flat["published_markup_consistent"] is True and flat["route"] == "(C)"
    (alu,) = rows(dvr, country_iso2="CN", cn_code="76151010")
    assert alu["value_status"] == "quarantined" and alu["status_reason"].startswith("not_cbam_good")


def test_white_grey_route_keys_from_description(dvr):
    hk = rows(dvr, country_iso2="HK", cn_code="25231000")
    assert [(r["description"], r["route"], r["route_key"]) for r in hk] == [
        ("White clinker", None, "B"), ("Grey clinker", "(A)", "A")]  # fmt: skip


def test_stray_cells_reported(dvr):
    assert any("stray cells" in issue for issue in dvr.issues)


def test_markups_from_labels_with_missing_ones_recorded(dvr):
    m = {(r["sector"], r["year_label"]): r for r in dvr.markups}
    assert m[("cement", "2027")]["markup_fraction"] == 0.2
    assert m[("cement", "2027")]["sheets_missing_label"] == "Hong Kong"
    assert m[("fertilisers", "2028+")]["markup_fraction"] == 0.01
    assert m[("cement", "2026")]["year_to"] == 2026 and m[("cement", "2028+")]["year_to"] is None


def test_disagreeing_labels_stop_the_build(tmp_path):
    bad = {**SHEETS, "Hong Kong": [["Cement", None, None, None, None, "15% mark-up", None, None, None]]}
    with pytest.raises(SourceError, match="disagree"):
        default_values.derive(write_dvr_sources(tmp_path, bad))


def test_inconsistent_published_column_flagged_not_quarantined(tmp_path):
    sheets = {
        **SHEETS,
        "Hong Kong": [CEMENT, ["2523 10 00", "Grey", 0.87, 0.05, 0.91, 1.001, 1.1011, 1.21121, None]],
    }
    derived = default_values.derive(write_dvr_sources(tmp_path, sheets))
    (row,) = rows(derived, country_iso2="HK")
    assert row["value_status"] == "value" and row["published_markup_consistent"] is False
    assert "published 2027" in row["status_reason"]


def test_annex_iv_parsed_from_text(dvr):
    annex = rows(dvr, table_kind="annex_iv")
    assert [(r["cn_code"], r["route_key"], r["total"]) for r in annex] == [
        ("25231000", "B", 1.41), ("25231000", "A", 1.44), ("28041000", None, 26.64), ("7203", None, 4.2)]  # fmt: skip
    h2, dri = annex[2], annex[3]
    assert h2["published_2026"] == 29.304 and h2["sector"] == "hydrogen"
    assert (h2["direct"], h2["indirect_status"]) == (26.64, "not_applicable")  # N/A in the 'other' table
    assert annex[1]["direct"] is None and annex[1]["indirect_status"] == "not_split"
    assert dri["description"] == "Ferrous products obtained by direct reduction of iron ore, in lumps"
    assert dri["sector"] == "iron_steel" and dri["workbook_version"] == "OJ L 31.12.2025"


def test_annex_iv_misparse_is_caught(tmp_path):
    broken = ANNEX_IV.replace("29,304", "39,304")
    with pytest.raises(SourceError, match="misparsed"):
        default_values.derive(write_dvr_sources(tmp_path, annex_iv=broken))


def test_annex_iv_must_list_the_other_tables_codes(tmp_path):
    short = ANNEX_IV.replace("2804 10 00 Hydrogen 26,640 29,304 31,968 34,632\r\n", "")
    with pytest.raises(SourceError, match="differs from the 'Other' table"):
        default_values.derive(write_dvr_sources(tmp_path, annex_iv=short))


def test_classify_cells():
    c = default_values.classify
    assert c(3) == ("num", 3.0) and c("8,21") == ("num", 8.21)
    assert [c(v)[0] for v in ("–", "_", "-", "N/A", "N.A.", "N/a", "N/(A", "see below", "#VALUE!", None, "\xa0")] == [
        "marker", "marker", "marker", "na", "na", "na", "na", "see_below", "error", "empty", "empty"]  # fmt: skip


def test_grid_factors_from_annex_ii(tmp_path):
    write_dvr_sources(tmp_path)
    out = tmp_path / "out"
    assert grid_factors.build(tmp_path, out) == {"cbam_grid_factors": 4}
    g = pl.read_csv(out / "cbam_grid_factors.csv", infer_schema=False)
    assert list(zip(g["table_kind"], g["iso2"], g["value_tco2_per_mwh"], strict=True)) == [
        ("country", "CD", "0.0"), ("country", "CN", "0.605"), ("country", "HK", "0.663"), ("other", None, "0.465")]  # fmt: skip


def test_read_oj_text_drops_furniture():
    lines = [t for _, t in read_oj_text_from(ANNEX_II)]
    assert "China 0,605" in lines and not any("ELI:" in t or t.startswith("EN OJ L") for t in lines)


def read_oj_text_from(text: str, tmp: Path | None = None) -> list[tuple[int, str]]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.txt"
        p.write_text(text, encoding="utf-8")
        return read_oj_text(p)


# --- cn goods, methodology, benchmarks --------------------------------------------------------------------------


def test_cn_rules():
    assert cn_goods.rule_for("72081000").category == "Iron or steel products"
    assert cn_goods.rule_for("72021120").category == "FeMn"
    assert cn_goods.rule_for("72022100").category is None
    assert cn_goods.rule_for("31021010").category == "Urea"
    assert cn_goods.rule_for("31029000").category == "Mixed fertilisers"
    assert cn_goods.rule_for("31056000").category is None
    assert cn_goods.rule_for("84000000") is None
    assert all(len(p) in (4, 6, 8) for r in cn_goods.RULES for p in r.digit_prefixes())


def test_legal_descriptions_strip_category_and_gas():
    section = "\n".join([
        "CN code Aggregated goods", "category Greenhouse gas", "Cement",
        "2523 21 00 – White Portland cement, whether or not", "artificially coloured", "2523 29 00 – Other Portland cement",
        "Cement Carbon dioxide", "7601 – Unwrought aluminium Unwrought", "aluminium", "Carbon dioxide and",
        "perfluorocarbons", "7202 1 – Ferro-manganese FeMn Carbon dioxide",
    ])  # fmt: skip
    assert cn_goods.legal_descriptions(section) == {
        "2523 21 00": "White Portland cement, whether or not artificially coloured",
        "2523 29 00": "Other Portland cement", "7601": "Unwrought aluminium", "7202 1": "Ferro-manganese"}  # fmt: skip


def test_fuel_table_with_split_footnote_markers():
    lines = list(enumerate([
        "Fuel type description Emission factor", "(t CO2/TJ)", "Net calorific", "value (TJ/Gg) Source",
        "Natural gas 56,1 48,0 IPCC 2006 GL", "Waste tyres 85,0 (", "1", ") n.a. World Business Council",
        "for Sustainable", "(", "1", ") This value is the preliminary emission factor, i.e. before application.",
    ], 1))  # fmt: skip
    joined = methodology._join_footnotes(lines)
    rows_, notes = methodology._fuel_table(
        joined,
        {"Fuel type description Emission factor", "(t CO2/TJ)", "Net calorific", "value (TJ/Gg) Source"},
    )
    assert [(r.name, r.ef, r.ncv, r.footnotes) for r in rows_] == [("Natural gas", 56.1, 48.0, []),
                                                                  ("Waste tyres", 85.0, None, ["1"])]  # fmt: skip
    assert rows_[1].source == "World Business Council for Sustainable"
    assert methodology._first_sentence(notes["1"]).endswith("before application.")


def test_benchmarks_fill_merged_cells(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Overview"
    vh = wb.create_sheet("Version history")
    vh.append(["Version History"])
    vh.append(["Version", "Date", "Version Notes"])
    vh.append(
        [1, dt.datetime(2025, 2, 6), "CBAM benchmark values based on Implementing Regulation (EU) 2025/2620"]
    )
    ws = wb.create_sheet("Benchmarks")
    ws.append(["CN code", "CN Description", "Column A\nBMg [tCO2e/t]", "Column A\nProduction route indicator",
               "Column B\nBMg [tCO2e/t]", "Column B\nProduction route indicator"])  # fmt: skip
    ws.append(["Iron & Steel"])
    ws.append([72081000, "Flat", 0.044, None, 1.37, "(C)"])
    ws.append([None, None, None, None, 0.424, "(D)"])
    ws.append([None, None, None, None, 0.027, "(E)"])
    ws.merge_cells("A3:A5")
    ws.merge_cells("B3:B5")
    ws.merge_cells("C3:C5")
    ws.append([72241010, "Tool steel", 0.453, "(F)", "1,807", "(F)(1)"])
    ws.append([None, None, None, None, 1.64, "(F)(2)"])
    ws.merge_cells("A6:A7")
    wb.save(tmp_path / "benchmarks.xlsx")
    assert benchmarks.build(tmp_path, tmp_path / "out") == {"cbam_benchmarks": 5}
    b = pl.read_csv(tmp_path / "out" / "cbam_benchmarks.csv", infer_schema=False)
    assert b["cn_code"].to_list() == ["72081000"] * 3 + ["72241010"] * 2
    assert b["bm_a_tco2e_per_t"].to_list() == ["0.044"] * 3 + ["0.453", None]
    assert b["bm_a_from_merged_cell"].to_list() == ["false", "true", "true", "false", "false"]
    assert b["bm_b_tco2e_per_t"][3] == "1.807" and b["period_marker_b"][4] == "2"
    assert b["workbook_version"].unique().to_list() == ["v1 2025-02-06"]


def test_write_csv_is_deterministic(tmp_path):
    rows_ = [{"a": 0.1 + 0.2, "b": True, "c": None, "d": "x,y"}]
    write_csv(tmp_path / "t.csv", ["a", "b", "c", "d"], rows_)
    assert (tmp_path / "t.csv").read_bytes() == b'a,b,c,d\n0.30000000000000004,true,,"x,y"\n'
    with pytest.raises(ValueError, match="unexpected columns"):
        write_csv(tmp_path / "t.csv", ["a"], rows_)
