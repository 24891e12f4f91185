"""Helpers for distillation tests: the example data, a teacher trained on the fake, policies."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ftkit.backend import ChatAnswer, OpenAIChat, Request
from ftkit.retry import RetryPolicy
from ftkit.testing import FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
BASE = "gpt-4.1-mini-2025-04-14"
JSON_FILE = EXAMPLES / "json_extraction_sft.jsonl"
TOOLS_FILE = EXAMPLES / "tool_calling_sft.jsonl"


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def retry_on(fake: FakeFineTuningAPI, attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, sleep=fake.clock.sleep, clock=fake.clock.now)


def train(fake: FakeFineTuningAPI, path: Path, *, model: str = BASE) -> str:
    """Fine-tune ``model`` on ``path`` in the fake and return the ``ft:`` name (the teacher)."""
    client = fake.client(max_retries=0)
    file = client.files.create(file=("train.jsonl", path.read_bytes()), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=model, training_file=file.id)
    fake.advance(100_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model
    return done.fine_tuned_model


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
