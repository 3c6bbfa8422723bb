"""The drop-date partitions (orchestration/defs/partitions.py): DropDays lists the same keys as Dagster's daily
partitions, at any current time, and computes the list once per last partition."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration.defs import partitions
from orchestration.defs.partitions import DROP_TIMEZONE, DropDays, daily_drops

DAGSTER_DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=DROP_TIMEZONE, end_offset=1)


@pytest.mark.parametrize(
    "now",
    [
        None,  # the current time
        datetime(2023, 5, 1, tzinfo=UTC),  # before the first partition
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2025, 3, 30, 15, 59, tzinfo=UTC),  # one minute before midnight in Shanghai
        datetime(2025, 3, 30, 16, 1, tzinfo=UTC),  # one minute after: one more key
        datetime(2026, 2, 28, 16, 0, tzinfo=UTC),  # midnight in Shanghai exactly
    ],
)
def test_same_keys_as_dagster(now: datetime | None) -> None:
    # twice: the second answer comes from the kept list
    assert daily_drops.get_partition_keys(current_time=now) == DAGSTER_DAILY.get_partition_keys(
        current_time=now
    )
    assert daily_drops.get_partition_keys(current_time=now) == DAGSTER_DAILY.get_partition_keys(
        current_time=now
    )


def test_all_partitions_subset_uses_the_kept_list() -> None:
    """What Dagster lists for an unpartitioned asset reading a raw asset: every key, from one computation a day."""
    partitions._KEY_LISTS.clear()
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    first = daily_drops.get_partition_keys(current_time=now)
    first.append("changed by a caller")  # a caller's copy: the kept list stays as it was
    assert len(partitions._KEY_LISTS) == 1
    later_same_day = datetime(2025, 6, 1, 14, tzinfo=UTC)
    assert daily_drops.get_partition_keys(current_time=later_same_day) == DAGSTER_DAILY.get_partition_keys(
        current_time=later_same_day
    )
    assert len(partitions._KEY_LISTS) == 1
    # Dagster's own path (the data-version lookup of a step): the mapping's subset of all partitions
    instance = dg.DagsterInstance.ephemeral()  # the dynamic-partitions store of a run
    subset = (
        dg.AllPartitionMapping()
        .get_upstream_mapped_partitions_result_for_partitions(
            None,
            None,
            daily_drops,
            current_time=later_same_day,
            dynamic_partitions_store=instance,
        )
        .partitions_subset
    )
    assert type(subset).__name__ == "AllPartitionsSubset"
    assert list(subset.get_partition_keys()) == DAGSTER_DAILY.get_partition_keys(current_time=later_same_day)
    assert len(partitions._KEY_LISTS) == 1


def test_kept_lists_are_bounded() -> None:
    partitions._KEY_LISTS.clear()
    for day in range(1, 21):
        daily_drops.get_partition_keys(current_time=datetime(2025, 1, day, 12, tzinfo=UTC))
    assert len(partitions._KEY_LISTS) == partitions._KEY_LISTS_KEPT


def test_a_daily_partitions_definition_for_dagster() -> None:
    assert isinstance(daily_drops, dg.DailyPartitionsDefinition)
    assert isinstance(daily_drops, DropDays)
    assert daily_drops.get_partition_keys()[0] == "2024-01-01"
