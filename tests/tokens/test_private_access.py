"""No ftkit module reads a private attribute of the tokenizer packages.

A private name (``encoding._core_bpe``, ``tiktoken._tiktoken``) can change in any
release without notice; ftkit counts tokens through public APIs only. The scan
reads every module's syntax tree: imports of a private module or name, attribute
reads whose name is one of the package's private names, and the strings given to
``getattr``/``hasattr`` or naming a private module.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import ftkit
from ftkit.tokens.encoding import get_encoding

PACKAGE = Path(ftkit.__file__).resolve().parent

ALLOWED = {("tokens/_fast.py", "bpe_openai", "_bindings")}
"""The one exception, explained in ``ftkit/tokens/_fast.py``: bpe-openai has no public
counter fast enough to accelerate tiktoken; its compiled module is used behind a
vocabulary hash and a self-test."""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_names(package: str, *instances: object) -> frozenset[str]:
    """Every private name the package's modules, their classes and ``instances`` carry."""
    root = importlib.import_module(package)
    modules: list[ModuleType] = [root]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), f"{package}."):
        modules.append(importlib.import_module(info.name))
    names = {info.rsplit(".", 1)[-1] for info in (m.__name__ for m in modules)}
    objects: list[object] = [*modules, *instances]
    for module in modules:
        objects += [value for _, value in inspect.getmembers(module, inspect.isclass)]
    for obj in objects:
        names.update(dir(obj))
    return frozenset(name for name in names if _private(name))


def _violations(tree: ast.AST, package: str, private: frozenset[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def private_path(dotted: str) -> str | None:
        parts = dotted.split(".")
        if parts[0] != package:
            return None
        return next((part for part in parts[1:] if _private(part)), None)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if name := private_path(alias.name):
                    found.append((node.lineno, name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if name := private_path(node.module):
                found.append((node.lineno, name))
            elif node.module.split(".")[0] == package:
                found += [(node.lineno, a.name) for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and node.attr in private:
            receiver = node.value
            if not (isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")):
                found.append((node.lineno, node.attr))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in private
        ):
            found.append((node.lineno, str(node.args[1].value)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (name := private_path(node.value))
        ):
            found.append((node.lineno, name))
    return found


def _scan(package: str, private: frozenset[str]) -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for line, name in _violations(ast.parse(path.read_text("utf-8")), package, private):
            if (relative, package, name) not in ALLOWED:
                problems.append(f"ftkit/{relative}:{line} reads {package}'s private {name}")
    return problems


@pytest.fixture(scope="module")
def tiktoken_private() -> frozenset[str]:
    encoding = get_encoding("o200k_base")
    names = _private_names("tiktoken", encoding) | _private_names("tiktoken_ext")
    assert {"_core_bpe", "_tiktoken", "_mergeable_ranks"} <= names
    return names


def test_no_module_reads_a_private_attribute_of_tiktoken(tiktoken_private: frozenset[str]) -> None:
    assert _scan("tiktoken", tiktoken_private) == []
    assert _scan("tiktoken_ext", tiktoken_private) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # bpe_openai's own resource calls
def test_bpe_openai_is_used_through_its_compiled_module_only() -> None:
    names = _private_names("bpe_openai")
    assert "_bindings" in names
    assert _scan("bpe_openai", names) == []


@pytest.mark.parametrize(
    "code",
    [
        "to_buffer = getattr(getattr(encoding, '_core_bpe', None), 'encode', None)",
        "n = len(enc._core_bpe.encode_ordinary(text))",
        "ranks = encoding._mergeable_ranks",
        "from tiktoken._tiktoken import CoreBPE",
        "from tiktoken import _tiktoken",
        "import tiktoken._educational",
        "module = importlib.import_module('tiktoken._tiktoken')",
    ],
)
def test_the_scan_sees_private_reads(code: str, tiktoken_private: frozenset[str]) -> None:
    assert _violations(ast.parse(code), "tiktoken", tiktoken_private)


def test_the_scan_ignores_public_reads_and_own_attributes(
    tiktoken_private: frozenset[str],
) -> None:
    code = (
        "import tiktoken.load\n"
        "from tiktoken.load import read_file_cached\n"
        "n = len(encoding.encode_ordinary(text))\n"
        "self._special_tokens = {}\n"
    )
    assert _violations(ast.parse(code), "tiktoken", tiktoken_private) == []
