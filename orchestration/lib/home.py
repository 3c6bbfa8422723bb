"""The lingtan home: one folder holding the lake, the warehouse, the reports and the run records."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "./data"
DEFAULT_LANDING = "./data/landing"


def landing_uri(value: str | None = None) -> str:
    return value or os.environ.get("LINGTAN_LANDING") or DEFAULT_LANDING


def home_uri(value: str | None = None) -> str:
    return value or os.environ.get("LINGTAN_HOME") or DEFAULT_HOME


@dataclass(frozen=True)
class Home:
    root: Path

    @staticmethod
    def open(value: str | None = None) -> Home:
        uri = home_uri(value)
        if uri.startswith("s3://"):
            from orchestration.lib.s3home import local_mirror

            return Home(local_mirror(uri))
        return Home(Path(uri).resolve())

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def raw(self) -> Path:
        return self.lake / "raw"

    @property
    def staging(self) -> Path:
        """The lake's staging area: `<dataset>/<run>/` for ingestion, `computed/<run>/` for the engines."""
        return self.lake / "staging"

    @property
    def reports_staging(self) -> Path:
        return self.reports / ".staging"

    @property
    def warehouse_staging(self) -> Path:
        """Where the published warehouse's copy is written before its rename (same file system)."""
        return self.warehouse_dir / ".staging"

    def staging_roots(self) -> list[Path]:
        """Every folder whose subfolders are runs' staging folders (orchestration/lib/publish.py sweeps them)."""
        lake = sorted(p for p in self.staging.iterdir() if p.is_dir()) if self.staging.is_dir() else []
        return [*lake, self.reports_staging, self.warehouse_staging]

    @property
    def computed(self) -> Path:
        return self.lake / "computed"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        """The published DuckDB file analysts read (replaced atomically after each build)."""
        return self.warehouse_dir / "lingtan.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def raw_dir(self, dataset: str) -> Path:
        return self.raw / dataset

    def raw_table(self, dataset: str) -> Path:
        """The dataset's current table: a folder of Parquet parts read in name order (`transforms.paths`;
        polars reads the folder, DuckDB `current/part-*.parquet`). A night appends to its last part or adds one
        (orchestration/lib/ingest.py `_stage_current`), so it does not rewrite the history."""
        return self.raw / dataset / "current"

    def computed_table(self, name: str) -> Path:
        """A computed table: `<name>.parquet`, or the folder `<name>/` of a table stored by month (its contract's
        `partedBy`: one part per UTC month, `transforms.paths`), so a run rewrites only the months it recomputes."""
        from transforms.computed import computed_tables

        known = computed_tables().get(name)
        return self.computed / (name if known is not None and known.parted_by else f"{name}.parquet")
