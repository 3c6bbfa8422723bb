"""Where the repository's folders are (one place, so nothing hard-codes them). Reference data: transforms.reference.seeds."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = REPO_ROOT / "dbt_project"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
