"""The hostile landing corpus: files an attacker or a careless user drops, each with what ingestion must make
of it (rows read = accepted + quarantined, counted as a person counts them, and the reason it must give).

Built at test time (some files are binary or 200 KB), never committed as data. To look at the files:
    .venv/bin/python -m tests.ingest.hostile.corpus /tmp/hostile-landing
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

INV = "supplier_invoices"
SUP = "suppliers"
INV_HEADER = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"


@dataclass(frozen=True)
class Case:
    name: str  # also the file's stem
    dataset: str
    file: str
    build: Callable[[str], bytes]  # key prefix → bytes (keys unique per case)
    read: int
    accepted: int
    quarantined: int
    status: str
    reason: str | None = None  # must appear in one of the file's quarantine reasons
    note: str | None = None  # must appear in the file's notes
    # writes the landing entry itself (target path, key prefix, a folder outside the zone): links, FIFOs,
    # sparse files; `build` is then not used
    make: Callable[[Path, str, Path], None] | None = None
    entry: str | None = None  # the path the ledger records, if not the file's ("folder": its drop folder)
    listed: bool = True  # False: the entry is not data and must not be recorded at all


def inv_row(p: str, i: int, q: str = "5", **over: str) -> str:
    cells = {
        "invoice_id": f"{p}-{i}",
        "line_no": "1",
        "invoice_date": "2026-03-01",
        "supplier_id": "S1",
        "installation_id": "I1",
        "material_id": "WR1",
        "quantity": q,
        "unit": "t",
    } | over
    return ",".join(cells.values())


def inv_obj(p: str, i: int, **over: object) -> dict:
    return {
        "invoice_id": f"{p}-{i}",
        "line_no": 1,
        "invoice_date": "2026-03-01",
        "supplier_id": "S1",
        "installation_id": "I1",
        "material_id": "WR1",
        "quantity": 5,
        "unit": "t",
    } | over


def csv_of(*rows: str, header: str = INV_HEADER, nl: str = "\n") -> bytes:
    return (header + nl + nl.join(rows) + nl).encode()


def _unbalanced(p: str) -> bytes:
    rows = [inv_row(p, i) for i in range(1, 7)]
    rows[1] = rows[1].replace(",2026-03-01,", ',"2026-03-01,')  # opens a quote that never closes
    return csv_of(*rows)


def _long_field(p: str) -> bytes:
    return csv_of(inv_row(p, 1), inv_row(p, 2, material_id="W" * 200_000), inv_row(p, 3))


def _json_array_broken(p: str) -> bytes:
    objs = [json.dumps(inv_obj(p, i)) for i in range(1, 6)]
    objs[2] = objs[2].replace('"line_no": 1,', '"line_no": 1,,')
    return ("[\n" + ",\n".join(objs) + "\n]\n").encode()


def _json_array_unclosed_string(p: str) -> bytes:
    objs = [json.dumps(inv_obj(p, i)) for i in range(1, 6)]
    objs[2] = objs[2].replace(f'"{p}-3"', f'"{p}-3')
    return ("[\n" + ",\n".join(objs) + "\n]\n").encode()


def _xlsx(rows: list[list[object]], title: str | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_inv(p: str, quantities: list[object]) -> bytes:
    head = INV_HEADER.split(",")
    rows = [[*inv_row(p, i + 1).split(",")[:6], q, "t"] for i, q in enumerate(quantities)]
    return _xlsx([head, *rows])


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def _inv_frame(p: str, n: int) -> dict[str, list]:
    rows = [inv_obj(p, i) for i in range(1, n + 1)]
    return {k: [str(r[k]) for r in rows] for k in rows[0]}


def _parquet_nested(p: str) -> bytes:
    d = _inv_frame(p, 2)
    d.pop("invoice_id")
    return _parquet(
        pl.DataFrame({"invoice_id": [[f"{p}-1"], None], **d}).with_columns(
            invoice_id=pl.when(pl.int_range(2) == 1).then(pl.lit([f"{p}-2"])).otherwise(pl.col("invoice_id"))
        )
    )


def _parquet_nonfinite(p: str) -> bytes:
    d = _inv_frame(p, 4)
    d["quantity"] = [1.5, float("nan"), float("inf"), float("-inf")]
    return _parquet(pl.DataFrame(d))


def _nul_after_4k(p: str) -> bytes:
    rows = [inv_row(p, i) for i in range(1, 151)]  # ~ 6 KiB of good rows before it
    rows.append(inv_row(p, 151, supplier_id="S\x001"))
    return csv_of(*rows)


def _pretty_stream(p: str) -> bytes:
    a, b = (json.dumps(inv_obj(p, i), indent=2) for i in (1, 2))
    return f"{a}\nnot json at all\n{b}\n".encode()


CASES: list[Case] = [
    # rows counted as a person counts them
    Case(
        "unbalanced_quote",
        INV,
        "unbalanced_quote.csv",
        _unbalanced,
        6,
        5,
        1,
        "partial",
        "is not closed on its line",
    ),
    Case(
        "long_field", INV, "long_field.csv", _long_field, 3, 2, 1, "partial", "longer than 131,072 characters"
    ),
    Case(
        "long_value",
        INV,
        "long_value.csv",
        lambda p: csv_of(inv_row(p, 1, supplier_id="S" * 20_000), inv_row(p, 2)),
        2,
        1,
        1,
        "partial",
        "characters long (at most 10,000",
    ),
    Case(
        "json_array_syntax_error",
        INV,
        "array_syntax_error.json",
        _json_array_broken,
        5,
        4,
        1,
        "partial",
        "invalid JSON in this object",
    ),
    Case(
        "json_array_unclosed_string",
        INV,
        "array_unclosed_string.json",
        _json_array_unclosed_string,
        0,
        0,
        0,
        "rejected",
        "(2 object(s) before it were valid)",
    ),
    Case(
        "pretty_json_object",
        INV,
        "pretty.json",
        lambda p: json.dumps(inv_obj(p, 1), indent=2).encode(),
        1,
        1,
        0,
        "ok",
    ),
    Case(
        "pretty_json_stream_with_junk",
        INV,
        "pretty_stream.json",
        _pretty_stream,
        3,
        2,
        1,
        "partial",
        "invalid JSON in this object",
    ),
    Case(
        "json_lines_in_csv",
        INV,
        "lines_in.csv",
        lambda p: "\n".join(json.dumps(inv_obj(p, i)) for i in (1, 2, 3)).encode(),
        3,
        3,
        0,
        "ok",
        note="named .csv but holds JSON",
    ),
    Case(
        "json_scalar",
        INV,
        "scalar.json",
        lambda p: b'"just a string"\n',
        1,
        0,
        1,
        "rejected",
        "not an object",
    ),
    Case(
        "json_duplicate_keys",
        INV,
        "dup_keys.jsonl",
        lambda p: (
            json.dumps(inv_obj(p, 1)) + "\n" + json.dumps(inv_obj(p, 2))[:-1] + ', "quantity": 7}\n'
        ).encode(),
        2,
        1,
        1,
        "partial",
        "appear twice",
    ),
    Case(
        "header_only",
        INV,
        "header_only.csv",
        lambda p: (INV_HEADER + "\n").encode(),
        0,
        0,
        0,
        "rejected",
        "no data rows",
    ),
    Case(
        "cut_short",
        INV,
        "cut_short.csv",
        lambda p: csv_of(inv_row(p, 1), inv_row(p, 2))[:-12],
        2,
        1,
        1,
        "partial",
        "cut short",
    ),
    Case(
        "mixed_newlines",
        INV,
        "mixed_newlines.csv",
        lambda p: (
            INV_HEADER + "\r\n" + inv_row(p, 1) + "\n" + inv_row(p, 2) + "\r" + inv_row(p, 3) + "\r\n\r\n"
        ).encode(),
        3,
        3,
        0,
        "ok",
    ),
    Case(
        "title_rows_csv",
        INV,
        "title_rows.csv",
        lambda p: ("供应商发票 2026年3月\n导出日期 2026-03-03\n" + csv_of(inv_row(p, 1)).decode()).encode(),
        1,
        1,
        0,
        "ok",
        note="skipped 2 title row(s)",
    ),
    Case(
        "duplicate_headers",
        INV,
        "dup_headers.csv",
        lambda p: csv_of(inv_row(p, 1) + ",6", header=INV_HEADER + ",数量"),
        1,
        0,
        1,
        "rejected",
        "both name column quantity",
    ),
    Case(
        "bom_semicolon",
        INV,
        "bom_semicolon.csv",
        lambda p: b"\xef\xbb\xbf" + csv_of(inv_row(p, 1)).replace(b",", b";"),
        1,
        1,
        0,
        "ok",
    ),
    # encodings
    Case(
        "latin1",
        SUP,
        "latin1.csv",
        lambda p: (
            f"supplier_id,name,country\n{p}-1,Müller Stahl GmbH,Germany\n{p}-2,Bäcker Ölwerk,Austria\n".encode(
                "latin-1"
            )
        ),
        0,
        0,
        0,
        "rejected",
        "encoding unclear",
    ),
    Case(
        "gb18030_with_rare_char",
        SUP,
        "gbk.csv",
        lambda p: (
            f"供应商编号,供应商名称,country\n{p}-1,宁波镕钢有限公司,中国\n{p}-2,宝山钢铁股份有限公司,中国\n".encode(
                "gb18030"
            )
        ),
        2,
        2,
        0,
        "ok",
    ),
    Case(
        "utf16",
        INV,
        "utf16.csv",
        lambda p: csv_of(inv_row(p, 1)).decode().encode("utf-16"),
        0,
        0,
        0,
        "rejected",
        "UTF-16",
    ),
    Case("empty", INV, "empty.csv", lambda p: b"", 0, 0, 0, "rejected", "0 bytes"),
    Case("whitespace_only", INV, "blank.csv", lambda p: b" \n\n\t\n", 0, 0, 0, "rejected", "empty"),
    # bad values
    Case(
        "overflow_and_nonfinite_csv",
        INV,
        "overflow.csv",
        lambda p: csv_of(
            inv_row(p, 1, "1e309"),
            inv_row(p, 2, "-1e400"),
            inv_row(p, 3, "NaN"),
            inv_row(p, 4, "inf"),
            inv_row(p, 5, "2.5"),
        ),
        5,
        1,
        4,
        "partial",
        "beyond the range of a 64-bit float",
    ),
    Case(
        "json_nonfinite",
        INV,
        "nonfinite.json",
        lambda p: (
            "["
            + ",".join(
                json.dumps(inv_obj(p, i)).replace('"quantity": 5', f'"quantity": {q}')
                for i, q in enumerate(["1e999", "NaN", "-Infinity", "3"], 1)
            )
            + "]"
        ).encode(),
        4,
        1,
        3,
        "partial",
        "not a finite number",
    ),
    Case(
        "int_overflow",
        INV,
        "int_overflow.csv",
        lambda p: csv_of(inv_row(p, 1, line_no="99999999999999999999999"), inv_row(p, 2)),
        2,
        1,
        1,
        "partial",
        "too large",
    ),
    Case("negative_zero", INV, "negative_zero.csv", lambda p: csv_of(inv_row(p, 1, "-0")), 1, 1, 0, "ok"),
    Case("nul_after_4k", INV, "nul_after_4k.csv", _nul_after_4k, 151, 150, 1, "partial", "control character"),
    Case(
        "nul_in_first_4k",
        INV,
        "nul_head.csv",
        lambda p: csv_of(inv_row(p, 1, supplier_id="S\x00")),
        0,
        0,
        0,
        "rejected",
        "NUL bytes",
    ),
    Case(
        "control_char",
        INV,
        "bell.csv",
        lambda p: csv_of(inv_row(p, 1, installation_id="I\x071"), inv_row(p, 2)),
        2,
        1,
        1,
        "partial",
        "control character",
    ),
    Case(
        "json_array_in_scalar",
        INV,
        "structured.json",
        lambda p: json.dumps(
            [
                inv_obj(p, 1, invoice_id=[f"{p}-1", "x"]),
                inv_obj(p, 2, supplier_id={"id": "S1"}),
                inv_obj(p, 3),
            ]
        ).encode(),
        3,
        1,
        2,
        "partial",
        "where a single value is expected",
    ),
    Case(
        "chinese_numerals_percent",
        INV,
        "numerals.csv",
        lambda p: csv_of(inv_row(p, 1, "一百"), inv_row(p, 2, "50%"), inv_row(p, 3, "１２．５")),
        3,
        1,
        2,
        "partial",
        "not a number",
    ),
    Case(
        "xlsx_formula_without_cached_value",
        INV,
        "formula.xlsx",
        lambda p: _xlsx_inv(p, [5, "=G2*2"]),
        2,
        1,
        1,
        "partial",
        "formula without a cached value: open and save the file in Excel",
    ),
    Case(
        "xlsx_error_value",
        INV,
        "error_value.xlsx",
        lambda p: _xlsx_inv(p, [5, "#N/A"]),
        2,
        1,
        1,
        "partial",
        "Excel error value",
    ),
    Case(
        "xlsx_named_csv",
        INV,
        "workbook.csv",
        lambda p: _xlsx_inv(p, [5, 6]),
        2,
        2,
        0,
        "ok",
        note="named .csv but holds XLSX",
    ),
    Case(
        "xlsx_title_rows",
        INV,
        "title.xlsx",
        lambda p: _xlsx([INV_HEADER.split(","), inv_row(p, 1).split(",")], title="发票清单"),
        1,
        1,
        0,
        "ok",
        note="skipped 1 title row",
    ),
    Case(
        "garbage_parquet",
        INV,
        "garbage.parquet",
        lambda p: b"PAR1\x00\x01garbage\x00",
        0,
        0,
        0,
        "rejected",
        "not a readable Parquet file",
    ),
    Case(
        "parquet_nested",
        INV,
        "nested.parquet",
        _parquet_nested,
        2,
        0,
        2,
        "rejected",
        "where a single value is expected",
    ),
    Case(
        "parquet_nonfinite", INV, "nonfinite.parquet", _parquet_nonfinite, 4, 1, 3, "partial", "not a number"
    ),
    Case(
        "reason_with_semicolon",
        INV,
        "semicolon_reason.csv",
        lambda p: csv_of(inv_row(p, 1, '"1.234,5"')),
        1,
        0,
        1,
        "rejected",
        "',' only between thousands",
    ),
    # names
    Case("hash_and_percent_in_name", INV, "inv#2%25.csv", lambda p: csv_of(inv_row(p, 1)), 1, 1, 0, "ok"),
    Case("braces_in_name", INV, "inv{}{0}.csv", lambda p: csv_of(inv_row(p, 1)), 1, 1, 0, "ok"),
    Case("newline_in_name", INV, "inv\nline.csv", lambda p: csv_of(inv_row(p, 1)), 1, 1, 0, "ok"),
]


def drop_date(i: int) -> str:
    return (date(2026, 1, 1) + timedelta(days=i)).isoformat()


def rel_path(i: int, case: Case) -> str:
    return f"{case.dataset}/{drop_date(i)}/{case.file}"


def all_cases() -> list[Case]:
    from tests.ingest.hostile.extra import EXTRA

    return [*CASES, *EXTRA]


def entry(i: int, case: Case) -> str:
    """The path the files ledger records for the case."""
    if case.entry == "folder":
        return f"{case.dataset}/{drop_date(i)}"
    return case.entry or rel_path(i, case)


def build(landing: Path, outside: Path | None = None) -> dict[str, Case]:
    """Write every case into its own drop folder (so keys never collide); → recorded path → case. `outside`
    (a folder outside the landing zone) receives what links point to."""
    outside = outside or landing.parent / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, case in enumerate(all_cases()):
        target = landing / rel_path(i, case)
        target.parent.mkdir(parents=True, exist_ok=True)
        if case.make is not None:
            case.make(target, f"H{i:02d}", outside)
        else:
            target.write_bytes(case.build(f"H{i:02d}"))
        out[entry(i, case)] = case
    return out


if __name__ == "__main__":
    written = build(Path(sys.argv[1]))
    print(f"{len(written)} hostile files under {sys.argv[1]}")
