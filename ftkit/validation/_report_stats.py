"""The report's distributions in words and tables: labels, JSON shapes, prompts, near-duplicates.

``str(report)`` and the notebook's ``_repr_html_`` show the same stats; each kind
of stat has one function for its text lines and one for its HTML tables here,
reading the plain ``report.stats`` data (so ``to_dict()`` and these agree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._words import plural

__all__ = ["near_duplicate_lines", "near_duplicate_tables", "quality_lines", "quality_tables"]

_LABELS_IN_TEXT = 10


def _label_text(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _percent(count: int, total: int) -> str:
    share = 100 * count / total if total else 0.0
    return f"{share:.0f}%" if share >= 1 or share == 0 else f"{share:.1f}%"


def _shape_text(keys: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{key}: {kind}" for key, kind in keys.items()) + "}"


def _pairs_text(pairs: Sequence[Mapping[str, Any]], other: str = "line") -> str:
    return ", ".join(
        f"line {p['line']} ~ {other} {p['other']} ({p['similarity']:.2f})" for p in pairs
    )


def near_duplicate_lines(stats: Mapping[str, Any]) -> list[str]:
    """The text report's lines for near-duplicates (only when some were found or capped)."""
    near = stats.get("near_duplicates")
    if not near:
        return []
    if near.get("skipped"):
        return [
            f"  near-duplicates: not searched, {near['skipped']} (near_duplicates=0.8, or "
            "--near-duplicates 0.8, searches it)"
        ]
    out: list[str] = []
    if near["pairs"] or near["not_indexed"]:
        text = (
            f"  near-duplicates (estimated similarity >= {near['threshold']:g}, "
            f"{near['compared']:,} examples compared): {near['pairs']:,} "
            + ("example nearly repeats" if near["pairs"] == 1 else "examples nearly repeat")
            + " an earlier one"
        )
        if near["top"]:
            text += f"; most similar: {_pairs_text(near['top'])}"
        if near["not_indexed"]:
            text += f"; the index is full: {near['not_indexed']:,} later examples were not compared"
        out.append(text)
    if near.get("training_pairs"):
        out.append(
            f"  near-duplicates of training examples: {near['training_pairs']:,}; "
            f"most similar: {_pairs_text(near['training_top'], 'training line')}"
        )
    return out


def near_duplicate_tables(stats: Mapping[str, Any]) -> list[str]:
    """The notebook report's table of the most similar near-duplicate pairs."""
    from .._html import html_table

    near = stats.get("near_duplicates")
    if not near:
        return []
    rows: list[tuple[object, ...]] = [
        (p["line"], p["other"], f"{p['similarity']:.2f}") for p in near.get("top", ())
    ] + [
        (p["line"], f"training {p['other']}", f"{p['similarity']:.2f}")
        for p in near.get("training_top", ())
    ]
    if not rows:
        return []
    return [html_table(("near-duplicate line", "of line", "estimated similarity"), rows)]


def quality_lines(stats: Mapping[str, Any]) -> list[str]:
    """The text report's lines for labels, JSON answer shapes and the inference prompt."""
    out: list[str] = []
    labels = stats.get("labels")
    if labels:
        total = labels["examples"]
        counts = list(labels["counts"].items())
        shown = ", ".join(
            f"{_label_text(text)} {count:,} ({_percent(count, total)})"
            for text, count in counts[:_LABELS_IN_TEXT]
        )
        more = len(counts) - _LABELS_IN_TEXT
        other = labels["other"]
        out.append(
            f"  labels (final answers, {labels['distinct']} distinct): {shown}"
            + (f", {more} more" if more > 0 else "")
            + (f"; {other:,} other answers" if other else "")
        )
    answers = stats.get("json_answers")
    if answers:
        shapes = answers["shapes"]
        shown = "; ".join(f"{s['count']:,} x {_shape_text(s['keys'])}" for s in shapes[:3])
        more = len(shapes) - 3 + answers["more_shapes"]
        out.append(
            f"  JSON answers: {answers['answers']:,} objects in "
            f"{plural(len(shapes) + answers['more_shapes'], 'shape')}: {shown}"
            + (f"; {plural(more, 'more shape', 'more shapes')}" if more > 0 else "")
            + (f"; {answers['invalid']:,} not valid JSON" if answers["invalid"] else "")
        )
    parity = stats.get("inference_system_prompt")
    if parity:
        out.append(
            f"  inference system prompt: {parity['matching']:,} of {parity['examples']:,} "
            f"examples match it, {parity['different']:,} have another, "
            f"{parity['missing']:,} have none"
        )
    return out


def quality_tables(stats: Mapping[str, Any]) -> list[str]:
    """The notebook report's tables for labels and JSON answer shapes."""
    from .._html import html_table

    parts = []
    labels = stats.get("labels")
    if labels:
        total = labels["examples"]
        rows: list[tuple[object, ...]] = [
            (text, count, _percent(count, total)) for text, count in labels["counts"].items()
        ]
        if labels["other"]:
            rows.append(("(other answers)", labels["other"], _percent(labels["other"], total)))
        parts.append(html_table(("label (final answer)", "examples", "share"), rows))
    answers = stats.get("json_answers")
    if answers:
        parts.append(
            html_table(
                ("JSON answer shape", "answers", "first line"),
                [(_shape_text(s["keys"]), s["count"], s["first_line"]) for s in answers["shapes"]],
            )
        )
    parity = stats.get("inference_system_prompt")
    if parity:
        parts.append(
            html_table(
                ("inference system prompt", "examples"),
                [
                    ("the same", parity["matching"]),
                    ("another", parity["different"]),
                    ("none", parity["missing"]),
                ],
            )
        )
    return parts
