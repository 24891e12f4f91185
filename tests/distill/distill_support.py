"""Helpers for distillation tests (the data, a teacher trained on the fake and the policies
are the evaluation tests' too: ``chat_support``)."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from chat_support import BASE, EXAMPLES, JSON_FILE, TOOLS_FILE, retry_on, rows, train

__all__ = [
    "BASE",
    "EXAMPLES",
    "JSON_FILE",
    "TOOLS_FILE",
    "Rewriting",
    "chat_calls",
    "held_by_another_process",
    "last_user",
    "retry_on",
    "rows",
    "train",
]

from ftkit.backend import ChatAnswer, OpenAIChat, Request
from ftkit.testing import FakeFineTuningAPI


def chat_calls(fake: FakeFineTuningAPI) -> list[dict[str, Any]]:
    """The bodies of the chat completions the fake answered (each a paid answer)."""
    return [r.json for r in fake.calls("chat.completions.create") if r.status == 200 and r.json]


def last_user(body: Mapping[str, Any]) -> str:
    return str(next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user"))


@dataclasses.dataclass
class Rewriting:
    """A :class:`~ftkit.backend.ChatBackend` over the fake whose answers a test rewrites.

    The fake never refuses; ``rewrite(last user message, answer)`` turns some answers
    into what a real teacher sometimes returns (a refusal, an empty or cut answer).
    """

    chat: OpenAIChat
    rewrite: Callable[[str, ChatAnswer], ChatAnswer]

    def complete(self, params: Mapping[str, Any]) -> Request[ChatAnswer]:
        request = self.chat.complete(params)
        question = last_user(params)
        translate = request.translate
        return dataclasses.replace(
            request, translate=lambda raw: self.rewrite(question, translate(raw))
        )


@contextlib.contextmanager
def held_by_another_process(lock: Path) -> Iterator[None]:
    """``lock`` held by a live child process (as a writer in flight holds it), then killed."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ftkit._process_lock import "
            "ProcessLock; held = ProcessLock(Path(sys.argv[1]), RuntimeError).acquire(); "
            "print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
