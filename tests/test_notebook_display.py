"""Notebook forms: every ``_repr_html_`` is a compact, escaped table; ``to_pandas()`` frames."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

import ftkit
from ftkit.pipeline import RunResult, RunStatus
from ftkit.testing import FakeFineTuningAPI
from ftkit.validation import validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"
EVIL = "<script>alert(1)</script>"


class Tables(HTMLParser):
    """Collects table cells and checks that tags nest and close."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.headers: list[str] = []
        self.cells: list[str] = []
        self.tags: set[str] = set()
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.open.append(tag)
        if tag in ("td", "th"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag in ("td", "th") and self._text is not None:
            (self.headers if tag == "th" else self.cells).append("".join(self._text))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def parse(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    tables.close()
    assert not tables.open, f"unclosed: {tables.open}"
    assert "script" not in tables.tags
    assert html.startswith("<div class='ftkit'>")
    return tables


@pytest.fixture
def evil_file(tmp_path: Path) -> Path:
    """A file whose content and name carry markup: the HTML must show it, not run it."""
    path = tmp_path / "evil<b>.jsonl"
    row = {"messages": [{"role": "user", "content": "q"}, {"role": EVIL, "content": "a"}]}
    path.write_text(json.dumps(row) + "\n")
    return path


def test_validation_report_html_escapes_everything(evil_file: Path) -> None:
    report = validate(evil_file)
    html = report._repr_html_()
    tables = parse(html)
    assert "&lt;script&gt;" in html
    assert "unknown_role" in tables.cells
    assert {"line", "severity", "code", "path", "message", "fix"} <= set(tables.headers)
    assert "&lt;b&gt;" in html  # the file name, in the summary line


def test_validation_report_html_with_tokens_cost_and_validation_file() -> None:
    report = validate(
        EXAMPLES / "sarcasm_sft.jsonl",
        model=MODEL,
        validation=EXAMPLES / "sarcasm_sft_validation.jsonl",
    )
    tables = parse(report._repr_html_())
    assert "examples" in tables.cells and "30" in tables.cells
    assert any(c.startswith("$") for c in tables.cells)
    assert sum(c == "examples" for c in tables.cells) == 2  # the validation file's block too


def test_validation_report_to_pandas(evil_file: Path) -> None:
    frame = validate(evil_file).to_pandas()
    assert list(frame.columns) == ["source", "line", "severity", "code", "path", "message", "hint"]
    assert "unknown_role" in set(frame["code"])
    assert set(frame["source"]) == {str(evil_file)}


def test_estimate_html_and_histogram_frame() -> None:
    est = ftkit.estimate(EXAMPLES / "sarcasm_sft.jsonl", model=MODEL)
    tables = parse(est._repr_html_())
    assert "65,536" in tables.cells  # the per-example limit
    assert f"${est.cost_usd:,.2f}" in est._repr_html_()
    frame = est.to_pandas()
    assert list(frame.columns) == ["low", "high", "count"]
    assert int(frame["count"].sum()) == est.examples == 30


def _run(tmp_path: Path) -> tuple[ftkit.FineTune, RunResult]:
    """The sarcasm SFT → DPO run on the fake (its client carries the virtual clock)."""
    ft = (
        ftkit.FineTune(FakeFineTuningAPI().client(max_retries=0))
        .model(MODEL)
        .sft(EXAMPLES / "sarcasm_sft.jsonl", validation=EXAMPLES / "sarcasm_sft_validation.jsonl")
        .dpo(EXAMPLES / "sarcasm_dpo.jsonl", beta=0.1)
        .state_dir(tmp_path)
    )
    return ft, ft.run()


def test_plan_result_and_status_html(tmp_path: Path) -> None:
    ft, result = _run(tmp_path)
    plan = parse(ft.plan()._repr_html_())
    assert plan.headers[:3] == ["stage", "base model", "data"]
    assert plan.cells.count("ok") == 2 and "<SFT result>" in plan.cells

    shown = parse(result._repr_html_())
    assert [c for c in shown.cells if c.startswith("ftjob-")] == [s.job_id for s in result.stages]
    assert "last train loss" in shown.headers
    assert result.fine_tuned_model is not None and result.fine_tuned_model in result._repr_html_()

    status = ftkit.Run.resume(result.run_id, state_dir=tmp_path).status()
    assert isinstance(status, RunStatus)
    table = parse(status._repr_html_())
    assert table.cells.count("succeeded") == 2
    assert status.to_dict()["status"] == "succeeded"


def test_run_result_to_pandas(tmp_path: Path) -> None:
    _ft, result = _run(tmp_path)
    frame = result.to_pandas()
    assert list(frame.columns[:3]) == ["stage", "step", "train_loss"]
    assert list(frame["stage"].unique()) == ["sft", "dpo"]
    assert len(frame) == sum(len(s.metrics) for s in result.stages) == 180
    empty = RunResult("ftr-x", None, []).to_pandas()
    assert list(empty.columns) == ["stage", "step"] and len(empty) == 0


def test_missing_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch, evil_file: Path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    report = validate(evil_file)
    with pytest.raises(ImportError, match=r"pip install 'ftkit\[pandas\]'") as raised:
        report.to_pandas()
    assert isinstance(raised.value, ftkit.UsageError)
