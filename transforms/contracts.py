"""Landing-zone datasets as declared by the ODCS contracts in data_contracts/ (the single source of the
ingestion schema: names, Chinese aliases, types, business keys, rules).

Conventions inside each contract (custom properties):
- schema `datasetKind`: `snapshot` (master data; newest drop is the whole truth) or `event` (drops add rows).
- schema `versionsInDrop: ordered`: rows of one drop sharing a business key are successive versions in file and
  row order (the spec's rule for `green_certificates`: a later row of the same drop corrects or, for another
  claim, is judged by the ledger), not an ambiguity that quarantines them all.
- schema `requireOneOf`: list of alternatives, each a list of columns that must all be filled; a row needs
  at least one complete alternative (e.g. `[[cn_code], [material_id]]`).
- property `lingtanType`: how the text is parsed (text, decimal, int, date, bool, country, unit,
  compound_unit, currency, cn_code, hs_code, enum, goods_category, json, period, month, timestamp,
  unlocode).
- property `aliases`: accepted header spellings besides the English name (Chinese aliases).
- property `businessKeyPosition`: an optional (nullable) part of the business key; ODCS `primaryKey` implies
  NOT NULL, so optional key columns are marked this way instead. Key order = position.
- property `countryScope: eu_member`: the country must be an EU member state.
- property `allowedValues` (enum), `unitDimensions` (unit), `unitColumn` (quantity → its unit column),
  `default` (value the engines use when empty).
- property `canonicalValues` + `valueAliases` (canonical value → accepted spellings) on a free-text column: the
  vocabulary the engines classify the text by (e.g. `energy_bills.carrier`); ingestion keeps the text as written.
- `logicalTypeOptions` `minimum` / `maximum` / `exclusiveMinimum` / `pattern`: row rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from transforms.dtypes import LINGTAN_TYPES, PHYSICAL_TYPES
from transforms.paths import CONTRACTS_DIR
from transforms.text import norm_key

# libyaml's C parser when present: the pure-Python one spends seconds per process on the contracts
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LINEAGE_SCHEMA = {
    "_drop_date": pl.Date,  # the landing partition the row came from
    "_file": pl.String,  # path of the file within the landing zone
    "_row_number": pl.Int64,  # 1-based data row below the header
    "_source_row_id": pl.String,  # "<dataset>/<drop>/<file name>#<row>" (= `_file#row`): joins back to the source
}

# lingtanType → polars type of the raw lake column, through the one type map (transforms/dtypes.py).
POLARS_TYPES: dict[str, pl.DataType] = {kind: PHYSICAL_TYPES[phys] for kind, phys in LINGTAN_TYPES.items()}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    description: str = ""
    required: bool = False
    key: bool = False
    key_position: int = 0
    aliases: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    unit_dimensions: tuple[str, ...] = ()
    unit_column: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    pattern: str | None = None
    default: Any = None
    country_scope: str | None = None  # "eu_member": the country must be an EU member state
    canonical: tuple[str, ...] = ()  # canonicalValues of a free-text column
    value_aliases: tuple[tuple[str, str], ...] = ()  # (accepted spelling, canonical value)

    @property
    def dtype(self) -> pl.DataType:
        return POLARS_TYPES[self.kind]


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str  # snapshot | event
    columns: tuple[Column, ...]
    require_one_of: tuple[tuple[tuple[str, ...], ...], ...] = ()
    ordered_in_drop: bool = False  # versionsInDrop: ordered
    description: str = ""
    contract_version: str = ""
    contract_path: Path = field(default=Path(), compare=False)

    @property
    def keys(self) -> list[str]:
        return [c.name for c in sorted((c for c in self.columns if c.key), key=lambda c: c.key_position)]

    @property
    def key_time(self) -> str | None:
        """The first key column that holds a time (Datetime), of an event dataset: a nightly that extends its
        current table changes no row whose key time is before the new rows' earliest (orchestration/lib/ingest.py
        records it; the key test of its staging model then reads the rows from it on). None otherwise."""
        if self.kind != "event":
            return None
        return next((k for k in self.keys if self.column(k).dtype == pl.Datetime), None)

    @property
    def keys_since_env(self) -> str:
        """The environment variable the dbt step sets to that time for the key test (empty: every row)."""
        return f"LINGTAN_{self.name.upper()}_KEYS_SINCE"

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def schema(self) -> pl.Schema:
        """Polars schema of the raw lake table: contract columns then lineage columns."""
        return pl.Schema({c.name: c.dtype for c in self.columns} | LINEAGE_SCHEMA)

    @cache  # noqa: B019 - frozen dataclass, a handful of instances
    def header_map(self) -> dict[str, str]:
        """Normalised header spelling → column name (English name and every alias, any case)."""
        out: dict[str, str] = {}
        for c in self.columns:
            for spelling in (c.name, *c.aliases):
                out[norm_key(spelling)] = c.name
        return out


def _custom(props: list[dict] | None) -> dict[str, Any]:
    return {p["property"]: p["value"] for p in (props or [])}


def _column(p: dict) -> Column:
    cp = _custom(p.get("customProperties"))
    opts = p.get("logicalTypeOptions") or {}
    kind = cp.get("lingtanType", "text")
    if kind not in POLARS_TYPES:
        raise ValueError(f"column {p['name']}: unknown lingtanType {kind!r}")
    return Column(
        name=p["name"],
        kind=kind,
        description=p.get("description", ""),
        required=bool(p.get("required")),
        key=bool(p.get("primaryKey")) or "businessKeyPosition" in cp,
        key_position=int(p.get("primaryKeyPosition") or cp.get("businessKeyPosition") or 0),
        aliases=tuple(cp.get("aliases", ())),
        allowed=tuple(cp.get("allowedValues", ())),
        unit_dimensions=tuple(cp.get("unitDimensions", ())),
        unit_column=cp.get("unitColumn"),
        minimum=opts.get("minimum"),
        maximum=opts.get("maximum"),
        exclusive_minimum=opts.get("exclusiveMinimum"),
        pattern=opts.get("pattern"),
        default=cp.get("default"),
        country_scope=cp.get("countryScope"),
        canonical=tuple(cp.get("canonicalValues", ())),
        value_aliases=tuple((a, v) for v, spellings in cp.get("valueAliases", {}).items() for a in spellings),
    )


def load_contract(path: Path) -> Dataset:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    (obj,) = doc["schema"]
    cp = _custom(obj.get("customProperties"))
    cols = tuple(_column(p) for p in obj["properties"])
    return Dataset(
        name=obj["name"],
        kind=cp.get("datasetKind", "event"),
        columns=cols,
        require_one_of=tuple(tuple(tuple(alt) for alt in group) for group in cp.get("requireOneOf", [])),
        ordered_in_drop=cp.get("versionsInDrop") == "ordered",
        description=obj.get("description", ""),
        contract_version=str(doc.get("version", "")),
        contract_path=path,
    )


@cache
def datasets() -> dict[str, Dataset]:
    """Every landing dataset, by name, in file-name order."""
    out = {}
    for p in sorted(CONTRACTS_DIR.glob("*.odcs.yaml")):
        if p.name.startswith("out_"):
            continue  # outbound contracts (marts) are not landing datasets
        d = load_contract(p)
        out[d.name] = d
    return out


def dataset(name: str) -> Dataset:
    try:
        return datasets()[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(datasets())}") from None
