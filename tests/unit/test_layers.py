"""The import direction of docs/architecture.md holds: no import runs upward, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("asl", "runtime", "integrations", "visualizer")
# The outermost ring (CLI, API server, demo) may use everything.
OUTERMOST = (
    "runtime.cli",
    "runtime.service",
    "runtime.demo",
    "runtime.testing",
    "runtime.local_run",
    "runtime.render_command",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import submodule` depends on the submodule, not on pkg/__init__.
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (ROOT / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / sub.replace(".", "/")
                ).is_dir()
                found.add(sub if is_module else node.module)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = _module_name(path)
            graph.add_node(module)
            for target in _imports(path):
                graph.add_edge(module, target)
    return graph


def _allowed(source: str, target: str) -> bool:
    top = source.split(".")[0]
    target_top = target.split(".")[0]
    if target_top == top or source.startswith(OUTERMOST):
        return True
    if top == "integrations" or top == "visualizer":
        return target_top == "asl"
    if top == "runtime":
        return target_top == "asl" or target == "integrations.base" or target == "integrations"
    return False  # asl imports nothing of ours outside asl


def test_no_import_runs_upward() -> None:
    graph = _graph()
    wrong = [f"{s} -> {t}" for s, t in graph.edges if not _allowed(s, t)]
    assert graph.number_of_nodes() > 10
    assert wrong == []


def test_no_module_cycles() -> None:
    graph = _graph()
    # A package importing its own submodules from __init__ is not a cycle of concern
    # unless a submodule imports the package back; count only real cycles.
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert cycles == []
