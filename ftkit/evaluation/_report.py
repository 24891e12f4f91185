"""What an evaluation returns: per-example replies and scores, per-model summaries, pairs.

The confidence interval of a model's mean score is the **normal approximation**
at 95 %: ``mean ± 1.96 · s / √n`` with ``s`` the sample standard deviation
(``n - 1``), clipped to ``[0, 1]``. It is cheap and deterministic; with few
examples (say under 30) read it as a rough guide. With fewer than two scored
examples there is no interval (``None``).

Pairwise results compare two models example by example, on the examples both
answered: a *win* for the first model when its score is higher (by more than
``1e-9``), a *loss* when lower, a *tie* otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from .._plain import attributes
from .._words import plural
from ._scorers import Turn

__all__ = [
    "Z_95",
    "EvalReport",
    "ExampleResult",
    "ModelReply",
    "ModelScore",
    "PairwiseResult",
    "mean_interval",
]

Z_95 = 1.959963984540054
"""The two-sided 95 % quantile of the standard normal distribution."""
_TIE = 1e-9


def mean_interval(scores: list[float]) -> tuple[float | None, float | None, float | None]:
    """``(mean, low, high)`` of scores: the mean and its 95 % normal-approximation interval.

    Returns ``(None, None, None)`` for no scores and no interval for a single one.
    """
    n = len(scores)
    if n == 0:
        return None, None, None
    mean = math.fsum(scores) / n
    if n < 2:
        return mean, None, None
    variance = math.fsum((s - mean) ** 2 for s in scores) / (n - 1)
    half = Z_95 * math.sqrt(variance / n)
    return mean, max(0.0, mean - half), min(1.0, mean + half)


@dataclass(frozen=True)
class ModelReply:
    """One model's answer to one example.

    Attributes:
        reply: what the model said (None when the call failed).
        score: the scorer's verdict in [0, 1] (None when the call failed).
        prompt_tokens, completion_tokens: the usage the API reported.
        finish_reason: ``stop``, ``tool_calls``, ``length``...
        error: why there is no reply (the call failed after retries).
        reused: the reply came from the results directory of an earlier run.
    """

    reply: Turn | None
    score: float | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error: str | None = None
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply": self.reply.to_dict() if self.reply else None,
            **attributes(
                self,
                "score",
                "prompt_tokens",
                "completion_tokens",
                "finish_reason",
                "error",
                "reused",
            ),
        }


@dataclass(frozen=True)
class ExampleResult:
    """One test example and every model's answer (keyed by model label)."""

    index: int
    line: int | None
    reference: Turn
    replies: Mapping[str, ModelReply]

    def to_dict(self) -> dict[str, Any]:
        return {
            **attributes(self, "index", "line"),
            "reference": self.reference.to_dict(),
            "replies": {label: r.to_dict() for label, r in self.replies.items()},
        }


@dataclass(frozen=True)
class ModelScore:
    """One model's summary.

    Attributes:
        label: the name the report uses (``"base"``, ``"fine-tuned"`` or the model id).
        model: the model id called.
        n: examples scored.
        mean: mean score (None when nothing was scored).
        ci_low, ci_high: the 95 % interval of the mean (normal approximation).
        errors: examples whose call failed.
        prompt_tokens, completion_tokens: tokens used, reused replies included.
        cost_usd: what those tokens cost at the dated inference prices, or None.
        cost_note: why there is no cost.
    """

    label: str
    model: str
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    cost_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PairwiseResult:
    """How model ``a`` fared against model ``b`` on the examples both answered."""

    a: str
    b: str
    wins: int
    ties: int
    losses: int

    @property
    def compared(self) -> int:
        """Examples compared."""
        return self.wins + self.ties + self.losses

    @property
    def win_rate(self) -> float | None:
        """Wins over compared examples (ties count as not won), or None if none compared."""
        return self.wins / self.compared if self.compared else None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pairwise(labels: list[str], examples: list[ExampleResult]) -> list[PairwiseResult]:
    """Win/tie/loss of each model against every model listed before it.

    For ``[base, fine-tuned]`` the one pair is ``fine-tuned`` vs ``base``: later models
    (usually the newer fine-tunes) are compared against earlier ones.
    """
    results: list[PairwiseResult] = []
    for j in range(len(labels)):
        for i in range(j):
            a, b = labels[j], labels[i]
            wins = ties = losses = 0
            for example in examples:
                ra, rb = example.replies.get(a), example.replies.get(b)
                if ra is None or rb is None or ra.score is None or rb.score is None:
                    continue
                if ra.score > rb.score + _TIE:
                    wins += 1
                elif ra.score < rb.score - _TIE:
                    losses += 1
                else:
                    ties += 1
            results.append(PairwiseResult(a, b, wins, ties, losses))
    return results


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


@dataclass(frozen=True)
class EvalReport:
    """The outcome of :func:`ftkit.evaluate`.

    Attributes:
        models: label -> model id, in the order given.
        scorer: the scorer's name.
        examples: per example, the reference and every model's reply and score.
        scores: per model label, the summary (mean, interval, tokens, cost).
        pairs: win/tie/loss of each later model against each earlier one.
        skipped: test records with no turn to score (e.g. no tool call for ``tool-calls``).
        prices_as_of: the date of the inference prices used for costs.
        results_dir: where replies were logged (None when not stored).
    """

    models: Mapping[str, str]
    scorer: str
    examples: list[ExampleResult]
    scores: Mapping[str, ModelScore]
    pairs: list[PairwiseResult]
    skipped: int = 0
    prices_as_of: str | None = None
    results_dir: Path | None = None
    asked: int = field(default=0)
    """API calls that produced a reply in this run (reused replies excluded)."""
    scorer_note: str | None = None
    """What ``scorer="auto"`` chose and why, or a warning that the scorer does not fit
    the references (``exact`` on free text scores about 0 for every model)."""

    @property
    def total_cost_usd(self) -> float | None:
        """The cost of every model's tokens, or None if any model has no price."""
        costs = [s.cost_usd for s in self.scores.values()]
        if any(c is None for c in costs):
            return None
        return math.fsum(c for c in costs if c is not None)

    def best(self) -> str | None:
        """The label with the highest mean score (the first on ties), or None."""
        scored = [(s.mean, -i, label) for i, (label, s) in enumerate(self.scores.items())]
        scored = [t for t in scored if t[0] is not None]
        return max(scored)[2] if scored else None

    def pair(self, a: str, b: str) -> PairwiseResult:
        """The win/tie/loss of ``a`` against ``b`` (either order).

        Raises:
            UsageError: a label that is not in the report.
        """
        for result in self.pairs:
            if (result.a, result.b) == (a, b):
                return result
            if (result.a, result.b) == (b, a):
                return PairwiseResult(a, b, result.losses, result.ties, result.wins)
        raise UsageError(f"no pair {a!r} / {b!r}; labels are {', '.join(self.models)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything in the report."""
        return {
            "models": dict(self.models),
            **attributes(self, "scorer", "scorer_note"),
            "summary": {label: s.to_dict() for label, s in self.scores.items()},
            "pairwise": [p.to_dict() for p in self.pairs],
            **attributes(self, "skipped", "asked", "prices_as_of", "total_cost_usd"),
            "examples": [e.to_dict() for e in self.examples],
        }

    def __str__(self) -> str:
        lines = [
            f"evaluation: {plural(len(self.examples), 'example')}, scorer {self.scorer}"
            + (f", {self.skipped} skipped" if self.skipped else "")
        ]
        if self.scorer_note:
            lines.append(f"  {self.scorer_note}")
        rows = [("model", "mean", "95% CI", "n", "errors", "tokens in/out", "cost")]
        for label, s in self.scores.items():
            name = label if label == s.model else f"{label} ({s.model})"
            interval = f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]" if s.ci_low is not None else "-"
            rows.append(
                (
                    name,
                    _fmt(s.mean),
                    interval,
                    str(s.n),
                    str(s.errors),
                    f"{s.prompt_tokens:,}/{s.completion_tokens:,}",
                    _money(s.cost_usd),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
            ]
            lines.append("  " + "  ".join(cells).rstrip())
        for p in self.pairs:
            lines.append(
                f"  {p.a} vs {p.b}: {plural(p.wins, 'win')}, {plural(p.ties, 'tie')}, "
                f"{plural(p.losses, 'loss', 'losses')}"
            )
        notes = {s.cost_note for s in self.scores.values() if s.cost_note}
        lines.extend(f"  note: {note}" for note in sorted(notes))
        if self.prices_as_of:
            lines.append(f"  prices as of {self.prices_as_of}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        # The examples stay out: a notebook saves this text beside the table.
        means = {
            label: None if s.mean is None else round(s.mean, 3) for label, s in self.scores.items()
        }
        return (
            f"EvalReport(scorer={self.scorer!r}, examples={len(self.examples)}, "
            f"models={dict(self.models)!r}, means={means!r})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        from .._html import html_block, html_table

        rows = [
            (
                label,
                s.model,
                None if s.mean is None else round(s.mean, 3),
                f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]" if s.ci_low is not None else "-",
                s.n,
                s.errors,
                s.prompt_tokens,
                s.completion_tokens,
                _money(s.cost_usd),
            )
            for label, s in self.scores.items()
        ]
        table = html_table(
            ("model", "id", "mean", "95% CI", "n", "errors", "tokens in", "tokens out", "cost"),
            rows,
        )
        parts = [table]
        if self.pairs:
            parts.append(
                html_table(
                    ("model", "against", "wins", "ties", "losses"),
                    [(p.a, p.b, p.wins, p.ties, p.losses) for p in self.pairs],
                )
            )
        summary = f"{len(self.examples)} examples, scorer {self.scorer}"
        if self.prices_as_of:
            summary += f", prices as of {self.prices_as_of}"
        if self.scorer_note:
            # Its own line, as written: the summary would set the scorer's name as code.
            parts.insert(0, f"<div>{escape(self.scorer_note)}</div>")
        return html_block("ftkit evaluation", summary, *parts)

    def plot(self, ax: Any = None) -> Any:
        """A bar chart of each model's mean score with its 95 % interval as error bars.

        Args:
            ax: a matplotlib ``Axes`` to draw on; by default a new
                :class:`matplotlib.figure.Figure` is made (without ``pyplot``, so no
                global figure state is touched) that a notebook shows as a picture.

        Returns:
            The ``Figure`` drawn on (``ax.figure`` when ``ax`` is given).

        Raises:
            UsageError: matplotlib is not installed (``pip install 'ftkit[plots]'``).
        """
        if ax is None:
            from ..plots import _figure

            figure = _figure("EvalReport.plot()", figsize=(1.6 + 1.4 * len(self.scores), 3.2))
            ax = figure.add_subplot()
        labels = list(self.scores)
        summaries = list(self.scores.values())
        means = [s.mean or 0.0 for s in summaries]
        low = [
            s.mean - s.ci_low if s.mean is not None and s.ci_low is not None else 0.0
            for s in summaries
        ]
        high = [
            s.ci_high - s.mean if s.mean is not None and s.ci_high is not None else 0.0
            for s in summaries
        ]
        positions = list(range(len(labels)))
        ax.bar(positions, means, yerr=[low, high], capsize=6, color="#4c72b0")
        ax.set_xticks(positions)
        ax.set_xticklabels(labels)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"mean score ({self.scorer})")
        ax.set_title(f"{len(self.examples)} test examples, 95% CI")
        return ax.figure

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        import json

        from ..jsonl import atomic_write

        target = Path(path)
        with atomic_write(target) as handle:
            json.dump(self.to_dict(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        return target
