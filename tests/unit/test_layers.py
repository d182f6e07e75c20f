"""The import direction of docs/architecture.md holds: no import runs upward, no cycles.

The rings are known by package: the outer ring of ``runtime`` is every module under
``runtime.cli``, ``runtime.testing``, ``runtime.service``, ``runtime.temporal`` and
``runtime.backends``; the engine core is the rest of ``runtime``. Cycles are looked for
twice: among modules, and among the imports that run, each counted with the package
``__init__``s it runs.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("asl", "runtime", "integrations", "visualizer")
#: The outer ring (CLI, Python API, API server, execution backends) may use everything.
OUTER_RING = (
    "runtime.cli",
    "runtime.testing",
    "runtime.service",
    "runtime.temporal",
    "runtime.backends",
)
#: What the engine core may know of the integrations: their contract.
INTEGRATION_CONTRACT = "integrations.base"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _is_outer(module: str) -> bool:
    return any(_within(module, package) for package in OUTER_RING)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or path.is_dir()


def _imported_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module an ``ImportFrom`` names, relative ones resolved."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """The statements under ``if TYPE_CHECKING:``, which never run."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        name = node.test.id if isinstance(node.test, ast.Name) else getattr(node.test, "attr", None)
        if name == "TYPE_CHECKING":
            skipped.update(inner for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def _imports(path: Path, *, run_only: bool = False) -> set[str]:
    """What a module imports (with ``run_only``, not what only the type checker reads)."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree) if run_only else set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _imported_from(node, module, is_package)
            # `from pkg import submodule` depends on the submodule, not on pkg/__init__.
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if _is_module(sub) else source)
    return {name for name in found if name.split(".")[0] in PACKAGES}


@functools.cache  # parsing every module is most of these tests' time; they only read it
def _graph(*, run_only: bool = False) -> nx.DiGraph:
    graph = nx.DiGraph()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = _module_name(path)
            graph.add_node(module)
            for target in _imports(path, run_only=run_only):
                graph.add_edge(module, target)
    return graph


def _allowed(source: str, target: str) -> bool:
    top = source.split(".")[0]
    target_top = target.split(".")[0]
    if _is_outer(source):
        return True
    if top == "runtime":  # the engine core
        if target_top == "runtime":
            return not _is_outer(target)
        return target_top == "asl" or _within(target, INTEGRATION_CONTRACT)
    if target_top == top:
        return True
    if top in ("integrations", "visualizer"):
        return target_top == "asl"
    return False  # asl imports nothing of ours outside asl


def _upward(edges: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{s} -> {t}" for s, t in edges if not _allowed(s, t)]


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [c for c in nx.simple_cycles(graph) if len(c) > 1]


def test_the_rings_are_where_the_test_looks() -> None:
    graph = _graph()
    assert graph.number_of_nodes() > 10
    for package in ("runtime.cli", "runtime.testing", "runtime.temporal"):
        assert package in graph
        assert (ROOT / package.replace(".", "/") / "__init__.py").exists()
    assert "runtime.cli.app" in graph
    assert "runtime.executions" in graph
    assert not _is_outer("runtime.executions")
    assert not _is_outer("runtime.clinic")  # a prefix of a name is not its package


def test_no_import_runs_upward() -> None:
    assert _upward(_graph().edges) == []


def test_no_module_cycles() -> None:
    # A package importing its own submodules from __init__ is not a cycle of concern
    # unless a submodule imports the package back; count only real cycles.
    assert _cycles(_graph()) == []


def _packages_run(source: str, target: str) -> list[str]:
    """The packages whose ``__init__`` importing ``target`` from ``source`` runs first:
    its enclosing packages, but for those enclosing ``source`` too (already running)."""
    parts = target.split(".")
    ancestors = [".".join(parts[:n]) for n in range(1, len(parts))]
    return [p for p in ancestors if not _within(source, p)]


def _graph_with_package_inits() -> nx.DiGraph:
    """The imports that run, each with the package ``__init__``s it runs."""
    graph = _graph(run_only=True)
    for source, target in list(graph.edges):
        graph.add_edges_from((source, package) for package in _packages_run(source, target))
    return graph


def test_no_cycles_through_package_inits() -> None:
    # runtime.testing.test_state once imported runtime.service.definitions in a function:
    # at module level that import runs runtime/service/__init__, whose server imports
    # runtime.testing back. Counting each import's package __init__s finds such a loop.
    assert _cycles(_graph_with_package_inits()) == []


def test_package_inits_are_counted() -> None:
    assert _packages_run("runtime.testing.test_state", "runtime.service.definitions") == [
        "runtime.service"
    ]
    assert _packages_run("runtime.testing.test_state", "runtime.testing.local") == []


def test_the_checker_sees_each_kind_of_wrong_import() -> None:
    wrong = [
        ("runtime.executions", "runtime.cli.app"),  # core -> outer ring
        ("runtime.states.task", "runtime.testing"),  # core -> outer ring
        ("runtime.host", "runtime.service.server"),  # core -> a later outer package
        ("runtime.clock", "runtime.temporal.host"),  # core -> the Temporal backend
        ("runtime.host", "integrations.lambdas"),  # core -> a concrete integration
        ("runtime.host", "integrations"),  # core -> the package, not the contract
        ("runtime.history", "visualizer.trace"),
        ("asl.model", "runtime.executions"),
        ("asl.model", "integrations.base"),
        ("visualizer.dot", "runtime.history"),
        ("visualizer.dot", "integrations.base"),
        ("integrations.lambdas", "runtime.host"),
    ]
    right = [
        ("runtime.cli.app", "integrations.lambdas"),
        ("runtime.cli.local_run", "runtime.testing"),
        ("runtime.testing.local", "runtime.executions"),
        ("runtime.backends.local", "visualizer.render"),
        ("runtime.host", "integrations.base"),
        ("runtime.host", "runtime.clock"),
        ("runtime.states.task", "asl.errors"),
        ("integrations.http", "asl.http_task"),
        ("visualizer.trace", "asl.events"),
        ("asl.compile", "asl.model"),
    ]
    assert _upward(wrong) == [f"{s} -> {t}" for s, t in wrong]
    assert _upward(right) == []
    loop = nx.DiGraph([("runtime.a", "runtime.b"), ("runtime.b", "runtime.a")])
    assert _cycles(loop) != []


def test_relative_imports_are_resolved() -> None:
    node = ast.parse("from ..cli import app").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _imported_from(node, "runtime.states.task", is_package=False) == "runtime.cli"
    node = ast.parse("from . import clock").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _imported_from(node, "runtime", is_package=True) == "runtime"
