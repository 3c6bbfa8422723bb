"""Declaration data pack: builder and writer on hand-made marts (no warehouse): the 50-tonne threshold, certificates
and cost, the Art 22(2) quarterly holding estimate, schema validity, the check's reconciliation, and hostile
importer names inert in CSV and XLSX."""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from transforms.reports.base import ReportConfig
from transforms.reports.declaration import KIND, build, threshold_status
from transforms.reports.writers.declaration_pack import SCHEMA_PATH, check, schema_errors, to_json

CONFIG = ReportConfig(date(2027, 11, 24), 80.0, "test: --certificate-price 80")
NO_PRICE = ReportConfig(date(2027, 11, 24))


def _export(eori: str, name: str, day: str, cn: str, mass: float, see: float, inst: str = "CN-X-001") -> dict:
    return {
        "importer_eori": eori,
        "importer_name": name,
        "declaration_date": date.fromisoformat(day),
        "production_period": day[:4],
        "installation_id": inst,
        "origin_country": "CN",
        "cn_code": cn,
        "net_mass_t": mass,
        "embedded_chargeable_tco2e": mass * see,
        "embedded_direct_tco2e": mass * see,
        "embedded_indirect_tco2e": 0.0,
        "determination": "actual",
        "source_row_id": f"exports/{day}/x.csv#{int(mass * 10)}",
    }


def marts_for(exports: list[dict], sefa: dict[str, float], dv: dict[str, float]) -> dict[str, pl.DataFrame]:
    """fct_cbam_export_lines from the rows and fct_cbam_declaration_lines derived by the mart's rules."""
    ex = pl.DataFrame(exports)
    decl = (
        ex.with_columns(pl.col("declaration_date").dt.year().cast(pl.Int32).alias("year"))
        .group_by(
            "importer_eori", "year", "installation_id", "origin_country", "cn_code", maintain_order=True
        )
        .agg(
            pl.col("importer_name").first(),
            pl.len().cast(pl.Int64).alias("export_line_count"),
            pl.col("net_mass_t").sum(),
            pl.col("embedded_chargeable_tco2e").sum().alias("embedded_tco2e"),
            pl.col("embedded_chargeable_tco2e").sum().alias("embedded_actual_tco2e"),
            pl.lit(0.0).alias("embedded_default_tco2e"),
            pl.col("embedded_direct_tco2e").sum(),
            pl.col("embedded_indirect_tco2e").sum(),
            pl.col("source_row_id").sort().alias("source_row_ids"),
        )
        .with_columns(
            pl.col("cn_code")
            .str.starts_with("2716")
            .or_(pl.col("cn_code").str.starts_with("280410"))
            .alias("never_de_minimis"),
            pl.col("cn_code").replace_strict(sefa, return_dtype=pl.Float64).alias("sefa_tco2e_per_t"),
            pl.col("cn_code")
            .replace_strict(dv, default=None, return_dtype=pl.Float64)
            .alias("dv_unmarked_tco2e_per_t"),
            pl.lit("actual").alias("determination"),
            pl.lit(False).alias("verified"),
            pl.lit("no verification evidence").alias("verified_reason"),
            pl.lit("actual line").alias("faa_basis"),
            pl.lit(0.0).alias("carbon_price_deduction_tco2e"),
            pl.lit("no carbon_prices row").alias("carbon_price_reason"),
            pl.lit(None, pl.String).alias("carbon_price_evidence"),
            pl.lit(None, pl.Float64).alias("carbon_price_paid_amount"),
            pl.lit(None, pl.String).alias("carbon_price_currency"),
            pl.lit(0.95).alias("cbam_factor"),
            pl.lit(1.0).alias("cscf"),
            pl.lit("provisional").alias("cscf_status"),
            pl.lit([], pl.List(pl.String)).alias("carbon_price_source_row_ids"),
        )
        .with_columns(
            (pl.col("net_mass_t") * pl.col("sefa_tco2e_per_t")).alias("free_allocation_adjustment_tco2e")
        )
        .with_columns(
            (
                pl.col("embedded_tco2e")
                - pl.col("free_allocation_adjustment_tco2e")
                - pl.col("carbon_price_deduction_tco2e")
            )
            .clip(lower_bound=0.0)
            .alias("certificates_due")
        )
    )
    return {"fct_cbam_export_lines": ex, "fct_cbam_declaration_lines": decl}


STEEL, H2, POWER = "73181589", "28041000", "27160000"


def _pack(exports: list[dict], config: ReportConfig = CONFIG, **kw):
    marts = marts_for(
        exports, kw.get("sefa", {STEEL: 1.5, H2: 4.8, POWER: 0.0}), kw.get("dv", {STEEL: 6.375, H2: 26.64})
    )
    (doc,) = build(marts, config)
    return doc, marts


@pytest.mark.parametrize(("mass", "exempt"), [(49.9, True), (50.0, True), (50.1, False)])
def test_threshold_at_50_tonnes(mass: float, exempt: bool) -> None:
    doc, _ = _pack([_export("DE1", "A GmbH", "2027-03-01", STEEL, mass, 3.0)])
    m = doc.model
    assert m["threshold"]["exempt"] is exempt
    assert m["threshold"]["net_mass_t_counted"] == mass
    due = mass * 3.0 - mass * 1.5
    assert m["total"]["certificates_due"] == pytest.approx(due, rel=1e-12)
    assert m["total"]["certificates_due_after_threshold"] == (
        0.0 if exempt else pytest.approx(due, rel=1e-12)
    )
    assert m["total"]["estimated_cost_eur"] == (0.0 if exempt else pytest.approx(due * 80.0, rel=1e-12))


def test_electricity_and_hydrogen_never_exempt() -> None:
    doc, _ = _pack(
        [
            _export("DE1", "A GmbH", "2027-03-01", STEEL, 30.0, 3.0),
            _export("DE1", "A GmbH", "2027-03-02", H2, 2.0, 12.0),
            _export("DE1", "A GmbH", "2027-03-03", POWER, 1000.0, 0.6),  # MWh: never counted as tonnes
        ]
    )
    m = doc.model
    assert m["threshold"]["net_mass_t_counted"] == 30.0  # hydrogen and electricity excluded from the 50 t
    assert m["threshold"]["exempt"] and m["threshold"]["never_exempt_lines"] == 2
    by_cn = {ln["cn_code"]: ln for ln in m["lines"]}
    assert by_cn[STEEL]["exempt_de_minimis"] and by_cn[STEEL]["certificates_due_after_threshold"] == 0.0
    # hydrogen: 2 t × 12 − 2 t × 4.8 = 14.4; electricity: 1000 MWh × 0.6 − 0 = 600 (FAA 0)
    assert not by_cn[H2]["exempt_de_minimis"]
    assert by_cn[H2]["certificates_due_after_threshold"] == pytest.approx(14.4, rel=1e-12)
    assert by_cn[POWER]["certificates_due_after_threshold"] == pytest.approx(600.0, rel=1e-12)
    assert m["total"]["certificates_due_after_threshold"] == pytest.approx(614.4, rel=1e-12)
    assert m["total"]["estimated_cost_eur"] == pytest.approx(614.4 * 80.0, rel=1e-12)


def test_threshold_status_function() -> None:
    lines = [
        {"net_mass_t": 25.0, "never_de_minimis": False},
        {"net_mass_t": 25.05, "never_de_minimis": False},
    ]
    assert not threshold_status(lines, 50.0)["exempt"]
    assert threshold_status(lines[:1], 50.0)["status"] == "exempt"


def test_no_price_means_null_cost_and_a_reason() -> None:
    doc, _ = _pack([_export("DE1", "A GmbH", "2027-03-01", STEEL, 60.0, 3.0)], NO_PRICE)
    m = doc.model
    assert (
        m["certificate_price"]["eur_per_t"] is None
        and "no certificate price" in m["certificate_price"]["note"]
    )
    assert m["total"]["estimated_cost_eur"] is None and all(
        ln["estimated_cost_eur"] is None for ln in m["lines"]
    )
    assert m["total"]["certificates_due"] == pytest.approx(90.0, rel=1e-12)


def test_quarterly_holding_2027_hand_computed() -> None:
    doc, _ = _pack(
        [
            _export("DE1", "A GmbH", "2027-02-10", STEEL, 40.0, 3.0),
            _export("DE1", "A GmbH", "2027-05-10", H2, 5.0, 12.0),
            _export("DE1", "A GmbH", "2027-08-10", STEEL, 20.0, 3.0),
        ]
    )
    q = doc.model["quarterly_holding"]
    assert [x["quarter_end"] for x in q["quarters"]] == [
        "2027-03-31",
        "2027-06-30",
        "2027-09-30",
        "2027-12-31",
    ]
    # steel: defaults without mark-up 6.375 − SEFA 1.5 = 4.875 t/t; hydrogen 26.64 − 4.8 = 21.84 t/t; × 50 %
    want = [
        0.5 * 40 * 4.875,
        0.5 * (40 * 4.875 + 5 * 21.84),
        0.5 * (60 * 4.875 + 5 * 21.84),
        0.5 * (60 * 4.875 + 5 * 21.84),
    ]
    assert [x["holding_certificates"] for x in q["quarters"]] == pytest.approx(want, rel=1e-12)
    assert [x["net_mass_t_cumulative"] for x in q["quarters"]] == [40.0, 45.0, 65.0, 65.0]
    assert doc.figures["holding/2027-06-30/holding_certificates"] == pytest.approx(152.1, rel=1e-12)


def test_no_holding_before_2027() -> None:
    doc, _ = _pack([_export("DE1", "A GmbH", "2026-02-10", STEEL, 60.0, 3.0)])
    assert doc.model["year"] == 2026 and doc.model["quarterly_holding"] is None


def test_schema_is_valid_and_documents_units() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    line = schema["properties"]["lines"]["items"]["properties"]

    def undocumented(node: dict, where: str) -> list[str]:
        out = []
        for name, prop in node.get("properties", {}).items():
            if "description" not in prop:
                out.append(f"{where}/{name}")
            out += undocumented(prop, f"{where}/{name}")
        for sub in [*([node["items"]] if "items" in node else []), *node.get("oneOf", [])]:
            out += undocumented(sub, where)
        return out

    assert undocumented(schema, "") == []
    assert (
        "Unit: t." in line["net_mass_t"]["description"] and "tCO2e" in line["embedded_tco2e"]["description"]
    )


HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "<r><t>x</t></r></si><si><t>y</t></r>",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_importer_names_are_inert(tmp_path: Path, name: str) -> None:
    exports = [
        _export(name, name, "2027-02-10", STEEL, 40.0, 3.0, inst=name),
        _export(name, name, "2027-05-10", STEEL, 20.0, 3.0, inst=name),
    ]
    doc, marts = _pack(exports)
    paths = KIND.write(doc, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        ["lines.csv", "totals.csv", "declaration_pack.xlsx", "declaration_pack.json"]
    )
    assert check(doc, tmp_path, marts) == []
    with (tmp_path / "lines.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["importer_name"] == "'" + name and rows[0]["installation_id"] == "'" + name
    wb = openpyxl.load_workbook(
        tmp_path / "declaration_pack.xlsx"
    )  # not data_only: a formula would show as one
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'" + name in texts and name not in texts
    payload = json.loads((tmp_path / "declaration_pack.json").read_text(encoding="utf-8"))
    assert payload["importer"]["name"] == name  # JSON keeps the value as data


def test_written_pack_valid_and_check_catches_tampering(tmp_path: Path) -> None:
    doc, marts = _pack([_export("DE1", "A GmbH", "2027-02-10", STEEL, 60.0, 3.0)])
    KIND.write(doc, tmp_path)
    assert schema_errors(json.loads((tmp_path / "declaration_pack.json").read_text(encoding="utf-8"))) == []
    assert check(doc, tmp_path, marts) == []
    # a pack whose totals no longer equal the export lines is refused
    other = dict(marts)
    other["fct_cbam_export_lines"] = marts["fct_cbam_export_lines"].with_columns(pl.col("net_mass_t") + 1e-6)
    assert any("net_mass_t" in p and "fct_cbam_export_lines" in p for p in check(doc, tmp_path, other))
    # a CSV edited after writing is refused
    text = (tmp_path / "lines.csv").read_text(encoding="utf-8").replace("60.0", "61.0")
    (tmp_path / "lines.csv").write_text(text, encoding="utf-8")
    assert any("lines.csv" in p for p in check(doc, tmp_path, marts))
    # an XLSX edited after writing is refused, on either sheet it re-reads (one opening reads both)
    import openpyxl

    for sheet in ("Lines", "Totals"):
        KIND.write(doc, tmp_path)
        wb = openpyxl.load_workbook(tmp_path / "declaration_pack.xlsx")
        cell = next(c for c in wb[sheet][2] if isinstance(c.value, int | float) and c.value)
        cell.value = cell.value + 1.0
        wb.save(tmp_path / "declaration_pack.xlsx")
        assert any(f"xlsx {sheet}" in p for p in check(doc, tmp_path, marts)), sheet
    # a JSON that breaks the schema is refused
    bad = to_json(doc) | {"year": "2027"}
    assert schema_errors(bad)


def test_check_counts_the_sources_rows(tmp_path: Path) -> None:
    import openpyxl

    from transforms.reports.writers.xlsx_rows import append_rows

    doc, marts = _pack([_export("DE1", "A GmbH", "2027-02-10", STEEL, 60.0, 3.0)])
    KIND.write(doc, tmp_path)
    xlsx = tmp_path / "declaration_pack.xlsx"
    sources = openpyxl.load_workbook(xlsx, read_only=True)["Sources"]
    rows = [r for r in sources.iter_rows(min_row=2, values_only=True)]
    assert rows and all(r[3] for r in rows) and check(doc, tmp_path, marts) == []
    index = openpyxl.load_workbook(xlsx, read_only=True).sheetnames.index("Sources")
    append_rows(xlsx, index, [("X", None, None, "one row too many")], first_row=len(rows) + 1)
    assert any("xlsx Sources" in p for p in check(doc, tmp_path, marts))


def test_figures_and_keys() -> None:
    doc, _ = _pack([_export("DE1", "A GmbH", "2027-02-10", STEEL, 60.0, 3.0)])
    assert doc.key == "DE1_2027" and doc.kind == "declaration_pack" and doc.installations == {"CN-X-001"}
    assert doc.sources == {"exports/2027-02-10/x.csv"}
    assert doc.figures["line/CN-X-001/CN/73181589/certificates_due"] == pytest.approx(90.0, rel=1e-12)
    assert doc.figures["total/net_mass_t"] == 60.0
    assert all(not isinstance(v, float) or math.isfinite(v) for v in doc.figures.values())


def test_files_are_byte_identical_across_runs(tmp_path: Path) -> None:
    """Fixed created date: the same document writes the same bytes (no spurious new versions)."""
    import hashlib
    import time

    doc, _ = _pack([_export("DE1", "A GmbH", "2027-02-10", STEEL, 60.0, 3.0)])
    digests = []
    for i in range(2):
        KIND.write(doc, tmp_path / str(i))
        digests.append(
            {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / str(i)).iterdir()}
        )
        time.sleep(1.1)  # the XLSX timestamps have one-second resolution
    assert digests[0] == digests[1]


def test_reread_of_a_csv_field_longer_than_csvs_default_limit(tmp_path):
    """At scale 100 a line's source row ids exceed csv's 131,072-character field limit (the bench found it)."""
    import csv

    from transforms.reports.writers.declaration_pack import _reread_csv

    long_ids = ";".join(f"exports/2026-03-02/big.csv#{i}" for i in range(20_000))
    assert len(long_ids) > 131_072
    path = tmp_path / "lines.csv"
    path.write_text(f"importer,source_row_ids\nDE1,{long_ids}\n", encoding="utf-8")
    before = csv.field_size_limit()
    assert _reread_csv(path) == [["DE1", long_ids]]
    assert csv.field_size_limit() == before
