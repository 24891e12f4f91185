"""Helpers the fake's tests share: training files, and an openai client on a transport."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2
import openai

LINES = "\n".join(
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
    )
    for i in range(10)
).encode()
"""A valid ten-example SFT file (the minimum the service accepts)."""


def sft_lines(n: int, *, offset: int = 0) -> bytes:
    """An SFT file of ``n`` arithmetic examples, numbered from ``offset``."""
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"What is {i}+{i}?"},
                {"role": "assistant", "content": str(2 * i)},
            ]
        }
        for i in range(offset, offset + n)
    ]
    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


def sdk_client(
    transport: Callable[[httpx2.Request], httpx2.Response], *, api_key: str
) -> openai.OpenAI:
    """A plain ``openai.OpenAI`` (no retries) whose every request goes to ``transport``."""
    return openai.OpenAI(
        api_key=api_key,
        base_url="https://api.example.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(transport)),
        max_retries=0,
    )
