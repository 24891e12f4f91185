"""Progress for the command line: a bar on a terminal, silence in pipes and CI.

A bar is drawn only when its stream is a terminal, ``CI`` is unset and
``TERM`` is not ``dumb`` (``FTKIT_PROGRESS=0`` turns it off, ``=1`` forces
it). It uses ``rich`` when installed (the ``progress`` extra), else one
plain line redrawn with ``\\r``; rich is imported only then.

:class:`RunProgress` turns a run's events into that display: per stage the
job status, step/total, the latest loss and the estimated finish, and the
run's messages as lines above the bar (or, without a bar, as plain lines
about every tenth of a job, which is what logs and CI keep). When a stage
ends its bar shows ``done`` (or how the job ended) and is left on screen once.

Times are labelled: a bar's clock is ``elapsed``; on a fake API's virtual
clock (``virtual_time=True``) the elapsed time and the ETA are the job's own
times on that clock, and say ``virtual``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

__all__ = [
    "Bar",
    "RunProgress",
    "format_bytes",
    "format_elapsed",
    "progress_bar",
    "progress_wanted",
]

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
        self.elapsed: float | None = None
        """Seconds to show as elapsed; ``None`` shows the time since the bar started."""
        self.virtual = False
        """The elapsed time is on a virtual clock (labelled so)."""

    def update(
        self,
        completed: float,
        *,
        total: float | None = None,
        info: str = "",
        elapsed: float | None = None,
    ) -> None:
        """Set the position (absolute, not an increment), the total and a short status text.

        ``elapsed`` replaces the bar's own clock (for work timed by someone else).
        """
        self.completed = completed
        if total is not None:
            self.total = total
        self.info = info
        if elapsed is not None:
            self.elapsed = elapsed
        self._changed()

    def _changed(self) -> None:
        """Show the new state (a drawn bar redraws here; the plain bar prints nothing)."""

    def write(self, line: str) -> None:
        """Print a line (above the bar, when one is drawn)."""
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """Leave the final state on screen and stop redrawing."""

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_elapsed(seconds: float) -> str:
    """``3725`` → ``"1:02:05"`` (hours:minutes:seconds, like rich's elapsed column)."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _clock_label(bar: Bar, seconds: float) -> str:
    return f"elapsed {format_elapsed(seconds)}" + (" (virtual)" if bar.virtual else "")


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):  # not a real terminal
        return shutil.get_terminal_size().columns


class _LineBar(Bar):
    """One line redrawn with ``\\r``: for a terminal without rich.

    The line is redrawn only when its text changed, and cut to the terminal's
    width (a wrapped line cannot be redrawn in place: it would repeat). On a
    stream that is not a terminal (``FTKIT_PROGRESS=1`` into a log) nothing is
    redrawn: the lines pass through and the final state is written once, at
    :meth:`close`.
    """

    def __init__(self, description: str, stream: TextIO, unit: str) -> None:
        super().__init__(description, stream)
        self._unit = unit
        self._drawn = 0.0
        self._width = 0
        self._shown: str | None = None  # the text on screen, None once cleared
        self._closed = False
        try:
            self._live = bool(stream.isatty())
        except (AttributeError, ValueError):
            self._live = False

    def _changed(self) -> None:
        now = time.monotonic()
        if self._live and now - self._drawn >= _REDRAW_SECONDS:
            self._drawn = now
            self._draw()

    def _text(self) -> str:
        show = format_bytes if self._unit == "B" else (lambda n: f"{n:,.0f}")
        where = show(self.completed) + (f"/{show(self.total)}" if self.total else "")
        percent = f" {100 * self.completed / self.total:3.0f}%" if self.total else ""
        # Only a time given by the caller is shown: the line stays the same for the same state.
        clock = f"  {_clock_label(self, self.elapsed)}" if self.elapsed is not None else ""
        return f"{self.description} {where}{percent}{clock}" + (
            f"  {self.info}" if self.info else ""
        )

    def _draw(self) -> None:
        text = self._text()
        if self._live:
            text = text[: max(10, _columns(self.stream) - 1)]
        if text == self._shown:
            return
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self._shown = text
        self.stream.write(("\r" if self._live else "") + text + " " * pad)
        self.stream.flush()

    def write(self, line: str) -> None:
        if self._closed or not self._live:
            print(line, file=self.stream, flush=True)
            return
        self.stream.write("\r" + " " * self._width + "\r")
        print(line, file=self.stream)
        self._width = 0
        self._shown = None
        self._draw()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
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
            ProgressColumn,
            TextColumn,
        )
        from rich.text import Text

        bar = self

        class ClockColumn(ProgressColumn):
            """``elapsed 0:01:02``: the bar's own clock, or the time it was given."""

            def render(self, task: Any) -> Text:
                seconds = bar.elapsed if bar.elapsed is not None else (task.elapsed or 0.0)
                return Text(_clock_label(bar, seconds), style="progress.elapsed")

        counter = DownloadColumn() if unit == "B" else MofNCompleteColumn()
        self._progress = Progress(
            # Descriptions such as "[sft] steps" are text, not rich markup.
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            counter,
            ClockColumn(),
            TextColumn("{task.fields[info]}", markup=False),
            console=Console(file=stream, highlight=False),
            transient=False,
        )
        self._task = self._progress.add_task(description, total=None, info="")
        self._progress.start()
        self._closed = False

    def _changed(self) -> None:
        self._progress.update(
            self._task, completed=self.completed, total=self.total, info=self.info
        )

    def write(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
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


_ENDED = {"stage_succeeded": "done", "stage_failed": "failed"}


class RunProgress:
    """An ``on_event`` callback that shows a run: messages, and per stage a bar of steps.

    Args:
        stream: where to write (the CLI passes stdout, or stderr with ``--json``).
        enabled: draw bars (default: when ``stream`` is a terminal outside CI);
            without bars, step lines are printed about every tenth of a job.
        style: the bar implementation (see :func:`progress_bar`).
        virtual_time: the run is on a fake API's virtual clock: the bar's elapsed
            time is the job's time on that clock and every time says ``virtual``.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        style: str | None = None,
        virtual_time: bool = False,
    ) -> None:
        self.stream = stream
        self.enabled = progress_wanted(stream) if enabled is None else enabled
        self.style = style
        self.virtual_time = virtual_time
        self._bars: dict[str, Bar] = {}
        self._status: dict[str, str] = {}
        self._finish: dict[str, int] = {}
        self._first_step: dict[str, tuple[int, int]] = {}
        self._first_seen: dict[str, float] = {}
        self._loss: dict[str, str] = {}

    def __call__(self, event: Any) -> None:
        stage = event.stage or ""
        if event.type == "status":
            self._status[stage] = event.status or ""
            if event.estimated_finish:
                self._finish[stage] = int(event.estimated_finish)
        if event.type == "run_succeeded":
            return  # the command prints the result right after: saying it here repeats it
        job_event = event.job_event
        if job_event is not None and getattr(job_event, "created_at", None) is not None:
            self._first_seen.setdefault(stage, float(job_event.created_at))
        step = getattr(job_event, "step", None)
        if job_event is not None and step is not None:
            self._step(stage, job_event, int(step))
            return
        if event.type == "job_event" and job_event is None:
            return
        prefix = f"[{stage}] " if stage else ""
        line = f"  {prefix}{event.message}"
        if event.type in _ENDED:
            bar = self._bars.pop(stage, None)
            if bar is not None:
                self._end(bar, event)
                # The bar's final state stays above the stage's last word.
                print(line, file=self.stream, flush=True)
                return
        self._write(line)

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

    def _end(self, bar: Bar, event: Any) -> None:
        """Leave the bar on its final state: ``done`` (at 100 %), or how the job ended."""
        word = _ENDED[event.type]
        if event.type == "stage_failed" and event.status:
            word = str(event.status)
        completed = bar.completed
        if event.type == "stage_succeeded" and bar.total:
            completed = bar.total
        loss = self._loss.get(event.stage or "")
        bar.update(completed, info=f"{word}, {loss}" if loss else word)
        bar.close()

    def _virtual(self, text: str) -> str:
        return f"{text} (virtual)" if self.virtual_time else text

    def _step(self, stage: str, job_event: Any, step: int) -> None:
        total = job_event.total_steps
        eta = self.eta(stage, job_event)
        status = self._status.get(stage)
        # Events are told before the status change they led to: a job reporting steps
        # is training even if its last status seen was still queued.
        parts = [status if status and status not in _BEFORE_TRAINING else "running"]
        loss = getattr(job_event, "train_loss", None)
        if loss is not None:
            self._loss[stage] = f"train_loss={loss:.4f}"
            parts.append(self._loss[stage])
        if eta is not None and step != total:
            parts.append(self._virtual(f"ETA {_clock_text(eta, job_event.created_at)}"))
        info = ", ".join(parts)
        if self.enabled:
            bar = self._bars.get(stage)
            if bar is None:
                bar = self._bars[stage] = progress_bar(
                    f"[{stage}] steps", stream=self.stream, enabled=True, style=self.style
                )
                bar.virtual = self.virtual_time
            # On a virtual clock the bar's own (real) clock says nothing: show the job's time.
            elapsed = None
            if self.virtual_time and stage in self._first_seen:
                elapsed = float(job_event.created_at) - self._first_seen[stage]
            bar.update(step, total=total, info=info, elapsed=elapsed)
            return
        # About ten lines per job, plus the last step.
        if total and step != total and step % max(1, total // 10):
            return
        shown = f"step {step}/{total}" if total else f"step {step}"
        print(f"  [{stage}] {shown}: {info}", file=self.stream, flush=True)

    def _write(self, line: str) -> None:
        bars = list(self._bars.values())
        if bars:
            bars[-1].write(line)
        else:
            print(line, file=self.stream, flush=True)
