"""Partitions: landing drops are daily (the drop date, factory time); reports are per quarter and year."""

import dagster as dg

DROP_TIMEZONE = "Asia/Shanghai"

# end_offset=1: today's drop folder is a valid partition (plants drop files during the day).
daily_drops = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=DROP_TIMEZONE, end_offset=1)
