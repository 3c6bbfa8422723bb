"""Derive `cbam_benchmarks.csv` from the Commission's CBAM benchmarks workbook (FAR, IR (EU) 2025/2620).

One row per sheet row: a CN code with several production routes spans several rows whose CN, description
and often the Column A value sit in merged cells; those are filled from the merge's top-left cell (never a
blind forward fill). Column A = benchmark for the process (actual data), Column B = for the whole good incl.
precursors (default data). Route indicators: letters (A)-(L) as in the DVR legend, period markers (1)/(2)
as defined in IR 2025/2620 (assumed 2026-27 / 2028-30: UNCONFIRMED, the Regulation is not in the folder).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import openpyxl

from tools.refbuild._common import (
    BENCHMARKS_XLSX,
    cn_digits,
    comma_number,
    require,
    workbook_version,
    write_csv,
)
from transforms.text import norm_key

COLUMNS = [
    "sector",
    "cn_code",
    "description",
    "variant_no",
    "variants",
    "bm_a_tco2e_per_t",
    "route_a",
    "route_letter_a",
    "period_marker_a",
    "bm_b_tco2e_per_t",
    "route_b",
    "route_letter_b",
    "period_marker_b",
    "bm_a_from_merged_cell",
    "source_row",
    "act",
    "workbook_version",
    "source",
]
SECTIONS = {
    "cement": "cement",
    "hydrogen": "hydrogen",
    "fertilisers": "fertilisers",
    "iron & steel": "iron_steel",
    "aluminium": "aluminium",
}
HEADER = (
    "cn code",
    "cn description",
    "column a bmg [tco2e/t]",
    "column a production route indicator",
    "column b bmg [tco2e/t]",
    "column b production route indicator",
)


def number(value: object, where: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    require(re.fullmatch(r"\d+(?:[.,]\d+)?", text) is not None, f"{where}: unreadable benchmark {value!r}")
    return comma_number(text)


def route(value: object, where: str) -> tuple[str | None, str | None, str | None]:
    """'(F)(1)' → ('(F)(1)', 'F', '1'); '(2)' → ('(2)', None, '2'); blank → (None, None, None)."""
    text = str(value or "").replace("\u00a0", " ").strip()
    if not text:
        return None, None, None
    m = re.fullmatch(r"(?:\(([A-L])\))?\s*(?:\(([12])\))?", text)
    require(
        m is not None and bool(m.group(1) or m.group(2)), f"{where}: unreadable route indicator {value!r}"
    )
    return text, m.group(1), m.group(2)  # type: ignore[union-attr]


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    wb = openpyxl.load_workbook(source_dir / BENCHMARKS_XLSX, data_only=True)
    version, act = workbook_version(wb)
    ws = wb["Benchmarks"]
    grid = [list(r) for r in ws.iter_rows(min_col=1, max_col=6, values_only=True)]
    merged_from: dict[tuple[int, int], bool] = {}
    for rng in ws.merged_cells.ranges:
        top = grid[rng.min_row - 1][rng.min_col - 1]
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, min(rng.max_col, 6) + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    require(grid[r - 1][c - 1] is None, f"merged cell {rng} hides a value at row {r}")
                    grid[r - 1][c - 1] = top
                    merged_from[(r, c)] = True
    require(
        tuple(norm_key(str(v or "")) for v in grid[0]) == HEADER, f"unexpected benchmarks header {grid[0]!r}"
    )
    sector: str | None = None
    records = []
    for r, row in enumerate(grid[1:], 2):
        a = row[0]
        if isinstance(a, str) and norm_key(a) in SECTIONS:
            require(all(v is None for v in row[1:]), f"Benchmarks!{r}: section row with values")
            sector = SECTIONS[norm_key(a)]
            continue
        if all(v is None for v in row):
            continue
        cn = cn_digits(a) if a is not None else ""
        require(len(cn) == 8 and sector is not None, f"Benchmarks!A{r}: expected an 8-digit CN, got {a!r}")
        ra, la, pa = route(row[3], f"Benchmarks!D{r}")
        rb, lb, pb = route(row[5], f"Benchmarks!F{r}")
        records.append(
            {
                "sector": sector,
                "cn_code": cn,
                "description": str(row[1] or "").strip(),
                "bm_a_tco2e_per_t": number(row[2], f"Benchmarks!C{r}"),
                "route_a": ra,
                "route_letter_a": la,
                "period_marker_a": pa,
                "bm_b_tco2e_per_t": number(row[4], f"Benchmarks!E{r}"),
                "route_b": rb,
                "route_letter_b": lb,
                "period_marker_b": pb,
                "bm_a_from_merged_cell": merged_from.get((r, 3), False),
                "source_row": r,
                "act": act,
                "workbook_version": version,
                "source": BENCHMARKS_XLSX,
            }
        )
    variants = Counter(rec["cn_code"] for rec in records)
    seen: Counter[str] = Counter()
    for rec in records:
        seen[rec["cn_code"]] += 1
        rec["variant_no"], rec["variants"] = seen[rec["cn_code"]], variants[rec["cn_code"]]
        require(rec["bm_b_tco2e_per_t"] is not None, f"Benchmarks!E{rec['source_row']}: Column B empty")
    keys = Counter((rec["cn_code"], rec["route_a"], rec["route_b"]) for rec in records)
    require(max(keys.values()) == 1, f"duplicate benchmark rows: {[k for k, n in keys.items() if n > 1][:5]}")
    return {"cbam_benchmarks": write_csv(out_dir / "cbam_benchmarks.csv", COLUMNS, records)}
