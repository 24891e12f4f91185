"""Helpers the fake's tests share: training files, an openai client on a transport, a server."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def cli_server(*flags: str) -> Iterator[str]:
    """Run ``ftkit fake-server FLAGS`` in a subprocess; yields its first line of output.

    The wait for that line is bounded: a broken server fails the test, not hangs it.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "ftkit", "fake-server", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        stdout = proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        yield lines.get(timeout=60)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
