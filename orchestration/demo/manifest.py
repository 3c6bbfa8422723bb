"""What the demo generator promises about the landing zone it wrote: per dataset and file the rows written and
the rows ingestion must accept and quarantine, every deliberately bad row with its fault, the corrections and
snapshot changes. Ingestion tests assert against it, so every count here is exact."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "_demo_manifest.json"

# Kinds of deliberate fault (each occurs at least once in every demo landing zone).
FAULT_KINDS = (
    "missing_required_column",  # a readable file lacks a required column: every row quarantined
    "non_numeric",  # a decimal column holds text
    "unknown_unit",  # a unit not in the unit table
    "unresolvable_country",  # a country spelling that resolves to nothing
    "impossible_date",  # e.g. 2026-02-30
    "duplicate_key",  # two rows of one drop with one business key: both quarantined
    "negative_quantity",  # a quantity the contract requires to be >= 0
    "hs_code_in_cn_column",  # a 10-digit Chinese customs code where an 8-digit CN code is required
    "truncated_row",  # file cut mid-row: complete rows kept, the broken last row quarantined
    "empty_file",  # 0 bytes: rejected whole, rows_read 0
    "unsupported_encoding",  # e.g. UTF-16: rejected whole, rows_read 0
    "non_finite_value",  # a meter reading that is not a finite number (a PME cell reading NaN)
    "change_of_value_log",  # a trend log with irregular timestamps: not interval data, the file quarantined whole
)
FILE_LEVEL_FAULTS = ("empty_file", "unsupported_encoding")

# Rows ingestion accepts (they keep their contract) but a later stage rejects with its reason.
DOWNSTREAM_FAULT_KINDS = {
    "unknown_meter": "interval_engine",  # a reading of a point the meters snapshot does not list
    "certificate_expired_claim": "certificate_ledger",  # cancelled for a period past the batch's validity
    "certificate_claimed_twice": "certificate_ledger",  # a batch cancelled again elsewhere: the first claim stands
}


@dataclass
class BadRow:
    """One deliberately bad row (row_number None: the whole file is rejected before rows exist)."""

    row_number: int | None  # 1-based data row below the header
    column: str | None  # contract column name the fault is in (key columns joined by '+')
    fault: str  # one of FAULT_KINDS
    raw: str | None = None  # the offending cell as written
    note: str = ""


@dataclass
class DownstreamFault:
    """A deliberately bad row that ingestion accepts and a later stage (`DOWNSTREAM_FAULT_KINDS`) rejects."""

    file: str  # path within the landing zone
    row_number: int  # 1-based data row below the header
    fault: str  # a key of DOWNSTREAM_FAULT_KINDS
    stage: str  # interval_engine | certificate_ledger
    key: dict[str, Any]  # the row's business key as written
    note: str = ""


@dataclass
class FileEntry:
    dataset: str
    drop_date: str  # YYYY-MM-DD
    file: str  # path within the landing zone: <dataset>/<drop>/<name>
    format: str  # csv | xlsx | json | jsonl | parquet
    encoding: str | None  # text formats: utf-8, utf-8-sig, gb18030, utf-16
    separator: str | None  # csv: ',', ';' or '\t'
    header_row: int | None  # 1-based physical row of the header (xlsx/csv), None for json/parquet
    rows_written: int  # data rows physically in the file (a truncated last row counts)
    expected_rows_read: int  # 0 for a file rejected whole
    expected_accepted: int
    expected_quarantined: int
    expected_status: str  # ok | partial | rejected (outputs.md fct_data_quality.file_status)
    bad_rows: list[BadRow] = field(default_factory=list)
    note: str = ""


@dataclass
class DatasetEntry:
    name: str
    kind: str  # snapshot | event
    rows_written: int = 0
    expected_rows_read: int = 0
    expected_accepted: int = 0
    expected_quarantined: int = 0
    expected_current_rows: int = 0  # rows of lake/raw/<dataset>/current/ after every drop is ingested
    files: list[FileEntry] = field(default_factory=list)


@dataclass
class Correction:
    """A business key sent again later: the later row replaces the earlier one (event) or a snapshot changed."""

    dataset: str
    key: dict[str, Any]
    column: str
    old_value: Any
    new_value: Any
    old_file: str | None
    old_row: int | None
    new_file: str
    new_row: int
    note: str = ""


@dataclass
class TrickyCell:
    """A valid cell written in an unusual but accepted form (full-width digits, thousands separators, ...)."""

    file: str
    row_number: int
    column: str
    raw: str
    expected: Any


@dataclass
class DemoManifest:
    seed: int
    scale: float
    today: str
    first_period: str
    last_period: str
    datasets: dict[str, DatasetEntry]
    corrections: list[Correction] = field(default_factory=list)
    snapshot_changes: list[Correction] = field(default_factory=list)
    tricky_cells: list[TrickyCell] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)  # the fixed place table used by shipments
    story: str = ""
    generator_version: int = 1
    # the demo EMS (ems_files.write_readings): per meter readings written, intervals expected and missing,
    # the gaps and the meter change, monthly metered totals of the billed meters (meter unit, multiplier applied)
    ems: dict[str, Any] = field(default_factory=dict)
    downstream_faults: list[DownstreamFault] = field(default_factory=list)

    @property
    def rows_written(self) -> dict[str, int]:
        """Data rows written per dataset (what `lingtan demo` prints)."""
        return {name: d.rows_written for name, d in self.datasets.items()}

    def files(self) -> list[FileEntry]:
        return [f for d in self.datasets.values() for f in d.files]

    def file(self, path: str) -> FileEntry:
        return next(f for f in self.files() if f.file == path)

    def faults(self) -> list[tuple[FileEntry, BadRow]]:
        return [(f, b) for f in self.files() for b in f.bad_rows]

    def totals(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "rows_written": d.rows_written,
                "expected_accepted": d.expected_accepted,
                "expected_quarantined": d.expected_quarantined,
                "expected_current_rows": d.expected_current_rows,
            }
            for name, d in self.datasets.items()
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> DemoManifest:
        datasets = {
            name: DatasetEntry(
                **{k: v for k, v in d.items() if k != "files"},
                files=[
                    FileEntry(
                        **{k: v for k, v in f.items() if k != "bad_rows"},
                        bad_rows=[BadRow(**b) for b in f["bad_rows"]],
                    )
                    for f in d["files"]
                ],
            )
            for name, d in doc["datasets"].items()
        }
        return cls(
            **{
                k: v
                for k, v in doc.items()
                if k
                not in ("datasets", "corrections", "snapshot_changes", "tricky_cells", "downstream_faults")
            },
            downstream_faults=[DownstreamFault(**d) for d in doc.get("downstream_faults", [])],
            datasets=datasets,
            corrections=[Correction(**c) for c in doc["corrections"]],
            snapshot_changes=[Correction(**c) for c in doc["snapshot_changes"]],
            tricky_cells=[TrickyCell(**t) for t in doc["tricky_cells"]],
        )

    @classmethod
    def load(cls, landing: Path) -> DemoManifest:
        path = landing / MANIFEST_NAME if landing.is_dir() else landing
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
