"""Output-boundary defence against formula injection (OWASP "CSV injection"): a text cell that a spreadsheet
would read as a formula (first character `=`, `+`, `-`, `@`, tab or CR) is prefixed with an apostrophe, so it
shows as the text it is. Numbers stay numbers; every XLSX and CSV writer passes text through here.

The same apostrophe goes before a text that begins with `<r>` and ends with `</r>`: xlsxwriter writes such a
string as raw rich-text XML, unescaped, so it would show as other text and could add shared strings that shift
every later text cell of the workbook.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


RICH_TEXT = ("<r>", "</r>")  # what xlsxwriter writes as raw XML (its rich-string marker)


def neutralise(value: object) -> object:
    """The value to write in a cell: text starting like a formula, or shaped like xlsxwriter's raw rich text, gets
    a leading apostrophe."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_START) or (value.startswith(RICH_TEXT[0]) and value.endswith(RICH_TEXT[1]))
    ):
        return "'" + value
    return value


def neutralise_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The same rule on every text column of a frame (vectorised, for CSV downloads)."""
    pattern = "^[=+\\-@\t\r]|(?s)^<r>.*</r>$"
    return df.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in df.schema.items()
        if t == pl.String
    )
