"""One entry point for all CBAM reference tables: `build_all(source_dir, out_dir)`.

`source_dir` holds the Commission's files as in reference/cbam/ (default_values.xlsx, benchmarks.xlsx, legal/*.txt);
`out_dir` is normally dbt_project/seeds/reference. Upgrading to a newer official workbook = replace the file and
rerun; the builders stop with a `SourceError` when a source no longer looks as expected. The lead's CLI wires this
to `lingtan refdata build --source DIR`; `python -m tools.refbuild.build --source DIR` works too.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tools.refbuild import benchmarks, cn_goods, default_values, grid_factors, methodology
from transforms.reference.seeds import REFERENCE_DIR


def build_all(source_dir: Path, out_dir: Path) -> dict[str, int]:
    """Build every CBAM reference CSV; returns rows written per table."""
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    derived = default_values.derive(source_dir)
    counts = default_values.write(derived, out_dir)
    counts |= cn_goods.build(source_dir, out_dir, derived.records, derived.workbook_version)
    counts |= grid_factors.build(source_dir, out_dir)
    counts |= benchmarks.build(source_dir, out_dir)
    counts |= methodology.build(source_dir, out_dir)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder laid out like reference/cbam/")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="where the CSVs go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for table, rows in build_all(args.source, args.out).items():
        print(f"{table}: {rows} rows")


if __name__ == "__main__":
    main()
