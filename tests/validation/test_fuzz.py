"""Never a traceback: random bytes, random JSON and mutated records all produce a report.

The mutated records also check that the validator and the record models agree:
a line has no error finding exactly when ``parse_record`` accepts it, except for
the rules only the validator enforces (listed in docs/validation.md).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validate_support import VALIDATOR_ONLY

from ftkit import RecordError
from ftkit.schema import parse_record
from ftkit.validation import CODES, Severity, ValidationReport, validate

FILE_LEVEL = {"mixed_kinds", "method_mismatch", "empty_file", "too_few_examples"}

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)

KEYS = [
    "messages",
    "role",
    "content",
    "weight",
    "tool_calls",
    "tool_call_id",
    "name",
    "type",
    "function",
    "arguments",
    "id",
    "tools",
    "input",
    "preferred_output",
    "non_preferred_output",
    "text",
    "image_url",
    "url",
    "detail",
    "refusal",
    "functions",
    "function_call",
    "parallel_tool_calls",
    "preferred_completion",
]
VALUES = (
    st.sampled_from(
        [
            None,
            True,
            0,
            1,
            2,
            0.5,
            "",
            "user",
            "assistant",
            "system",
            "tool",
            "developer",
            "function",
            "x",
            "c1",
            "text",
            "image_url",
            "https://example.com/a.png",
            "low",
            "{}",
            '"{}"',
            "[1]",
            "<|endoftext|>",
            [],
            {},
            [{"type": "text", "text": "a"}],
        ]
    )
    | json_values
)

BASE: list[dict[str, Any]] = [
    {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a"},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "5", "weight": 0},
            {"role": "user", "content": "Again."},
            {"role": "assistant", "content": "4"},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Oslo?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "wx", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "-3C"},
            {"role": "assistant", "content": "-3 C"},
        ],
        "tools": [
            {"type": "function", "function": {"name": "wx", "parameters": {"type": "object"}}}
        ],
    },
    {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/a.png", "detail": "low"},
                    },
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "a chart"}]},
        ]
    },
    {
        "input": {
            "messages": [{"role": "user", "content": "Summarise X."}],
            "tools": [],
            "parallel_tool_calls": True,
        },
        "preferred_output": [{"role": "assistant", "content": "Short."}],
        "non_preferred_output": [{"role": "assistant", "content": "Long ramble."}],
    },
]


def _nodes(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) slot of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((value, key))
            _nodes(item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.append((value, index))
            _nodes(item, out)
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    record = json.loads(json.dumps(draw(st.sampled_from(BASE))))
    for _ in range(draw(st.integers(1, 3))):
        slots = _nodes(record, [])
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        value = json.loads(json.dumps(draw(VALUES)))  # a fresh copy: never a shared object
        if action == "replace":
            container[key] = value
        elif action == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.sampled_from(KEYS))] = value
        else:
            container.insert(key, value)
    return record


def _well_formed(report: ValidationReport) -> None:
    assert isinstance(report, ValidationReport)
    assert all(issue.code in CODES for issue in report.issues)
    json.dumps(report.to_dict())
    str(report)
    report._repr_html_()


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_file(data: bytes) -> None:
    handle, name = tempfile.mkstemp(suffix=".jsonl")
    try:
        os.write(handle, data)
        os.close(handle)
        _well_formed(validate(Path(name), model="gpt-4o-mini-2024-07-18"))
    finally:
        os.unlink(name)


@FUZZ
@given(st.lists(st.binary(max_size=80) | st.text(max_size=80), max_size=5))
def test_random_lines(lines: list[bytes | str]) -> None:
    _well_formed(validate(lines))


@FUZZ
@given(st.lists(json_values, min_size=1, max_size=4))
def test_random_json(values: list[Any]) -> None:
    _well_formed(validate([json.dumps(v) for v in values]))
    _well_formed(validate([v for v in values if isinstance(v, dict)]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_records_agree_with_the_record_models(record: dict[str, Any]) -> None:
    line = json.dumps(record)
    report = validate([line], model="gpt-4o-2024-08-06")
    _well_formed(report)
    errors = {i.code for i in report.issues if i.severity is Severity.ERROR and i.line is not None}
    shape_errors = errors - VALIDATOR_ONLY - FILE_LEVEL
    try:
        parse_record(line)
    except RecordError as exc:
        assert errors - FILE_LEVEL, f"the models reject ({exc}) but the validator does not"
    else:
        assert not shape_errors, f"the models accept but the validator reports {shape_errors}"


def test_the_documented_exceptions_are_real() -> None:
    # Each validator-only rule fires on a record that the models accept.
    lines = [
        {
            "messages": [
                {"role": "user", "content": "<|endoftext|>"},
                {"role": "assistant", "content": "a"},
            ]
        },
        {
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a", "weight": 0},
            ]
        },
        {
            "input": {"messages": [{"role": "user", "content": "q"}]},
            "preferred_output": [{"content": "a"}],
            "non_preferred_output": [{"role": "assistant", "content": "b"}],
        },
    ]
    for record in lines:
        parse_record(json.dumps(record))
        errors = {i.code for i in validate([record]).errors if i.line is not None}
        assert errors and errors <= VALIDATOR_ONLY
