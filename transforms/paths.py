"""Where the repository's committed reference data lives (one place, so nothing hard-codes it)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = REPO_ROOT / "dbt_project"
REFERENCE_DIR = DBT_DIR / "seeds" / "reference"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
