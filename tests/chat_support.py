"""Helpers for chat tests on the fake (evaluation, distillation): data, a trained model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftkit.retry import RetryPolicy
from ftkit.testing import FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
BASE = "gpt-4.1-mini-2025-04-14"
JSON_FILE = EXAMPLES / "json_extraction_sft.jsonl"
TOOLS_FILE = EXAMPLES / "tool_calling_sft.jsonl"


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def retry_on(fake: FakeFineTuningAPI, attempts: int = 5) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, sleep=fake.clock.sleep, clock=fake.clock.now)


def train(fake: FakeFineTuningAPI, path: Path, *, model: str = BASE) -> str:
    """Fine-tune ``model`` on ``path`` in the fake and return the ``ft:`` name."""
    client = fake.client(max_retries=0)
    file = client.files.create(file=("train.jsonl", path.read_bytes()), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=model, training_file=file.id)
    fake.advance(100_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model
    return done.fine_tuned_model
