"""Layers point down: no import cycle between ftkit's packages or modules, lazy imports included.

A module-level ``import`` and one inside a function (or under ``TYPE_CHECKING``)
are both edges: a lazy import hides a cycle from Python, not from the design.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ftkit"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ftkit modules ``name`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(
                    f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                )
    return {module for module in found if module in modules}


def _layer(module: str) -> str:
    """``ftkit.validation._engine`` -> ``ftkit.validation``; the root package is its own."""
    return ".".join(module.split(".")[:2])


@functools.cache  # parsed once for all the tests of this file
def _layer_graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            if _layer(target) not in (_layer(name), "ftkit"):
                graph.setdefault(_layer(name), set()).add(_layer(target))
    return {layer: frozenset(targets) for layer, targets in graph.items()}


def _cycle(graph: Mapping[str, Collection[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    cycle = _cycle(_layer_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


@functools.cache
def _module_graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    return {
        name: frozenset(_imports(name, path, modules) - {name}) for name, path in modules.items()
    }


def test_no_import_cycle_between_modules() -> None:
    """Inside a package too: ``from . import x`` in a module its ``__init__`` imports is a cycle."""
    cycle = _cycle(_module_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_module_graph_sees_imports_inside_functions() -> None:
    # ``ftkit metrics`` imports the pipeline only inside the function that runs it.
    assert "ftkit.pipeline" in _module_graph()["ftkit._commands.metrics"]


def test_the_check_sees_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("ftkit.cost", "ftkit.validation"),  # cost prices statistics; the pass is the validator's
        ("ftkit.tokens", "ftkit.cost"),
        ("ftkit.plots", "ftkit.validation"),  # plots take plain data
        ("ftkit.plots", "ftkit.cost"),
        ("ftkit.plots", "ftkit.pipeline"),
    ],
)
def test_lower_layer_does_not_import_higher(low: str, high: str) -> None:
    assert high not in _layer_graph().get(low, frozenset())
