"""Where reference data and build-time code live (issue 9): one reference package over one seed folder read by
both Python and dbt; builders in tools/, which nothing at run time imports; product modules under 500 lines."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from transforms.paths import DBT_DIR, REPO_ROOT
from transforms.reference.seeds import REFERENCE_DIR

MAX_LINES = 500


def _py_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_dbt_seeds_and_python_read_the_same_folder():
    project = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    seed_dirs = [(DBT_DIR / p).resolve() for p in project.get("seed-paths", ["seeds"])]
    assert any(REFERENCE_DIR.resolve().is_relative_to(d) for d in seed_dirs), (REFERENCE_DIR, seed_dirs)
    assert sorted(REFERENCE_DIR.glob("cbam_*.csv")), "no CBAM seed tables in REFERENCE_DIR"


@pytest.mark.parametrize(
    "old",
    [
        "transforms.countries",
        "transforms.goods",
        "transforms.cbam.refdata",
        "transforms.refbuild",
        "transforms.logistics.sea_routes",
    ],
)
def test_no_module_left_at_an_old_path(old: str):
    assert importlib.util.find_spec(old) is None, f"{old} moved (transforms.reference / tools.refbuild)"


def test_reference_package_reexports_nothing():
    """Callers import the module that holds the rule, so `transforms.reference` itself defines no names."""
    import transforms.reference as pkg

    # submodules appear as attributes once imported; anything else would be a re-export
    public = {n for n, v in vars(pkg).items() if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert not public, public


def test_product_code_never_imports_tools():
    offenders = [
        f"{p.relative_to(REPO_ROOT)}: {m}"
        for p in _py_files("transforms")
        for m in _imported_modules(p)
        if m == "tools" or m.startswith("tools.")
    ]
    assert not offenders, offenders


def test_transforms_modules_stay_under_the_size_limit():
    too_long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in _py_files("transforms")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these modules (limit {MAX_LINES} lines): {too_long}"
