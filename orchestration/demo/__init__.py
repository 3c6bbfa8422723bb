"""Demo data generator: a realistic, reproducible landing zone (`lingtan demo`) and its manifest of what
ingestion must accept and quarantine. `generate(landing, scale, seed)` is the entry point."""

from orchestration.demo.generator import DATASETS, generate
from orchestration.demo.manifest import FAULT_KINDS, MANIFEST_NAME, BadRow, DemoManifest, FileEntry

__all__ = ["DATASETS", "FAULT_KINDS", "MANIFEST_NAME", "BadRow", "DemoManifest", "FileEntry", "generate"]
