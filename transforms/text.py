"""Text normalisation shared by every reader: NFKC (full-width → ASCII), trimmed, case-folded keys."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

_SPACES = re.compile(r"\s+")


def norm_key(value: str) -> str:
    """Key used to match names written by people: NFKC, case-folded, inner whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


def nfkc(expr: pl.Expr) -> pl.Expr:
    """Vectorised NFKC + trim; empty strings become null."""
    e = expr.str.normalize("NFKC").str.strip_chars()
    return pl.when(e.str.len_chars() == 0).then(None).otherwise(e)


def key_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised `norm_key`."""
    return nfkc(expr).str.replace_all(r"\s+", " ").str.to_lowercase()
