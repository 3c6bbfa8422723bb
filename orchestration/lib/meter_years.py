"""meter_hourly's summary for the zero-carbon indicators (`transforms.zero_carbon.meter_years`), kept by part.

The indicators read every hour of meter_hourly for two per-year aggregates (1.1 s of a one-day nightly at scale
100, whatever the drop). The table is stored by UTC month and a night rewrites only the months it recomputes,
so each part's summary is kept beside the computed lake (`_carry/meter_years.parquet`, by the part's sha256)
and only the parts whose bytes are new are summarised again. The summary of a part depends on its bytes only,
so a kept one is never stale, whatever run wrote it; a missing or unreadable carry means every part is read.
"""

from __future__ import annotations

import polars as pl

from orchestration.lib.home import Home
from orchestration.lib.incremental import sha256_file
from orchestration.lib.storage import atomic_write_parquet
from transforms.paths import table_parts
from transforms.zero_carbon.meter_years import SCHEMA, combine, summarise

CARRY = (
    "_carry",
    "meter_years.parquet",
)  # under the computed lake (not a computed table: no `*.parquet` there)


def meter_years(home: Home) -> tuple[pl.DataFrame | None, int]:
    """(the published meter_hourly's summary or None without the table, how many parts were read this time).
    The carry is rewritten to hold the current parts' summaries."""
    parts = table_parts(home.computed_table("meter_hourly"))
    if not parts:
        return None, 0
    path = home.computed.joinpath(*CARRY)
    try:
        kept = pl.read_parquet(path).match_to_schema(SCHEMA | {"part_sha256": pl.String})
    except Exception:  # none yet, or unreadable: summarise every part
        kept = pl.DataFrame(schema=SCHEMA | {"part_sha256": pl.String})
    # a part without a measured hour is kept as one row of nulls, so that it is not read again either
    by_hash = {
        sha: f.filter(pl.col("meter_id").is_not_null())
        for (sha,), f in kept.partition_by("part_sha256", as_dict=True, include_key=False).items()
    }
    summaries: dict[str, pl.DataFrame] = {}  # sha256 → summary, each once (two parts may hold the same bytes)
    frames, read = [], 0
    for i, part in enumerate(parts):
        sha = sha256_file(part)
        if sha not in summaries:
            summaries[sha] = by_hash.get(sha)
            if summaries[sha] is None:
                summaries[sha] = summarise(pl.scan_parquet(part)).collect()
                read += 1
        frames.append(summaries[sha].with_columns(first_part=pl.lit(i, pl.Int64)))
    if read or set(summaries) != set(by_hash):
        carry = [
            (f if f.height else pl.DataFrame([{}], schema=SCHEMA)).with_columns(
                part_sha256=pl.lit(sha, pl.String)
            )
            for sha, f in summaries.items()
        ]
        atomic_write_parquet(pl.concat(carry), path)
    return combine(pl.concat(frames).lazy()).collect(), read
