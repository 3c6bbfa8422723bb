"""Every kind of bad input the issue lists: a clear reason, nothing lost (read = accepted + quarantined)."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest

from tests.ingest.helpers import current, drop, files, ingest, quarantine

INV_HEADER = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"
INV_ROW = "INV{n},1,2026-03-0{d},S1,I1,WR1,{q},t"


def invoices(*rows: str, header: str = INV_HEADER) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def accounted(home, dataset):
    f = files(home, dataset)
    assert (f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]).all()
    return f


@pytest.fixture
def zone(tmp_path):
    return tmp_path / "landing", tmp_path / "home"


def one_reason(home, dataset, row):
    q = quarantine(home, dataset).filter(pl.col("row_number") == row)
    assert q.height == 1, q
    return q.row(0, named=True)


def test_missing_required_column_quarantines_every_row(zone):
    landing, home = zone
    header = INV_HEADER.replace(",unit", "")
    drop(
        landing,
        "supplier_invoices",
        "2026-03-03",
        "a.csv",
        invoices("INV1,1,2026-03-01,S1,I1,WR1,5", "INV2,1,2026-03-01,S1,I1,WR1,6", header=header),
    )
    ingest(landing, home, "supplier_invoices")
    q = quarantine(home, "supplier_invoices")
    assert q.height == 2 and set(q["column"]) == {"unit"}
    assert "required column unit (单位) is missing from the file" in q["reason"][0]
    f = accounted(home, "supplier_invoices")
    assert f.row(0, named=True)["file_status"] == "rejected" and current(home, "supplier_invoices").is_empty()


@pytest.mark.parametrize(
    ("bad", "column", "needle"),
    [
        ("INV9,1,2026-03-01,S1,I1,WR1,lots,t", "quantity", "not a number: 'lots'"),
        ("INV9,1,2026-03-01,S1,I1,WR1,5,barrels", "unit", "unknown unit 'barrels'"),
        ("INV9,1,2026-02-30,S1,I1,WR1,5,t", "invoice_date", "impossible date: '2026-02-30'"),
        ("INV9,1,2026-03-01,S1,I1,WR1,5,km", "unit", "not a"),
        ("INV9,,2026-03-01,S1,I1,WR1,5,t", "line_no", "required value missing in column line_no"),
    ],
)
def test_bad_row_quarantined_with_reason(zone, bad, column, needle):
    landing, home = zone
    drop(
        landing, "supplier_invoices", "2026-03-03", "a.csv", invoices("INV1,1,2026-03-01,S1,I1,WR1,5,t", bad)
    )
    ingest(landing, home, "supplier_invoices")
    r = one_reason(home, "supplier_invoices", 2)
    assert r["column"] == column and needle in r["reason"], r
    assert json.loads(r["raw"])["invoice_id"] == "INV9"
    assert current(home, "supplier_invoices")["invoice_id"].to_list() == ["INV1"]
    accounted(home, "supplier_invoices")


def test_unresolvable_country(zone):
    landing, home = zone
    drop(
        landing,
        "suppliers",
        "2026-01-05",
        "s.csv",
        "supplier_id,name,country\nS1,Mill,中国\nS2,Mill2,Atlantis\n",
    )
    ingest(landing, home, "suppliers")
    r = one_reason(home, "suppliers", 2)
    assert r["column"] == "country" and "unknown country 'Atlantis'" in r["reason"]
    assert current(home, "suppliers")["country"].to_list() == ["CN"]


def test_negative_quantity_where_forbidden(zone):
    landing, home = zone
    head = "installation_id,process_id,period_start,produced_t"
    drop(landing, "production", "2026-03-03", "p.csv", f"{head}\nI1,P1,2026-02-01,100\nI1,P2,2026-02-01,-5\n")
    ingest(landing, home, "production")
    r = one_reason(home, "production", 2)
    assert r["column"] == "produced_t" and "must be at least 0, got -5" in r["reason"]


def test_credit_note_negative_quantity_is_fine(zone):
    landing, home = zone
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", invoices("INV1,1,2026-03-01,S1,I1,WR1,-5,t"))
    ingest(landing, home, "supplier_invoices")
    assert current(home, "supplier_invoices")["quantity"].to_list() == [-5.0]


def test_ten_digit_customs_code_in_cn_column_never_truncated(zone):
    landing, home = zone
    head = "product_id,name,cn_code,installation_id,process_id"
    drop(
        landing,
        "products",
        "2026-01-05",
        "p.csv",
        f"{head}\nB1,Bolt,7318159000,I1,P1\nB2,Nut,7318 16 91,I1,P1\n",
    )
    ingest(landing, home, "products")
    r = one_reason(home, "products", 1)
    assert (
        r["column"] == "cn_code"
        and "10-digit Chinese customs (HS) code, not an 8-digit EU CN code" in r["reason"]
    )
    assert current(home, "products")["cn_code"].to_list() == ["73181691"]


def test_duplicate_business_key_within_a_drop_quarantines_both(zone):
    landing, home = zone
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", invoices("INV1,1,2026-03-01,S1,I1,WR1,5,t"))
    drop(
        landing,
        "supplier_invoices",
        "2026-03-03",
        "b.csv",
        invoices("INV1,1,2026-03-01,S1,I1,WR1,7,t", "INV2,1,2026-03-01,S1,I1,WR1,1,t"),
    )
    ingest(landing, home, "supplier_invoices")
    q = quarantine(home, "supplier_invoices")
    assert q.height == 2 and all("appears 2 times in this drop" in r for r in q["reason"])
    assert "a.csv row 1" in q["reason"][0] and "b.csv row 1" in q["reason"][0]
    assert current(home, "supplier_invoices")["invoice_id"].to_list() == ["INV2"]
    accounted(home, "supplier_invoices")


def test_empty_file_rejected_whole(zone):
    landing, home = zone
    drop(landing, "supplier_invoices", "2026-03-03", "empty.csv", b"")
    ingest(landing, home, "supplier_invoices")
    f = files(home, "supplier_invoices").row(0, named=True)
    assert (f["rows_read"], f["file_status"]) == (0, "rejected")
    q = quarantine(home, "supplier_invoices")
    assert q.height == 1 and q["row_number"][0] is None and "0 bytes" in q["reason"][0]


def test_unknown_encoding_rejected_whole(zone):
    landing, home = zone
    drop(
        landing,
        "supplier_invoices",
        "2026-03-03",
        "u16.csv",
        invoices(INV_ROW.format(n=1, d=1, q=5)),
        encoding="utf-16",
    )
    ingest(landing, home, "supplier_invoices")
    q = quarantine(home, "supplier_invoices")
    assert q.height == 1 and "UTF-16" in q["reason"][0] and q["row_number"][0] is None
    assert files(home, "supplier_invoices")["file_status"].to_list() == ["rejected"]


def test_truncated_file_keeps_complete_rows(zone):
    landing, home = zone
    content = invoices(*(INV_ROW.format(n=i, d=1, q=i) for i in range(1, 5)))
    drop(landing, "supplier_invoices", "2026-03-03", "cut.csv", content[: content.rindex(",WR1")])
    ingest(landing, home, "supplier_invoices")
    assert current(home, "supplier_invoices").height == 3
    r = one_reason(home, "supplier_invoices", 4)
    assert "file is cut short" in r["reason"]
    f = accounted(home, "supplier_invoices").row(0, named=True)
    assert (f["rows_read"], f["rows_accepted"], f["rows_quarantined"], f["file_status"]) == (
        4,
        3,
        1,
        "partial",
    )


def test_truncated_gb18030_mid_character(zone):
    landing, home = zone
    data = (
        "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit\n"
        "INV1,1,2026-03-01,S1,I1,WR1,5,吨\nINV2,1,2026-03-01,S1,I1,WR1,5,吨\n"
    )
    raw = data.encode("gb18030")
    drop(landing, "supplier_invoices", "2026-03-03", "cut.csv", raw[:-2])  # ends inside the last '吨'
    ingest(landing, home, "supplier_invoices")
    assert current(home, "supplier_invoices")["invoice_id"].to_list() == ["INV1"]
    assert one_reason(home, "supplier_invoices", 2)["column"] == "unit"


def test_xlsx_with_title_rows(zone):
    import openpyxl

    landing, home = zone
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["宁波紧固件有限公司 供应商清单"])
    ws.append(["导出日期 2026-01-05"])
    ws.append(["供应商编号", "供应商名称", "Country"])
    ws.append(["S1", "宝钢", "中国"])
    ws.append(["S2", "Hoa Phat", "Vietnam"])
    buf = io.BytesIO()
    wb.save(buf)
    drop(landing, "suppliers", "2026-01-05", "suppliers.xlsx", buf.getvalue())
    ingest(landing, home, "suppliers")
    assert current(home, "suppliers")["country"].to_list() == ["CN", "VN"]
    f = files(home, "suppliers").row(0, named=True)
    assert "skipped 2 title row(s) above the header" in f["notes"]
    assert f["rows_read"] == 2


def test_valid_variants_accepted(zone):
    landing, home = zone
    gb = (
        "发票号码,行号,开票日期,供应商编号,收货装置,物料编号,数量,单位\n"
        'INV1,1,2026年3月1日,S1,I1,WR1,"1,234.5",吨\n'
    ).encode("gb18030")
    drop(landing, "supplier_invoices", "2026-03-03", "gb.csv", gb)
    bom = "\ufeff" + INV_HEADER.replace(",", ";") + "\nINV2;1;2026/03/02;S1;I1;WR1;１２．５;千克\n"
    drop(landing, "supplier_invoices", "2026-03-03", "bom.csv", bom)
    jl = "\n".join(
        json.dumps(
            {
                "invoice_id": f"INV{i}",
                "line_no": 1,
                "invoice_date": "2026-03-03",
                "supplier_id": "S1",
                "installation_id": "I1",
                "material_id": "WR1",
                "quantity": 2.5,
                "unit": "t",
            }
        )
        for i in (3, 4)
    )
    drop(landing, "supplier_invoices", "2026-03-03", "lines.json", jl)
    ingest(landing, home, "supplier_invoices")
    cur = current(home, "supplier_invoices").sort("invoice_id")
    assert cur["quantity"].to_list() == [1234.5, 12.5, 2.5, 2.5]
    assert cur["unit"].to_list() == ["t", "kg", "t", "t"]
    assert quarantine(home, "supplier_invoices").is_empty()
    enc = dict(files(home, "supplier_invoices").select("file", "encoding").iter_rows())
    assert enc["supplier_invoices/2026-03-03/gb.csv"] == "gb18030"
    assert enc["supplier_invoices/2026-03-03/bom.csv"] == "utf-8-sig"


def test_quantity_without_unit(zone):
    landing, home = zone
    head = "installation_id,stream_id,method,unit,ncv,ncv_unit"
    drop(
        landing,
        "source_streams",
        "2026-01-05",
        "s.csv",
        f"{head}\nI1,NG,combustion,1000Nm3,35.2,GJ/1000Nm3\nI1,DSL,combustion,t,43,\n",
    )
    ingest(landing, home, "source_streams")
    r = one_reason(home, "source_streams", 2)
    assert r["column"] == "ncv_unit" and "ncv is given without its unit (ncv_unit)" in r["reason"]


def test_export_destination_must_be_eu(zone):
    landing, home = zone
    head = "export_id,line_no,declaration_date,product_id,quantity,unit,importer_eori,destination_country"
    drop(
        landing,
        "exports",
        "2026-03-03",
        "e.csv",
        f"{head}\nE1,1,2026-03-01,B1,10,t,DE123,德国\nE2,1,2026-03-01,B1,10,t,CH123,Switzerland\n",
    )
    ingest(landing, home, "exports")
    r = one_reason(home, "exports", 2)
    assert r["column"] == "destination_country" and "not an EU member state" in r["reason"]


def test_ambiguous_template_category_needs_cn_code(zone):
    landing, home = zone
    head = "material_id,name,kind,cn_code,goods_category"
    drop(
        landing,
        "materials",
        "2026-01-05",
        "m.csv",
        f'{head}\nM1,FeMn,precursor,72021120,"Alloys (FeMn, FeCr, FeNi)"\nM2,Alloy,precursor,,"Alloys (FeMn, FeCr, FeNi)"\n',
    )
    ingest(landing, home, "materials")
    assert current(home, "materials")["goods_category"].to_list() == ["FeMn"]
    r = one_reason(home, "materials", 2)
    assert "names several categories" in r["reason"]
