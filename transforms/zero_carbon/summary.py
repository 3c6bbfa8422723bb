"""The zero-carbon indicators as console lines (what `lingtan run` prints after a run): one line per site or park and
year, the energy indicators with their pass/fail mark and whether carbon neutrality may be claimed. Pure: frames of
the published marts in, text out."""

from __future__ import annotations

import polars as pl

# column header → the indicators it shows (site, park) and the basis prefix (None: the indicator's only basis)
COLUMNS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "CO2/tce phys": (("F1", "P1"), "physical"),
    "CO2/tce cert": (("F1", "P1"), "with certificates"),
    "clean %": (("F2", "P2"), None),
    "hourly %": (("F3",), None),
    "metered %": (("F4",), None),
    "PCF %": (("F5",), None),
    "offset %": (("F6",), None),
}
_PERCENT = {"clean %", "hourly %", "metered %", "PCF %", "offset %"}
_MARK = {"pass": " ✓", "fail": " ✗"}


def _cell(row: dict | None, header: str) -> str:
    if row is None:
        return ""
    if row["status"] == "no data" or row["value"] is None:
        return "no data"
    value = row["value"] * 100 if header in _PERCENT else row["value"]
    return (
        f"{value:.1f}{_MARK.get(row['status'], '')}"
        if header in _PERCENT
        else f"{value:.3f}{_MARK.get(row['status'], '')}"
    )


def summary_lines(indicators: pl.DataFrame, claims: pl.DataFrame | None = None) -> list[str]:
    """Header + one line per (level, entity, year) of `fct_zero_carbon_indicators` (P1/F1 on both bases, P2/F2,
    F3–F6; ✓/✗ where a threshold applies) and the claim decision of `fct_carbon_neutrality_claim`."""
    if indicators.is_empty():
        return []
    claim_of = {}
    if claims is not None:
        claim_of = {
            (r["level"], r["entity_id"], r["year"]): r["claim_allowed"] for r in claims.iter_rows(named=True)
        }
    widths = [6, 14, 6] + [max(len(h), 9) + 2 for h in COLUMNS] + [8]
    head = ["level", "entity", "year", *COLUMNS, "claim"]
    lines = [
        "".join(
            f"{h:<{w}}" if i < 3 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    ]
    rows = indicators.sort(
        "level", "entity_id", "year", "indicator_id", "basis", descending=[True, False, False, False, False]
    )
    for (level, entity, year), grp in rows.group_by(["level", "entity_id", "year"], maintain_order=True):
        by = {
            header: r
            for r in grp.iter_rows(named=True)
            for header, (ids, basis) in COLUMNS.items()
            if r["indicator_id"] in ids and (basis is None or r["basis"].startswith(basis))
        }
        claim = claim_of.get((level, entity, year))
        cells = [str(level), str(entity)[:13], str(year)] + [_cell(by.get(h), h) for h in COLUMNS]
        cells.append("" if claim is None else ("yes" if claim else "no"))
        lines.append(
            "".join(
                f"{c:<{w}}" if i < 3 else f"{c:>{w}}"
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    return lines
