"""Both ingestion paths on the whole test corpus give the same result: the polars-native reader of well-formed
CSV files (`csv_fast`, in batches) and the row-by-row reader (`csv_reader`), each followed by validation.

The corpus: every file of the hostile corpus, the CSV files of the demo's landing zone (scale 0.02), and the CSV texts below
(the shapes the fast path must take or decline), each also cut into tiny batches so that batch boundaries,
a bad line in a later batch (the fall-back after some batches) and row numbering across batches are
exercised. For each file: identical accepted rows, identical quarantine records, same notes, encoding,
format and rows read, or the same rejection."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.ingest.hostile.corpus import build
from transforms.contracts import dataset, datasets
from transforms.ingest import csv_fast
from transforms.ingest.drops import read_validated
from transforms.ingest.readers import FileRejected, read_table
from transforms.ingest.validate import header_names_enough, validate

DAY = date(2025, 3, 1)
HEADER = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit,net_amount\n"
ROW = "INV-{i},1,2025-02-{d:02d},SUP-1,CN-ZJ-001,ZN-INGOT,{q},t,{a}\n"


def _rows(n: int, start: int = 0) -> str:
    return "".join(
        ROW.format(i=i, d=1 + i % 28, q=f"{i % 97}.5", a=f"{i * 3}.25") for i in range(start, start + n)
    )


BODY = _rows(40)
TEXTS: dict[str, str | bytes] = {
    "plain.csv": HEADER + BODY,
    "crlf.csv": (HEADER + BODY).replace("\n", "\r\n"),
    "no_final_newline.csv": (HEADER + BODY).rstrip("\n"),
    "semicolon.csv": (HEADER + BODY).replace(",", ";"),
    "tab.tsv": (HEADER + BODY).replace(",", "\t"),
    "bom.csv": "\ufeff" + HEADER + BODY,
    "gb18030.csv": ("发票号码,行号,开票日期,供应商编号,收货装置,物料编号,数量,单位,金额\n" + BODY).encode(
        "gb18030"
    ),
    "quoted_thousands.csv": HEADER
    + BODY.replace(",3.25\n", ',"1,203.25"\n').replace(",0.25\n", ',"12,000.25"\n'),
    "quoted_header.csv": '"invoice_id","line_no",invoice_date,supplier_id,installation_id,material_id,quantity,unit,'
    "net_amount\n" + BODY,
    "doubled_quote.csv": HEADER + BODY + 'INV-x,1,2025-02-01,"SUP ""A""",CN-ZJ-001,ZN-INGOT,1,t,1\n',
    "stray_quote.csv": HEADER + BODY + 'INV-x,1,2025-02-01,SUP"A,CN-ZJ-001,ZN-INGOT,1,t,1\n',
    "quote_after_close.csv": HEADER + BODY + 'INV-x,1,2025-02-01,"SUP"A,CN-ZJ-001,ZN-INGOT,1,t,1\n',
    "open_quote.csv": HEADER + _rows(5) + 'INV-x,1,2025-02-01,"SUP,CN-ZJ-001,ZN-INGOT,1,t,1\n' + _rows(5, 50),
    "multiline_value.csv": HEADER + _rows(5) + 'INV-x,1,2025-02-01,"SUP\nA",CN-ZJ-001,ZN-INGOT,1,t,1\n',
    "blank_line.csv": HEADER + _rows(5) + "\n" + _rows(5, 50),
    "separators_only_line.csv": HEADER + _rows(5) + ",,,,,,,,\n" + _rows(5, 50),
    "ideographic_space_line.csv": HEADER + _rows(5) + "\u3000," * 8 + "\u3000\n" + _rows(5, 50),
    "short_row.csv": HEADER + _rows(5) + "INV-x,1,2025-02-01\n" + _rows(5, 50),
    "long_row.csv": HEADER + _rows(5) + "INV-x,1,2025-02-01,SUP-1,CN-ZJ-001,ZN-INGOT,1,t,1,extra\n",
    "short_last_row_cut.csv": HEADER + _rows(5) + "INV-x,1,2025-02-01,SUP",
    "mixed_line_ends.csv": HEADER
    + _rows(3)
    + "INV-x,1,2025-02-01,SUP-1,CN-ZJ-001,ZN-INGOT,1,t,1\r"
    + _rows(3, 50),
    "title_row.csv": "Invoices of February\n" + HEADER + BODY,
    "control_char.csv": HEADER + _rows(3) + "INV-x,1,2025-02-01,SUP\x00,CN-ZJ-001,ZN-INGOT,1,t,1\n",
    "unit_separator_line.csv": HEADER + _rows(3) + "\x1c," * 8 + "\x1c\n" + _rows(3, 50),
    "field_over_limit.csv": HEADER + "INV-x,1,2025-02-01," + "S" * 140_000 + ",CN-ZJ-001,ZN-INGOT,1,t,1\n",
    "cell_over_max.csv": HEADER + "INV-x,1,2025-02-01," + "S" * 12_000 + ",CN-ZJ-001,ZN-INGOT,1,t,1\n",
    "bad_values.csv": HEADER
    + "INV-1,x,2025-02-30,SUP-1,CN-ZJ-001,ZN-INGOT,-1,parsec,abc\n"
    + 'INV-2,1,45000,SUP-1,CN-ZJ-001,ZN-INGOT,１．５,吨,"1,2,3"\n'
    + "INV-3,1,2025/2/3,SUP-1,,ZN-INGOT,1e999,kg,\n"
    + "INV-3,1,2025年2月3日,SUP-1,CN-ZJ-001,ZN-INGOT,-0,kg, 7 \n",
    "duplicate_keys.csv": HEADER + BODY + BODY[: BODY.index("\n") + 1],
    # whitespace to trim in one cell of the last batch only (the others skip trimming: `cells_trimmed`)
    "space_padded_late.csv": HEADER + BODY + "INV-x,1,2025-02-01, SUP-1 ,CN-ZJ-001,ZN-INGOT,1,t,1\n",
    "tab_in_value.tsv": (HEADER + BODY).replace(",", "\t")
    + 'INV-x\t1\t2025-02-01\t"\tSUP-1"\tCN-ZJ-001\tZN-INGOT\t1\tt\t1\n',
    "missing_required_column.csv": "invoice_id,line_no\nA,1\nB,2\n",
    "header_only.csv": HEADER,
    "utf8_then_latin1.csv": (HEADER + BODY + "INV-é,1,2025-02-01,SUP,CN-ZJ-001,Mül,1,t,1\n").encode("utf-8")
    + "INV-y,1,2025-02-01,SUP,CN-ZJ-001,Müller,1,t,1\n".encode("latin-1"),
    "utf8_cut_in_char.csv": (HEADER + BODY + "INV-é,1,2025-02-01,SUP,CN-ZJ-001,材料").encode("utf-8")[:-1],
    "json_in_csv.csv": '{"invoice_id": "A", "line_no": 1}\n{"invoice_id": "B", "line_no": 2}\n',
}


def _outcome(run):
    try:
        table, v = run()
    except FileRejected as e:
        return ("rejected", str(e))
    return table, v


def _same(ds_name: str, rel: str, data: bytes, batch_bytes: int | None, monkeypatch) -> bool:
    """Both paths agree on this file; True when the fast path took it."""
    ds = dataset(ds_name)
    is_header = header_names_enough(ds)
    with monkeypatch.context() as m:
        if batch_bytes:
            m.setattr(csv_fast, "BATCH_BYTES", batch_bytes)
        fast = _outcome(lambda: read_validated(ds, rel, data, DAY, is_header))
        taken = _outcome(lambda: (csv_fast.read_csv_fast(data, is_header), None))
    slow = _outcome(
        lambda: (t := read_table(rel, data, ds.name, is_header, fast=False), validate(ds, t, DAY, rel))
    )
    if isinstance(slow[0], str) or isinstance(fast[0], str):
        assert fast == slow, rel
        return False
    (ft, fv), (st, sv) = fast, slow
    assert (ft.file_format, ft.encoding, ft.rows_read, fv.notes) == (
        st.file_format,
        st.encoding,
        st.rows_read,
        sv.notes,
    ), rel
    expected = sv.accepted
    if (
        ds.name == "meter_readings"
    ):  # a wide file's own validation gives its readings line by line (drops.ORDER)
        expected = expected.sort("_row_number", maintain_order=True)
    assert_frame_equal(fv.accepted, expected, check_exact=True)
    assert_frame_equal(fv.quarantine, sv.quarantine, check_exact=True)
    return not isinstance(taken[0], str) and taken[0] is not None


def _landing_files(root: Path) -> list[tuple[str, str, bytes]]:
    """(dataset, path in the zone, bytes) of every regular, readable, small file of a landing zone."""
    names = set(datasets())
    out = []
    for p in sorted(root.rglob("*")):
        st = os.lstat(p)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 16 << 20:  # links, FIFOs, the 2 GiB sparse file
            continue
        rel = p.relative_to(root).as_posix()
        ds = rel.split("/", 1)[0]
        if ds in names and os.access(p, os.R_OK):
            out.append((ds, rel, p.read_bytes()))
    return out


@pytest.mark.parametrize("batch_bytes", [None, 300])
def test_texts_read_the_same_by_both_paths(batch_bytes, monkeypatch):
    taken = {
        name
        for name, text in TEXTS.items()
        if _same(
            "supplier_invoices",
            f"supplier_invoices/2025-03-01/{name}",
            text if isinstance(text, bytes) else text.encode("utf-8"),
            batch_bytes,
            monkeypatch,
        )
    }
    # the well-formed shapes go the fast way, the others do not
    assert {
        "plain.csv",
        "crlf.csv",
        "no_final_newline.csv",
        "semicolon.csv",
        "tab.tsv",
        "bom.csv",
        "gb18030.csv",
        "quoted_thousands.csv",
        "quoted_header.csv",
        "bad_values.csv",
        "duplicate_keys.csv",
        "cell_over_max.csv",
        "space_padded_late.csv",
        "tab_in_value.tsv",
    } <= taken
    assert not taken & {
        "stray_quote.csv",
        "quote_after_close.csv",
        "open_quote.csv",
        "multiline_value.csv",
        "blank_line.csv",
        "separators_only_line.csv",
        "ideographic_space_line.csv",
        "short_row.csv",
        "long_row.csv",
        "short_last_row_cut.csv",
        "mixed_line_ends.csv",
        "title_row.csv",
        "control_char.csv",
        "unit_separator_line.csv",
        "field_over_limit.csv",
        "utf8_then_latin1.csv",
        "utf8_cut_in_char.csv",
        "json_in_csv.csv",
    }


def test_hostile_corpus_reads_the_same_by_both_paths(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    build(landing, tmp_path / "outside")
    files = _landing_files(landing)
    assert len(files) > 80
    taken = sum(_same(ds, rel, data, None, monkeypatch) for ds, rel, data in files)
    assert taken >= 5  # the corpus's well-formed CSV files


def test_demo_landing_reads_the_same_by_both_paths(tmp_path, monkeypatch):
    from orchestration.demo import generate

    generate(tmp_path / "landing", scale=0.02, seed=7)
    # the CSV files (XLSX, JSON and Parquet files take the same reader either way); 64 KB batches
    csvs = [f for f in _landing_files(tmp_path / "landing") if f[1].endswith((".csv", ".tsv", ".txt"))]
    meters = [f for f in csvs if f[0] == "meter_readings"]  # 22 MB of wide files: a few of each layout
    csvs = [f for f in csvs if f[0] != "meter_readings"] + meters[::20]
    assert len(csvs) > 50
    taken = sum(_same(ds, rel, data, 1 << 16, monkeypatch) for ds, rel, data in csvs)
    assert taken * 2 >= len(csvs)  # most of the demo's CSV files are well-formed


def test_a_bad_line_in_a_later_batch_falls_back_for_the_whole_file(monkeypatch):
    ds = dataset("supplier_invoices")
    text = (HEADER + _rows(200) + "INV-x,1,2025-02-01\n" + _rows(5, 500)).encode()
    monkeypatch.setattr(csv_fast, "BATCH_BYTES", 2048)
    table, v = read_validated(ds, "supplier_invoices/2025-03-01/a.csv", text, DAY)
    assert table.rows_read == 206
    assert v.accepted.height == 205
    assert v.quarantine["row_number"].to_list() == [201]
    assert "fields but the header has" in v.quarantine["reason"][0]


def test_batches_number_rows_across_batches(monkeypatch):
    ds = dataset("supplier_invoices")
    text = (HEADER + _rows(300)).encode()
    monkeypatch.setattr(csv_fast, "BATCH_BYTES", 1000)
    layout, batches = csv_fast.iter_csv_batches(text, header_names_enough(ds))
    frames = [f for f, _, _ in batches]
    assert len(frames) > 10
    numbers = pl.concat(frames)["_row_number"].to_list()
    assert numbers == list(range(1, 301))
    assert layout.headers == HEADER.strip().split(",")


def test_a_later_bad_batch_raises_after_the_good_ones(monkeypatch):
    ds = dataset("supplier_invoices")
    text = (HEADER + _rows(300)).encode()
    monkeypatch.setattr(csv_fast, "BATCH_BYTES", 1000)
    _, batches = csv_fast.iter_csv_batches(text, header_names_enough(ds))
    first, _, _ = next(batches)
    assert first["_row_number"][0] == 1
    # a bad line in a later batch is raised where that batch would be yielded, after the good ones
    bad = (HEADER + _rows(100) + "INV-x,1,2025-02-01\n" + _rows(5, 500)).encode()
    _, batches = csv_fast.iter_csv_batches(bad, header_names_enough(ds))
    got = []
    with pytest.raises(csv_fast.NotWellFormed):
        for frame, _, _ in batches:
            got.append(frame)
    assert got and pl.concat(got)["_row_number"].to_list() == list(range(1, pl.concat(got).height + 1))


def test_meter_files_of_each_layout_read_the_same_by_both_paths(tmp_path, monkeypatch):
    """The bench's PME wide and long files (tests/bench/meter_ingest_case.py), small: both take the fast path,
    and the reshaped, validated readings are the same either way (an estimated reading without its method
    quarantined in the long file)."""
    from tests.bench.meter_ingest_case import LONG, WIDE, make
    from transforms.ingest.meter_layouts import header_predicate

    make(tmp_path, 12, 2)
    is_header = header_predicate(header_names_enough(dataset("meter_readings")))
    for rel in (WIDE, LONG):
        data = (tmp_path / rel).read_bytes()
        assert csv_fast.read_csv_fast(data, is_header) is not None, rel  # well-formed: the fast path's
        _same("meter_readings", rel, data, None, monkeypatch)
        _same("meter_readings", rel, data, 1 << 12, monkeypatch)


def test_a_batch_is_marked_trimmed_only_without_spaces_and_tabs_in_its_cells(monkeypatch):
    """`cells_trimmed` (validation then skips trimming ASCII columns) holds for a batch without any space, and
    without any tab but the separators; a padded cell or a tab inside a value clears it for its batch only."""
    ds = dataset("supplier_invoices")

    def flags(text: str, batch_bytes: int = 1 << 20) -> list[bool]:
        monkeypatch.setattr(csv_fast, "BATCH_BYTES", batch_bytes)
        _, batches = csv_fast.iter_csv_batches(text.encode(), header_names_enough(ds))
        return [trimmed for _, _, trimmed in batches]

    assert flags(HEADER + BODY) == [True]
    assert flags((HEADER + BODY).replace(",", "\t")) == [True]  # tabs as separators only
    padded = HEADER + _rows(30) + "INV-x,1,2025-02-01, SUP-1,CN-ZJ-001,ZN-INGOT,1,t,1\n"
    got = flags(padded, 400)
    assert len(got) > 2 and got[-1] is False and all(got[:-1])
    tab = (HEADER + BODY).replace(",", "\t") + 'INV-x\t1\t2025-02-01\t"SUP\t1"\tCN\tZN\t1\tt\t1\n'
    assert flags(tab) == [False]
    table = csv_fast.read_csv_fast(padded.encode(), header_names_enough(ds))
    assert table is not None and not table.cells_trimmed


def test_batches_of_a_memory_map_are_the_same_as_of_its_bytes(tmp_path, monkeypatch):
    """A landing file is read through a memory map whose parsed batches' pages are handed back (`_spans`):
    the frames are those of the same bytes read from memory."""
    import mmap

    ds = dataset("supplier_invoices")
    text = (HEADER + _rows(2000)).encode()
    path = tmp_path / "a.csv"
    path.write_bytes(text)
    monkeypatch.setattr(csv_fast, "BATCH_BYTES", 5000)
    _, from_bytes = csv_fast.iter_csv_batches(text, header_names_enough(ds))
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        _, from_map = csv_fast.iter_csv_batches(data, header_names_enough(ds))
        mapped = [f for f, _, _ in from_map]
    expected = [f for f, _, _ in from_bytes]
    assert len(mapped) > 10 and len(mapped) == len(expected)
    assert_frame_equal(pl.concat(mapped), pl.concat(expected))
