"""Reports for the CBAM definitive period: one canonical model built from the marts, versioned writers.

Kinds (each module exposes `KIND`, a `base.ReportKind`):
- `communication`: the operator's emissions communication per installation × reporting year (XLSX);
- `declaration`: the importer's annual declaration data pack per EORI × year (CSV, XLSX, JSON + JSON Schema);
- `summary`: the bilingual summary page per home × year (self-contained HTML with charts).
"""

from transforms.reports.base import ReportKind
from transforms.reports.communication import KIND as COMMUNICATION
from transforms.reports.declaration import KIND as DECLARATION
from transforms.reports.summary import KIND as SUMMARY

KINDS: tuple[ReportKind, ...] = (COMMUNICATION, DECLARATION, SUMMARY)
