"""Report math (interval, win/tie/loss), rendering, JSON, plot and cost lookup."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

import ftkit
from ftkit.evaluation import (
    EvalReport,
    ExampleResult,
    InferencePrices,
    ModelReply,
    ModelScore,
    Turn,
)
from ftkit.evaluation._report import mean_interval, pairwise, wilson_interval


def test_mean_interval_is_the_normal_approximation() -> None:
    scores = [1.0, 0.0, 1.0, 1.0, 0.5, 0.0, 1.0, 1.0]
    mean, low, high = mean_interval(scores)
    expected_half = 1.959963984540054 * statistics.stdev(scores) / math.sqrt(len(scores))
    assert mean == pytest.approx(statistics.mean(scores))
    assert low == pytest.approx(mean - expected_half)
    assert high == pytest.approx(min(1.0, mean + expected_half))


def test_mean_interval_edges() -> None:
    assert mean_interval([]) == (None, None, None)
    assert mean_interval([0.4]) == (0.4, None, None)
    assert mean_interval([1.0, 1.0, 1.0]) == (1.0, 1.0, 1.0)
    _, low, high = mean_interval([1.0, 0.0])
    assert low == 0.0 and high == 1.0  # clipped to the score range


def example(index: int, **scores: float | None) -> ExampleResult:
    return ExampleResult(
        index,
        index + 1,
        Turn("ref"),
        {
            label: ModelReply(Turn("x") if s is not None else None, s, error=None if s else "x")
            for label, s in scores.items()
        },
    )


def test_pairwise_counts_wins_ties_and_losses_of_later_models() -> None:
    examples = [
        example(0, base=0.0, tuned=1.0),
        example(1, base=0.5, tuned=0.5),
        example(2, base=1.0, tuned=0.25),
        example(3, base=0.0, tuned=0.75),
        example(4, base=None, tuned=1.0),  # a failed call is not compared
    ]
    [pair] = pairwise(["base", "tuned"], examples)
    assert (pair.a, pair.b) == ("tuned", "base")
    assert (pair.wins, pair.ties, pair.losses) == (2, 1, 1)
    # A tie counts half: (2 + 0.5) / 4.
    assert pair.compared == 4 and pair.win_rate == 0.625
    low, high = pair.interval
    assert low is not None and high is not None and low < 0.625 < high

    three = pairwise(["a", "b", "c"], [example(0, a=0.0, b=0.5, c=1.0)])
    assert [(p.a, p.b, p.wins) for p in three] == [("b", "a", 1), ("c", "a", 1), ("c", "b", 1)]


def test_wilson_interval_matches_the_textbook_values() -> None:
    # 8 of 10: Wilson's 95 % interval is [0.490, 0.943] (Newcombe 1998, table I).
    low, high = wilson_interval(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)  # type: ignore[arg-type]
    # 0 of 10 still has an upper bound, and all of 10 a lower one.
    assert wilson_interval(0, 10)[0] == 0.0 and round(wilson_interval(0, 10)[1], 3) == 0.278  # type: ignore[arg-type]
    assert round(wilson_interval(10, 10)[0], 3) == 0.722  # type: ignore[arg-type]
    assert wilson_interval(0, 0) == (None, None)


def report() -> EvalReport:
    examples = [example(0, base=0.0, tuned=1.0), example(1, base=1.0, tuned=1.0)]
    scores = {
        "base": ModelScore("base", "gpt-4.1-mini-2025-04-14", 2, 0.5, 0.0, 1.0, 0, 100, 20, 0.0001),
        "tuned": ModelScore(
            "tuned", "ft:gpt-4.1-mini-2025-04-14:o::x", 2, 1.0, 1.0, 1.0, 0, 100, 10, None, "n/p"
        ),
    }
    return EvalReport(
        models={"base": scores["base"].model, "tuned": scores["tuned"].model},
        scorer="exact",
        examples=examples,
        scores=scores,
        pairs=pairwise(["base", "tuned"], examples),
        prices_as_of="2026-10",
    )


def test_report_text_json_and_lookups(tmp_path: Path) -> None:
    r = report()
    text = str(r)
    assert "tuned (ft:gpt-4.1-mini-2025-04-14:o::x)" in text
    assert "tuned vs base: 1 win, 1 tie, 0 losses" in text
    assert "note: n/p" in text
    assert r.best() == "tuned"
    assert r.total_cost_usd is None  # one model has no price
    assert r.pair("base", "tuned").losses == 1
    with pytest.raises(ftkit.UsageError):
        r.pair("base", "nope")
    data = json.loads(json.dumps(r.to_dict()))
    assert data["summary"]["tuned"]["mean"] == 1.0
    [pair] = data["pairwise"]
    assert {k: pair[k] for k in ("a", "b", "wins", "ties", "losses", "compared", "win_rate")} == {
        "a": "tuned",
        "b": "base",
        "wins": 1,
        "ties": 1,
        "losses": 0,
        "compared": 2,
        "win_rate": 0.75,
    }
    assert 0 < pair["ci_low"] < 0.75 < pair["ci_high"] < 1 and "judge" not in pair
    assert data["examples"][0]["replies"]["base"]["score"] == 0.0
    written = r.write(tmp_path / "report.json")
    assert json.loads(written.read_text())["scorer"] == "exact"


def test_repr_html_escapes_model_names() -> None:
    r = report()
    scores = dict(r.scores)
    scores["tuned"] = ModelScore("<b>", "<script>", 1, 1.0, None, None, 0, 1, 1, None)
    html = EvalReport(r.models, r.scorer, r.examples, scores, r.pairs)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "ftkit evaluation" in html


def test_plot_draws_one_bar_per_model_with_error_bars() -> None:
    pytest.importorskip("matplotlib")
    figure = report().plot()
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["base", "tuned"]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [0.5, 1.0]


def test_plot_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.setattr("importlib.import_module", lambda name: no_matplotlib(name))
    with pytest.raises(ftkit.UsageError, match=r"ftkit\[plots\]"):
        report().plot()


def test_inference_prices_for_fine_tuned_and_base_models() -> None:
    prices = InferencePrices.load()
    ft = "ft:gpt-4.1-mini-2025-04-14:org::abc"
    assert prices.lookup(ft) == ((0.8, 3.2), None)
    assert prices.lookup("gpt-4.1-mini") == ((0.4, 1.6), None)  # alias of the snapshot
    assert prices.cost(ft, 1_000_000, 1_000_000) == pytest.approx(4.0)
    assert prices.cost("gpt-4o-mini-2024-07-18", 2_000_000, 0) == pytest.approx(0.3)
    price, reason = prices.lookup("my-azure-deployment")
    assert price is None and reason is not None and "prices=" in reason
    custom = InferencePrices.load({"my-azure-deployment": {"input": 1, "output": 2}, ft: (0, 0)})
    assert custom.cost("my-azure-deployment", 1_000_000, 1_000_000) == 3.0
    assert custom.cost(ft, 10, 10) == 0.0
    with pytest.raises(ftkit.UsageError):
        InferencePrices.load({"m": {"input": -1, "output": 1}})
