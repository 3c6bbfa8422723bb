"""Derive `cbam_default_values.csv` and `cbam_markups.csv` from the DVR (IR (EU) 2025/2621) sources.

- Annex I per country and 'Other countries and territories': the Commission's workbook (default_values.xlsx),
  read defensively (docs/methodology/cbam.md (d)): every CN row of every country sheet is kept
  with a `value_status`; nothing is silently dropped.
- Annex IV (precursors whose country of production is unknown): only in the OJ text; parsed by annex_iv.py and checked
  against its own marked-up columns and against the CN list of the 'Other' table.
- Mark-ups: from the sector rows' labels ('10% mark-up' ...), which must agree on every sheet that has them.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from tools.refbuild._common import (
    DEFAULT_VALUES_XLSX,
    DVR_TEXT,
    MARKUP_YEARS,
    SECTORS,
    SourceError,
    act_of_text,
    cn_digits,
    comma_number,
    is_cn,
    read_oj_text,
    require,
    workbook_version,
    write_csv,
)
from tools.refbuild.annex_iv import annex_iv_records
from transforms.reference.countries import to_iso2
from transforms.text import norm_key

log = logging.getLogger(__name__)

COLUMNS = [
    "table_kind",
    "country_iso2",
    "sheet_name",
    "source_row",
    "sector",
    "cn_code",
    "cn_digits",
    "description",
    "route",
    "route_key",
    "direct",
    "indirect",
    "total",
    "value_status",
    "indirect_status",
    "published_2026",
    "published_2027",
    "published_2028",
    "published_markup_consistent",
    "status_reason",
    "act",
    "workbook_version",
    "source",
]
MARKUP_COLUMNS = [
    "sector",
    "year_label",
    "year_from",
    "year_to",
    "markup_fraction",
    "markup_label",
    "sheets_labelled",
    "sheets_missing_label",
    "published_values_checked",
    "published_values_inconsistent",
    "act",
    "workbook_version",
    "source",
]
NO_VALUE_MARKERS = {"\u2013", "\u2014", "_", "-"}  # en dash (the rule), em dash, '_' and ASCII '-' (seen)
OTHER_KEY = "other countries and territories"
# CN headings that are not CBAM goods although a sheet lists them (Tunisia): kept, quarantined with this reason.
NOT_CBAM_GOODS = {
    "7615": "not_cbam_good: CN 7615 (table, kitchen, sanitary articles of aluminium) is not in "
    "CBAM Reg Annex I; quarantined so no lookup uses it"
}
HEADER = (
    "product cn code",
    "description",
    "default value (direct emissions)",
    "default value (indirect emissions)",
    "default value (total emissions)",
    "2026 default value (including mark-up)",
    "2027 default value (including mark-up)",
    "2028 and onwards default value (including mark-up)",
    "underlying production route determining cbam bm",
)
REL_TOL = 1e-9


@dataclass
class DvRow:
    table: str
    country_iso2: str | None
    sheet_name: str | None
    source_row: int
    sector: str
    cn: str
    description: str
    route: str | None
    cells: tuple[tuple[str, float | None, object], ...]  # (kind, number, raw) for direct..published_2028
    notes: list[str] = field(default_factory=list)
    route_key: str | None = None


def classify(value: object) -> tuple[str, float | None]:
    """A value cell → (kind, number); kind ∈ num, see_below, marker, na, empty, error, text."""
    if value is None:
        return "empty", None
    if isinstance(value, bool):
        return "text", None
    if isinstance(value, int | float):
        return "num", float(value)
    text = str(value).strip()
    if not text:
        return "empty", None
    if text.casefold() == "see below":
        return "see_below", None
    if text in NO_VALUE_MARKERS:
        return "marker", None
    if text.startswith("#"):
        return "error", None
    if re.sub(r"[\s/().]", "", text).casefold() == "na":  # N/A, N.A., N/a, N/(A
        return "na", None
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return "num", comma_number(text)
    return "text", None


def parse_route(value: object, notes: list[str]) -> str | None:
    text = str(value or "").replace("\u00a0", " ").strip()
    if not text:
        return None
    if re.fullmatch(r"\([A-L]\)(?:/\([A-L]\))?", text):
        return text
    if classify(text)[0] == "na":
        notes.append(f"route cell {text!r} read as no route")
        return None
    raise SourceError(f"unreadable route indicator {text!r}")


def parse_markup_label(value: object) -> float | None:
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*% mark-up", str(value or "").strip())
    return comma_number(m.group(1)) / 100 if m else None


def sheet_country(title: str, a1: object) -> tuple[str, str | None]:
    """('country', iso2) or ('other', None); both the sheet name and the A1 full name must agree."""
    if norm_key(str(a1 or "")) == OTHER_KEY:
        return "other", None
    by_title, by_a1 = to_iso2(title), to_iso2(str(a1 or ""))
    require(by_title is not None or by_a1 is not None, f"sheet {title!r} (A1 {a1!r}) resolves to no country")
    require(
        by_title is None or by_a1 is None or by_title == by_a1,
        f"sheet {title!r} → {by_title} but A1 {a1!r} → {by_a1}",
    )
    return "country", by_title or by_a1  # type: ignore[return-value]


@dataclass
class Workbook:
    rows: list[DvRow]
    labels: dict[str, dict[str, list[tuple[str, float | None]]]]  # sector → year → [(sheet, fraction)]
    act: str
    version: str
    issues: list[str]


def read_workbook(path: Path) -> Workbook:
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    version, act = workbook_version(wb)
    rows: list[DvRow] = []
    labels: dict[str, dict[str, list[tuple[str, float | None]]]] = defaultdict(lambda: defaultdict(list))
    issues: list[str] = []
    seen_iso2: dict[str, str] = {}
    for ws in wb.worksheets:
        if ws.title.casefold() in ("overview", "version history"):
            continue
        grid = list(ws.iter_rows(values_only=True))
        require(len(grid) >= 2, f"sheet {ws.title!r} is empty")
        table, iso2 = sheet_country(ws.title, grid[0][0])
        if iso2:
            require(iso2 not in seen_iso2, f"sheets {seen_iso2.get(iso2)!r} and {ws.title!r} are both {iso2}")
            seen_iso2[iso2] = ws.title
        header = tuple(norm_key(str(v or "")) for v in grid[1][:9])
        require(header == HEADER, f"sheet {ws.title!r}: unexpected header {grid[1][:9]!r}")
        sector: str | None = None
        for r, row in enumerate(grid[2:], 3):
            row = tuple(row) + (None,) * max(0, 9 - len(row))
            a = row[0]
            if isinstance(a, str) and norm_key(a) in SECTORS:
                sector = SECTORS[norm_key(a)]
                for year, cell in zip(MARKUP_YEARS, row[5:8], strict=True):
                    labels[sector][year].append((ws.title, parse_markup_label(cell)))
                continue
            if all(classify(v)[0] == "empty" for v in row[:9]):
                if any(v is not None for v in row[9:]):
                    issues.append(f"{ws.title}!row {r}: stray cells right of column I ignored: {row[9:]!r}")
                continue
            require(is_cn(a), f"{ws.title}!A{r}: expected a CN code or a sector row, got {a!r}")
            require(sector is not None, f"{ws.title}!A{r}: CN row before any sector row")
            notes: list[str] = []
            if any(v is not None for v in row[9:]):
                issues.append(f"{ws.title}!row {r}: stray cells right of column I ignored: {row[9:]!r}")
            cells = tuple((*classify(v), v) for v in row[2:8])
            rows.append(
                DvRow(
                    table,
                    iso2,
                    ws.title,
                    r,
                    sector,
                    cn_digits(a),
                    str(row[1] or "").strip(),  # type: ignore[arg-type]
                    parse_route(row[8], notes),
                    cells,
                    notes,
                )
            )
    return Workbook(rows, labels, act, version, issues)


def derive_markups(
    labels: dict[str, dict[str, list[tuple[str, float | None]]]],
) -> dict[str, dict[str, float]]:
    """Sector × year → fraction; every sheet that labels a sector row must give the same fraction."""
    out: dict[str, dict[str, float]] = {}
    for sector, by_year in labels.items():
        out[sector] = {}
        for year in MARKUP_YEARS:
            found = {f for _, f in by_year[year] if f is not None}
            require(len(found) == 1, f"mark-up labels for {sector} {year} disagree or are missing: {found}")
            out[sector][year] = found.pop()
    require(set(out) == set(SECTORS.values()), f"sectors with mark-ups: {sorted(out)}")
    return out


def consistent(published: float, total: float, markup: float) -> bool:
    expected = total * (1 + markup)
    return abs(published - expected) <= REL_TOL * max(1.0, abs(expected))


def assign_route_keys(rows: list[DvRow]) -> None:
    """Rows sharing a CN in one table (white/grey clinker and hydraulic cement) get route_key B/A."""
    groups: dict[tuple[str, str | None, str], list[DvRow]] = defaultdict(list)
    for row in rows:
        groups[(row.table, row.country_iso2, row.cn)].append(row)
    for key, group in groups.items():
        if len(group) == 1:
            continue
        for row in group:
            desc = row.description.casefold()
            row.route_key = "B" if "white" in desc else "A" if ("grey" in desc or "gray" in desc) else None
            require(
                row.route_key is not None,
                f"duplicate CN {key} not told apart by white/grey: {row.description!r}",
            )
            if row.route and row.route != f"({row.route_key})":
                raise SourceError(
                    f"{row.sheet_name}!row {row.source_row}: route {row.route} vs {row.description!r}"
                )
        require(
            len({r.route_key for r in group}) == len(group), f"duplicate CN rows {key} with the same route"
        )


def to_record(row: DvRow, markups: dict[str, dict[str, float]], act: str, version: str) -> dict:
    (dk, dv, _), (ik, iv, iraw), (tk, tv, _), *pub = row.cells
    notes = list(row.notes)
    indirect_status = {
        "num": "value",
        "na": "not_applicable",
        "marker": "marker_dash",
        "empty": "empty",
        "see_below": "see_below",
    }.get(ik, "unreadable")
    pub_values = [v if k == "num" else None for k, v, _ in pub]
    direct, indirect, total, consistent_flag = None, None, None, None
    if "see_below" in (dk, ik, tk):
        status = "see_below"
        stray = [raw for k, _, raw in row.cells[:3] if k == "num"]
        if stray:
            notes.append(f"number(s) {stray} on a 'see below' heading row ignored")
        if any(k == "error" for k, _, _ in pub):
            notes.append(f"published columns hold {[raw for _, _, raw in pub]!r}")
        pub_values = [None, None, None]
    elif tk == "num":
        status, total = "value", tv
        if dk == "num":
            direct = dv
        else:
            status = "quarantined"
            notes.append(f"total {tv} given but direct is {row.cells[0][2]!r}")
        if ik == "num":
            indirect = iv
        elif ik == "na":
            if str(iraw).strip() != "N/A":
                notes.append(f"indirect {iraw!r} read as N/A")
        elif ik != "marker":
            status = "quarantined"
            notes.append(f"indirect cell {iraw!r} unreadable")
        checks = []
        for year, (k, v, raw) in zip(MARKUP_YEARS, pub, strict=True):
            if k == "num":
                ok = consistent(v, tv, markups[row.sector][year])  # type: ignore[arg-type]
                checks.append(ok)
                if not ok:
                    notes.append(
                        f"published {year} {v!r} != total x (1 + {markups[row.sector][year]!r}) = "
                        f"{tv * (1 + markups[row.sector][year])!r}"
                    )  # type: ignore[operator]
            else:
                checks.append(False)
                notes.append(f"published {year} is {raw!r}, not a number")
        consistent_flag = all(checks)
    elif tk in ("marker", "empty"):
        status = "marker_dash" if tk == "marker" else "empty"
        numbers = [raw for k, _, raw in row.cells if k == "num"]
        if numbers:
            status = "quarantined"
            notes.append(
                f"shifted row: total is {row.cells[2][2]!r} but other value columns hold numbers {numbers!r}"
            )
    else:
        status = "quarantined"
        notes.append(f"total cell {row.cells[2][2]!r} unreadable")
    for prefix, reason in NOT_CBAM_GOODS.items():
        if row.cn.startswith(prefix):
            status = "quarantined"
            notes.insert(0, reason)
    return {
        "table_kind": row.table,
        "country_iso2": row.country_iso2,
        "sheet_name": row.sheet_name,
        "source_row": row.source_row,
        "sector": row.sector,
        "cn_code": row.cn,
        "cn_digits": len(row.cn),
        "description": row.description,
        "route": row.route,
        "route_key": row.route_key,
        "direct": direct,
        "indirect": indirect,
        "total": total,
        "value_status": status,
        "indirect_status": indirect_status,
        "published_2026": pub_values[0],
        "published_2027": pub_values[1],
        "published_2028": pub_values[2],
        "published_markup_consistent": consistent_flag,
        "status_reason": "; ".join(notes) or None,
        "act": act,
        "workbook_version": version,
        "source": DEFAULT_VALUES_XLSX,
    }


@dataclass
class Derived:
    records: list[dict]
    markups: list[dict]
    act: str
    workbook_version: str
    issues: list[str]


def derive(source_dir: Path) -> Derived:
    wb = read_workbook(source_dir / DEFAULT_VALUES_XLSX)
    lines = read_oj_text(source_dir / DVR_TEXT)
    text_act = act_of_text(lines)
    require(text_act == wb.act, f"workbook is for {wb.act}, legal text is {text_act}")
    markups = derive_markups(wb.labels)
    assign_route_keys(wb.rows)
    records = [to_record(r, markups, wb.act, wb.version) for r in wb.rows]
    other = [r for r in records if r["table_kind"] == "other"]
    require(bool(other), "no 'Other countries and territories' sheet")
    records += annex_iv_records(lines, other, markups, text_act)
    for issue in wb.issues:
        log.warning(issue)
    return Derived(records, markup_records(wb, markups, records), wb.act, wb.version, wb.issues)


def write(derived: Derived, out_dir: Path) -> dict[str, int]:
    return {
        "cbam_default_values": write_csv(out_dir / "cbam_default_values.csv", COLUMNS, derived.records),
        "cbam_markups": write_csv(out_dir / "cbam_markups.csv", MARKUP_COLUMNS, derived.markups),
    }


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    return write(derive(source_dir), out_dir)


def markup_records(wb: Workbook, markups: dict[str, dict[str, float]], records: list[dict]) -> list[dict]:
    out = []
    for sector in sorted(markups):
        for i, year in enumerate(MARKUP_YEARS):
            found = wb.labels[sector][year]
            col = f"published_{year.rstrip('+')}"
            checked = [
                r
                for r in records
                if r["sector"] == sector
                and r["table_kind"] != "annex_iv"
                and r["total"] is not None
                and r[col] is not None
            ]
            bad = [r for r in checked if not consistent(r[col], r["total"], markups[sector][year])]
            pct = markups[sector][year] * 100
            out.append(
                {
                    "sector": sector,
                    "year_label": year,
                    "year_from": 2026 + i,
                    "year_to": 2026 + i if i < 2 else None,
                    "markup_fraction": markups[sector][year],
                    "markup_label": f"{pct:g}% mark-up",
                    "sheets_labelled": sum(1 for _, f in found if f is not None),
                    "sheets_missing_label": "|".join(s for s, f in found if f is None) or None,
                    "published_values_checked": len(checked),
                    "published_values_inconsistent": len(bad),
                    "act": wb.act,
                    "workbook_version": wb.version,
                    "source": DEFAULT_VALUES_XLSX,
                }
            )
    return out
