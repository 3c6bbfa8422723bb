"""Partitions and run windows: landing drops are daily (the drop date, factory time), and a run covers the drops
that are new or changed up to its date. The ingest assets are the only partitioned assets; the engines, the
warehouse and the reports are unpartitioned (each run reads the whole current lake).

Shared by `lingtan run` (orchestration/pipeline.py), the nightly schedule and the landing sensor, so none of
them imports another."""

from datetime import date

import dagster as dg

from orchestration.lib.home import Home
from orchestration.lib.ingest import pending_drop_dates
from orchestration.lib.storage import Landing

DROP_TIMEZONE = "Asia/Shanghai"

# end_offset=1: today's drop folder is a valid partition (plants drop files during the day).
daily_drops = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=DROP_TIMEZONE, end_offset=1)

# Runs of `lingtan run`, the schedule and the sensor mark only their last drop date as the partition and
# ingest every pending drop from this tag's date on: Dagster writes one event per partition of a range
# (a two-year history: ~11,000 events, minutes in a sqlite instance), not one per drop.
SINCE_TAG = "lingtan/since"


def run_window(landing: Landing, home: Home, up_to: date | None = None) -> tuple[str, str]:
    """Partition range of a run: from the earliest drop with new or changed files to `up_to` (default today).
    Dagster records every partition of a range, so a run spans only the drops it needs (one day when nothing
    is new), not the whole history."""
    keys = daily_drops.get_partition_keys()
    end = min((up_to or date.today()).isoformat(), keys[-1])
    pending = [d.isoformat() for d in pending_drop_dates(landing, home, date.fromisoformat(end))]
    start = max(min(pending[0], end) if pending else end, keys[0])
    return start, end


def run_tags(start: str, end: str) -> dict[str, str]:
    """Tags of a nightly run over the drops `start`…`end`: Dagster records the one partition `end`, the ingest
    assets take every pending drop from `start` on (SINCE_TAG); the drops read are in each raw asset's
    `drops_processed` metadata. A range of partitions would cost one Dagster event per day and asset."""
    return {
        "dagster/asset_partition_range_start": end,
        "dagster/asset_partition_range_end": end,
        SINCE_TAG: start,
    }
