"""Shared pieces of the CBAM reference builders: source versions, OJ-text reading, deterministic CSV output.

The CSVs are committed and compared byte-for-byte with a fresh build, so everything written here is
deterministic: fixed column order, `repr` of floats (shortest round-trip form, full precision), lowercase
booleans, empty string for null, LF line ends.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

# Versions stamped on every row (upgrade: change here and rebuild from the newer sources).
DVR_ACT = "IR (EU) 2025/2621"
DVR_WORKBOOK_VERSION = "v1 2026-02-04"
DVR_OJ_VERSION = "OJ L 31.12.2025"
MIR_ACT = "IR (EU) 2025/2547"
FAR_ACT = "IR (EU) 2025/2620"
CBAM_REG = "Reg (EU) 2023/956 as amended by Reg (EU) 2025/2083"

DEFAULT_VALUES_XLSX = "default_values.xlsx"
BENCHMARKS_XLSX = "benchmarks.xlsx"
DVR_TEXT = "legal/ir-2025-2621-default-values.txt"
MIR_TEXT = "legal/ir-2025-2547-methodology.txt"
CBAM_REG_TEXT = "legal/reg-2023-956.txt"
OMNIBUS_TEXT = "legal/reg-2025-2083-omnibus.txt"
VER_TEXT = "legal/ir-2025-2546-verification.txt"

# Workbook section labels → sector slug used across lingtan.
MARKUP_YEARS = ("2026", "2027", "2028+")  # DVR mark-up steps (2028 and later: the last)
SECTORS = {
    "cement": "cement",
    "fertilisers": "fertilisers",
    "aluminium": "aluminium",
    "hydrogen": "hydrogen",
    "iron and steel": "iron_steel",
}

Cell = str | int | float | bool | None


class SourceError(ValueError):
    """The source no longer looks the way the builder expects: stop rather than write wrong reference data."""


def cn_digits(value: object) -> str:
    """'2523 10 00', 28141000, '7202 11' → digits only ('25231000', '28141000', '720211')."""
    return re.sub(r"\D", "", str(value))


def is_cn(value: object) -> bool:
    """A cell that holds a CN code (4, 6 or 8 digits, text with spaces or an integer)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return len(str(value)) in (4, 6, 8)
    return isinstance(value, str) and re.fullmatch(r"\d{4}(?: ?\d{2}){0,2}", value.strip()) is not None


def comma_number(text: str) -> float:
    """OJ text number with a decimal comma and space thousands separators ('8,210', '6 630') → float."""
    return float(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))


def read_oj_text(path: Path) -> list[tuple[int, str]]:
    """OJ text extraction → (1-based line number, stripped line), without blank lines and running page furniture.

    Form feeds (one per page) are dropped; line numbers count the file's LF-separated lines.
    """
    lines = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        line = raw.replace("\r", "").replace("\f", "").strip()
        if line and not is_page_furniture(line):
            lines.append((lineno, line))
    return lines


def act_of_text(lines: list[tuple[int, str]]) -> str:
    """'COMMISSION IMPLEMENTING REGULATION (EU) 2025/2621' on the first line → 'IR (EU) 2025/2621'."""
    m = re.match(r"COMMISSION IMPLEMENTING REGULATION \(EU\) (\d{4}/\d+)", lines[0][1])
    require(m is not None, f"not an implementing regulation text: {lines[0][1]!r}")
    return f"IR (EU) {m.group(1)}"  # type: ignore[union-attr]


_FURNITURE = (
    re.compile(r"^(EN )?OJ L, \d{1,2}\.\d{1,2}\.\d{4}( EN)?$"),
    re.compile(r"^(\d+/\d+ )?ELI: http://data\.europa\.eu/eli/\S+( \d+/\d+)?$"),
    re.compile(
        r"^(L \d+/\d+ EN Official Journal of the European Union \d{1,2}\.\d{1,2}\.\d{4}"
        r"|\d{1,2}\.\d{1,2}\.\d{4} EN Official Journal of the European Union L \d+/\d+)$"
    ),
)


def is_page_furniture(line: str) -> bool:
    return any(p.match(line) for p in _FURNITURE)


def fmt(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Cell]]) -> int:
    """Write rows (dicts keyed by column) with the exact bytes the tests compare against; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            extra = set(row) - set(columns)
            if extra:
                raise ValueError(f"{path.name}: unexpected columns {sorted(extra)}")
            w.writerow([fmt(row.get(c)) for c in columns])
            n += 1
    return n


def require(condition: bool, message: str) -> None:
    if not condition:
        raise SourceError(message)


def workbook_version(wb: object) -> tuple[str, str]:
    """The Commission workbooks' version sheet → ('v1 2026-02-04', 'IR (EU) 2025/2621'), from its latest row."""
    sheet = next((ws for ws in wb.worksheets if ws.title.casefold() == "version history"), None)  # type: ignore[attr-defined]
    require(sheet is not None, "no 'Version History' sheet")
    latest: tuple | None = None
    for row in sheet.iter_rows(values_only=True):  # type: ignore[union-attr]
        if row and isinstance(row[0], int) and not isinstance(row[0], bool) and len(row) >= 3:
            latest = row
    require(latest is not None, "no version row in 'Version History'")
    version, date, note = latest[0], latest[1], str(latest[2])  # type: ignore[index]
    m = re.search(r"Implementing Regulation \(EU\) (\d{4}/\d+)", note)
    require(m is not None and hasattr(date, "strftime"), f"unexpected version row {latest!r}")
    return f"v{version} {date:%Y-%m-%d}", f"IR (EU) {m.group(1)}"  # type: ignore[union-attr]
