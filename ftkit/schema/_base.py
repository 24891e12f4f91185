"""Shared model configuration and JSON-path rendering for the record models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

# Tags pydantic inserts into an error's ``loc`` for discriminated unions. They are
# not keys of the user's JSON, so they are dropped when a path is rendered.
_UNION_TAGS = frozenset(
    {"system", "developer", "user", "assistant", "tool", "function", "text", "image_url"}
)
_UNION_CONTAINERS = frozenset({"messages", "content", "preferred_output", "non_preferred_output"})
_TOP_TAGS = frozenset({"sft", "dpo"})


class StrictModel(BaseModel):
    """Base of every record model: strict, frozen, no unknown keys.

    Strict mode keeps ``"1"`` from passing as ``1`` and ``true`` from passing as a
    weight, mirroring how the fine-tuning service reads a file. Discriminator
    fields (``role``, ``type``) always count as set, so ``to_json`` round-trips a
    record built in Python exactly like one read from a file.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    _discriminators: ClassVar[tuple[str, ...]] = ("role", "type")
    _line: int | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        for name in self._discriminators:
            if name in type(self).model_fields:
                self.__pydantic_fields_set__.add(name)

    def __eq__(self, other: object) -> bool:
        # Compare content only: where a record came from (its line) is not part of it.
        if type(self) is not type(other):
            return NotImplemented
        assert isinstance(other, BaseModel)
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # lists inside: not hashable


def _is_branch_marker(item: int | str) -> bool:
    # Pydantic names the branches of a plain union (``str | list[...]``) by their type.
    return isinstance(item, str) and (
        item == "str" or item.startswith(("list[", "tagged-union[", "function-after["))
    )


def render_path(loc: Sequence[int | str]) -> str:
    """Render a pydantic ``loc`` as the JSON path a user can find in the file.

    ``('sft', 'messages', 2, 'assistant', 'weight')`` becomes ``messages[2].weight``.
    """
    items = list(loc)
    if items and items[0] in _TOP_TAGS:
        items = items[1:]
    parts: list[str] = []
    keys: list[int | str] = []  # the loc items seen so far, tags as ""
    for item in items:
        if _is_branch_marker(item):
            continue
        is_tag = (
            isinstance(item, str)
            and item in _UNION_TAGS
            and len(keys) >= 2
            and isinstance(keys[-1], int)
            and keys[-2] in _UNION_CONTAINERS
        )
        if is_tag:
            keys.append("")  # one tag per element: a field named like a tag comes next
            continue
        keys.append(item)
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def first_error(exc: ValidationError) -> tuple[str, str, str]:
    """The most useful error of a pydantic failure as ``(path, message, type)``.

    Pydantic reports one error per branch of a union; the branch that got
    furthest (longest ``loc``) is the one the user meant. When every branch of
    ``content`` (string or parts) failed at the top, say that instead.
    """
    errors = exc.errors(include_url=False)
    # At equal depth, a rule's own message (a value error) says more than a type mismatch.
    best = max(errors, key=lambda e: (len(e["loc"]), e["type"] == "value_error"))
    loc = best["loc"]
    if loc and _is_branch_marker(loc[-1]) and best["type"] != "value_error":
        path = render_path(loc)
        field = path.rsplit(".", 1)[-1] or "value"
        got = type(best.get("input")).__name__
        got = {
            "int": "a number",
            "float": "a number",
            "dict": "an object",
            "bool": "a boolean",
            "NoneType": "null",
        }.get(got, got)
        return path, f"{field} must be a string or a list of content parts, got {got}", "union_type"
    msg = str(best["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if best["type"] == "union_tag_invalid":
        ctx = best.get("ctx") or {}
        msg = (
            f"unknown {ctx.get('discriminator', 'tag').strip(chr(39))} "
            f"{ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        )
    return render_path(loc), msg, str(best["type"])
