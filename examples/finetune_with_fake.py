"""SFT → DPO on ftkit's in-process fake fine-tuning API: no key, no network, virtual time.

Run it from the repository root:

    python examples/finetune_with_fake.py

It prints the plan (reports and cost), one line per tenth of each job, and the
model. The fake's client carries the fake's virtual clock, so polling and
retries wait on it with no wiring. Swap ``fake.client(...)`` for
``openai.OpenAI()`` (or ``openai.AzureOpenAI(...)``) to train for real.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import ftkit
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy
from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI

DATA = Path(__file__).resolve().parent / "data"
MODEL = "gpt-4.1-mini-2025-04-14"


def main() -> int:
    # 2026-11-02 on the fake's clock: its OpenAI snapshots train whatever today's date is.
    fake = FakeFineTuningAPI(clock=FakeClock(DEFAULT_START))
    with tempfile.TemporaryDirectory() as state:
        ft = (
            ftkit.FineTune(fake.client(max_retries=0))
            .model(MODEL)
            .sft(DATA / "sarcasm_sft.jsonl", validation=DATA / "sarcasm_sft_validation.jsonl")
            .dpo(DATA / "sarcasm_dpo.jsonl", beta=0.1)
            .suffix("marv")
            .retry(RetryPolicy(max_attempts=6))
            .poll(PollPolicy(initial_delay=30.0, max_delay=120.0))
            .state_dir(state)
        )

        plan = ft.plan()
        print(plan)
        if not plan.ok:
            return 1

        def progress(event: ftkit.RunEvent) -> None:
            step = getattr(event.job_event, "step", None)
            total = getattr(event.job_event, "total_steps", None)
            if step is not None and total:
                if step % max(1, total // 10) == 0:
                    print(f"  [{event.stage}] step {step}/{total}")
            elif event.type != "job_event":
                print(f"  [{event.stage or 'run'}] {event.message}")

        result = ft.on_event(progress).run(max_cost_usd=5)
        print(result)
        for stage in result.stages:
            last = stage.metrics[-1] if stage.metrics else {}
            print(f"  {stage.name}: final train_loss {last.get('train_loss')}")
    print(f"fine-tuned model: {result.fine_tuned_model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
