"""docs/validation.md documents every code of the registry, and its examples are real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftkit.validation import CODES, validate

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
_SECTION = re.compile(r"^### `([a-z0-9_]+)`\n(.*?)(?=^### |^## |\Z)", re.M | re.S)
_EXAMPLE = re.compile(
    r"^Example(?: \(validated with `--model ([^`]+)`\))?:\n\n```jsonl\n(.*?)```", re.M | re.S
)


def _sections() -> dict[str, str]:
    return dict(_SECTION.findall(DOC.read_text(encoding="utf-8")))


def test_every_code_is_documented_once_and_nothing_else() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = re.findall(r"^### `([a-z0-9_]+)`", text, re.M)
    assert len(headings) == len(set(headings))
    assert set(headings) == set(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_section_states_severity_and_fix(code: str) -> None:
    body = _sections()[code]
    assert body.lstrip().startswith(f"**{CODES[code].severity.value}**")
    assert "\nFix: " in body
    assert "Example" in body


_RUNNABLE = sorted(code for code, body in _sections().items() if _EXAMPLE.search(body))


def test_most_codes_have_a_runnable_example() -> None:
    # Only size-, environment- and two-file-dependent codes are described in prose.
    assert set(CODES) - set(_RUNNABLE) == {
        "invalid_utf8",
        "utf16_file",
        "binary_file",
        "line_too_complex",
        "method_mismatch",
        "uses_uploads_api",
        "file_too_large",
        "too_many_functions",
        "too_many_examples",  # 3 million lines
        "image_too_large",
        "example_too_long",
        "tokens_unavailable",
        "train_validation_overlap",
        "train_validation_near_overlap",
        "system_prompt_mismatch",  # needs the inference prompt; a Python example runs it
        "provider_refused",  # a provider's answer, never a local file's
    }


@pytest.mark.parametrize("code", _RUNNABLE)
def test_documented_example_reports_its_code(code: str, tmp_path: Path) -> None:
    match = _EXAMPLE.search(_sections()[code])
    assert match is not None
    model, block = match.group(1), match.group(2)
    path = tmp_path / "example.jsonl"
    path.write_text(block, encoding="utf-8")
    report = validate(path, model=model)
    assert code in report.counts, str(report)
