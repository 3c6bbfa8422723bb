"""Reference tables of the zero-carbon indicators, versioned like the GHG factor registry (transforms/ghg/factors.py):
committed CSVs under dbt_project/seeds/reference/ with their source, `status` (`reported`: a secondary source, the
official text not read; `official`: read in the official text) and validity; a run pins one version per table and
stamps it on every indicator row.

- `zc_indicator_thresholds.csv`: P1–P6 (parks, 发改环资〔2025〕910号) and F1–F7 (factories) with unit, comparison,
  threshold (null = none set), the energy bracket it applies to (P1), standard and clause;
- `zc_tce_coefficients.csv`: GB/T 2589-2020 coefficients to tonnes of standard coal equivalent (kgce per unit).

The China electricity factor sets (CO2 for inventories, life-cycle for footprints) are `ghg_china_grid_factors`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from transforms.ghg.factors import load_factors, pinned_tables
from transforms.reference.seeds import REFERENCE_DIR

# table → (file, numeric columns, date columns)
TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "thresholds": (
        "zc_indicator_thresholds.csv",
        ("threshold", "applies_from_tce", "applies_to_tce"),
        ("valid_from", "valid_to"),
    ),
    "tce": (
        "zc_tce_coefficients.csv",
        ("kgce_per_unit", "range_low", "range_high"),
        ("valid_from", "valid_to"),
    ),
}
MJ_PER_TJ = 1e6
KG_PER_T = 1e3


@dataclasses.dataclass(frozen=True)
class ZeroCarbonReference:
    """The pinned thresholds and tce coefficients of one run."""

    thresholds: pl.DataFrame
    tce: pl.DataFrame
    versions: Mapping[str, str]
    # t/m3 of liquid fuels, from the GHG fuel table (ghg_fuel_factors: one place for densities), by carrier name
    densities: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def tag(self) -> str:
        return " ".join(f"{TABLES[n][0].removesuffix('.csv')}@{v}" for n, v in sorted(self.versions.items()))

    def kgce(self, carrier: str) -> float:
        """kgce per unit of a carrier (`energy_content` per MJ, `electricity` per kWh, fuels per their unit)."""
        row = self.tce.filter(pl.col("carrier") == carrier)
        if row.is_empty():
            raise KeyError(f"zc_tce_coefficients has no row for {carrier!r}")
        return float(row["kgce_per_unit"][0])

    @property
    def tce_per_tj(self) -> float:
        """Tonnes of standard coal per TJ of energy content (GB/T 2589: 1 kgce = 29 307.6 kJ)."""
        return self.kgce("energy_content") * MJ_PER_TJ / KG_PER_T

    @property
    def tce_per_mwh_electricity(self) -> float:
        """Tonnes of standard coal per MWh of electricity at the equivalent calorific value (kgce/kWh × 1000 / 1000)."""
        return self.kgce("electricity")


def _typed(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    _, numeric, dates = TABLES[name]
    return frame.with_columns(
        [pl.col(c).cast(pl.Float64) for c in numeric] + [pl.col(c).str.to_date("%Y-%m-%d") for c in dates]
    )


def load_reference(
    pins: Mapping[str, str] | None = None, reference_dir: Path = REFERENCE_DIR
) -> ZeroCarbonReference:
    """Both tables, one version each: the pinned one, else the newest (an unknown pin raises, never falls back)."""
    pins = dict(pins or {})
    tables, versions = pinned_tables({n: t[0] for n, t in TABLES.items()}, _typed, pins, reference_dir)
    fuels = load_factors()["fuel_factors"].filter(pl.col("density_t_per_m3").is_not_null())
    densities = dict(zip(fuels["fuel_type"], fuels["density_t_per_m3"], strict=True))
    return ZeroCarbonReference(
        thresholds=tables["thresholds"], tce=tables["tce"], versions=versions, densities=densities
    )
