"""Unit tests of each normaliser: countries, units, numbers, dates, CN codes, headers, encodings."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from transforms import units
from transforms.contracts import Column, dataset
from transforms.ingest.readers import FileRejected, decode_text, read_csv, read_json
from transforms.ingest.validate import map_headers, parse_column
from transforms.reference import countries
from transforms.text import norm_key


def parse(kind: str, values: list[str | None], **col_kw) -> tuple[list, list]:
    col = Column(name="x", kind=kind, **col_kw)
    df = pl.DataFrame({"__s": values}, schema={"__s": pl.String})
    v, e = parse_column(col, pl.col("__s"), df)
    out = df.select(v.cast(col.dtype).alias("v"), e.alias("e"))
    return out["v"].to_list(), out["e"].to_list()


@pytest.mark.parametrize(
    "text", ["CN", "CHN", "China", "中国", "People's Republic of China", "中华人民共和国", "ＣＮ", " china "]
)
def test_china_spellings(text):
    assert countries.to_iso2(text) == "CN"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("中国香港", "HK"),
        ("Hong Kong", "HK"),
        ("中国台湾", "TW"),
        ("Chinese Taipei", "TW"),
        ("Macau", "MO"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("DEU", "DE"),
    ],
)
def test_no_substring_matching(text, iso):
    assert countries.to_iso2(text) == iso


def test_unresolvable_country_is_none():
    assert countries.to_iso2("Atlantis") is None
    assert countries.to_iso2("") is None


@pytest.mark.parametrize(
    ("a", "b", "f"),
    [
        ("kWh", "MWh", 1e-3),
        ("度", "MWh", 1e-3),
        ("吨", "kg", 1e3),
        ("GJ", "TJ", 1e-3),
        ("lb", "kg", 0.45359237),
        ("mi", "km", 1.609344),
        ("1000Nm3", "Nm3", 1e3),
        ("kgCO2/kWh", "tCO2/MWh", 1.0),
        ("GJ/t", "TJ/Gg", 1.0),
        ("tCO2/TJ", "tCO2/GJ", 1e-3),
    ],
)
def test_unit_factors(a, b, f):
    assert units.factor(a, b) == pytest.approx(f, rel=1e-12)


def test_unit_dimension_mismatch_raises():
    with pytest.raises(ValueError, match="different dimensions"):
        units.factor("kWh", "t")


def test_gas_volume_to_normal_conditions():
    assert units.gas_m3_to_nm3_factor(20.0) == pytest.approx(273.15 / 293.15)
    df = pl.DataFrame({"u": ["m3", "Nm3", "1000Nm3", "m3"], "t": [None, None, None, 15.0]})
    f = df.select(units.gas_factor_expr(pl.col("u"), "Nm3", pl.col("t"))).to_series().to_list()
    assert f == pytest.approx([273.15 / 293.15, 1.0, 1000.0, 273.15 / 288.15])


def test_unit_spellings_canonical():
    v, e = parse(
        "unit",
        ["千瓦时", "KWH", "立方米", "件", "公斤", "bogus", "km"],
        unit_dimensions=("energy", "volume", "pieces", "mass"),
    )
    assert v == ["kWh", "kWh", "m3", "pcs", "kg", None, None]
    assert "unknown unit 'bogus'" in e[5]
    assert "not a energy/volume/pieces/mass unit" in e[6]


def test_numbers_full_width_thousands_and_garbage():
    from transforms.text import nfkc

    raw = ["１２３．５", "1,234.5", "－7", "12,5", "abc", "1e3", None, "NaN"]
    df = pl.DataFrame({"__s": raw}).select(nfkc(pl.col("__s")).alias("__s"))
    v, e = parse_column(Column(name="q", kind="decimal"), pl.col("__s"), df)
    out = df.select(v.alias("v"), e.alias("e"))
    assert out["v"].to_list() == [123.5, 1234.5, -7.0, None, None, 1000.0, None, None]
    assert "not a number: '12,5'" in out["e"][3]
    assert out["e"][6] is None


def test_minimum_rule_message():
    v, e = parse("decimal", ["-3", "0", "5"], minimum=0)
    assert v[1:] == [0.0, 5.0]
    assert e[0] == "must be at least 0, got -3 (negative values are not allowed here)"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-03-01", "2026-03-01"),
        ("2026/3/1", "2026-03-01"),
        ("2026年3月1日", "2026-03-01"),
        ("2026-03-01 00:00:00", "2026-03-01"),
    ],
)
def test_dates(text, iso):
    v, e = parse("date", [text])
    assert v == [dt.date.fromisoformat(iso)] and e == [None]


def test_impossible_and_bad_dates():
    v, e = parse("date", ["2026-02-30", "March 1st", "2026-13-01"])
    assert v == [None, None, None]
    assert e[0].startswith("impossible date: '2026-02-30'")
    assert e[1].startswith("not a date")
    assert e[2].startswith("impossible date")


def test_cn_codes():
    v, e = parse("cn_code", ["7318 15 90", "7318.15.90", "7318159000", "73181"])
    assert v == ["73181590", "73181590", None, None]
    assert "10-digit Chinese customs (HS) code" in e[2]
    assert e[3].startswith("CN code must have 8 digits")


def test_enum_case_insensitive():
    v, e = parse(
        "enum",
        ["Combustion", "MASS_BALANCE", "burning"],
        allowed=("combustion", "process", "mass_balance", "measured"),
    )
    assert v == ["combustion", "mass_balance", None]
    assert "is not one of" in e[2]


def test_periods():
    v, e = parse("period", ["2026", "2026-3", "2026年3月", "2026-13"])
    assert v == ["2026", "2026-03", "2026-03", None]


def test_headers_english_chinese_any_case():
    ds = dataset("supplier_invoices")
    found, unknown, dupes = map_headers(ds, [" Invoice_ID ", "行号", "开票日期", "SUPPLIER_ID", "whatever"])
    assert found == {"invoice_id": 0, "line_no": 1, "invoice_date": 2, "supplier_id": 3}
    assert unknown == ["whatever"] and not dupes
    _, _, dupes = map_headers(ds, ["invoice_id", "发票号码"])
    assert dupes and "both name column invoice_id" in dupes[0]
    assert norm_key(" ＩＮＶＯＩＣＥ_ID ") == "invoice_id"


def test_encodings():
    assert decode_text("发票".encode("gb18030"))[1] == "gb18030"
    assert decode_text("\ufeffa".encode())[1] == "utf-8-sig"
    with pytest.raises(FileRejected, match="UTF-16"):
        decode_text("a,b".encode("utf-16"))


def test_csv_semicolon_tab_and_quotes():
    t = read_csv(b'a;b\n"1,5";x\n')
    assert t.frame["c0"].to_list() == ["1,5"] and "separator ';'" in t.notes
    t = read_csv(b"a\tb\n1\t2\n")
    assert t.frame["c1"].to_list() == ["2"]


def test_json_lines_and_array_detected_from_content():
    a = read_json(b'[{"a": 1.10}, {"a": 2}]')
    b = read_json(b'{"a": 1.10}\n{"a": 2}\n')
    assert a.frame["c0"].to_list() == b.frame["c0"].to_list() == ["1.10", "2"]
