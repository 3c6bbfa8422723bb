"""Console summary of the zero-carbon indicators (printed by `lingtan run`)."""

from __future__ import annotations

import polars as pl

from transforms.zero_carbon.summary import summary_lines


def test_summary_one_line_per_entity_year_with_marks_and_claim():
    ind = pl.DataFrame(
        {
            "level": ["site", "site", "site", "site", "park"],
            "entity_id": ["S1", "S1", "S1", "S1", "PK"],
            "year": ["2025"] * 5,
            "indicator_id": ["F1", "F1", "F3", "F6", "P2"],
            "basis": [
                "physical only",
                "with certificates",
                "hourly",
                "ratio",
                "physical + claimable certificates",
            ],
            "value": [2.5, 2.25, None, 1.2, 0.5],
            "status": ["no threshold", "no threshold", "no data", "pass", "fail"],
        }
    )
    claims = pl.DataFrame({"level": ["site"], "entity_id": ["S1"], "year": ["2025"], "claim_allowed": [True]})
    head, site, park = summary_lines(ind, claims)
    assert head.split()[:3] == ["level", "entity", "year"] and "offset %" in head
    assert site.split() == ["site", "S1", "2025", "2.500", "2.250", "no", "data", "120.0", "✓", "yes"]
    assert park.split() == ["park", "PK", "2025", "50.0", "✗"]
    assert summary_lines(ind.clear()) == []
