"""An independent reading of a demo landing zone against the ODCS contracts (transforms/contracts.py), used to
prove the manifest's expectations: exactly the rows it lists as bad break a contract rule, for the reason it
names, and every other row is valid. Deliberately simple Python, separate from the ingestion code."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import openpyxl
import polars as pl

from orchestration.demo.manifest import FileEntry
from transforms.contracts import Column, Dataset, dataset
from transforms.reference.countries import to_iso2
from transforms.reference.goods import CATEGORIES
from transforms.text import norm_key
from transforms.units import CURRENCIES, canonical_compound, lookup

GOODS_CATEGORIES = {norm_key(c) for c in CATEGORIES}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


class Unreadable(Exception):
    pass


def _cell(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    text = str(v)
    return text if text.strip() else None


def read_rows(landing: Path, entry: FileEntry) -> tuple[list[str], list[list[str | None]]]:
    """Headers and data rows as text, or Unreadable for a file no accepted reader can open."""
    data = (landing / entry.file).read_bytes()
    if not data:
        raise Unreadable("empty")
    ds = dataset(entry.dataset)
    if entry.file.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise Unreadable("encoding")
        first = text.splitlines()[0]
        sep = max(",;\t", key=first.count)
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        return rows[0], [[c if c != "" else None for c in r] for r in rows[1:] if r]
    if entry.file.endswith(".xlsx"):
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb[ds.name] if ds.name in wb.sheetnames else wb[wb.sheetnames[0]]
        grid = [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
        known = ds.header_map()
        for i, r in enumerate(grid[:20]):
            named = {known.get(norm_key(c)) for c in r if c} & set(ds.required)
            if len(named) * 2 >= len(ds.required):
                head = [c or "" for c in r]
                return head, [r[: len(head)] for r in grid[i + 1 :] if any(c is not None for c in r)]
        raise Unreadable("no header")
    if entry.file.endswith((".json", ".jsonl")):
        text = data.decode("utf-8")
        objs = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(x) for x in text.splitlines() if x]
        )
        head = list(dict.fromkeys(k for o in objs for k in o))
        return head, [[_cell(o.get(k)) for k in head] for o in objs]
    if entry.file.endswith(".parquet"):
        df = pl.read_parquet(io.BytesIO(data))
        return df.columns, [[_cell(v) for v in r] for r in df.iter_rows()]
    raise Unreadable("format")


def _date(text: str) -> dt.date | str:
    for rx in (_ISO, _SLASH, _CN):
        m = rx.match(text)
        if m:
            try:
                return dt.date(*(int(g) for g in m.groups()))
            except ValueError:
                return "impossible_date"
    return "bad_date"


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def check_value(col: Column, raw: str) -> tuple[str | None, object]:
    """(fault or None, normalised value) of one cell by the contract column's rules."""
    v = norm_key(raw)
    v_nfkc = " ".join(unicodedata.normalize("NFKC", raw).split())
    if col.kind in ("decimal", "int"):
        x = _number(v_nfkc)
        if x is None or (col.kind == "int" and x != int(x)):
            return "non_numeric", None
        if (col.minimum is not None and x < col.minimum) or (
            col.exclusive_minimum is not None and x <= col.exclusive_minimum
        ):
            return "negative_quantity", x
        if col.maximum is not None and x > col.maximum:
            return "above_maximum", x
        return None, x
    if col.kind == "date":
        d = _date(v_nfkc)
        return (d, None) if isinstance(d, str) else (None, d)
    if col.kind == "country":
        iso = to_iso2(raw)
        return (None, iso) if iso else ("unresolvable_country", None)
    if col.kind == "unit":
        u = lookup(raw)
        if u is None:
            return "unknown_unit", None
        if col.unit_dimensions and u.dimension not in col.unit_dimensions:
            return "wrong_unit_dimension", None
        return None, u.symbol
    if col.kind == "compound_unit":
        c = canonical_compound(raw)
        return (None, c) if c else ("unknown_unit", None)
    if col.kind == "cn_code":
        digits = re.sub(r"[\s.]", "", v_nfkc)
        if re.fullmatch(r"\d{10}", digits):
            return "hs_code_in_cn_column", None
        return (None, digits) if re.fullmatch(r"\d{8}", digits) else ("bad_cn_code", None)
    if col.kind == "hs_code":
        digits = re.sub(r"[\s.]", "", v_nfkc)
        return (None, digits) if re.fullmatch(r"\d{10}", digits) else ("bad_hs_code", None)
    if col.kind == "enum":
        allowed = {a.casefold(): a for a in col.allowed}
        return (None, allowed[v]) if v in allowed else ("bad_enum", None)
    if col.kind == "currency":
        return (None, v_nfkc.upper()) if v_nfkc.upper() in CURRENCIES else ("bad_currency", None)
    if col.kind == "goods_category":
        return (None, v) if v in GOODS_CATEGORIES else ("bad_goods_category", None)
    if col.kind == "bool":
        return (
            (None, v in ("true", "1", "yes"))
            if v in ("true", "false", "1", "0", "yes", "no")
            else ("bad_bool", None)
        )
    if col.kind == "json":
        try:
            return (None, v_nfkc) if isinstance(json.loads(raw), dict) else ("bad_json", None)
        except ValueError:
            return "bad_json", None
    if col.kind == "period":
        return (None, v_nfkc) if re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", v_nfkc) else ("bad_period", None)
    if col.kind == "unlocode":
        return (None, v_nfkc) if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}", v_nfkc) else ("bad_unlocode", None)
    return None, v_nfkc


def check_file(
    ds: Dataset, headers: list[str], rows: list[list[str | None]]
) -> tuple[dict[int, set[str]], list[str], list[tuple[int, tuple]]]:
    """Faults per 1-based row, unknown headers, and (row, key) of the rows that passed (for duplicate checks)."""
    hmap = ds.header_map()
    cols = [hmap.get(norm_key(h)) for h in headers]
    unknown = [h for h, c in zip(headers, cols, strict=True) if c is None]
    faults: dict[int, set[str]] = defaultdict(set)
    missing = [c for c in ds.required if c not in cols]
    keys: list[tuple[int, tuple]] = []
    for n, row in enumerate(rows, start=1):
        if missing:
            faults[n].add("missing_required_column")
            continue
        if len(row) < len(headers):
            faults[n].add("truncated_row")
            continue
        values: dict[str, object] = {}
        for c, raw in zip(cols, row, strict=False):
            if c is None or raw is None:
                continue
            fault, value = check_value(ds.column(c), raw)
            if fault:
                faults[n].add(fault)
            values[c] = value
        for c in ds.required:
            if values.get(c) is None and not faults[n]:
                faults[n].add("missing_value")
        for group in ds.require_one_of:
            if not any(all(values.get(c) is not None for c in alt) for alt in group):
                faults[n].add("missing_value")
        if not faults[n]:
            faults.pop(n)
            keys.append((n, tuple(values.get(k) for k in ds.keys)))
    return dict(faults), unknown, keys
