"""A separate process driving the pipeline against a fake *server*, for kill and lock tests.

Usage::

    python reliability_child.py run  BASE_URL STATE_DIR SFT VALIDATION DPO
    python reliability_child.py hold BASE_URL STATE_DIR RUN_ID

``run`` trains SFT → DPO from scratch; ``hold`` resumes an existing run and, at
its first pause, prints ``holding`` and waits for a line on stdin before going
on (so the parent knows the run's lock is held). Waiting is virtual: every pause
moves the server's clock through its ``/_fake/advance`` control endpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx2
import openai

import ftkit
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy

API_KEY = "sk-proj-CHILD-PROCESS-0123456789abcdef"
MODEL = "gpt-4.1-mini-2025-04-14"


def main(argv: list[str]) -> int:
    mode, base_url, state_dir = argv[0], argv[1], Path(argv[2])
    control = httpx2.Client(base_url=base_url.removesuffix("/v1"))
    held = False

    def advance(seconds: float) -> None:
        nonlocal held
        if mode == "hold" and not held:
            held = True
            print("holding", flush=True)
            sys.stdin.readline()
        control.post("/_fake/advance", json={"seconds": seconds}).raise_for_status()

    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
    retry = RetryPolicy(max_attempts=4, sleep=advance)
    poll = PollPolicy(initial_delay=20.0, max_delay=60.0, sleep=advance)
    if mode == "run":
        sft, validation, dpo = argv[3:6]
        result = (
            ftkit.FineTune(client)
            .model(MODEL)
            .sft(sft, validation=validation, epochs=1)
            .dpo(dpo, beta=0.2, epochs=1)
            .retry(retry)
            .poll(poll)
            .state_dir(state_dir)
            .run()
        )
    else:
        result = ftkit.Run.resume(
            argv[3], client, state_dir=state_dir, retry=retry, poll=poll
        ).wait()
    print(f"done {result.fine_tuned_model}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
