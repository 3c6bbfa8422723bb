"""GHG factor registry shared by the logistics, footprint and inventory engines (the `ghg_*.csv` seeds).

Every factor these engines use lives in a committed, versioned table under dbt_project/seeds/reference/ with its
source, status (`confirmed` / `reported` / `UNCONFIRMED`, see docs/factors.md) and validity dates. A run pins one
version per table (`load_factors(pins=...)`, default: the newest version in the file); the pinned versions are
stamped on every result row (`factor_version`) so that a later factor change shows up as a restatement with a
diff (`restatement_diff`), never as a silent move of an already reported number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import polars as pl

from transforms.reference.seeds import REFERENCE_DIR

# table name → (file, numeric columns, date columns, boolean columns)
TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "transport_intensities": (
        "ghg_transport_intensities.csv", ("wtw_gco2e_per_tkm", "ttw_gco2e_per_tkm"), ("valid_from", "valid_to"),
        ("is_mode_default",)),
    "distance_adjustments": (
        "ghg_distance_adjustments.csv", ("gcd_multiplier", "gcd_addend_km"), ("valid_from", "valid_to"), ()),
    "fuel_factors": (
        "ghg_fuel_factors.csv",
        ("ncv_gj_per_t", "ttw_tco2_per_tj", "wtt_tco2e_per_t", "wtt_tco2e_per_mwh", "density_t_per_m3"),
        ("valid_from", "valid_to"), ()),
    "china_grid_factors": ("ghg_china_grid_factors.csv", ("data_year",), ("published_on", "valid_from", "valid_to"), ()),
    "grid_regions": ("ghg_grid_regions.csv", (), (), ()),
    "places": ("ghg_places.csv", ("latitude", "longitude"), (), ("sea_node",)),
    "sea_distances": ("ghg_sea_distances.csv", ("distance_km",), (), ()),
}  # fmt: skip


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in version.replace("-", ".").split("."))


@cache
def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False, encoding="utf8")


def _typed(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    _, numeric, dates, bools = TABLES[name]
    casts = [pl.col(c).cast(pl.Float64) for c in numeric if c != "data_year"]
    if "data_year" in numeric:
        casts.append(pl.col("data_year").cast(pl.Int32))
    casts += [pl.col(c).str.to_date("%Y-%m-%d", strict=True) for c in dates]
    casts += [pl.col(c).str.to_lowercase().eq("true") for c in bools]
    out = frame.with_columns(casts)
    if name == "china_grid_factors":  # keep the published four-decimal text alongside the number
        out = out.with_columns(value_text=pl.col("value"), value=pl.col("value").cast(pl.Float64))
    return out


@dataclasses.dataclass(frozen=True)
class GhgFactors:
    """The pinned factor tables of one run (one version per table) and the versions themselves."""

    tables: Mapping[str, pl.DataFrame]
    versions: Mapping[str, str]

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    def tag(self, *names: str) -> str:
        """Version stamp stored with results: `table@version` for the tables a result depends on."""
        return " ".join(f"{n}@{self.versions[n]}" for n in (names or sorted(self.versions)))

    def with_table(self, name: str, frame: pl.DataFrame, version: str | None = None) -> GhgFactors:
        """A copy with one table replaced (tests, what-if runs): `frame` as read from CSV (all text) or already
        typed; the version defaults to `<old>+override` so results never pass for the committed version."""
        typed = _typed(name, frame) if _all_text(frame) else frame
        return dataclasses.replace(
            self,
            tables={**self.tables, name: typed},
            versions={**self.versions, name: version or f"{self.versions[name]}+override"},
        )


def _all_text(frame: pl.DataFrame) -> bool:
    return all(dtype == pl.String for dtype in frame.dtypes)


def load_factors(pins: Mapping[str, str] | None = None, reference_dir: Path = REFERENCE_DIR) -> GhgFactors:
    """Read every ghg_* table and keep one version of each: the pinned one, else the newest in the file.

    Raises when a pinned version is not in its table (a run must never fall back silently to another one).
    """
    pins = dict(pins or {})
    unknown = set(pins) - set(TABLES)
    if unknown:
        raise KeyError(f"unknown factor tables pinned: {sorted(unknown)}")
    tables, versions = {}, {}
    for name, (file, *_rest) in TABLES.items():
        raw = _read(reference_dir / file)
        available = sorted(set(raw["version"].to_list()), key=_version_key)
        version = pins.get(name, available[-1])
        if version not in available:
            raise ValueError(f"{file}: version {version!r} not found (available: {', '.join(available)})")
        tables[name] = _typed(name, raw.filter(pl.col("version") == version))
        versions[name] = version
    return GhgFactors(tables=tables, versions=versions)


def factor_catalog(factors: GhgFactors) -> pl.DataFrame:
    """Every emission factor of the pinned tables in the shape of `dim_emission_factor`:
    kind, key, value, unit, source, status, valid_from, valid_to, version."""
    ti = factors["transport_intensities"]
    transport = pl.concat([
        ti.select(kind=pl.lit("transport_intensity_wtw"), key=pl.col("mode") + "/" + pl.col("sub_type"),
                  value=pl.col("wtw_gco2e_per_tkm"), unit=pl.lit("gCO2e/tkm"), source="source", status="status",
                  valid_from="valid_from", valid_to="valid_to", version="version"),
        ti.select(kind=pl.lit("transport_intensity_ttw"), key=pl.col("mode") + "/" + pl.col("sub_type"),
                  value=pl.col("ttw_gco2e_per_tkm"), unit=pl.lit("gCO2e/tkm"), source="source", status="status",
                  valid_from="valid_from", valid_to="valid_to", version="version"),
    ])  # fmt: skip
    ff = factors["fuel_factors"]
    fuel_parts = []
    for col, kind, unit in (("ncv_gj_per_t", "fuel_ncv", "GJ/t"), ("ttw_tco2_per_tj", "fuel_ttw_ef", "tCO2/TJ"),
                            ("wtt_tco2e_per_t", "fuel_wtt", "tCO2e/t"), ("wtt_tco2e_per_mwh", "fuel_wtt", "tCO2e/MWh"),
                            ("density_t_per_m3", "fuel_density", "t/m3")):  # fmt: skip
        fuel_parts.append(
            ff.filter(pl.col(col).is_not_null()).select(
                kind=pl.lit(kind),
                key="fuel_type",
                value=pl.col(col),
                unit=pl.lit(unit),
                source="source",
                status="status",
                valid_from="valid_from",
                valid_to="valid_to",
                version="version",
            )
        )
    da = factors["distance_adjustments"]
    dist = pl.concat([
        da.select(kind=pl.lit("distance_gcd_multiplier"), key="mode", value="gcd_multiplier", unit=pl.lit("1"),
                  source="source", status="status", valid_from="valid_from", valid_to="valid_to", version="version"),
        da.select(kind=pl.lit("distance_gcd_addend"), key="mode", value="gcd_addend_km", unit=pl.lit("km"),
                  source="source", status="status", valid_from="valid_from", valid_to="valid_to", version="version"),
    ])  # fmt: skip
    gf = factors["china_grid_factors"]
    grid = gf.select(
        kind=pl.concat_str(pl.lit("electricity_"), "series"),
        key=pl.concat_str(
            "region_level", pl.lit("/"), "region", pl.lit("/"), pl.col("data_year").cast(pl.String)
        ),
        value="value",
        unit="unit",
        source="source",
        status="status",
        valid_from="valid_from",
        valid_to="valid_to",
        version="version",
    )
    return pl.concat([transport, *fuel_parts, dist, grid], how="vertical_relaxed")


def restatement_diff(
    previous: pl.DataFrame,
    current: pl.DataFrame,
    keys: Sequence[str],
    value_columns: Sequence[str],
    version_column: str = "factor_version",
    rel_tol: float = 1e-9,
) -> pl.DataFrame:
    """Rows of an already reported result whose values moved in a new run (e.g. after a factor update).

    One row per key and changed column: old and new value, delta, and both factor versions. Rows present in
    only one of the runs appear with a null on the other side. An empty frame means nothing to restate.
    """
    prev = previous.select(*keys, *value_columns, pl.col(version_column).alias("old_factor_version"))
    cur = current.select(*keys, *value_columns, pl.col(version_column).alias("new_factor_version"))
    joined = prev.join(cur, on=list(keys), how="full", coalesce=True, suffix="_new", nulls_equal=True)
    parts = []
    for c in value_columns:
        old, new = pl.col(c), pl.col(f"{c}_new")
        moved = (old.is_null() != new.is_null()) | (
            (old - new).abs() > rel_tol * pl.max_horizontal(old.abs(), new.abs(), pl.lit(1e-300))
        )
        parts.append(
            joined.filter(moved.fill_null(False)).select(
                *keys,
                column=pl.lit(c),
                old_value=old.cast(pl.Float64),
                new_value=new.cast(pl.Float64),
                delta=(new - old).cast(pl.Float64),
                old_factor_version="old_factor_version",
                new_factor_version="new_factor_version",
            )
        )
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).sort([*keys, "column"])


def allocation_versions(allocations: pl.DataFrame | pl.LazyFrame) -> str:
    """The factor versions a logistics result was computed with (its `factor_version` values, one per run), for
    the stamp of the engines that use it."""
    versions = allocations.lazy().select(pl.col("factor_version").drop_nulls().unique()).collect().to_series()
    return " ".join(sorted(versions.to_list()))
