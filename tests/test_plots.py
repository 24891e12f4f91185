"""Plots render to PNG: token lengths with the model's limit, and loss/accuracy curves."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import ftkit
from ftkit.plots import plot_metrics, plot_token_lengths
from ftkit.tokens import TokenStats
from ftkit.tokens.counting import ExampleTokens
from ftkit.validation import validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"
PNG = b"\x89PNG\r\n\x1a\n"


def _png(fig: object, path: Path) -> bytes:
    fig.savefig(path)  # type: ignore[attr-defined]
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 2_000
    return data


def _bars(fig: object) -> list[float]:
    (ax,) = fig.axes  # type: ignore[attr-defined]
    return [patch.get_height() for patch in ax.patches]


def _stats(lengths: list[int], limit: int) -> TokenStats:
    stats = TokenStats()
    for n in lengths:
        over = n > limit
        stats.add(
            ExampleTokens(
                total=n, trained=n // 2, billed=min(n, limit), over_limit=over, trained_lost=0
            )
        )
    return stats


def test_token_lengths_of_a_report_mark_the_models_limit(tmp_path: Path) -> None:
    report = validate(EXAMPLES / "sarcasm_sft.jsonl", model=MODEL)
    fig = report.plot()
    assert sum(_bars(fig)) == report.examples
    (ax,) = fig.axes
    # 65,536 is far beyond 80-token examples: written, not drawn.
    assert any("limit 65,536 tokens" in t.get_text() for t in ax.texts)
    assert ax.get_xlabel() == "tokens per example"
    _png(fig, tmp_path / "lengths.png")


def test_a_near_limit_is_drawn_as_a_line(tmp_path: Path) -> None:
    stats = _stats([100, 200, 300, 400, 500], limit=450)
    fig = plot_token_lengths(stats, limit=450, bins=5)
    (ax,) = fig.axes
    (line,) = ax.lines
    assert list(line.get_xdata()) == [450, 450]
    # Bare stats do not say which limit their over-limit count used: no count is shown.
    assert ax.get_legend().get_texts()[0].get_text() == "limit 450 tokens"
    assert _bars(fig) == [1, 1, 1, 1, 1]
    _png(fig, tmp_path / "near.png")


def test_estimate_plot_uses_its_histogram_and_limit(tmp_path: Path) -> None:
    est = ftkit.estimate(EXAMPLES / "sarcasm_sft.jsonl", model=MODEL)
    fig = est.plot(limit=70)
    assert sum(_bars(fig)) == est.examples
    (ax,) = fig.axes
    (line,) = ax.lines
    assert line.get_xdata()[0] == 70
    # The estimate counted examples over the model's limit, not over this one.
    assert ax.get_legend().get_texts()[0].get_text() == "limit 70 tokens"
    _png(fig, tmp_path / "estimate.png")


def test_token_lengths_refuse_what_they_cannot_plot() -> None:
    report = validate(EXAMPLES / "sarcasm_sft.jsonl")  # no model: no tokens
    with pytest.raises(ftkit.UsageError, match="validate with a model"):
        plot_token_lengths(report)
    with pytest.raises(ftkit.UsageError, match="got list"):
        plot_token_lengths([1, 2, 3])
    with pytest.raises(ftkit.UsageError, match="bins"):
        plot_token_lengths(TokenStats(), bins=0)


def _rows(n: int, *, accuracy: bool = True) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for step in range(1, n + 1):
        row: dict[str, object] = {"step": step, "train_loss": 2.0 / step, "valid_loss": None}
        if accuracy:
            row["train_accuracy"] = 1 - 1 / (step + 1)
        rows.append(row)
    rows[-1]["valid_loss"] = 0.3
    return rows


def test_metrics_plot_has_loss_and_accuracy_per_stage(tmp_path: Path) -> None:
    fig = plot_metrics({"sft": _rows(20), "dpo": _rows(10)})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["sft: loss", "sft: accuracy", "dpo: loss", "dpo: accuracy"]
    sft_loss = fig.axes[0]
    train, valid = sft_loss.lines
    assert list(train.get_xdata()) == list(range(1, 21))
    assert list(valid.get_xdata()) == [20] and valid.get_marker() == "o"  # a lone point shows
    _png(fig, tmp_path / "metrics.png")


def test_metrics_plot_of_rows_without_accuracy_and_of_a_run(tmp_path: Path) -> None:
    fig = plot_metrics(_rows(5, accuracy=False))
    assert [ax.get_title() for ax in fig.axes] == ["metrics: loss"]
    result = ftkit.RunResult(
        "ftr-x",
        "ft:x",
        [ftkit.StageResult("sft", "supervised", "j", "succeeded", MODEL, "ft:x", metrics=_rows(8))],
    )
    assert [ax.get_title() for ax in result.plot().axes] == ["sft: loss", "sft: accuracy"]
    with pytest.raises(ftkit.UsageError, match="no metrics to plot"):
        plot_metrics({"sft": []})
    with pytest.raises(ftkit.UsageError, match="no metrics to plot"):
        plot_metrics(result, stages=["dpo"])


def test_every_plot_shows_as_a_picture_in_a_notebook(tmp_path: Path) -> None:
    """IPython renders each figure as a PNG, with no pyplot and the Agg backend.

    A bare ``Figure`` made without ``pyplot`` shows in Jupyter as the text
    ``<Figure size 700x360 with 1 Axes>``; ftkit's figures carry ``_repr_png_``.
    """
    formatters = pytest.importorskip("IPython.core.formatters")
    import pickle

    from ftkit.evaluation import EvalReport, ModelScore
    from ftkit.plots import NOTEBOOK_DPI

    report = validate(EXAMPLES / "sarcasm_sft.jsonl", model=MODEL)
    est = ftkit.estimate(EXAMPLES / "sarcasm_sft.jsonl", model=MODEL)
    score = ModelScore("base", MODEL, 10, 0.5, 0.3, 0.7, 0, 100, 50, None)
    evaluation = EvalReport({"base": MODEL}, "exact", [], {"base": score}, [])
    figures = [report.plot(), est.plot(), plot_metrics(_rows(5)), evaluation.plot()]
    display = formatters.DisplayFormatter()
    for fig in figures:
        data, _ = display.format(fig)
        assert data["image/png"].startswith(PNG), type(fig)
        assert data["image/png"] == fig._repr_png_()  # the same bytes each time
    # The notebook's picture is small: 700x360 inches/100 at NOTEBOOK_DPI.
    width = int.from_bytes(figures[0]._repr_png_()[16:20], "big")
    assert width == round(7.0 * NOTEBOOK_DPI)
    # A figure still pickles and saves like any matplotlib figure.
    again = pickle.loads(pickle.dumps(figures[0]))
    _png(again, tmp_path / "again.png")


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'ftkit\[plots\]'"):
        plot_metrics(_rows(3))


def test_import_ftkit_loads_no_optional_extra() -> None:
    import subprocess

    code = (
        "import sys, ftkit, ftkit.cli, ftkit.plots; ftkit.cli.build_parser(); "
        "print(sorted(m for m in ('matplotlib', 'pandas', 'rich', 'tqdm') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
