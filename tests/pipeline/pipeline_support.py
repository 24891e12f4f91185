"""Helpers for pipeline tests: a fake API on a virtual clock and builders wired to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ftkit
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy
from ftkit.testing import FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"


@dataclass
class Env:
    """A fake service, the policies that sleep on its clock, and a place for manifests."""

    fake: FakeFineTuningAPI
    state_dir: Path
    events: list[ftkit.RunEvent] = field(default_factory=list)

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=6, sleep=self.fake.clock.sleep, clock=self.fake.clock.now)

    @property
    def poll(self) -> PollPolicy:
        return PollPolicy(
            initial_delay=10.0,
            max_delay=60.0,
            sleep=self.fake.clock.sleep,
            clock=self.fake.clock.now,
        )

    def builder(
        self, client: object | None = None, *, asynchronous: bool = False
    ) -> ftkit.FineTune:
        kind = ftkit.AsyncFineTune if asynchronous else ftkit.FineTune
        default = (
            self.fake.async_client(max_retries=0)
            if asynchronous
            else self.fake.client(max_retries=0)
        )
        return (
            kind(client if client is not None else default)  # type: ignore[return-value]
            .model(MODEL)
            .retry(self.retry)
            .poll(self.poll)
            .state_dir(self.state_dir)
            .on_event(self.events.append)
        )

    def resume(self, run_id: str) -> ftkit.Run:
        """``ftkit.Run.resume(run_id)`` on the fake, with this environment's policies."""
        return ftkit.Run.resume(
            run_id,
            self.fake.client(max_retries=0),
            state_dir=self.state_dir,
            retry=self.retry,
            poll=self.poll,
        )

    def jobs_for(self, run_id: str, stage: str) -> list[dict[str, object]]:
        return [
            j
            for j in self.fake.jobs
            if (j.get("metadata") or {}).get("ftkit_run") == run_id
            and (j.get("metadata") or {}).get("ftkit_stage") == stage
        ]


class SimulatedCrash(BaseException):
    """Stands for the process dying at a step boundary (not an Exception: nothing catches it)."""
