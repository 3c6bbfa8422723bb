"""JSON Lines: the polars-native reader (`json_fast`, in batches) and the row-by-row reader (`json_reader`) give
the same result, each followed by validation: identical accepted rows, quarantine records, notes, encoding,
format and rows read, or the same rejection. The texts below are the shapes the fast path must take or decline
(each also cut into tiny batches); the hostile corpus runs through both paths in test_fast_path.py (its JSON
files included), the demo's JSON files here."""

from __future__ import annotations

import json
import random
import re

import polars as pl
import pytest

from tests.ingest.test_fast_path import DAY, _landing_files, _same
from transforms.contracts import dataset
from transforms.ingest import csv_fast, json_fast
from transforms.ingest.readers import read_batches

KEYS = [
    "invoice_id",
    "line_no",
    "invoice_date",
    "supplier_id",
    "installation_id",
    "material_id",
    "quantity",
    "unit",
    "net_amount",
]


def _line(i: int, **over) -> str:
    """One invoice line as a program writes it: amounts as JSON numbers, the rest as strings; `over` replaces
    values as they are."""
    row = {
        "invoice_id": f"INV-{i}",
        "line_no": 1,
        "invoice_date": f"2025-02-{1 + i % 28:02d}",
        "supplier_id": "SUP-1",
        "installation_id": "CN-ZJ-001",
        "material_id": "ZN-INGOT",
        "quantity": i % 97 + 0.5,
        "unit": "t",
        "net_amount": i * 3 + 0.25,
    }
    row.update(over)
    return json.dumps(row, ensure_ascii=False) + "\n"


def _lines(n: int, start: int = 0) -> str:
    return "".join(_line(i) for i in range(start, start + n))


BODY = _lines(40)
RAW_ROW = '{"invoice_id": "INV-x", "line_no": 1, "invoice_date": "2025-02-01", "supplier_id": "SUP-1", "installation_id": "CN-ZJ-001", "material_id": "ZN-INGOT", "quantity": %s, "unit": "t", "net_amount": 1}\n'
TAKEN = {
    "plain.jsonl": BODY,
    "crlf.jsonl": BODY.replace("\n", "\r\n"),
    "no_final_newline.jsonl": BODY.rstrip("\n"),
    "bom.jsonl": "\ufeff" + BODY,
    "compact.jsonl": "".join(
        json.dumps(json.loads(line), separators=(",", ":")) + "\n" for line in BODY.splitlines()
    ),
    "escaped_keys_and_values.jsonl": "".join(
        json.dumps({"发票号码" if k == "invoice_id" else k: v for k, v in json.loads(line).items()}) + "\n"
        for line in _lines(10).splitlines()
    )
    + json.dumps(
        {"发票号码": 'INV-é\t\\/"', **{k: v for k, v in json.loads(_line(99)).items() if k != "invoice_id"}}
    )
    + "\n",
    "named_csv.csv": BODY,
    # decimals ending in a zero (Python's json writes a float without fraction as `2.0`): polars shortens
    # them, so their text is taken from the line; also in a text column, and as text inside a string
    "trailing_zero.jsonl": BODY + RAW_ROW % "1.50",
    "integral_float.jsonl": BODY + RAW_ROW % "2.0",
    "zero_ends.jsonl": _lines(3)
    + _line(70, quantity=331.0, net_amount=100.0, unit=0.5)
    + RAW_ROW.replace('"t"', "0.50").replace('"net_amount": 1', '"net_amount": -0.0') % "100.00"
    + _line(71, supplier_id='x", "quantity": 2.50, "y', quantity=7.0)
    + _line(72, quantity=0.0, net_amount=1234567890123.0),
    "bad_values.jsonl": _lines(3)
    + _line(50, line_no="x", invoice_date="2025-02-30", quantity=-1, unit="parsec", net_amount="abc")
    + _line(51, line_no=True, quantity="１．５", unit="吨", net_amount="1,2,3")
    + _line(52, installation_id=None, quantity=123456789012345678, net_amount=0.0001)
    + _line(53, supplier_id="", quantity=-12.5, unit=" kg ", net_amount=False),
    "control_escape.jsonl": _lines(3)
    + _line(60, supplier_id="SUP\u0000")
    + _line(61, supplier_id="x" * 12_000),
    "duplicate_keys_rows.jsonl": BODY + BODY[: BODY.index("\n") + 1],
    "missing_required_column.jsonl": '{"invoice_id": "A", "line_no": 1}\n{"invoice_id": "B", "line_no": 2}\n',
}
DECLINED = {
    "array.json": "[" + ",".join(BODY.splitlines()) + "]",
    "one_line.jsonl": _line(1),
    "pretty.json": json.dumps(json.loads(_line(1)), indent=2)
    + "\n"
    + json.dumps(json.loads(_line(2)), indent=2),
    "exponent.jsonl": BODY + RAW_ROW % "1e3",
    "minus_zero.jsonl": BODY + RAW_ROW % "-0",
    "long_decimal.jsonl": BODY + RAW_ROW % "0.30000000000000004",
    "huge_int.jsonl": BODY + RAW_ROW % "12345678901234567890",
    "nan.jsonl": BODY + RAW_ROW % "NaN",
    "nested.jsonl": BODY + RAW_ROW % "[1, 2]",
    "object_value.jsonl": BODY + RAW_ROW % '{"v": 1}',
    "duplicate_key_in_object.jsonl": BODY + RAW_ROW.replace('"unit": "t"', '"unit": "t", "unit": "kg"') % "1",
    "missing_key.jsonl": BODY + RAW_ROW.replace(', "unit": "t"', "") % "1",
    "extra_key.jsonl": BODY + RAW_ROW.replace('"unit": "t"', '"unit": "t", "note": "x"') % "1",
    "other_key_order.jsonl": BODY
    + RAW_ROW.replace(
        '"line_no": 1, "invoice_date": "2025-02-01"', '"invoice_date": "2025-02-01", "line_no": 1'
    )
    % "1",
    "key_spelled_otherwise.jsonl": BODY + RAW_ROW.replace('"unit"', '"\\u0075nit"') % "1",
    "blank_line.jsonl": _lines(5) + "\n" + _lines(5, 50),
    "whitespace_line.jsonl": _lines(5) + "   \n" + _lines(5, 50),
    "invalid_line.jsonl": _lines(5) + '{"invoice_id": "A", \n' + _lines(5, 50),
    "lone_surrogate.jsonl": BODY + RAW_ROW.replace("INV-x", "\\ud800") % "1",
    "surrogate_pair.jsonl": BODY + RAW_ROW.replace("INV-x", "\\ud83d\\ude00") % "1",
    "raw_tab_in_string.jsonl": BODY + RAW_ROW.replace("INV-x", "INV\tx") % "1",
    "line_separator_in_string.jsonl": BODY + RAW_ROW.replace("INV-x", "INV\u2028x") % "1",
    "next_line_in_string.jsonl": BODY + RAW_ROW.replace("INV-x", "INV\u0085x") % "1",
    "lone_cr.jsonl": _lines(3) + _lines(1, 9).replace("\n", "\r") + _lines(3, 20),
    "not_object_line.jsonl": BODY + "[1, 2]\n",
    "latin1.jsonl": (BODY + RAW_ROW.replace("INV-x", "Müller") % "1").encode("latin-1"),
    "cut_in_char.jsonl": (BODY + '{"invoice_id": "材料').encode("utf-8")[:-1],
    "gb18030.jsonl": (BODY + RAW_ROW.replace("INV-x", "材料") % "1").encode("gb18030"),
    "utf16.jsonl": BODY.encode("utf-16"),
}


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _taken(data: bytes) -> bool:
    return json_fast.read_jsonl_fast(data) is not None


# The line shapes whose place at a batch boundary matters, also cut one line per batch (300 bytes); every text in
# batches of ~4 lines (1000 bytes, as the CSV texts' 300 bytes). Each batch is validated on its own (~30 ms of
# fixed cost), so one line per batch for every text took 45 s of the suite.
LINE_SHAPES = {
    "crlf.jsonl",
    "no_final_newline.jsonl",
    "bom.jsonl",
    "blank_line.jsonl",
    "whitespace_line.jsonl",
    "invalid_line.jsonl",
    "lone_cr.jsonl",
    "control_escape.jsonl",
    "duplicate_keys_rows.jsonl",
    "trailing_zero.jsonl",
    "zero_ends.jsonl",
}


@pytest.mark.parametrize("batch_bytes", [None, 300, 1000])
def test_json_lines_read_the_same_by_both_paths(batch_bytes, monkeypatch):
    texts = {**TAKEN, **DECLINED}
    assert set(texts) >= LINE_SHAPES
    if batch_bytes == 300:
        texts = {name: text for name, text in texts.items() if name in LINE_SHAPES}
    for name, text in texts.items():
        _same(
            "supplier_invoices",
            f"supplier_invoices/2025-03-01/{name}",
            _bytes(text),
            batch_bytes,
            monkeypatch,
        )
    with monkeypatch.context() as m:
        if batch_bytes:
            m.setattr(csv_fast, "BATCH_BYTES", batch_bytes)
        taken = {name for name, text in texts.items() if _taken(_bytes(text))}
    assert taken == set(TAKEN) & set(texts)


def test_batches_number_rows_across_batches_and_a_later_bad_line_stops_before_its_batch():
    data = _lines(300).encode()
    layout, batches = json_fast.iter_jsonl_batches(data, 1000)
    frames = [f for f, _ in batches]
    assert len(frames) > 10 and layout.headers == KEYS and layout.notes == ["JSON Lines"]
    assert pl.concat(frames)["_row_number"].to_list() == list(range(1, 301))
    bad = (_lines(100) + RAW_ROW % "1e3" + _lines(5, 500)).encode()
    _, batches = json_fast.iter_jsonl_batches(bad, 1000)
    got = []
    with pytest.raises(csv_fast.NotWellFormed):
        for frame, _ in batches:
            got.append(frame)
    assert got and pl.concat(got)["_row_number"].to_list() == list(range(1, pl.concat(got).height + 1))
    # read_batches yields the good batches, then raises: drops.read_validated reads the file again row by row
    from transforms.ingest.drops import read_validated

    ds = dataset("supplier_invoices")
    table, v = read_validated(ds, "supplier_invoices/2025-03-01/b.jsonl", bad, DAY)
    assert table.rows_read == 106 and v.accepted.height == 106


def test_read_batches_gives_json_lines_in_batches(monkeypatch):
    monkeypatch.setattr(csv_fast, "BATCH_BYTES", 2000)
    tables = list(
        read_batches("supplier_invoices/2025-03-01/a.jsonl", _lines(200).encode(), "supplier_invoices")
    )
    assert len(tables) > 5 and {t.file_format for t in tables} == {"json"}
    assert sum(t.frame.height for t in tables) == 200


def test_the_number_forms_taken_are_printed_by_polars_as_written():
    """The proof behind the number pattern: every number the line regex accepts (integers up to 18 digits,
    decimals up to 15 digits without exponent or trailing zero) is printed back by polars' NDJSON reader into a
    text column exactly as written, over random samples of each length, both signs."""
    rng = random.Random(7)
    tokens = ["0", "-1", "1", "0.1", "-0.5", "0.00000000000001", "123456789012345678", "-123456789012345678"]
    for digits in range(1, 19):
        for _ in range(300):
            tokens.append(str(rng.randint(10 ** (digits - 1), 10**digits - 1)))
    for total in range(2, 16):
        for _ in range(300):
            whole = rng.randint(0, total - 1)
            int_part = str(rng.randint(10 ** (whole - 1), 10**whole - 1)) if whole else "0"
            frac = "".join(rng.choice("0123456789") for _ in range(total - max(whole, 1) - 1)) + rng.choice(
                "123456789"
            )
            tokens.append(int_part + "." + frac)
    tokens += ["-" + t for t in tokens[::2] if t != "0" and not t.startswith("-")]
    number = re.compile(json_fast._NUM)
    assert all(number.fullmatch(t) for t in tokens)
    data = "".join('{"a": ' + t + "}\n" for t in tokens).encode()
    got = pl.read_ndjson(data, schema={"a": pl.String})["a"].to_list()
    assert [t for t, g in zip(tokens, got, strict=True) if t != g] == []
    # and what it declines is printed otherwise (why those files take the row-by-row reader)
    declined = ["1.50", "2.0", "1e3", "-0", "1E-7", "12345678901234567.5"]
    # (a long decimal may print alike, but is not proven to: declined as well)
    assert not any(number.fullmatch(t) for t in [*declined, "0.30000000000000004", "1234567890123456789"])
    data = "".join('{"a": ' + t + "}\n" for t in declined).encode()
    got = pl.read_ndjson(data, schema={"a": pl.String})["a"].to_list()
    assert all(t != g for t, g in zip(declined, got, strict=True))


def test_demo_json_files_read_the_same_by_both_paths(tmp_path, monkeypatch):
    from orchestration.demo import generate

    generate(tmp_path / "landing", scale=0.02, seed=7)
    files = [f for f in _landing_files(tmp_path / "landing") if f[1].endswith((".json", ".jsonl", ".ndjson"))]
    assert files
    for ds, rel, data in files:
        _same(ds, rel, data, 1 << 12, monkeypatch)


def test_a_batch_is_marked_clean_only_without_control_characters_and_long_cells():
    """`cells_clean` (validation then skips its per-cell check) holds for a batch without any escape of a control
    character, raw DEL or value over MAX_CELL_CHARS; the texts above compare the results either way."""

    def flags(text: str) -> list[bool]:
        _, batches = json_fast.iter_jsonl_batches(text.encode(), 2000)
        return [clean for _, clean in batches]

    assert set(flags(_lines(100))) == {True}
    for bad in (
        _line(1, supplier_id="a\u0007b"),
        _line(1, supplier_id="a\x7fb"),
        _line(1, unit="x" * 10_001),
    ):
        got = flags(_lines(30) + bad + _lines(30, 50))
        assert False in got and True in got
    assert set(flags(_lines(30) + _line(1, supplier_id="tab\there\nand line") + _lines(30, 50))) == {True}
