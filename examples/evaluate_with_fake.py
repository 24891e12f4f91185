"""Split, train, evaluate: the whole fine-tuning loop, offline, on ftkit's fake API.

Holds out a test set from the sports-headline extraction data, fine-tunes
gpt-4.1-mini on the rest (on the fake, in virtual time), then compares the
fine-tuned model with its base on the held-out headlines, field by field.

Run it from the repository root::

    python examples/evaluate_with_fake.py

The fake's fine-tuned model has "learned" its training data; on unseen
headlines it answers like its nearest training example, so it keeps the JSON
format and sometimes the common values, but misses the names. The base model
answers in prose. The fake's client carries its virtual clock, so waits and
retries take no time. Against a real API, pass ``client=openai.OpenAI()``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ftkit
from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI

DATA = Path(__file__).resolve().parent / "data" / "json_extraction_sft.jsonl"
BASE = "gpt-4.1-mini-2025-04-14"


def main() -> None:
    train, test = ftkit.Dataset.load(DATA).split(test_size=0.25, seed=7)
    print(f"{len(train)} training examples, {len(test)} held out for testing")

    # 2026-11-02 on the fake's clock: its OpenAI snapshots train whatever today's date is.
    fake = FakeFineTuningAPI(clock=FakeClock(DEFAULT_START))
    client = fake.client(max_retries=0)

    with tempfile.TemporaryDirectory() as work:
        train_file = train.write(Path(work) / "train.jsonl")
        result = (
            ftkit.FineTune(client)
            .model(BASE)
            .sft(train_file)
            .poll(initial_delay=30.0)
            .state_dir(Path(work) / "runs")
            .run()
        )
        print(result)

        # Base vs fine-tuned on the held-out set, with the run's own client; replies are
        # logged under eval-results/, so an interrupted evaluation resumes where it stopped.
        report = result.evaluate(test, scorer="json-fields", out=Path(work) / "eval-results")
        # Scoring again (does the reply parse as JSON at all?) reuses the logged replies.
        formats = result.evaluate(test, scorer="json", out=Path(work) / "eval-results")
    print(report)
    print(formats)
    print(f"  (re-scored without asking again: {formats.asked} new requests)")
    for example in report.examples[:3]:
        print(f"\nreference:  {example.reference}")
        for label, reply in example.replies.items():
            print(f"{label + ':':<11} {reply.reply}  (score {reply.score:.2f})")


if __name__ == "__main__":
    main()
