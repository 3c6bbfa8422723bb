"""Errors the CBAM engine raises instead of producing a wrong number.

Each error carries `problems`: one dict per offending key (installation_id, process_id / stream_id, period and
a reason), so the caller can print one line per problem and the user knows exactly which record to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_KEY_ORDER = ("installation_id", "process_id", "stream_id", "material_id", "period", "period_grain")


class CbamError(Exception):
    """Base class: the engine refuses to compute because the input cannot give a correct result."""

    what = "CBAM calculation error"

    def __init__(self, problems: Iterable[Mapping[str, Any]], hint: str = "") -> None:
        self.problems: list[dict[str, Any]] = [dict(p) for p in problems]
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"{self.what} ({len(self.problems)} case{'s' if len(self.problems) != 1 else ''})"]
        for p in self.problems[:50]:
            keys = [f"{k}={p[k]}" for k in _KEY_ORDER if p.get(k) is not None]
            rest = [f"{k}={v}" for k, v in p.items() if k not in _KEY_ORDER and v is not None]
            lines.append("  - " + ", ".join(keys + rest))
        if len(self.problems) > 50:
            lines.append(f"  ... and {len(self.problems) - 50} more")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class CbamInputError(CbamError):
    what = "CBAM input cannot be used"


class MissingFactorError(CbamError):
    what = "No emission factor / calorific value / carbon content for activity data"


class ZeroProductionError(CbamError):
    what = "Process has emissions attributed but zero production (SEE would divide by zero)"


class PrecursorMatrixError(CbamError):
    what = "Internal precursor matrix (I - A) is singular or gives negative embedded emissions"
