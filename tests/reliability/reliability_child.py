"""A separate process driving the pipeline against a fake *server*, for kill and lock tests.

Usage::

    python reliability_child.py run  API ADDRESS STATE_DIR SFT VALIDATION DPO
    python reliability_child.py hold API ADDRESS STATE_DIR RUN_ID

``API`` is the surface (``openai``, ``azure-dated``, ``azure-v1``, ``together``,
``fireworks``) and ``ADDRESS`` what its client needs (``reliability_support.Api.address``:
a base URL, or the Azure endpoint for the dated API; Fireworks' account comes from
``FIREWORKS_ACCOUNT_ID``, as its SDK reads it). ``run`` trains SFT → DPO from scratch;
``hold`` resumes an existing run and, at its first pause, prints ``holding`` and
waits for a line on stdin before going on (so the parent knows the run's lock is
held). Waiting is virtual: every pause moves the server's clock through its
``/_fake/advance`` control endpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx2
import openai

import ftkit
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy

API_KEY = "sk-proj-CHILD-PROCESS-0123456789abcdef"
MODEL = "gpt-4.1-mini-2025-04-14"
#: The base model a run trains on each API (Together and Fireworks train open models).
MODELS = {
    "together": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
    "fireworks": "accounts/fireworks/models/llama-v3p1-8b-instruct",
}
AZURE_API_VERSION = "2025-04-01-preview"


def connect(api: str, address: str) -> Any:
    """The SDK client of ``api`` at ``address`` (no SDK retries: ftkit's policy retries)."""
    if api == "together":
        import together

        return together.Together(base_url=address, api_key=API_KEY, max_retries=0)
    if api == "fireworks":
        import fireworks

        return fireworks.Fireworks(base_url=address, api_key=API_KEY, max_retries=0)
    if api == "azure-dated":
        return openai.AzureOpenAI(
            azure_endpoint=address,
            api_version=AZURE_API_VERSION,
            api_key=API_KEY,
            max_retries=0,
        )
    return openai.OpenAI(base_url=address, api_key=API_KEY, max_retries=0)


def main(argv: list[str]) -> int:
    mode, api, address, state_dir = argv[0], argv[1], argv[2], Path(argv[3])
    url = httpx2.URL(address)
    control = httpx2.Client(base_url=f"{url.scheme}://{url.netloc.decode('ascii')}")
    held = False

    def advance(seconds: float) -> None:
        nonlocal held
        if mode == "hold" and not held:
            held = True
            print("holding", flush=True)
            sys.stdin.readline()
        control.post("/_fake/advance", json={"seconds": seconds}).raise_for_status()

    client = connect(api, address)
    retry = RetryPolicy(max_attempts=4, sleep=advance)
    poll = PollPolicy(initial_delay=20.0, max_delay=60.0, sleep=advance)
    if mode == "run":
        sft, validation, dpo = argv[4:7]
        result = (
            ftkit.FineTune(client)
            .model(MODELS.get(api, MODEL))
            .sft(sft, validation=validation, epochs=1)
            .dpo(dpo, beta=0.2, epochs=1)
            .retry(retry)
            .poll(poll)
            .state_dir(state_dir)
            .run()
        )
    else:
        result = ftkit.Run.resume(
            argv[4], client, state_dir=state_dir, retry=retry, poll=poll
        ).wait()
    print(f"done {result.fine_tuned_model}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
