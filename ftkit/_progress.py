"""Progress for the command line: a bar on a terminal, silence in pipes and CI.

A bar is drawn only when its stream is a terminal, ``CI`` is unset and
``TERM`` is not ``dumb`` (``FTKIT_PROGRESS=0`` turns it off, ``=1`` forces
it). It uses ``rich`` when installed (the ``progress`` extra), else one
plain line redrawn with ``\\r``; rich is imported only then.

:class:`RunProgress` turns a run's events into that display: per stage the
job status, step/total, the latest loss and the estimated finish, and the
run's messages as lines above the bar (or, without a bar, as plain lines
about every tenth of a job, which is what logs and CI keep).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

__all__ = ["Bar", "RunProgress", "format_bytes", "progress_bar", "progress_wanted"]

_CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD")
_REDRAW_SECONDS = 0.1
_BEFORE_TRAINING = ("validating_files", "queued")


def progress_wanted(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a progress bar belongs on ``stream`` (default stderr): a terminal, not CI."""
    env = os.environ if environ is None else environ
    forced = env.get("FTKIT_PROGRESS", "").strip().lower()
    if forced in ("0", "false", "no", "off"):
        return False
    if forced in ("1", "true", "yes", "on"):
        return True
    if any(env.get(name) for name in _CI_VARIABLES) or env.get("TERM") == "dumb":
        return False
    target = sys.stderr if stream is None else stream
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def format_bytes(count: float) -> str:
    """``1536`` → ``"1.5 kB"`` (powers of 1000, like rich and tqdm)."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


class Bar:
    """A progress display that shows nothing: lines written to it still go to the stream.

    Every bar has this interface; :func:`progress_bar` picks the implementation.
    """

    def __init__(self, description: str, stream: TextIO) -> None:
        self.description = description
        self.stream = stream
        self.completed = 0.0
        self.total: float | None = None
        self.info = ""

    def update(self, completed: float, *, total: float | None = None, info: str = "") -> None:
        """Set the position (absolute, not an increment), the total and a short status text."""
        self.completed = completed
        if total is not None:
            self.total = total
        self.info = info

    def write(self, line: str) -> None:
        """Print a line (above the bar, when one is drawn)."""
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """Leave the final state on screen and stop redrawing."""

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LineBar(Bar):
    """One line redrawn with ``\\r``: for a terminal without rich."""

    def __init__(self, description: str, stream: TextIO, unit: str) -> None:
        super().__init__(description, stream)
        self._unit = unit
        self._drawn = 0.0
        self._width = 0

    def update(self, completed: float, *, total: float | None = None, info: str = "") -> None:
        super().update(completed, total=total, info=info)
        now = time.monotonic()
        if now - self._drawn >= _REDRAW_SECONDS:
            self._drawn = now
            self._draw()

    def _text(self) -> str:
        show = format_bytes if self._unit == "B" else (lambda n: f"{n:,.0f}")
        where = show(self.completed) + (f"/{show(self.total)}" if self.total else "")
        percent = f" {100 * self.completed / self.total:3.0f}%" if self.total else ""
        return f"{self.description} {where}{percent}" + (f"  {self.info}" if self.info else "")

    def _draw(self) -> None:
        text = self._text()
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def write(self, line: str) -> None:
        self.stream.write("\r" + " " * self._width + "\r")
        print(line, file=self.stream)
        self._width = 0
        self._draw()

    def close(self) -> None:
        self._draw()
        self.stream.write("\n")
        self.stream.flush()


class _RichBar(Bar):
    def __init__(self, description: str, stream: TextIO, unit: str) -> None:
        super().__init__(description, stream)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        counter = DownloadColumn() if unit == "B" else MofNCompleteColumn()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            counter,
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(file=stream, highlight=False),
            transient=False,
        )
        self._task = self._progress.add_task(description, total=None, info="")
        self._progress.start()

    def update(self, completed: float, *, total: float | None = None, info: str = "") -> None:
        super().update(completed, total=total, info=info)
        self._progress.update(self._task, completed=completed, total=self.total, info=info)

    def write(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        self._progress.stop()


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def progress_bar(
    description: str,
    *,
    unit: str = "",
    stream: TextIO | None = None,
    enabled: bool | None = None,
    style: str | None = None,
) -> Bar:
    """A bar for long work; silent when :func:`progress_wanted` says no.

    Args:
        description: what is progressing, shown left of the bar.
        unit: ``"B"`` for bytes (shown as kB/MB), else a plain count.
        stream: where to draw (default stderr).
        enabled: force the bar on or off (default :func:`progress_wanted`).
        style: ``"rich"`` or ``"line"`` (default: rich when installed).
    """
    target = sys.stderr if stream is None else stream
    if not (progress_wanted(target) if enabled is None else enabled):
        return Bar(description, target)
    if style is None:
        style = "rich" if _installed("rich") else "line"
    kinds: dict[str, Callable[[str, TextIO, str], Bar]] = {"rich": _RichBar, "line": _LineBar}
    return kinds[style](description, target, unit)


def _clock_text(seconds: float, reference: float) -> str:
    stamp = time.gmtime(seconds)
    same_day = time.gmtime(reference)[:3] == stamp[:3]
    return time.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC", stamp)


class RunProgress:
    """An ``on_event`` callback that shows a run: messages, and per stage a bar of steps.

    Args:
        stream: where to write (the CLI passes stdout, or stderr with ``--json``).
        enabled: draw bars (default: when ``stream`` is a terminal outside CI);
            without bars, step lines are printed about every tenth of a job.
        style: the bar implementation (see :func:`progress_bar`).
    """

    def __init__(
        self, stream: TextIO, *, enabled: bool | None = None, style: str | None = None
    ) -> None:
        self.stream = stream
        self.enabled = progress_wanted(stream) if enabled is None else enabled
        self.style = style
        self._bars: dict[str, Bar] = {}
        self._status: dict[str, str] = {}
        self._finish: dict[str, int] = {}
        self._first_step: dict[str, tuple[int, int]] = {}

    def __call__(self, event: Any) -> None:
        stage = event.stage or ""
        if event.type == "status":
            self._status[stage] = event.status or ""
            if event.estimated_finish:
                self._finish[stage] = int(event.estimated_finish)
        job_event = event.job_event
        step = getattr(job_event, "step", None)
        if job_event is not None and step is not None:
            self._step(stage, job_event, int(step))
            return
        if event.type == "job_event" and job_event is None:
            return
        prefix = f"[{stage}] " if stage else ""
        self._write(f"  {prefix}{event.message}")
        if event.type in ("stage_succeeded", "stage_failed"):
            bar = self._bars.pop(stage, None)
            if bar is not None:
                bar.close()

    def close(self) -> None:
        """Stop every bar still drawn (a run that stopped early)."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()

    def eta(self, stage: str, job_event: Any) -> float | None:
        """When the stage's job should end: the provider's estimate, else extrapolated.

        The extrapolation uses the provider's own event times between the first
        step seen and this one, so it also holds on a virtual clock.
        """
        if stage in self._finish:
            return float(self._finish[stage])
        step, total, at = job_event.step, job_event.total_steps, job_event.created_at
        first = self._first_step.setdefault(stage, (step, at))
        if not total or step <= first[0] or at <= first[1]:
            return None
        per_step = (at - first[1]) / (step - first[0])
        return float(at + (total - step) * per_step)

    def _step(self, stage: str, job_event: Any, step: int) -> None:
        total = job_event.total_steps
        eta = self.eta(stage, job_event)
        status = self._status.get(stage)
        # Events are told before the status change they led to: a job reporting steps
        # is training even if its last status seen was still queued.
        parts = [status if status and status not in _BEFORE_TRAINING else "running"]
        loss = getattr(job_event, "train_loss", None)
        if loss is not None:
            parts.append(f"train_loss={loss:.4f}")
        if eta is not None and step != total:
            parts.append(f"ETA {_clock_text(eta, job_event.created_at)}")
        info = ", ".join(parts)
        if self.enabled:
            bar = self._bars.get(stage)
            if bar is None:
                bar = self._bars[stage] = progress_bar(
                    f"[{stage}] steps", stream=self.stream, enabled=True, style=self.style
                )
            bar.update(step, total=total, info=info)
            return
        # About ten lines per job, plus the last step.
        if total and step != total and step % max(1, total // 10):
            return
        shown = f"step {step}/{total}" if total else f"step {step}"
        print(f"  [{stage}] {shown} ({info})", file=self.stream, flush=True)

    def _write(self, line: str) -> None:
        bars = list(self._bars.values())
        if bars:
            bars[-1].write(line)
        else:
            print(line, file=self.stream, flush=True)
