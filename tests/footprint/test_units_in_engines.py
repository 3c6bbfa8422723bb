"""Unit conversions in the engines go through transforms/units.py: no bare unit constants (`/ 1000`, `* 3.6`,
`/ 1e6`, ...) in the engine sources, and `units.convert_expr` gives the numbers of the polars formula the engines
used to write, to the bit (the outputs did not move)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import polars as pl
import pytest

from transforms import units

ROOT = Path(__file__).resolve().parents[2] / "transforms"
ENGINES = ("cbam", "footprint", "logistics", "inventory", "ghg")
# A multiplication or division by a unit-prefix or kWh↔MJ constant, either side of the operator.
_CONST = r"(?:1_?000(?:_?000)?(?:\.0*)?|1e[-+]?[369]|1\.0?e[-+]?[369]|0\.001|3\.6(?:e-?3)?|0\.0036|277\.7\d*)"
BARE = re.compile(rf"[*/]\s*{_CONST}(?![\w.])|(?<![\w.]){_CONST}\s*[*/]")


def _sources() -> list[Path]:
    return sorted(p for d in ENGINES if (ROOT / d).is_dir() for p in (ROOT / d).glob("*.py"))


def test_scan_finds_bare_constants() -> None:
    """The scan itself: it catches the forms the engines used to write, and leaves other numbers alone."""
    for bad in ("x / 1000 * y", "q * 1e6", "gj / 3.6", "1000 * t", "v * 1_000.0", "a/1e-3"):
        assert BARE.search(bad), bad
    for ok in (
        "pl.lit(1e-300)",
        "x * 10_000",
        "round(x, 3)",
        "n / 100",
        "y * 1000.5",
        "MAX_ITERATIONS = 200",
    ):
        assert not BARE.search(ok), ok


def test_no_bare_unit_constants_in_engine_sources() -> None:
    found = [
        f"{p.relative_to(ROOT.parent)}:{i}: {line.strip()}"
        for p in _sources()
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if BARE.search(line.split("#", 1)[0]) and not line.lstrip().startswith(("#", '"', "'"))
    ]
    assert len(_sources()) > 15
    assert not found, "convert through transforms/units.py (convert_expr, to_factor_expr):\n" + "\n".join(
        found
    )


def test_footprint_common_has_no_unit_helpers() -> None:
    from transforms.ghg import common

    assert not [n for n in vars(common) if n.startswith("unit_")]


@pytest.mark.parametrize(
    ("frm", "to", "written"),
    [
        ("GJ", "TJ", pl.col("x") / 1000),
        ("GJ", "MWh", pl.col("x") / 3.6),
        ("gCO2", "tCO2", pl.col("x") / 1e6),
        ("tCO2", "gCO2", pl.col("x") * 1e6),
        ("kgCO2", "tCO2", pl.col("x") / 1000),
        ("tCO2", "kgCO2", pl.col("x") * 1000),
        ("t", "kg", pl.col("x") * 1000.0),
        ("tCO2/MWh", "kgCO2/kWh", pl.col("x")),
    ],
)
def test_convert_expr_is_the_written_formula_to_the_bit(frm: str, to: str, written: pl.Expr) -> None:
    rng = random.Random(7)
    xs = [rng.uniform(0, 1e7) for _ in range(2000)] + [0.0, 1.0, 3.6, 1234.5678]
    df = pl.DataFrame({"x": xs}).select(got=units.convert_expr(pl.col("x"), frm, to), want=written)
    assert df["got"].to_list() == df["want"].to_list()


def test_convert_expr_refuses_other_dimensions() -> None:
    with pytest.raises(ValueError, match="different dimensions"):
        units.convert_expr(pl.col("x"), "GJ", "t")


def test_dimension_and_base_expressions() -> None:
    df = pl.DataFrame({"u": ["kWh", "kg", "pcs", "km", "furlong", None]})
    got = df.select(d=units.dimension_expr(pl.col("u")), b=units.to_base_expr(pl.col("u")))
    assert got["d"].to_list() == ["energy", "mass", "pieces", "distance", None, None]
    assert got["b"].to_list() == [3.6e-3, 1e-3, 1.0, 1.0, None, None]
