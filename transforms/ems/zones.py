"""Meter time zones: a reading's local wall time and UTC instant from its meter's zone (the time-zone database
only for zones with daylight saving; a fixed offset otherwise)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import polars as pl

UTC = "UTC"
_US = pl.Datetime("us")
_FIXED_SINCE = datetime(1992, 1, 1)  # earliest local time the fixed-offset fast path is used for


@cache
def fixed_offset_s(zone: str) -> int | None:
    """UTC offset (s) of a zone without daylight saving and with one offset from 1992 to 2037, else None."""
    tz = ZoneInfo(zone)
    offs = {
        (datetime(y, mo, 1, 12, tzinfo=tz).utcoffset(), datetime(y, mo, 1, 12, tzinfo=tz).dst())
        for y in range(_FIXED_SINCE.year, 2038)
        for mo in (1, 4, 7, 10)
    }
    if len(offs) != 1:
        return None
    ((off, dst),) = offs
    return None if off is None or dst not in (None, timedelta(0)) else int(off.total_seconds())


def _localise(zones: list[str]) -> tuple[pl.Expr, pl.Expr]:
    """(local wall time in the meter's zone, UTC instant as naive µs) of each reading, from the meter's zone
    position `_zi` in `zones` and its fixed offset `_off` (s; null for a zone with daylight saving). A local
    time that does not exist or is ambiguous (daylight-saving changes) gives null."""
    wall = pl.col("interval_start").cast(_US)
    written = pl.col("utc_offset_minutes")
    off = pl.col("_off")
    fast = off.is_not_null() & (wall >= _FIXED_SINCE)
    by_offset = wall - pl.duration(minutes=written)
    # The time-zone database only for rows that need it (null elsewhere costs nothing).
    general_utc: list[pl.Expr] = []
    general_local: list[pl.Expr] = []
    for i, z in enumerate(zones):
        here = (pl.col("_zi") == i) & ~fast
        general_utc.append(
            pl.when(here & written.is_null())
            .then(wall)
            .dt.replace_time_zone(z, ambiguous="null", non_existent="null")
            .dt.convert_time_zone(UTC)
            .dt.replace_time_zone(None)
        )
        general_local.append(
            pl.when(here & written.is_not_null())
            .then(by_offset)
            .dt.replace_time_zone(UTC)
            .dt.convert_time_zone(z)
            .dt.replace_time_zone(None)
        )
    utc = (
        pl.when(written.is_not_null())
        .then(by_offset)
        .when(fast)
        .then(wall - pl.duration(seconds=off))
        .otherwise(pl.coalesce(general_utc) if general_utc else None)
    )
    local = (
        pl.when(written.is_null())
        .then(wall)
        .when(fast)
        .then(by_offset + pl.duration(seconds=off))
        .otherwise(pl.coalesce(general_local) if general_local else None)
    )
    return local, utc


def zones_of(meters: pl.DataFrame) -> list[str]:
    """The distinct timezones of the usable meters (one expression branch per zone, never per row)."""
    return sorted(
        meters.filter(pl.col("meter_problem").is_null())["timezone"].drop_nulls().unique().to_list()
    )
