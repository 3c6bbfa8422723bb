"""GHG factor registry shared by the logistics, footprint and inventory engines (the `ghg_*.csv` seeds).

Every factor these engines use lives in a committed, versioned table under dbt_project/seeds/reference/ with its
source, status (`confirmed` / `reported` / `UNCONFIRMED`, see docs/factors.md) and validity dates. A run pins one
version per table (`load_factors(pins=...)`, default: the newest version in the file); the pinned versions are
stamped on every result row (`factor_version`) so that a later factor change shows up as a restatement with a
diff (`restatement_diff`), never as a silent move of an already reported number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path

import polars as pl

from transforms.reference import seeds
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
    reference_dir: Path = REFERENCE_DIR  # the folder the tables were read from (its catalogue: every version)

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
    tables, versions = pinned_tables({n: t[0] for n, t in TABLES.items()}, _typed, pins, reference_dir)
    return GhgFactors(tables=tables, versions=versions, reference_dir=reference_dir)


def pinned_tables(
    files: Mapping[str, str],
    typed: Callable[[str, pl.DataFrame], pl.DataFrame],
    pins: Mapping[str, str],
    reference_dir: Path,
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The one rule for versioned reference tables (GHG factors, zero-carbon thresholds and coefficients): per
    table (name → CSV file) the pinned version, else the newest; an unknown pin raises, never falls back."""
    tables, versions = {}, {}
    for name, file in files.items():
        raw = _read(reference_dir / file)
        available = sorted(set(raw["version"].to_list()), key=_version_key)
        version = pins.get(name, available[-1])
        if version not in available:
            raise ValueError(f"{file}: version {version!r} not found (available: {', '.join(available)})")
        tables[name] = typed(name, raw.filter(pl.col("version") == version))
        versions[name] = version
    return tables, versions


CATALOG_COLUMNS = (
    "kind", "key", "value", "unit", "source", "status", "valid_from", "valid_to", "version", "reference_table", "note",
)  # fmt: skip


def _ws(*parts: str | pl.Expr, sep: str = "/") -> pl.Expr:
    """Non-null parts joined by `sep` (as SQL concat_ws: a null part is skipped, not the whole text)."""
    return pl.concat_str(
        [pl.col(p) if isinstance(p, str) else p for p in parts], separator=sep, ignore_nulls=True
    )


def _rows(frame: pl.DataFrame, table: str, **exprs: str | pl.Expr) -> pl.DataFrame:
    """One catalogue row per row of `frame`; a string names a column, `None` values become typed nulls."""

    def expr(name: str) -> pl.Expr:
        e = exprs.get(name)
        if e is None:
            return pl.lit(None, dtype=pl.Date if name.startswith("valid_") else pl.String).alias(name)
        return (pl.col(e) if isinstance(e, str) else e).alias(name)

    out = frame.select(*(expr(c) for c in CATALOG_COLUMNS if c != "reference_table"))
    return out.with_columns(value=pl.col("value").cast(pl.Float64), reference_table=pl.lit(table)).select(
        CATALOG_COLUMNS
    )


def _ghg_catalog(factors: GhgFactors) -> pl.DataFrame:
    """The GHG tables' factors (transport intensities and fuels, distance rules, Chinese grid factors)."""
    dated = {"source": "source", "status": "status", "valid_from": "valid_from", "valid_to": "valid_to",
             "version": "version"}  # fmt: skip
    ti = factors["transport_intensities"]
    ti_note = pl.when(pl.col("is_mode_default")).then(pl.lit("mode default; ")).otherwise(
        pl.lit("")
    ) + pl.col("status_note").fill_null("")
    parts = [
        _rows(ti.filter(pl.col(col).is_not_null()), "ghg_transport_intensities", kind=pl.lit(kind),
              key=_ws("mode", "sub_type"), value=col, unit=pl.lit("gCO2e/tkm"), note=ti_note, **dated)
        for col, kind in (("wtw_gco2e_per_tkm", "transport_intensity_wtw"), ("ttw_gco2e_per_tkm", "transport_intensity_ttw"))
    ]  # fmt: skip
    ff = factors["fuel_factors"]
    parts += [
        _rows(ff.filter(pl.col(col).is_not_null()), "ghg_fuel_factors", kind=pl.lit(kind), key="fuel_type",
              value=col, unit=pl.lit(unit), note="status_note", **dated)
        for col, kind, unit in (("ncv_gj_per_t", "fuel_ncv", "GJ/t"), ("ttw_tco2_per_tj", "fuel_ttw_ef", "tCO2/TJ"),
                                ("wtt_tco2e_per_t", "fuel_wtt", "tCO2e/t"), ("wtt_tco2e_per_mwh", "fuel_wtt", "tCO2e/MWh"),
                                ("density_t_per_m3", "fuel_density", "t/m3"))
    ]  # fmt: skip
    da = factors["distance_adjustments"]
    parts += [
        _rows(da.filter(pl.col(col).is_not_null()), "ghg_distance_adjustments", kind=pl.lit(kind), key="mode",
              value=col, unit=pl.lit(unit), note="flag", **dated)
        for col, kind, unit in (("gcd_multiplier", "distance_gcd_multiplier", "1"), ("gcd_addend_km", "distance_gcd_addend", "km"))
    ]  # fmt: skip
    gf = factors["china_grid_factors"]
    parts.append(
        _rows(gf, "ghg_china_grid_factors", kind=pl.lit("electricity_") + pl.col("series"),
              key=_ws("region_level", "region", pl.col("data_year").cast(pl.String)), value="value", unit="unit",
              note="status_note", **{**dated, "source": _ws("notice", "source", sep="; ")})
    )  # fmt: skip
    return pl.concat(parts, how="vertical_relaxed")


def factor_catalog(factors: GhgFactors) -> pl.DataFrame:
    """Every emission factor of the pinned GHG tables: kind, key, value, unit, source, status, valid_from,
    valid_to, version (the rows `emission_factor_catalog` lists for these tables, for one pinned set)."""
    return _ghg_catalog(factors).select(CATALOG_COLUMNS[:9])


def every_version(reference_dir: Path = REFERENCE_DIR) -> GhgFactors:
    """Every row of every ghg_* table, all versions (what a run may pin), typed as `load_factors` types them."""
    tables = {name: _typed(name, _read(reference_dir / file)) for name, (file, *_rest) in TABLES.items()}
    return GhgFactors(tables=tables, versions=dict.fromkeys(tables, "all"), reference_dir=reference_dir)


def _cbam_catalog() -> pl.DataFrame:
    """The CBAM reference tables' factors: default values (without mark-up) and mark-ups (DVR), default grid
    factors, standard fuel factors, GWPs and constants (MIR), benchmarks (FAR)."""
    dv = seeds.default_values().filter(pl.col("value_status") == "value")
    parts = [
        _rows(dv.filter(pl.col(part).is_not_null() & (pl.col(status) == "value")), "cbam_default_values",
              kind=pl.lit(f"cbam_default_see_{part}"), key=_ws("table_kind", "country_iso2", "cn_code", "route_key"),
              value=part, unit=pl.lit("tCO2e/t"),
              source=_ws("act", "source", pl.col("sheet_name") + " row " + pl.col("source_row").cast(pl.String), sep="; "),
              status=status, version="workbook_version", note="description")
        for part, status in (("direct", "value_status"), ("indirect", "indirect_status"), ("total", "value_status"))
    ]  # fmt: skip
    mk = seeds.markups()
    parts.append(
        _rows(mk, "cbam_markups", kind=pl.lit("cbam_default_markup"), key=_ws("sector", "year_label"),
              value="markup_fraction", unit=pl.lit("1"), source=_ws("act", "source", sep="; "),
              status=pl.lit("published"), valid_from=pl.date(pl.col("year_from"), 1, 1),
              valid_to=pl.when(pl.col("year_to").is_not_null()).then(pl.date(pl.col("year_to"), 12, 31)),
              version="workbook_version", note="markup_label")
    )  # fmt: skip
    parts.append(
        _rows(seeds.grid_factor_cbam(), "cbam_grid_factors", kind=pl.lit("cbam_grid_ef"), key=_ws("table_kind", "iso2"),
              value="value_tco2_per_mwh", unit=pl.lit("tCO2/MWh"), source=_ws("act", "annex", "source_code", sep="; "),
              status=pl.lit("published"), version="source_version", note="country_name")
    )  # fmt: skip
    fuels = seeds.fuel_factors()
    parts += [
        _rows(fuels.filter(pl.col(col).is_not_null()), "cbam_fuel_factors", kind=pl.lit(kind),
              key=_ws("table_ref", "material"), value=col, unit=pl.lit(unit),
              source=_ws("act", "source_code", "factor_source", sep="; "),
              status=pl.when(pl.col("preliminary")).then(pl.lit("preliminary")).otherwise(pl.lit("published")),
              version="act", note="note")
        for col, kind, unit in (("ef_tco2_per_tj", "cbam_fuel_ef_per_energy", "tCO2/TJ"), ("ncv_gj_per_t", "cbam_fuel_ncv", "GJ/t"),
                                ("ef_tco2_per_t", "cbam_fuel_ef_per_mass", "tCO2/t"),
                                ("carbon_content_tc_per_t", "cbam_fuel_carbon_content", "tC/t"))
    ]  # fmt: skip
    parts.append(
        _rows(seeds.gwp_table(), "cbam_gwp", kind=pl.lit("gwp"), key="gas", value="gwp", unit="unit",
              source=_ws("act", "source_code", sep="; "), status=pl.lit("published"),
              version=pl.coalesce("act", "source_code"), note="basis")
    )  # fmt: skip
    parts.append(
        _rows(seeds.constants_table(), "cbam_constants", kind=pl.lit("cbam_constant"), key="name",
              value="value", unit="unit", source="source", status="status", version=pl.lit("reference"), note="note")
    )  # fmt: skip
    bm = seeds.benchmarks()
    parts += [
        _rows(bm.filter(pl.col(f"bm_{x}_tco2e_per_t").is_not_null()), "cbam_benchmarks", kind=pl.lit(f"cbam_benchmark_{x}"),
              key=_ws("cn_code", pl.col("variant_no").cast(pl.String)), value=f"bm_{x}_tco2e_per_t",
              unit=pl.lit("tCO2e/t"), source=_ws("act", "source", "row " + pl.col("source_row").cast(pl.String), sep="; "),
              status=pl.lit("published"), version="workbook_version", note=_ws("description", f"route_{x}", sep="; "))
        for x in ("a", "b")
    ]  # fmt: skip
    return pl.concat(parts, how="vertical_relaxed")


def emission_factor_catalog(reference_dir: Path = REFERENCE_DIR) -> pl.DataFrame:
    """Every factor the engines can use, one row per factor and version (the computed table `factor_catalog`,
    published as dim_emission_factor): the CBAM reference tables (the committed seeds the CBAM engine reads) and
    every version of the GHG tables in `reference_dir`, with the reference table each row comes from. Rows in
    (kind, key, unit, version, valid_from) order."""
    out = pl.concat([_cbam_catalog(), _ghg_catalog(every_version(reference_dir))], how="vertical_relaxed")
    return out.sort("kind", "key", "unit", "version", "valid_from", nulls_last=True, maintain_order=True)


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
