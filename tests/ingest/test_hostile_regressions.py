"""Regression tests for the hostile-input defects of issue 11 that concern reading and validating input, one
test per defect, named after it. Each also checks rows read = accepted + quarantined."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import polars as pl
import pytest

from orchestration.lib.storage import Landing
from tests.ingest.helpers import current, drop, files, ingest, quarantine
from tests.ingest.hostile.corpus import INV_HEADER, csv_of, inv_obj, inv_row

INV = "supplier_invoices"


@pytest.fixture
def zone(tmp_path):
    return tmp_path / "landing", tmp_path / "home"


def record(home: Path, dataset: str, name: str) -> dict:
    f = files(home, dataset)
    assert (f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]).all()
    rows = f.filter(pl.col("file").str.ends_with("/" + name) | (pl.col("file") == name))
    assert rows.height == 1, f
    return rows.row(0, named=True)


def reasons(home: Path, dataset: str, name: str) -> list[str]:
    q = quarantine(home, dataset)
    return q.filter(pl.col("file").str.ends_with("/" + name) | (pl.col("file") == name))["reason"].to_list()


# ---------- symlinks and special files


def test_symlink_to_file_outside_zone_is_rejected_not_followed(zone, tmp_path):
    landing, home = zone
    secret = tmp_path / "outside.csv"
    secret.write_bytes(csv_of(inv_row("SECRET", 1)))
    drop(landing, INV, "2026-03-03", "real.csv", csv_of(inv_row("A", 1)))
    (landing / INV / "2026-03-03" / "link.csv").symlink_to(secret)
    (landing / INV / "2026-03-03" / "passwd.csv").symlink_to("/etc/passwd")
    ingest(landing, home, INV)
    assert current(home, INV)["invoice_id"].to_list() == ["A-1"]
    for name in ("link.csv", "passwd.csv"):
        rec = record(home, INV, f"{INV}/2026-03-03/{name}")
        assert (rec["rows_read"], rec["file_status"]) == (0, "rejected")
        assert any("symbolic link" in r for r in reasons(home, INV, name))
    q = quarantine(home, INV)
    assert q["raw"].drop_nulls().str.contains("root:").sum() == 0  # nothing of /etc/passwd was read


def test_symlinked_drop_folder_is_rejected_not_read(zone, tmp_path):
    landing, home = zone
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.csv").write_bytes(csv_of(inv_row("LINKED", 1)))
    (landing / INV).mkdir(parents=True)
    (landing / INV / "2026-03-04").symlink_to(elsewhere, target_is_directory=True)
    drop(landing, INV, "2026-03-03", "real.csv", csv_of(inv_row("A", 1)))
    ingest(landing, home, INV)
    assert current(home, INV)["invoice_id"].to_list() == ["A-1"]
    rec = record(home, INV, f"{INV}/2026-03-04")
    assert rec["file_status"] == "rejected" and "symbolic link" in json.loads(rec["reasons"])[0]


def test_symlinked_dataset_folder_is_rejected_not_read(zone, tmp_path):
    landing, home = zone
    elsewhere = tmp_path / "elsewhere" / "2026-03-03"
    elsewhere.mkdir(parents=True)
    (elsewhere / "a.csv").write_bytes(csv_of(inv_row("LINKED", 1)))
    landing.mkdir()
    (landing / INV).symlink_to(elsewhere.parent, target_is_directory=True)
    ingest(landing, home, INV)
    assert current(home, INV).is_empty()
    assert record(home, INV, INV)["file_status"] == "rejected"


def test_fifo_in_landing_zone_is_rejected_without_blocking(zone):
    landing, home = zone
    drop(landing, INV, "2026-03-03", "real.csv", csv_of(inv_row("A", 1)))
    os.mkfifo(landing / INV / "2026-03-03" / "pipe.csv")
    ingest(landing, home, INV)
    assert "not a regular file" in reasons(home, INV, "pipe.csv")[0]
    assert current(home, INV).height == 1


def test_read_refuses_a_symlink_swapped_in_after_listing(zone, tmp_path):
    landing, _ = zone
    p = drop(landing, INV, "2026-03-03", "a.csv", csv_of(inv_row("A", 1)))
    zone_ = Landing.open(str(landing))
    listed = [f.rel_path for f in zone_.files()]
    p.unlink()
    p.symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="symbolic link"):
        zone_.read(listed[0])


# ---------- rows counted as a person counts them


def test_csv_field_over_131072_chars_keeps_other_files_of_dataset(zone, caplog):
    landing, home = zone
    drop(
        landing,
        INV,
        "2026-03-03",
        "huge.csv",
        csv_of(inv_row("H", 1), inv_row("H", 2, material_id="W" * 200_000)),
    )
    drop(landing, INV, "2026-03-03", "fine.csv", csv_of(inv_row("F", 1)))
    drop(landing, INV, "2026-03-04", "later.csv", csv_of(inv_row("L", 1)))
    ingest(landing, home, INV)
    assert sorted(current(home, INV)["invoice_id"]) == ["F-1", "H-1", "L-1"]
    rec = record(home, INV, f"{INV}/2026-03-03/huge.csv")
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (2, 1, 1)
    assert "longer than 131,072 characters" in reasons(home, INV, "huge.csv")[0]
    assert "longer than 131,072" in rec["reasons"]  # the file's record names the cause


def test_unexpected_reader_error_rejects_only_that_file(zone, monkeypatch, caplog):
    import transforms.ingest.drops as drops_mod  # the ingest step reads each file

    landing, home = zone
    drop(landing, INV, "2026-03-03", "boom.csv", csv_of(inv_row("B", 1)))
    drop(landing, INV, "2026-03-03", "fine.csv", csv_of(inv_row("F", 1)))
    real = drops_mod.read_batches

    def flaky(name, *a, **kw):
        if name.endswith("boom.csv"):
            raise RuntimeError("simulated reader bug")
        return real(name, *a, **kw)

    monkeypatch.setattr(drops_mod, "read_batches", flaky)
    with caplog.at_level(logging.WARNING):
        ingest(landing, home, INV)
    assert current(home, INV)["invoice_id"].to_list() == ["F-1"]
    r = reasons(home, INV, "boom.csv")[0]
    assert "RuntimeError: simulated reader bug" in r
    assert any("boom.csv" in m and "simulated reader bug" in m for m in caplog.messages)


def test_unbalanced_quote_six_rows_read_as_six(zone):
    landing, home = zone
    rows = [inv_row("Q", i) for i in range(1, 7)]
    rows[1] = rows[1].replace(",2026-03-01,", ',"2026-03-01,')
    drop(landing, INV, "2026-03-03", "q.csv", csv_of(*rows))
    ingest(landing, home, INV)
    rec = record(home, INV, f"{INV}/2026-03-03/q.csv")
    assert (rec["rows_read"], rec["rows_accepted"], rec["rows_quarantined"]) == (6, 5, 1)
    q = quarantine(home, INV).row(0, named=True)
    assert q["row_number"] == 2 and "not closed on its line" in q["reason"]


def test_multiline_quoted_value_stays_one_row(zone):
    landing, home = zone
    drop(
        landing,
        "installations",
        "2026-01-05",
        "i.csv",
        'installation_id,name,country,address\nI1,Mill,CN,"Room 5, Building 3,\nNo. 88 Road, Ningbo"\nI2,Mill 2,CN,x\n',
    )
    ingest(landing, home, "installations")
    cur = current(home, "installations").sort("installation_id")
    assert cur["address"].to_list() == ["Room 5, Building 3,\nNo. 88 Road, Ningbo", "x"]
    assert record(home, "installations", "installations/2026-01-05/i.csv")["rows_read"] == 2


def test_json_array_syntax_error_in_third_object_keeps_objects_4_and_5(zone):
    landing, home = zone
    objs = [json.dumps(inv_obj("J", i)) for i in range(1, 6)]
    objs[2] = objs[2].replace('"line_no": 1,', '"line_no": 1,,')
    drop(landing, INV, "2026-03-03", "a.json", "[\n" + ",\n".join(objs) + "\n]\n")
    ingest(landing, home, INV)
    assert sorted(current(home, INV)["invoice_id"]) == ["J-1", "J-2", "J-4", "J-5"]
    q = quarantine(home, INV).row(0, named=True)
    assert q["row_number"] == 3 and "invalid JSON in this object" in q["reason"] and "line 4" in q["reason"]
    assert record(home, INV, f"{INV}/2026-03-03/a.json")["rows_read"] == 5


def test_json_unclosed_string_rejects_file_saying_so(zone):
    landing, home = zone
    objs = [json.dumps(inv_obj("J", i)) for i in range(1, 6)]
    objs[2] = objs[2].replace('"J-3"', '"J-3')
    drop(landing, INV, "2026-03-03", "a.json", "[\n" + ",\n".join(objs) + "\n]\n")
    ingest(landing, home, INV)
    r = reasons(home, INV, "a.json")[0]
    assert "never closed" in r and "after object 2" in r and "not loaded" in r
    assert record(home, INV, f"{INV}/2026-03-03/a.json")["file_status"] == "rejected"


def test_pretty_printed_json_object_is_one_row(zone):
    landing, home = zone
    text = json.dumps(inv_obj("P", 1), indent=2)
    assert text.count("\n") >= 9
    drop(landing, INV, "2026-03-03", "p.json", text)
    ingest(landing, home, INV)
    rec = record(home, INV, f"{INV}/2026-03-03/p.json")
    assert (rec["rows_read"], rec["rows_accepted"], rec["file_status"]) == (1, 1, "ok")


def test_json_lines_in_csv_file_is_read_as_json(zone):
    landing, home = zone
    drop(landing, INV, "2026-03-03", "a.csv", "\n".join(json.dumps(inv_obj("L", i)) for i in (1, 2)) + "\n")
    ingest(landing, home, INV)
    assert sorted(current(home, INV)["invoice_id"]) == ["L-1", "L-2"]
    rec = record(home, INV, f"{INV}/2026-03-03/a.csv")
    assert rec["file_format"] == "json" and "named .csv but holds JSON" in rec["notes"]


# ---------- bad values


def test_latin1_file_not_decoded_as_gb18030(zone):
    landing, home = zone
    head = "export_id,line_no,declaration_date,product_id,quantity,unit,importer_eori,destination_country,importer_name"
    body = "E1,1,2026-03-01,B1,10,t,DE123,DE,Müller Stahlhandel GmbH\n"
    drop(landing, "exports", "2026-03-03", "latin1.csv", (head + "\n" + body).encode("latin-1"))
    drop(landing, "exports", "2026-03-03", "utf8.csv", head + "\n" + body.replace("E1", "E2"))
    ingest(landing, home, "exports")
    assert current(home, "exports")["importer_name"].to_list() == ["Müller Stahlhandel GmbH"]
    r = reasons(home, "exports", "latin1.csv")[0]
    assert "encoding unclear" in r and "Latin-1" in r and "Müller" in r and "UTF-8" in r


def test_genuine_gb18030_with_a_rare_character_still_read(zone):
    landing, home = zone
    text = "供应商编号,供应商名称,country\nS1,宁波镕钢有限公司,中国\nS2,宝山钢铁股份有限公司,中国\n"
    drop(landing, "suppliers", "2026-01-05", "gbk.csv", text.encode("gb18030"))
    ingest(landing, home, "suppliers")
    assert current(home, "suppliers")["name"].to_list() == ["宁波镕钢有限公司", "宝山钢铁股份有限公司"]


def test_overflowing_numbers_never_inf_in_lake(zone):
    landing, home = zone
    bad = ["1e309", "-1e400", "NaN", "inf", "-Infinity"]
    drop(
        landing,
        INV,
        "2026-03-03",
        "a.csv",
        csv_of(*(inv_row("N", i, q) for i, q in enumerate(bad, 1)), inv_row("N", 9, "2")),
    )
    drop(
        landing,
        INV,
        "2026-03-03",
        "b.json",
        "[" + json.dumps(inv_obj("JN", 1)).replace('"quantity": 5', '"quantity": 1e999') + "]",
    )
    ingest(landing, home, INV)
    assert current(home, INV)["quantity"].to_list() == [2.0]
    q = quarantine(home, INV)
    assert q.height == 6 and set(q["column"]) == {"quantity"}
    assert q.filter(pl.col("reason").str.contains("beyond the range of a 64-bit float")).height == 3


def test_nul_byte_after_first_4k_refused(zone):
    landing, home = zone
    rows = [inv_row("Z", i) for i in range(1, 151)] + [inv_row("Z", 151, invoice_id="Z-\x00151")]
    data = csv_of(*rows)
    assert data.index(b"\x00") > 4096
    drop(landing, INV, "2026-03-03", "a.csv", data)
    ingest(landing, home, INV)
    assert current(home, INV).height == 150
    assert not current(home, INV)["invoice_id"].str.contains("\x00").any()
    q = quarantine(home, INV).row(0, named=True)
    assert q["row_number"] == 151 and "control character" in q["reason"] and "\x00" not in q["reason"]


def test_json_array_where_scalar_expected_quarantined(zone):
    landing, home = zone
    objs = [inv_obj("S", 1, invoice_id=["S-1", "S-2"]), inv_obj("S", 2, quantity={"v": 5}), inv_obj("S", 3)]
    drop(landing, INV, "2026-03-03", "a.json", json.dumps(objs))
    ingest(landing, home, INV)
    assert current(home, INV)["invoice_id"].to_list() == ["S-3"]
    q = quarantine(home, INV).sort("row_number")
    assert q["column"].to_list() == ["invoice_id", "quantity"]
    assert "a JSON array where a single value is expected" in q["reason"][0]
    assert "a JSON object where a single value is expected" in q["reason"][1]


def test_json_object_accepted_where_contract_expects_json(zone):
    landing, home = zone
    row = {
        "product_id": "C1",
        "name": "Clinker",
        "cn_code": "25231000",
        "installation_id": "I1",
        "process_id": "P1",
    }
    drop(
        landing,
        "products",
        "2026-01-05",
        "p.json",
        json.dumps([row | {"qualifying_parameters": {"clinker_factor": 0.95}}]),
    )
    ingest(landing, home, "products")
    assert json.loads(current(home, "products")["qualifying_parameters"][0]) == {"clinker_factor": 0.95}


def test_xlsx_formula_without_cached_value_quarantined(zone):
    import openpyxl

    landing, home = zone
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(INV_HEADER.split(","))
    ws.append(inv_row("X", 1).split(","))
    ws.append([*inv_row("X", 2).split(",")[:6], "=G2*2", "t"])  # openpyxl stores no cached value
    buf = io.BytesIO()
    wb.save(buf)
    drop(landing, INV, "2026-03-03", "f.xlsx", buf.getvalue())
    ingest(landing, home, INV)
    assert current(home, INV)["invoice_id"].to_list() == ["X-1"]
    q = quarantine(home, INV).row(0, named=True)
    assert q["column"] == "quantity" and q["row_number"] == 2
    assert q["reason"].startswith("formula without a cached value: open and save the file in Excel")
    assert "required value missing" not in q["reason"]


# ---------- records and lineage


def test_reasons_containing_semicolon_not_cut(zone):
    landing, home = zone
    drop(landing, INV, "2026-03-03", "a.csv", csv_of(inv_row("R", 1, '"1.234,5"')))
    (landing / INV / "stray.csv").write_bytes(b"x")  # its reason has '; ' too
    ingest(landing, home, INV)
    full = reasons(home, INV, "a.csv")[0]
    assert "; ',' only between thousands" in full
    listed = json.loads(record(home, INV, f"{INV}/2026-03-03/a.csv")["reasons"])
    assert listed == ["quantity: not a number: '…' (use '…' for decimals; '…' only between thousands) (1)"]
    stray = json.loads(record(home, INV, f"{INV}/stray.csv")["reasons"])
    assert stray[0].endswith("drop folder; move it into one (1)")


def test_hash_in_file_name_lineage_id_unambiguous(zone):
    landing, home = zone
    drop(landing, INV, "2026-03-03", "inv#2%41.csv", csv_of(inv_row("H", 1)))
    ingest(landing, home, INV)
    rid = current(home, INV)["_source_row_id"][0]
    assert rid == f"{INV}/2026-03-03/inv%232%2541.csv#1"
    from urllib.parse import unquote

    file_part, row = rid.rsplit("#", 1)
    assert unquote(file_part) == current(home, INV)["_file"][0] and row == "1"


def test_header_only_file_recorded_with_reason(zone):
    landing, home = zone
    drop(landing, INV, "2026-03-03", "h.csv", INV_HEADER + "\n")
    ingest(landing, home, INV)
    rec = record(home, INV, f"{INV}/2026-03-03/h.csv")
    assert (rec["rows_read"], rec["file_status"]) == (0, "rejected")
    assert "no data rows" in json.loads(rec["reasons"])[0]
    assert reasons(home, INV, "h.csv") == ["no data rows: the file has a header but no rows below it"]


def test_file_that_cannot_be_opened_is_rejected_then_retried(zone, monkeypatch):
    from orchestration.lib.storage import LocalLanding

    landing, home = zone
    drop(landing, INV, "2026-03-03", "locked.csv", csv_of(inv_row("K", 1)))
    drop(landing, INV, "2026-03-03", "fine.csv", csv_of(inv_row("F", 1)))
    real = LocalLanding.read

    def deny(self, rel):
        if rel.endswith("locked.csv"):
            raise PermissionError(13, "Permission denied")
        return real(self, rel)

    monkeypatch.setattr(LocalLanding, "read", deny)
    ingest(landing, home, INV)
    assert current(home, INV)["invoice_id"].to_list() == ["F-1"]
    assert "cannot be read from the landing zone" in reasons(home, INV, "locked.csv")[0]
    monkeypatch.setattr(LocalLanding, "read", real)
    ingest(landing, home, INV)  # same bytes, same mtime: still read again, since it was never read
    assert sorted(current(home, INV)["invoice_id"]) == ["F-1", "K-1"]
