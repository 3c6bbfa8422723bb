"""Benchmark case: write the demo landing zone (python -m tests.bench.demo_case LANDING SCALE)."""

import json
import sys
from pathlib import Path

from orchestration.demo import generate


def main() -> None:
    generate(Path(sys.argv[1]), scale=float(sys.argv[2]), seed=7)
    files = [p for p in Path(sys.argv[1]).rglob("*") if p.is_file()]
    print(json.dumps({"files": len(files), "mb": round(sum(p.stat().st_size for p in files) / 2**20, 1)}))


if __name__ == "__main__":
    main()
