"""Every module of the product packages imports on its own, and the module import graph has no cycle.

The graph is read from the source (ast), function-level imports included: a cycle hidden by an import inside
a function still couples two modules both ways, and works only as long as nobody moves the import.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("transforms", "orchestration", "expectations")
# The Dagster entry point loads the defs folder by path (dg.load_from_defs_folder), which is no import edge.


def module_files() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The product module `name` names, or None for a third-party one (`a.b.c` of a function → `a.b`)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Product modules that `module` imports anywhere in its source (top level, functions, TYPE_CHECKING
    blocks excepted: they never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package
                base = module.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            # `from pkg import sub` imports the submodule when there is one, else a name of pkg
            names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target and target != module:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {m: imports_of(m, p, modules) for m, p in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 50 and graph["orchestration.pipeline"]  # the walk found the product's modules
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    modules = {"a": tmp_path / "a.py", "a.b": tmp_path / "b.py", "a.c": tmp_path / "c.py"}
    modules["a.b"].write_text("def f():\n    from a.c import x\n", encoding="utf-8")
    modules["a.c"].write_text("from . import b\nimport polars\n", encoding="utf-8")
    graph = {m: imports_of(m, p, modules) for m, p in modules.items() if p.exists()}
    assert graph == {"a.b": {"a.c"}, "a.c": {"a.b"}}
    assert find_cycle(graph) == ["a.b", "a.c", "a.b"]


@pytest.mark.parametrize("module", sorted(module_files()))
def test_every_module_imports(module):
    importlib.import_module(module)
