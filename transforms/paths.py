"""Where the repository's folders are (one place, so nothing hard-codes them). Reference data: transforms.reference.seeds."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = REPO_ROOT / "dbt_project"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"

# A table stored as parts (a raw dataset's current table, `lake/raw/<dataset>/current/`): Parquet files named
# `part-NNNNN.parquet`, read in name order. Polars reads the folder as it is; DuckDB reads `table_glob`.
PART_PREFIX = "part-"


def part_name(index: int) -> str:
    return f"{PART_PREFIX}{index:05d}.parquet"


def part_index(path: Path) -> int:
    return int(path.stem.removeprefix(PART_PREFIX))


# A table stored by month (a computed table whose contract names `partedBy`, lake/computed/<table>/): one part per
# UTC month of that column, `part-YYYYMM.parquet`, and `part-000000.parquet` first for the rows where it is null.
NO_MONTH = 0


def month_part_name(month: int) -> str:
    """The part of a table stored by month holding `month` (year × 100 + month; `NO_MONTH`: no time)."""
    return f"{PART_PREFIX}{month:06d}.parquet"


def month_of(path: Path) -> int:
    """The month (year × 100 + month, `NO_MONTH`) a part of a table stored by month holds."""
    return int(path.stem.removeprefix(PART_PREFIX))


def table_parts(path: Path) -> list[Path]:
    """The Parquet files of a table: its parts in name order when `path` is a folder, else the file itself."""
    if path.is_dir():
        return sorted(path.glob(f"{PART_PREFIX}*.parquet"))
    return [path] if path.exists() else []


def table_glob(path: Path) -> str:
    """What DuckDB's `read_parquet` reads for a table: the parts' glob of a folder, else the file."""
    return (path / f"{PART_PREFIX}*.parquet").as_posix() if path.is_dir() else path.as_posix()
