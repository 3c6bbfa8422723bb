"""Site GHG inventory (GHG Protocol / ISO 14064-1) and the zero-carbon view per site and park."""

from transforms.inventory.engine import (
    PARK_COLUMNS,
    SCOPE2_LINE_COLUMNS,
    SITE_COLUMNS,
    compute_park_progress,
    compute_site_inventory,
    park_mapping,
    scope2_lines,
)

__all__ = [
    "PARK_COLUMNS",
    "SCOPE2_LINE_COLUMNS",
    "SITE_COLUMNS",
    "compute_park_progress",
    "compute_site_inventory",
    "park_mapping",
    "scope2_lines",
]
