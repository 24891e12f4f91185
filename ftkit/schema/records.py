"""Training records: one JSONL line of an SFT or a DPO file.

``SFTRecord`` covers plain, weighted multi-turn and tool-calling examples;
``DPORecord`` is one preference pair. Both parse from and serialise to the
exact JSON the fine-tuning API reads: :meth:`to_json` writes back only the
keys that were given, so a file round-trips without invented nulls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import Discriminator, Field, Tag, TypeAdapter, ValidationError, model_validator

from .._exceptions import RecordError
from .._public import publish
from ._base import StrictModel, first_error
from .formats import describe_foreign, detect_kind, json_type_name
from .messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    UserMessage,
)

__all__ = [
    "DPOInput",
    "DPORecord",
    "FunctionDefinition",
    "Record",
    "RecordKind",
    "SFTRecord",
    "ToolDefinition",
    "parse_record",
]

RecordKind = Literal["sft", "dpo"]
_R = TypeVar("_R", bound="_RecordBase")


class FunctionDefinition(StrictModel):
    """A callable function: its name, what it does, and a JSON Schema of its parameters."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDefinition(StrictModel):
    """A tool the assistant may call (only ``function`` tools exist for fine-tuning)."""

    type: Literal["function"] = "function"
    function: FunctionDefinition


class _RecordBase(StrictModel):
    kind: ClassVar[RecordKind]

    @classmethod
    def from_json(cls: type[_R], line: str | bytes, *, line_no: int | None = None) -> _R:
        """Parse one JSONL line.

        Raises:
            RecordError: with the line, the JSON path and a plain reason.
        """
        _refuse_value_flood(line, line_no)
        try:
            record: _R = _adapter(cls).validate_json(line)
        except ValidationError as exc:
            raise record_error(exc, line, line_no=line_no, expected=cls.kind) from None
        record._line = line_no
        return record

    def to_json(self) -> str:
        """Serialise to one compact JSONL line (no trailing newline), keeping only given keys."""
        return self.model_dump_json(exclude_unset=True)

    def to_dict(self) -> dict[str, Any]:
        """The record as the plain JSON object the API reads."""
        return self.model_dump(mode="json", exclude_unset=True)

    @property
    def line(self) -> int | None:
        """The 1-based line this record was read from, or ``None`` if built in code."""
        return self._line


class SFTRecord(_RecordBase):
    """A supervised (chat) training example, including weighted multi-turn and tool use.

    At least one assistant message is required: it is what the model learns.
    """

    kind: ClassVar[RecordKind] = "sft"

    messages: list[Message] = Field(min_length=1)
    tools: list[ToolDefinition] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionDefinition] | None = Field(default=None, max_length=128)
    """Legacy function definitions (deprecated by the API; prefer ``tools``)."""

    @model_validator(mode="after")
    def _has_a_target(self) -> SFTRecord:
        if not any(isinstance(m, AssistantMessage) for m in self.messages):
            roles = {m.role for m in self.messages}
            hint = (
                " This looks like a reinforcement fine-tuning (RFT) prompt; RFT files are not "
                "supported, SFT needs the reference reply as an assistant message."
                if roles <= {"user", "system", "developer"}
                else ""
            )
            raise ValueError(
                "messages has no assistant message, so there is nothing to train." + hint
            )
        return self

    @classmethod
    def single_turn(cls, user: str, assistant: str, *, system: str | None = None) -> SFTRecord:
        """The common case: an optional system prompt, one question, one answer."""
        messages: list[Any] = [SystemMessage(content=system)] if system is not None else []
        messages += [UserMessage(content=user), AssistantMessage(content=assistant)]
        return cls(messages=messages)

    @classmethod
    def multi_turn(
        cls,
        turns: Sequence[tuple[str, str] | tuple[str, str, int]],
        *,
        system: str | None = None,
    ) -> SFTRecord:
        """A conversation from ``(role, text)`` or ``(role, text, weight)`` tuples.

        A weight may only be given on assistant turns: ``("assistant", "5", 0)``
        keeps a wrong answer as context without training on it.
        """
        messages: list[Any] = [SystemMessage(content=system)] if system is not None else []
        for turn in turns:
            role, text = turn[0], turn[1]
            data: dict[str, Any] = {"role": role, "content": text}
            if len(turn) == 3:
                data["weight"] = turn[2]
            messages.append(data)
        return cls.model_validate({"messages": [_as_dict(m) for m in messages]})

    @property
    def assistant_messages(self) -> list[AssistantMessage]:
        """The assistant turns, trained or not."""
        return [m for m in self.messages if isinstance(m, AssistantMessage)]


class DPOInput(StrictModel):
    """The prompt side of a preference pair: the conversation so far."""

    messages: list[Message] = Field(min_length=1)
    tools: list[ToolDefinition] | None = None
    parallel_tool_calls: bool | None = None


class DPORecord(_RecordBase):
    """One preference pair for Direct Preference Optimization.

    Each output is exactly one assistant message: the final turn being compared.
    """

    kind: ClassVar[RecordKind] = "dpo"

    input: DPOInput
    preferred_output: list[AssistantMessage] = Field(min_length=1, max_length=1)
    non_preferred_output: list[AssistantMessage] = Field(min_length=1, max_length=1)

    @model_validator(mode="before")
    @classmethod
    def _legacy_names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old in ("preferred_completion", "non_preferred_completion"):
                if old in data:
                    new = old.replace("_completion", "_output")
                    raise ValueError(
                        f"{old!r} is the old name of {new!r} (2025 spec); rename the key"
                    )
        return data

    @classmethod
    def pair(
        cls,
        prompt: str,
        preferred: str,
        non_preferred: str,
        *,
        system: str | None = None,
    ) -> DPORecord:
        """A single-turn preference pair."""
        messages: list[Any] = [SystemMessage(content=system)] if system is not None else []
        messages.append(UserMessage(content=prompt))
        return cls(
            input=DPOInput(messages=messages),
            preferred_output=[AssistantMessage(content=preferred)],
            non_preferred_output=[AssistantMessage(content=non_preferred)],
        )


def _as_dict(message: Any) -> Any:
    return (
        message.to_dict()
        if hasattr(message, "to_dict")
        else (
            message.model_dump(exclude_unset=True) if isinstance(message, StrictModel) else message
        )
    )


def _kind_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return detect_kind(value)
    if isinstance(value, SFTRecord):
        return "sft"
    if isinstance(value, DPORecord):
        return "dpo"
    return None


Record = Annotated[
    Union[Annotated[SFTRecord, Tag("sft")], Annotated[DPORecord, Tag("dpo")]],  # noqa: UP007
    Discriminator(_kind_tag),
]
"""An SFT or a DPO record, chosen by the keys of the line."""

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(target: Any) -> TypeAdapter[Any]:
    # One TypeAdapter per target, built once: validate_json on bytes is the fast path.
    adapter = _ADAPTERS.get(target)
    if adapter is None:
        adapter = _ADAPTERS[target] = TypeAdapter(target)
    return adapter


def parse_record(
    line: str | bytes, *, kind: RecordKind | None = None, line_no: int | None = None
) -> SFTRecord | DPORecord:
    """Parse one JSONL line into the record type its keys announce (or ``kind``).

    Raises:
        RecordError: with the line, the JSON path and a plain reason.
    """
    target: Any = Record if kind is None else (SFTRecord if kind == "sft" else DPORecord)
    _refuse_value_flood(line, line_no)
    try:
        record: SFTRecord | DPORecord = _adapter(target).validate_json(line)
    except ValidationError as exc:
        raise record_error(exc, line, line_no=line_no, expected=kind) from None
    record._line = line_no
    return record


# Parsing builds every JSON value of a line; a line of millions of tiny values costs
# gigabytes before any check runs. No training example comes near these numbers (a
# maximal 65,536-token conversation has a few thousand), while huge base64 images
# are long strings with no commas, so they pass.
_FLOOD_MIN_BYTES = 1 << 20
_FLOOD_MAX_SEPARATORS = 200_000


def _refuse_value_flood(line: str | bytes, line_no: int | None) -> None:
    if len(line) < _FLOOD_MIN_BYTES:
        return
    raw = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    separators = raw.count(b",") + raw.count(b":")
    if separators > _FLOOD_MAX_SEPARATORS:
        raise RecordError(
            f"the line holds about {separators:,} JSON values ({len(raw):,} bytes); no "
            "training example has that many, so it was not parsed",
            line=line_no,
            code="line_too_complex",
        )


def record_error(
    exc: ValidationError,
    line: str | bytes,
    *,
    line_no: int | None,
    expected: RecordKind | None,
) -> RecordError:
    """Turn a pydantic failure on one line into a :class:`RecordError` a person can act on."""
    path, message, error_type = first_error(exc)
    if error_type in ("json_invalid", "json_type"):
        return RecordError(f"invalid JSON: {message}", line=line_no, code="invalid_json")
    # The slow path runs only for bad lines: look at the line as plain JSON to say
    # what it is when it is not the record we wanted.
    try:
        obj = json.loads(line)
    except ValueError as err:
        return RecordError(f"invalid JSON: {err}", line=line_no, code="invalid_json")
    if not isinstance(obj, dict):
        return RecordError(
            f"each line must be a JSON object, got {json_type_name(obj)}",
            line=line_no,
            code="not_an_object",
        )
    found = detect_kind(obj)
    if found is None or (expected is not None and found != expected):
        return RecordError(
            describe_foreign(obj, expected=expected), line=line_no, code="unknown_format"
        )
    if error_type == "extra_forbidden":
        key = path.rsplit(".", 1)[-1]
        return RecordError(
            f"unknown key {key!r}; the fine-tuning format does not allow it",
            line=line_no,
            path=path,
            code="unknown_key",
        )
    return RecordError(message, line=line_no, path=path, code=_code_for(error_type))


def _code_for(error_type: str) -> str:
    if error_type == "missing":
        return "missing_field"
    if error_type.startswith("union_tag"):
        return "unknown_role_or_type"
    if error_type.endswith("_type") or error_type.startswith("literal"):
        return "wrong_type"
    return "invalid_record"


publish("ftkit.schema", globals(), __all__)
