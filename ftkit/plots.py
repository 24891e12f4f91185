"""Plots for notebooks and reports: token lengths against the model's limit, and training curves.

Needs the ``plots`` extra (``pip install 'ftkit[plots]'``): matplotlib is
imported only when a plot is drawn. Functions return a
:class:`matplotlib.figure.Figure` built without ``pyplot``, so no global
figure state is touched and ``fig.savefig("x.png")`` renders with the Agg
backend on machines without a display.

A figure made without ``pyplot`` is not known to Jupyter's inline backend, which
would show it as the text ``<Figure size 700x360 with 1 Axes>``. So the figures
here also carry ``_repr_png_``: a notebook cell that ends with ``report.plot()``
shows the picture, whatever the backend (Agg included), and shows it once.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._exceptions import UsageError
from ._optional import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_labels", "plot_metrics", "plot_token_lengths"]

_LIMIT_COLOUR = "#b00020"
# A limit this many times beyond the longest example is written, not drawn: drawing it
# would squeeze every bar into the left edge of the plot.
_FAR_LIMIT = 3.0


# The resolution of the PNG a notebook shows: small enough to keep a saved notebook
# light (a plot is 15-75 kB), sharp enough to read. savefig() keeps its own default.
NOTEBOOK_DPI = 80


@functools.cache
def _figure_class() -> type[Figure]:
    # Defined on first use: importing matplotlib costs ~0.3 s, and `import ftkit` must not.
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A Figure that IPython displays as a PNG (``_repr_png_``) without ``pyplot``."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            # No "Software" stamp: a saved notebook does not record the matplotlib version.
            self.savefig(buffer, format="png", dpi=NOTEBOOK_DPI, metadata={"Software": None})
            return buffer.getvalue()

    # Pickled figures name the class by its module attribute (see __getattr__).
    NotebookFigure.__module__ = __name__
    NotebookFigure.__qualname__ = "NotebookFigure"
    return NotebookFigure


def __getattr__(name: str) -> Any:
    if name == "NotebookFigure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _figure(feature: str = "ftkit.plots", **kwargs: Any) -> Figure:
    """A new figure that shows itself in notebooks (see the module docstring).

    Raises:
        MissingExtra: matplotlib is not installed (the message names ``feature``).
    """
    require("matplotlib.figure", extra="plots", feature=feature)
    return _figure_class()(**kwargs)


def plot_token_lengths(
    source: Any, *, limit: int | None = None, bins: int = 30, title: str | None = None
) -> Figure:
    """Histogram of tokens per example, with the model's per-example limit marked.

    Args:
        source: a :class:`~ftkit.ValidationReport` validated with a model, a
            :class:`~ftkit.CostEstimate`, a :class:`~ftkit.tokens.TokenStats` or a
            :class:`~ftkit.tokens.TokenSummary`.
        limit: the max tokens per example to mark; default the model's, when
            ``source`` knows its model.
        bins: bars for sources that keep exact lengths (reports, ``TokenStats``);
            an estimate keeps its own 10-bar histogram.
        title: the plot's title (default: what was plotted).

    Returns:
        The figure; ``fig.savefig("lengths.png")`` writes it.

    Raises:
        UsageError: the source has no token counts (validate with ``model=``), or a
            bad ``bins``.
        MissingExtra: matplotlib is not installed.
    """
    if bins < 1:
        raise UsageError(f"bins must be at least 1, got {bins}")
    token_lengths = getattr(source, "token_lengths", None)
    if not callable(token_lengths):
        raise UsageError(
            "plot_token_lengths() takes a ValidationReport, CostEstimate, TokenStats or "
            f"TokenSummary, got {type(source).__name__}"
        )
    histogram, over, known_limit, label = token_lengths(bins)
    given_limit = limit
    limit = known_limit if limit is None else limit
    label = title or label

    fig = _figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    lows = [b.low for b in histogram]
    counts = [b.count for b in histogram]
    widths = [b.high - b.low for b in histogram]
    ax.bar(lows, counts, width=widths, align="edge", color="#4c72b0", edgecolor="white")
    longest = max((b.high for b in histogram), default=0)
    if limit is not None:
        # The source counted examples over the model's limit, not over a limit given here.
        _mark_limit(ax, limit, longest, over if given_limit is None else None)
    ax.set_xlabel("tokens per example")
    ax.set_ylabel("examples")
    ax.set_title(label or "tokens per example")
    return fig


def plot_labels(source: Any, *, title: str | None = None) -> Figure:
    """Bar chart of the label distribution of classification-like data, most frequent first.

    Args:
        source: a :class:`~ftkit.ValidationReport` whose final answers are labels
            (``report.stats["labels"]``, see ``label_imbalance`` in docs/validation.md),
            or a mapping of label to count.
        title: the plot's title (default: what was plotted).

    Returns:
        The figure; shares above 80 % and below 1 % (the ``label_imbalance``
        thresholds) are drawn in the warning colour.

    Raises:
        UsageError: the report's answers are not labels, or the mapping is empty.
        MissingExtra: matplotlib is not installed.
    """
    stats = getattr(source, "stats", None)  # a ValidationReport (duck-typed: layers point down)
    if isinstance(stats, Mapping):
        labels = stats.get("labels")
        if not labels:
            raise UsageError(
                "this report has no label distribution: its final answers do not look like "
                "classification labels (see label_imbalance in docs/validation.md)"
            )
        counts: Mapping[str, int] = labels["counts"]
        total = int(labels["examples"])
        label = title or f"labels of {source.source or 'dataset'}"
    elif isinstance(source, Mapping) and source:
        counts = {str(k): int(v) for k, v in source.items()}
        total = sum(counts.values())
        label = title or "labels"
    else:
        raise UsageError(
            "plot_labels() takes a ValidationReport or a non-empty mapping of label to count, "
            f"got {type(source).__name__}"
        )
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    names = [text if len(text) <= 24 else text[:21] + "..." for text, _ in ranked]
    values = [count for _, count in ranked]
    colours = [
        _LIMIT_COLOUR if total and not 0.01 <= count / total <= 0.8 else "#4c72b0"
        for count in values
    ]
    fig = _figure("ftkit.plots.plot_labels", figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    positions = list(range(len(values)))
    ax.bar(positions, values, color=colours, edgecolor="white")
    ax.set_xticks(positions, names, rotation=30 if len(names) > 4 else 0, ha="right")
    for position, count in zip(positions, values, strict=True):
        share = 100 * count / total if total else 0.0
        ax.annotate(
            f"{share:.0f}%" if share >= 1 else f"{share:.1f}%",
            (position, count),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("examples")
    ax.set_title(label)
    return fig


def _mark_limit(ax: Axes, limit: int, longest: int, over: int | None) -> None:
    text = f"limit {limit:,} tokens" + (f" ({over:,} over)" if over else "")
    if longest and limit > longest * _FAR_LIMIT:
        ax.text(
            0.98,
            0.95,
            f"{text}: beyond the longest example",
            transform=ax.transAxes,
            ha="right",
            va="top",
            color=_LIMIT_COLOUR,
            # Over the tallest bar too: the text stays readable.
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
        return
    ax.axvline(limit, color=_LIMIT_COLOUR, linestyle="--", label=text)
    ax.legend(loc="upper right")


def plot_metrics(source: Any, *, stages: Sequence[str] | None = None) -> Figure:
    """Training and validation loss and accuracy per step, one row of plots per stage.

    Args:
        source: a :class:`~ftkit.RunResult`, a mapping of stage name to metrics
            rows, or one stage's rows (dicts with ``step`` and the provider's
            columns, e.g. ``train_loss``, ``valid_mean_token_accuracy``).
        stages: only these stages (default: all that have rows).

    Returns:
        The figure: a loss panel and, when the provider reports accuracies, an
        accuracy panel per stage.

    Raises:
        UsageError: nothing to plot (a run whose stages have no metrics yet).
        MissingExtra: matplotlib is not installed.
    """
    series = _stage_rows(source)
    if stages is not None:
        series = {name: rows for name, rows in series.items() if name in stages}
    series = {name: rows for name, rows in series.items() if rows}
    if not series:
        raise UsageError(
            "no metrics to plot: a stage's metrics are read from its result file when it succeeds"
        )
    with_accuracy = any(_columns(rows, "accuracy") for rows in series.values())
    ncols = 2 if with_accuracy else 1
    fig = _figure(figsize=(5.0 * ncols, 3.2 * len(series)), layout="constrained")
    axes = fig.subplots(len(series), ncols, squeeze=False)
    for row_axes, (name, rows) in zip(axes, series.items(), strict=True):
        _curves(row_axes[0], rows, "loss", f"{name}: loss")
        if with_accuracy:
            _curves(row_axes[1], rows, "accuracy", f"{name}: accuracy")
    return fig


def _stage_rows(source: Any) -> dict[str, list[Mapping[str, Any]]]:
    stages = getattr(source, "stages", None)  # a RunResult (duck-typed: layers point down)
    if stages is not None and not isinstance(source, Mapping):
        return {stage.name: list(stage.metrics) for stage in stages}
    if isinstance(source, Mapping):
        return {str(name): list(rows) for name, rows in source.items()}
    if isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        return {"metrics": list(source)}
    raise UsageError(
        "plot_metrics() takes a RunResult, {stage: rows} or a list of rows, got "
        f"{type(source).__name__}"
    )


def _columns(rows: Sequence[Mapping[str, Any]], word: str) -> list[str]:
    found: list[str] = []
    for row in rows:
        found += [key for key in row if word in key and key not in found]
    return found


def _curves(ax: Axes, rows: Sequence[Mapping[str, Any]], word: str, title: str) -> None:
    for column in _columns(rows, word):
        points = [
            (row.get("step", index), row[column])
            for index, row in enumerate(rows, 1)
            if isinstance(row.get(column), (int, float))
        ]
        if not points:
            continue
        steps, values = zip(*points, strict=True)
        # Few points (a final full-validation figure) are easier to see as markers.
        ax.plot(
            steps, values, label=column.replace("_", " "), marker="o" if len(points) < 4 else ""
        )
    ax.set_title(title)
    ax.set_xlabel("step")
    if ax.lines:
        ax.legend(loc="best", fontsize="small")
