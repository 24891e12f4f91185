"""Progress: drawn only on a terminal outside CI; run progress shows status, steps and the ETA."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_support import EXAMPLES

from ftkit._progress import RunProgress, format_bytes, progress_bar, progress_wanted
from ftkit.cli import main
from ftkit.pipeline import RunEvent
from ftkit.polling import MessageEvent, MetricsEvent
from ftkit.validation import validate


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "wanted"),
    [
        (Terminal(), {}, True),
        (io.StringIO(), {}, False),  # a pipe or a file
        (Terminal(), {"CI": "true"}, False),
        (Terminal(), {"GITHUB_ACTIONS": "true"}, False),
        (Terminal(), {"TERM": "dumb"}, False),
        (Terminal(), {"FTKIT_PROGRESS": "0"}, False),
        (io.StringIO(), {"FTKIT_PROGRESS": "1"}, True),
        (Terminal(), {"CI": "1", "FTKIT_PROGRESS": "on"}, True),
    ],
)
def test_progress_wanted(stream: io.StringIO, env: dict[str, str], wanted: bool) -> None:
    assert progress_wanted(stream, env) is wanted


def test_format_bytes() -> None:
    assert format_bytes(999) == "999 B"
    assert format_bytes(1536) == "1.5 kB"
    assert format_bytes(52_400_000) == "52.4 MB"
    assert format_bytes(3e12) == "3,000.0 GB"


def test_silent_bar_draws_nothing_but_keeps_lines() -> None:
    stream = io.StringIO()
    with progress_bar("x", stream=stream, enabled=False) as bar:
        bar.update(5, total=10, info="half")
        bar.write("a line")
    assert stream.getvalue() == "a line\n"


def test_line_bar_shows_position_total_and_info() -> None:
    stream = io.StringIO()
    bar = progress_bar("validating a.jsonl", unit="B", stream=stream, enabled=True, style="line")
    bar.update(1_500, total=3_000, info="12 examples")
    bar.write("note")
    bar.update(3_000, total=3_000, info="24 examples")
    bar.close()
    text = stream.getvalue()
    assert "note\n" in text
    assert text.rstrip("\n").split("\r")[-1].strip() == (
        "validating a.jsonl 3.0 kB/3.0 kB 100%  24 examples"
    )


def test_rich_bar_renders_to_its_stream() -> None:
    pytest.importorskip("rich")  # the `progress` extra, part of `dev`
    stream = io.StringIO()
    bar = progress_bar("[sft] steps", stream=stream, enabled=True, style="rich")
    bar.update(45, total=90, info="running")
    bar.write("a message")
    bar.close()
    text = stream.getvalue()
    assert "a message" in text and "45/90" in text and "running" in text


def _metrics(step: int, at: int, total: int = 100, loss: float = 0.5) -> RunEvent:
    event = MetricsEvent(
        id=f"ev-{step}", created_at=at, step=step, total_steps=total, train_loss=loss
    )
    return RunEvent("job_event", "ftr-1", "sft", event.message, job_event=event)


def test_run_progress_plain_lines_about_every_tenth() -> None:
    stream = io.StringIO()
    show = RunProgress(stream, enabled=False)
    show(RunEvent("job_created", "ftr-1", "sft", "created job ftjob-1 (validating_files)"))
    show(RunEvent("status", "ftr-1", "sft", "job ftjob-1: queued", status="queued"))
    message = MessageEvent(id="m1", created_at=0, message="Fine-tuning job started")
    show(RunEvent("job_event", "ftr-1", "sft", message.message, job_event=message))
    for step in range(1, 101):
        show(_metrics(step, at=1_800_000_000 + 6 * step))
    show(RunEvent("stage_succeeded", "ftr-1", "sft", "sft finished: ft:x", status="succeeded"))
    lines = stream.getvalue().splitlines()
    steps = [line for line in lines if "step " in line]
    assert len(steps) == 10  # 10, 20, ..., 100
    # Steps reported before the status change are training, not "queued".
    assert steps[0].startswith("  [sft] step 10/100 (running, train_loss=0.5000, ETA ")
    assert steps[-1] == "  [sft] step 100/100 (running, train_loss=0.5000)"
    assert "  [sft] Fine-tuning job started" in lines
    assert lines[-1] == "  [sft] sft finished: ft:x"


def test_eta_prefers_the_providers_estimate_else_extrapolates() -> None:
    show = RunProgress(io.StringIO(), enabled=False)
    first, later = _metrics(10, at=1000), _metrics(20, at=1100)
    assert show.eta("sft", first.job_event) is None  # one point: no rate yet
    assert show.eta("sft", later.job_event) == 1100 + 80 * 10.0
    show(RunEvent("status", "ftr-1", "sft", "running", status="running", estimated_finish=5000))
    assert show.eta("sft", later.job_event) == 5000.0


def test_run_progress_with_a_bar_keeps_messages_above_it() -> None:
    stream = Terminal()
    show = RunProgress(stream, enabled=True, style="line")  # whatever CI's environment says
    show(_metrics(50, at=1_800_000_000))
    show(RunEvent("status", "ftr-1", "sft", "job ftjob-1: running", status="running"))
    show(_metrics(100, at=1_800_000_100))
    show(RunEvent("stage_succeeded", "ftr-1", "sft", "sft finished: ft:x"))
    show.close()
    text = stream.getvalue()
    assert "  [sft] job ftjob-1: running\n" in text
    assert "[sft] steps 100/100 100%  running, train_loss=0.5000" in text
    assert text.endswith("\n")


def test_validate_reports_bytes_and_examples(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    path = tmp_path / "big.jsonl"
    line = (EXAMPLES / "sarcasm_sft.jsonl").read_text().splitlines()[0]
    path.write_text((line + "\n") * 5000)
    report = validate(path, progress=lambda done, n: seen.append((done, n)))
    assert report.examples == 5000
    assert seen[-1] == (path.stat().st_size, 5000)
    assert len(seen) >= 2 and seen[0][0] < seen[-1][0]  # one report on the way, one at the end


def test_cli_validate_draws_a_bar_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FTKIT_PROGRESS", "1")
    monkeypatch.setattr("ftkit._progress._installed", lambda module: False)  # the plain line
    train, val = EXAMPLES / "sarcasm_sft.jsonl", EXAMPLES / "sarcasm_sft_validation.jsonl"
    assert main(["validate", str(train), "--validation", str(val)]) == 0
    captured = capsys.readouterr()
    assert "validating sarcasm_sft.jsonl" in captured.err and "30 examples" in captured.err
    assert "validating sarcasm_sft_validation.jsonl" in captured.err
    assert "validating" not in captured.out  # the report stays clean
    assert main(["validate", str(train), "--no-progress"]) == 0
    assert "validating" not in capsys.readouterr().err
