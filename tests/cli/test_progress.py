"""Progress: drawn only on a terminal outside CI; run progress shows status, steps and the ETA."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_support import EXAMPLES

from ftkit._progress import RunProgress, format_bytes, progress_bar, progress_wanted
from ftkit.backend import MessageEvent, MetricsEvent
from ftkit.cli import main
from ftkit.pipeline import RunEvent
from ftkit.validation import validate


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(text: str, width: int = 80) -> list[str]:
    """What a terminal of ``width`` columns shows: ``\\r`` returns to the start of the
    current row (of a wrapped line: its last row), ``\\n`` starts a new one."""
    rows = [""]
    column = 0
    for char in text:
        if char == "\n":
            rows.append("")
            column = 0
        elif char == "\r":
            column = 0
        else:
            if column == width:  # wrap
                rows.append("")
                column = 0
            row = rows[-1]
            rows[-1] = row[:column] + char + row[column + 1 :]
            column += 1
    return [row.rstrip() for row in rows if row.strip()]


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
    stream = Terminal()
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


def test_line_bar_shows_its_final_line_once() -> None:
    # The last position is reported, lines are printed above it, then the bar closes
    # (twice, as a stage end and the command's cleanup may): the 100 % line shows once.
    stream = Terminal()
    bar = progress_bar("[sft] steps", stream=stream, enabled=True, style="line")
    bar.update(90, total=90, info="running")
    bar.write("  [sft] The job has successfully completed")
    bar.close()
    bar.close()
    assert screen(stream.getvalue()) == [
        "  [sft] The job has successfully completed",
        "[sft] steps 90/90 100%  running",
    ]


def test_line_bar_into_a_log_writes_no_redraws() -> None:
    # FTKIT_PROGRESS=1 into a file: lines pass through, the final state is written once.
    stream = io.StringIO()
    bar = progress_bar("[sft] steps", stream=stream, enabled=True, style="line")
    for step in (10, 50, 90):
        bar.update(step, total=90, info="running")
        bar.write(f"line {step}")
    bar.update(90, total=90, info="done")
    bar.close()
    assert "\r" not in stream.getvalue()
    assert stream.getvalue().splitlines() == [
        "line 10",
        "line 50",
        "line 90",
        "[sft] steps 90/90 100%  done",
    ]


def test_line_bar_is_cut_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # A wrapped line cannot be redrawn in place: every redraw would leave a copy.
    monkeypatch.setenv("COLUMNS", "40")
    stream = Terminal()
    bar = progress_bar("[sft] steps", stream=stream, enabled=True, style="line")
    bar.update(45, total=90, info="running, train_loss=0.3613, ETA 10:42 UTC")
    bar.write("a message")
    bar.close()
    assert screen(stream.getvalue(), width=40) == [
        "a message",
        "[sft] steps 45/90  50%  running, train_",
    ]


def test_rich_bar_renders_to_its_stream() -> None:
    pytest.importorskip("rich")  # the `progress` extra, part of `dev`
    stream = io.StringIO()
    bar = progress_bar("[sft] steps", stream=stream, enabled=True, style="rich")
    bar.update(45, total=90, info="running [queued earlier]")
    bar.write("a message")
    bar.close()
    text = stream.getvalue()
    assert "a message" in text and "45/90" in text
    # The stage name is text, not rich markup (it was swallowed as a style tag).
    assert "[sft] steps" in text and "running [queued earlier]" in text
    assert "elapsed 0:00:0" in text  # the time column says what it is


def test_rich_bar_shows_a_given_virtual_time() -> None:
    pytest.importorskip("rich")
    stream = io.StringIO()
    bar = progress_bar("[dpo] steps", stream=stream, enabled=True, style="rich")
    bar.virtual = True
    bar.update(90, total=90, info="done", elapsed=210)
    bar.close()
    assert "elapsed 0:03:30 (virtual)" in stream.getvalue()


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
    assert steps[0].startswith("  [sft] step 10/100: running, train_loss=0.5000, ETA ")
    assert steps[0].endswith(" UTC")  # a real clock: no "virtual"
    assert steps[-1] == "  [sft] step 100/100: running, train_loss=0.5000"
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
    # The stage's end leaves the bar at 100 % saying done, once, above the stage's last line.
    assert screen(text) == [
        "  [sft] job ftjob-1: running",
        "[sft] steps 100/100 100%  done, train_loss=0.5000",
        "  [sft] sft finished: ft:x",
    ]


def test_run_progress_bar_is_done_at_100_percent_even_if_the_last_step_was_missed() -> None:
    stream = Terminal()
    show = RunProgress(stream, enabled=True, style="line")
    show(_metrics(97, at=1_800_000_000))
    show(RunEvent("stage_succeeded", "ftr-1", "sft", "sft finished: ft:x"))
    assert screen(stream.getvalue())[0] == "[sft] steps 100/100 100%  done, train_loss=0.5000"


def test_run_progress_bar_says_how_a_failed_stage_ended() -> None:
    stream = Terminal()
    show = RunProgress(stream, enabled=True, style="line")
    show(_metrics(40, at=1_800_000_000))
    show(RunEvent("stage_failed", "ftr-1", "sft", "job ftjob-1 failed", status="failed"))
    assert screen(stream.getvalue()) == [
        "[sft] steps 40/100  40%  failed, train_loss=0.5000",
        "  [sft] job ftjob-1 failed",
    ]


def test_run_progress_labels_virtual_time() -> None:
    plain = io.StringIO()
    show = RunProgress(plain, enabled=False, virtual_time=True)
    for step in (10, 20):
        show(_metrics(step, at=1_800_000_000 + 6 * step))
    assert plain.getvalue().splitlines()[-1].endswith(" UTC (virtual)")

    bar = Terminal()
    show = RunProgress(bar, enabled=True, style="line", virtual_time=True)
    show(_metrics(10, at=1_800_000_000))
    show(_metrics(100, at=1_800_000_000 + 540))
    show(RunEvent("stage_succeeded", "ftr-1", "sft", "sft finished: ft:x"))
    # The elapsed time is the job's own, on the fake's clock, and says so.
    assert "100%  elapsed 0:09:00 (virtual)  done" in bar.getvalue()


def test_run_progress_leaves_the_result_to_the_command() -> None:
    stream = io.StringIO()
    show = RunProgress(stream, enabled=False)
    show(RunEvent("run_succeeded", "ftr-1", None, "run ftr-1 finished: ft:x"))
    assert stream.getvalue() == ""


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
