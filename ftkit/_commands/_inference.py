"""What the inference commands (``eval``, ``distill``) share: progress lines, a fake fine-tune."""

from __future__ import annotations

from typing import Any

from .._exceptions import UsageError

__all__ = ["progress_lines", "train_on_fake"]


def progress_lines(stream: Any, verb: str) -> Any:
    """A progress callback printing about ten ``<verb> done/total`` lines, and the last one."""
    last = [-1]

    def show(progress: Any) -> None:
        step = max(1, progress.total // 10)
        if progress.done == 0:
            return
        if progress.done != progress.total and progress.done // step == last[0]:
            return
        last[0] = progress.done // step
        extra = f", {progress.reused} reused" if progress.reused else ""
        extra += f", {progress.errors} failed" if progress.errors else ""
        print(f"  {verb} {progress.done}/{progress.total}{extra}", file=stream)

    return show


def train_on_fake(fake: Any, client: Any, base: str, train: str, stream: Any) -> str:
    """Fine-tune ``base`` on ``train`` in ``fake`` (``--fake-train``); the ``ft:`` model.

    The run's manifest goes to a folder of its own, deleted after: the stand-in is
    the command's scaffolding, not a run of the user's.
    """
    import tempfile

    from ..pipeline import FineTune
    from ..polling import PollPolicy
    from ..retry import RetryPolicy

    clock = fake.clock
    with tempfile.TemporaryDirectory(prefix="ftkit-fake-train-") as state:
        result = (
            FineTune(client)
            .model(base)
            .sft(train)
            .retry(RetryPolicy(sleep=clock.sleep, clock=clock.now))
            .poll(
                PollPolicy(initial_delay=30.0, max_delay=300.0, sleep=clock.sleep, clock=clock.now)
            )
            .state_dir(state)
            .run()
        )
    if not result.fine_tuned_model:
        raise UsageError("the fake training run produced no model")
    print(f"  trained {result.fine_tuned_model} on the fake", file=stream)
    return result.fine_tuned_model
