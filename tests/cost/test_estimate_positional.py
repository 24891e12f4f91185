"""``ftkit.estimate(path, model)`` is called like ``ftkit.validate(path, model)``."""

from __future__ import annotations

from pathlib import Path

import pytest

import ftkit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"


def test_model_may_be_given_by_position_or_by_name() -> None:
    path = EXAMPLES / "sarcasm_sft.jsonl"
    positional = ftkit.estimate(path, MODEL)
    named = ftkit.estimate(path, model=MODEL)
    assert positional == named
    assert positional.examples > 0 and positional.billed_tokens > 0
    assert ftkit.estimate(path, MODEL, epochs=2).epochs == 2


def test_options_after_the_model_stay_keywords() -> None:
    with pytest.raises(TypeError):
        ftkit.estimate(EXAMPLES / "sarcasm_sft.jsonl", MODEL, 2)  # type: ignore[call-arg]
