"""Count the tokens of a training example the way OpenAI's cookbook does, without crashing.

The rules (also in ``docs/cost.md``):

- every message costs 3 tokens plus the encoded length of each of its string
  values (``role``, ``content``, ``name``, ``tool_call_id``, ...); a ``name``
  adds 1 more; each example adds 3 tokens of reply priming. For records whose
  values are all plain strings this is the cookbook's ``num_tokens_from_messages``,
  token for token;
- ``weight`` is never counted; ``None``, numbers and booleans are not text;
- an assistant's ``refusal`` is not counted at all: it is not a training target
  (the validator warns, ``refusal_not_trained``), so it is neither trained nor billed
  here (``docs/cost.md``);
- text parts are encoded; image parts follow :mod:`ftkit.tokens._images`;
- ``tool_calls`` / ``function_call``: each function's name and arguments are
  encoded (arguments that are not a string are serialised first);
- ``tools`` / ``functions`` definitions use the cookbook's formula with the
  per-family constants (gpt-4o values for every o200k model, gpt-3.5/gpt-4
  values for cl100k models);
- trained tokens: the text an assistant turn produces (content, tool calls) when
  its weight is not 0 (SFT), or both outputs (DPO);
- billed tokens are capped at the model's per-example limit; the service
  truncates from the end, so the trained tokens past the limit are "lost".

Text is counted by a :class:`~ftkit.tokens.tokenizer.Tokenizer` (tiktoken's
encoding of the model unless another is given) as plain text: special-token
strings such as ``<|endoftext|>`` inside user data are counted as text, never
rejected.

These are OpenAI's rules. An open model (Together AI's) is counted by the rules of its
own chat template instead, with its own tokenizer (:mod:`ftkit.tokens.open_models`):
``TokenCounter(model, provider="together")`` is then an ``OpenModelCounter``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from ..providers import example_limit
from ._images import image_tokens
from .encoding import base_model, encoding_name_for_model
from .tokenizer import Tokenizer, get_tokenizer

__all__ = ["ExampleTokens", "TokenCounter", "count_tokens"]

logger = logging.getLogger("ftkit.tokens")

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMER = 3


@dataclass(frozen=True, slots=True)
class ExampleTokens:
    """The token figures of one training example."""

    total: int
    """Every token of the example, uncapped (the cookbook's count)."""
    trained: int
    """Tokens the model is trained to produce (assistant turns with weight != 0, DPO outputs)."""
    billed: int
    """Tokens billed per epoch: ``total`` capped at the model's per-example limit."""
    over_limit: bool
    """Whether the example is longer than the limit (it will be truncated from the end)."""
    trained_lost: int = 0
    """Trained tokens that truncation removes."""
    approximate: bool = False
    """Whether the figures are estimates: an open model counted without its own
    tokenizer, a chat template ftkit does not know, or images of an open model
    (:mod:`ftkit.tokens.open_models`). OpenAI's counts are never marked."""

    def __repr__(self) -> str:
        # ``approximate`` only when set: an exact count reads as it always has.
        return (
            f"ExampleTokens(total={self.total!r}, trained={self.trained!r}, "
            f"billed={self.billed!r}, over_limit={self.over_limit!r}, "
            f"trained_lost={self.trained_lost!r}"
            + (", approximate=True)" if self.approximate else ")")
        )


@dataclass(frozen=True, slots=True)
class _ToolConstants:
    func_init: int
    prop_init: int = 3
    prop_key: int = 3
    enum_init: int = -3
    enum_item: int = 3
    func_end: int = 12


# The cookbook publishes two sets: gpt-4o/4o-mini and gpt-3.5-turbo/gpt-4. gpt-4.1 and the
# other o200k models have none published; they reuse the gpt-4o values.
_O200K_TOOLS = _ToolConstants(func_init=7)
_CL100K_TOOLS = _ToolConstants(func_init=10)

# Bounded encode cache. Strings seen once sit in a "cold" generation that is dropped
# whole when it fills; a string seen again is promoted to the "hot" map (system prompts,
# tool schemas), which keeps it until its own budget is spent. Budgets count characters.
_COLD_BUDGET = 2_000_000
_HOT_BUDGET = 4_000_000


class TokenCounter:
    """Counts the tokens of raw or typed training examples for one model.

    Cheap to re-create from the model name (the tokenizer is cached per
    process) and picklable, so worker processes can each build their own.
    Repeated strings are encoded once: a bounded cache keeps the counts of
    strings that recur (system prompts, tool schemas).

    Attributes:
        model: the model name given.
        base_model: its base snapshot (``ft:`` and Azure ``.ft-`` names resolved).
        tokenizer: what counts the text: the one given, else tiktoken's encoding
            of the base model (:func:`~ftkit.tokens.tokenizer.get_tokenizer`).
        encoding_name: the tokenizer's name, e.g. ``"o200k_base"``.
        limit: max tokens per training example, or ``None`` when unknown.
        provider: whose per-example limit applies (``None``: every provider's
            catalog, ``openai`` first).
        encoded_strings: how many strings were actually encoded (cache misses).
        encoded_chars: how many characters were encoded.
        approximate: whether its counts are estimates (``False`` for OpenAI's models;
            see :class:`~ftkit.tokens.OpenModelCounter`).

    An open model (a ``together`` model, or a ``tokenizer.json`` given as
    ``tokenizer``) gets an :class:`~ftkit.tokens.OpenModelCounter`, which counts with
    the model's own tokenizer and chat template instead of OpenAI's rules.
    """

    __slots__ = (
        "_cold",
        "_cold_chars",
        "_given",
        "_hot",
        "_hot_chars",
        "_length",
        "_tools",
        "approximate",
        "base_model",
        "encoded_chars",
        "encoded_strings",
        "encoding_name",
        "limit",
        "model",
        "provider",
        "tokenizer",
    )

    def __new__(
        cls,
        model: str,
        tokenizer: Tokenizer | str | os.PathLike[str] | None = None,
        *,
        provider: str | None = None,
    ) -> TokenCounter:
        """An :class:`~ftkit.tokens.OpenModelCounter` for an open model, else a TokenCounter."""
        if cls is TokenCounter and _counts_open_model(model, tokenizer, provider):
            return object.__new__(_open_models().counter)
        return object.__new__(cls)

    def __init__(
        self,
        model: str,
        tokenizer: Tokenizer | str | os.PathLike[str] | None = None,
        *,
        provider: str | None = None,
    ) -> None:
        """Build a counter for ``model``.

        Args:
            model: the model to train; it sets the per-example limit and, unless
                ``tokenizer`` is given, the tiktoken encoding.
            tokenizer: the tokenizer of a model tiktoken does not cover, or the path
                of a Hugging Face ``tokenizer.json`` (an open model's).
            provider: the provider that trains it, whose per-example limit applies
                (Azure's can differ from OpenAI's for the same snapshot; ``together``
                counts with the open model's tokenizer).

        Raises:
            UsageError: the model's tokenizer is unknown.
            TokenizerUnavailable: no verified vocabulary is available offline.
        """
        if not isinstance(model, str) or not model.strip():
            raise UsageError("model must be a model name such as 'gpt-4.1-mini-2025-04-14'")
        if isinstance(tokenizer, (str, os.PathLike)):
            from ._hf import hf_tokenizer

            tokenizer = hf_tokenizer(tokenizer, source=model.strip())
        self.model = model
        self.base_model = base_model(model)
        self._given = tokenizer
        self.approximate = False
        if tokenizer is None:
            tokenizer = get_tokenizer(encoding_name_for_model(model))
        self.tokenizer = tokenizer
        self.encoding_name = tokenizer.name
        self.provider = provider
        self.limit = example_limit(model, provider=provider)
        self._length = tokenizer.count
        self._tools = _O200K_TOOLS if self.encoding_name == "o200k_base" else _CL100K_TOOLS
        self._hot: dict[str, int] = {}
        self._cold: dict[str, int] = {}
        self._hot_chars = 0
        self._cold_chars = 0
        self.encoded_strings = 0
        self.encoded_chars = 0

    def __reduce__(self) -> tuple[Any, ...]:
        # Only the names travel, unless a tokenizer was given: the default one is rebuilt
        # (and cached) in the receiving process.
        return (_counter, (self.model, self._given, self.provider))

    def __repr__(self) -> str:
        return f"TokenCounter(model={self.model!r}, encoding={self.encoding_name!r})"

    @property
    def given_tokenizer(self) -> Tokenizer | None:
        """The tokenizer a worker process needs to count as this counter does.

        ``None`` when the counter's tokenizer is the model's default tiktoken one,
        which a worker rebuilds from the model's name; an open model's counter gives
        the tokenizer it resolved (a ``tokenizer.json`` pickles as its path).
        """
        return self._given

    # -- text ---------------------------------------------------------------------------------

    def text(self, value: str) -> int:
        """Tokens of one string (no message overhead), cached when it recurs."""
        count = self._hot.get(value)
        if count is not None:
            return count
        return self._miss(value)

    def _miss(self, value: str) -> int:
        """:meth:`text` for a string that is not in the hot cache."""
        count = self._cold.pop(value, None)
        size = len(value)
        if count is not None:
            self._cold_chars -= size
            if self._hot_chars + size <= _HOT_BUDGET:
                self._hot[value] = count
                self._hot_chars += size
            return count
        count = self._length(value)
        self.encoded_strings += 1
        self.encoded_chars += size
        if size <= _COLD_BUDGET:
            if self._cold_chars + size > _COLD_BUDGET:
                self._cold = {}
                self._cold_chars = 0
            self._cold[value] = count
            self._cold_chars += size
        return count

    # -- examples -----------------------------------------------------------------------------

    def count(self, obj: Mapping[str, Any]) -> ExampleTokens:
        """Count one raw SFT or DPO example (a parsed JSON line).

        Meant for lines that passed structural checks, but odd values (wrong
        types, missing keys) are skipped rather than raising.
        """
        if not isinstance(obj, Mapping):
            return ExampleTokens(0, 0, 0, False, 0)
        if "messages" in obj:
            return self._sft(obj.get("messages"), obj.get("tools"), obj.get("functions"))
        if "input" in obj or "preferred_output" in obj or "non_preferred_output" in obj:
            return self._dpo(obj)
        return ExampleTokens(0, 0, 0, False, 0)

    def count_record(self, record: Any) -> ExampleTokens:
        """Count a schema record (:class:`~ftkit.SFTRecord` or :class:`~ftkit.DPORecord`)."""
        to_dict = getattr(record, "to_dict", None)
        if to_dict is None:
            raise UsageError(
                f"count_record expects an SFTRecord or DPORecord, got {type(record).__name__}"
            )
        data: Mapping[str, Any] = to_dict()
        return self.count(data)

    def count_messages(
        self,
        messages: Iterable[Any],
        *,
        tools: Sequence[Any] | None = None,
        functions: Sequence[Any] | None = None,
    ) -> ExampleTokens:
        """Count a conversation given as message dicts or message models (SFT rules)."""
        return self._sft([_as_dict(m) for m in messages], _as_dicts(tools), _as_dicts(functions))

    # -- internals ----------------------------------------------------------------------------

    def _sft(self, messages: Any, tools: Any, functions: Any) -> ExampleTokens:
        position = 0 if tools is None and functions is None else self._definitions(tools, functions)
        trained = 0
        spans: list[tuple[int, int]] = []
        if isinstance(messages, list):
            hot = self._hot
            miss = self._miss
            for message in messages:
                if not isinstance(message, dict):
                    continue
                # Fast path for nearly every message: string role and content, and at most a
                # weight beside them (never text). Same sums as _message, fewer steps.
                role = message.get("role")
                content = message.get("content")
                if (
                    type(role) is str
                    and type(content) is str
                    and (
                        len(message) == 2
                        or (
                            len(message) == 3
                            and "weight" in message
                            and type(message["weight"]) is not str
                        )
                    )
                ):
                    n = hot.get(role)
                    if n is None:
                        n = miss(role)
                    target = hot.get(content)
                    if target is None:
                        target = miss(content)
                    position += TOKENS_PER_MESSAGE + n + target
                    if target and role == "assistant" and message.get("weight") != 0:
                        trained += target
                        spans.append((position, target))
                    continue
                size, target = self._message(message, force_trained=False)
                position += size
                if target:
                    trained += target
                    spans.append((position, target))
        total = position + REPLY_PRIMER
        limit = self.limit
        if limit is None or total <= limit:
            return ExampleTokens(total, trained, total, False, 0)
        return ExampleTokens(total, trained, limit, True, _lost(spans, limit))

    def _dpo(self, obj: Mapping[str, Any]) -> ExampleTokens:
        # One prompt, two completions: each pair (prompt + output) must fit in the limit.
        source = obj.get("input")
        prompt = 0
        if isinstance(source, dict):
            prompt = self._definitions(source.get("tools"), source.get("functions"))
            messages = source.get("messages")
            if isinstance(messages, list):
                for message in messages:
                    if isinstance(message, dict):
                        prompt += self._message(message, force_trained=False)[0]
        prompt += REPLY_PRIMER
        total = prompt
        trained = 0
        billed = 0
        lost = 0
        over = False
        limit = self.limit
        for key in ("preferred_output", "non_preferred_output"):
            outputs = obj.get(key)
            if not isinstance(outputs, list):
                continue
            position = prompt
            spans: list[tuple[int, int]] = []
            for message in outputs:
                if not isinstance(message, dict):
                    continue
                size, target = self._message(message, force_trained=True)
                position += size
                trained += target
                spans.append((position, target))
            total += position - prompt
            if limit is not None and position > limit:
                over = True
                billed += max(0, limit - prompt)
                lost += _lost(spans, limit)
            else:
                billed += position - prompt
        billed += prompt if limit is None else min(prompt, limit)
        return ExampleTokens(total, trained, billed, over, lost)

    def _message(self, message: dict[str, Any], *, force_trained: bool) -> tuple[int, int]:
        """``(tokens, trained tokens)`` of one message."""
        text = self.text
        hot = self._hot  # roles and system prompts: looked up here, without a method call
        size = TOKENS_PER_MESSAGE
        target = 0
        role = message.get("role")
        trained = force_trained or (role == "assistant" and message.get("weight") != 0)
        for key, value in message.items():
            if isinstance(value, str):
                if key == "refusal":
                    continue  # not a training target (see the module docstring)
                n = hot.get(value)
                if n is None:
                    n = text(value)
                size += n
                if key == "name":
                    size += TOKENS_PER_NAME
                elif trained and key != "role" and key != "tool_call_id":
                    target += n
            elif key == "content" and isinstance(value, list):
                n = self._parts(value)
                size += n
                if trained:
                    target += n
            elif key == "tool_calls" and isinstance(value, list):
                n = 0
                for call in value:
                    if isinstance(call, dict):
                        n += self._call(call.get("function"))
                size += n
                if trained:
                    target += n
            elif key == "function_call":
                n = self._call(value)
                size += n
                if trained:
                    target += n
        return size, target

    def _parts(self, parts: list[Any]) -> int:
        n = 0
        for part in parts:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text":
                value = part.get("text")
                if isinstance(value, str):
                    n += self.text(value)
            elif kind == "image_url":
                image = part.get("image_url")
                if isinstance(image, dict):
                    n += image_tokens(image.get("url"), image.get("detail"))
                elif isinstance(image, str):  # tolerated shorthand: the URL itself
                    n += image_tokens(image, None)
        return n

    def _call(self, function: Any) -> int:
        if not isinstance(function, dict):
            return 0
        n = 0
        name = function.get("name")
        if isinstance(name, str):
            n += self.text(name)
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            n += self.text(arguments)
        elif arguments is not None:
            n += self.text(_dumps(arguments))
        return n

    def _definitions(self, tools: Any, functions: Any) -> int:
        """Tokens of ``tools`` and legacy ``functions`` definitions (cookbook formula)."""
        found: list[dict[str, Any]] = []
        if isinstance(tools, list):
            for tool in tools:
                if isinstance(tool, dict):
                    function = tool.get("function")
                    if isinstance(function, dict):
                        found.append(function)
        if isinstance(functions, list):
            found.extend(f for f in functions if isinstance(f, dict))
        if not found:
            return 0
        c = self._tools
        text = self.text
        n = c.func_end
        for function in found:
            n += c.func_init
            name = _as_text(function.get("name"))
            description = _as_text(function.get("description")).removesuffix(".")
            n += text(f"{name}:{description}")
            parameters = function.get("parameters")
            properties = parameters.get("properties") if isinstance(parameters, dict) else None
            if not isinstance(properties, dict) or not properties:
                continue
            n += c.prop_init
            for key, prop in properties.items():
                n += c.prop_key
                spec = prop if isinstance(prop, dict) else {}
                enum = spec.get("enum")
                if isinstance(enum, list):
                    n += c.enum_init
                    for item in enum:
                        n += c.enum_item + text(_as_text(item))
                kind = _as_text(spec.get("type"))
                description = _as_text(spec.get("description")).removesuffix(".")
                n += text(f"{key}:{kind}:{description}")
        return n


def _lost(spans: list[tuple[int, int]], limit: int) -> int:
    # A span ends at ``end`` and its trained tokens are its last ``target`` tokens.
    return sum(min(target, end - limit) for end, target in spans if end > limit)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _dumps(value)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    except (TypeError, ValueError):
        return str(value)


def _as_dict(item: Any) -> Any:
    if isinstance(item, Mapping):
        return dict(item)
    dump = getattr(item, "model_dump", None)
    if dump is not None:
        return dump(mode="json", exclude_unset=True)
    return item


def _as_dicts(items: Sequence[Any] | None) -> list[Any] | None:
    return None if items is None else [_as_dict(i) for i in items]


def count_tokens(
    record_or_messages: Any,
    *,
    model: str,
    tokenizer: Tokenizer | str | os.PathLike[str] | None = None,
    provider: str | None = None,
) -> ExampleTokens:
    """Count the tokens of one example for ``model``.

    Args:
        record_or_messages: an :class:`~ftkit.SFTRecord` / :class:`~ftkit.DPORecord`, a raw
            record dict (``{"messages": ...}`` or a DPO pair), or a list of messages
            (dicts or message models).
        model: the model to train (``ft:`` names count with their base model).
        tokenizer: a :class:`~ftkit.tokens.Tokenizer`, or an open model's
            ``tokenizer.json`` path (see :class:`TokenCounter`).
        provider: the provider that trains it (``"together"``: an open model).

    Returns:
        The example's total, trained and billed tokens and whether it is over the limit.

    Raises:
        UsageError: unknown model, or an input that is not a record or messages.
        TokenizerUnavailable: no verified vocabulary is available.
    """
    counter = TokenCounter(model, tokenizer, provider=provider)
    item = record_or_messages
    if isinstance(item, Mapping):
        return counter.count(item)
    if hasattr(item, "to_dict") and hasattr(item, "kind"):
        return counter.count_record(item)
    if isinstance(item, Sequence) and not isinstance(item, (str, bytes)):
        return counter.count_messages(item)
    raise UsageError(
        "count_tokens expects a record, a record dict or a list of messages, "
        f"got {type(item).__name__}"
    )


def _counter(model: str, tokenizer: Tokenizer | None, provider: str | None) -> TokenCounter:
    return TokenCounter(model, tokenizer, provider=provider)


def _counts_open_model(model: Any, tokenizer: Any, provider: str | None) -> bool:
    """Whether a counter is an open model's: a ``tokenizer.json`` path or an open tokenizer
    given, or no tokenizer and a model of an open-model provider (``together``)."""
    if isinstance(tokenizer, (str, os.PathLike)):
        return True
    if tokenizer is not None:
        return getattr(tokenizer, "chat_format", None) is not None
    if provider is None and not isinstance(model, str):
        return False
    return _open_models().is_open_model(model, provider)


@dataclass(frozen=True)
class _OpenModels:
    """What :mod:`ftkit.tokens.open_models` lends this module: its counter and its test.

    A hook rather than an import, because that module builds on this one; it registers
    itself when loaded, and ``ftkit.tokens`` loads it.
    """

    counter: type[TokenCounter]
    is_open_model: Callable[[str, str | None], bool]


_open: _OpenModels | None = None


def register_open_models(counter: type[TokenCounter], is_open_model: Callable[..., bool]) -> None:
    """Called once by :mod:`ftkit.tokens.open_models` as it loads."""
    global _open
    _open = _OpenModels(counter, is_open_model)


def _open_models() -> _OpenModels:
    if _open is None:  # only if ``ftkit.tokens.counting`` was loaded without its package
        raise RuntimeError("ftkit.tokens.open_models is not loaded: import ftkit.tokens")
    return _open
