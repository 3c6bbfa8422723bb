"""Reading the Communication template's sheets: cached cell values by (row, col), found by labels and headers
(never fixed coordinates, so a template version that inserts a column still reads)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

Cell = tuple[int, int]  # (row, column), 1-based


class Sheet:
    """A worksheet's non-empty cached values by (row, col), with label search."""

    def __init__(self, ws: Any) -> None:
        self.name = ws.title
        self.cells: dict[Cell, Any] = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None or (isinstance(v, str) and not v.strip()):
                    continue
                self.cells[(c.row, c.column)] = v
        self.max_row = max((r for r, _ in self.cells), default=0)

    def get(self, row: int, col: int) -> Any:
        return self.cells.get((row, col))

    def row(self, row: int) -> dict[int, Any]:
        return {c: v for (r, c), v in self.cells.items() if r == row}

    def find(
        self, label: str, start: int = 1, stop: int | None = None, exact: bool = False
    ) -> Iterator[Cell]:
        """Cells (in row order) whose text equals / starts with `label` (whitespace-normalised)."""
        want = norm_label(label)
        for (r, c), v in sorted(self.cells.items()):
            if r < start or (stop is not None and r >= stop) or not isinstance(v, str):
                continue
            got = norm_label(v)
            if got == want or (not exact and got.startswith(want)):
                yield r, c

    def first(self, label: str, start: int = 1, stop: int | None = None, exact: bool = False) -> Cell | None:
        return next(self.find(label, start, stop, exact), None)

    def right_of(self, cell: Cell, max_col: int = 15) -> Any:
        """First value right of a label cell on the same row (within the print area)."""
        r, c = cell
        for col in range(c + 1, max_col + 1):
            if (v := self.get(r, col)) is not None:
                return v
        return None

    def header_map(self, row: int) -> dict[str, int]:
        """Header text (normalised) → column, for a table header row."""
        out: dict[str, int] = {}
        for c, v in sorted(self.row(row).items()):
            if isinstance(v, str):
                out.setdefault(norm_label(v), c)  # leftmost wins: hidden helper columns repeat some headers
        return out


def norm_label(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def header_col(headers: dict[str, int], *names: str) -> int | None:
    """Column of the first header that equals, else starts with, one of `names`."""
    for name in names:
        n = norm_label(name)
        if n in headers:
            return headers[n]
    for name in names:
        n = norm_label(name)
        for h, c in headers.items():
            if h.startswith(n):
                return c
    return None


def as_number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    return None


def as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime | dt.date):
        return v.date().isoformat() if isinstance(v, dt.datetime) else v.isoformat()
    return str(v).strip()


def label_blocks(sh: Sheet, label: str) -> list[tuple[int, int]]:
    """Row ranges [start, stop) of the numbered blocks titled '<label> N:' (e.g. 'Production process 2:')."""
    pattern = re.compile(rf"{re.escape(norm_label(label))} \d+:")
    starts = sorted(
        r for (r, _), v in sh.cells.items() if isinstance(v, str) and pattern.fullmatch(norm_label(v))
    )
    return [(s, (starts[i + 1] if i + 1 < len(starts) else sh.max_row + 1)) for i, s in enumerate(starts)]
