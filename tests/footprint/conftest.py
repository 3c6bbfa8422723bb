"""Fixtures of the GHG engine tests: the pinned factor set and the synthetic multi-plant dataset."""

from __future__ import annotations

import polars as pl
import pytest

from tests.footprint import synthetic
from transforms.footprint import load_factors
from transforms.ghg.factors import GhgFactors
from transforms.logistics import compute_logistics


@pytest.fixture(scope="session")
def factors() -> GhgFactors:
    return load_factors()


@pytest.fixture(scope="session")
def raw() -> dict[str, pl.LazyFrame]:
    return synthetic.raw()


@pytest.fixture(scope="session")
def logistics(raw, factors) -> tuple[pl.DataFrame, pl.DataFrame]:
    return compute_logistics(raw, factors)
