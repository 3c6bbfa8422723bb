"""Small builders for landing zones in tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from orchestration.lib.home import Home
from orchestration.lib.ingest import ingest_dataset
from orchestration.lib.storage import Landing


def drop(
    landing: Path, dataset: str, day: str, name: str, content: str | bytes, encoding: str = "utf-8"
) -> Path:
    p = landing / dataset / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return p


def ingest(landing: Path | str, home: Path, dataset: str, **kw):
    return ingest_dataset(Landing.open(str(landing)), Home(home), dataset, **kw)


def current(home: Path, dataset: str) -> pl.DataFrame:
    return pl.read_parquet(Home(home).raw_table(dataset))


def quarantine(home: Path, dataset: str) -> pl.DataFrame:
    return pl.read_parquet(Home(home).raw_dir(dataset) / "_quarantine.parquet")


def files(home: Path, dataset: str) -> pl.DataFrame:
    return pl.read_parquet(Home(home).raw_dir(dataset) / "_files.parquet")
