"""What an evaluation returns: per-example replies and scores, per-model summaries, pairs.

The confidence interval of a model's mean score is the **normal approximation**
at 95 %: ``mean ± 1.96 · s / √n`` with ``s`` the sample standard deviation
(``n - 1``), clipped to ``[0, 1]``. It is cheap and deterministic; with few
examples (say under 30) read it as a rough guide. With fewer than two scored
examples there is no interval (``None``).

Pairwise results compare two models example by example, on the examples both
answered: with a scorer, a *win* for the first model when its score is higher
(by more than ``1e-9``), a *loss* when lower, a *tie* otherwise; with a pairwise
judge, the judge's verdict in both orders (:mod:`._judging`). The **win rate**
counts a tie as half a win (AlpacaEval's convention: 0.5 means no difference),
and its 95 % interval is **Wilson's score interval** for that proportion over
the examples compared. A tie's half is a smaller variance than a coin's, so the
interval is slightly conservative when there are ties; it stays inside [0, 1]
and is sensible for small counts and for 0 or all wins, where the normal
approximation is not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._exceptions import UsageError
from .._plain import attributes
from .._words import plural
from ._judging import JudgeSummary, PairVerdict
from ._scorers import Turn

__all__ = [
    "Z_95",
    "EvalReport",
    "ExampleResult",
    "ModelReply",
    "ModelScore",
    "PairwiseResult",
    "mean_interval",
    "pairwise_verdicts",
    "wilson_interval",
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


def wilson_interval(successes: float, n: int) -> tuple[float | None, float | None]:
    """The 95 % Wilson score interval of a proportion ``successes / n`` (None for n = 0)."""
    if n <= 0:
        return None, None
    p = successes / n
    z2 = Z_95 * Z_95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0 (or all) successes the bound is exactly 0 (or 1); the subtraction above
    # leaves a rounding residue (5.6e-17 for 0 of 3), which would read as "above 0".
    low = 0.0 if p <= 0 else max(0.0, centre - half)
    high = 1.0 if p >= 1 else min(1.0, centre + half)
    return low, high


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
        grades: a rubric judge's grade per criterion (None without a rubric, or when
            the judge gave none: ``judge_error``).
        judge_reason: the rubric judge's one-line reason.
        judge_error: why the rubric judge gave no grade (the reply has no score then).
    """

    reply: Turn | None
    score: float | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error: str | None = None
    reused: bool = False
    grades: Mapping[str, int] | None = None
    judge_reason: str | None = None
    judge_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "reply": self.reply.to_dict() if self.reply else None,
            **attributes(
                self,
                "score",
                "prompt_tokens",
                "completion_tokens",
                "finish_reason",
                "error",
                "reused",
                "judge_reason",
                "judge_error",
            ),
        }
        if self.grades is not None:
            data["grades"] = dict(self.grades)
        return data


@dataclass(frozen=True)
class ExampleResult:
    """One test example and every model's answer (keyed by model label).

    ``verdicts`` holds a pairwise judge's verdict on each pair (empty otherwise).
    """

    index: int
    line: int | None
    reference: Turn
    replies: Mapping[str, ModelReply]
    verdicts: tuple[PairVerdict, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {
            **attributes(self, "index", "line"),
            "reference": self.reference.to_dict(),
            "replies": {label: r.to_dict() for label, r in self.replies.items()},
        }
        if self.verdicts:
            data["verdicts"] = [v.to_dict() for v in self.verdicts]
        return data


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
        criteria: with a rubric judge, each criterion's mean grade on its scale.
        judge_errors: replies the judge gave no score for (they are not in ``mean``).
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
    criteria: Mapping[str, float | None] | None = None
    judge_errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        if self.criteria is None:
            del data["criteria"]
        else:
            data["criteria"] = dict(self.criteria)
        return data


@dataclass(frozen=True)
class PairwiseResult:
    """How model ``a`` fared against model ``b`` on the examples both answered.

    Attributes:
        a, b: the labels compared (the counts are ``a``'s).
        wins, ties, losses: per example compared.
        judge: the judge model, when a pairwise judge decided (None: the scores did).
        split: ties that are split verdicts (each order preferred the model shown
            there): the judge's position bias at work.
        errors: examples the judge gave no verdict for (not compared).
    """

    a: str
    b: str
    wins: int
    ties: int
    losses: int
    judge: str | None = None
    split: int = 0
    errors: int = 0

    @property
    def compared(self) -> int:
        """Examples compared."""
        return self.wins + self.ties + self.losses

    @property
    def win_rate(self) -> float | None:
        """``(wins + ties / 2) / compared`` (0.5: no difference), or None if none compared."""
        return (self.wins + self.ties / 2) / self.compared if self.compared else None

    @property
    def interval(self) -> tuple[float | None, float | None]:
        """The 95 % Wilson interval of :attr:`win_rate`."""
        return wilson_interval(self.wins + self.ties / 2, self.compared)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.interval
        judged = {"judge": self.judge, "split": self.split, "errors": self.errors}
        return {
            **attributes(self, "a", "b", "wins", "ties", "losses"),
            **(judged if self.judge is not None else {}),
            "compared": self.compared,
            "win_rate": self.win_rate,
            "ci_low": low,
            "ci_high": high,
        }


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


def pairwise_verdicts(judge: str, examples: list[ExampleResult]) -> list[PairwiseResult]:
    """Win/tie/loss of each judged pair, from the judge's verdicts, in the judge's order."""
    counts: dict[tuple[str, str], list[int]] = {}
    for example in examples:
        for verdict in example.verdicts:
            row = counts.setdefault((verdict.a, verdict.b), [0, 0, 0, 0, 0])
            if verdict.outcome is None:
                row[4] += not verdict.no_reply
                continue
            row[("win", "tie", "loss").index(verdict.outcome)] += 1
            row[3] += verdict.split
    return [
        PairwiseResult(a, b, w, t, lo, judge=judge, split=sp, errors=err)
        for (a, b), (w, t, lo, sp, err) in counts.items()
    ]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _judge_line(judge: JudgeSummary) -> str:
    how = "both orders asked" if judge.swapped else "one grade per reply"
    line = (
        f"judge {judge.model} ({judge.kind}, {how}): {plural(judge.calls, 'call')}"
        + (f", {judge.reused} reused" if judge.reused else "")
        + f", {judge.prompt_tokens:,}/{judge.completion_tokens:,} tokens, {_money(judge.cost_usd)}"
    )
    if judge.malformed:
        line += f", {plural(judge.malformed, 'malformed reply', 'malformed replies')} re-asked"
    if judge.errors:
        line += f", {plural(judge.errors, 'verdict')} missing"
    if judge.first_position_share is not None:
        line += f"; picked the first answer shown {judge.first_position_share:.0%} of the time"
    return line


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
        judge: what a model judge did (calls, tokens, cost, errors), or None.
        estimates: what the calls were estimated to cost before they were made
            (``{"replies": ..., "judge": ...}``, each a
            :class:`~ftkit.evaluation.SpendEstimate`).
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
    judge: JudgeSummary | None = None
    estimates: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_cost_usd(self) -> float | None:
        """The cost of every model's tokens and the judge's, or None if any has no price."""
        costs = [s.cost_usd for s in self.scores.values()]
        if self.judge is not None:
            costs.append(self.judge.cost_usd)
        if any(c is None for c in costs):
            return None
        return math.fsum(c for c in costs if c is not None)

    def best(self) -> str | None:
        """The label with the highest mean score (the first on ties), or None.

        A pairwise judge gives no per-model score: read :attr:`pairs` instead.
        """
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
                return PairwiseResult(
                    a,
                    b,
                    result.losses,
                    result.ties,
                    result.wins,
                    judge=result.judge,
                    split=result.split,
                    errors=result.errors,
                )
        raise UsageError(f"no pair {a!r} / {b!r}; labels are {', '.join(self.models)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything in the report."""
        return {
            "models": dict(self.models),
            **attributes(self, "scorer", "scorer_note"),
            "summary": {label: s.to_dict() for label, s in self.scores.items()},
            "pairwise": [p.to_dict() for p in self.pairs],
            **attributes(self, "skipped", "asked", "prices_as_of", "total_cost_usd"),
            **({"judge": self.judge.to_dict()} if self.judge else {}),
            **(
                {"estimates": {k: v.to_dict() for k, v in self.estimates.items()}}
                if self.estimates
                else {}
            ),
            "examples": [e.to_dict() for e in self.examples],
        }

    def __str__(self) -> str:
        lines = [
            f"evaluation: {plural(len(self.examples), 'example')}, scorer {self.scorer}"
            + (f", {self.skipped} skipped" if self.skipped else "")
        ]
        if self.scorer_note:
            lines.append(f"  {self.scorer_note}")
        scored = not (self.judge is not None and self.judge.kind == "pairwise")
        criteria = self.judge.criteria if self.judge and self.judge.kind == "rubric" else ()
        head = ("model", "mean", "95% CI") if scored else ("model",)
        rows = [(*head, *criteria, "n", "errors", "tokens in/out", "cost")]
        for label, s in self.scores.items():
            name = label if label == s.model else f"{label} ({s.model})"
            interval = f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]" if s.ci_low is not None else "-"
            means = [_fmt((s.criteria or {}).get(c), 2) for c in criteria]
            errors = str(s.errors) + (f"+{s.judge_errors}" if s.judge_errors else "")
            rows.append(
                (
                    *((name, _fmt(s.mean), interval) if scored else (name,)),
                    *means,
                    str(s.n),
                    errors,
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
            low, high = p.interval
            rate = (
                f"; win rate {_fmt(p.win_rate)} [{_fmt(low)}, {_fmt(high)}]" if p.compared else ""
            )
            extra = f" ({p.split} split)" if p.split else ""
            extra += f", {plural(p.errors, 'judge error')}" if p.errors else ""
            lines.append(
                f"  {p.a} vs {p.b}: {plural(p.wins, 'win')}, {plural(p.ties, 'tie')}{extra}, "
                f"{plural(p.losses, 'loss', 'losses')}{rate}"
            )
        if self.judge is not None:
            lines.append("  " + _judge_line(self.judge))
        notes = {s.cost_note for s in self.scores.values() if s.cost_note}
        if self.judge is not None and self.judge.cost_note:
            notes.add(self.judge.cost_note)
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

        scored = not (self.judge is not None and self.judge.kind == "pairwise")
        rows = [
            (
                label,
                s.model,
                *(
                    (
                        None if s.mean is None else round(s.mean, 3),
                        f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]" if s.ci_low is not None else "-",
                    )
                    if scored
                    else ()
                ),
                s.n,
                s.errors,
                s.prompt_tokens,
                s.completion_tokens,
                _money(s.cost_usd),
            )
            for label, s in self.scores.items()
        ]
        head = ("model", "id", *(("mean", "95% CI") if scored else ()))
        table = html_table((*head, "n", "errors", "tokens in", "tokens out", "cost"), rows)
        parts = [table]
        if self.judge is not None and self.judge.kind == "rubric":
            parts.append(
                html_table(
                    ("model", *self.judge.criteria),
                    [
                        (label, *(_fmt((s.criteria or {}).get(c), 2) for c in self.judge.criteria))
                        for label, s in self.scores.items()
                    ],
                )
            )
        if self.pairs:
            parts.append(
                html_table(
                    ("model", "against", "wins", "ties", "losses", "win rate", "95% CI"),
                    [
                        (
                            p.a,
                            p.b,
                            p.wins,
                            p.ties,
                            p.losses,
                            _fmt(p.win_rate),
                            "[{}, {}]".format(*map(_fmt, p.interval)),
                        )
                        for p in self.pairs
                    ],
                )
            )
        if self.judge is not None:
            parts.append(f"<div>{escape(_judge_line(self.judge))}</div>")
        summary = f"{len(self.examples)} examples, scorer {self.scorer}"
        if self.prices_as_of:
            summary += f", prices as of {self.prices_as_of}"
        if self.scorer_note:
            # Its own line, as written: the summary would set the scorer's name as code.
            parts.insert(0, f"<div>{escape(self.scorer_note)}</div>")
        return html_block("ftkit evaluation", summary, *parts)

    def plot(
        self, ax: Any = None, *, what: Literal["auto", "means", "pairs", "criteria"] = "auto"
    ) -> Any:
        """A bar chart of the report, with 95 % intervals as error bars.

        Args:
            ax: a matplotlib ``Axes`` to draw on; by default a new
                :class:`matplotlib.figure.Figure` is made (without ``pyplot``, so no
                global figure state is touched) that a notebook shows as a picture.
            what: ``"means"``: each model's mean score; ``"pairs"``: each pair's win
                rate (Wilson interval, a line at 0.5 = no difference); ``"criteria"``:
                a rubric judge's mean grade per criterion and model. ``"auto"``: pairs
                for a pairwise judge, criteria for a rubric, means otherwise.

        Returns:
            The ``Figure`` drawn on (``ax.figure`` when ``ax`` is given).

        Raises:
            UsageError: matplotlib is not installed (``pip install 'ftkit[plots]'``), or
                nothing to draw (``"criteria"`` without a rubric, ``"pairs"`` with one model).
        """
        kind = self.judge.kind if self.judge is not None else None
        if what == "auto":
            what = {"pairwise": "pairs", "rubric": "criteria"}.get(kind or "", "means")  # type: ignore[assignment]
        if what not in ("means", "pairs", "criteria"):
            raise UsageError(f"what must be 'auto', 'means', 'pairs' or 'criteria', got {what!r}")
        if what == "criteria" and kind != "rubric":
            raise UsageError("what='criteria' needs a rubric judge's report")
        if what == "pairs" and not self.pairs:
            raise UsageError("what='pairs' needs at least two models")
        bars = len(self.pairs) if what == "pairs" else len(self.scores)
        if ax is None:
            from ..plots import _figure

            figure = _figure("EvalReport.plot()", figsize=(1.6 + 1.4 * max(bars, 1), 3.2))
            ax = figure.add_subplot()
        if what == "pairs":
            self._plot_pairs(ax)
        elif what == "criteria":
            self._plot_criteria(ax)
        else:
            self._plot_means(ax)
        return ax.figure

    def _plot_means(self, ax: Any) -> None:
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

    def _plot_pairs(self, ax: Any) -> None:
        rates = [p.win_rate or 0.0 for p in self.pairs]
        intervals = [p.interval for p in self.pairs]
        low = [
            r - lo if lo is not None else 0.0 for r, (lo, _) in zip(rates, intervals, strict=True)
        ]
        high = [
            hi - r if hi is not None else 0.0 for r, (_, hi) in zip(rates, intervals, strict=True)
        ]
        positions = list(range(len(self.pairs)))
        ax.bar(positions, rates, yerr=[low, high], capsize=6, color="#55a868")
        ax.axhline(0.5, color="#888888", linestyle="--", linewidth=1)
        ax.set_xticks(positions)
        ax.set_xticklabels([f"{p.a}\nvs {p.b}" for p in self.pairs])
        ax.set_ylim(0, 1.05)
        judged = f"judge {self.judge.model}" if self.judge else self.scorer
        ax.set_ylabel(f"win rate ({judged})")
        ax.set_title(f"{len(self.examples)} test examples, ties = 1/2, 95% Wilson CI")

    def _plot_criteria(self, ax: Any) -> None:
        assert self.judge is not None and self.judge.scale is not None
        criteria = self.judge.criteria
        labels = list(self.scores)
        width = 0.8 / max(1, len(labels))
        for i, label in enumerate(labels):
            means = [(self.scores[label].criteria or {}).get(c) or 0.0 for c in criteria]
            positions = [j + (i - (len(labels) - 1) / 2) * width for j in range(len(criteria))]
            ax.bar(positions, means, width=width, label=label)
        ax.set_xticks(list(range(len(criteria))))
        ax.set_xticklabels(list(criteria))
        low, high = self.judge.scale
        ax.set_ylim(low, high + (high - low) * 0.05)
        ax.set_ylabel(f"mean grade ({low}..{high}, judge {self.judge.model})")
        ax.legend()
        ax.set_title(f"{len(self.examples)} test examples")

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        import json

        from ..jsonl import atomic_write

        target = Path(path)
        with atomic_write(target) as handle:
            json.dump(self.to_dict(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        return target
