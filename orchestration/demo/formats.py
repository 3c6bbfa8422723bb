"""File writers and cell spellings of the demo landing zone: every accepted variant of the contract (CSV in
UTF-8, UTF-8 with BOM or GB18030, comma/semicolon/tab; XLSX with title rows; JSON arrays and lines; Parquet;
three date spellings; thousands separators; full-width digits). All output is byte-for-byte reproducible:
no wall clock, fixed XLSX document dates, stable ordering."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

_FULLWIDTH = str.maketrans("0123456789.,-+", "０１２３４５６７８９．，－＋")


def fullwidth(text: str) -> str:
    """ASCII digits and signs → full-width forms (what a Chinese IME produces; NFKC turns them back)."""
    return text.translate(_FULLWIDTH)


def date_text(expr: pl.Expr, style: str) -> pl.Expr:
    """A Date column spelled `iso` (2025-01-31), `slash` (2025/01/31) or `cn` (2025年1月31日)."""
    if style == "iso":
        return expr.dt.strftime("%Y-%m-%d")
    if style == "slash":
        return expr.dt.strftime("%Y/%m/%d")
    if style == "cn":
        return pl.concat_str(
            [
                expr.dt.year().cast(pl.String),
                pl.lit("年"),
                expr.dt.month().cast(pl.String),
                pl.lit("月"),
                expr.dt.day().cast(pl.String),
                pl.lit("日"),
            ]
        )
    raise ValueError(f"unknown date style {style!r}")


def thousands_text(expr: pl.Expr, decimals: int) -> pl.Expr:
    """A number spelled with `,` thousands separators and fixed decimals (`1,234,567.89`), vectorised."""
    scale = 10**decimals
    units = (expr.abs() * scale).round(0).cast(pl.Int64)
    whole, frac = units // scale, units % scale
    groups = [((whole // 10 ** (3 * i)) % 1000).cast(pl.String) for i in range(5)]  # up to 10^15
    padded = [g.str.zfill(3) for g in groups]
    out = pl.when(whole < 1000).then(groups[0])
    for top in range(1, 5):
        spelled = pl.concat_str([groups[top], *reversed(padded[:top])], separator=",")
        out = out.when(whole < 10 ** (3 * (top + 1))).then(spelled) if top < 4 else out.otherwise(spelled)
    if decimals:
        out = pl.concat_str([out, pl.lit("."), frac.cast(pl.String).str.zfill(decimals)])
    return (
        pl.when(expr.is_null())
        .then(None)
        .otherwise(pl.when(expr < 0).then(pl.concat_str([pl.lit("-"), out])).otherwise(out))
    )


def number_text(expr: pl.Expr) -> pl.Expr:
    """A number as people write it: whole numbers without `.0` (`629`, `33.125`)."""
    whole = expr == expr.round(0)
    return pl.when(whole).then(expr.cast(pl.Int64).cast(pl.String)).otherwise(expr.cast(pl.String))


def _text_frame(df: pl.DataFrame, date_style: str) -> pl.DataFrame:
    dates = [c for c, t in df.schema.items() if t == pl.Date]
    return df.with_columns(date_text(pl.col(c), date_style) for c in dates) if dates else df


def write_csv(
    df: pl.DataFrame,
    path: Path,
    *,
    headers: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
    separator: str = ",",
    bom: bool = False,
    date_style: str = "iso",
    crlf: bool = False,
) -> int:
    """Write a CSV; `headers` renames contract columns to the spelling a plant uses (e.g. Chinese aliases)."""
    out = _text_frame(df, date_style)
    if headers:
        out = out.rename({k: v for k, v in headers.items() if k in out.columns})
    terminator = "\r\n" if crlf else "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding == "utf-8":
        out.write_csv(path, separator=separator, include_bom=bom, line_terminator=terminator)
    else:
        text = out.write_csv(separator=separator, line_terminator=terminator)
        path.write_bytes(text.encode(encoding))
    return df.height


def write_xlsx(
    df: pl.DataFrame,
    path: Path,
    *,
    created: dt.date,
    sheet: str = "Sheet1",
    headers: Mapping[str, str] | None = None,
    title_rows: Sequence[str] = (),
    sheets_before: Mapping[str, Sequence[str]] | None = None,
    date_cells: bool = True,
    date_style: str = "iso",
) -> int:
    """Write a small XLSX (per-row Python: master data and monthly sheets only). Dates become real date cells
    unless `date_cells` is False; the workbook's document dates are fixed to `created`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path), {"in_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
    )
    wb.set_properties(
        {"created": dt.datetime(created.year, created.month, created.day), "author": "ERP export"}
    )
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True})
    for name, lines in (sheets_before or {}).items():
        ws0 = wb.add_worksheet(name)
        for r, line in enumerate(lines):
            ws0.write_string(r, 0, line)
    ws = wb.add_worksheet(sheet)
    for r, line in enumerate(title_rows):
        ws.write_string(r, 0, line, bold)
    head = [headers.get(c, c) if headers else c for c in df.columns]
    top = len(title_rows)
    ws.write_row(top, 0, head, bold)
    text = df if date_cells else _text_frame(df, date_style)
    for r, row in enumerate(text.iter_rows(), start=top + 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_fmt)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    wb.close()
    return df.height


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def write_json_array(df: pl.DataFrame, path: Path, *, date_style: str = "iso") -> int:
    """A JSON array of objects; empty cells are left out of their object (as a system export would)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = _text_frame(df, date_style)
    rows = [{k: _json_value(v) for k, v in r.items() if v is not None} for r in out.iter_rows(named=True)]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return df.height


def write_jsonl(df: pl.DataFrame, path: Path, *, date_style: str = "iso") -> int:
    """JSON Lines, vectorised (the big event drops)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _text_frame(df, date_style).write_ndjson()
    path.write_bytes(text.encode("utf-8"))
    return df.height


def write_parquet(df: pl.DataFrame, path: Path) -> int:
    """Parquet with typed columns (dates as Date, numbers as Float64/Int64)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path, compression="zstd", statistics=False)
    return df.height
