"""Partitions and run windows: landing drops are daily (the drop date, factory time), and a run covers the drops
that are new or changed up to its date. The ingest assets are the only partitioned assets; the engines, the
warehouse and the reports are unpartitioned (each run reads the whole current lake).

Shared by `lingtan run` (orchestration/pipeline.py), the nightly schedule and the landing sensor, so none of
them imports another."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context

from orchestration.lib.home import Home
from orchestration.lib.ingest import pending_drop_dates
from orchestration.lib.storage import Landing

DROP_TIMEZONE = "Asia/Shanghai"
_KEY_LISTS_KEPT = 8


class DropDays(dg.DailyPartitionsDefinition):
    """Daily partitions whose key list is computed once per last partition, not on every call.

    Each step of an unpartitioned asset reading the raw (daily) assets asks Dagster for its inputs' data
    versions, and Dagster lists every partition key of each raw input (`AllPartitionMapping`: ~1,070 days since
    2024, one cron step and one timezone-aware strftime each) only to find there are more than its threshold of
    100 and fall back to the latest materialisation's version. A tiny run listed them 73 times. The list depends
    only on the definition and its last partition (the current time's day), so it is kept for that day: the keys
    are the same as Dagster's (tests/test_partitions.py)."""

    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> Sequence[str]:
        with partition_loading_context(current_time, dynamic_partitions_store):
            last = self._get_last_partition_window(self._get_current_timestamp())
            if last is None:
                return []
            cache_key = (self, last.start.timestamp())
            keys = _KEY_LISTS.get(cache_key)
            if keys is None:
                keys = tuple(super().get_partition_keys())
                while len(_KEY_LISTS) >= _KEY_LISTS_KEPT:
                    _KEY_LISTS.pop(next(iter(_KEY_LISTS)))
                _KEY_LISTS[cache_key] = keys
            return list(keys)


_KEY_LISTS: dict[tuple[DropDays, float], tuple[str, ...]] = {}

# end_offset=1: today's drop folder is a valid partition (plants drop files during the day).
daily_drops = DropDays(start_date="2024-01-01", timezone=DROP_TIMEZONE, end_offset=1)

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
