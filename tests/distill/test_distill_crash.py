"""A distillation process killed mid-way (SIGKILL), then run again: nothing twice, nothing lost.

The fake serves on loopback from this process, so its request log counts the chat
calls of both the killed process and the re-run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from distill_support import BASE, JSON_FILE, chat_calls, rows

from ftkit.dataset import Dataset
from ftkit.distill import JOURNAL_SUFFIX, generate
from ftkit.testing import FakeFineTuningAPI, FakeServer

# Killed after its k-th answer: right after the answer is written ("answered"), or
# between its journal line and its line in out ("between"), the narrowest window.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import openai
    from ftkit.distill import _journal, generate

    base_url, prompts, out, where, k = sys.argv[1:6]
    k = int(k)
    client = openai.OpenAI(base_url=base_url, api_key="sk-fake-crash", max_retries=0)
    lines = [0]

    if where == "between":
        append = _journal.Journal._append

        def dying(handle, line):
            if handle.name == out:
                lines[0] += 1
                if lines[0] == k:
                    os.kill(os.getpid(), signal.SIGKILL)
            append(handle, line)

        _journal.Journal._append = staticmethod(dying)

    def progress(p):
        if where == "answered" and p.done == k:
            os.kill(os.getpid(), signal.SIGKILL)

    generate(client, prompts, model=sys.argv[6], out=out, concurrency=1, progress=progress)
    """
)


@pytest.fixture
def served() -> Iterator[tuple[FakeFineTuningAPI, FakeServer]]:
    fake = FakeFineTuningAPI()
    with fake.serve() as server:
        yield fake, server


@pytest.mark.parametrize("where", ["answered", "between"])
def test_a_killed_run_resumes_without_asking_twice_or_losing_an_answer(
    served: tuple[FakeFineTuningAPI, FakeServer], tmp_path: Path, where: str
) -> None:
    import openai

    fake, server = served
    out = tmp_path / "distilled.jsonl"
    killed = subprocess.run(
        [sys.executable, "-c", SCRIPT, server.base_url, str(JSON_FILE), str(out), where, "6", BASE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(chat_calls(fake)) == 6
    written = rows(out)  # a training file even now: whole lines only
    assert len(written) == (6 if where == "answered" else 5)
    Dataset.load(out)

    client = openai.OpenAI(base_url=server.base_url, api_key="sk-fake-crash", max_retries=0)
    result = generate(client, JSON_FILE, model=BASE, out=out, concurrency=3)
    calls = chat_calls(fake)
    source = rows(JSON_FILE)
    assert len(calls) == len(source)  # no prompt answered twice
    asked = sorted(json.dumps(b["messages"], sort_keys=True) for b in calls)
    in_out = sorted(json.dumps(r["messages"][:-1], sort_keys=True) for r in rows(out))
    assert in_out == asked  # none lost: every answer paid for is in the file, once
    assert result.reused == 6 and result.asked == len(source) - 6
    assert result.kept == len(source)
    journal = out.with_name(out.name + JOURNAL_SUFFIX).read_text("utf-8").splitlines()
    assert len(journal) == 1 + len(source)
