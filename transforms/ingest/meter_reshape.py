"""The `meter_readings` reshaper the readers call (transforms/ingest/readers.py `LAYOUTS`): the layout from the
header row, then the wide reader (meter_wide.py) or the long and trend-log reader (meter_layouts' text steps, then
meter_long.py). It sits above the three modules because the wide and long readers build on meter_layouts."""

from __future__ import annotations

from transforms.ingest import meter_layouts
from transforms.ingest.base import TableRead
from transforms.ingest.meter_long import as_long_read
from transforms.ingest.meter_wide import read_wide


def reshape(table: TableRead) -> TableRead:
    """One long table of readings (text cells), whatever the file's layout."""
    layout = meter_layouts.detect_layout(table.headers)
    if layout == "wide":
        return read_wide(table)
    return meter_layouts.reshape_long(table, layout, as_long_read)
