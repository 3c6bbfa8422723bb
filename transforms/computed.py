"""Computed tables (what the engines write to lake/computed/<table>.parquet) as declared by their contracts in
data_contracts/computed/<table>.odcs.yaml: the one place for each table's columns, types, units and meanings.

The engines pass their output through `conform` (the declared columns, in the declared order, cast to the
declared types; a missing or undeclared column is an error naming the contract to update). The dbt staging of
computed tables (models/staging/computed/, by dbt_project/scripts/generate_computed.py) and the column tables of
docs/computed/*.md are generated from the same contracts; tests/dbt checks that they are up to date.

Conventions inside each contract (ODCS v3.1): property `physicalType` is the DuckDB type of the Parquet column
(`varchar`, `double`, `bigint`, `integer`, `tinyint`, `boolean`, `date`, `timestamp`, `varchar[]`); custom
property `unit` its unit; schema custom properties `engine` (`cbam` / `ghg`), `docs` (the page describing it),
`grain` (the columns one row stands for, in the published row order) and, when the grain is unique and tested,
`uniqueKey`; `partedBy` (a timestamp column) for a table stored as a folder of parts by its UTC month
(lake/computed/<table>/part-YYYYMM.parquet, `transforms.paths`) instead of one file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from transforms.dtypes import PHYSICAL_TYPES
from transforms.paths import CONTRACTS_DIR

# libyaml's C parser when present: the pure-Python one spends seconds per process on the contracts
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

COMPUTED_CONTRACTS_DIR = CONTRACTS_DIR / "computed"


class ComputedSchemaError(ValueError):
    """An engine's output does not match its computed-table contract."""


@dataclass(frozen=True)
class ComputedColumn:
    name: str
    physical: str  # DuckDB type name, a key of dtypes.PHYSICAL_TYPES
    description: str
    unit: str = ""

    @property
    def dtype(self) -> pl.DataType:
        return PHYSICAL_TYPES[self.physical]


@dataclass(frozen=True)
class ComputedTable:
    name: str
    engine: str
    description: str
    purpose: str
    columns: tuple[ComputedColumn, ...]
    grain: tuple[str, ...] = ()
    unique_key: tuple[str, ...] = ()
    docs: str = ""
    # incremental builds: the key tests read the rows whose `since_column` is at or after the time in `since_env`
    since_column: str = ""
    since_env: str = ""
    # stored by month (lake/computed/<table>/part-YYYYMM.parquet, `transforms.paths`): the timestamp column whose
    # UTC month names a row's part; "" for a table stored as one file (lake/computed/<table>.parquet)
    parted_by: str = ""
    contract_version: str = ""
    contract_path: Path = field(default=Path(), compare=False)

    @property
    def lake_path(self) -> str:
        """Where the table is in a home, as the dbt source and the contract's server read it: its file, or its
        parts' glob when stored by month."""
        return (
            f"lake/computed/{self.name}/part-*.parquet"
            if self.parted_by
            else f"lake/computed/{self.name}.parquet"
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> ComputedColumn:
        return next(c for c in self.columns if c.name == name)


def _custom(props: list[dict] | None) -> dict:
    return {p["property"]: p["value"] for p in (props or [])}


def load_computed_contract(path: Path) -> ComputedTable:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    (obj,) = doc["schema"]
    cp = _custom(obj.get("customProperties"))
    cols = []
    for p in obj["properties"]:
        if p["physicalType"] not in PHYSICAL_TYPES:
            raise ValueError(f"{path.name}: column {p['name']}: unknown physicalType {p['physicalType']!r}")
        unit = _custom(p.get("customProperties")).get("unit", "")
        cols.append(ComputedColumn(p["name"], p["physicalType"], p.get("description", "").strip(), unit))
    table = ComputedTable(
        name=obj["name"],
        engine=cp["engine"],
        description=obj.get("description", "").strip(),
        purpose=(doc.get("description") or {}).get("purpose", "").strip(),
        columns=tuple(cols),
        grain=tuple(cp.get("grain", ())),
        unique_key=tuple(cp.get("uniqueKey", ())),
        docs=cp.get("docs", ""),
        since_column=cp.get("sinceColumn", ""),
        since_env=cp.get("sinceEnv", ""),
        parted_by=cp.get("partedBy", ""),
        contract_version=str(doc.get("version", "")),
        contract_path=path,
    )
    named = set(table.grain) | set(table.unique_key) | ({table.since_column, table.parted_by} - {""})
    unknown = sorted(named - set(table.column_names))
    if unknown:
        raise ValueError(
            f"{path.name}: grain / uniqueKey / sinceColumn / partedBy name columns it does not declare: {unknown}"
        )
    if bool(table.since_column) != bool(table.since_env):
        raise ValueError(f"{path.name}: sinceColumn and sinceEnv go together")
    return table


@cache
def computed_tables() -> dict[str, ComputedTable]:
    """Every computed table, by name, in file-name order."""
    return {t.name: t for t in map(_named_contract, sorted(COMPUTED_CONTRACTS_DIR.glob("*.odcs.yaml")))}


@cache
def computed_table(name: str) -> ComputedTable:
    """The contract of computed table `name`: its own file only (an engine conforming a few tables does not
    parse all 26 contracts, about 20 ms of a cold start)."""
    path = COMPUTED_CONTRACTS_DIR / f"{name}.odcs.yaml"
    if not path.is_file():
        raise KeyError(
            f"no contract for computed table {name!r} in {COMPUTED_CONTRACTS_DIR}; known: {', '.join(computed_tables())}"
        )
    return _named_contract(path)


def _named_contract(path: Path) -> ComputedTable:
    table = load_computed_contract(path)
    if path.name != f"{table.name}.odcs.yaml":
        raise ValueError(
            f"{path.name} declares table {table.name!r}: a computed contract's file is named after it"
        )
    return table


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with exactly the contract's columns, in its order, cast to its types (a cast that would lose a
    value raises). A column missing from the frame or not in the contract raises `ComputedSchemaError`, so an
    engine change cannot publish a column no contract, staging model or document describes."""
    table = computed_table(name)
    have = frame.columns
    missing = [c for c in table.column_names if c not in have]
    extra = [c for c in have if c not in set(table.column_names)]
    if missing or extra:
        raise ComputedSchemaError(
            f"computed table {name}: the engine's output differs from "
            f"data_contracts/computed/{table.contract_path.name}"
            + (f"; missing columns {missing}" if missing else "")
            + (f"; undeclared columns {extra}" if extra else "")
            + " (update the contract, then run `python dbt_project/scripts/generate_computed.py`)"
        )
    # polars truncates a float cast to an integer silently: refuse a fraction instead of publishing a changed value
    truncated = [
        c.name
        for c in table.columns
        if c.dtype.is_integer()
        and frame.schema[c.name].is_float()
        and bool(frame.select((pl.col(c.name) % 1 != 0).any()).item())
    ]
    if truncated:
        raise ComputedSchemaError(
            f"computed table {name}: {truncated} hold fractions but "
            f"data_contracts/computed/{table.contract_path.name} types them as integers"
        )
    return frame.select(
        pl.col(c.name) if frame.schema[c.name] == c.dtype else pl.col(c.name).cast(c.dtype, strict=True)
        for c in table.columns
    )


def conform_all(tables: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """`conform` for every table of an engine's result (name → frame)."""
    return {name: conform(name, df) for name, df in tables.items()}
