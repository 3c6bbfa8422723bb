"""Logistics emissions (ISO 14083 / GLEC v3): per shipment leg and allocated to the items carried."""

from transforms.logistics.engine import (
    ALLOCATION_COLUMNS,
    LEG_COLUMNS,
    compute_logistics,
    compute_shipment_allocations,
    compute_shipments,
    logistics_lazy,
)

__all__ = [
    "ALLOCATION_COLUMNS",
    "LEG_COLUMNS",
    "compute_logistics",
    "compute_shipment_allocations",
    "compute_shipments",
    "logistics_lazy",
]
