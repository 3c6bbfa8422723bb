"""`lingtan sql`: the DuckDB command-line shell (PyPI `duckdb-cli`, same version as the engine), read-only on
the published warehouse copy, so a nightly build never waits for an analyst and an analyst never sees a
half-built file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def duckdb_cli() -> str:
    here = Path(sys.prefix) / "bin" / "duckdb"
    return str(here) if here.exists() else (shutil.which("duckdb") or "duckdb")


def shell_args(warehouse: Path) -> list[str]:
    db = warehouse.stem
    return [
        duckdb_cli(),
        "-readonly",
        str(warehouse),
        "-cmd",
        f"USE {db}.marts;",
        "-cmd",
        ".prompt 'lingtan> '",
    ]


def open_shell(warehouse: Path) -> int:
    args = shell_args(warehouse)
    if sys.stdin.isatty():
        os.execv(args[0], args)  # hand the terminal to the shell
    return subprocess.call(args)
