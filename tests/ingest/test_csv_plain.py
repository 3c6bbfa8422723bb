"""The polars-native CSV path (`csv_reader._plain_table`) gives exactly what the `csv` path gives for the files it
takes (plain: no quote, one kind of line end, header first, no blank or ragged line, no line over the csv field
limit), and declines every other file."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from transforms.ingest import csv_reader

TAKEN = [
    "a,b,c\n1,2,3\n4,,6\n",
    "a;b;c\r\n1;2;3\r\n 4 ; x ;\r\n",  # CRLF, spaces kept, empty last field
    "a\tb\n1\t2\n3\t4",  # no final newline, last row complete
    "x,y\n中文,１２３\n",
    "a,a,b\n1,2,3\n",  # a header twice: both kept as written
    "Timestamp,M1#Real Energy Into the Load#kWh\n2025-01-01 00:00,1\n",
]
DECLINED = [
    'a,b\n"1,5",2\n',  # a quote
    "a,b\n1,2\n\n3,4\n",  # a blank line
    "a,b\n1,2\n3\n",  # a short row
    "a,b\n1,2,3\n",  # a long row
    "a,b\r1,2\n",  # mixed line ends
    "title\na,b\n1,2\n",  # a title row: the header is found by the csv path
]


def _both(text: str):
    plain = csv_reader._plain_table(text, "utf-8", csv_reader._sniff_delimiter(text.splitlines(True)), None)
    return plain, csv_reader.read_csv_text(text, "utf-8")


@pytest.mark.parametrize("text", TAKEN)
def test_plain_files_read_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = _both(text)
    assert plain is not None
    monkeypatch.setattr(csv_reader, "_plain_table", lambda *a, **k: None)
    slow = csv_reader.read_csv_text(text, "utf-8")
    assert plain.headers == slow.headers
    assert_frame_equal(plain.frame, slow.frame)
    assert (plain.broken, plain.notes, plain.cells_clean) == (slow.broken, slow.notes, slow.cells_clean)


@pytest.mark.parametrize("text", DECLINED)
def test_other_files_take_the_csv_path(text: str) -> None:
    is_header = (lambda cells: len(cells) > 1) if text.startswith("title") else None
    plain = csv_reader._plain_table(text, "utf-8", ",", is_header)
    assert plain is None


def test_line_over_the_csv_field_limit_takes_the_csv_path() -> None:
    text = "a,b\n1," + "x" * (csv_reader.csv.field_size_limit() + 1) + "\n"
    assert csv_reader._plain_table(text, "utf-8", ",", None) is None
    assert "longer than" in csv_reader.read_csv_text(text, "utf-8").broken[0].reason
