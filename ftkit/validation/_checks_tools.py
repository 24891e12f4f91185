"""Checks of the tools a record declares: ``tools``, legacy ``functions``, ``parallel_tool_calls``.

The names declared here are what the calls of the conversation may name
(``undeclared_tool``); SFT records declare them at the top level, DPO pairs in
their ``input``.
"""

from __future__ import annotations

from typing import Any

from ._checks_common import (
    FUNCTION_NAME,
    Emit,
    each_object,
    emit_unknown_keys,
    emit_unless_function,
    emit_wrong_type,
)

__all__ = ["check_tools"]

_TOOL_KEYS = frozenset({"type", "function"})
_FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
MAX_FUNCTIONS = 128

# Optional fields of a function definition: (key, type, how the message names it).
_DEFINITION_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("description", str, "a string"),
    ("parameters", dict, "a JSON Schema object"),
    ("strict", bool, "true or false"),
)


def check_tools(record: dict[str, Any], path: str, emit: Emit) -> set[str] | None:
    """Check ``tools``, ``functions`` and ``parallel_tool_calls``; return declared names.

    ``path`` is the prefix of the keys' paths (``""`` or ``"input."``); ``None`` is
    returned when the record declares neither ``tools`` nor ``functions``.
    """
    declared: set[str] | None = None
    tools = record.get("tools")
    if tools is not None:
        declared = set()
        _check_tool_list(tools, f"{path}tools", emit, declared)
    functions = record.get("functions")
    if functions is not None:
        declared = declared if declared is not None else set()
        _check_functions(functions, f"{path}functions", emit, declared)
    parallel = record.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        emit_wrong_type(
            emit,
            "wrong_type",
            f"{path}parallel_tool_calls",
            "parallel_tool_calls must be true or false",
            parallel,
        )
    return declared


def _check_tool_list(tools: Any, path: str, emit: Emit, declared: set[str]) -> None:
    if not isinstance(tools, list):
        emit_wrong_type(emit, "invalid_tool_definition", path, "tools must be an array", tools)
        return
    for where, tool in each_object(
        tools, path, emit, "invalid_tool_definition", "a tool must be an object"
    ):
        emit_unknown_keys(
            emit, tool, _TOOL_KEYS, where, "a tool definition", "invalid_tool_definition"
        )
        emit_unless_function(emit, tool, where, "invalid_tool_definition", "tool")
        if "function" not in tool:
            emit(
                "invalid_tool_definition",
                f"{where}.function",
                "the tool has no function definition",
                None,
            )
            continue
        name = _check_function_definition(tool["function"], f"{where}.function", emit)
        if name is not None:
            if name in declared:
                emit(
                    "duplicate_tool_name",
                    f"{where}.function.name",
                    f"tool {name!r} is declared twice",
                    None,
                )
            declared.add(name)


def _check_functions(functions: Any, path: str, emit: Emit, declared: set[str]) -> None:
    if not isinstance(functions, list):
        emit_wrong_type(
            emit, "invalid_tool_definition", path, "functions must be an array", functions
        )
        return
    emit("legacy_function_call", path, "functions is the deprecated form of tools", None)
    if len(functions) > MAX_FUNCTIONS:
        emit(
            "too_many_functions",
            path,
            f"{len(functions)} functions are declared; the maximum is {MAX_FUNCTIONS}",
            None,
        )
    for index, function in enumerate(functions):
        name = _check_function_definition(function, f"{path}[{index}]", emit)
        if name is not None:
            declared.add(name)


def _check_function_definition(function: Any, where: str, emit: Emit) -> str | None:
    """Check one function definition; return its name when it has a string one."""
    if not isinstance(function, dict):
        wanted = "a function definition must be an object"
        emit_wrong_type(emit, "invalid_tool_definition", where, wanted, function)
        return None
    emit_unknown_keys(
        emit, function, _FUNCTION_KEYS, where, "a function definition", "invalid_tool_definition"
    )
    name = function.get("name")
    if name is None:
        emit("invalid_tool_definition", f"{where}.name", "the function has no name", None)
    elif not isinstance(name, str):
        wanted = "name must be a string"
        emit_wrong_type(emit, "invalid_tool_definition", f"{where}.name", wanted, name)
    elif not FUNCTION_NAME.fullmatch(name):
        emit(
            "invalid_tool_definition",
            f"{where}.name",
            f"function name {name[:70]!r} must be 1-64 letters, digits, _ or -",
            None,
        )
    for key, kind, wanted in _DEFINITION_FIELDS:
        value = function.get(key)
        if value is not None and not isinstance(value, kind):
            emit_wrong_type(
                emit, "invalid_tool_definition", f"{where}.{key}", f"{key} must be {wanted}", value
            )
    return name if isinstance(name, str) else None
