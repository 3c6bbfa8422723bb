"""The canonical report model's common parts: what every report kind builds (a `ReportDoc`), the settings a
report run takes (`ReportConfig`) and the contract every kind module fulfils (`ReportKind`).

Reports read the published marts (the warehouse analysts query), never the engines' files, so every reported
number equals a number an analyst can query. Builders are pure: they take the marts as polars frames
(`Marts`, a mapping mart name → DataFrame) and return documents; writers turn a document into files in a
folder; checks say what is wrong with a written document. The content rules of the report gate are in
expectations/reports.py; staging, versioning and publication in orchestration/lib/reports.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import polars as pl

Marts = Mapping[str, pl.DataFrame]  # mart name (schema `marts`) → its rows
Figure = float | int | str | bool | None
NO_INSTALLATION = "(no installation)"  # how a line without an installation is named (summary, report gate)


def import_year_expr() -> pl.Expr:
    """The import year of an export line, as the mart: the declaration date's year, else the production period's."""
    return pl.coalesce(
        pl.col("declaration_date").dt.year(), pl.col("production_period").str.slice(0, 4).cast(pl.Int32)
    )


@dataclass(frozen=True)
class ReportConfig:
    """Settings of one report run, recorded in what they shape."""

    run_date: date
    certificate_price_eur_per_t: float | None = None  # --certificate-price / LINGTAN_CERTIFICATE_PRICE
    certificate_price_source: str = "not configured"


@dataclass(frozen=True)
class ReportDoc:
    """One report instance (a kind × key) in the canonical model.

    `figures` flattens every number and text the report shows into `name → value` (names like
    `goods/<installation>/<product>/see_direct`): the versioning compares them, the diff lists them and the
    gate checks them (finite, in range). `sources` are the landing files (`dataset/drop/file`) behind the
    report, so a diff can name the input that moved a number. `installations` names the installations the
    report depends on, so a failing installation blocks only its own reports.
    """

    kind: str
    key: str
    title: str
    model: Any
    figures: dict[str, Figure]
    sources: frozenset[str] = frozenset()
    installations: frozenset[str] = frozenset()
    meta: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Content hash of what the report says (not of file bytes): equal fingerprints publish nothing. Floats
        count to FINGERPRINT_DIGITS significant digits, so summation-order noise (~1e-16) is not a new version."""
        canon = json.dumps(
            {k: _canonical(v) for k, v in sorted(self.figures.items())}, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()


FINGERPRINT_DIGITS = 12  # significant digits compared: a float sum's last-bit noise is no change of report


def _canonical(v: Figure) -> Figure:
    if isinstance(v, float):
        return f"{v:.{FINGERPRINT_DIGITS}g}" if math.isfinite(v) else f"nonfinite:{v}"
    return v


class ReportKind(Protocol):
    """What each report kind module exposes as `KIND`."""

    name: str  # folder under <home>/reports/, e.g. "operator_communication"
    writer_version: str  # version of the file layout written, e.g. "communication-xlsx/1"
    marts: tuple[str, ...]  # the marts the builder reads

    def build(self, marts: Marts, config: ReportConfig) -> list[ReportDoc]: ...

    def write(self, doc: ReportDoc, out_dir: Path) -> list[Path]: ...

    def check(self, doc: ReportDoc, out_dir: Path, marts: Marts) -> list[str]: ...


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_key(*parts: object) -> str:
    """A path-safe report key from ids that come from input files (never `..`, `/` or odd characters)."""
    text = "_".join(_UNSAFE.sub("-", str(p)).strip("-.") or "x" for p in parts)
    return text[:120]


def source_files(row_ids: Iterable[str | None]) -> frozenset[str]:
    """The landing files (`dataset/drop/file`, as `_files` names them) behind source row ids
    `dataset/drop/file#row` (whose file part is percent-encoded for `%`, `#` and control characters)."""
    return frozenset(unquote(r.rsplit("#", 1)[0]) for r in row_ids if r)


def nonfinite_figures(doc: ReportDoc) -> list[str]:
    """Names of figures that are NaN or ±inf (the report gate refuses them)."""
    return [k for k, v in doc.figures.items() if isinstance(v, float) and not math.isfinite(v)]
