"""The run summary's ingest table keeps its columns apart whatever the counts (a scale-100 meter dataset printed
`71,240,44871,240,443` when the columns were a fixed 10 characters wide)."""

import re

from orchestration.cli import ingest_table


def test_columns_stay_apart_and_aligned_for_large_counts() -> None:
    rows = [("meter_readings", 71_240_448, 71_240_443, 5, 71_240_443), ("parks", 2, 2, 0, 2)]
    header, _, big, small = ingest_table(rows)
    assert re.split(r"\s{2,}", big.strip()) == [
        "meter_readings",
        "71,240,448",
        "71,240,443",
        "5",
        "71,240,443",
    ]
    assert len({len(header), len(big), len(small)}) == 1  # right-aligned to the same edges
    assert big.index("71,240,448") + len("71,240,448") == header.index("read") + len("read")


def test_small_counts_keep_the_usual_widths() -> None:
    header, sub, row = ingest_table([("parks", 2, 2, 0, 2)])
    assert header == f"{'dataset':<24}{'read':>10}{'accepted':>10}{'quarantined':>12}{'current rows':>14}"
    assert sub.rstrip().endswith("(new drops this run)") and len(sub) == 24 + 32
    assert row == f"{'parks':<24}{2:>10}{2:>10}{0:>12}{2:>14}"
