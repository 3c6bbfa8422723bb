"""The hostile corpus, second part (issue 11): encodings, malformed CSV/XLSX/JSON/Parquet, huge files and zip
bombs, numbers, dates, formula and markup strings, path tricks, lying extensions, duplicate headers and the
meter_readings layouts. Same shape as `corpus.CASES`; a case with `make` writes its landing entry itself (a
symbolic link, a FIFO, a 2 GiB sparse file), `entry` is the path the files ledger records when it is not the
case's file (a linked folder, a drop folder that is not a date), and `listed=False` means the entry must not be
recorded at all (hidden and editor lock files are not data).

Everything is generated into the test's tmp folder: the 2 GiB file is sparse (no disk used) and the zip bombs
are under 1 MB on disk.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl

from tests.ingest.hostile.corpus import (
    INV,
    INV_HEADER,
    SUP,
    Case,
    _inv_frame,
    _parquet,
    _xlsx,
    _xlsx_inv,
    csv_of,
    inv_obj,
    inv_row,
)

MR = "meter_readings"
M1 = "GROUP.METER01#Real Energy Into the Load#kWh"
M2 = "GROUP.METER02#Real Energy Into the Load#MWh"


# --- builders -----------------------------------------------------------------------------------------------


def _rewrite_xlsx(p: str, edit) -> bytes:
    """A real workbook with one part's XML changed by `edit(name, bytes) -> bytes`."""
    src = zipfile.ZipFile(io.BytesIO(_xlsx_inv(p, [5, 6])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, edit(info.filename, src.read(info.filename)))
    return out.getvalue()


def _xxe(p: str) -> bytes:
    dtd = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet'
    return _rewrite_xlsx(
        p, lambda n, d: d.replace(b"<worksheet", dtd, 1) if n == "xl/worksheets/sheet1.xml" else d
    )


def _billion_laughs(p: str) -> bytes:
    ents = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    dtd = f"<!DOCTYPE workbook [{ents}]><workbook".encode()
    return _rewrite_xlsx(p, lambda n, d: d.replace(b"<workbook", dtd, 1) if n == "xl/workbook.xml" else d)


def _zip_bomb(p: str) -> bytes:
    """A real workbook plus a 200 MiB sheet of blanks deflated to < 1 MB (ratio ≈ 230:1)."""
    src = zipfile.ZipFile(io.BytesIO(_xlsx_inv(p, [5])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info.filename))
        with z.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(200):
                f.write(chunk)
    return out.getvalue()


def _lying_sizes(p: str) -> bytes:
    """A workbook whose zip directory declares 4 GiB for a part (the sizes a reader would trust)."""
    data = bytearray(_xlsx_inv(p, [5]))
    big = struct.pack("<I", 0xFFFFFFF0)
    i = data.find(b"PK\x01\x02")  # central directory: uncompressed size at offset 24
    while i != -1:
        data[i + 24 : i + 28] = big
        i = data.find(b"PK\x01\x02", i + 4)
    return bytes(data)


def _zip_garbage(p: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", b"garbage\x00\x01")
        z.writestr("xl/workbook.xml", b"\xff\xfe not xml")
    return out.getvalue()


def _plain_zip(p: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("invoices.csv", csv_of(inv_row(p, 1)))
    return out.getvalue()


def _parquet_binary(p: str) -> bytes:
    d: dict[str, list] = _inv_frame(p, 2)
    d["supplier_id"] = [b"S1", b"\xff\xfe"]
    return _parquet(pl.DataFrame(d))


def _parquet_far_dates(p: str) -> bytes:
    d: dict[str, list] = _inv_frame(p, 3)
    d["invoice_date"] = [date(2026, 3, 1), date(1, 1, 1), date(9999, 12, 31)]
    d["quantity"] = [1.5, 2.0, 3.0]
    return _parquet(pl.DataFrame(d))


def _good_parquet(p: str) -> bytes:
    return _parquet(pl.DataFrame(_inv_frame(p, 3)))


def _xlsx_dates(p: str) -> bytes:
    def row(i: int, d: object) -> list[object]:
        return [f"{p}-{i}", 1, d, "S1", "I1", "WR1", 5, "t"]

    return _xlsx(
        [
            INV_HEADER.split(","),
            row(1, datetime(2026, 3, 1)),
            row(2, 45352),  # an Excel serial in a cell not formatted as a date
            row(3, datetime(1900, 1, 1)),
            row(4, datetime(9999, 12, 31)),
            row(5, datetime(2026, 3, 1, 13, 5)),  # a time where a date belongs
        ]
    )


# --- landing entries that are not plain files ------------------------------------------------------------


def _outside_file(target: Path, p: str, outside: Path) -> None:
    secret = outside / f"{p}-secret.csv"
    secret.write_bytes(csv_of(inv_row(f"{p}-OUTSIDE", 1)))
    target.symlink_to(secret)


def _to_passwd(target: Path, p: str, outside: Path) -> None:
    target.symlink_to("/etc/passwd")


def _dangling(target: Path, p: str, outside: Path) -> None:
    target.symlink_to(outside / "does-not-exist.csv")


def _linked_drop_folder(target: Path, p: str, outside: Path) -> None:
    folder = outside / f"{p}-drop"
    folder.mkdir()
    (folder / target.name).write_bytes(csv_of(inv_row(f"{p}-LINKED", 1)))
    target.parent.rmdir()
    target.parent.symlink_to(folder, target_is_directory=True)


def _fifo(target: Path, p: str, outside: Path) -> None:
    os.mkfifo(target)


def _sparse_2gib(target: Path, p: str, outside: Path) -> None:
    with open(target, "wb") as f:
        f.write(csv_of(inv_row(p, 1)))
        f.truncate(2 << 30)  # sparse: no disk used; reading it would take 2 GiB of memory


def _not_a_date_folder(target: Path, p: str, outside: Path) -> None:
    folder = target.parent.parent / "2026-02-30"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / target.name).write_bytes(csv_of(inv_row(p, 1)))
    target.parent.rmdir()


def _writer(name: str):
    """`make` writing a plain file under another name than the case's (hidden and lock files)."""

    def make(target: Path, p: str, outside: Path) -> None:
        (target.parent / name).write_bytes(csv_of(inv_row(p, 1)))

    return make


def ok1(p: str) -> bytes:
    return csv_of(inv_row(p, 1))


EXTRA: list[Case] = [
    # encodings
    Case("utf16le_no_bom", INV, "u16le.csv", lambda p: ok1(p).decode().encode("utf-16-le"), 0, 0, 0, "rejected", "NUL bytes"),
    Case("utf16be_bom", INV, "u16be.csv", lambda p: b"\xfe\xff" + ok1(p).decode().encode("utf-16-be"), 0, 0, 0, "rejected", "UTF-16"),
    Case("utf32", INV, "u32.csv", lambda p: ok1(p).decode().encode("utf-32"), 0, 0, 0, "rejected", "UTF-32"),
    Case(
        "mixed_utf8_and_latin1",
        SUP,
        "mixed_enc.csv",
        lambda p: (f"supplier_id,name,country\n{p}-1,宁波钢铁,中国\n".encode() + f"{p}-2,Süd Stahl,Germany\n".encode("latin-1")),
        0, 0, 0, "rejected", "encoding mixed: the file's other lines are UTF-8 but line 3 is not",
    ),
    Case(
        "windows1252_smart_quotes",
        SUP,
        "cp1252.csv",
        lambda p: f"supplier_id,name,country\n{p}-1,“Smart” Stahl – GmbH,Germany\n".encode("cp1252"),
        0, 0, 0, "rejected", "neither UTF-8 nor GB18030",
    ),
    Case("utf8_bom_json", INV, "bom.json", lambda p: b"\xef\xbb\xbf" + json.dumps([inv_obj(p, 1)]).encode(), 1, 1, 0, "ok"),
    # malformed CSV
    Case(
        "ragged_rows",
        INV,
        "ragged.csv",
        lambda p: csv_of(inv_row(p, 1), inv_row(p, 2) + ",extra", ",".join(inv_row(p, 3).split(",")[:5])),
        3, 1, 2, "partial", "fields but the header has 8",
    ),
    Case("binary_named_csv", INV, "binary.csv", lambda p: bytes(range(256)) * 20, 0, 0, 0, "rejected", "NUL bytes"),
    Case("gzip_named_csv", INV, "gzipped.csv", lambda p: gzip.compress(ok1(p), mtime=0), 0, 0, 0, "rejected", "NUL bytes"),
    Case(
        "pdf_named_csv",
        INV,
        "report.csv",
        lambda p: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        4, 0, 4, "rejected", "is missing from the file",
    ),
    Case(
        "quoted_multiline_long_value",
        INV,
        "multiline_long.csv",
        lambda p: csv_of(inv_row(p, 1), inv_row(p, 2, supplier_id='"' + "x\n" * 6000 + '"'), inv_row(p, 3)),
        3, 2, 1, "partial", "characters long (at most 10,000",
    ),
    Case(
        "header_with_100k_columns",
        INV,
        "wide_header.csv",
        lambda p: csv_of(inv_row(p, 1) + "," * 100_000, header=INV_HEADER + "".join(f",x{i}" for i in range(100_000))),
        0, 0, 0, "rejected", "Excel's own limit",
    ),
    Case(
        "row_with_100k_fields",
        INV,
        "wide_row.csv",
        lambda p: csv_of(inv_row(p, 1) + ",1" * 100_000, inv_row(p, 2)),
        2, 1, 1, "partial", "row has 100008 fields",
    ),
    Case("only_newlines", INV, "newlines.csv", lambda p: b"\r\n" * 1000, 0, 0, 0, "rejected", "empty"),
    # malformed XLSX (openpyxl parses through defusedxml; these are refused before it parses)
    Case("xlsx_zip_of_garbage", INV, "garbage.xlsx", _zip_garbage, 0, 0, 0, "rejected", "not a readable XLSX workbook"),
    Case("xlsx_truncated", INV, "truncated.xlsx", lambda p: _xlsx_inv(p, [5, 6])[:3000], 0, 0, 0, "rejected", "cut short"),
    Case("xlsx_external_entity", INV, "xxe.xlsx", _xxe, 0, 0, 0, "rejected", "declares a DTD or XML entities"),
    Case("xlsx_billion_laughs", INV, "laughs.xlsx", _billion_laughs, 0, 0, 0, "rejected", "declares a DTD or XML entities"),
    Case("xlsx_zip_bomb", INV, "bomb.xlsx", _zip_bomb, 0, 0, 0, "rejected", "a zip bomb, not read"),
    Case("xlsx_lying_zip_sizes", INV, "lying.xlsx", _lying_sizes, 0, 0, 0, "rejected", "workbook expands to"),
    Case("zip_that_is_no_workbook", INV, "archive.xlsx", _plain_zip, 0, 0, 0, "rejected", "no xl/workbook.xml"),
    Case(
        "xlsx_odd_numbers",
        INV,
        "odd_numbers.xlsx",
        lambda p: _xlsx_inv(p, [float("nan"), -0.0, "1,234", 0.1 + 0.2, True, 10**30]),
        6, 4, 2, "partial", "not a number: 'true'",  # NaN: an empty cell (required); -0 → 0
    ),
    Case("xlsx_dates", INV, "dates.xlsx", _xlsx_dates, 5, 2, 3, "partial", "looks like an Excel date serial number"),
    # malformed JSON
    Case("json_deeply_nested", INV, "deep.json", lambda p: b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]", 1, 0, 1, "rejected", "nested too deeply"),
    Case(
        "json_deep_value_in_object",
        INV,
        "deep_value.jsonl",
        lambda p: (json.dumps(inv_obj(p, 1)) + "\n" + json.dumps(inv_obj(p, 2))[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}\n").encode(),
        2, 1, 1, "partial", "nested too deeply",
    ),
    Case(
        "json_lone_surrogate",
        INV,
        "surrogate.json",
        lambda p: json.dumps([inv_obj(p, 1, supplier_id="@@")]).replace("@@", "\\ud800").encode(),
        1, 0, 1, "rejected", "lone surrogate",
    ),
    Case("json_empty_array", INV, "empty_array.json", lambda p: b"[]", 0, 0, 0, "rejected", "holds no objects"),
    Case(
        "json_cut_short",
        INV,
        "cut.json",
        lambda p: json.dumps([inv_obj(p, i) for i in range(1, 4)]).encode()[:-30],
        3, 2, 1, "partial", "file is cut short",
    ),
    Case(
        "json_5000_digit_number",
        INV,
        "big_number.json",
        lambda p: json.dumps([inv_obj(p, 1, quantity=0)]).replace('"quantity": 0', '"quantity": ' + "9" * 5000).encode(),
        1, 0, 1, "rejected", "beyond the range of a 64-bit float",
    ),
    Case("json_nul_escape", INV, "nul_escape.json", lambda p: json.dumps([inv_obj(p, 1, supplier_id="S\u00001")]).encode(), 1, 0, 1, "rejected", "control character"),
    Case(
        "json_null_and_bool_numbers",
        INV,
        "null_bool.json",
        lambda p: json.dumps([inv_obj(p, 1, quantity=None), inv_obj(p, 2, quantity=True)]).encode(),
        2, 0, 2, "rejected", "not a number: 'true'",
    ),
    # malformed Parquet
    Case("parquet_truncated", INV, "truncated.parquet", lambda p: _good_parquet(p)[:600], 0, 0, 0, "rejected", "PAR1"),
    Case("parquet_wrong_magic", INV, "magic.parquet", lambda p: b"XXXX" + _good_parquet(p)[4:], 0, 0, 0, "rejected", "PAR1"),
    Case("parquet_binary_not_utf8", INV, "binary.parquet", _parquet_binary, 2, 1, 1, "partial", "not UTF-8 text"),
    Case("parquet_far_dates", INV, "far_dates.parquet", _parquet_far_dates, 3, 1, 2, "partial", "outside the years 1900–2100"),
    Case("parquet_no_rows", INV, "no_rows.parquet", lambda p: _parquet(pl.DataFrame(_inv_frame(p, 1)).clear()), 0, 0, 0, "rejected", "no data rows"),
    # numbers
    Case(
        "number_forms",
        INV,
        "number_forms.csv",
        lambda p: csv_of(
            inv_row(p, 1, '"1,234.5"'),  # thousands separator: 1234.5
            inv_row(p, 2, "+5"),
            inv_row(p, 3, "0x10"),
            inv_row(p, 4, " 7 "),
            inv_row(p, 5, "1e3"),
            inv_row(p, 6, "-5"),
            inv_row(p, 7, "1_000"),
            inv_row(p, 8, "5 t"),
            inv_row(p, 9, "٣"),
        ),
        9, 5, 4, "partial", "not a number: '٣'",  # -5 is a credit line; ٣ is not an ASCII digit
    ),
    Case(
        "nan_and_inf_spellings",
        INV,
        "nan_spellings.csv",
        lambda p: csv_of(inv_row(p, 1, "nan"), inv_row(p, 2, "-inf"), inv_row(p, 3, "Infinity"), inv_row(p, 4, "1e-400")),
        4, 1, 3, "partial", "not a number: 'Infinity'",
    ),
    # dates
    Case(
        "dates_far_and_impossible",
        INV,
        "dates.csv",
        lambda p: csv_of(
            inv_row(p, 1, invoice_date="0001-01-01"),
            inv_row(p, 2, invoice_date="9999-12-31"),
            inv_row(p, 3, invoice_date="45352"),
            inv_row(p, 4, invoice_date="2026-02-30"),
            inv_row(p, 5, invoice_date="2026-13-01"),
            inv_row(p, 6, invoice_date="2026年3月1日"),
            inv_row(p, 7, invoice_date="01/03/2026"),
            inv_row(p, 8, invoice_date="2024-02-29"),
            inv_row(p, 9, invoice_date="2025-02-29"),
        ),
        9, 2, 7, "partial", "outside the years 1900–2100",
    ),
    # formula-injection and markup strings: data, kept verbatim, neutralised at the output boundary
    Case(
        "formula_and_markup_names",
        SUP,
        "injection.csv",
        lambda p: (
            f'supplier_id,name,country\n{p}-1,"=HYPERLINK(""http://x.example"",""y"")",CN\n'
            f"{p}-2,+cmd|' /C calc'!A0,CN\n{p}-3,@SUM(1+1),CN\n{p}-4,-2+3,CN\n"
            f"{p}-5,<script>alert(1)</script>,CN\n{p}-6,<b>Bold</b> & Co,CN\n"
        ).encode(),
        6, 6, 0, "ok",
    ),
    Case(
        "formula_in_ids",
        INV,
        "formula_ids.csv",
        lambda p: csv_of(inv_row(p, 1, supplier_id="=1+1"), inv_row(p, 2, installation_id="@x")),
        2, 2, 0, "ok",
    ),
    # path tricks
    Case("symlink_to_file_outside", INV, "link_out.csv", ok1, 0, 0, 0, "rejected", "symbolic link", make=_outside_file),
    Case("symlink_to_etc_passwd", INV, "passwd.csv", ok1, 0, 0, 0, "rejected", "symbolic link", make=_to_passwd),
    Case("dangling_symlink", INV, "dangling.csv", ok1, 0, 0, 0, "rejected", "symbolic link", make=_dangling),
    Case("symlinked_drop_folder", INV, "in_linked.csv", ok1, 0, 0, 0, "rejected", "symbolic link", make=_linked_drop_folder, entry="folder"),
    Case("fifo", INV, "pipe.csv", ok1, 0, 0, 0, "rejected", "not a regular file", make=_fifo),
    Case("file_of_2_gib", INV, "huge.csv", ok1, 0, 0, 0, "rejected", "more than the 1 GiB", make=_sparse_2gib),
    Case("drop_folder_not_a_date", INV, "bad_folder.csv", ok1, 0, 0, 0, "rejected", "is not a real date", make=_not_a_date_folder, entry="supplier_invoices/2026-02-30/bad_folder.csv"),
    Case("hidden_file", INV, "hidden_case.csv", ok1, 0, 0, 0, "ignored", make=_writer(".secret.csv"), listed=False),
    Case("excel_lock_file", INV, "lock_case.xlsx", ok1, 0, 0, 0, "ignored", make=_writer("~$book.xlsx"), listed=False),
    Case("rtl_override_in_name", INV, "inv\u202ev.csv", ok1, 1, 1, 0, "ok"),
    Case("decomposed_unicode_name", INV, "cafe\u0301.csv", ok1, 1, 1, 0, "ok"),
    Case("emoji_spaces_quotes_in_name", INV, "发票 2026 📄 'final' (2).csv", ok1, 1, 1, 0, "ok"),
    Case("formula_file_name", INV, "=cmd|calc.csv", ok1, 1, 1, 0, "ok"),
    Case("leading_dash_name", INV, "-rf.csv", ok1, 1, 1, 0, "ok"),
    Case("name_of_240_chars", INV, "n" * 236 + ".csv", ok1, 1, 1, 0, "ok"),
    # lying extensions
    Case("csv_named_xlsx", INV, "text.xlsx", ok1, 1, 1, 0, "ok", note="named .xlsx but holds CSV"),
    Case("json_named_parquet", INV, "objects.parquet", lambda p: json.dumps([inv_obj(p, 1)]).encode(), 1, 1, 0, "ok", note="named .parquet but holds JSON"),
    Case("parquet_named_json", INV, "columns.json", _good_parquet, 3, 3, 0, "ok", note="named .json but holds PARQUET"),
    Case("no_extension", INV, "invoices", ok1, 0, 0, 0, "rejected", "unsupported file type"),
    Case("executable", INV, "setup.exe", lambda p: b"MZ\x90\x00\x03", 0, 0, 0, "rejected", "unsupported file type"),
    # duplicate headers
    Case("same_header_twice", INV, "twice.csv", lambda p: csv_of(inv_row(p, 1) + ",X", header=INV_HEADER + ",invoice_id"), 1, 0, 1, "rejected", "both name column invoice_id"),
    Case("unknown_header_twice", INV, "memo_twice.csv", lambda p: csv_of(inv_row(p, 1) + ",a,b", header=INV_HEADER + ",memo,memo"), 1, 1, 0, "ok", note="ignored columns not in the contract: memo, memo"),
    # meter_readings in its layouts
    Case(
        "meter_wide_hostile_cells",
        MR,
        "pme_hostile.csv",
        lambda p: (
            f"Timestamp,{M1},{M2}\n2025-01-01 00:00,1,NaN\n2025-01-01 00:15,=1+1,inf\n"
            f'9999-01-01 00:00,3,4\n2025-01-01 00:45,"1,234.5",-0\n'
        ).encode(),
        8, 3, 5, "partial", "outside the years 1900–2100",
    ),
    Case("meter_wide_same_meter_twice", MR, "pme_twice.csv", lambda p: f"Timestamp,{M1},{M1}\n2025-01-01 00:00,1,2\n".encode(), 2, 0, 2, "rejected", "appears 2 times"),
    Case("meter_wide_gaps_only", MR, "pme_gaps.csv", lambda p: f"Timestamp,{M1}\n2025-01-01 00:00,\n2025-01-01 00:15,\n".encode(), 0, 0, 0, "rejected", "gaps only"),
    Case(
        "meter_wide_xlsx_error_and_title",
        MR,
        "pme.xlsx",
        lambda p: _xlsx([["Timestamp", M1], [datetime(2025, 1, 1), 1], ["2025-01-01 00:15", "#REF!"]], title="PME export"),
        2, 1, 1, "partial", "Excel error value",
    ),
    Case(
        "meter_trend_log_change_of_value",
        MR,
        "ebo_cov.csv",
        lambda p: b"point_name,timestamp,value\nP1,2025-01-01 00:00:00,10\nP1,2025-01-01 00:03:17,11\nP1,2025-01-01 00:11:42,12\n",
        3, 0, 3, "rejected", "change-of-value log",
    ),
    Case(
        "meter_trend_log_nul",
        MR,
        "ebo_nul.csv",
        lambda p: b"point_name,timestamp,value\nP\x00,2025-01-01 00:00,1\n",
        0, 0, 0, "rejected", "NUL bytes",
    ),
    Case(
        "meter_long_json_hostile",
        MR,
        "long.json",
        lambda p: json.dumps(
            [
                {"meter_id": "M1", "interval_start": "2025-01-01 00:00", "value": 1, "unit": "kWh"},
                {"meter_id": ["M1"], "interval_start": "2025-01-01 00:15", "value": 1},
                {"meter_id": "M1", "interval_start": "2025-01-01T00:30:00+25:00", "value": 1},
                {"meter_id": "M1", "interval_start": "2025-01-01 00:45", "value": "一"},
            ]
        ).encode(),
        4, 1, 3, "partial", "where a single value is expected",
    ),
]  # fmt: skip
