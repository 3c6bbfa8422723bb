"""Places for logistics distances: the committed place table (ports, rail terminals, cities) plus installations,
matched by UN/LOCODE, English or Chinese name or alias; and the vectorised great-circle distance."""

from __future__ import annotations

import polars as pl

from transforms.ghg.common import compact_key
from transforms.ghg.factors import GhgFactors

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius (tools/refbuild/sea_routes.py builds with it too)


def gcd_km(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle (haversine) distance in km on a sphere of the mean Earth radius; null if a coordinate is."""
    p1, p2 = lat1.radians(), lat2.radians()
    a = ((p2 - p1) / 2).sin().pow(2) + p1.cos() * p2.cos() * ((lon2 - lon1).radians() / 2).sin().pow(2)
    return 2 * EARTH_RADIUS_KM * a.sqrt().clip(upper_bound=1.0).arcsin()


PLACE_SCHEMA = {"place_id": pl.String, "place_kind": pl.String, "latitude": pl.Float64, "longitude": pl.Float64,
                "sea_node": pl.Boolean}  # fmt: skip


def place_keys(factors: GhgFactors, installations: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Matching key → one place. Keys of the place table win over installation keys; a key naming two places
    at the same priority is ambiguous and dropped (the leg stays unresolved, never a guess)."""
    places = factors["places"].lazy()
    names = pl.concat_list(
        pl.col("place_id"), pl.col("unlocode"), pl.col("name_en"), pl.col("name_zh"),
        pl.col("aliases").fill_null("").str.split("|"),
    )  # fmt: skip
    from_table = (
        places.select(
            pl.col("place_id"),
            place_kind=pl.col("kind"),
            latitude="latitude",
            longitude="longitude",
            sea_node="sea_node",
            name=names,
        )
        .explode("name")
        .with_columns(priority=pl.lit(0))
    )
    frames = [from_table]
    if installations is not None:
        frames.append(_installation_places(places, installations))
    keyed = (
        pl.concat(frames, how="vertical_relaxed")
        .with_columns(key=compact_key(pl.col("name")))
        .filter(pl.col("key").is_not_null())
        .unique(["key", "place_id", "priority"])
        .filter(pl.col("priority") == pl.col("priority").min().over("key"))
    )
    return keyed.filter(pl.len().over("key") == 1).select("key", *PLACE_SCHEMA)


def _installation_places(places: pl.LazyFrame, installations: pl.LazyFrame) -> pl.LazyFrame:
    """Installations as places: their own coordinates, else those of their UN/LOCODE, else of their city."""
    by_code = places.select(unlocode="place_id", lat_code="latitude", lon_code="longitude")
    by_city = places.select(
        city_key=compact_key(pl.col("name_en")), lat_city="latitude", lon_city="longitude"
    ).unique("city_key", keep="none")
    inst = (
        installations.with_columns(city_key=compact_key(pl.col("city")))
        .join(by_code, on="unlocode", how="left")
        .join(by_city, on="city_key", how="left")
        .select(
            place_id="installation_id", place_kind=pl.lit("installation"),
            latitude=pl.coalesce("latitude", "lat_code", "lat_city"),
            longitude=pl.coalesce("longitude", "lon_code", "lon_city"), sea_node=pl.lit(False),
            name=pl.concat_list("installation_id", "name", "name_en"),
        )
        .filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    )  # fmt: skip
    return inst.explode("name").with_columns(priority=pl.lit(1))


def resolve_places(texts: pl.LazyFrame, keys: pl.LazyFrame) -> pl.LazyFrame:
    """`texts` (column `text`, unique values) → text, place_id, place_kind, latitude, longitude, sea_node."""
    return texts.with_columns(key=compact_key(pl.col("text"))).join(keys, on="key", how="left").drop("key")
