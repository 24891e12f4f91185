"""Notebook HTML: ids never wrap, errors are red, numbers line up; all escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ftkit
from ftkit._html import RED, html_block, html_table
from ftkit.pipeline import RunStatus, StageResult
from ftkit.validation import validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"


def td_of(html: str, text: str) -> str:
    """The style of the cell showing exactly ``text`` (plain or in a ``<code>``)."""
    pattern = r"<td style='([^']*)'>(?:<code[^>]*>)?" + re.escape(text) + r"(?:</code>)?</td>"
    match = re.search(pattern, html)
    assert match, f"no cell {text!r} in {html}"
    return match.group(1)


def test_numbers_are_right_aligned_in_tabular_figures() -> None:
    html = html_table(("name", "tokens", "cost"), [("a", 1234567, "$1,234.50"), ("b", 0.5, "x")])
    for value in ("1,234,567", "$1,234.50", "0.5"):
        cell = td_of(html, value)
        assert "text-align:right" in cell and "font-variant-numeric:tabular-nums" in cell
        assert "white-space:nowrap" in cell
    assert "text-align:left" in td_of(html, "a")


def test_ids_and_model_names_stay_on_one_line() -> None:
    ids = ["ftjob-abc123", "file-9xY8z7", "ft:gpt-4.1-mini-2025-04-14:org::7p2a", MODEL]
    html = html_table(("id",), [(i,) for i in ids])
    for value in ids:
        assert f"<code style='white-space:nowrap'>{value}</code>" in html
    plain = html_table(("what",), [("the assistant answered politely",)])
    assert "<code" not in plain
    block = html_block("ftkit run ftr-20261126T101500-3f9a1c2e", "failed")
    assert "<code style='white-space:nowrap'>ftr-20261126T101500-3f9a1c2e</code>" in block
    assert f"<span style='color:{RED}'>failed</span>" in block
    summary = html_block("ftkit plan", f"for {MODEL}: ready, total $0.03")
    assert f"<code style='white-space:nowrap'>{MODEL}</code>: ready" in summary


@pytest.mark.parametrize(
    ("header", "value", "red"),
    [
        ("status", "failed", True),
        ("status", "cancelled", True),
        ("severity", "error", True),
        ("status", "succeeded", False),
        ("severity", "info", False),
        ("model", "failed", False),  # only state columns are coloured
    ],
)
def test_error_states_are_red(header: str, value: str, red: bool) -> None:
    html = html_table((header,), [(value,)])
    assert (f"color:{RED}" in html) is red


def test_a_validation_report_colours_its_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "q"}]}\n')
    html = validate(bad)._repr_html_()
    assert f"color:{RED}" in td_of(html, "error")
    errors_count = re.search(r"<td[^>]*>errors</td><td style='([^']*)'>", html)
    assert errors_count and f"color:{RED}" in errors_count.group(1)
    clean = validate(EXAMPLES / "sarcasm_sft.jsonl")._repr_html_()
    count = re.search(r"<td[^>]*>errors</td><td style='([^']*)'>0</td>", clean)
    assert count and "color" not in count.group(1)  # zero errors is not news


def test_run_result_and_status_html() -> None:
    stage = StageResult(
        name="sft",
        method="supervised",
        job_id="ftjob-abc123",
        status="failed",
        base_model=MODEL,
        fine_tuned_model=None,
        trained_tokens=12345,
        metrics=[{"step": 1, "train_loss": 1.25}],
    )
    result = ftkit.RunResult(
        run_id="ftr-20261126T101500-3f9a1c2e", fine_tuned_model=None, stages=[stage]
    )
    html = result._repr_html_()
    assert "<code style='white-space:nowrap'>ftjob-abc123</code>" in html
    assert f"color:{RED}" in td_of(html, "failed")
    assert "tabular-nums" in td_of(html, "12,345") and "tabular-nums" in td_of(html, "1.25")
    status = RunStatus(
        run_id="ftr-1",
        status="failed",
        stages=[stage],
        manifest_path=Path("m.json"),
    )
    assert f"color:{RED}" in td_of(status._repr_html_(), "failed")


def test_values_are_still_escaped() -> None:
    html = html_table(("status",), [("<b>failed</b>",)])
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert "&lt;x&gt;" in html_block("t <x>", "a-1_<x>9")
